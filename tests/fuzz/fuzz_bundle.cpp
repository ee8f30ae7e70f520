// `trainyard import BUNDLE`: a bundle file of any bytes is refused with a message or merged; the workspace it is
// merged into stays readable. One workspace for the whole run (a merge is idempotent).
#include "store/workspace.h"
#include "store/workspaceimport.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static QTemporaryDir folder;
    static auto workspace = trainyard::Workspace::open(folder.path() + QStringLiteral("/workspace"));
    if (!workspace)
        std::abort();
    const QString bundle = folder.path() + QStringLiteral("/input.trainyard");
    QFile file(bundle);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        std::abort();
    file.write(reinterpret_cast<const char *>(data), qint64(size));
    file.close();
    (void)trainyard::importWorkspace(workspace.value(), bundle);
    return 0;
}
