// The run filter language of the runs table and `ls --filter`, and MLflow's search filter: any text.
#include "query/runfilter.h"
#include "tracking/mlflowfilter.h"

#include <QString>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    trainyard::RunFilter::ParseError error;
    if (auto filter = trainyard::RunFilter::tryParse(text, error)) {
        trainyard::RunRecord run;
        run.name = QStringLiteral("resnet-01");
        run.params.insert(QStringLiteral("lr"), QStringLiteral("0.1"));
        (void)filter->matches(run);
    }
    (void)trainyard::MlflowFilter::parse(text);
    return 0;
}
