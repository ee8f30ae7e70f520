// The local queue end to end, with the real binary: a 12-run sweep on 2 CPU slots, never more than two
// running at once (read from the recorded state changes); the queue surviving a killed scheduler; moving,
// pausing and cancelling queued runs.
#include "launch/supervisorrecord.h"
#include "queue/earlystopping.h"
#include "spec/runspec.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "store/sweepstate.h"
#include "store/workspace.h"
#include "support/testworkspace.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <csignal>

using namespace trainyard;

using Outcome = test::CommandOutcome;

class TestQueue : public QObject {
    Q_OBJECT
private:
    QProcessEnvironment environment() const
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("TRAINYARD_HOME"), m_workspace->path());
        return environment;
    }

    Outcome trainyard(const QStringList &arguments) const { return test::runTrainyard(arguments, environment()); }

    QString writeSpec(const QByteArray &yaml) const
    {
        const QString path = m_workspace->path() + QStringLiteral("/spec.yaml");
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly))
            return {};
        file.write(yaml);
        return path;
    }

    QJsonArray queueList() const
    {
        return QJsonDocument::fromJson(
                   trainyard({QStringLiteral("queue"), QStringLiteral("ls"), QStringLiteral("--json")}).out.toUtf8())
            .array();
    }

    QList<RunRecord> runs() const
    {
        auto workspace = Workspace::open(m_workspace->path());
        auto connection = workspace->database().connect();
        return runqueries::listRuns(connection.value()).value();
    }

private slots:
    void init() { m_workspace.reset(new QTemporaryDir); }

    void gridSweepRunsOnTwoSlotsNeverMoreThanTwoAtOnce()
    {
        const QString spec = writeSpec("name: grid\n"
                                       "command: [/bin/sh, -c, \"sleep 0.5\"]\n"
                                       "params: {lr: 0.1, batch: 32, seed: 0}\n"
                                       "param_passing: {env: {LR: lr, BATCH: batch, SEED: seed}}\n"
                                       "sweep:\n"
                                       "  grid: {lr: [0.1, 0.01, 0.001], batch: [32, 64]}\n"
                                       "  seeds: 2\n");
        const Outcome queued = trainyard({QStringLiteral("sweep"), spec});
        QVERIFY2(queued.exitCode == 0, qPrintable(queued.err));
        QVERIFY(queued.out.contains(QStringLiteral("12 runs queued")));
        QCOMPARE(queueList().size(), 12);

        const Outcome worked = trainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--slots"),
                                          QStringLiteral("2"), QStringLiteral("--until-empty")});
        QVERIFY2(worked.exitCode == 0, qPrintable(worked.out + worked.err));
        QCOMPARE(queueList().size(), 0);

        // Every run succeeded with its own params; none was running alongside more than one other.
        auto workspace = Workspace::open(m_workspace->path());
        auto connection = workspace->database().connect();
        const QList<RunRecord> all = runqueries::listRuns(connection.value()).value();
        QCOMPARE(all.size(), 12);
        QSet<QString> combinations;
        QList<QPair<qint64, int>> changes; // (time, +1 started running / -1 stopped)
        for (const RunRecord &run : all) {
            QCOMPARE(toString(run.status), QStringLiteral("succeeded"));
            QVERIFY(run.tags.contains(QStringLiteral("sweep:grid")));
            combinations.insert(run.params.value("lr") + "/" + run.params.value("batch") + "/"
                                + run.params.value("seed"));
            const auto events = runqueries::events(connection.value(), run.id).value();
            QCOMPARE(events.first().toStatus, QStringLiteral("queued"));
            for (const RunEvent &event : events) {
                if (event.toStatus == u"starting")
                    changes << qMakePair(event.at.toMSecsSinceEpoch(), +1);
                else if (isTerminal(runStatusFromString(event.toStatus).value()))
                    changes << qMakePair(event.at.toMSecsSinceEpoch(), -1);
            }
        }
        QCOMPARE(combinations.size(), 12);
        // At equal times a run's end is counted before another's start.
        std::sort(changes.begin(), changes.end(), [](const auto &a, const auto &b) {
            return a.first != b.first ? a.first < b.first : a.second < b.second;
        });
        int active = 0, most = 0;
        for (const auto &[at, delta] : changes) {
            active += delta;
            most = std::max(most, active);
        }
        QCOMPARE(active, 0);
        QCOMPARE(most, 2); // both slots were used, and never more
        // The runs were started in queue order.
        auto sweepRuns = all;
        std::sort(sweepRuns.begin(), sweepRuns.end(),
                  [](const RunRecord &a, const RunRecord &b) { return a.startedAt < b.startedAt; });
        QCOMPARE(sweepRuns.first().name, QStringLiteral("grid-01"));
    }

    // The user guide's sweep example, run as written: the example script learns, and the learning rates show apart.
    void exampleLearningRateSweepShowsTheRatesApart()
    {
        const Outcome queued = trainyard(
            {QStringLiteral("sweep"), QStringLiteral(TRAINYARD_SOURCE_DIR "/resources/examples/lr-sweep.yaml")});
        QVERIFY2(queued.exitCode == 0, qPrintable(queued.err));
        QVERIFY2(queued.out.contains(QStringLiteral("10 runs queued")), qPrintable(queued.out));
        const Outcome worked = trainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--slots"),
                                          QStringLiteral("2"), QStringLiteral("--until-empty")});
        QVERIFY2(worked.exitCode == 0, qPrintable(worked.out + worked.err));

        auto workspace = Workspace::open(m_workspace->path());
        auto connection = workspace->database().connect();
        const QList<RunRecord> all = runqueries::listRuns(connection.value()).value();
        QCOMPARE(all.size(), 10);
        QMap<QString, QList<double>> lastLossByRate;
        QMap<QString, QList<double>> maxLossByRate;
        for (const RunRecord &run : all) {
            QCOMPARE(toString(run.status), QStringLiteral("succeeded"));
            const RunMetricSummary loss = run.metrics.value(QStringLiteral("loss"));
            QCOMPARE(loss.count, std::int64_t(200));
            lastLossByRate[run.params.value(QStringLiteral("lr"))] << loss.last;
            maxLossByRate[run.params.value(QStringLiteral("lr"))] << loss.max;
        }
        const auto describe = [&] {
            QString text;
            for (auto it = lastLossByRate.cbegin(); it != lastLossByRate.cend(); ++it)
                text += QStringLiteral("lr %1: last %2 %3\n").arg(it.key()).arg(it.value()[0]).arg(it.value()[1]);
            return text;
        };
        const QString rates = describe();
        for (int seed = 0; seed < 2; ++seed) {
            // The middle rates learn: from about 1 to a small fraction of it.
            for (const char *rate : {"0.001", "0.003", "0.01"})
                QVERIFY2(lastLossByRate[QLatin1String(rate)][seed] < 0.2, qPrintable(rates));
            // 1e-4 barely moves in 200 steps; 1e-1 overshoots far above where it started.
            QVERIFY2(lastLossByRate[QStringLiteral("0.0001")][seed] > 3 * lastLossByRate[QStringLiteral("0.003")][seed],
                     qPrintable(rates));
            QVERIFY2(maxLossByRate[QStringLiteral("0.1")][seed] > 5 * maxLossByRate[QStringLiteral("0.003")][seed],
                     qPrintable(rates));
        }
        // The seed is honoured: the two seeds of a rate did not run the same.
        QVERIFY2(lastLossByRate[QStringLiteral("0.003")][0] != lastLossByRate[QStringLiteral("0.003")][1],
                 qPrintable(rates));
    }

    // Issue 20, point 2: a 12-run ASHA sweep of the example script on one CPU slot, run in queue order. Six runs learn
    // (target noise 0.05), six cannot (target noise 1.5: a loss near 3 where the others are near 0.2). Every noisy run
    // is stopped at the first rung; every decision is the one ASHA makes from the values recorded, in arrival order;
    // a stopped run ends stopped-early, short of its length, with the rung and the comparison in its summary; and
    // the report counts it apart with the run-hours saved.
    void ashaStopsTheHopelessRunsAtTheirRungs()
    {
        const QString spec =
            writeSpec("name: asha\n"
                      "command: [/usr/bin/python3, train_ddp.py, --steps, \"100\", --data-delay-ms, \"30\"]\n"
                      "cwd: " TRAINYARD_SOURCE_DIR "/resources/examples\n"
                      "params: {target_noise: 0.05, seed: 0}\n"
                      "param_passing: {args: [\"--target-noise={target_noise}\", \"--seed={seed}\"]}\n"
                      "sweep:\n"
                      "  grid: {target_noise: [0.05, 1.5]}\n"
                      "  seeds: 6\n"
                      "  early_stop: {metric: loss, mode: min, rungs: [10, 30], reduction: 2}\n");
        const Outcome queued = trainyard({QStringLiteral("sweep"), spec});
        QVERIFY2(queued.exitCode == 0, qPrintable(queued.err));
        QVERIFY2(queued.out.contains(QStringLiteral("12 runs queued")), qPrintable(queued.out));
        const Outcome worked = trainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--slots"),
                                          QStringLiteral("1"), QStringLiteral("--until-empty")});
        QVERIFY2(worked.exitCode == 0, qPrintable(worked.out + worked.err));
        QVERIFY2(worked.out.contains(QStringLiteral("stopped early: loss")), qPrintable(worked.out));

        auto workspace = Workspace::open(m_workspace->path());
        auto connection = workspace->database().connect();
        const QList<RunRecord> all = runqueries::listRuns(connection.value()).value();
        QCOMPARE(all.size(), 12);
        const QString sweepId = all.first().sweepId;
        const RunSpec parsed = loadRunSpec(spec).value();
        const EarlyStopRule rule = parsed.sweep.earlyStop.value();

        // Replay ASHA over the values the queue recorded, in the order they arrived: the same runs must have been
        // stopped, at the same rungs.
        auto select = connection->prepare(
            "SELECT run_id, rung, step, value FROM sweep_rungs WHERE sweep_id = ? ORDER BY at_ms, rung");
        QVERIFY(select);
        select->bind(1, sweepId);
        QList<SweepRungValue> arrived;
        QVERIFY(select->forEachRow([&] {
            arrived << SweepRungValue{select->columnText(0), int(select->columnInt(1)), select->columnInt(2),
                                      select->columnDoubleOrNaN(3), RunStatus::Running};
        }));
        QMap<QString, int> expectedStopRung; // run -> 1-based rung ASHA stops it at
        QHash<int, QList<SweepRungValue>> seen;
        for (const SweepRungValue &value : std::as_const(arrived)) {
            seen[value.rung] << value;
            const EarlyStopDecision decision = judgeArrival(
                rule, value.runId, RungArrival{value.rung, rule.rungs[value.rung], value.step, value.value},
                seen[value.rung]);
            if (decision.stop)
                expectedStopRung.insert(value.runId, value.rung + 1);
        }
        QString fates;
        int noisyStopped = 0, succeeded = 0;
        for (const RunRecord &run : all) {
            const QJsonObject stopped = QJsonDocument::fromJson(run.exitSummary.toUtf8())
                                            .object()
                                            .value(QStringLiteral("stopped_early"))
                                            .toObject();
            fates += QStringLiteral("%1 noise=%2 seed=%3 %4 %5\n")
                         .arg(run.name, run.params.value("target_noise"), run.params.value("seed"),
                              toString(run.status), stopped.value(QStringLiteral("comparison")).toString());
        }
        for (const RunRecord &run : all) {
            const QJsonObject stopped = QJsonDocument::fromJson(run.exitSummary.toUtf8())
                                            .object()
                                            .value(QStringLiteral("stopped_early"))
                                            .toObject();
            const bool noisy = run.params.value(QStringLiteral("target_noise")) == u"1.5";
            const std::int64_t steps = run.metrics.value(QStringLiteral("loss")).count;
            if (expectedStopRung.contains(run.id)) {
                QVERIFY2(run.status == RunStatus::StoppedEarly, qPrintable(fates));
                QCOMPARE(stopped.value(QStringLiteral("rung")).toInt(), expectedStopRung.value(run.id));
                QCOMPARE(stopped.value(QStringLiteral("method")).toString(), QStringLiteral("asha"));
                QVERIFY2(stopped.value(QStringLiteral("comparison")).toString().contains(QStringLiteral("ASHA keeps")),
                         qPrintable(fates));
                QVERIFY2(steps < 100,
                         qPrintable(QStringLiteral("%1 logged %2 steps\n%3").arg(run.name).arg(steps).arg(fates)));
            } else {
                QVERIFY2(run.status == RunStatus::Succeeded, qPrintable(fates));
                QCOMPARE(steps, std::int64_t(100));
                ++succeeded;
            }
            if (noisy) {
                // Every hopeless run is stopped at the first rung: by then six runs that learn are ahead of it.
                QVERIFY2(run.status == RunStatus::StoppedEarly, qPrintable(fates));
                QCOMPARE(stopped.value(QStringLiteral("rung")).toInt(), 1);
                ++noisyStopped;
            }
        }
        qInfo().noquote() << "the sweep's runs:\n" + fates;
        QCOMPARE(noisyStopped, 6);
        QVERIFY2(succeeded >= 1, qPrintable(fates));
        // The end detail is the first-failure-like line the window and `show` print.
        const RunRecord firstNoisy = *std::find_if(all.begin(), all.end(), [](const RunRecord &run) {
            return run.params.value(QStringLiteral("target_noise")) == u"1.5";
        });
        const Outcome shown = trainyard({QStringLiteral("show"), firstNoisy.id});
        QVERIFY2(shown.out.contains(QStringLiteral("stopped-early")), qPrintable(shown.out));
        QVERIFY2(shown.out.contains(QStringLiteral("stopped early at rung 1 of 2 (step 10)")), qPrintable(shown.out));

        // The report counts them apart, and what stopping saved.
        const Outcome report =
            trainyard({QStringLiteral("sweep"), QStringLiteral("report"), sweepId, QStringLiteral("--metric"),
                       QStringLiteral("loss"), QStringLiteral("--json")});
        QVERIFY2(report.exitCode == 0, qPrintable(report.err));
        const QJsonObject json = QJsonDocument::fromJson(report.out.toUtf8()).object();
        QCOMPARE(json.value(QStringLiteral("stopped_early")).toInt(), int(expectedStopRung.size()));
        const QJsonObject stopping = json.value(QStringLiteral("early_stopping")).toObject();
        QCOMPARE(stopping.value(QStringLiteral("stopped")).toArray().size(), expectedStopRung.size());
        QCOMPARE(stopping.value(QStringLiteral("full_length")).toInt(), 100);
        QCOMPARE(stopping.value(QStringLiteral("full_length_from")).toString(),
                 QStringLiteral("the longest run that finished"));
        QVERIFY(stopping.value(QStringLiteral("hours_saved")).toDouble() > 0);
        QCOMPARE(stopping.value(QStringLiteral("gpu_hours_saved")).toDouble(), 0.0); // CPU runs hold no GPU
        const QJsonArray rungs = stopping.value(QStringLiteral("rungs")).toArray();
        QCOMPARE(rungs.size(), 2);
        QCOMPARE(rungs[0].toObject().value(QStringLiteral("reached")).toInt(), 12);
        for (const QJsonValue &entry : stopping.value(QStringLiteral("stopped")).toArray()) {
            const QJsonObject run = entry.toObject();
            QVERIFY(run.value(QStringLiteral("steps_done")).toInt() < 100);
            QVERIFY(run.value(QStringLiteral("hours_at_full_length")).toDouble()
                    > run.value(QStringLiteral("hours_used")).toDouble());
        }
        const Outcome text = trainyard({QStringLiteral("sweep"), QStringLiteral("report"), sweepId,
                                        QStringLiteral("--metric"), QStringLiteral("loss")});
        QVERIFY2(text.out.contains(QStringLiteral("early stop ASHA on loss (min) at steps 10, 30, keeping 1/2")),
                 qPrintable(text.out));
        QVERIFY2(text.out.contains(QStringLiteral("  rung 1 (step 10): 12 reached")), qPrintable(text.out));
        QVERIFY2(text.out.contains(QStringLiteral("saved      0.000 GPU-hours")), qPrintable(text.out));
        // The throughput report counts them apart too: neither failed nor canceled.
        const Outcome throughput = trainyard({QStringLiteral("report"), QStringLiteral("--json")});
        const QJsonObject total = QJsonDocument::fromJson(throughput.out.toUtf8()).object().value("total").toObject();
        QCOMPARE(total.value(QStringLiteral("stopped_early")).toInt(), int(expectedStopRung.size()));
        QCOMPARE(total.value(QStringLiteral("failed")).toInt(), 0);
        QCOMPARE(total.value(QStringLiteral("canceled")).toInt(), 0);
    }

    // Issue 20, point 3: a TPE sweep of 10 trials with ASHA, one at a time, in two workspaces with the same seed: Optuna
    // proposes the same trials in the same order, the runs ASHA stopped are told to the study as pruned (and are
    // PRUNED in the study Optuna keeps in the workspace), and the others complete with their metric.
    void tpeSweepProposesTheSameTrialsWithTheSameSeed()
    {
        const QByteArray yaml = "name: tpe\n"
                                "command: [/usr/bin/python3, train_ddp.py, --steps, \"150\", --data-delay-ms, \"20\"]\n"
                                "cwd: " TRAINYARD_SOURCE_DIR "/resources/examples\n"
                                "params: {lr: 0.003, target_noise: 0.05}\n"
                                "param_passing: {args: [\"--lr={lr}\", \"--target-noise={target_noise}\"]}\n"
                                "sweep:\n"
                                "  method: tpe\n"
                                "  trials: 10\n"
                                "  parallel: 1\n"
                                "  seed: 7\n"
                                "  startup_trials: 3\n"
                                "  params:\n"
                                "    lr: {distribution: log_uniform, min: 0.0001, max: 0.1}\n"
                                "    target_noise: {choice: [\"0.05\", \"1.5\"]}\n"
                                "  metric: {key: loss, mode: min, statistic: last}\n"
                                "  early_stop: {metric: loss, mode: min, rungs: [10], reduction: 2}\n";
        struct Trial {
            int number;
            QString state;
            QString params;
            bool operator==(const Trial &) const = default;
        };
        QList<QList<Trial>> sweeps;
        for (int copy = 0; copy < 2; ++copy) {
            QTemporaryDir home;
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            environment.insert(QStringLiteral("TRAINYARD_HOME"), home.path());
            const QString spec = home.filePath(QStringLiteral("tpe.yaml"));
            QFile file(spec);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(yaml);
            file.close();
            const Outcome queued = test::runTrainyard({QStringLiteral("sweep"), spec}, environment);
            QVERIFY2(queued.exitCode == 0, qPrintable(queued.err));
            QVERIFY2(queued.out.contains(QStringLiteral("a tpe sweep of 10 trials, 1 at a time")),
                     qPrintable(queued.out));
            const Outcome worked =
                test::runTrainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--slots"),
                                    QStringLiteral("1"), QStringLiteral("--until-empty")},
                                   environment);
            QVERIFY2(worked.exitCode == 0, qPrintable(worked.out + worked.err));
            QVERIFY2(worked.out.contains(QStringLiteral("every trial told")), qPrintable(worked.out));

            const Outcome report = test::runTrainyard(
                {QStringLiteral("sweep"), QStringLiteral("report"), QStringLiteral("tpe"), QStringLiteral("--json")},
                environment);
            QVERIFY2(report.exitCode == 0, qPrintable(report.err));
            const QJsonObject json = QJsonDocument::fromJson(report.out.toUtf8()).object();
            const QJsonObject tpe = json.value(QStringLiteral("tpe")).toObject();
            QCOMPARE(tpe.value(QStringLiteral("state")).toString(), QStringLiteral("done"));
            const QJsonArray trials = tpe.value(QStringLiteral("trials")).toArray();
            QCOMPARE(trials.size(), 10);
            auto workspace = Workspace::open(home.path());
            auto connection = workspace->database().connect();
            QList<Trial> seen;
            int pruned = 0;
            for (const QJsonValue &entry : trials) {
                const QJsonObject trial = entry.toObject();
                const RunRecord run =
                    runqueries::findRun(connection.value(), trial.value(QStringLiteral("run_id")).toString()).value();
                const QString state = trial.value(QStringLiteral("state")).toString();
                // Told as it ended: pruned where ASHA stopped it, complete otherwise.
                QCOMPARE(state,
                         run.status == RunStatus::StoppedEarly ? QStringLiteral("pruned") : QStringLiteral("complete"));
                if (state == u"complete")
                    QCOMPARE(trial.value(QStringLiteral("value")).toDouble(),
                             run.metrics.value(QStringLiteral("loss")).last);
                pruned += state == u"pruned";
                seen << Trial{trial.value(QStringLiteral("trial")).toInt(), state,
                              run.params.value(QStringLiteral("lr")) + QLatin1Char(' ')
                                  + run.params.value(QStringLiteral("target_noise"))};
            }
            QVERIFY2(pruned >= 1, qPrintable(report.out));
            QCOMPARE(json.value(QStringLiteral("stopped_early")).toInt(), pruned);
            // The study is the workspace's: Optuna's own record says the same.
            const QString sweepId = json.value(QStringLiteral("sweep_id")).toString();
            const QString studyPath = home.filePath(QStringLiteral("sweeps/") + sweepId + QStringLiteral("/optuna.db"));
            QVERIFY2(QFile::exists(studyPath), qPrintable(studyPath));
            auto study = SqliteConnection::open(studyPath, SqliteConnection::Mode::ReadOnly);
            QVERIFY(study);
            QCOMPARE(study->queryInt("SELECT count(*) FROM trials WHERE state = 'PRUNED'").value(),
                     std::int64_t(pruned));
            QCOMPARE(study->queryInt("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").value(),
                     std::int64_t(10 - pruned));
            sweeps << seen;
        }
        QString first;
        for (const Trial &trial : sweeps[0])
            first += QStringLiteral("trial %1 %2 %3\n").arg(trial.number).arg(trial.params, trial.state);
        qInfo().noquote() << "the TPE sweep's trials:\n" + first;
        QCOMPARE(sweeps[0].size(), 10);
        for (int i = 0; i < 10; ++i)
            QCOMPARE(sweeps[0][i].number, i);
        QVERIFY2(sweeps[0] == sweeps[1], qPrintable(first));
    }

    // Issue 20, point 3, bad input: without Optuna a tpe spec is refused, naming the package, and nothing is made; a
    // helper that crashes pauses its sweep with its message while the runs already queued go on; resumed, the sweep
    // goes on with the same study to its last trial.
    void tpeSweepPausesOnAHelperCrashAndResumes()
    {
        const QString spec = writeSpec("name: crashy\n"
                                       "command: [/usr/bin/python3, train_ddp.py, --steps, \"20\"]\n"
                                       "cwd: " TRAINYARD_SOURCE_DIR "/resources/examples\n"
                                       "params: {lr: 0.003}\n"
                                       "param_passing: {args: [\"--lr={lr}\"]}\n"
                                       "sweep:\n"
                                       "  method: tpe\n"
                                       "  trials: 4\n"
                                       "  parallel: 2\n"
                                       "  params: {lr: {distribution: log_uniform, min: 0.0001, max: 0.1}}\n"
                                       "  metric: {key: loss, mode: min}\n");
        // A Python without Optuna (site-packages off): refused, and no sweep exists.
        const QString noOptuna = m_workspace->filePath(QStringLiteral("python-without-optuna"));
        {
            QFile script(noOptuna);
            QVERIFY(script.open(QIODevice::WriteOnly));
            script.write("#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n");
            script.setPermissions(script.permissions() | QFileDevice::ExeOwner);
        }
        QProcessEnvironment without = environment();
        without.insert(QStringLiteral("TRAINYARD_OPTUNA_PYTHON"), noOptuna);
        const Outcome refused = test::runTrainyard({QStringLiteral("sweep"), spec}, without);
        QVERIFY(refused.exitCode != 0);
        QVERIFY2(refused.err.contains(QStringLiteral("install Debian's python3-optuna")), qPrintable(refused.err));
        QVERIFY2(refused.err.contains(QStringLiteral("nothing was queued")), qPrintable(refused.err));
        {
            auto workspace = Workspace::open(m_workspace->path());
            auto connection = workspace->database().connect();
            QCOMPARE(connection->queryInt("SELECT count(*) FROM sweeps").value(), std::int64_t(0));
        }

        // The real helper, made to crash at its fourth request: open, ask, ask, then the first tell.
        const QString crashing = m_workspace->filePath(QStringLiteral("crashing_helper.py"));
        {
            QFile script(crashing);
            QVERIFY(script.open(QIODevice::WriteOnly));
            script.write("import json, sys\n"
                         "sys.path.insert(0, '" TRAINYARD_SOURCE_DIR "/resources/python')\n"
                         "import trainyard_optuna as real\n"
                         "helper = real.Helper(real.import_optuna())\n"
                         "for count, line in enumerate(sys.stdin, 1):\n"
                         "    if count == 4:\n"
                         "        sys.stderr.write('RuntimeError: injected crash: the study went away\\n')\n"
                         "        sys.exit(3)\n"
                         "    request = json.loads(line)\n"
                         "    real.reply({'open': helper.open, 'ask': helper.ask, 'tell': helper.tell}[request['op']]"
                         "(request))\n");
        }
        const Outcome queued = trainyard({QStringLiteral("sweep"), spec});
        QVERIFY2(queued.exitCode == 0, qPrintable(queued.err));
        QProcessEnvironment crashy = environment();
        crashy.insert(QStringLiteral("TRAINYARD_OPTUNA_HELPER"), crashing);
        const Outcome crashed =
            test::runTrainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--slots"),
                                QStringLiteral("2"), QStringLiteral("--until-empty")},
                               crashy);
        QVERIFY(crashed.exitCode != 0);
        QVERIFY2(crashed.err.contains(QStringLiteral("paused: the Optuna helper stopped (exit code 3): RuntimeError: "
                                                     "injected crash")),
                 qPrintable(crashed.err));
        // Both trials asked before the crash ran to their end: nothing queued was lost.
        QList<RunRecord> all = runs();
        QCOMPARE(all.size(), 2);
        for (const RunRecord &run : all)
            QCOMPARE(toString(run.status), QStringLiteral("succeeded"));
        const Outcome paused = trainyard({QStringLiteral("sweep"), QStringLiteral("report"), QStringLiteral("crashy")});
        QVERIFY2(paused.out.contains(QStringLiteral("2 of 4 proposed")), qPrintable(paused.out));
        QVERIFY2(paused.out.contains(QStringLiteral("the sweep is paused (the Optuna helper stopped")),
                 qPrintable(paused.out));

        // Resumed with the real helper: the same study, trials 0 and 1 told now, 2 and 3 asked, then done.
        const Outcome resumed =
            trainyard({QStringLiteral("sweep"), QStringLiteral("resume"), QStringLiteral("crashy")});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));
        const Outcome again = trainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--slots"),
                                         QStringLiteral("2"), QStringLiteral("--until-empty")});
        QVERIFY2(again.exitCode == 0, qPrintable(again.out + again.err));
        const Outcome report = trainyard(
            {QStringLiteral("sweep"), QStringLiteral("report"), QStringLiteral("crashy"), QStringLiteral("--json")});
        const QJsonObject tpe = QJsonDocument::fromJson(report.out.toUtf8()).object().value("tpe").toObject();
        QCOMPARE(tpe.value(QStringLiteral("state")).toString(), QStringLiteral("done"));
        const QJsonArray trials = tpe.value(QStringLiteral("trials")).toArray();
        QCOMPARE(trials.size(), 4);
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(trials[i].toObject().value(QStringLiteral("trial")).toInt(), i);
            QCOMPARE(trials[i].toObject().value(QStringLiteral("state")).toString(), QStringLiteral("complete"));
        }
        QCOMPARE(runs().size(), 4);
        const Outcome notPaused =
            trainyard({QStringLiteral("sweep"), QStringLiteral("resume"), QStringLiteral("crashy")});
        QVERIFY(notPaused.exitCode != 0);
        QVERIFY2(notPaused.err.contains(QStringLiteral("is done, not paused")), qPrintable(notPaused.err));
    }

    // Issue 15, defect 6: listing 10,000 runs took 57 s and queueing 2,000 took 14.7 s (both quadratic); the
    // benchmark is tests/bench/bench_sweep. Here: the whole sweep is listed and queued, in order, named as documented.
    void tenThousandRunSweepIsListedAndQueuedWhole()
    {
        QByteArray values;
        for (int i = 0; i < 100; ++i)
            values += (i ? "," : "") + QByteArray::number(i);
        const QString spec = writeSpec("name: big\ncommand: [/bin/true]\nparams: {index: 0, seed: 0}\n"
                                       "sweep:\n  grid: {index: ["
                                       + values + "]}\n  seeds: 100\n");
        const Outcome listed = trainyard({QStringLiteral("sweep"), QStringLiteral("--list"), spec});
        QVERIFY2(listed.exitCode == 0, qPrintable(listed.err));
        const QStringList lines = listed.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 10001);
        QCOMPARE(lines.first(), QStringLiteral("10000 runs"));
        QCOMPARE(lines.at(1), QStringLiteral("   1  index=0 seed=0"));
        QCOMPARE(lines.last(), QStringLiteral("10000  index=99 seed=99"));

        const Outcome queued = trainyard({QStringLiteral("sweep"), spec});
        QVERIFY2(queued.exitCode == 0, qPrintable(queued.err));
        QVERIFY(queued.out.contains(QStringLiteral("10000 runs queued")));
        const QJsonArray queue = queueList();
        QCOMPARE(queue.size(), 10000);
        const QString sweepId = queue.first().toObject().value("sweep").toString();
        QVERIFY(sweepId.startsWith(QStringLiteral("sweep-")));
        for (int i = 0; i < queue.size(); ++i) {
            const QJsonObject run = queue.at(i).toObject();
            QCOMPARE(run.value("position").toInt(), i + 1);
            QCOMPARE(run.value("name").toString(), QStringLiteral("big-%1").arg(i + 1, 5, 10, QLatin1Char('0')));
            QCOMPARE(run.value("sweep").toString(), sweepId);
        }
        // Each run has its own spec.yaml with its own params.
        const QString last = queue.last().toObject().value("id").toString();
        QFile lastSpec(m_workspace->path() + QStringLiteral("/runs/") + last + QStringLiteral("/spec.yaml"));
        QVERIFY(lastSpec.open(QIODevice::ReadOnly));
        const QByteArray text = lastSpec.readAll();
        QVERIFY2(text.contains("index: {type: int, value: 99}") && text.contains("seed: {type: int, value: 99}"),
                 text.constData());

        // A small sweep's runs are NAME-01, NAME-02, ... as the docs say (they were NAME-1).
        const QString small = writeSpec("name: six\ncommand: [/bin/true]\nparams: {lr: 0.1}\nsweep:\n  grid: {lr: "
                                        "[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}\n");
        QCOMPARE(trainyard({QStringLiteral("sweep"), small}).exitCode, 0);
        const QJsonArray after = queueList();
        QCOMPARE(after.size(), 10006);
        QCOMPARE(after.at(10000).toObject().value("name").toString(), QStringLiteral("six-01"));
        QCOMPARE(after.at(10005).toObject().value("name").toString(), QStringLiteral("six-06"));
    }

    void runsArePackedOntoFreeGpus()
    {
        // Each rank writes the GPUs it was given; the queue may use GPUs 0, 1 and 2 (named with --gpus, so
        // this runs on a machine without any: nothing here touches a device).
        const QByteArray command =
            "command: [/bin/sh, -c, \"echo $CUDA_VISIBLE_DEVICES > $TRAINYARD_RUN_DIR/gpus.$RANK; sleep 0.6\"]\n";
        QCOMPARE(trainyard({QStringLiteral("sweep"),
                            writeSpec("name: one\n" + command + "resources: {gpus: [0]}\nsweep: {seeds: 4}\n")})
                     .exitCode,
                 0);
        QCOMPARE(trainyard({QStringLiteral("sweep"),
                            writeSpec("name: two\n" + command + "resources: {gpus: [5, 6]}\nsweep: {seeds: 1}\n")})
                     .exitCode,
                 0);
        const Outcome worked = trainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--gpus"),
                                          QStringLiteral("0,1,2"), QStringLiteral("--until-empty")});
        QVERIFY2(worked.exitCode == 0, qPrintable(worked.out + worked.err));
        struct Interval {
            qint64 from, to;
            QStringList gpus;
        };
        QList<Interval> intervals;
        for (const RunRecord &run : runs()) {
            QCOMPARE(toString(run.status), QStringLiteral("succeeded"));
            QFile rank0(m_workspace->path() + QStringLiteral("/runs/") + run.id + QStringLiteral("/gpus.0"));
            QVERIFY(rank0.open(QIODevice::ReadOnly));
            const QStringList gpus = QString::fromUtf8(rank0.readAll()).trimmed().split(QLatin1Char(','));
            QCOMPARE(gpus.size(),
                     run.name.startsWith(QLatin1String("two")) ? 2 : 1); // the number asked for, not the indices
            for (const QString &gpu : gpus)
                QVERIFY2(QStringList({"0", "1", "2"}).contains(gpu), qPrintable(gpu));
            intervals << Interval{run.startedAt.toMSecsSinceEpoch(), run.endedAt.toMSecsSinceEpoch(), gpus};
        }
        QCOMPARE(intervals.size(), 5);
        // Runs that overlapped in time never shared a GPU.
        for (qsizetype i = 0; i < intervals.size(); ++i)
            for (qsizetype j = i + 1; j < intervals.size(); ++j)
                if (intervals[i].from < intervals[j].to && intervals[j].from < intervals[i].to)
                    for (const QString &gpu : intervals[i].gpus)
                        QVERIFY2(!intervals[j].gpus.contains(gpu),
                                 qPrintable(QStringLiteral("GPU %1 shared").arg(gpu)));
    }

    void queueSurvivesAKilledScheduler()
    {
        const QString spec = writeSpec("name: slow\ncommand: [/bin/sh, -c, \"sleep 1.5\"]\nsweep: {seeds: 4}\n");
        QCOMPARE(trainyard({QStringLiteral("sweep"), spec}).exitCode, 0);
        QProcess worker;
        worker.setProcessEnvironment(environment());
        worker.start(QStringLiteral(TRAINYARD_BINARY), {QStringLiteral("queue"), QStringLiteral("work")});
        QVERIFY(worker.waitForStarted());
        QTRY_COMPARE_WITH_TIMEOUT(queueList().size(), 3, 20000); // one taken to run
        ::kill(pid_t(worker.processId()), SIGKILL);
        QVERIFY(worker.waitForFinished());
        // Its run's rank (sh, then sleep) dies with it: the scheduler's watchdog kills the rank group.
        QString orphan;
        for (const RunRecord &run : runs())
            if (run.name == u"slow-01")
                orphan = m_workspace->path() + QStringLiteral("/runs/") + run.id;
        QTRY_VERIFY_WITH_TIMEOUT(!SupervisorRecord::read(orphan).value().ranksAlive(), 20000);

        // A new process finds the three still queued, in order, and runs them.
        const QJsonArray left = queueList();
        QCOMPARE(left.size(), 3);
        QCOMPARE(left.at(0).toObject().value("name").toString(), QStringLiteral("slow-02"));
        QCOMPARE(left.at(2).toObject().value("name").toString(), QStringLiteral("slow-04"));
        const Outcome worked =
            trainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--until-empty")});
        QVERIFY2(worked.exitCode == 0, qPrintable(worked.out + worked.err));
        QMap<QString, QString> statusByName;
        for (const RunRecord &run : runs())
            statusByName.insert(run.name, toString(run.status));
        QCOMPARE(statusByName.value("slow-01"), QStringLiteral("lost")); // its scheduler was killed under it
        for (const char *name : {"slow-02", "slow-03", "slow-04"})
            QCOMPARE(statusByName.value(name), QStringLiteral("succeeded"));
    }

    void queuedRunsMovePauseAndCancel()
    {
        const QString spec = writeSpec("name: q\ncommand: [/bin/true]\nsweep: {seeds: 3}\n");
        QCOMPARE(trainyard({QStringLiteral("sweep"), spec}).exitCode, 0);
        QJsonArray queue = queueList();
        const QString first = queue.at(0).toObject().value("id").toString();
        const QString second = queue.at(1).toObject().value("id").toString();
        const QString third = queue.at(2).toObject().value("id").toString();
        QCOMPARE(trainyard({QStringLiteral("queue"), QStringLiteral("mv"), third, QStringLiteral("1")}).exitCode, 0);
        queue = queueList();
        QCOMPARE(queue.at(0).toObject().value("id").toString(), third);
        QCOMPARE(queue.at(1).toObject().value("id").toString(), first);
        // A position past the end (even past a 32-bit number) means last, as the docs say.
        QCOMPARE(
            trainyard({QStringLiteral("queue"), QStringLiteral("mv"), third, QStringLiteral("99999999999")}).exitCode,
            0);
        QCOMPARE(queueList().at(2).toObject().value("id").toString(), third);
        QCOMPARE(trainyard({QStringLiteral("queue"), QStringLiteral("mv"), third, QStringLiteral("1")}).exitCode, 0);
        QCOMPARE(trainyard({QStringLiteral("queue"), QStringLiteral("pause"), first}).exitCode, 0);
        QVERIFY(queueList().at(1).toObject().value("paused").toBool());
        QCOMPARE(trainyard({QStringLiteral("queue"), QStringLiteral("cancel"), third}).exitCode, 0);
        // `trainyard cancel` of a queued run cancels it too (it used to call it lost, exit 1 and leave it queued).
        const Outcome canceled = trainyard({QStringLiteral("cancel"), second});
        QCOMPARE(canceled.exitCode, 0);
        QVERIFY2(canceled.out.contains(QStringLiteral("canceled (it was queued)")),
                 qPrintable(canceled.out + canceled.err));
        // Work: the paused run stays queued, the other runs.
        QCOMPARE(trainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--until-empty")}).exitCode,
                 0);
        queue = queueList();
        QCOMPARE(queue.size(), 1);
        QCOMPARE(queue.at(0).toObject().value("id").toString(), first);
        QMap<QString, QString> statusById;
        for (const RunRecord &run : runs())
            statusById.insert(run.id, toString(run.status));
        QCOMPARE(statusById.value(third), QStringLiteral("canceled"));
        QCOMPARE(statusById.value(second), QStringLiteral("canceled"));
        QCOMPARE(statusById.value(first), QStringLiteral("queued"));
        QCOMPARE(trainyard({QStringLiteral("queue"), QStringLiteral("resume"), first}).exitCode, 0);
        QCOMPARE(trainyard({QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--until-empty")}).exitCode,
                 0);
        QCOMPARE(queueList().size(), 0);
        // Bad input: not queued any more, an unknown action, a bad position.
        const Outcome notQueued = trainyard({QStringLiteral("queue"), QStringLiteral("cancel"), third});
        QCOMPARE(notQueued.exitCode, 1);
        QVERIFY2(notQueued.err.contains(QStringLiteral("is not in the queue")), qPrintable(notQueued.err));
        QCOMPARE(trainyard({QStringLiteral("queue"), QStringLiteral("shuffle")}).exitCode, 2);
        QCOMPARE(trainyard({QStringLiteral("queue"), QStringLiteral("mv"), first, QStringLiteral("zero")}).exitCode, 2);
        const Outcome negative =
            trainyard({QStringLiteral("queue"), QStringLiteral("mv"), first, QStringLiteral("-5")});
        QCOMPARE(negative.exitCode, 2);
        QVERIFY2(negative.err.contains(QStringLiteral("position '-5' must be a whole number of at least 1")),
                 qPrintable(negative.err));
    }

    void oneSchedulerPerWorkspace()
    {
        const QString spec = writeSpec("name: s\ncommand: [/bin/sh, -c, \"sleep 3\"]\nsweep: {seeds: 1}\n");
        QCOMPARE(trainyard({QStringLiteral("sweep"), spec}).exitCode, 0);
        QProcess worker;
        worker.setProcessEnvironment(environment());
        worker.start(QStringLiteral(TRAINYARD_BINARY),
                     {QStringLiteral("queue"), QStringLiteral("work"), QStringLiteral("--until-empty")});
        QVERIFY(worker.waitForStarted());
        QTRY_COMPARE_WITH_TIMEOUT(queueList().size(), 0, 20000);
        const Outcome second = trainyard({QStringLiteral("queue"), QStringLiteral("work")});
        QCOMPARE(second.exitCode, 1);
        QVERIFY2(second.err.contains(QStringLiteral("one scheduler per workspace")), qPrintable(second.err));
        QVERIFY(worker.waitForFinished(30000));
        QCOMPARE(worker.exitCode(), 0);
    }

private:
    std::unique_ptr<QTemporaryDir> m_workspace;
};

QTEST_GUILESS_MAIN(TestQueue)
#include "tst_queue.moc"
