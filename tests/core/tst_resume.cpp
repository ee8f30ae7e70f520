// Resuming (issue 19, points 3 to 5): what a failed attempt logged past the checkpoint the restart resumed from is
// superseded, kept apart from the run's series; forks name a run's checkpoint at a step (RUN@STEP), which must still
// be there; `{checkpoint}` reaches the program's arguments only when there is one; the checkpoints children started
// from are kept by retention; a run's disk use counts its folder and its checkpoint folder.
#include "ingest/checkpointretention.h"
#include "ingest/metricingester.h"
#include "runfolder/runfolder.h"
#include "spec/runparams.h"
#include "spec/runspec.h"
#include "spec/specedit.h"
#include "store/checkpoints.h"
#include "store/metricqueries.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/supersededpoints.h"
#include "support/testworkspace.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

using namespace trainyard;

namespace {

QList<std::int64_t> stepsOf(const QList<MetricPoint> &points)
{
    QList<std::int64_t> steps;
    for (const MetricPoint &point : points)
        steps << point.step;
    return steps;
}

QList<std::int64_t> range(std::int64_t from, std::int64_t to)
{
    QList<std::int64_t> steps;
    for (std::int64_t step = from; step <= to; ++step)
        steps << step;
    return steps;
}

void appendText(const QString &path, const QByteArray &text)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Append));
    file.write(text);
}

QByteArray metricLines(std::int64_t from, std::int64_t to, double value, std::int64_t tsMs)
{
    QByteArray lines;
    for (std::int64_t step = from; step <= to; ++step)
        lines += QStringLiteral("{\"step\":%1,\"ts\":%2,\"loss\":%3}\n")
                     .arg(step)
                     .arg(double(tsMs) / 1000.0, 0, 'f', 3)
                     .arg(value)
                     .toUtf8();
    return lines;
}

} // namespace

class TestResume : public QObject {
    Q_OBJECT

private slots:
    void supersededPointsLeaveTheSeriesAndAreKeptApart()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("restarted"), RunStatus::Running);
        const std::int64_t start = 1'700'000'000'000;
        // Attempt 1 logged steps 0..69 (its tail, 60..69, at 1.0); the checkpoint it left is at step 59.
        std::vector<std::int64_t> steps;
        std::vector<double> values;
        for (int step = 0; step < 70; ++step) {
            steps.push_back(step);
            values.push_back(step < 60 ? 0.5 : 1.0);
        }
        QVERIFY(workspace.addPoints(runId, QStringLiteral("loss"), steps, values, start));
        QVERIFY(workspace.addPoints(runId, QStringLiteral("rank1/loss"), steps, values, start));
        QVERIFY(workspace.addPoints(runId, QStringLiteral("sys/rank0/cpu_percent"), steps, values, start));
        // A point logged after the marker's time (the new attempt's, through the MLflow API) stays where it is.
        QVERIFY(workspace.addPoints(runId, QStringLiteral("eval/acc"), {65, 80}, {0.1, 0.9}, start + 1000 * 1000));

        SupersedeRequest request;
        request.runId = runId;
        request.resumeStep = 59;
        request.beforeMs = start + 500 * 1000;
        request.attempt = 0;
        request.keyFilter = [](const QString &key) { return metricKeyOfRank(key, 0); };
        auto moved = workspace.writer()
                         .submit<std::int64_t>([request](SqliteConnection &c) { return supersedePoints(c, request); })
                         .get();
        QVERIFY2(moved, moved ? "" : qPrintable(moved.error()));
        QCOMPARE(moved.value(), std::int64_t(10)); // loss 60..69 alone

        auto connection = workspace.workspace().database().connect();
        QVERIFY(connection);
        auto loss = metricqueries::series(connection.value(), runId, QStringLiteral("loss"));
        QVERIFY(loss);
        QCOMPARE(stepsOf(*loss), range(0, 59));
        auto tail = metricqueries::series(connection.value(), runId, QStringLiteral("superseded/attempt1/loss"));
        QVERIFY(tail);
        QCOMPARE(stepsOf(*tail), range(60, 69));
        QCOMPARE(tail->first().value, 1.0);
        QCOMPARE(tail->first().tsMs.value_or(0), start + 60 * 1000);
        // Other ranks' keys (their own marker moves them), telemetry, and later points are left alone.
        QCOMPARE(metricqueries::series(connection.value(), runId, QStringLiteral("rank1/loss"))->size(), 70);
        QCOMPARE(metricqueries::series(connection.value(), runId, QStringLiteral("sys/rank0/cpu_percent"))->size(), 70);
        QCOMPARE(metricqueries::series(connection.value(), runId, QStringLiteral("eval/acc"))->size(), 2);

        // The run's summaries follow the series it followed; the superseded key is listed apart.
        auto runs = runqueries::listRuns(connection.value());
        QVERIFY(runs);
        const RunRecord &run = runs->first();
        QCOMPARE(run.metrics.value(QStringLiteral("loss")).count, std::int64_t(60));
        QCOMPARE(run.metrics.value(QStringLiteral("loss")).last, 0.5);
        QVERIFY(!run.metrics.contains(QStringLiteral("superseded/attempt1/loss")));
        QCOMPARE(run.supersededKeys, QStringList{QStringLiteral("superseded/attempt1/loss")});
        auto summaries = metricqueries::keySummaries(connection.value(), runId);
        QVERIFY(summaries);
        for (const MetricKeySummary &summary : *summaries)
            QVERIFY(!summary.key.startsWith(QLatin1String("superseded/")));

        QCOMPARE(parseSupersededKeyName(QStringLiteral("superseded/attempt1/loss"))->first, QStringLiteral("loss"));
        QCOMPARE(parseSupersededKeyName(QStringLiteral("superseded/attempt3/eval/acc"))->second, 2);
        QVERIFY(!parseSupersededKeyName(QStringLiteral("superseded/loss")));
        QVERIFY(!parseSupersededKeyName(QStringLiteral("loss")));
    }

    void theResumeMarkerSplitsAttemptsInTheMetricsFile()
    {
        // A 2-rank run's files as a restart leaves them: attempt 1 to step 69 (rank 0 cut mid-line), the supervisor's
        // marker (resuming from step 59), then attempt 2 from step 60.
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("marked"), RunStatus::Running);
        const QString runDir = workspace.workspace().runDir(runId);
        QVERIFY(QDir().mkpath(runDir));
        const std::int64_t start = 1'700'000'000'000;
        appendText(runDir + QStringLiteral("/metrics.rank0.jsonl"),
                   metricLines(0, 69, 1.0, start) + QByteArray("{\"step\":70,\"lo"));
        appendText(runDir + QStringLiteral("/metrics.rank1.jsonl"),
                   QByteArray("{\"step\":69,\"ts\":1700000069.000,\"perf/rank1/step_time_ms\":5}\n"));
        MetricIngester ingester(runId, runDir, workspace.writer());
        QVERIFY(ingester.poll());
        QVERIFY(ingester.waitForWrites());
        QCOMPARE(ingester.stats().latestStep, std::int64_t(69));
        const std::int64_t markerMs = start + 100 * 1000;
        // As the supervisor writes it: on a line of its own even after a cut line.
        appendText(runDir + QStringLiteral("/metrics.rank0.jsonl"), "\n" + resumeMarkerLine(1, 59, markerMs));
        appendText(runDir + QStringLiteral("/metrics.rank1.jsonl"), resumeMarkerLine(1, 59, markerMs));
        appendText(runDir + QStringLiteral("/metrics.rank0.jsonl"), metricLines(60, 99, 0.25, markerMs + 1000));
        appendText(runDir + QStringLiteral("/metrics.rank1.jsonl"),
                   QByteArray("{\"step\":99,\"ts\":1700000200.000,\"perf/rank1/step_time_ms\":4}\n"));
        QVERIFY(ingester.poll(true));
        QVERIFY(ingester.waitForWrites());
        QCOMPARE(ingester.stats().latestStep, std::int64_t(99));
        QCOMPARE(ingester.stats().malformedLines, std::int64_t(1)); // the cut line, not the marker

        auto connection = workspace.workspace().database().connect();
        QVERIFY(connection);
        auto loss = metricqueries::series(connection.value(), runId, QStringLiteral("loss"));
        QVERIFY(loss);
        QCOMPARE(stepsOf(*loss), range(0, 99)); // no gap, no duplicate
        QCOMPARE(loss->at(60).value, 0.25);     // attempt 2's
        QCOMPARE(stepsOf(*metricqueries::series(connection.value(), runId, QStringLiteral("superseded/attempt1/loss"))),
                 range(60, 69));
        // Rank 1's step timing at 69 was past 59 too: its own marker moved it.
        QCOMPARE(stepsOf(*metricqueries::series(connection.value(), runId,
                                                QStringLiteral("superseded/attempt1/perf/rank1/step_time_ms"))),
                 QList<std::int64_t>{69});
        QCOMPARE(stepsOf(*metricqueries::series(connection.value(), runId, QStringLiteral("perf/rank1/step_time_ms"))),
                 QList<std::int64_t>{99});

        // Ingested again from nothing (a crashed Trainyard's catch-up), the same result.
        test::TestWorkspace again;
        const QString copyId = again.addRun(QStringLiteral("again"), RunStatus::Running);
        const QString copyDir = again.workspace().runDir(copyId);
        QVERIFY(QDir().mkpath(copyDir));
        for (const QString &name : {QStringLiteral("metrics.rank0.jsonl"), QStringLiteral("metrics.rank1.jsonl")})
            QVERIFY(QFile::copy(runDir + QLatin1Char('/') + name, copyDir + QLatin1Char('/') + name));
        MetricIngester replay(copyId, copyDir, again.writer());
        QVERIFY(replay.poll(true));
        QVERIFY(replay.waitForWrites());
        auto replayed = again.workspace().database().connect();
        QCOMPARE(stepsOf(*metricqueries::series(replayed.value(), copyId, QStringLiteral("loss"))), range(0, 99));
        QCOMPARE(stepsOf(*metricqueries::series(replayed.value(), copyId, QStringLiteral("superseded/attempt1/loss"))),
                 range(60, 69));

        // A restart with no checkpoint starts from the beginning: everything before the marker is superseded.
        QCOMPARE(resumeMarkerLine(2, std::nullopt, 5),
                 QByteArray("{\"trainyard_resume\":{\"at_ms\":5,\"attempt\":2,"
                            "\"step\":null}}\n"));
        QVERIFY(metricKeyOfRank(QStringLiteral("loss"), 0));
        QVERIFY(metricKeyOfRank(QStringLiteral("perf/rank0/step_time_ms"), 0));
        QVERIFY(!metricKeyOfRank(QStringLiteral("perf/rank1/step_time_ms"), 0));
        QVERIFY(metricKeyOfRank(QStringLiteral("rank12/loss"), 12));
        QVERIFY(!metricKeyOfRank(QStringLiteral("rank12/loss"), 1));
        QVERIFY(!metricKeyOfRank(QStringLiteral("sys/gpu0/utilization_percent"), 0));
        QVERIFY(metricKeyOfRank(QStringLiteral("rankings/top1"), 0)); // a name, not a rank prefix
    }

    void theCheckpointPlaceholderIsLeftOutWhenNotResuming()
    {
        const QStringList templated{
            QStringLiteral("train.py"), QStringLiteral("--lr=0.1"),     QStringLiteral("--resume={checkpoint}"),
            QStringLiteral("--init"),   QStringLiteral("{checkpoint}"), QStringLiteral("--tag=x")};
        QCOMPARE(
            applyCheckpointArguments(templated, QStringLiteral("/ck/step_40.pt")),
            (QStringList{"train.py", "--lr=0.1", "--resume=/ck/step_40.pt", "--init", "/ck/step_40.pt", "--tag=x"}));
        // Not resuming: the item goes, and a lone placeholder takes its flag with it.
        QCOMPARE(applyCheckpointArguments(templated, QString()), (QStringList{"train.py", "--lr=0.1", "--tag=x"}));
        // In a spec, {checkpoint} is known to param_passing.args (not a param), and resolveParams keeps it.
        auto spec = parseRunSpec("command: [python3, train.py]\nparams: {lr: 0.1}\n"
                                 "param_passing: {args: ['--lr={lr}', '--resume={checkpoint}']}\n",
                                 QStringLiteral("spec.yaml"), QDir::tempPath());
        QVERIFY2(spec, spec ? "" : qPrintable(spec.error()));
        auto resolved = resolveParams(spec->params, spec->paramPassing, QDir::tempPath());
        QVERIFY(resolved);
        QCOMPARE(resolved->extraArguments, (QStringList{"--lr=0.1", "--resume={checkpoint}"}));
        auto unknown = parseRunSpec("command: [python3, train.py]\nparam_passing: {args: ['--x={nope}']}\n",
                                    QStringLiteral("spec.yaml"), QDir::tempPath());
        QVERIFY(!unknown);
        QVERIFY2(unknown.error().contains(QStringLiteral("'{nope}'")), qPrintable(unknown.error()));
    }

    void aForkNamesARunAndAStep()
    {
        QCOMPARE(parseResumePoint(QStringLiteral("20261203-120000-abcdef@40"))->step, std::int64_t(40));
        QCOMPARE(parseResumePoint(QStringLiteral("my@run@7"))->runId, QStringLiteral("my@run"));
        for (const char *bad : {"run", "run@", "@40", "run@-1", "run@forty"}) {
            auto parsed = parseResumePoint(QString::fromLatin1(bad));
            QVERIFY2(!parsed, bad);
            QVERIFY2(parsed.error().contains(QString::fromLatin1(bad)), qPrintable(parsed.error()));
        }
        // In a spec: `resume_from: RUN@STEP` or {run, step}; a bad one names its line.
        auto short_ = parseRunSpec("command: [x]\nresume_from: abc@40\n", QStringLiteral("s.yaml"), QDir::tempPath());
        QVERIFY(short_ && short_->resumeFrom);
        QCOMPARE(*short_->resumeFrom, (ResumePoint{QStringLiteral("abc"), 40}));
        auto mapped = parseRunSpec("command: [x]\nresume_from: {run: abc, step: 60}\n", QStringLiteral("s.yaml"),
                                   QDir::tempPath());
        QVERIFY(mapped && mapped->resumeFrom);
        QCOMPARE(mapped->resumeFrom->step, std::int64_t(60));
        auto bad = parseRunSpec("command: [x]\nresume_from: abc\n", QStringLiteral("s.yaml"), QDir::tempPath());
        QVERIFY(!bad);
        QVERIFY2(bad.error().startsWith(QStringLiteral("s.yaml:2:")), qPrintable(bad.error()));

        // A fork of a resolved spec: resume_from set, params changed with their types kept, the name given.
        const QByteArray parent = "name: base\ncommand: [python3, train.py]\n"
                                  "params:\n  lr: {type: float, value: 0.003}\n  layers: 4\n";
        auto forked = forkSpec(parent, ResumePoint{QStringLiteral("abc"), 40}, {QStringLiteral("lr=0.0005")},
                               QStringLiteral("base@40"));
        QVERIFY2(forked, forked ? "" : qPrintable(forked.error()));
        auto child = parseRunSpec(*forked, QStringLiteral("forked"), QDir::tempPath());
        QVERIFY2(child, child ? "" : qPrintable(child.error()));
        QCOMPARE(child->name, QStringLiteral("base@40"));
        QCOMPARE(*child->resumeFrom, (ResumePoint{QStringLiteral("abc"), 40}));
        QCOMPARE(child->params.at(0).value, QStringLiteral("0.0005"));
        QCOMPARE(child->params.at(0).type, ParamType::Float);
        auto parentSpec = parseRunSpec(parent, QStringLiteral("parent"), QDir::tempPath());
        QVERIFY(changedFields(*parentSpec, *child).contains(QStringLiteral("resume_from")));
        // A param the spec does not have, and a value its type refuses.
        auto missing = forkSpec(parent, ResumePoint{QStringLiteral("abc"), 40}, {QStringLiteral("dropout=0.1")});
        QVERIFY(!missing);
        QCOMPARE(missing.error(), QStringLiteral("the spec has no param 'dropout' (its params: lr, layers)"));
        auto typed = withParamValues(parent, {QStringLiteral("layers=four")});
        QVERIFY(typed);
        auto refused = parseRunSpec(*typed, QStringLiteral("changed"), QDir::tempPath());
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("'params.layers' must be of type int (got 'four')")),
                 qPrintable(refused.error()));
    }

    void aForkNeedsItsCheckpointStillThere()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("parent"), RunStatus::Succeeded);
        QTemporaryDir folder;
        const QString kept = folder.filePath(QStringLiteral("step_40.pt"));
        QFile file(kept);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("weights");
        file.close();
        const QString gone = folder.filePath(QStringLiteral("step_60.pt"));
        for (const auto &[path, step] : {std::pair{kept, 40}, std::pair{gone, 60}})
            QVERIFY(workspace.writer()
                        .submit<void>([runId, path, step](SqliteConnection &c) {
                            return checkpoints::record(
                                c, CheckpointRecord{runId, path, step, 7, 1000, QStringLiteral("client"), 0, {}});
                        })
                        .get());
        auto connection = workspace.workspace().database().connect();
        QVERIFY(connection);
        auto found = checkpoints::resumableAt(connection.value(), runId, 40);
        QVERIFY2(found, found ? "" : qPrintable(found.error()));
        QCOMPARE(found->path, kept);
        auto missing = checkpoints::resumableAt(connection.value(), runId, 50);
        QVERIFY(!missing);
        QCOMPARE(missing.error(),
                 QStringLiteral("run %1 has no checkpoint at step 50 (its checkpoints are at steps 40, "
                                "60)")
                     .arg(runId));
        auto deleted = checkpoints::resumableAt(connection.value(), runId, 60);
        QVERIFY(!deleted);
        QCOMPARE(deleted.error(),
                 QStringLiteral("the checkpoint of run %1 at step 60, %2, no longer exists (deleted by "
                                "retention or by hand)")
                     .arg(runId, gone));
        auto noRun = checkpoints::resumableAt(connection.value(), QStringLiteral("nope"), 40);
        QVERIFY(!noRun);
        QVERIFY(noRun.error().startsWith(QStringLiteral("run nope is not in this workspace")));
    }

    void retentionKeepsWhatAChildStartedFrom()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString parent = workspace.addRun(QStringLiteral("parent"), RunStatus::Succeeded);
        NewRun childRow;
        childRow.name = QStringLiteral("child");
        childRow.parentRunId = parent;
        childRow.parentStep = 9;
        auto child = workspace.writer().createRun(childRow).get();
        QVERIFY(child);
        QList<CheckpointRecord> saved;
        for (int step = 1; step <= 30; ++step)
            saved << CheckpointRecord{parent, QStringLiteral("/ck/step_%1.pt").arg(step), step, 100, step, {}, -1, {}};
        auto connection = workspace.workspace().database().connect();
        QVERIFY(connection);
        auto protectedPaths = checkpoints::pathsChildrenStartedFrom(connection.value(), parent, saved);
        QVERIFY(protectedPaths);
        QCOMPARE(*protectedPaths, QSet<QString>{QStringLiteral("/ck/step_9.pt")});
        CheckpointRetention rule;
        rule.keepLast = 2;
        const RetentionPlan plan = retention::plan(saved, rule, {}, *protectedPaths);
        QStringList keep;
        for (const CheckpointRecord &record : plan.keep)
            keep << record.path;
        QCOMPARE(keep, (QStringList{"/ck/step_9.pt", "/ck/step_29.pt", "/ck/step_30.pt"}));
        auto children = checkpoints::children(connection.value(), parent);
        QVERIFY(children);
        QCOMPARE(children->values(9), QStringList{child.value()});
        // The child's row names its parent.
        auto runs = runqueries::listRuns(connection.value());
        QVERIFY(runs);
        for (const RunRecord &run : *runs)
            if (run.id == child.value()) {
                QCOMPARE(run.parentRunId, parent);
                QCOMPARE(run.parentStep.value_or(-1), std::int64_t(9));
            }
    }

    void diskUseCountsTheRunFolderAndItsCheckpoints()
    {
        QTemporaryDir root;
        const QString runDir = root.filePath(QStringLiteral("run"));
        const QString outside = root.filePath(QStringLiteral("ckpt"));
        QVERIFY(QDir().mkpath(runDir + QStringLiteral("/artifacts")) && QDir().mkpath(outside));
        const auto write = [](const QString &path, qsizetype bytes) {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QByteArray(bytes, 'x'));
        };
        write(runDir + QStringLiteral("/metrics.rank0.jsonl"), 8192);
        write(runDir + QStringLiteral("/artifacts/model.bin"), 65536);
        write(outside + QStringLiteral("/step_1.pt"), 131072);
        // A hard link is the same data: counted once. A symbolic link is not followed.
        QVERIFY(::link(QFile::encodeName(outside + QStringLiteral("/step_1.pt")).constData(),
                       QFile::encodeName(runDir + QStringLiteral("/artifacts/same.pt")).constData())
                == 0);
        QVERIFY(QFile::link(outside, runDir + QStringLiteral("/linked")));
        const RunDiskUse use = measureRunDiskUse(runDir, outside);
        QCOMPARE(use.checkpointBytes, std::int64_t(131072));
        QVERIFY2(use.runFolderBytes >= 8192 + 65536 && use.runFolderBytes < 8192 + 65536 + 65536,
                 qPrintable(QString::number(use.runFolderBytes)));
        QCOMPARE(use.total(), use.runFolderBytes + use.checkpointBytes);
        // The default checkpoint folder lies inside the run folder: counted as checkpoints, once.
        QVERIFY(QDir().mkpath(runDir + QStringLiteral("/checkpoints")));
        write(runDir + QStringLiteral("/checkpoints/step_2.pt"), 16384);
        const RunDiskUse inside = measureRunDiskUse(runDir, runDir + QStringLiteral("/checkpoints"));
        QCOMPARE(inside.checkpointBytes, std::int64_t(16384));
        QVERIFY(inside.runFolderBytes >= 8192 + 65536 + 131072); // the hard link's data, now first seen here
    }
};

QTEST_GUILESS_MAIN(TestResume)
#include "tst_resume.moc"
