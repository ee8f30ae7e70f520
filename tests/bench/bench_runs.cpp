// Lab scale: the window, the watcher and `trainyard ls` over N generated runs (default 100,000: bench_report's team
// runs plus params of every type, a 10,000-run sweep and odd rows, tests/support/teamworkspace.h), each against a
// same-run baseline: reading every run row with one plain query. Also the UI thread's longest stall (a 2 ms timer's
// largest gap) while the window loads, sorts, filters, selects and exports, the window's resident memory, and its
// CPU while one run is live (another process commits a metric point four times a second).
//   build/ci/tests/bench/bench_runs [RUNS [WORKSPACE]]   (an existing WORKSPACE is measured as it is)
#include "mainwindow.h"
#include "models/runfilterproxy.h"
#include "models/runtablemodel.h"
#include "views/sweepview.h"
#include "views/throughputview.h"
#include "store/metricchunk.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"
#include "support/teamworkspace.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFuture>
#include <QFile>
#include <QFileInfo>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <tuple>
#include <vector>

using namespace trainyard;

namespace {

const QDateTime kStart(QDate(2026, 10, 5), QTime(0, 0), Qt::UTC);
constexpr int kSweepRuns = 10000;

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

double medianMs(int times, const std::function<void()> &work)
{
    std::vector<double> ms;
    for (int i = 0; i < times; ++i) {
        QElapsedTimer clock;
        clock.start();
        work();
        ms.push_back(double(clock.nsecsElapsed()) / 1e6);
    }
    return median(ms);
}

// The UI thread's longest stall: the largest gap between ticks of a 2 ms timer, less the 2 ms.
class StallMonitor : public QObject {
public:
    StallMonitor()
    {
        m_timer.setInterval(2);
        m_timer.setTimerType(Qt::PreciseTimer);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            m_longestNs = std::max(m_longestNs, now - m_lastNs - 2'000'000);
            m_lastNs = now;
        });
        m_clock.start();
        m_timer.start();
    }
    void stop() { m_timer.stop(); }
    void reset()
    {
        QApplication::processEvents();
        m_longestNs = 0;
        m_lastNs = m_clock.nsecsElapsed();
    }
    // Runs the event loop a while so a stall at the end is counted, then says the longest stall in ms.
    double longestMs()
    {
        QElapsedTimer settle;
        settle.start();
        while (settle.elapsed() < 50)
            QApplication::processEvents(QEventLoop::AllEvents, 5);
        return double(m_longestNs) / 1e6;
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastNs = 0;
    qint64 m_longestNs = 0;
};

double waitUntil(const std::function<bool()> &done, int timeoutMs = 120000)
{
    QElapsedTimer clock;
    clock.start();
    while (!done() && clock.elapsed() < timeoutMs)
        QApplication::processEvents(QEventLoop::AllEvents, 5);
    return double(clock.nsecsElapsed()) / 1e6;
}

double residentMiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toDouble() / 1024.0;
    return 0;
}

double cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// --live-writer DATABASE RUN SECONDS: commits one metric point to RUN four times a second, as a live run's ingester does.
int liveWriter(const QString &databasePath, const QString &runId, int seconds)
{
    auto database = Database::open(databasePath);
    if (!database)
        return 1;
    auto writer = StoreWriter::start(database.value());
    if (!writer)
        return 1;
    for (int i = 0; i < seconds * 4; ++i) {
        const std::int64_t step = 1000 + i;
        const double value = 1.0 / (i + 1);
        const std::int64_t ts = QDateTime::currentMSecsSinceEpoch();
        (void)writer.value()
            ->submit<void>([&](SqliteConnection &connection) -> Result<void> {
                auto keyId = metricKeyId(connection, runId, QStringLiteral("loss"));
                if (!keyId)
                    return fail(keyId.error());
                return insertMetricChunk(connection, *keyId, std::span(&step, 1), std::span(&value, 1),
                                         std::span(&ts, 1));
            })
            .get();
        QThread::msleep(250);
    }
    return 0;
}

double trainyardMs(const QStringList &arguments)
{
    return medianMs(3, [&] {
        QProcess process;
        process.setStandardOutputFile(QProcess::nullDevice());
        process.start(QStringLiteral(TRAINYARD_BINARY), arguments);
        process.waitForFinished(-1);
    });
}

} // namespace

int main(int argc, char **argv)
{
    if (argc == 5 && QByteArray(argv[1]) == "--live-writer") {
        QCoreApplication app(argc, argv);
        return liveWriter(QString::fromLocal8Bit(argv[2]), QString::fromLocal8Bit(argv[3]),
                          QByteArray(argv[4]).toInt());
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QTemporaryDir settingsDir; // the window's saved layout must not come from the user's own settings
    qputenv("XDG_CONFIG_HOME", settingsDir.path().toLocal8Bit());
    QApplication app(argc, argv);
    const int count = argc > 1 ? QByteArray(argv[1]).toInt() : 100000;
    QTemporaryDir dir;
    const QString root = argc > 2 ? QString::fromLocal8Bit(argv[2]) : dir.filePath(QStringLiteral("ws"));
    const bool reuse = QFileInfo::exists(Workspace::databasePathFor(root));
    auto workspace = Workspace::open(root);
    if (!workspace) {
        std::fprintf(stderr, "bench_runs: %s\n", qPrintable(workspace.error()));
        return 1;
    }
    auto writer = StoreWriter::start(workspace->database());
    if (!writer) {
        std::fprintf(stderr, "bench_runs: %s\n", qPrintable(writer.error()));
        return 1;
    }
    if (!reuse) {
        QElapsedTimer clock;
        clock.start();
        const auto runs = test::generateTeamRuns(*writer.value(), count, 42, kStart);
        if (test::addLabDetails(*writer.value(), runs, std::min(kSweepRuns, count / 2)).isEmpty())
            return 1;
        std::printf("generated %d runs (params, a %d-run sweep, odd rows) in %.1f s\n", count,
                    std::min(kSweepRuns, count / 2), clock.elapsed() / 1000.0);
    }
    auto connection = workspace->database().connect();
    const std::int64_t runCount = connection->queryInt("SELECT count(*) FROM runs").value();
    std::printf("workspace %s: %lld runs, %.0f MiB on disk\n", qPrintable(root), (long long)runCount,
                QFileInfo(Workspace::databasePathFor(root)).size() / 1048576.0);

    // The baseline: every run row, one plain query, every column read.
    const double baselineMs = medianMs(3, [&] {
        auto select =
            connection->prepare("SELECT id, name, status, created_ms, started_ms, ended_ms, command, cwd, host,"
                                " backend, exit_summary, sweep_id FROM runs");
        const int columns = 12; // every column the run list shows
        std::size_t bytes = 0;
        while (select->step().value())
            for (int c = 0; c < columns; ++c)
                bytes += std::size_t(select->columnText(c).size());
        if (bytes == 0)
            std::printf("(no bytes read)\n");
    });
    const double fullReadMs =
        medianMs(3, [&] { (void)runqueries::readRunListChanges(connection.value(), std::nullopt); });
    std::int64_t sequence = runqueries::changeSequence(connection.value(), ChangeSequence::RunList).value();
    const double noChangeMs = medianMs(5, [&] { (void)runqueries::readRunListChanges(connection.value(), sequence); });
    const double lsMs = trainyardMs({QStringLiteral("ls"), QStringLiteral("--workspace"), root});
    const double lsJsonMs =
        trainyardMs({QStringLiteral("ls"), QStringLiteral("--json"), QStringLiteral("--workspace"), root});
    const double lsFilterMs =
        trainyardMs({QStringLiteral("ls"), QStringLiteral("--filter"), QStringLiteral("status:failed lr>=1e-3"),
                     QStringLiteral("--workspace"), root});
    const double lsLimitMs = trainyardMs(
        {QStringLiteral("ls"), QStringLiteral("--limit"), QStringLiteral("50"), QStringLiteral("--workspace"), root});

    // The window: first rows, and the UI thread's longest stall while it loads.
    const double rssBefore = residentMiB();
    StallMonitor stalls;
    QElapsedTimer startClock;
    startClock.start();
    MainWindow window(workspace.value());
    window.show();
    const double constructedMs = double(startClock.nsecsElapsed()) / 1e6; // building the widgets, before any run
    stalls.reset();
    waitUntil([&] { return window.filteredRuns()->rowCount() > 0; });
    const double firstRowsMs = double(startClock.nsecsElapsed()) / 1e6;
    waitUntil([&] { return window.runsModel()->rowCount() >= runCount; });
    const double loadStallMs = stalls.longestMs();
    const double rssAfter = residentMiB();

    // One run's status change: from the commit to the row shown, and the watcher's read of it alone.
    QString changedId;
    for (int row = window.runsModel()->rowCount() / 2; changedId.isEmpty() && row < window.runsModel()->rowCount();
         ++row)
        if (window.runsModel()->runAt(row).status == RunStatus::Succeeded)
            changedId = window.runsModel()->runAt(row).id;
    sequence = runqueries::changeSequence(connection.value(), ChangeSequence::RunList).value();
    stalls.reset();
    (void)writer.value()->recordStatus(changedId, RunStatus::Canceled, QDateTime::currentDateTimeUtc()).get();
    QElapsedTimer changeClock;
    changeClock.start();
    waitUntil([&] {
        const int row = window.runsModel()->rowOfRun(changedId);
        return row >= 0 && window.runsModel()->runAt(row).status == RunStatus::Canceled;
    });
    const double changeShownMs = double(changeClock.nsecsElapsed()) / 1e6;
    const double changeStallMs = stalls.longestMs();
    const double changeReadMs =
        medianMs(5, [&] { (void)runqueries::readRunListChanges(connection.value(), sequence); });

    // Sorts, a filter, selecting everything shown, CSV of what is shown: each the UI thread's longest stall.
    window.runsModel()->setExtraColumns({{RunTableModel::ExtraColumn::Kind::Param, QStringLiteral("lr")},
                                         {RunTableModel::ExtraColumn::Kind::MetricLast, QStringLiteral("loss")}});
    QApplication::processEvents();
    struct Action {
        const char *name;
        std::function<void()> run;
    };
    QTableView *view = window.runsView();
    const int lrColumn = RunTableModel::ColumnCount, lossColumn = RunTableModel::ColumnCount + 1;
    const std::vector<Action> actions{
        {"sort by name", [&] { view->sortByColumn(RunTableModel::NameColumn, Qt::AscendingOrder); }},
        {"sort by started", [&] { view->sortByColumn(RunTableModel::StartedColumn, Qt::DescendingOrder); }},
        {"sort by param lr", [&] { view->sortByColumn(lrColumn, Qt::AscendingOrder); }},
        {"sort by loss (last)", [&] { view->sortByColumn(lossColumn, Qt::AscendingOrder); }},
        {"filter 'status:failed lr>=1e-3'",
         [&] { window.filterEdit()->setText(QStringLiteral("status:failed lr>=1e-3")); }},
        {"filter 'tag:baseline'", [&] { window.filterEdit()->setText(QStringLiteral("tag:baseline")); }},
        {"clear the filter", [&] { window.filterEdit()->clear(); }},
        {"select all shown", [&] { view->selectAll(); }},
        {"CSV of what is shown, written",
         [&] {
             QFuture<QString> written = window.exportRunsCsv(dir.filePath(QStringLiteral("runs.csv")));
             waitUntil([&] { return written.isFinished(); });
         }},
    };
    // Each until it shows (an off-thread sort or filter applied, the CSV written), and the longest stall meanwhile.
    std::vector<std::tuple<const char *, double, double>> actionStalls;
    RunFilterProxy *proxy = window.filteredRuns();
    for (const Action &action : actions) {
        stalls.reset();
        QElapsedTimer clock;
        clock.start();
        action.run();
        waitUntil([&] { return !proxy->isUpdating(); });
        const double shownMs = double(clock.nsecsElapsed()) / 1e6;
        actionStalls.emplace_back(action.name, shownMs, stalls.longestMs());
    }
    view->clearSelection();
    QApplication::processEvents();

    // The Sweeps tab, its 10,000-run sweep shown, and the Throughput page opened over every run.
    const auto tabs = window.findChild<QTabWidget *>();
    stalls.reset();
    QElapsedTimer sweepClock;
    sweepClock.start();
    tabs->setCurrentWidget(window.sweepView());
    QApplication::processEvents();
    const double sweepShownMs = double(sweepClock.nsecsElapsed()) / 1e6;
    const double sweepStallMs = stalls.longestMs();
    const int sweepRows = window.sweepView()->table()->model()->rowCount();
    stalls.reset();
    QElapsedTimer throughputClock;
    throughputClock.start();
    ThroughputView *throughput = window.openThroughput();
    QSignalSpy reportReady(throughput, &ThroughputView::reportReady);
    waitUntil([&] { return !reportReady.isEmpty(); });
    const double throughputMs = double(throughputClock.nsecsElapsed()) / 1e6;
    const double throughputStallMs = stalls.longestMs();
    tabs->setCurrentIndex(0);
    QApplication::processEvents();

    // One live run: the window's CPU (this process; the writer is another) over 10 s.
    const QString liveId = window.runsModel()->runAt(0).id;
    QProcess live;
    live.start(QString::fromLocal8Bit(argv[0]),
               {QStringLiteral("--live-writer"), Workspace::databasePathFor(root), liveId, QStringLiteral("10")});
    live.waitForStarted();
    stalls.stop(); // its 2 ms timer is the bench's, not the window's
    const double cpuBefore = cpuSeconds();
    QElapsedTimer liveClock;
    liveClock.start();
    QEventLoop idle; // the window idles in its event loop, as it does for a user
    QTimer::singleShot(10000, &idle, &QEventLoop::quit);
    idle.exec();
    const double liveCpuPercent = 100.0 * (cpuSeconds() - cpuBefore) / (double(liveClock.elapsed()) / 1000.0);
    live.waitForFinished(-1);

    // The real window's process (trainyard with no command), alone: its resident memory while and after it loads.
    double appPeakMiB = 0, appSettledMiB = 0;
    {
        QProcess app;
        app.setStandardOutputFile(QProcess::nullDevice());
        app.setStandardErrorFile(QProcess::nullDevice());
        app.start(QStringLiteral(TRAINYARD_BINARY), {QStringLiteral("--workspace"), root});
        app.waitForStarted();
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 15000 && app.state() == QProcess::Running) {
            QThread::msleep(200);
            QFile status(QStringLiteral("/proc/%1/status").arg(app.processId()));
            if (!status.open(QIODevice::ReadOnly))
                break;
            for (const QByteArray &line : status.readAll().split('\n'))
                if (line.startsWith("VmRSS:"))
                    appSettledMiB = line.mid(6).trimmed().split(' ').first().toDouble() / 1024.0;
            appPeakMiB = std::max(appPeakMiB, appSettledMiB);
        }
        app.terminate();
        app.waitForFinished(5000);
    }

    std::printf("\n%-52s %10s\n", "at this size", "ms");
    std::printf("%-52s %10.1f\n", "baseline: every run row, one plain query", baselineMs);
    std::printf("%-52s %10.1f\n", "watcher's first (complete) read, with details", fullReadMs);
    std::printf("%-52s %10.3f\n", "watcher's read when nothing changed", noChangeMs);
    std::printf("%-52s %10.3f\n", "watcher's read of one run's status change", changeReadMs);
    std::printf("%-52s %10.1f\n", "window built and shown (no run yet)", constructedMs);
    std::printf("%-52s %10.1f\n", "window start to first rows shown", firstRowsMs);
    std::printf("%-52s %10.1f\n", "  longest UI stall while loading", loadStallMs);
    std::printf("%-52s %10.1f\n", "status change: commit to row shown", changeShownMs);
    std::printf("%-52s %10.1f\n", "  longest UI stall meanwhile", changeStallMs);
    for (const auto &[name, shownMs, stallMs] : actionStalls) {
        std::printf("%-52s %10.1f\n", name, shownMs);
        std::printf("%-52s %10.1f\n", "  longest UI stall meanwhile", stallMs);
    }
    std::printf("%-52s %10.1f\n",
                QByteArray("Sweeps tab shown (a sweep of " + QByteArray::number(sweepRows) + " runs)").constData(),
                sweepShownMs);
    std::printf("%-52s %10.1f\n", "  longest UI stall meanwhile", sweepStallMs);
    std::printf("%-52s %10.1f\n", "Throughput page opened, report shown", throughputMs);
    std::printf("%-52s %10.1f\n", "  longest UI stall meanwhile", throughputStallMs);
    std::printf("%-52s %10.1f\n", "trainyard ls", lsMs);
    std::printf("%-52s %10.1f\n", "trainyard ls --json", lsJsonMs);
    std::printf("%-52s %10.1f\n", "trainyard ls --filter 'status:failed lr>=1e-3'", lsFilterMs);
    std::printf("%-52s %10.1f\n", "trainyard ls --limit 50", lsLimitMs);
    std::printf("\nthe trainyard window's process: %.0f MiB resident at most while loading, %.0f MiB after 15 s\n",
                appPeakMiB, appSettledMiB);
    std::printf("this bench's window: %.0f MiB more resident than before it opened (%.0f MiB before)\n",
                rssAfter - rssBefore, rssBefore);
    std::printf("window CPU with one live run (4 commits/s), 10 s: %.1f%% of a core\n", liveCpuPercent);
    return 0;
}
