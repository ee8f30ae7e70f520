// Throughput review benchmark: the whole dashboard's figures (total, days, weeks, groups, failure causes, queue
// wait and time-to-first-step percentiles, GPU utilisation) for N generated runs (default 100,000), from each
// run's time line (computeThroughputReport), against the same figures computed by loading every run, event,
// tag and exit summary row and folding the events in C++, in the same run. Medians of 7 runs each, warm.
//   build/ci/tests/bench/bench_report [RUNS [WORKSPACE]]   (an existing WORKSPACE is measured as it is)
#include "report/throughputreport.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"
#include "support/teamworkspace.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

using namespace trainyard;

namespace {

const QDateTime kStart(QDate(2026, 10, 5), QTime(0, 0), Qt::UTC);

// The baseline: every row loaded, the figures folded here. Returns the launched count (checked equal).
std::int64_t loadAllRowsReport(SqliteConnection &connection, std::int64_t nowMs)
{
    struct Run {
        std::int64_t createdMs = 0;
        int gpus = 0;
        QString status, user, cause;
        std::optional<std::int64_t> firstActive, since, firstMetric;
        std::int64_t activeMs = 0;
        int restarts = 0;
    };
    QHash<QString, Run> runs;
    auto select =
        connection.prepare("SELECT id, created_ms, gpus, status, user, exit_summary, first_metric_ms FROM runs");
    while (select->step().value()) {
        Run &run = runs[select->columnText(0)];
        run.createdMs = select->columnInt(1);
        run.gpus = int(select->columnInt(2));
        run.status = select->columnText(3);
        run.user = select->columnText(4);
        if (run.status == QLatin1String("failed"))
            run.cause = QJsonDocument::fromJson(select->columnText(5).toUtf8())
                            .object()
                            .value(QStringLiteral("first_failure"))
                            .toObject()
                            .value(QStringLiteral("cause"))
                            .toString();
        if (!select->isNull(6))
            run.firstMetric = select->columnInt(6);
    }
    auto events = connection.prepare("SELECT run_id, ts_ms, to_status FROM events ORDER BY run_id, ts_ms, id");
    while (events->step().value()) {
        Run &run = runs[events->columnText(0)];
        const std::int64_t at = events->columnInt(1);
        const QString status = events->columnText(2);
        const bool active = status == QLatin1String("starting") || status == QLatin1String("running")
            || status == QLatin1String("restarting");
        run.restarts += status == QLatin1String("restarting");
        if (active) {
            if (!run.firstActive)
                run.firstActive = at;
            if (!run.since)
                run.since = at;
        } else if (run.since) {
            run.activeMs += at - *run.since;
            run.since.reset();
        }
    }
    struct Figures {
        std::int64_t launched = 0, succeeded = 0, failed = 0;
        double gpuHours = 0;
        std::vector<std::int64_t> waits, firstSteps;
        std::map<QString, std::int64_t> causes;
    };
    Figures total;
    std::map<QDate, Figures> days;
    std::map<QString, Figures> users;
    for (auto it = runs.cbegin(); it != runs.cend(); ++it) {
        const Run &run = it.value();
        const double hours = run.gpus * double(run.activeMs + (run.since ? nowMs - *run.since : 0)) / 3.6e6;
        for (Figures *figures :
             {&total, &days[QDateTime::fromMSecsSinceEpoch(run.createdMs, Qt::UTC).date()], &users[run.user]}) {
            ++figures->launched;
            figures->succeeded += run.status == QLatin1String("succeeded");
            figures->failed += run.status == QLatin1String("failed");
            figures->gpuHours += hours;
            if (run.firstActive)
                figures->waits.push_back(*run.firstActive - run.createdMs);
            if (run.firstActive && run.firstMetric)
                figures->firstSteps.push_back(*run.firstMetric - *run.firstActive);
            if (run.status == QLatin1String("failed"))
                ++figures->causes[run.cause];
        }
    }
    const auto finish = [](Figures &figures) {
        DurationStats::of(std::move(figures.waits));
        DurationStats::of(std::move(figures.firstSteps));
    };
    for (auto &entry : days)
        finish(entry.second);
    for (auto &entry : users)
        finish(entry.second);
    DurationStats::of(std::move(total.waits));
    return total.launched;
}

double medianOf(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int count = argc > 1 ? QByteArray(argv[1]).toInt() : 100000;
    QTemporaryDir dir;
    const QString root = argc > 2 ? QString::fromLocal8Bit(argv[2]) : dir.filePath(QStringLiteral("ws"));
    const bool reuse = QFileInfo::exists(Workspace::databasePathFor(root));
    auto workspace = Workspace::open(root);
    if (!workspace) {
        std::fprintf(stderr, "%s\n", qPrintable(workspace.error()));
        return 1;
    }
    QElapsedTimer clock;
    clock.start();
    if (!reuse) {
        auto writer = StoreWriter::start(workspace->database());
        test::generateTeamRuns(*writer.value(), count, 42, kStart);
        writer.value()->flush();
        std::printf("generated %d runs through the StoreWriter in %.1f s\n", count, clock.elapsed() / 1000.0);
    }
    auto connection = workspace->database().connect();
    const QDateTime now(QDate(2026, 11, 10), QTime(12, 0), Qt::UTC);
    std::printf("%-44s %10s %10s\n", "dashboard figures (4 weeks)", "median ms", "runs");
    for (ReportGrouping grouping : {ReportGrouping::None, ReportGrouping::User, ReportGrouping::Tag}) {
        ReportQuery query;
        query.since = kStart;
        query.until = kStart.addDays(28);
        query.now = now;
        query.by = grouping;
        std::vector<double> times;
        std::int64_t launched = 0;
        for (int i = 0; i < 7; ++i) {
            clock.restart();
            auto report = computeThroughputReport(*connection, query);
            times.push_back(clock.nsecsElapsed() / 1e6);
            launched = report->total.launched;
        }
        std::printf("%-44s %10.1f %10lld\n",
                    qPrintable(QStringLiteral("time lines, by %1").arg(groupingName(grouping))), medianOf(times),
                    static_cast<long long>(launched));
    }
    std::vector<double> times;
    std::int64_t launched = 0;
    for (int i = 0; i < 7; ++i) {
        clock.restart();
        launched = loadAllRowsReport(*connection, now.toMSecsSinceEpoch());
        times.push_back(clock.nsecsElapsed() / 1e6);
    }
    std::printf("%-44s %10.1f %10lld\n", "baseline: load every row, fold the events", medianOf(times),
                static_cast<long long>(launched));
    return 0;
}
