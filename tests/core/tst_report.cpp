// The throughput review against brute force: 10,000 generated runs with known time lines, every figure of the
// report (total, each day, each week, groups by user and by tag, a date range) recomputed here from the
// generator's own events; the runs behind a bar; export and import (twice: nothing doubled; the source untouched).
#include "csv.h"
#include "report/throughputreport.h"
#include "store/sqlite.h"
#include "store/workspaceimport.h"
#include "support/teamworkspace.h"
#include "support/testworkspace.h"

#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

using namespace trainyard;
using test::GeneratedRun;

namespace {

const QDateTime kStart(QDate(2026, 10, 5), QTime(0, 0), Qt::UTC); // a Monday
const QDateTime kNow(QDate(2026, 11, 10), QTime(12, 0), Qt::UTC);

bool isEndState(const QString &status)
{
    return status == QLatin1String("succeeded") || status == QLatin1String("failed")
        || status == QLatin1String("canceled") || status == QLatin1String("lost");
}
bool isActiveState(const QString &status)
{
    return status == QLatin1String("starting") || status == QLatin1String("running")
        || status == QLatin1String("restarting");
}

// The figures of a set of runs, straight from their events.
struct Expected {
    std::int64_t launched = 0, started = 0, succeeded = 0, failed = 0, canceled = 0, lost = 0, unfinished = 0,
                 restarts = 0;
    double gpuHours = 0;
    std::vector<std::int64_t> waits, firstSteps;
    std::map<QString, std::int64_t> causes;
    double utilizationSum = 0;
    std::int64_t utilizationSamples = 0;

    void add(const GeneratedRun &run)
    {
        ++launched;
        std::optional<std::int64_t> firstActive, since;
        std::int64_t active = 0;
        for (const auto &event : run.events) {
            restarts += event.status == QLatin1String("restarting");
            if (isActiveState(event.status)) {
                if (!firstActive)
                    firstActive = event.atMs;
                if (!since)
                    since = event.atMs;
            } else if (since) {
                active += event.atMs - *since;
                since.reset();
            }
        }
        if (since)
            active += kNow.toMSecsSinceEpoch() - *since;
        started += firstActive.has_value();
        gpuHours += run.gpus * double(active) / 3.6e6;
        if (firstActive)
            waits.push_back(*firstActive - run.events.front().atMs);
        if (firstActive && run.firstMetricMs)
            firstSteps.push_back(*run.firstMetricMs - *firstActive);
        const QString last = run.events.back().status;
        if (!isEndState(last))
            ++unfinished;
        else if (last == QLatin1String("succeeded"))
            ++succeeded;
        else if (last == QLatin1String("canceled"))
            ++canceled;
        else if (last == QLatin1String("lost"))
            ++lost;
        else
            ++failed, ++causes[run.cause.isEmpty() ? QStringLiteral("launch") : run.cause];
        if (run.gpuUtilization)
            utilizationSum += *run.gpuUtilization, ++utilizationSamples;
    }
};

std::optional<double> median(std::vector<std::int64_t> values)
{
    if (values.empty())
        return std::nullopt;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return (n % 2 ? double(values[n / 2]) : (values[n / 2 - 1] + values[n / 2]) / 2.0) / 1000.0;
}
std::optional<double> p90(std::vector<std::int64_t> values)
{
    if (values.empty())
        return std::nullopt;
    std::sort(values.begin(), values.end());
    std::size_t rank = 1;
    while (double(rank) < 0.9 * double(values.size()))
        ++rank; // the smallest rank with at least 90% of the values at or below it
    return values[rank - 1] / 1000.0;
}

QString compare(const QString &what, const ReportFigures &got, const Expected &want)
{
    QStringList wrong;
    const auto check = [&](const char *name, auto a, auto b) {
        if (a != b)
            wrong << QStringLiteral("%1 %2 != %3").arg(QLatin1String(name)).arg(a).arg(b);
    };
    check("launched", got.launched, want.launched);
    check("started", got.started, want.started);
    check("succeeded", got.succeeded, want.succeeded);
    check("failed", got.failed, want.failed);
    check("canceled", got.canceled, want.canceled);
    check("lost", got.lost, want.lost);
    check("unfinished", got.unfinished, want.unfinished);
    check("restarts", got.restarts, want.restarts);
    if (std::abs(got.gpuHours - want.gpuHours) > 1e-6 * std::max(1.0, want.gpuHours))
        wrong << QStringLiteral("gpu hours %1 != %2").arg(got.gpuHours, 0, 'g', 15).arg(want.gpuHours, 0, 'g', 15);
    check("queue wait count", got.queueWait.count, std::int64_t(want.waits.size()));
    check("queue wait median", got.queueWait.medianS.value_or(-1), median(want.waits).value_or(-1));
    check("queue wait p90", got.queueWait.p90S.value_or(-1), p90(want.waits).value_or(-1));
    check("first step median", got.timeToFirstStep.medianS.value_or(-1), median(want.firstSteps).value_or(-1));
    check("first step p90", got.timeToFirstStep.p90S.value_or(-1), p90(want.firstSteps).value_or(-1));
    const std::optional<double> utilization =
        want.utilizationSamples ? std::optional<double>(want.utilizationSum / want.utilizationSamples) : std::nullopt;
    if (utilization.has_value() != got.gpuUtilizationPercent.has_value()
        || (utilization && std::abs(*utilization - *got.gpuUtilizationPercent) > 1e-9))
        wrong << QStringLiteral("gpu utilisation %1 != %2")
                     .arg(got.gpuUtilizationPercent.value_or(-1))
                     .arg(utilization.value_or(-1));
    std::map<QString, std::int64_t> causes;
    for (const auto &[cause, count] : got.failureCauses)
        causes[cause] = count;
    if (causes != want.causes)
        wrong << QStringLiteral("failure causes differ");
    for (qsizetype i = 1; i < got.failureCauses.size(); ++i)
        if (got.failureCauses[i - 1].second < got.failureCauses[i].second)
            wrong << QStringLiteral("failure causes not ranked");
    return wrong.isEmpty() ? QString() : what + QStringLiteral(": ") + wrong.join(QStringLiteral("; "));
}

} // namespace

class TestReport : public QObject {
    Q_OBJECT

private slots:
    // The one CSV quoting every export uses (core/csv.h), as RFC 4180 writes fields.
    void csvFieldsAsRfc4180()
    {
        QCOMPARE(csvField(QStringLiteral("ablation")), QStringLiteral("ablation"));
        QCOMPARE(csvField(QString()), QString());
        QCOMPARE(csvField(QStringLiteral("a,b")), QStringLiteral("\"a,b\""));
        QCOMPARE(csvField(QStringLiteral("say \"hi\"")), QStringLiteral("\"say \"\"hi\"\"\""));
        QCOMPARE(csvField(QStringLiteral("two\nlines")), QStringLiteral("\"two\nlines\""));
        QCOMPARE(csvField(QStringLiteral("cr\rhere")), QStringLiteral("\"cr\rhere\""));
        QCOMPARE(csvField(QStringLiteral("run-0"), CsvQuote::Always), QStringLiteral("\"run-0\""));
        QCOMPARE(csvField(QStringLiteral("x\"y"), CsvQuote::Always), QStringLiteral("\"x\"\"y\""));
    }

    void initTestCase()
    {
        QVERIFY(m_workspace.isValid());
        m_runs = test::generateTeamRuns(m_workspace.writer(), 10000, 20261124, kStart);
        m_workspace.writer().flush();
        QCOMPARE(m_runs.size(), std::size_t(10000));
    }

    void everyFigureEqualsBruteForce_data()
    {
        QTest::addColumn<int>("grouping");
        QTest::addColumn<int>("sinceDay");
        QTest::addColumn<int>("untilDay");
        QTest::newRow("all, by user") << int(ReportGrouping::User) << -1 << -1;
        QTest::newRow("all, by tag") << int(ReportGrouping::Tag) << -1 << -1;
        QTest::newRow("days 3-17, by project") << int(ReportGrouping::Project) << 3 << 17;
        QTest::newRow("days 10-, by backend") << int(ReportGrouping::Backend) << 10 << -1;
        QTest::newRow("until day 5, by host") << int(ReportGrouping::Host) << -1 << 5;
    }
    void everyFigureEqualsBruteForce()
    {
        QFETCH(int, grouping);
        QFETCH(int, sinceDay);
        QFETCH(int, untilDay);
        ReportQuery query;
        query.by = ReportGrouping(grouping);
        query.now = kNow;
        if (sinceDay >= 0)
            query.since = kStart.addDays(sinceDay);
        if (untilDay >= 0)
            query.until = kStart.addDays(untilDay);
        auto connection = m_workspace.workspace().database().connect();
        QVERIFY(connection);
        auto report = computeThroughputReport(*connection, query);
        QVERIFY2(report, report ? "" : qPrintable(report.error()));

        Expected total;
        std::map<QDate, Expected> days, weeks;
        std::map<QString, Expected> groups;
        for (const GeneratedRun &run : m_runs) {
            if ((query.since.isValid() && run.createdMs < query.since.toMSecsSinceEpoch())
                || (query.until.isValid() && run.createdMs >= query.until.toMSecsSinceEpoch()))
                continue;
            total.add(run);
            const QDate day = QDateTime::fromMSecsSinceEpoch(run.createdMs, Qt::UTC).date();
            days[day].add(run);
            weeks[day.addDays(1 - day.dayOfWeek())].add(run);
            QStringList names;
            switch (query.by) {
            case ReportGrouping::User:
                names << run.user;
                break;
            case ReportGrouping::Project:
                names << run.project;
                break;
            case ReportGrouping::Backend:
                names << run.backend;
                break;
            case ReportGrouping::Host:
                names << run.host;
                break;
            case ReportGrouping::Tag:
                names = run.tags.isEmpty() ? QStringList{QStringLiteral("(no tag)")} : run.tags;
                break;
            case ReportGrouping::None:
                break;
            }
            for (const QString &name : names)
                groups[name].add(run);
        }
        QVERIFY(total.launched > 0);
        QString problem = compare(QStringLiteral("total"), report->total, total);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(report->days.size(), qsizetype(days.size()));
        for (const ReportPeriod &day : report->days) {
            problem = compare(day.start.toString(Qt::ISODate), day.figures, days.at(day.start));
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
        }
        QCOMPARE(report->weeks.size(), qsizetype(weeks.size()));
        for (const ReportPeriod &week : report->weeks) {
            QCOMPARE(week.start.dayOfWeek(), 1);
            problem = compare(QStringLiteral("week of ") + week.start.toString(Qt::ISODate), week.figures,
                              weeks.at(week.start));
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
        }
        QCOMPARE(report->groups.size(), qsizetype(groups.size()));
        for (const ReportGroup &group : report->groups) {
            problem = compare(group.name, group.figures, groups.at(group.name));
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
        }
        for (qsizetype i = 1; i < report->groups.size(); ++i)
            QVERIFY(report->groups[i - 1].figures.gpuHours >= report->groups[i].figures.gpuHours);
    }

    void runsBehindABarAreTheRunsOfThatBar()
    {
        ReportQuery query;
        query.now = kNow;
        query.by = ReportGrouping::Tag;
        const QDate day = kStart.date().addDays(7);
        std::set<QString> failedThatDay, ablation, oomFailures;
        for (const GeneratedRun &run : m_runs) {
            const QString last = run.events.back().status;
            if (QDateTime::fromMSecsSinceEpoch(run.createdMs, Qt::UTC).date() == day && last == QLatin1String("failed"))
                failedThatDay.insert(run.id);
            if (run.tags.contains(QStringLiteral("ablation")))
                ablation.insert(run.id);
            if (last == QLatin1String("failed") && run.cause == QLatin1String("cuda-oom"))
                oomFailures.insert(run.id);
        }
        auto connection = m_workspace.workspace().database().connect();
        QVERIFY(connection);
        const auto asSet = [](const QStringList &ids) { return std::set<QString>(ids.begin(), ids.end()); };
        auto ids = runsBehind(*connection, query, day, QStringLiteral("failed"), {});
        QVERIFY(ids);
        QVERIFY(!failedThatDay.empty());
        QVERIFY(asSet(*ids) == failedThatDay);
        ids = runsBehind(*connection, query, {}, {}, QStringLiteral("ablation"));
        QVERIFY(ids);
        QCOMPARE(ids->size(), qsizetype(ablation.size()));
        QVERIFY(asSet(*ids) == ablation);
        ids = runsBehind(*connection, query, {}, QStringLiteral("failed:cuda-oom"), {});
        QVERIFY(ids && asSet(*ids) == oomFailures);
    }

    void importTwiceAddsNothingAndLeavesTheSourceUntouched()
    {
        QTemporaryDir scratch;
        const QString bundle = scratch.filePath(QStringLiteral("team.trainyard"));
        QVERIFY(exportBundle(m_workspace.workspace(), bundle));
        QVERIFY(!exportBundle(m_workspace.workspace(), bundle).ok()); // never overwrites
        const QByteArray bundleHash = test::sha256OfFile(bundle);

        test::TestWorkspace lead;
        QVERIFY(lead.isValid());
        lead.addRun(QStringLiteral("leads-own-run"), RunStatus::Succeeded);
        const char *const counts[] = {"SELECT count(*) FROM events",        "SELECT count(*) FROM tags",
                                      "SELECT count(*) FROM params",        "SELECT count(*) FROM metric_keys",
                                      "SELECT count(*) FROM metric_chunks", "SELECT count(*) FROM metric_bins"};
        std::vector<std::int64_t> before;
        {
            auto connection = lead.workspace().database().connect();
            QVERIFY(connection);
            for (const char *sql : counts)
                before.push_back(*connection->queryInt(sql));
        }
        auto first = importWorkspace(lead.workspace(), bundle);
        QVERIFY2(first, first ? "" : qPrintable(first.error()));
        QCOMPARE(first->runsImported, 10000);
        QCOMPARE(first->runsAlreadyPresent, 0);
        auto second = importWorkspace(lead.workspace(), bundle);
        QVERIFY(second);
        QCOMPARE(second->runsImported, 0);
        QCOMPARE(second->runsAlreadyPresent, 10000);
        // From the live workspace folder as well: the same runs, by id, still nothing new.
        auto third = importWorkspace(lead.workspace(), m_workspace.root());
        QVERIFY2(third, third ? "" : qPrintable(third.error()));
        QCOMPARE(third->runsImported, 0);
        QCOMPARE(test::sha256OfFile(bundle), bundleHash);
        QVERIFY(!QFileInfo::exists(bundle + QStringLiteral("-wal"))
                && !QFileInfo::exists(bundle + QStringLiteral("-shm")));

        auto connection = lead.workspace().database().connect();
        QVERIFY(connection);
        QCOMPARE(*connection->queryInt("SELECT count(*) FROM runs"), 10001);
        auto sourceConnection = m_workspace.workspace().database().connect();
        for (std::size_t i = 0; i < std::size(counts); ++i) // every row came once, after two imports
            QVERIFY2(*connection->queryInt(counts[i]) == before[i] + *sourceConnection->queryInt(counts[i]), counts[i]);
        // The lead's review of the merged runs equals the team's own.
        ReportQuery query;
        query.now = kNow;
        query.since = kStart;
        query.until = kStart.addDays(28);
        query.by = ReportGrouping::User;
        auto mine = computeThroughputReport(*connection, query);
        auto theirs = computeThroughputReport(*sourceConnection, query);
        QVERIFY(mine && theirs);
        QCOMPARE(mine->toJson(), theirs->toJson());

        const auto refused = importWorkspace(lead.workspace(), scratch.filePath(QStringLiteral("missing")));
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("neither a workspace folder nor a Trainyard bundle")),
                 qPrintable(refused.error()));
        QVERIFY(!importWorkspace(lead.workspace(), lead.root()).ok()); // itself
    }

private:
    test::TestWorkspace m_workspace;
    std::vector<GeneratedRun> m_runs;
};

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
