#include "views/throughputview.h"

#include "models/reportmodel.h"
#include "views/chartmath.h"
#include "views/exportstatus.h"
#include "views/offuithread.h"
#include "store/database.h"
#include "store/sqlite.h"
#include "store/workspace.h"

#include <QBuffer>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateEdit>
#include <QFile>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHorizontalBarSeries>
#include <QLabel>
#include <QLineSeries>
#include <QListWidget>
#include <QPushButton>
#include <QSplitter>
#include <QStackedBarSeries>
#include <QTableView>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>

namespace trainyard {

namespace {

struct Outcome {
    const char *status;
    const char *label;
    QColor color;
};
const Outcome kOutcomes[] = {
    {"succeeded", "succeeded", QColor(0x2e, 0x7d, 0x32)},
    {"failed", "failed", QColor(0xc6, 0x28, 0x28)},
    {"canceled", "canceled", QColor(0x75, 0x75, 0x75)},
    {"lost", "lost", QColor(0x6a, 0x1b, 0x9a)},
    {"unfinished", "queued or running", QColor(0x15, 0x65, 0xc0)},
};

std::int64_t outcomeCount(const ReportFigures &figures, const QString &status)
{
    if (status == QLatin1String("succeeded"))
        return figures.succeeded;
    if (status == QLatin1String("failed"))
        return figures.failed;
    if (status == QLatin1String("canceled"))
        return figures.canceled;
    if (status == QLatin1String("lost"))
        return figures.lost;
    return figures.unfinished;
}

QChartView *makeChartView(const QString &title, QWidget *parent)
{
    auto chart = new QChart;
    chart->setTitle(title);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    auto view = new QChartView(chart, parent);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(220);
    return view;
}

// Replaces a chart's series and axes, and sets its title: `title`, or, when the chart has nothing to show, what is
// missing (an empty chart says so instead of drawing empty axes).
void clearChart(QChart *chart, const QString &title, const QString &missing = {})
{
    chart->removeAllSeries();
    for (QAbstractAxis *axis : chart->axes())
        chart->removeAxis(axis), delete axis;
    chart->setTitle(missing.isEmpty() ? title : title + QStringLiteral(": ") + missing);
}

// A value axis from 0 with round ticks that never repeat a label (chartmath::niceStep): whole numbers for counts,
// as many decimals as the step needs otherwise.
void setRoundRange(QValueAxis *axis, double highest, bool counts)
{
    double step = chartmath::niceStep(highest > 0 ? highest : 1.0, 5);
    if (counts)
        step = std::max(step, 1.0);
    axis->setRange(0, std::max(step, std::ceil(highest / step) * step));
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0);
    axis->setTickInterval(step);
    axis->setLabelFormat(QStringLiteral("%.%1f").arg(counts ? 0 : chartmath::decimalsFor(step)));
}

} // namespace

ThroughputView::ThroughputView(const QString &workspaceRoot, QWidget *parent)
    : QWidget(parent), m_workspaceRoot(workspaceRoot), m_since(new QDateEdit(this)), m_until(new QDateEdit(this)),
      m_grouping(new QComboBox(this)), m_summary(new QLabel(this)), m_exportStatus(new QLabel(this)),
      m_outcomes(makeChartView(tr("Runs launched per day, by outcome"), this)),
      m_gpuHours(makeChartView(tr("GPU-hours by group"), this)), m_causes(makeChartView(tr("Failure causes"), this)),
      m_trends(makeChartView(tr("Queue wait and time to first step (p90 and median, seconds)"), this)),
      m_charts(new QWidget(this)), m_model(new ReportModel(this)), m_table(new QTableView(this)),
      m_runsTitle(new QLabel(this)), m_runs(new QListWidget(this))
{
    setObjectName(QStringLiteral("throughputView"));
    const QDate today = QDateTime::currentDateTimeUtc().date();
    for (QDateEdit *edit : {m_since, m_until}) {
        edit->setCalendarPopup(true);
        edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd"));
    }
    m_since->setDate(today.addDays(-27));
    m_until->setDate(today);
    for (ReportGrouping grouping : {ReportGrouping::Project, ReportGrouping::User, ReportGrouping::Tag,
                                    ReportGrouping::Backend, ReportGrouping::Host})
        m_grouping->addItem(groupingName(grouping), int(grouping));
    m_summary->setObjectName(QStringLiteral("throughputSummary"));
    setUpExportStatus(m_exportStatus);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_table->setModel(m_model);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_runs->setObjectName(QStringLiteral("runsBehind"));
    m_runsTitle->setText(tr("Click a bar or a group to list the runs behind it."));

    auto refreshButton = new QPushButton(tr("Refresh"), this);
    auto csvButton = new QPushButton(tr("Export CSV…"), this);
    auto pngButton = new QPushButton(tr("Export PNG…"), this);
    auto bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Launched from"), this));
    bar->addWidget(m_since);
    bar->addWidget(new QLabel(tr("to"), this));
    bar->addWidget(m_until);
    bar->addWidget(new QLabel(tr("grouped by"), this));
    bar->addWidget(m_grouping);
    bar->addWidget(refreshButton);
    bar->addStretch();
    bar->addWidget(csvButton);
    bar->addWidget(pngButton);

    auto grid = new QGridLayout(m_charts);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->addWidget(m_outcomes, 0, 0);
    grid->addWidget(m_gpuHours, 0, 1);
    grid->addWidget(m_trends, 1, 0);
    grid->addWidget(m_causes, 1, 1);
    auto runsBox = new QWidget(this);
    auto runsLayout = new QVBoxLayout(runsBox);
    runsLayout->setContentsMargins(0, 0, 0, 0);
    runsLayout->addWidget(m_runsTitle);
    runsLayout->addWidget(m_runs);
    auto bottom = new QSplitter(Qt::Horizontal, this);
    bottom->addWidget(m_table);
    bottom->addWidget(runsBox);
    bottom->setStretchFactor(0, 3);
    bottom->setStretchFactor(1, 1);
    auto vertical = new QSplitter(Qt::Vertical, this);
    vertical->addWidget(m_charts);
    vertical->addWidget(bottom);
    vertical->setStretchFactor(0, 3);
    vertical->setStretchFactor(1, 2);
    auto layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_summary);
    layout->addWidget(m_exportStatus);
    layout->addWidget(vertical, 1);

    connect(refreshButton, &QPushButton::clicked, this, &ThroughputView::refresh);
    connect(m_since, &QDateEdit::dateChanged, this, &ThroughputView::refresh);
    connect(m_until, &QDateEdit::dateChanged, this, &ThroughputView::refresh);
    connect(m_grouping, &QComboBox::currentIndexChanged, this, &ThroughputView::refresh);
    connect(csvButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export the report as CSV"),
                                                          QStringLiteral("throughput.csv"), tr("CSV (*.csv)"));
        if (!path.isEmpty())
            exportCsv(path);
    });
    connect(pngButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export the charts as PNG"),
                                                          QStringLiteral("throughput.png"), tr("PNG (*.png)"));
        if (!path.isEmpty())
            exportPng(path);
    });
    connect(m_table, &QTableView::clicked, this,
            [this](const QModelIndex &index) { showRunsBehind({}, {}, m_model->groupAt(index.row())); });
    connect(m_runs, &QListWidget::itemDoubleClicked, this,
            [this](QListWidgetItem *item) { emit openRunRequested(item->text()); });
    refresh();
}

const ThroughputReport &ThroughputView::report() const { return m_model->report(); }

void ThroughputView::setRange(const QDate &since, const QDate &until)
{
    const QSignalBlocker blockSince(m_since);
    const QSignalBlocker blockUntil(m_until);
    m_since->setDate(since);
    m_until->setDate(until);
    refresh();
}

void ThroughputView::setGrouping(ReportGrouping grouping)
{
    const int index = m_grouping->findData(int(grouping));
    if (index >= 0 && index != m_grouping->currentIndex())
        m_grouping->setCurrentIndex(index); // refreshes
}

ReportQuery ThroughputView::currentQuery() const
{
    ReportQuery query;
    query.since = QDateTime(m_since->date(), QTime(0, 0), Qt::UTC);
    query.until = QDateTime(m_until->date().addDays(1), QTime(0, 0), Qt::UTC);
    query.by = ReportGrouping(m_grouping->currentData().toInt());
    query.now = QDateTime::currentDateTimeUtc();
    return query;
}

void ThroughputView::refresh()
{
    const ReportQuery query = currentQuery();
    const QString root = m_workspaceRoot;
    m_summary->setText(tr("Computing…"));
    runOffUiThread(
        this,
        [root, query]() -> Result<ThroughputReport> {
            auto workspace = Workspace::openIfExists(root);
            if (!workspace)
                return fail(workspace.error());
            if (!workspace->has_value()) {
                ThroughputReport empty;
                empty.query = query;
                return empty;
            }
            auto connection = (**workspace).database().connect();
            if (!connection)
                return fail(connection.error());
            return computeThroughputReport(*connection, query);
        },
        [this](const Result<ThroughputReport> &computed) {
            if (!computed) {
                m_summary->setText(tr("Cannot compute the report: %1").arg(computed.error()));
                return;
            }
            showReport(*computed);
            emit reportReady();
        },
        &m_latestReport);
}

void ThroughputView::showReport(const ThroughputReport &report)
{
    m_model->setReport(report);
    showSummary(report.total);
    drawOutcomes(report);
    drawGpuHours(report);
    drawFailureCauses(report.total);
    drawTrends(report);
}

// The range's figures in one sentence above the charts.
void ThroughputView::showSummary(const ReportFigures &total)
{
    m_summary->setText(
        tr("%1 runs launched, %2 succeeded, %3 failed, %4 canceled; success rate %5; %6 GPU-hours; queue wait median "
           "%7, "
           "p90 %8; time to first step median %9; %10 restarts; GPU utilisation %11.")
            .arg(total.launched)
            .arg(total.succeeded)
            .arg(total.failed)
            .arg(total.canceled)
            .arg(total.successRate() ? QString::number(*total.successRate() * 100, 'f', 1) + QLatin1Char('%')
                                     : QStringLiteral("—"))
            .arg(QString::number(total.gpuHours, 'f', 1))
            .arg(formatDurationSeconds(total.queueWait.medianS), formatDurationSeconds(total.queueWait.p90S),
                 formatDurationSeconds(total.timeToFirstStep.medianS))
            .arg(total.restarts)
            .arg(total.gpuUtilizationPercent ? QString::number(*total.gpuUtilizationPercent, 'f', 1) + QLatin1Char('%')
                                             : tr("not recorded (no GPU telemetry)")));
}

// Outcomes per day: one stacked bar a day; a click lists that day's runs of that outcome.
void ThroughputView::drawOutcomes(const ThroughputReport &report)
{
    QChart *outcomes = m_outcomes->chart();
    const bool anyRun = std::any_of(report.days.cbegin(), report.days.cend(),
                                    [](const ReportPeriod &day) { return day.figures.launched > 0; });
    clearChart(outcomes, tr("Runs launched per day, by outcome"), anyRun ? QString() : tr("no runs in this range"));
    if (!anyRun)
        return;
    QStringList days;
    for (const ReportPeriod &day : report.days)
        days << day.start.toString(QStringLiteral("MM-dd"));
    auto stacked = new QStackedBarSeries;
    std::int64_t tallest = 0;
    for (const ReportPeriod &day : report.days)
        tallest = std::max(tallest, day.figures.launched);
    for (const Outcome &outcome : kOutcomes) {
        auto set = new QBarSet(tr(outcome.label));
        set->setColor(outcome.color);
        set->setBorderColor(outcome.color);
        for (const ReportPeriod &day : report.days)
            *set << double(outcomeCount(day.figures, QLatin1String(outcome.status)));
        const QString status = QLatin1String(outcome.status);
        const QList<ReportPeriod> periods = report.days;
        connect(set, &QBarSet::clicked, this, [this, status, periods](int index) {
            if (index >= 0 && index < periods.size())
                showRunsBehind(periods.at(index).start, status, {});
        });
        stacked->append(set);
    }
    outcomes->addSeries(stacked);
    auto dayAxis = new QBarCategoryAxis;
    dayAxis->append(days);
    dayAxis->setLabelsAngle(-90);      // a month of days fits only upright
    dayAxis->setTruncateLabels(false); // QtCharts otherwise cuts an upright label to its width: "…"
    auto countAxis = new QValueAxis;
    setRoundRange(countAxis, double(tallest), true);
    outcomes->addAxis(dayAxis, Qt::AlignBottom);
    outcomes->addAxis(countAxis, Qt::AlignLeft);
    stacked->attachAxis(dayAxis);
    stacked->attachAxis(countAxis);
}

// GPU-hours by group (top 12); a click lists the group's runs.
void ThroughputView::drawGpuHours(const ThroughputReport &report)
{
    QChart *hours = m_gpuHours->chart();
    const bool anyHours = std::any_of(report.groups.cbegin(), report.groups.cend(),
                                      [](const ReportGroup &group) { return group.figures.gpuHours > 0; });
    clearChart(hours, tr("GPU-hours by %1").arg(groupingName(report.query.by)),
               anyHours ? QString() : tr("no GPU-hours in this range"));
    if (!anyHours)
        return;
    auto hoursSeries = new QHorizontalBarSeries;
    auto hoursSet = new QBarSet(tr("GPU-hours"));
    hoursSet->setColor(QColor(0x15, 0x65, 0xc0));
    QStringList groupNames;
    const QList<ReportGroup> topGroups = report.groups.mid(0, 12);
    double mostHours = 0;
    for (auto it = topGroups.crbegin(); it != topGroups.crend(); ++it) { // largest at the top
        *hoursSet << it->figures.gpuHours;
        groupNames << it->name;
        mostHours = std::max(mostHours, it->figures.gpuHours);
    }
    connect(hoursSet, &QBarSet::clicked, this, [this, groupNames](int index) {
        if (index >= 0 && index < groupNames.size())
            showRunsBehind({}, {}, groupNames.at(index));
    });
    hoursSeries->append(hoursSet);
    hours->addSeries(hoursSeries);
    auto groupAxis = new QBarCategoryAxis;
    groupAxis->append(groupNames);
    auto hoursAxis = new QValueAxis;
    setRoundRange(hoursAxis, mostHours, false);
    hours->addAxis(groupAxis, Qt::AlignLeft);
    hours->addAxis(hoursAxis, Qt::AlignBottom);
    hoursSeries->attachAxis(groupAxis);
    hoursSeries->attachAxis(hoursAxis);
    hours->legend()->hide();
}

// Failure causes, most frequent at the top; a click lists the failed runs of that cause.
void ThroughputView::drawFailureCauses(const ReportFigures &total)
{
    QChart *causes = m_causes->chart();
    clearChart(causes, tr("Failure causes"),
               total.failureCauses.isEmpty() ? tr("no failed runs in this range") : QString());
    if (total.failureCauses.isEmpty())
        return;
    auto causeSeries = new QHorizontalBarSeries;
    auto causeSet = new QBarSet(tr("failed runs"));
    causeSet->setColor(QColor(0xc6, 0x28, 0x28));
    QStringList causeNames;
    std::int64_t mostCause = 0;
    const auto topCauses = total.failureCauses.mid(0, 10);
    for (auto it = topCauses.crbegin(); it != topCauses.crend(); ++it) {
        *causeSet << double(it->second);
        causeNames << it->first;
        mostCause = std::max(mostCause, it->second);
    }
    connect(causeSet, &QBarSet::clicked, this, [this, causeNames](int index) {
        if (index >= 0 && index < causeNames.size())
            showRunsBehind({}, QStringLiteral("failed:") + causeNames.at(index), {});
    });
    causeSeries->append(causeSet);
    causes->addSeries(causeSeries);
    auto causeAxis = new QBarCategoryAxis;
    causeAxis->append(causeNames);
    auto causeCountAxis = new QValueAxis;
    setRoundRange(causeCountAxis, double(mostCause), true);
    causes->addAxis(causeAxis, Qt::AlignLeft);
    causes->addAxis(causeCountAxis, Qt::AlignBottom);
    causeSeries->attachAxis(causeAxis);
    causeSeries->attachAxis(causeCountAxis);
    causes->legend()->hide();
}

// Trends per day: queue wait p90 and median, time to first step median.
void ThroughputView::drawTrends(const ThroughputReport &report)
{
    QChart *trends = m_trends->chart();
    const bool anyTrend = std::any_of(report.days.cbegin(), report.days.cend(), [](const ReportPeriod &day) {
        return day.figures.queueWait.medianS || day.figures.timeToFirstStep.medianS;
    });
    clearChart(trends, tr("Queue wait and time to first step (p90 and median, seconds)"),
               anyTrend ? QString() : tr("no queued or started runs in this range"));
    if (!anyTrend)
        return;
    struct Trend {
        QString name;
        std::function<std::optional<double>(const ReportFigures &)> value;
        QColor color;
    };
    const QList<Trend> trendLines = {
        {tr("queue wait p90"), [](const ReportFigures &f) { return f.queueWait.p90S; }, QColor(0xef, 0x6c, 0x00)},
        {tr("queue wait median"), [](const ReportFigures &f) { return f.queueWait.medianS; }, QColor(0xff, 0xb7, 0x4d)},
        {tr("time to first step median"), [](const ReportFigures &f) { return f.timeToFirstStep.medianS; },
         QColor(0x00, 0x83, 0x8f)},
    };
    auto trendDays = new QValueAxis;
    auto trendSeconds = new QValueAxis;
    trendDays->setTitleText(tr("day of the range"));
    double highest = 0;
    trends->addAxis(trendDays, Qt::AlignBottom);
    trends->addAxis(trendSeconds, Qt::AlignLeft);
    for (const Trend &trend : trendLines) {
        auto line = new QLineSeries;
        line->setName(trend.name);
        line->setColor(trend.color);
        for (const ReportPeriod &day : report.days) {
            if (const auto value = trend.value(day.figures)) {
                line->append(double(report.days.first().start.daysTo(day.start)), *value);
                highest = std::max(highest, *value);
            }
        }
        trends->addSeries(line);
        line->attachAxis(trendDays);
        line->attachAxis(trendSeconds);
    }
    setRoundRange(trendDays,
                  report.days.isEmpty() ? 1 : double(report.days.first().start.daysTo(report.days.last().start)), true);
    setRoundRange(trendSeconds, highest, false);
}

void ThroughputView::showRunsBehind(const QDate &day, const QString &outcome, const QString &group)
{
    ReportQuery query = currentQuery();
    const QString root = m_workspaceRoot;
    QStringList what;
    if (day.isValid())
        what << day.toString(Qt::ISODate);
    if (!outcome.isEmpty())
        what << outcome;
    if (!group.isEmpty())
        what << QStringLiteral("%1 %2").arg(groupingName(query.by), group);
    m_runsTitle->setText(tr("Runs: %1").arg(what.isEmpty() ? tr("all in the range") : what.join(QStringLiteral(", "))));
    if (group.isEmpty())
        query.by = ReportGrouping::None; // no need for the tag join
    runOffUiThread(
        this,
        [root, query, day, outcome, group]() -> Result<QStringList> {
            auto workspace = Workspace::openIfExists(root);
            if (!workspace || !workspace->has_value())
                return QStringList{};
            auto connection = (**workspace).database().connect();
            if (!connection)
                return fail(connection.error());
            return runsBehind(*connection, query, day, outcome, group);
        },
        [this](const Result<QStringList> &ids) {
            m_runs->clear();
            if (ids)
                m_runs->addItems(*ids);
            else
                m_runsTitle->setText(ids.error());
            emit runsBehindReady();
        });
}

QFuture<QString> ThroughputView::exportCsv(const QString &path)
{
    const ThroughputReport &current = report();
    return exportOffUiThread(
        this, path, [text = current.groupsCsv() + QLatin1Char('\n') + current.daysCsv()] { return text.toUtf8(); },
        [this, path](const QString &error) { showExportResult(m_exportStatus, path, error); });
}

QFuture<QString> ThroughputView::exportPng(const QString &path)
{
    // Grabbed here, where the widgets live; encoded and written off the UI thread.
    return exportOffUiThread(
        this, path,
        [image = m_charts->grab().toImage()] {
            QByteArray bytes;
            QBuffer buffer(&bytes);
            buffer.open(QIODevice::WriteOnly);
            image.save(&buffer, "PNG");
            return bytes;
        },
        [this, path](const QString &error) { showExportResult(m_exportStatus, path, error); });
}

QString ThroughputView::exportStatus() const { return m_exportStatus->text(); }

} // namespace trainyard
