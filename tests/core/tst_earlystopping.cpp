// Early stopping's judgement (queue/earlystopping) and the rung watcher (spec/rungwatcher): ASHA keeps the best
// max(1, floor(n / reduction)) of the runs at a rung, median stopping compares with the finished runs' median, a
// diverged run stops, and each rung is reached once, whatever the order of the points.
#include "queue/earlystopping.h"
#include "report/sweepreport.h"
#include "spec/rungwatcher.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace trainyard;

namespace {

EarlyStopRule asha(int reduction, bool maximize = false)
{
    EarlyStopRule rule;
    rule.method = EarlyStopRule::Method::Asha;
    rule.metric = QStringLiteral("loss");
    rule.maximize = maximize;
    rule.rungs = {10, 30};
    rule.reduction = reduction;
    return rule;
}

EarlyStopRule median(int minRuns)
{
    EarlyStopRule rule = asha(3);
    rule.method = EarlyStopRule::Method::Median;
    rule.minRuns = minRuns;
    return rule;
}

SweepRungValue at(const QString &run, double value, RunStatus status = RunStatus::Running)
{
    return SweepRungValue{run, 0, 10, value, status};
}

RungArrival arrival(double value) { return RungArrival{0, 10, 12, value}; }

} // namespace

class TestEarlyStopping : public QObject {
    Q_OBJECT
private slots:
    void ashaKeepsTheBestFractionOfTheRunsAtARung()
    {
        const EarlyStopRule rule = asha(3);
        // Alone at the rung: the best of one goes on.
        QList<SweepRungValue> values{at("a", 0.5)};
        EarlyStopDecision first = judgeArrival(rule, "a", arrival(0.5), values);
        QVERIFY(!first.stop);
        QCOMPARE(
            first.comparison,
            QStringLiteral("loss 0.5 at step 12 ranks 1st of 1 run at rung 1 (step 10); ASHA keeps the best 1 (1/3)"));
        // Second, and worse: of two, only the best goes on.
        values << at("b", 0.7);
        QVERIFY(judgeArrival(rule, "b", arrival(0.7), values).stop);
        // Second, and better: it goes on.
        QVERIFY(!judgeArrival(rule, "b", arrival(0.3), {at("a", 0.5), at("b", 0.3)}).stop);
        // Six at the rung: the best two go on, the third stops.
        const QList<SweepRungValue> six{at("a", 0.1), at("b", 0.2), at("c", 0.3),
                                        at("d", 0.4), at("e", 0.5), at("f", 0.25)};
        const EarlyStopDecision second = judgeArrival(rule, "b", arrival(0.2), six);
        QVERIFY(!second.stop);
        const EarlyStopDecision third = judgeArrival(rule, "f", arrival(0.25), six);
        QVERIFY(third.stop);
        QVERIFY2(third.comparison.contains(QStringLiteral("ranks 3rd of 6 runs")), qPrintable(third.comparison));
        QVERIFY2(third.comparison.contains(QStringLiteral("keeps the best 2 (1/3)")), qPrintable(third.comparison));
        // A tie with the best is no worse than it.
        QVERIFY(!judgeArrival(rule, "b", arrival(0.5), {at("a", 0.5), at("b", 0.5)}).stop);
        // The arrival is counted even when the caller's list does not hold it yet.
        QVERIFY(judgeArrival(rule, "z", arrival(0.9), {at("a", 0.5)}).stop);
    }

    void ashaReadsTheModeAndRanksNaNLast()
    {
        // An accuracy: higher is better.
        const EarlyStopRule rule = asha(2, true);
        QVERIFY(!judgeArrival(rule, "b", arrival(0.9), {at("a", 0.5), at("b", 0.9)}).stop);
        QVERIFY(judgeArrival(rule, "b", arrival(0.4), {at("a", 0.5), at("b", 0.4)}).stop);
        // Another run's NaN is below every number: a poor run still beats a diverged one.
        const double nan = std::numeric_limits<double>::quiet_NaN();
        QVERIFY(!judgeArrival(asha(2), "b", arrival(5.0), {at("a", nan), at("b", 5.0)}).stop);
        // A diverged run stops, even alone.
        const EarlyStopDecision diverged = judgeArrival(asha(2), "a", arrival(nan), {at("a", nan)});
        QVERIFY(diverged.stop);
        QVERIFY2(diverged.comparison.contains(QStringLiteral("is not a number")), qPrintable(diverged.comparison));
        QVERIFY(judgeArrival(asha(2), "a", arrival(std::numeric_limits<double>::infinity()), {}).stop);
    }

    void medianStoppingComparesWithTheFinishedRuns()
    {
        const EarlyStopRule rule = median(3);
        // Two finished runs (and a running one, which does not count): it waits for three.
        const QList<SweepRungValue> two{at("a", 0.2, RunStatus::Succeeded), at("b", 0.4, RunStatus::Succeeded),
                                        at("c", 0.1, RunStatus::Running)};
        const EarlyStopDecision waiting = judgeArrival(rule, "x", arrival(0.9), two);
        QVERIFY(!waiting.stop);
        QVERIFY2(waiting.comparison.contains(QStringLiteral("2 finished runs reached rung 1 (step 10); median stopping "
                                                            "waits for 3")),
                 qPrintable(waiting.comparison));
        // Four finished runs: the median is (0.2 + 0.4) / 2 = 0.3.
        const QList<SweepRungValue> four{at("a", 0.1, RunStatus::Succeeded), at("b", 0.2, RunStatus::Succeeded),
                                         at("c", 0.4, RunStatus::Succeeded), at("d", 0.8, RunStatus::Succeeded)};
        const EarlyStopDecision worse = judgeArrival(rule, "x", arrival(0.35), four);
        QVERIFY(worse.stop);
        QCOMPARE(
            worse.comparison,
            QStringLiteral("loss 0.35 at step 12 is worse than the median 0.3 of 4 finished runs at rung 1 (step 10)"));
        QVERIFY(!judgeArrival(rule, "x", arrival(0.3), four).stop);
        QVERIFY(!judgeArrival(rule, "x", arrival(0.25), four).stop);
        // Runs stopped early are not finished runs: they would drag the median down.
        QList<SweepRungValue> stopped = two;
        stopped << at("d", 5.0, RunStatus::StoppedEarly);
        QVERIFY(!judgeArrival(rule, "x", arrival(0.9), stopped).stop);
    }

    void decisionsSayWhereAndWhy()
    {
        const EarlyStopDecision decision =
            judgeArrival(asha(2), "b", RungArrival{1, 30, 31, 0.8}, {at("a", 0.5), at("b", 0.8)});
        QVERIFY(decision.stop);
        QCOMPARE(decision.message(),
                 QStringLiteral("stopped early at rung 2 of 2 (step 30): loss 0.8 at step 31 ranks "
                                "2nd of 2 runs at rung 2 (step 30); ASHA keeps the best 1 (1/2)"));
        const QJsonObject json = decision.toJson();
        QCOMPARE(json.value("method").toString(), QStringLiteral("asha"));
        QCOMPARE(json.value("rung").toInt(), 2);
        QCOMPARE(json.value("rungs").toInt(), 2);
        QCOMPARE(json.value("rung_step").toInt(), 30);
        QCOMPARE(json.value("step").toInt(), 31);
        QCOMPARE(json.value("value").toDouble(), 0.8);
    }

    // The report's part: runs stopped, rung counts, the hours saved at each run's own pace to the full length, and the
    // notes for a rung past the runs' length and for a metric no run logged.
    void theReportCountsWhatStoppingSaved()
    {
        EarlyStopRule rule = asha(2);
        rule.rungs = {10, 30, 500};
        const auto run = [](const QString &id, RunStatus status, const QString &summary = {}) {
            RunRecord record;
            record.id = id;
            record.name = id + QStringLiteral("-name");
            record.status = status;
            record.exitSummary = summary;
            return record;
        };
        const QString stoppedAt1 = QStringLiteral(
            R"({"stopped_early":{"method":"asha","rung":1,"rungs":3,"rung_step":10,"step":12,"value":2.5,)"
            R"("comparison":"loss 2.5 at step 12 ranks 2nd of 2 runs"}})");
        const QList<RunRecord> runs{run("a", RunStatus::Succeeded), run("b", RunStatus::StoppedEarly, stoppedAt1),
                                    run("c", RunStatus::Running)};
        const QList<SweepRungValue> rungs{at("a", 0.5), at("b", 2.5), {"a", 1, 30, 0.3, RunStatus::Succeeded}};
        // a made 100 steps; b was stopped after 25 steps in 0.5 hours on 2 GPUs: 2 hours at full length.
        const QList<SweepRunCost> costs{{"a", 2, 7'200'000, 99}, {"b", 2, 1'800'000, 24}, {"c", 0, 0, std::nullopt}};
        const EarlyStoppingReport report = earlyStoppingReport(rule, runs, rungs, costs);
        QCOMPARE(report.rule, QStringLiteral("ASHA on loss (min) at steps 10, 30, 500, keeping 1/2"));
        QCOMPARE(report.fullLength, std::optional<std::int64_t>(100));
        QCOMPARE(report.fullLengthFrom, QStringLiteral("the longest run that finished"));
        QCOMPARE(report.rungs.size(), 3);
        QCOMPARE(report.rungs[0].reached, 2);
        QCOMPARE(report.rungs[0].stoppedThere, 1);
        QCOMPARE(report.rungs[1].reached, 1);
        QCOMPARE(report.stopped.size(), 1);
        const StoppedEarlyRun &stopped = report.stopped.first();
        QCOMPARE(stopped.runId, QStringLiteral("b"));
        QCOMPARE(stopped.rung, 1);
        QCOMPARE(stopped.value, 2.5);
        QCOMPARE(stopped.stepsDone, std::int64_t(25));
        QCOMPARE(stopped.hoursUsed, 0.5);
        QCOMPARE(stopped.hoursAtFullLength.value(), 2.0);
        QCOMPARE(report.hoursSaved, 1.5);
        QCOMPARE(report.gpuHoursSaved, 3.0);
        QCOMPARE(report.gpuHoursUsed, 1.0);
        // Rung 3 (step 500) is past the runs' 100 steps: nothing can be judged there.
        QCOMPARE(report.notes.size(), 1);
        QVERIFY2(
            report.notes.first().startsWith(QStringLiteral("rung 3 (step 500) is past the runs' length (100 steps")),
            qPrintable(report.notes.first()));
        // With max_step the length is the rule's.
        rule.maxStep = 1000;
        QCOMPARE(earlyStoppingReport(rule, runs, rungs, costs).fullLength, std::optional<std::int64_t>(1000));
        QVERIFY(earlyStoppingReport(rule, runs, rungs, costs).notes.isEmpty());
        // No run logged the metric: early stopping judged nothing, and the report says so.
        const EarlyStoppingReport silent =
            earlyStoppingReport(rule, {run("a", RunStatus::Succeeded)}, {}, {{"a", 0, 1000, std::nullopt}});
        QCOMPARE(silent.notes,
                 QStringList{QStringLiteral("no run of the sweep logged 'loss', so early stopping has "
                                            "judged no run")});
        // Stopped runs but none finished and no max_step: the saving is not known yet.
        rule.maxStep.reset();
        const EarlyStoppingReport unknown = earlyStoppingReport(rule, {run("b", RunStatus::StoppedEarly, stoppedAt1)},
                                                                {at("b", 2.5)}, {{"b", 1, 1000, 24}});
        QVERIFY(!unknown.fullLength);
        QVERIFY(!unknown.stopped.first().hoursAtFullLength);
        QVERIFY2(unknown.notes.first().contains(QStringLiteral("hours saved are not known")),
                 qPrintable(unknown.notes.join('\n')));
    }

    void theWatcherReachesEachRungOnce()
    {
        RungWatcher watcher(QStringLiteral("val/loss"), {10, 30, 90});
        QVERIFY(watcher.observe("loss", 50, 1.0).isEmpty()); // another key
        QVERIFY(watcher.observe("val/loss", 9, 1.0).isEmpty());
        QCOMPARE(watcher.observe("val/loss", 10, 0.5), (QList<RungArrival>{{0, 10, 10, 0.5}}));
        QVERIFY(watcher.observe("val/loss", 11, 0.4).isEmpty());
        // Logged every 100 steps: one point passes two rungs, each reached with that value.
        QCOMPARE(watcher.observe("val/loss", 100, 0.2), (QList<RungArrival>{{1, 30, 100, 0.2}, {2, 90, 100, 0.2}}));
        QVERIFY(watcher.observe("val/loss", 200, 0.1).isEmpty());
        // A restart logs the early steps again: nothing is reached twice.
        QVERIFY(watcher.observe("val/loss", 10, 0.5).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestEarlyStopping)
#include "tst_earlystopping.moc"
