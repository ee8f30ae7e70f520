// The compare view's controller: which envelopes each chart needs for the range it shows, asked of the
// loader (off the UI thread), and the live extension of charts of running runs.
#include "views/compareview.h"
#include "models/statuscolors.h"

#include "models/envelopeloader.h"
#include "models/paramdiffmodel.h"
#include "views/chartmath.h"
#include "views/exportstatus.h"
#include "views/offuithread.h"
#include "views/sweepview.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QEvent>
#include <QToolButton>
#include <QSlider>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <cmath>

namespace trainyard {

using chartmath::metricSectionOf;
using chartmath::metricSections;

namespace {
constexpr auto kPinnedKey = "compare/pinnedKeys";
// The narrowest a chart gets before the grid drops to fewer columns.
constexpr int kMinimumChartWidth = 400;
constexpr int kPrefetchFactor = 3; // a range query covers the visible range and as much again each side

QString slotOf(const QString &key, const QString &runId) { return key + QChar(0) + runId; }

// A superseded tail's series id: "<superseded key>\x1f<run id>"; the tail is loaded from that key of that run.
constexpr QChar kTailSeparator(0x1f);
QString tailSeriesId(const QString &supersededKey, const QString &runId)
{
    return supersededKey + kTailSeparator + runId;
}
// The key and run a series of the chart for `key` is loaded from.
std::pair<QString, QString> sourceOf(const QString &key, const QString &seriesId)
{
    const qsizetype separator = seriesId.indexOf(kTailSeparator);
    if (separator < 0)
        return {key, seriesId};
    return {seriesId.left(separator), seriesId.mid(separator + 1)};
}

} // namespace

CompareView::CompareView(const QString &databasePath, QWidget *parent)
    : QWidget(parent), m_databasePath(databasePath), m_loader(new EnvelopeLoader(databasePath, this)),
      m_search(new QLineEdit(this)), m_xAxis(new QComboBox(this)), m_smoothingSlider(new QSlider(Qt::Horizontal, this)),
      m_logYBox(new QCheckBox(tr("Log y"), this)), m_supersededBox(new QCheckBox(tr("Discarded tails"), this)),
      m_groupByBox(new QComboBox(this)), m_note(new QLabel(this)), m_exportStatus(new QLabel(this)),
      m_gridHost(new QWidget(this)), m_grid(new QGridLayout), m_scroll(new QScrollArea(this)),
      m_diffModel(new ParamDiffModel(this)), m_diffView(new QTableView(this)),
      m_onlyDifferences(new QCheckBox(tr("Only differences"), this))
{
    setObjectName(QStringLiteral("compareView"));
    const QStringList pinned = QSettings().value(QLatin1String(kPinnedKey)).toStringList();
    m_pinned = QSet<QString>(pinned.begin(), pinned.end());

    m_search->setObjectName(QStringLiteral("metricSearch"));
    m_search->setPlaceholderText(tr("Search metrics…"));
    m_search->setClearButtonEnabled(true);
    m_xAxis->addItem(tr("Step"), int(XAxisMode::Step));
    m_xAxis->addItem(tr("Wall time"), int(XAxisMode::WallTime));
    m_xAxis->addItem(tr("Time since start"), int(XAxisMode::RelativeTime));
    m_smoothingSlider->setRange(0, 99);
    m_smoothingSlider->setToolTip(tr("EMA smoothing (the raw curve stays, faint, behind)"));
    m_smoothingSlider->setMaximumWidth(160);
    m_groupByBox->addItem(tr("No grouping"), QString());
    m_note->setStyleSheet(textColorStyle(warningTextColor()));
    m_note->hide();
    setUpExportStatus(m_exportStatus);

    auto controls = new QHBoxLayout;
    controls->addWidget(m_search, 2);
    controls->addWidget(new QLabel(tr("X:"), this));
    controls->addWidget(m_xAxis);
    controls->addWidget(new QLabel(tr("Smoothing:"), this));
    controls->addWidget(m_smoothingSlider, 1);
    controls->addWidget(m_logYBox);
    m_supersededBox->setObjectName(QStringLiteral("showSuperseded"));
    m_supersededBox->setToolTip(tr("Also draw, faint, what a failed attempt logged past the checkpoint the restart "
                                   "resumed from (the curves show the series the run followed)"));
    m_supersededBox->hide();
    controls->addWidget(m_supersededBox);
    controls->addWidget(new QLabel(tr("Group:"), this));
    controls->addWidget(m_groupByBox);

    m_grid->setSpacing(8);
    auto gridColumn = new QVBoxLayout(m_gridHost);
    gridColumn->setContentsMargins(0, 0, 0, 0);
    gridColumn->addLayout(m_grid);
    m_scroll->setWidgetResizable(true);
    m_scroll->setWidget(m_gridHost);
    // The charts reflow with the width instead of scrolling sideways: as many columns as fit (rebuildGrid).
    m_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_scroll->viewport()->installEventFilter(this);

    m_diffView->setObjectName(QStringLiteral("paramDiff"));
    m_diffView->setModel(m_diffModel);
    m_diffView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    auto exportDiff = new QPushButton(tr("Export CSV…"), this);
    auto diffHost = new QWidget(this);
    auto diffLayout = new QVBoxLayout(diffHost);
    diffLayout->setContentsMargins(0, 0, 0, 0);
    auto diffBar = new QHBoxLayout;
    diffBar->addWidget(new QLabel(tr("<b>Params</b>"), diffHost));
    diffBar->addStretch();
    diffBar->addWidget(m_onlyDifferences);
    diffBar->addWidget(exportDiff);
    diffLayout->addLayout(diffBar);
    diffLayout->addWidget(m_diffView);

    // Under the charts: the params side by side, or the analysis the Sweeps tab draws, over the compared runs.
    m_analysis = new SweepView(this);
    m_analysis->setObjectName(QStringLiteral("compareAnalysis"));
    m_analysis->setSelection({});
    connect(m_analysis, &SweepView::runActivated, this, &CompareView::runActivated);
    m_bottomTabs = new QTabWidget(this);
    m_bottomTabs->setObjectName(QStringLiteral("compareBottomTabs"));
    m_bottomTabs->addTab(diffHost, tr("Params"));
    m_bottomTabs->addTab(m_analysis, tr("Analysis"));
    auto splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_scroll);
    splitter->addWidget(m_bottomTabs);
    m_paramsPane = m_bottomTabs;
    splitter->setStretchFactor(0, 4);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({750, 170}); // the charts are the point; the params table is a glance

    auto layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_note);
    layout->addWidget(m_exportStatus);
    layout->addWidget(splitter);

    connect(m_search, &QLineEdit::textChanged, this, &CompareView::setKeyFilter);
    connect(m_xAxis, &QComboBox::currentIndexChanged, this,
            [this](int index) { setXAxisMode(XAxisMode(m_xAxis->itemData(index).toInt())); });
    connect(m_smoothingSlider, &QSlider::valueChanged, this, [this](int value) { setSmoothing(value / 100.0); });
    connect(m_logYBox, &QCheckBox::toggled, this, &CompareView::setLogY);
    connect(m_supersededBox, &QCheckBox::toggled, this, &CompareView::setShowSuperseded);
    connect(m_groupByBox, &QComboBox::currentIndexChanged, this,
            [this](int index) { setGroupBy(m_groupByBox->itemData(index).toString()); });
    connect(m_onlyDifferences, &QCheckBox::toggled, m_diffModel, &ParamDiffModel::setOnlyDifferences);
    connect(exportDiff, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export params"), QStringLiteral("params.csv"), tr("CSV (*.csv)"));
        if (!path.isEmpty())
            exportParamsCsv(path);
    });
    connect(m_loader, &EnvelopeLoader::loaded, this,
            [this](quint64 ticket, const QString &key, const QString &runId, const MetricEnvelope &envelope,
                   EnvelopeLoader::Kind kind) { onLoaded(ticket, key, runId, envelope, int(kind)); });
    // Envelopes arrive one run at a time; charts repaint once for a batch of them (when the loader has
    // nothing left, or every 40 ms while it works) rather than once per run.
    m_repaintTimer = new QTimer(this);
    m_repaintTimer->setSingleShot(true);
    m_repaintTimer->setInterval(40);
    connect(m_repaintTimer, &QTimer::timeout, this, &CompareView::repaintLoadedCharts);
    connect(m_loader, &EnvelopeLoader::idle, this, [this] {
        repaintLoadedCharts();
        emit loadingFinished();
    });
}

CompareView::~CompareView() = default;

QString CompareView::exportStatus() const { return m_exportStatus->text(); }

QStringList CompareView::runIds() const
{
    QStringList ids;
    for (const RunRecord &run : m_runs)
        ids << run.id;
    return ids;
}

bool CompareView::isLoading() const { return m_loader->pending() > 0 || !m_chartsToRepaint.isEmpty(); }

QList<EnvelopeChart *> CompareView::visibleCharts() const
{
    QList<EnvelopeChart *> charts;
    for (int i = 0; i < m_grid->count(); ++i)
        if (auto chart = qobject_cast<EnvelopeChart *>(m_grid->itemAt(i)->widget()))
            charts << chart;
    return charts;
}

QFuture<QString> CompareView::exportParamsCsv(const QString &path)
{
    return exportOffUiThread(
        this, path, [bytes = m_diffModel->toCsv()] { return bytes; },
        [this, path](const QString &error) { showExportResult(path, error); });
}

void CompareView::showExportResult(const QString &path, const QString &error)
{
    trainyard::showExportResult(m_exportStatus, path, error);
}

void CompareView::setRuns(const QList<RunRecord> &requested)
{
    QList<RunRecord> runs = requested.mid(0, kMaxRuns);
    m_note->setVisible(requested.size() > kMaxRuns);
    m_note->setText(tr("Comparing the first %1 of the %2 selected runs.").arg(kMaxRuns).arg(requested.size()));
    const bool colorsChanged = assignColors(runs);
    m_runs = runs;
    fillGroupByChoices();

    // One chart per key any of the runs logged.
    QSet<QString> keys;
    for (const RunRecord &run : m_runs)
        for (auto it = run.metrics.cbegin(); it != run.metrics.cend(); ++it)
            keys.insert(it.key());
    removeChartsOtherThan(keys);
    for (const QString &key : keys) {
        EnvelopeChart *chart = m_charts.value(key);
        if (!chart)
            chart = createChart(key);
        chart->setSeries(seriesFor(chart, key));
        chart->setGrouped(!m_groupBy.isEmpty());
    }
    m_diffModel->setRuns(m_runs);
    m_diffModel->setRunColors(m_colors);
    m_analysis->setSelection(m_runs);
    bool anySuperseded = false;
    QList<double> forks;
    for (const RunRecord &run : m_runs) {
        anySuperseded = anySuperseded || !run.supersededKeys.isEmpty();
        if (run.parentStep && !forks.contains(double(*run.parentStep)))
            forks << double(*run.parentStep);
    }
    m_supersededBox->setVisible(anySuperseded);
    if (forks != m_forkMarkers) {
        m_forkMarkers = forks;
        applyStepMarkers();
    }
    rebuildGrid();
    if (colorsChanged)
        emit runColorsChanged(m_colors);
}

// Colours stay with their runs; a new run takes the first colour no other run has. Whether any colour changed.
bool CompareView::assignColors(const QList<RunRecord> &runs)
{
    QHash<QString, QColor> colors;
    QSet<QRgb> taken;
    for (const RunRecord &run : runs)
        if (m_colors.contains(run.id)) {
            colors.insert(run.id, m_colors.value(run.id));
            taken.insert(m_colors.value(run.id).rgb());
        }
    int next = 0;
    for (const RunRecord &run : runs) {
        if (colors.contains(run.id))
            continue;
        while (taken.contains(seriesColor(next).rgb()))
            ++next;
        colors.insert(run.id, seriesColor(next));
        taken.insert(seriesColor(next).rgb());
    }
    const bool changed = colors != m_colors;
    m_colors = colors;
    return changed;
}

// The group-by choices: tags and every param of the runs.
void CompareView::fillGroupByChoices()
{
    QStringList params;
    for (const RunRecord &run : m_runs)
        for (auto it = run.params.cbegin(); it != run.params.cend(); ++it)
            if (!params.contains(it.key()))
                params << it.key();
    params.sort();
    const QString currentGroup = m_groupBy;
    {
        QSignalBlocker block(m_groupByBox);
        m_groupByBox->clear();
        m_groupByBox->addItem(tr("No grouping"), QString());
        m_groupByBox->addItem(tr("Tags"), QStringLiteral("tags"));
        for (const QString &param : params)
            m_groupByBox->addItem(tr("Param %1").arg(param), QStringLiteral("param:") + param);
        m_groupByBox->setCurrentIndex(std::max(0, m_groupByBox->findData(currentGroup)));
    }
}

void CompareView::removeChartsOtherThan(const QSet<QString> &keys)
{
    for (auto it = m_charts.begin(); it != m_charts.end();) {
        if (!keys.contains(it.key())) {
            m_chartsToRepaint.remove(it.value());
            it.value()->deleteLater();
            it = m_charts.erase(it);
        } else {
            ++it;
        }
    }
}

void CompareView::setStepMarkers(const QList<double> &steps)
{
    m_stepMarkers = steps;
    applyStepMarkers();
}

void CompareView::applyStepMarkers()
{
    QList<double> steps = m_stepMarkers;
    for (double fork : std::as_const(m_forkMarkers))
        if (!steps.contains(fork))
            steps << fork;
    for (EnvelopeChart *chart : std::as_const(m_charts))
        chart->setStepMarkers(steps);
}

void CompareView::setShowSuperseded(bool show)
{
    if (m_supersededBox->isChecked() != show)
        m_supersededBox->setChecked(show);
    if (m_showSuperseded == show)
        return;
    m_showSuperseded = show;
    for (auto it = m_charts.cbegin(); it != m_charts.cend(); ++it)
        it.value()->setSeries(seriesFor(it.value(), it.key()));
}

// A chart for `key`, following the view's axis, smoothing, log and pin settings; its range re-queried as it moves.
EnvelopeChart *CompareView::createChart(const QString &key)
{
    auto chart = new EnvelopeChart(key, m_gridHost);
    chart->setXAxisMode(m_mode);
    chart->setSmoothing(m_smoothing);
    chart->setLogY(m_logY);
    chart->setPinned(m_pinned.contains(key));
    QList<double> markers = m_stepMarkers;
    for (double fork : std::as_const(m_forkMarkers))
        if (!markers.contains(fork))
            markers << fork;
    chart->setStepMarkers(markers);
    auto debounce = new QTimer(chart);
    debounce->setSingleShot(true);
    debounce->setInterval(30);
    connect(debounce, &QTimer::timeout, this, [this, chart] { loadRange(chart); });
    // A throttle, not a debounce: while the user keeps panning, the range is re-queried every 30 ms
    // instead of only once the pointer stops.
    connect(chart, &EnvelopeChart::xRangeChanged, debounce, [debounce] {
        if (!debounce->isActive())
            debounce->start();
    });
    connect(chart, &EnvelopeChart::pinToggled, this, [this, key](bool pinned) { setPinned(key, pinned); });
    connect(chart, &EnvelopeChart::exportFinished, this, &CompareView::showExportResult);
    m_charts.insert(key, chart);
    return chart;
}

// The chart's series: the runs that logged the key, in selection order, keeping what each already holds. A new run's
// envelope is requested; a live run's new points are loaded.
QList<ChartSeries> CompareView::seriesFor(EnvelopeChart *chart, const QString &key)
{
    QList<ChartSeries> series;
    const QList<ChartSeries> &existing = chart->series();
    for (const RunRecord &run : m_runs) {
        if (!run.metrics.contains(key))
            continue;
        ChartSeries s;
        for (const ChartSeries &old : existing)
            if (old.id == run.id)
                s = old;
        const bool isNew = s.id.isEmpty();
        s.id = run.id;
        s.label = run.name;
        s.color = m_colors.value(run.id);
        s.group = groupOf(run);
        s.startMs = (run.startedAt.isValid() ? run.startedAt : run.createdAt).toMSecsSinceEpoch();
        series << s;
        const QString slot = slotOf(key, run.id);
        const std::int64_t count = run.metrics.value(key).count;
        if (isNew) {
            m_knownCounts.insert(slot, count);
            requestWhole(key, run.id);
        } else if (count > m_knownCounts.value(slot)) {
            // Live: points arrived since the chart loaded.
            const std::int64_t added = count - m_knownCounts.value(slot);
            m_knownCounts.insert(slot, count);
            loadNewPoints(chart, key, run.id, s.envelope, added);
        }
    }
    // Discarded tails, faint, after the runs' own series (not in groups: a group's mean is of followed series).
    if (!m_showSuperseded || !m_groupBy.isEmpty())
        return series;
    for (const RunRecord &run : m_runs) {
        for (const QString &superseded : run.supersededKeys) {
            const auto parsed = parseSupersededKeyName(superseded);
            if (!parsed || parsed->first != key)
                continue;
            ChartSeries s;
            s.id = tailSeriesId(superseded, run.id);
            for (const ChartSeries &old : existing)
                if (old.id == s.id)
                    s = old;
            const bool isNew = s.envelope.buckets.empty();
            s.label = tr("%1 (attempt %2, discarded)").arg(run.name).arg(parsed->second + 1);
            s.color = m_colors.value(run.id);
            s.color.setAlpha(110);
            s.startMs = (run.startedAt.isValid() ? run.startedAt : run.createdAt).toMSecsSinceEpoch();
            series << s;
            if (isNew)
                requestWhole(key, s.id);
        }
    }
    return series;
}

// A following chart appends the new steps at the resolution it holds; one holding far more buckets than pixels is
// reloaded whole.
void CompareView::loadNewPoints(EnvelopeChart *chart, const QString &key, const QString &runId,
                                const MetricEnvelope &held, std::int64_t added)
{
    if (!chart->followsData())
        return;
    const std::int64_t heldPoints = [&] {
        std::int64_t n = 0;
        for (const auto &b : held.buckets)
            n += b.summary.count;
        return n;
    }();
    if (held.buckets.empty() || held.buckets.size() > std::size_t(4 * kPrefetchFactor * chart->plotWidth())) {
        requestWhole(key, runId);
    } else {
        const double pointsPerBucket = std::max(1.0, double(heldPoints) / double(held.buckets.size()));
        const int pixels = std::max(1, int(std::ceil(double(added) / pointsPerBucket)));
        m_loader->request(key, runId, EnvelopeRequest{held.buckets.back().hiStep + 1, std::nullopt, pixels},
                          EnvelopeLoader::Kind::Tail);
    }
}

void CompareView::requestWhole(const QString &key, const QString &seriesId)
{
    const int pixels = kPrefetchFactor * std::max(600, m_charts.value(key) ? m_charts.value(key)->plotWidth() : 600);
    m_requestedPixels.insert(slotOf(key, seriesId), pixels);
    const auto [sourceKey, runId] = sourceOf(key, seriesId);
    m_wholeTickets.insert(slotOf(key, seriesId),
                          m_loader->request(sourceKey, runId, EnvelopeRequest{std::nullopt, std::nullopt, pixels}));
}

void CompareView::onLoaded(quint64 ticket, const QString &loadedKey, const QString &loadedRunId,
                           const MetricEnvelope &envelope, int kind)
{
    // A superseded tail was loaded from its own key: it belongs on its base key's chart.
    QString key = loadedKey, runId = loadedRunId;
    if (!m_charts.contains(key))
        if (const auto parsed = parseSupersededKeyName(loadedKey)) {
            key = parsed->first;
            runId = tailSeriesId(loadedKey, loadedRunId);
        }
    EnvelopeChart *chart = m_charts.value(key);
    if (!chart)
        return;
    const QString slot = slotOf(key, runId);
    if (chart->updatesEnabled()) {
        chart->setUpdatesEnabled(false);
        m_chartsToRepaint.insert(chart);
        if (!m_repaintTimer->isActive())
            m_repaintTimer->start();
    }
    if (EnvelopeLoader::Kind(kind) == EnvelopeLoader::Kind::Tail) {
        chart->appendTail(runId, envelope);
        if (auto overview = m_overviews.find(slot); overview != m_overviews.end()) // time axes map steps with it
            for (const EnvelopeBucket &bucket : envelope.buckets)
                if (overview->buckets.empty() || bucket.loStep > overview->buckets.back().hiStep)
                    overview->buckets.push_back(bucket);
        return;
    }
    if (m_wholeTickets.value(slot) == ticket) {
        m_overviews.insert(slot, envelope);
        m_wholeTickets.remove(slot);
    }
    chart->setEnvelope(runId, envelope);
}

void CompareView::repaintLoadedCharts()
{
    m_repaintTimer->stop();
    for (EnvelopeChart *chart : std::as_const(m_chartsToRepaint))
        chart->setUpdatesEnabled(true); // schedules the repaint
    m_chartsToRepaint.clear();
}

std::optional<std::pair<std::int64_t, std::int64_t>>
CompareView::stepRangeFor(const QString &key, const ChartSeries &series, double x0, double x1) const
{
    if (m_mode == XAxisMode::Step)
        return std::pair{std::int64_t(std::floor(x0)), std::int64_t(std::ceil(x1))};
    // Time axes: the steps logged in [x0, x1], read off the whole-series envelope's timestamps.
    const MetricEnvelope overview = m_overviews.value(slotOf(key, series.id));
    const EnvelopeChart *chart = m_charts.value(key);
    std::optional<std::int64_t> from, to;
    for (const EnvelopeBucket &bucket : overview.buckets) {
        const auto x = chart->bucketX(series, bucket);
        if (!x)
            continue;
        if (!from && x->second >= x0)
            from = bucket.loStep;
        if (x->first <= x1)
            to = bucket.hiStep;
    }
    if (!from || !to || *to < *from)
        return std::nullopt;
    return std::pair{*from, *to};
}

void CompareView::loadRange(EnvelopeChart *chart)
{
    const QString key = chart->title();
    if (chart->followsData()) {
        for (const ChartSeries &series : chart->series())
            requestWhole(key, series.id);
        return;
    }
    const auto [x0, x1] = chart->xRange();
    const int width = chart->plotWidth();
    for (const ChartSeries &series : chart->series()) {
        const auto steps = stepRangeFor(key, series, x0, x1);
        if (!steps)
            continue;
        const auto [s0, s1] = *steps;
        const double span = double(s1) - double(s0) + 1;
        const MetricEnvelope &held = series.envelope;
        const int heldPixels = m_requestedPixels.value(slotOf(key, series.id), 1);
        const double heldStepsPerBucket = (double(held.toStep) - double(held.fromStep) + 1) / heldPixels;
        const bool covers = !held.buckets.empty() && held.fromStep <= s0 && held.toStep >= s1;
        const bool fineEnough = held.fullResolution || heldStepsPerBucket <= span / width * 1.01;
        const bool notTooFine = heldStepsPerBucket >= span / width / (2 * kPrefetchFactor);
        if (covers && fineEnough && notTooFine)
            continue; // what the chart holds already draws this range at full detail
        const std::int64_t margin = std::int64_t(span);
        const int pixels = kPrefetchFactor * width;
        m_requestedPixels.insert(slotOf(key, series.id), pixels);
        const auto [sourceKey, runId] = sourceOf(key, series.id);
        m_loader->request(sourceKey, runId, EnvelopeRequest{s0 - margin, s1 + margin, pixels});
    }
}

QString CompareView::groupOf(const RunRecord &run) const
{
    if (m_groupBy == QLatin1String("tags"))
        return run.tags.join(QLatin1Char(','));
    if (m_groupBy.startsWith(QLatin1String("param:")))
        return run.params.value(m_groupBy.mid(6), tr("(unset)"));
    return {};
}

void CompareView::applyGroups()
{
    for (EnvelopeChart *chart : std::as_const(m_charts)) {
        QList<ChartSeries> series = chart->series();
        for (ChartSeries &s : series)
            for (const RunRecord &run : std::as_const(m_runs))
                if (run.id == s.id)
                    s.group = groupOf(run);
        chart->setSeries(series);
        chart->setGrouped(!m_groupBy.isEmpty());
    }
}

int CompareView::columnCount() const { return std::max(1, (m_scroll->viewport()->width() - 8) / kMinimumChartWidth); }

bool CompareView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_scroll->viewport() && event->type() == QEvent::Resize && columnCount() != m_fittingColumns)
        rebuildGrid();
    return QWidget::eventFilter(watched, event);
}

QToolButton *CompareView::sectionHeader(const QString &section)
{
    QToolButton *&header = m_sectionHeaders[section];
    if (!header) {
        header = new QToolButton(m_gridHost);
        header->setObjectName(QStringLiteral("section:") + section);
        header->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        header->setAutoRaise(true);
        // As wide as the grid: a tool button's own width (Fixed) would cap the column it sits in.
        header->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
        header->setStyleSheet(QStringLiteral("QToolButton { font-weight: bold; }"));
        connect(header, &QToolButton::clicked, this,
                [this, section] { setSectionCollapsed(section, !m_collapsedSections.contains(section)); });
    }
    return header;
}

void CompareView::rebuildGrid()
{
    while (m_grid->count() > 0)
        delete m_grid->takeAt(0);
    // The grid keeps the columns it once had: only the ones in use share the width (set below).
    m_fittingColumns = columnCount();
    m_columns = m_fittingColumns;
    // The order a key was first logged in: the smallest key id any of the runs has for it.
    QHash<QString, std::int64_t> firstLogged;
    for (const RunRecord &run : std::as_const(m_runs))
        for (auto it = run.metrics.cbegin(); it != run.metrics.cend(); ++it)
            if (auto found = firstLogged.find(it.key()); found == firstLogged.end() || it->keyId < *found)
                firstLogged.insert(it.key(), it->keyId);
    QStringList keys = m_charts.keys();
    std::sort(keys.begin(), keys.end(), [&](const QString &a, const QString &b) {
        const bool pa = m_pinned.contains(a), pb = m_pinned.contains(b);
        if (pa != pb)
            return pa;
        const std::int64_t fa = firstLogged.value(a), fb = firstLogged.value(b);
        return fa != fb ? fa < fb : a < b;
    });
    for (QToolButton *header : std::as_const(m_sectionHeaders))
        header->hide();
    QList<QPair<QString, QList<EnvelopeChart *>>> sections;
    qsizetype widest = 1; // the most charts one open section shows
    for (const QString &section : metricSections()) {
        QList<EnvelopeChart *> charts;
        for (const QString &key : std::as_const(keys)) {
            EnvelopeChart *chart = m_charts.value(key);
            if (metricSectionOf(key) != section)
                continue;
            const bool matches = m_keyFilter.isEmpty() || key.contains(m_keyFilter, Qt::CaseInsensitive);
            chart->setVisible(matches);
            if (matches)
                charts << chart;
        }
        if (charts.isEmpty())
            continue;
        if (!(m_collapsedSections.contains(section) && m_keyFilter.isEmpty()))
            widest = std::max(widest, charts.size());
        sections.append({section, charts});
    }
    // As many columns as fit, but no more than a section fills: two charts share the width, not a third of it each.
    m_columns = std::min(m_columns, int(widest));
    for (int column = 0; column < std::max(m_grid->columnCount(), m_columns); ++column)
        m_grid->setColumnStretch(column, column < m_columns ? 1 : 0);
    int row = 0;
    for (const auto &[section, charts] : std::as_const(sections)) {
        // A search shows what it finds in a collapsed section too.
        const bool collapsed = m_collapsedSections.contains(section) && m_keyFilter.isEmpty();
        QToolButton *header = sectionHeader(section);
        header->setArrowType(collapsed ? Qt::RightArrow : Qt::DownArrow);
        header->setText(
            QStringLiteral("%1  (%2)").arg(section.isEmpty() ? tr("Other metrics") : section).arg(charts.size()));
        header->show();
        m_grid->addWidget(header, row++, 0, 1, m_columns);
        for (int i = 0; i < charts.size(); ++i) {
            charts[i]->setVisible(!collapsed);
            if (!collapsed)
                m_grid->addWidget(charts[i], row + i / m_columns, i % m_columns);
        }
        if (!collapsed)
            row += int((charts.size() + m_columns - 1) / m_columns);
    }
}

void CompareView::setParamsVisible(bool visible) { m_paramsPane->setVisible(visible); }

void CompareView::showAnalysis()
{
    m_paramsPane->setVisible(true);
    m_bottomTabs->setCurrentWidget(m_analysis);
}

void CompareView::setSectionCollapsed(const QString &section, bool collapsed)
{
    if (collapsed)
        m_collapsedSections.insert(section);
    else
        m_collapsedSections.remove(section);
    rebuildGrid();
}

void CompareView::setKeyFilter(const QString &text)
{
    m_keyFilter = text.trimmed();
    if (m_search->text() != text)
        m_search->setText(text);
    rebuildGrid();
}

void CompareView::setPinned(const QString &key, bool pinned)
{
    if (pinned)
        m_pinned.insert(key);
    else
        m_pinned.remove(key);
    if (auto chart = m_charts.value(key))
        chart->setPinned(pinned);
    QStringList list(m_pinned.begin(), m_pinned.end());
    list.sort();
    QSettings().setValue(QLatin1String(kPinnedKey), list);
    rebuildGrid();
}

void CompareView::setXAxisMode(XAxisMode mode)
{
    m_mode = mode;
    m_xAxis->setCurrentIndex(m_xAxis->findData(int(mode)));
    for (EnvelopeChart *chart : std::as_const(m_charts)) {
        chart->setXAxisMode(mode);
        loadRange(chart); // back to the whole series in the new units
    }
}

void CompareView::setSmoothing(double weight)
{
    m_smoothing = weight;
    if (m_smoothingSlider->value() != int(std::lround(weight * 100)))
        m_smoothingSlider->setValue(int(std::lround(weight * 100)));
    for (EnvelopeChart *chart : std::as_const(m_charts))
        chart->setSmoothing(weight);
}

void CompareView::setLogY(bool logY)
{
    m_logY = logY;
    m_logYBox->setChecked(logY);
    for (EnvelopeChart *chart : std::as_const(m_charts))
        chart->setLogY(logY);
}

void CompareView::setGroupBy(const QString &spec)
{
    m_groupBy = spec;
    const int index = m_groupByBox->findData(spec);
    if (index >= 0 && index != m_groupByBox->currentIndex())
        m_groupByBox->setCurrentIndex(index);
    applyGroups();
}

QStringList CompareView::groupByChoices() const
{
    QStringList choices;
    for (int i = 0; i < m_groupByBox->count(); ++i)
        choices << m_groupByBox->itemData(i).toString();
    return choices;
}

} // namespace trainyard
