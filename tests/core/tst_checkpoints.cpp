// Checkpoints (issue 19, points 1 and 2): steps read from the names PyTorch scripts, Hugging Face Trainer and Lightning
// give checkpoints; a checkpoint recorded only once it is whole (settled, a torch.save zip with its end record, a
// Trainer folder with its trainer_state.json), never while a save is under way; what the client declares, with its
// metrics; the store's rows and the run's metrics at each step; the spec's `checkpoints:` section.
#include "ingest/checkpointretention.h"
#include "ingest/checkpointwatcher.h"
#include "spec/runspec.h"
#include "store/checkpoints.h"
#include "store/sqlite.h"
#include "store/workspaceimport.h"
#include "support/testworkspace.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

using namespace trainyard;

namespace {

void writeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

// A whole zip as torch.save writes it: a local file header first, the end-of-central-directory record last.
QByteArray zipLike(int payload)
{
    return QByteArrayLiteral("PK\x03\x04") + QByteArray(payload, 'w') + QByteArrayLiteral("PK\x05\x06")
        + QByteArray(18, '\0');
}

QStringList paths(const QList<CheckpointRecord> &records)
{
    QStringList names;
    for (const CheckpointRecord &record : records)
        names << QFileInfo(record.path).fileName();
    names.sort();
    return names;
}

} // namespace

class TestCheckpoints : public QObject {
    Q_OBJECT

private slots:
    void stepsFromTheNamesToolsGive_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<qint64>("step"); // -1: none
        QTest::newRow("plain PyTorch") << "step_1200.pt" << qint64(1200);
        QTest::newRow("Hugging Face Trainer") << "checkpoint-1200" << qint64(1200);
        QTest::newRow("Lightning") << "epoch=3-step=1200.ckpt" << qint64(1200);
        QTest::newRow("global step") << "global_step1200" << qint64(1200);
        QTest::newRow("a trailing number") << "model_1200.pt" << qint64(1200);
        QTest::newRow("ckpt-N") << "ckpt-1200.safetensors" << qint64(1200);
        QTest::newRow("no step") << "last.ckpt" << qint64(-1);
        QTest::newRow("an epoch only") << "epoch=3.ckpt" << qint64(-1);
        QTest::newRow("best model") << "best_model.pt" << qint64(-1);
    }
    void stepsFromTheNamesToolsGive()
    {
        QFETCH(QString, name);
        QFETCH(qint64, step);
        const auto found = CheckpointWatcher::stepFromName(name);
        QCOMPARE(found.has_value() ? qint64(*found) : qint64(-1), step);
    }

    void savesUnderWayAreNeverCheckpoints()
    {
        QVERIFY(CheckpointWatcher::isCandidateName(QStringLiteral("step_10.pt")));
        for (const char *name :
             {".step_10.pt", "step_10.pt.tmp", "step_10.pt.partial", "checkpoint-10.incomplete", "step_10.tmp.pt"})
            QVERIFY2(!CheckpointWatcher::isCandidateName(QLatin1String(name)), name);
        QTemporaryDir dir;
        // A torch.save zip cut short (disk full, a kill) has no end record.
        writeFile(dir.filePath("whole.pt"), zipLike(1000));
        writeFile(dir.filePath("cut.pt"), zipLike(1000).left(600));
        QVERIFY(CheckpointWatcher::looksWhole(dir.filePath("whole.pt")));
        QVERIFY(!CheckpointWatcher::looksWhole(dir.filePath("cut.pt")));
        QVERIFY(!CheckpointWatcher::looksWhole(dir.filePath("missing.pt")));
        writeFile(dir.filePath("empty.pt"), {});
        QVERIFY(!CheckpointWatcher::looksWhole(dir.filePath("empty.pt")));
        // A Hugging Face Trainer folder is whole with its trainer_state.json, and not while a file in it is a save
        // under way.
        writeFile(dir.filePath("checkpoint-20/model.safetensors"), "weights");
        QVERIFY(!CheckpointWatcher::looksWhole(dir.filePath("checkpoint-20")));
        writeFile(dir.filePath("checkpoint-20/trainer_state.json"), "{}");
        QVERIFY(CheckpointWatcher::looksWhole(dir.filePath("checkpoint-20")));
        writeFile(dir.filePath("checkpoint-20/optimizer.pt.tmp"), "...");
        QVERIFY(!CheckpointWatcher::looksWhole(dir.filePath("checkpoint-20")));
    }

    void theFolderWatchRecordsACheckpointOnceItIsWhole()
    {
        QTemporaryDir run;
        const QString folder = run.filePath("checkpoints");
        CheckpointWatcher watcher(QStringLiteral("r1"), run.path(), folder, 2000);
        QVERIFY(watcher.poll(0).isEmpty()); // no folder yet: nothing, no error

        writeFile(folder + "/step_10.pt", zipLike(100));
        writeFile(folder + "/step_20.pt.tmp", zipLike(10));       // a save under way
        writeFile(folder + "/step_30.pt", zipLike(100).left(50)); // cut short
        QVERIFY(watcher.poll(1000).found.isEmpty());              // first seen: not settled yet
        QVERIFY(watcher.poll(2500).found.isEmpty());              // 1.5 s unchanged: still not
        auto changes = watcher.poll(3000);                        // 2 s unchanged
        QCOMPARE(paths(changes.found), QStringList{"step_10.pt"});
        QCOMPARE(changes.found[0].step, std::optional<std::int64_t>(10));
        QCOMPARE(changes.found[0].source, QStringLiteral("folder"));
        QCOMPARE(changes.found[0].bytes, std::int64_t(zipLike(100).size()));
        QVERIFY(watcher.poll(9000).isEmpty()); // recorded once

        // The save finishes with a rename; a file that grows waits until it stops.
        QVERIFY(QFile::rename(folder + "/step_20.pt.tmp", folder + "/step_20.pt"));
        writeFile(folder + "/last.ckpt", zipLike(10));
        QVERIFY(watcher.poll(10000).found.isEmpty());
        writeFile(folder + "/last.ckpt", zipLike(20)); // saved again meanwhile
        QVERIFY(watcher.poll(11000).found.isEmpty());
        QCOMPARE(paths(watcher.poll(12100).found), (QStringList{"step_20.pt"}));
        changes = watcher.poll(13100);
        QCOMPARE(paths(changes.found), QStringList{"last.ckpt"});
        QVERIFY(!changes.found[0].step.has_value()); // listed with no step

        // At the end nothing is being written: whole files are taken at once, a cut one never.
        writeFile(folder + "/step_40.pt", zipLike(100));
        QCOMPARE(paths(watcher.poll(13200, true).found), QStringList{"step_40.pt"});

        // A checkpoint deleted (by the script) is reported gone.
        QVERIFY(QFile::remove(folder + "/step_10.pt"));
        changes = watcher.poll(14000);
        QCOMPARE(changes.removed, QStringList{QDir::cleanPath(folder + "/step_10.pt")});

        // An MLflow artifact under a checkpoint folder (mlflow.log_artifact(path, "checkpoints") copies it into the
        // run's artifacts/) is a checkpoint too; other artifacts are not.
        writeFile(run.filePath("artifacts/checkpoints/model_70.pt"), zipLike(30));
        writeFile(run.filePath("artifacts/plots/step_70.png"), "png");
        changes = watcher.poll(14100, true);
        QCOMPARE(paths(changes.found), QStringList{"model_70.pt"});
        QCOMPARE(changes.found[0].source, QStringLiteral("mlflow"));
        QCOMPARE(changes.found[0].step, std::optional<std::int64_t>(70));
    }

    void whatTheClientDeclaresIsRecordedWithItsMetrics()
    {
        QTemporaryDir run;
        const QString elsewhere = run.filePath("saved/model-final.bin");
        CheckpointWatcher watcher(QStringLiteral("r1"), run.path(), run.filePath("checkpoints"), 2000);
        // Declared before the file exists (or while it is cut): waits for it.
        writeFile(run.filePath("checkpoints.rank0.jsonl"),
                  QJsonDocument(QJsonObject{{"path", elsewhere},
                                            {"step", 500},
                                            {"ts", 1796255440.5},
                                            {"rank", 0},
                                            {"metrics", QJsonObject{{"loss", 0.25}}}})
                          .toJson(QJsonDocument::Compact)
                      + "\n{\"path\": \"half-a-line");
        QVERIFY(watcher.poll(1000).found.isEmpty());
        writeFile(elsewhere, "weights");
        const auto changes = watcher.poll(1100);
        QCOMPARE(changes.found.size(), 1);
        const CheckpointRecord &record = changes.found[0];
        QCOMPARE(record.path, QDir::cleanPath(elsewhere));
        QCOMPARE(record.step, std::optional<std::int64_t>(500));
        QCOMPARE(record.source, QStringLiteral("client"));
        QCOMPARE(record.rank, 0);
        QCOMPARE(record.metrics.value("loss").toDouble(), 0.25);
        QCOMPARE(record.createdMs, std::int64_t(1796255440500));
        QVERIFY(watcher.poll(5000).isEmpty());
    }

    void theStoreKeepsOneRowAPathAndGivesTheMetricsAtEachStep()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("saved"), RunStatus::Running);
        QVERIFY(workspace.addPoints(runId, QStringLiteral("loss"), {0, 10, 20, 30}, {1.0, 0.5, 0.25, 0.125}));
        QVERIFY(workspace.addPoints(runId, QStringLiteral("eval/acc"), {20}, {0.9}));
        QVERIFY(workspace.addPoints(runId, QStringLiteral("sys/rank0/cpu_percent"), {0, 10}, {50, 60}));
        auto connection = workspace.workspace().database().connect();
        QVERIFY(connection);
        const auto write = [&](const CheckpointRecord &record) {
            return workspace.writer()
                .submit<void>([record](SqliteConnection &c) { return checkpoints::record(c, record); })
                .get();
        };
        CheckpointRecord folder{runId, QStringLiteral("/ck/step_15.pt"), 15, 100,
                                1000,  QStringLiteral("folder"),         -1, {}};
        CheckpointRecord named{runId, QStringLiteral("/ck/last.ckpt"), std::nullopt, 50,
                               900,   QStringLiteral("folder"),        -1,           {}};
        CheckpointRecord early{runId, QStringLiteral("/ck/step_5.pt"), 5, 100, 2000, QStringLiteral("folder"), -1, {}};
        QVERIFY(write(folder) && write(named) && write(early));
        // The client says the same path, with metrics: one row, the client's word.
        CheckpointRecord client = folder;
        client.source = QStringLiteral("client");
        client.rank = 0;
        client.metrics = QJsonObject{{"loss", 0.3}};
        client.bytes = 120;
        QVERIFY(write(client));
        auto listed = checkpoints::list(connection.value(), runId);
        QVERIFY(listed);
        QCOMPARE(listed->size(), 3);
        QCOMPARE(listed->at(0).path, QStringLiteral("/ck/step_5.pt")); // by step, those without last
        QCOMPARE(listed->at(1).source, QStringLiteral("client"));
        QCOMPARE(listed->at(1).bytes, std::int64_t(120));
        QCOMPARE(listed->at(1).metrics.value("loss").toDouble(), 0.3);
        QVERIFY(!listed->at(2).step.has_value());

        auto metrics = checkpoints::metricsAtSteps(connection.value(), runId, {5, 15, 25});
        QVERIFY(metrics);
        QCOMPARE(metrics->value(5).value("loss").toDouble(), 1.0); // the last point at or before step 5
        QCOMPARE(metrics->value(15).value("loss").toDouble(), 0.5);
        QVERIFY(!metrics->value(15).contains("eval/acc")); // not logged yet at 15
        QCOMPARE(metrics->value(25).value("eval/acc").toDouble(), 0.9);
        QVERIFY(!metrics->value(25).contains("sys/rank0/cpu_percent")); // telemetry left out

        QVERIFY(
            workspace.writer()
                .submit<void>([runId](SqliteConnection &c) { return checkpoints::forget(c, runId, "/ck/step_5.pt"); })
                .get());
        QCOMPARE(checkpoints::list(connection.value(), runId)->size(), 2);
    }

    void retentionKeepsTheLastAndTheBestAndNothingWithoutAStep()
    {
        // 30 checkpoints, steps 1, 3, ..., 59; loss falls, with two dips: step 21 (0.05) and step 33 (0.04).
        QList<CheckpointRecord> saved;
        for (int i = 0; i < 30; ++i) {
            const int step = 2 * i + 1;
            const double loss = step == 21 ? 0.05 : step == 33 ? 0.04 : 1.0 - i * 0.01;
            saved << CheckpointRecord{QStringLiteral("r"),
                                      QStringLiteral("/ck/step_%1.pt").arg(step),
                                      step,
                                      100,
                                      1000 + i,
                                      QStringLiteral("client"),
                                      0,
                                      QJsonObject{{"loss", loss}}};
        }
        saved << CheckpointRecord{QStringLiteral("r"),
                                  QStringLiteral("/ck/last.ckpt"),
                                  std::nullopt,
                                  100,
                                  5000,
                                  QStringLiteral("folder"),
                                  -1,
                                  {}};
        CheckpointRetention rule;
        rule.keepLast = 3;
        rule.bestMetric = QStringLiteral("loss");
        rule.bestIsMin = true;
        rule.keepBest = 2;
        RetentionPlan plan = retention::plan(saved, rule, {});
        QStringList kept = paths(plan.keep);
        QCOMPARE(kept,
                 (QStringList{"last.ckpt", "step_21.pt", "step_33.pt", "step_55.pt", "step_57.pt", "step_59.pt"}));
        QCOMPARE(plan.remove.size(), 25);
        QCOMPARE(plan.bytesFreed(), std::int64_t(2500));

        // The metric from the run's points when the client gave none; max mode; a protected checkpoint stays.
        for (CheckpointRecord &checkpoint : saved)
            checkpoint.metrics = {};
        QMap<std::int64_t, QJsonObject> accuracy;
        for (int i = 0; i < 30; ++i)
            accuracy[2 * i + 1] = QJsonObject{{"acc", 2 * i + 1 == 7 ? 0.99 : 0.5}};
        rule.keepLast = 1;
        rule.bestMetric = QStringLiteral("acc");
        rule.bestIsMin = false;
        rule.keepBest = 1;
        plan = retention::plan(saved, rule, accuracy, {QStringLiteral("/ck/step_11.pt")});
        QCOMPARE(paths(plan.keep), (QStringList{"last.ckpt", "step_11.pt", "step_59.pt", "step_7.pt"}));

        // keep_last alone; and the newest is kept even by a rule of best ones only.
        CheckpointRetention lastTwo;
        lastTwo.keepLast = 2;
        QCOMPARE(paths(retention::plan(saved, lastTwo, {}).keep),
                 (QStringList{"last.ckpt", "step_57.pt", "step_59.pt"}));
        CheckpointRetention bestOnly;
        bestOnly.bestMetric = QStringLiteral("acc");
        bestOnly.bestIsMin = false;
        bestOnly.keepBest = 1;
        QCOMPARE(paths(retention::plan(saved, bestOnly, accuracy).keep),
                 (QStringList{"last.ckpt", "step_59.pt", "step_7.pt"}));
        // No rule: everything stays.
        QCOMPARE(retention::plan(saved, CheckpointRetention{}, {}).remove.size(), 0);

        // Applying deletes files and folders; a path that cannot be deleted is named.
        QTemporaryDir dir;
        writeFile(dir.filePath("step_1.pt"), "x");
        writeFile(dir.filePath("checkpoint-2/model.bin"), "x");
        RetentionPlan deleting;
        deleting.remove << CheckpointRecord{QStringLiteral("r"), dir.filePath("step_1.pt"), 1, 1, 0, {}, -1, {}}
                        << CheckpointRecord{QStringLiteral("r"), dir.filePath("checkpoint-2"), 2, 1, 0, {}, -1, {}};
        const retention::Deleted done = retention::apply(deleting);
        QCOMPARE(done.paths.size(), 2);
        QVERIFY(done.errors.isEmpty());
        QVERIFY(!QFileInfo::exists(dir.filePath("step_1.pt")) && !QFileInfo::exists(dir.filePath("checkpoint-2")));
    }

    void retentionRulesThatMakeNoSenseAreRefused()
    {
        auto spec =
            parseRunSpec("command: [x]\ncheckpoints: {keep_last: 3, keep_best: {metric: val/loss, mode: min, n: 2}}\n",
                         QStringLiteral("run.yaml"), QStringLiteral("/work"));
        QVERIFY2(spec, spec ? "" : qPrintable(spec.error()));
        QCOMPARE(spec->retention.keepLast, std::optional<int>(3));
        QCOMPARE(spec->retention.bestMetric, QStringLiteral("val/loss"));
        QCOMPARE(spec->retention.keepBest, 2);
        QVERIFY(spec->retention.bestIsMin);
        for (const auto &[yaml, message] :
             {std::pair{"command: [x]\ncheckpoints: {keep_last: 0}\n", "keeps no checkpoint"},
              std::pair{"command: [x]\ncheckpoints: {keep_last: -1}\n", "keep_last"},
              std::pair{"command: [x]\ncheckpoints: {keep_best: {mode: min}}\n", "needs the metric to rank by"},
              std::pair{"command: [x]\ncheckpoints: {keep_best: {metric: loss, mode: lowest}}\n",
                        "must be min or max, not 'lowest'"},
              std::pair{"command: [x]\ncheckpoints: {keep_best: {metric: loss, n: 0}}\n", "keep_best.n"}}) {
            auto bad = parseRunSpec(yaml, QStringLiteral("run.yaml"), QStringLiteral("/work"));
            QVERIFY2(!bad, yaml);
            QVERIFY2(bad.error().contains(QLatin1String(message)), qPrintable(bad.error()));
        }
    }

    // Issue 19, point 6: an export bundle carries the runs' artifacts (and checkpoint rows); an import writes them into
    // the imported runs' folders; --no-artifacts leaves them out and says how many.
    void bundlesCarryArtifactsOrSayWhatTheyLeftOut()
    {
        test::TestWorkspace source;
        QVERIFY(source.isValid());
        const QString runId = source.addRun(QStringLiteral("kept"), RunStatus::Succeeded);
        const QString artifacts = source.workspace().runDir(runId) + QStringLiteral("/artifacts");
        writeFile(artifacts + "/report.txt", "all good\n");
        writeFile(artifacts + "/plots/loss.svg", "<svg/>");
        QVERIFY(source.writer()
                    .submit<void>([runId](SqliteConnection &c) {
                        return checkpoints::record(
                            c, {runId, QStringLiteral("/ck/step_5.pt"), 5, 10, 1, QStringLiteral("folder"), -1, {}});
                    })
                    .get());
        QTemporaryDir scratch;
        auto carried = exportBundle(source.workspace(), scratch.filePath("with.trainyard"));
        QVERIFY2(carried, carried ? "" : qPrintable(carried.error()));
        QCOMPARE(carried->artifacts, std::int64_t(2));
        QCOMPARE(carried->artifactBytes, std::int64_t(15));
        QCOMPARE(carried->leftOut, std::int64_t(0));
        auto bare = exportBundle(source.workspace(), scratch.filePath("without.trainyard"), false);
        QVERIFY(bare);
        QCOMPARE(bare->artifacts, std::int64_t(0));
        QCOMPARE(bare->leftOut, std::int64_t(2));
        QCOMPARE(bare->leftOutBytes, std::int64_t(15));

        test::TestWorkspace lead;
        QVERIFY(lead.isValid());
        auto imported = importWorkspace(lead.workspace(), scratch.filePath("with.trainyard"));
        QVERIFY2(imported, imported ? "" : qPrintable(imported.error()));
        QCOMPARE(imported->runsImported, 1);
        QCOMPARE(imported->artifacts, 2);
        QFile report(lead.workspace().runDir(runId) + QStringLiteral("/artifacts/report.txt"));
        QVERIFY(report.open(QIODevice::ReadOnly));
        QCOMPARE(report.readAll(), QByteArray("all good\n"));
        QVERIFY(QFileInfo::exists(lead.workspace().runDir(runId) + QStringLiteral("/artifacts/plots/loss.svg")));
        auto connection = lead.workspace().database().connect();
        QVERIFY(connection);
        QCOMPARE(checkpoints::list(connection.value(), runId)->size(), 1);

        test::TestWorkspace other;
        auto withoutFiles = importWorkspace(other.workspace(), scratch.filePath("without.trainyard"));
        QVERIFY(withoutFiles);
        QCOMPARE(withoutFiles->artifacts, 0);
        QVERIFY(!QFileInfo::exists(other.workspace().runDir(runId) + QStringLiteral("/artifacts")));
    }

    void theSpecSaysWhereCheckpointsGo()
    {
        auto spec = parseRunSpec("command: [python3, train.py]\ncheckpoints: {dir: 'ckpt/{run_dir}'}\n",
                                 QStringLiteral("run.yaml"), QStringLiteral("/work"));
        QVERIFY2(spec, spec ? "" : qPrintable(spec.error()));
        QCOMPARE(spec->checkpointDir, QStringLiteral("ckpt/{run_dir}"));
        for (const auto &[yaml, message] :
             {std::pair{"command: [x]\ncheckpoints: ckpt\n",
                        "'checkpoints' must be a mapping (dir, keep_last, keep_best)"},
              std::pair{"command: [x]\ncheckpoints: {dir: ''}\n", "'checkpoints.dir' must name a folder"},
              std::pair{"command: [x]\ncheckpoints: {folder: x}\n", "folder"}}) {
            auto bad = parseRunSpec(yaml, QStringLiteral("run.yaml"), QStringLiteral("/work"));
            QVERIFY(!bad);
            QVERIFY2(bad.error().contains(QLatin1String(message)), qPrintable(bad.error()));
            QVERIFY2(bad.error().contains(QStringLiteral("run.yaml:")), qPrintable(bad.error())); // where
        }
    }
};

QTEST_GUILESS_MAIN(TestCheckpoints)
#include "tst_checkpoints.moc"
