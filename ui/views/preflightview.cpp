#include "views/preflightview.h"
#include "models/statuscolors.h"

#include "launch/rankenvironment.h"
#include "store/sqlite.h"
#include "store/workspace.h"
#include "views/offuithread.h"

#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLegend>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QCategoryAxis>
#include <QPushButton>
#include <QSplitter>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <memory>

namespace trainyard {

namespace {

QString historyLine(const PreflightRecord &record)
{
    const QJsonArray gpus = record.result.value(QStringLiteral("gpus")).toArray();
    return QStringLiteral("%1  %2  %3 GPU(s)  %4")
        .arg(record.startedAt.toString(QStringLiteral("yyyy-MM-dd HH:mm")), record.host)
        .arg(gpus.size())
        .arg(record.healthy ? QObject::tr("healthy") : QObject::tr("NOT HEALTHY"));
}

// "1 KiB", "4 MiB", "1 GiB" for 2^exponent bytes.
QString binarySizeLabel(int exponent)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    const int unit = std::clamp(exponent / 10, 0, 4);
    return QStringLiteral("%1 %2").arg(std::int64_t(1) << (exponent - unit * 10)).arg(QLatin1String(units[unit]));
}

// "8 × NVIDIA H100 80GB HBM3" from eight names that differ only in their PCI bus ids.
QString countedModels(const QStringList &deviceNames)
{
    QStringList models;
    QList<int> counts;
    for (const QString &name : deviceNames) {
        const QString model = name.section(QStringLiteral(" ("), 0, 0);
        const qsizetype index = models.indexOf(model);
        if (index < 0)
            models << model, counts << 1;
        else
            ++counts[index];
    }
    QStringList parts;
    for (qsizetype i = 0; i < models.size(); ++i)
        parts << (counts.at(i) > 1 ? QStringLiteral("%1 × %2").arg(counts.at(i)).arg(models.at(i)) : models.at(i));
    return parts.join(QStringLiteral(", "));
}

void setVerdict(QLabel *label, const QString &text, bool healthy)
{
    label->setText(text);
    label->setStyleSheet(QStringLiteral("QLabel { color: %1; font-weight: bold; }")
                             .arg((healthy ? goodTextColor() : errorTextColor()).name()));
}

} // namespace

PreflightView::PreflightView(const QString &workspaceRoot, QWidget *parent)
    : QWidget(parent), m_workspaceRoot(workspaceRoot), m_gpus(new QLineEdit(this)),
      m_run(new QPushButton(tr("Run preflight"), this)), m_verdict(new QLabel(this)), m_details(new QLabel(this)),
      m_history(new QListWidget(this)), m_chart(new QChartView(this))
{
    setObjectName(QStringLiteral("preflightView"));
    m_gpus->setPlaceholderText(tr("all GPUs (or e.g. 0,1 or 0-3)"));
    m_verdict->setWordWrap(true);
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_chart->setRenderHint(QPainter::Antialiasing);
    m_chart->setMinimumHeight(300);
    m_chart->chart()->setTitle(tr("Bus bandwidth by size (out of place), against the link's expected bandwidth"));
    m_chart->chart()->legend()->setAlignment(Qt::AlignBottom);
    m_history->setObjectName(QStringLiteral("preflightHistory"));

    auto refreshButton = new QPushButton(tr("Refresh"), this);
    auto bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("GPUs"), this));
    bar->addWidget(m_gpus);
    bar->addWidget(m_run);
    bar->addWidget(refreshButton);
    bar->addStretch();
    auto right = new QWidget(this);
    auto rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(m_chart, 1);
    rightLayout->addWidget(m_details);
    auto left = new QWidget(this);
    auto leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(new QLabel(tr("This machine's history"), this));
    leftLayout->addWidget(m_history);
    auto splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 3);
    splitter->setSizes({400, 900});
    auto layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_verdict);
    layout->addWidget(splitter, 1);

    connect(refreshButton, &QPushButton::clicked, this, &PreflightView::refresh);
    connect(m_run, &QPushButton::clicked, this, &PreflightView::runPreflight);
    connect(m_history, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0 || row >= m_records.size())
            return;
        if (auto result = PreflightResult::fromJson(m_records.at(row).result))
            showResult(*result);
        else
            setVerdict(m_verdict, result.error(), false);
    });
    setVerdict(m_verdict, tr("No preflight shown yet: run one, or pick one from the history."), true);
    refresh();
}

void PreflightView::refresh()
{
    const QString root = m_workspaceRoot;
    runOffUiThread(
        this,
        [root]() -> Result<QList<PreflightRecord>> {
            auto workspace = Workspace::openIfExists(root);
            if (!workspace)
                return fail(workspace.error());
            if (!workspace->has_value())
                return QList<PreflightRecord>{};
            auto connection = (**workspace).database().connect();
            if (!connection)
                return fail(connection.error());
            return loadPreflightRecords(*connection);
        },
        [this](const Result<QList<PreflightRecord>> &records) {
            if (records)
                showHistory(*records);
            else
                setVerdict(m_verdict, records.error(), false);
            emit historyLoaded();
        });
}

void PreflightView::showHistory(const QList<PreflightRecord> &records)
{
    m_records = records;
    m_history->clear();
    for (const PreflightRecord &record : records) {
        auto item = new QListWidgetItem(historyLine(record), m_history);
        item->setToolTip(record.verdict);
        item->setForeground(record.healthy ? goodTextColor() : errorTextColor());
    }
    if (!records.isEmpty())
        m_history->setCurrentRow(0); // the newest
    else
        setVerdict(m_verdict, tr("No preflight results in this workspace yet: run one on a machine with GPUs."), true);
}

void PreflightView::runPreflight()
{
    PreflightOptions options;
    if (!m_gpus->text().trimmed().isEmpty()) {
        const auto gpus = parseGpuList(m_gpus->text());
        if (!gpus || gpus->isEmpty()) {
            setVerdict(m_verdict, tr("'%1' is not a list of GPU numbers such as 0,1 or 0-3").arg(m_gpus->text()),
                       false);
            emit preflightFinished(false);
            return;
        }
        options.gpus = *gpus;
    }
    m_run->setEnabled(false);
    setVerdict(m_verdict, tr("Running the collectives…"), true);
    m_live = PreflightResult{};
    m_live.gpus = options.gpus;
    showResult(m_live);
    const QString root = m_workspaceRoot;
    // Rows arrive from the GPUs' threads; the relay's queued connection brings them to this thread.
    std::shared_ptr<PreflightProgressRelay> relay(new PreflightProgressRelay,
                                                  [](PreflightProgressRelay *r) { r->deleteLater(); });
    connect(relay.get(), &PreflightProgressRelay::measured, this, &PreflightView::appendMeasurement,
            Qt::QueuedConnection);
    runOffUiThread(
        this,
        [relay, root, options]() -> Result<PreflightResult> {
            auto result =
                runNcclPreflight(options, [&relay](const PreflightMeasurement &m) { emit relay->measured(m); });
            if (!result)
                return result;
            auto workspace = Workspace::open(root);
            if (!workspace)
                return fail(QStringLiteral("the preflight ran (%1) but cannot be stored: %2")
                                .arg(result->verdict, workspace.error()));
            if (auto saved = storePreflightRecord(workspace->database(), result->toJson()); !saved)
                return fail(saved.error());
            return result;
        },
        [this](const Result<PreflightResult> &result) {
            m_run->setEnabled(true);
            if (!result) {
                setVerdict(m_verdict, tr("No preflight ran: %1").arg(result.error()), false);
                emit preflightFinished(false);
                return;
            }
            showResult(*result);
            refresh();
            emit preflightFinished(true);
        });
}

void PreflightView::appendMeasurement(const PreflightMeasurement &measurement)
{
    m_live.measurements << measurement;
    showResult(m_live);
}

void PreflightView::showResult(const PreflightResult &result)
{
    QChart *chart = m_chart->chart();
    chart->removeAllSeries();
    for (QAbstractAxis *axis : chart->axes())
        chart->removeAxis(axis), delete axis;

    // x is log2 of the size, labelled in binary units: a log axis would print every size as a long number.
    auto sizeAxis = new QCategoryAxis;
    sizeAxis->setTitleText(tr("size"));
    sizeAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    auto bandwidthAxis = new QValueAxis;
    bandwidthAxis->setTitleText(tr("bus bandwidth (GB/s)"));
    chart->addAxis(sizeAxis, Qt::AlignBottom);
    chart->addAxis(bandwidthAxis, Qt::AlignLeft);

    double smallest = 8, largest = 1 << 30, highest = 1;
    bool any = false;
    for (CollectiveOp op :
         {CollectiveOp::AllReduce, CollectiveOp::AllGather, CollectiveOp::ReduceScatter, CollectiveOp::Broadcast}) {
        auto series = new QLineSeries;
        series->setName(collectiveName(op));
        series->setPointsVisible(true);
        for (const PreflightMeasurement &m : result.measurements) {
            if (m.op != op || m.inPlace)
                continue;
            series->append(std::log2(double(m.bytes)), m.busGBs);
            smallest = any ? std::min(smallest, double(m.bytes)) : double(m.bytes);
            largest = any ? std::max(largest, double(m.bytes)) : double(m.bytes);
            highest = std::max(highest, m.busGBs);
            any = true;
        }
        if (series->count() == 0) {
            delete series;
            continue;
        }
        chart->addSeries(series);
        series->attachAxis(sizeAxis);
        series->attachAxis(bandwidthAxis);
    }
    // What the link should carry, and the verdict's threshold, as flat lines across the sizes measured.
    if (result.link.expectedBusGBs > 0) {
        const auto addLevel = [&](const QString &name, double level, Qt::PenStyle style) {
            auto line = new QLineSeries;
            line->setName(name);
            line->append(std::log2(smallest), level);
            line->append(std::log2(std::max(largest, smallest * 2)), level);
            QPen pen(QColor(0x55, 0x55, 0x55));
            pen.setStyle(style);
            pen.setWidthF(1.5);
            line->setPen(pen);
            chart->addSeries(line);
            line->attachAxis(sizeAxis);
            line->attachAxis(bandwidthAxis);
            highest = std::max(highest, level);
        };
        addLevel(tr("link: %1 GB/s").arg(result.link.expectedBusGBs, 0, 'f', 0), result.link.expectedBusGBs,
                 Qt::DashLine);
        const double threshold = result.link.expectedBusGBs * result.link.healthyFraction;
        addLevel(tr("healthy from %1 GB/s").arg(threshold, 0, 'f', 0), threshold, Qt::DotLine);
    }
    const int firstExponent = int(std::floor(std::log2(smallest)));
    const int lastExponent = int(std::ceil(std::log2(std::max(largest, smallest * 2))));
    const int labelStep = lastExponent - firstExponent > 16 ? 2 : 1;
    for (int exponent = firstExponent; exponent <= lastExponent; ++exponent)
        if ((exponent - firstExponent) % labelStep == 0)
            sizeAxis->append(binarySizeLabel(exponent), exponent);
    sizeAxis->setRange(firstExponent, lastExponent);
    bandwidthAxis->setRange(0, highest * 1.1);
    bandwidthAxis->applyNiceNumbers();

    if (!result.verdict.isEmpty())
        setVerdict(m_verdict, result.verdict, result.healthy);
    QStringList details;
    if (result.startedAt.isValid())
        details << tr("Measured %1 on %2").arg(result.startedAt.toString(Qt::ISODate), result.host);
    if (!result.deviceNames.isEmpty())
        details << tr("GPUs: %1").arg(countedModels(result.deviceNames));
    if (!result.link.description.isEmpty())
        details << tr("Link: %1").arg(result.link.description);
    if (!result.nccl.isEmpty())
        details << result.nccl;
    details << tr("%n measurement(s)", nullptr, int(result.measurements.size()));
    m_details->setText(details.join(QStringLiteral(" · ")));
    m_details->setToolTip(result.deviceNames.join(QLatin1Char('\n')));
}

} // namespace trainyard
