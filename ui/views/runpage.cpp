// The run page. All reading happens in RunFollower's thread; this widget only appends what arrives.
#include "views/runpage.h"

#include "logging.h"
#include "models/runtablemodel.h"
#include "perf/perfsummary.h"
#include "spec/runspec.h"
#include "store/sqlite.h"
#include "store/checkpoints.h"
#include "store/metricenvelope.h"
#include "views/compareview.h"
#include "views/envelopechart.h"
#include "views/tracesview.h"

#include <QCheckBox>
#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QUrl>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QHeaderView>
#include <QLocale>
#include <QTableWidget>
#include <QFileSystemModel>
#include <QLabel>
#include <QTabWidget>
#include <QTreeView>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

namespace trainyard {

namespace {
constexpr int kInitialPaneWidth = 600;      // logs and charts start side by side, half and half
constexpr int kMinimumChartPaneWidth = 420; // one chart stays readable however the splitter is dragged
} // namespace

RunPage::RunPage(const QString &databasePath, const QString &runId, const QString &runDir, QWidget *parent)
    : QWidget(parent), m_runId(runId), m_follower(new RunFollower(databasePath, runId, runDir, this)),
      m_title(new QLabel(this)), m_status(new QLabel(this)), m_failure(new QLabel(this)),
      m_metricsIncomplete(new QLabel(this)), m_alerts(new QLabel(this)), m_provenance(new QLabel(this)),
      m_systemTags(new QLabel(this)), m_notesPreview(new QLabel(this)), m_notes(new QPlainTextEdit(this)),
      m_saveNotes(new QPushButton(tr("Save notes"), this)), m_performance(new QLabel(this)),
      m_performanceTimer(new QTimer(this)), m_stepTimeChart(new EnvelopeChart(tr("step time per rank (ms)"), this)),
      m_traces(new TracesView(runDir, this)), m_checkpointTable(new QTableWidget(this)),
      m_resume(new QPushButton(tr("Resume from here…"), this)), m_checkpointsHint(new QLabel(this)),
      m_databasePath(databasePath), m_runDir(runDir), m_artifacts(new QFileSystemModel(this)),
      m_cancel(new QPushButton(tr("Cancel run"), this)), m_rankFilter(new QComboBox(this)),
      m_follow(new QCheckBox(tr("Follow"), this)), m_search(new QLineEdit(this)), m_log(new QPlainTextEdit(this)),
      m_metrics(new CompareView(databasePath, this))
{
    setObjectName(QStringLiteral("runPage:") + runId);
    m_title->setTextFormat(Qt::RichText);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status->setObjectName(QStringLiteral("runStatus"));
    m_failure->setObjectName(QStringLiteral("runFailure"));
    m_failure->setWordWrap(true);
    m_failure->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_failure->setStyleSheet(
        QStringLiteral("QLabel { background: #fdecea; color: #8a1c1c; border: 1px solid #f5c2c0; padding: 6px; }"));
    m_failure->hide();
    m_metricsIncomplete->setObjectName(QStringLiteral("runMetricsIncomplete"));
    m_metricsIncomplete->setWordWrap(true);
    m_metricsIncomplete->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_metricsIncomplete->setStyleSheet(
        QStringLiteral("QLabel { background: #fff4e5; color: #7a4b00; border: 1px solid #f3d19e; padding: 6px; }"));
    m_metricsIncomplete->hide();
    m_alerts->setObjectName(QStringLiteral("runAlerts"));
    m_alerts->setWordWrap(true);
    m_alerts->setTextFormat(Qt::PlainText);
    m_alerts->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_alerts->setStyleSheet(m_metricsIncomplete->styleSheet());
    m_alerts->hide();
    m_cancel->setEnabled(false);
    connect(m_cancel, &QPushButton::clicked, this, [this] { emit cancelRequested(m_runId); });

    m_provenance->setObjectName(QStringLiteral("runProvenance"));
    m_provenance->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_provenance->hide();
    auto header = new QHBoxLayout;
    header->addWidget(m_title, 1);
    header->addWidget(m_provenance);
    header->addWidget(m_status);
    header->addWidget(m_cancel);

    // Logs: rank filter, follow, search.
    m_rankFilter->addItem(tr("All ranks"), -1);
    m_rankFilter->setObjectName(QStringLiteral("rankFilter"));
    m_follow->setChecked(true);
    m_search->setPlaceholderText(tr("Search logs"));
    m_search->setClearButtonEnabled(true);
    m_log->setReadOnly(true);
    m_log->setObjectName(QStringLiteral("runLog"));
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setMaximumBlockCount(kMaxLogLines);
    connect(m_rankFilter, &QComboBox::currentIndexChanged, this, &RunPage::rebuildLogView);
    connect(m_search, &QLineEdit::textChanged, this, &RunPage::rebuildLogView);
    auto logTools = new QHBoxLayout;
    logTools->addWidget(m_rankFilter);
    logTools->addWidget(m_search, 1);
    logTools->addWidget(m_follow);
    auto logTab = new QWidget(this);
    auto logLayout = new QVBoxLayout(logTab);
    logLayout->setContentsMargins(0, 0, 0, 0);
    logLayout->addLayout(logTools);
    logLayout->addWidget(m_log);

    // Artifacts: what the run keeps in its artifacts/ folder (mlflow.log_artifact copies files there).
    const QString artifactsDir = runDir + QStringLiteral("/artifacts");
    auto artifactsView = new QTreeView(this);
    artifactsView->setObjectName(QStringLiteral("runArtifacts"));
    m_artifacts->setReadOnly(true);
    artifactsView->setModel(m_artifacts);
    artifactsView->setRootIndex(m_artifacts->setRootPath(artifactsDir));
    artifactsView->setColumnWidth(0, 320);
    auto artifactsHint =
        new QLabel(tr("Files the run saves under <tt>%1</tt> appear here, with their size and time; "
                      "<tt>trainyard_log.artifact(path)</tt> and <tt>mlflow.log_artifact()</tt> copy them there.")
                       .arg(artifactsDir.toHtmlEscaped()),
                   this);
    artifactsHint->setWordWrap(true);
    artifactsHint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Opens the folder holding the chosen artifact (or the artifacts folder) in the desktop's file manager.
    auto openFolder =
        new QPushButton(QIcon::fromTheme(QStringLiteral("folder-open")), tr("Open containing folder"), this);
    openFolder->setObjectName(QStringLiteral("openArtifactsFolder"));
    connect(openFolder, &QPushButton::clicked, this, [this, artifactsView, artifactsDir] {
        const QModelIndex chosen = artifactsView->currentIndex();
        const QString folder =
            chosen.isValid() ? QFileInfo(m_artifacts->filePath(chosen)).absolutePath() : artifactsDir;
        QDir().mkpath(folder);
        QDesktopServices::openUrl(QUrl::fromLocalFile(folder));
    });
    auto artifactsButtons = new QHBoxLayout;
    artifactsButtons->addStretch(1);
    artifactsButtons->addWidget(openFolder);
    auto artifactsTab = new QWidget(this);
    auto artifactsLayout = new QVBoxLayout(artifactsTab);
    artifactsLayout->setContentsMargins(0, 0, 0, 0);
    artifactsLayout->addWidget(artifactsHint);
    artifactsLayout->addWidget(artifactsView, 1);
    artifactsLayout->addLayout(artifactsButtons);

    auto logPanel = new QTabWidget(this);
    logPanel->setObjectName(QStringLiteral("runSideTabs"));
    logPanel->setDocumentMode(true);
    logPanel->addTab(logTab, tr("Logs"));
    logPanel->addTab(artifactsTab, tr("Artifacts"));
    logPanel->addTab(buildNotesTab(), tr("Notes"));
    m_performance->setObjectName(QStringLiteral("runPerformance"));
    m_performance->setTextFormat(Qt::PlainText);
    m_performance->setWordWrap(true);
    m_performance->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_performance->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_performance->setMargin(6);
    m_performance->setText(tr("Reading the ranks' step timing…"));
    // Step time per rank, one line a rank, above the verdicts.
    m_stepTimeChart->setObjectName(QStringLiteral("runStepTimeChart"));
    m_stepTimeChart->setMinimumHeight(220);
    auto performanceTab = new QWidget(this);
    auto performanceLayout = new QVBoxLayout(performanceTab);
    performanceLayout->setContentsMargins(0, 0, 0, 0);
    performanceLayout->addWidget(m_stepTimeChart, 3);
    performanceLayout->addWidget(m_performance, 2);
    logPanel->addTab(performanceTab, tr("Performance"));
    m_traces->setObjectName(QStringLiteral("runTraces"));
    logPanel->addTab(m_traces, tr("Traces"));
    // Checkpoints: what Trainyard found or was told of, with the metrics at each step.
    m_checkpointTable->setObjectName(QStringLiteral("runCheckpoints"));
    m_checkpointTable->setColumnCount(5);
    m_checkpointTable->setHorizontalHeaderLabels(
        {tr("Step"), tr("Size"), tr("Saved"), tr("Metrics at the step"), tr("Path")});
    m_checkpointTable->verticalHeader()->hide();
    m_checkpointTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_checkpointTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_checkpointTable->horizontalHeader()->setStretchLastSection(true);
    for (int column = 0; column < 4; ++column)
        m_checkpointTable->horizontalHeader()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    m_checkpointTable->setWordWrap(false);
    m_checkpointsHint->setWordWrap(true);
    m_checkpointsHint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto checkpointsTab = new QWidget(this);
    auto checkpointsLayout = new QVBoxLayout(checkpointsTab);
    checkpointsLayout->setContentsMargins(0, 0, 0, 0);
    auto checkpointsHeader = new QHBoxLayout;
    checkpointsHeader->addWidget(m_checkpointsHint, 1);
    m_resume->setObjectName(QStringLiteral("resumeFromCheckpoint"));
    m_resume->setToolTip(tr("Start a new run from the selected checkpoint: the compose panel opens with this run's "
                            "spec and the checkpoint set; change what you want (say the learning rate) and launch. "
                            "The new run is this run's child."));
    m_resume->setEnabled(false);
    checkpointsHeader->addWidget(m_resume, 0, Qt::AlignTop);
    checkpointsLayout->addLayout(checkpointsHeader);
    checkpointsLayout->addWidget(m_checkpointTable, 1);
    const auto selectedStep = [this]() -> std::optional<qint64> {
        const QList<QTableWidgetItem *> selected = m_checkpointTable->selectedItems();
        if (selected.isEmpty())
            return std::nullopt;
        const QTableWidgetItem *stepItem = m_checkpointTable->item(selected.first()->row(), 0);
        bool ok = false;
        const qint64 step = stepItem ? stepItem->text().toLongLong(&ok) : 0;
        return ok ? std::optional<qint64>(step) : std::nullopt;
    };
    connect(m_checkpointTable, &QTableWidget::itemSelectionChanged, this,
            [this, selectedStep] { m_resume->setEnabled(selectedStep().has_value()); });
    connect(m_resume, &QPushButton::clicked, this, [this, selectedStep] {
        if (const auto step = selectedStep())
            emit resumeRequested(m_runId, *step);
    });
    logPanel->addTab(checkpointsTab, tr("Checkpoints"));
    // Recomputed from the store as the run changes, at most every few seconds (a summary reads every perf/ key).
    m_performanceTimer->setSingleShot(true);
    m_performanceTimer->setInterval(kPerformanceRefreshMs);
    connect(m_performanceTimer, &QTimer::timeout, this, &RunPage::refreshPerformance);
    connect(m_performanceTimer, &QTimer::timeout, this, &RunPage::refreshCheckpoints);
    m_sideTabs = logPanel;

    // Charts: the compare view's, for this one run (sections by key prefix, search, pins, zoom, hover, smoothing,
    // log y), kept current from the run's metric summaries as points arrive.
    m_metrics->setObjectName(QStringLiteral("runMetrics"));
    m_metrics->setParamsVisible(false);

    auto splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(logPanel);
    splitter->addWidget(m_metrics);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);
    // Without initial sizes the log's large size hint takes nearly all the width and hides the charts.
    splitter->setSizes({kInitialPaneWidth, kInitialPaneWidth});
    splitter->setChildrenCollapsible(false);
    m_metrics->setMinimumWidth(kMinimumChartPaneWidth);

    m_systemTags->setObjectName(QStringLiteral("runSystemTags"));
    m_systemTags->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_systemTags->setForegroundRole(QPalette::PlaceholderText); // quieter than the run's own text, in any palette
    m_systemTags->setWordWrap(true);
    m_systemTags->hide();

    m_notesPreview->setObjectName(QStringLiteral("runNotesPreview"));
    m_notesPreview->setTextFormat(Qt::PlainText);
    m_notesPreview->setStyleSheet(QStringLiteral("QLabel { font-style: italic; }"));
    m_notesPreview->hide();

    auto layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_notesPreview);
    layout->addWidget(m_systemTags);
    layout->addWidget(m_failure);
    layout->addWidget(m_metricsIncomplete);
    layout->addWidget(m_alerts);
    layout->addWidget(splitter, 1);

    connect(m_follower, &RunFollower::runChanged, this, &RunPage::showRun);
    connect(m_follower, &RunFollower::logLinesAppended, this, &RunPage::appendLogLines);
    connect(m_follower, &RunFollower::provenanceRead, this, [this](const QString &summary, const QString &diff) {
        constexpr int kDiffPreviewChars = 4000;
        m_provenance->setText(summary);
        m_provenance->setToolTip(diff.isEmpty() ? tr("No uncommitted changes") : diff.left(kDiffPreviewChars));
        m_provenance->show();
    });
    connect(m_follower, &RunFollower::runRemoved, this, &RunPage::showRemoved);
    connect(m_follower, &RunFollower::readFailed, this, [this](const QString &message) {
        qCWarning(lcUi, "run page %s: %s", qPrintable(m_runId), qPrintable(message));
        m_status->setToolTip(tr("Cannot read this run: %1").arg(message));
    });
}

RunPage::~RunPage() = default;

QWidget *RunPage::buildNotesTab()
{
    m_notes->setObjectName(QStringLiteral("runNotes"));
    m_notes->setPlaceholderText(tr("Notes on this run: what you tried, what you saw. Saved with the run; the runs "
                                   "filter finds them with notes~text."));
    m_saveNotes->setObjectName(QStringLiteral("saveNotes"));
    m_saveNotes->setEnabled(false);
    connect(m_notes, &QPlainTextEdit::textChanged, this,
            [this] { m_saveNotes->setEnabled(!m_removed && m_notes->toPlainText() != m_storedNotes); });
    connect(m_saveNotes, &QPushButton::clicked, this, &RunPage::saveNotes);
    auto tab = new QWidget(this);
    auto layout = new QVBoxLayout(tab);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_notes, 1);
    auto buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_saveNotes);
    layout->addLayout(buttons);
    return tab;
}

QString RunPage::notesText() const { return m_notes->toPlainText(); }
void RunPage::setNotesText(const QString &text) { m_notes->setPlainText(text); }

void RunPage::saveNotes()
{
    if (m_removed)
        return;
    m_saveNotes->setEnabled(false);
    emit notesEdited(m_runId, m_notes->toPlainText());
}

void RunPage::editNotes()
{
    m_sideTabs->setCurrentWidget(m_notes->parentWidget());
    m_notes->setFocus(Qt::OtherFocusReason);
}

void RunPage::refreshPerformance()
{
    if (m_removed)
        return;
    struct Read {
        QString text;
        QList<ChartSeries> stepTimes; // one a rank
    };
    runOffUiThread(
        this,
        [databasePath = m_databasePath, runId = m_runId, runDir = m_runDir]() -> Read {
            auto connection = SqliteConnection::open(databasePath, SqliteConnection::Mode::ReadOnly);
            if (!connection)
                return {tr("Cannot read the run's step timing: %1").arg(connection.error()), {}};
            auto summary = perf::summarize(connection.value(), runId, perf::contextFor(runDir));
            if (!summary)
                return {tr("Cannot read the run's step timing: %1").arg(summary.error()), {}};
            Read read{summary->sentences().join(QLatin1Char('\n')), {}};
            for (const RankStepTime &rank : summary->ranks) {
                auto envelope = metricqueries::envelope(connection.value(), runId,
                                                        QStringLiteral("perf/rank%1/step_time_ms").arg(rank.rank), {});
                if (!envelope)
                    continue;
                ChartSeries series;
                series.id = series.label = tr("rank %1").arg(rank.rank);
                series.color = seriesColor(int(read.stepTimes.size()));
                series.envelope = std::move(envelope.value());
                read.stepTimes.append(std::move(series));
            }
            return read;
        },
        [this](const Read &read) {
            m_performance->setText(read.text);
            m_stepTimeChart->setSeries(read.stepTimes);
        },
        &m_performanceRead);
}

// The run's checkpoints: the Checkpoints tab's table and a marker per step on the charts. The metrics at each step
// are read again only when the list changed (they read every key's series).
void RunPage::refreshCheckpoints()
{
    if (m_removed)
        return;
    struct Read {
        QString error;
        QList<CheckpointRecord> checkpoints;
        QString signature; // the list as read: paths, steps and sizes
        std::optional<QMap<std::int64_t, QJsonObject>> metrics;
    };
    runOffUiThread(
        this,
        [databasePath = m_databasePath, runId = m_runId, previous = m_checkpointSignature]() -> Read {
            Read read;
            auto connection = SqliteConnection::open(databasePath, SqliteConnection::Mode::ReadOnly);
            if (!connection)
                return {connection.error(), {}, {}, {}};
            auto listed = checkpoints::list(connection.value(), runId);
            if (!listed)
                return {listed.error(), {}, {}, {}};
            read.checkpoints = listed.value();
            QList<std::int64_t> steps;
            for (const CheckpointRecord &checkpoint : read.checkpoints) {
                read.signature += checkpoint.path + QLatin1Char('|') + QString::number(checkpoint.bytes)
                    + QLatin1Char('|') + QString::number(checkpoint.step.value_or(-1)) + QLatin1Char('\n');
                if (checkpoint.step)
                    steps << *checkpoint.step;
            }
            if (read.signature != previous) {
                auto metrics = checkpoints::metricsAtSteps(connection.value(), runId, steps);
                if (!metrics)
                    return {metrics.error(), {}, {}, {}};
                read.metrics = metrics.value();
            }
            return read;
        },
        [this](const Read &read) {
            if (!read.error.isEmpty()) {
                m_checkpointTable->setToolTip(tr("Cannot read the run's checkpoints: %1").arg(read.error));
                return;
            }
            if (!read.metrics)
                return; // unchanged
            m_checkpointSignature = read.signature;
            QList<double> markers;
            m_checkpointTable->setSortingEnabled(false);
            m_checkpointTable->setRowCount(int(read.checkpoints.size()));
            for (int row = 0; row < read.checkpoints.size(); ++row) {
                const CheckpointRecord &checkpoint = read.checkpoints[row];
                const QStringList shown =
                    checkpoints::describeMetrics(checkpoints::metricsOf(checkpoint, *read.metrics), 5);
                if (checkpoint.step)
                    markers << double(*checkpoint.step);
                const QStringList cells = {checkpoint.step ? QString::number(*checkpoint.step) : QStringLiteral("-"),
                                           QLocale::c().formattedDataSize(checkpoint.bytes, 1),
                                           QDateTime::fromMSecsSinceEpoch(checkpoint.createdMs)
                                               .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                                           shown.join(QStringLiteral("  ")), checkpoint.path};
                for (int column = 0; column < cells.size(); ++column) {
                    auto item = new QTableWidgetItem(cells[column]);
                    item->setToolTip(column == 3 ? shown.join(QLatin1Char('\n')) : cells[column]);
                    m_checkpointTable->setItem(row, column, item);
                }
            }
            m_metrics->setStepMarkers(markers);
            m_checkpointsHint->setText(
                read.checkpoints.isEmpty()
                    ? tr("No checkpoint yet. Checkpoints saved into $TRAINYARD_CHECKPOINT_DIR, or declared with "
                         "trainyard_log.checkpoint(path, step), are listed here and marked on the charts.")
                    : (read.checkpoints.size() == 1 ? tr("1 checkpoint")
                                                    : tr("%1 checkpoints").arg(read.checkpoints.size()))
                        + tr("; each with a step is a dashed line on the charts' step axis."));
        },
        &m_checkpointsRead);
}

void RunPage::selectCheckpointRow(int row) { m_checkpointTable->selectRow(row); }

QList<QStringList> RunPage::checkpointRows() const
{
    QList<QStringList> rows;
    for (int row = 0; row < m_checkpointTable->rowCount(); ++row) {
        QStringList cells;
        for (int column = 0; column < m_checkpointTable->columnCount(); ++column)
            cells << (m_checkpointTable->item(row, column) ? m_checkpointTable->item(row, column)->text() : QString());
        rows << cells;
    }
    return rows;
}

QString RunPage::performanceText() const { return m_performance->text(); }

void RunPage::showTab(QWidget *tab)
{
    for (int i = 0; i < m_sideTabs->count(); ++i)
        if (m_sideTabs->widget(i) == tab || m_sideTabs->widget(i)->isAncestorOf(tab))
            m_sideTabs->setCurrentIndex(i);
}

void RunPage::showRemoved()
{
    m_removed = true;
    m_failure->setText(tr("This run was deleted (from another window or by `trainyard rm`). Its page shows what it "
                          "last read; close the tab when you are done."));
    m_failure->show();
    m_cancel->setEnabled(false);
    m_saveNotes->setEnabled(false);
    m_notes->setReadOnly(true);
    m_status->setText(tr("deleted"));
}

void RunPage::showRun(const RunRecord &run)
{
    m_traces->setRun(run);
    if (!m_performanceTimer->isActive())
        m_performanceTimer->start();
    m_metrics->setRuns({run}); // a chart per key it logged; only the new points of a key are loaded
    QStringList systemTags;
    for (auto it = run.systemTags.constBegin(); it != run.systemTags.constEnd(); ++it)
        if (it.key() != QLatin1String(kNotesTag)) // the notes have their own place
            systemTags << it.key() + QLatin1Char('=') + it.value().left(80);
    m_systemTags->setText(tr("MLflow: %1").arg(systemTags.join(QStringLiteral("  ·  "))));
    m_systemTags->setVisible(!systemTags.isEmpty());
    m_lastStatus = run.status;
    QString tags;
    for (const QString &tag : run.tags)
        tags += QStringLiteral(" <span style='border:1px solid gray'>&nbsp;%1&nbsp;</span>").arg(tag.toHtmlEscaped());
    m_title->setText(QStringLiteral("<b>%1</b>%2%3 &nbsp; <span style='color:gray'>%4 &middot; %5</span>")
                         .arg(run.name.toHtmlEscaped(), tags, run.isArchived() ? tr(" <i>(archived)</i>") : QString(),
                              run.id, run.command.join(QLatin1Char(' ')).toHtmlEscaped()));
    const QString notes = run.notes();
    // The editor follows the stored notes unless it holds changes of its own not saved yet.
    if (m_notes->toPlainText() == m_storedNotes && notes != m_storedNotes)
        m_notes->setPlainText(notes);
    m_storedNotes = notes;
    m_saveNotes->setEnabled(m_notes->toPlainText() != m_storedNotes);
    m_notesPreview->setText(notes.section(QLatin1Char('\n'), 0, 0).left(200));
    m_notesPreview->setToolTip(notes);
    m_notesPreview->setVisible(!notes.isEmpty());
    const auto duration = run.durationSeconds(QDateTime::currentDateTimeUtc());
    const QJsonObject summary = QJsonDocument::fromJson(run.exitSummary.toUtf8()).object();
    const int attempts = summary.value(QStringLiteral("attempts")).toInt(0);
    QString status = toString(run.status);
    if (attempts > 1)
        status += tr(" after %1 attempts").arg(attempts);
    if (duration)
        status += QStringLiteral(" · ") + formatDuration(*duration);
    m_status->setText(status);
    m_status->setStyleSheet(
        QStringLiteral("QLabel { color: %1; font-weight: bold; }").arg(RunTableModel::statusColor(run.status).name()));
    m_cancel->setEnabled(!isTerminal(run.status));

    const QJsonObject failure = summary.value(QStringLiteral("first_failure")).toObject();
    const QJsonObject stoppedByAlert = summary.value(QStringLiteral("stopped_by_alert")).toObject();
    const QJsonObject stoppedEarly = summary.value(QStringLiteral("stopped_early")).toObject();
    if (!stoppedEarly.isEmpty()) {
        m_failure->setText(tr("Stopped by its sweep's early-stopping rule — %1")
                               .arg(stoppedEarly.value(QStringLiteral("message")).toString()));
        m_failure->show();
    } else if (!stoppedByAlert.isEmpty()) {
        m_failure->setText(
            tr("Stopped by its alert rule — %1").arg(stoppedByAlert.value(QStringLiteral("message")).toString()));
        m_failure->show();
    } else if (!failure.isEmpty()) {
        m_failure->setText(tr("First failure: rank %1 — %2\n%3")
                               .arg(failure.value(QStringLiteral("rank")).toInt())
                               .arg(failure.value(QStringLiteral("cause")).toString(),
                                    failure.value(QStringLiteral("message")).toString()));
        m_failure->show();
    } else if (run.status == RunStatus::Lost) {
        m_failure->setText(tr("Lost: %1").arg(summary.value(QStringLiteral("lost_because")).toString()));
        m_failure->show();
    } else {
        m_failure->hide();
    }
    QStringList alerts;
    for (const QJsonValue &alert : QJsonDocument::fromJson(run.alerts.toUtf8()).array())
        alerts << alert.toObject().value(QStringLiteral("message")).toString();
    m_alerts->setText(alerts.join(QLatin1Char('\n')));
    m_alerts->setVisible(!alerts.isEmpty());
    if (const QString incomplete = run.metricsIncomplete(); !incomplete.isEmpty()) {
        m_metricsIncomplete->setText(
            tr("Warning — %1. `trainyard repair %2` stores the rest once the store can be written again; "
               "any Trainyard that starts does it too.")
                .arg(incomplete, run.id));
        m_metricsIncomplete->show();
    } else {
        m_metricsIncomplete->hide();
    }
}

QString RunPage::formatLine(const RankLogLine &line) const
{
    return QStringLiteral("[%1%2%3] %4 %5")
        .arg(line.rank)
        .arg(line.attempt > 0 ? QStringLiteral("/a%1").arg(line.attempt) : QString())
        .arg(line.nccl ? QStringLiteral(" nccl") : QString())
        .arg(line.stamp.mid(11, 12), line.text);
}

bool RunPage::lineIsShown(const RankLogLine &line) const
{
    const int rank = m_rankFilter->currentData().toInt();
    if (rank >= 0 && line.rank != rank)
        return false;
    return m_search->text().isEmpty() || line.text.contains(m_search->text(), Qt::CaseInsensitive);
}

void RunPage::appendLogLines(const QList<RankLogLine> &lines)
{
    for (const RankLogLine &line : lines) {
        if (!m_ranks.contains(line.rank)) {
            m_ranks << line.rank;
            std::sort(m_ranks.begin(), m_ranks.end());
            const int position = int(m_ranks.indexOf(line.rank)) + 1;
            m_rankFilter->insertItem(position, tr("Rank %1").arg(line.rank), line.rank);
        }
    }
    m_lines.append(lines);
    if (m_lines.size() > kMaxLogLines)
        m_lines.remove(0, m_lines.size() - kMaxLogLines);
    QStringList shown;
    for (const RankLogLine &line : lines) {
        if (lineIsShown(line))
            shown << formatLine(line);
    }
    if (shown.isEmpty())
        return;
    QScrollBar *bar = m_log->verticalScrollBar();
    const int keepPosition = bar->value();
    m_log->appendPlainText(shown.join(QLatin1Char('\n')));
    if (m_follow->isChecked())
        bar->setValue(bar->maximum());
    else
        bar->setValue(keepPosition);
}

void RunPage::rebuildLogView()
{
    QStringList shown;
    for (const RankLogLine &line : std::as_const(m_lines)) {
        if (lineIsShown(line))
            shown << formatLine(line);
    }
    m_log->setPlainText(shown.join(QLatin1Char('\n')));
    if (m_follow->isChecked())
        m_log->verticalScrollBar()->setValue(m_log->verticalScrollBar()->maximum());
}

QString RunPage::statusText() const { return m_status->text(); }
QString RunPage::failureText() const { return m_failure->isVisibleTo(this) ? m_failure->text() : QString(); }
QString RunPage::alertsText() const { return m_alerts->isVisibleTo(this) ? m_alerts->text() : QString(); }
QString RunPage::visibleLogText() const { return m_log->toPlainText(); }
QString RunPage::provenanceText() const { return m_provenance->isVisibleTo(this) ? m_provenance->text() : QString(); }
QStringList RunPage::chartKeys() const
{
    QStringList keys = m_metrics->chartKeys();
    keys.sort();
    return keys;
}
int RunPage::chartPointCount(const QString &key) const
{
    const EnvelopeChart *chart = m_metrics->chart(key);
    if (!chart || chart->series().isEmpty())
        return 0;
    std::int64_t points = 0;
    for (const EnvelopeBucket &bucket : chart->series().first().envelope.buckets)
        points += bucket.summary.count;
    return int(points);
}
void RunPage::setRankFilter(int rank) { m_rankFilter->setCurrentIndex(std::max(0, m_rankFilter->findData(rank))); }
void RunPage::setSearchText(const QString &text) { m_search->setText(text); }

} // namespace trainyard
