// Run specs: what they hold, the resolved spec.yaml round trip, and errors with file, line and column.
#include "launch/runsupervisor.h"
#include "launch/speclaunch.h"
#include "spec/runspec.h"
#include "spec/specedit.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <limits>

using namespace trainyard;

class TestRunSpec : public QObject {
    Q_OBJECT
private slots:
    void readsEveryField()
    {
        const QByteArray yaml = R"(name: resnet
command: [/usr/bin/python3, train.py, --lr, "3e-4"]
shell: false
cwd: work
env: {NCCL_DEBUG: INFO}
params: {lr: 3e-4, layers: 50}
resources: {ranks_per_node: 2, gpus: [0, 3]}
max_restarts: 2
hang_timeout_s: 90
grace_s: 2.5
tags: [baseline, amp]
notes: first try
)";
        auto spec = parseRunSpec(yaml, QStringLiteral("resnet.yaml"), QStringLiteral("/home/ada/project"));
        QVERIFY2(spec.ok(), spec ? "" : qPrintable(spec.error()));
        QCOMPARE(spec->name, QStringLiteral("resnet"));
        QCOMPARE(spec->command, (QStringList{"/usr/bin/python3", "train.py", "--lr", "3e-4"}));
        QCOMPARE(spec->cwd, QStringLiteral("/home/ada/project/work"));
        QCOMPARE(spec->env.value(QStringLiteral("NCCL_DEBUG")), QStringLiteral("INFO"));
        QCOMPARE(spec->params.size(), 2);
        QCOMPARE(spec->gpus, (QList<int>{0, 3}));
        QCOMPARE(spec->ranksPerNode, 2);
        QCOMPARE(spec->maxRestarts, 2);
        QCOMPARE(spec->hangTimeoutS, 90.0);
        QCOMPARE(spec->graceS, 2.5);
        QCOMPARE(spec->tags, (QStringList{"baseline", "amp"}));
        const LocalLaunch launch = localLaunchFor(*spec);
        QCOMPARE(launch.request.hangTimeoutMs, 90000);
        QCOMPARE(launch.request.graceMs, 2500);
        QCOMPARE(launch.request.nprocPerNode, 2);
    }

    void readsTypedParamsAndHowTheyPass()
    {
        const QByteArray yaml = R"(command: [python3, train.py]
params:
  lr: {type: float, value: 3e-4}
  layers: {type: int, value: 50}
  amp: {type: bool, value: yes}
  opt: {type: choice, choices: [adam, sgd], value: sgd}
  tag: baseline
  epochs: 3
param_passing:
  args: ["--lr={lr}", "--layers={layers}", "--opt={opt}"]
  env: {AMP: amp}
  config_file: {path: params.json, arg: "--config={path}"}
)";
        auto spec = parseRunSpec(yaml, QStringLiteral("p.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(spec.ok(), spec ? "" : qPrintable(spec.error()));
        QCOMPARE(spec->params.size(), 6);
        QCOMPARE(paramTypeName(spec->params[0].type), QStringLiteral("float"));
        QCOMPARE(spec->params[2].value, QStringLiteral("true")); // yes -> true
        QCOMPARE(paramTypeName(spec->params[4].type), QStringLiteral("string"));
        QCOMPARE(paramTypeName(spec->params[5].type), QStringLiteral("int"));
        auto resolved = resolveParams(spec->params, spec->paramPassing, QStringLiteral("/runs/r1"));
        QVERIFY(resolved.ok());
        QCOMPARE(resolved->extraArguments,
                 (QStringList{"--lr=3e-4", "--layers=50", "--opt=sgd", "--config=/runs/r1/params.json"}));
        QCOMPARE(resolved->extraEnvironment.value(QStringLiteral("AMP")), QStringLiteral("true"));
        const QJsonObject config = QJsonDocument::fromJson(resolved->configContent).object();
        QCOMPARE(config[QStringLiteral("lr")].toDouble(), 3e-4);
        QCOMPARE(config[QStringLiteral("layers")].toInt(), 50);
        QCOMPARE(config[QStringLiteral("amp")].toBool(), true);
        QCOMPARE(config[QStringLiteral("opt")].toString(), QStringLiteral("sgd"));
    }

    void paramErrorsNameLineColumnAndExpectedType_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<QString>("message");
        QTest::newRow("int") << QByteArray("command: [a]\nparams:\n  layers: {type: int, value: fifty}\n")
                             << "p.yaml:3:30: 'params.layers' must be of type int (got 'fifty')";
        QTest::newRow("float") << QByteArray("command: [a]\nparams:\n  lr: {type: float, value: fast}\n")
                               << "p.yaml:3:28: 'params.lr' must be of type float (got 'fast')";
        QTest::newRow("choice") << QByteArray(
            "command: [a]\nparams:\n  opt: {type: choice, choices: [adam], value: sgd}\n")
                                << "p.yaml:3:47: 'params.opt' is 'sgd', not one of its choices (adam)";
        QTest::newRow("no type") << QByteArray("command: [a]\nparams:\n  lr: {value: 1}\n")
                                 << "p.yaml:3:7: 'params.lr' needs a 'type'";
        QTest::newRow("bad type") << QByteArray("command: [a]\nparams:\n  lr: {type: number, value: 1}\n")
                                  << "p.yaml:3:14: 'params.lr.type' must be one of";
        QTest::newRow("unknown in args") << QByteArray(
            "command: [a]\nparams: {lr: 1}\nparam_passing:\n  args: [\"--lr={lrr}\"]\n")
                                         << "p.yaml:4:9: 'param_passing.args': '{lrr}'";
        QTest::newRow("unknown in env") << QByteArray(
            "command: [a]\nparams: {lr: 1}\nparam_passing:\n  env: {LR: rate}\n")
                                        << "p.yaml:4:8: 'param_passing.env': LR takes param 'rate'";
        QTest::newRow("config path") << QByteArray("command: [a]\nparam_passing:\n  config_file: {path: /etc/x.json}\n")
                                     << "p.yaml:3:16: 'param_passing.config_file.path' must be a file name";
        // Trainyard's own files in the run folder are not a params file's to overwrite (issue 15, defect 4).
        QTest::newRow("config is the spec")
            << QByteArray("command: [a]\nparam_passing:\n  config_file: {path: spec.yaml}\n")
            << "p.yaml:3:23: 'param_passing.config_file.path' cannot be 'spec.yaml': Trainyard writes that file";
        QTest::newRow("config is the supervisor record")
            << QByteArray("command: [a]\nparam_passing:\n  config_file:\n    path: supervisor.json\n")
            << "p.yaml:4:11: 'param_passing.config_file.path' cannot be 'supervisor.json'";
    }
    void paramErrorsNameLineColumnAndExpectedType()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(QString, message);
        auto spec = parseRunSpec(yaml, QStringLiteral("p.yaml"), QStringLiteral("/tmp"));
        QVERIFY(!spec.ok());
        QVERIFY2(spec.error().startsWith(message), qPrintable(spec.error()));
    }

    void sweepsExpandGridRandomAndSeeds()
    {
        const QByteArray yaml = "command: [a]\n"
                                "params:\n"
                                "  lr: 0.1\n"
                                "  opt: {type: choice, choices: [adam, sgd], value: adam}\n"
                                "sweep:\n"
                                "  grid:\n"
                                "    lr: [0.1, 0.01, 0.001]\n"
                                "    opt: [adam, sgd]\n"
                                "  seeds: 2\n";
        auto spec = parseRunSpec(yaml, QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(spec.ok(), qPrintable(spec.ok() ? QString() : spec.error()));
        QCOMPARE(spec->sweep.runCount(), 12);
        auto points = expandSweep(spec->params, spec->sweep);
        QVERIFY(points.ok());
        QCOMPARE(points->size(), 12);
        QCOMPARE(points->at(0).label, QStringLiteral("lr=0.1 opt=adam seed=0"));
        QCOMPARE(points->at(1).label, QStringLiteral("lr=0.1 opt=adam seed=1"));
        QCOMPARE(points->at(2).label, QStringLiteral("lr=0.1 opt=sgd seed=0"));
        QCOMPARE(points->at(11).label, QStringLiteral("lr=0.001 opt=sgd seed=1"));
        // The params keep their types; the seed param is added, typed by its values.
        const QList<RunParam> &last = points->at(11).params;
        QCOMPARE(last.size(), 3);
        QCOMPARE(last[0].name, QStringLiteral("lr"));
        QCOMPARE(last[0].value, QStringLiteral("0.001"));
        QCOMPARE(int(last[1].type), int(ParamType::Choice));
        QCOMPARE(last[2].name, QStringLiteral("seed"));
        QCOMPARE(int(last[2].type), int(ParamType::Int));

        const QByteArray random = "command: [a]\n"
                                  "sweep:\n"
                                  "  random:\n"
                                  "    samples: 200\n"
                                  "    seed: 7\n"
                                  "    params:\n"
                                  "      lr: {distribution: log_uniform, min: 1e-5, max: 1e-1}\n"
                                  "      dropout: {distribution: uniform, min: 0, max: 0.5}\n"
                                  "      layers: {distribution: int, min: 2, max: 4}\n"
                                  "      opt: {choice: [adam, sgd]}\n";
        auto randomSpec = parseRunSpec(random, QStringLiteral("r.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(randomSpec.ok(), qPrintable(randomSpec.ok() ? QString() : randomSpec.error()));
        auto drawn = expandSweep(randomSpec->params, randomSpec->sweep);
        auto again = expandSweep(randomSpec->params, randomSpec->sweep);
        QVERIFY(drawn.ok() && again.ok());
        QCOMPARE(drawn->size(), 200);
        int belowMilli = 0;
        QSet<QString> layers, opts;
        for (qsizetype i = 0; i < drawn->size(); ++i) {
            QCOMPARE(drawn->at(i).label, again->at(i).label); // the same seed draws the same runs
            const auto value = [&](const QString &name) {
                for (const RunParam &p : drawn->at(i).params)
                    if (p.name == name)
                        return p.value;
                return QString();
            };
            const double lr = value(QStringLiteral("lr")).toDouble();
            QVERIFY(lr >= 1e-5 && lr <= 1e-1);
            belowMilli += lr < 1e-3;
            const double dropout = value(QStringLiteral("dropout")).toDouble();
            QVERIFY(dropout >= 0 && dropout <= 0.5);
            layers.insert(value(QStringLiteral("layers")));
            opts.insert(value(QStringLiteral("opt")));
        }
        // Log-uniform: half the draws below the geometric middle (1e-3); uniform would put 1% there.
        QVERIFY2(belowMilli > 70 && belowMilli < 130, qPrintable(QString::number(belowMilli)));
        QCOMPARE(layers, (QSet<QString>{"2", "3", "4"}));

        // An int range over the whole 64-bit span draws across it (it used to give -2^63 every time).
        const QByteArray wide = "command: [a]\nsweep:\n  random:\n    samples: 50\n    seed: 3\n    params:\n"
                                "      n: {distribution: int, min: -9223372036854775808, max: 9223372036854775807}\n";
        auto wideSpec = parseRunSpec(wide, QStringLiteral("w.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(wideSpec.ok(), qPrintable(wideSpec.ok() ? QString() : wideSpec.error()));
        auto wideDrawn = expandSweep(wideSpec->params, wideSpec->sweep);
        QVERIFY2(wideDrawn.ok(), qPrintable(wideDrawn.ok() ? QString() : wideDrawn.error()));
        QSet<QString> wideValues;
        int negative = 0;
        for (const SweepPoint &point : wideDrawn.value()) {
            bool ok = false;
            const qint64 n = point.params.first().value.toLongLong(&ok);
            QVERIFY(ok);
            wideValues.insert(point.params.first().value);
            negative += n < 0;
        }
        QCOMPARE(wideValues.size(), 50);
        QVERIFY2(negative > 10 && negative < 40, qPrintable(QString::number(negative)));
        // A fraction is not an int bound.
        auto fraction = parseRunSpec("command: [a]\nsweep:\n  random:\n    samples: 2\n    params:\n      n: "
                                     "{distribution: int, min: 0.5, max: 4}\n",
                                     QStringLiteral("f.yaml"), QStringLiteral("/tmp"));
        QVERIFY(!fraction.ok());
        QVERIFY2(fraction.error().contains(QStringLiteral("must be a whole number")), qPrintable(fraction.error()));
        QCOMPARE(opts, (QSet<QString>{"adam", "sgd"}));
    }

    void sweepErrorsNameLineAndColumn_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown key") << QByteArray("command: [a]\nsweep:\n  grids: {lr: [1]}\n")
                                     << "w.yaml:3:3: unknown key 'grids' in 'sweep'";
        QTest::newRow("grid not a list") << QByteArray("command: [a]\nsweep:\n  grid: {lr: 0.1}\n")
                                         << "w.yaml:3:14: 'sweep.grid.lr' must be a list";
        QTest::newRow("empty axis") << QByteArray("command: [a]\nsweep:\n  grid: {lr: []}\n")
                                    << "w.yaml:3:14: 'sweep.grid.lr' needs at least one value";
        QTest::newRow("value of the wrong type")
            << QByteArray("command: [a]\nparams: {layers: 3}\nsweep:\n  grid: {layers: [2, many]}\n")
            << "w.yaml:4:3: sweep value 'many' of param 'layers' is not of its type int";
        QTest::newRow("not a choice") << QByteArray(
            "command: [a]\nparams:\n  opt: {type: choice, choices: [adam], value: adam}\nsweep:\n  grid: {opt: "
            "[sgd]}\n") << "w.yaml:5:3: sweep value 'sgd' of param 'opt' is not one of its choices (adam)";
        QTest::newRow("no samples") << QByteArray(
            "command: [a]\nsweep:\n  random: {params: {lr: {distribution: uniform, min: 0, max: 1}}}\n")
                                    << "w.yaml:3:11: 'sweep.random' needs 'samples'";
        QTest::newRow("bad distribution")
            << QByteArray("command: [a]\nsweep:\n  random:\n    samples: 3\n    params:\n      lr: {distribution: "
                          "normal, min: 0, max: 1}\n")
            << "w.yaml:6:26: 'sweep.random.params.lr.distribution' must be one of uniform, log_uniform, int";
        QTest::newRow("log of zero") << QByteArray("command: [a]\nsweep:\n  random:\n    samples: 3\n    params:\n     "
                                                   " lr: {distribution: log_uniform, min: 0, max: 1}\n")
                                     << "w.yaml:6:44: 'sweep.random.params.lr': a log_uniform min must be above 0";
        QTest::newRow("max below min") << QByteArray("command: [a]\nsweep:\n  random:\n    samples: 3\n    params:\n   "
                                                     "   lr: {distribution: uniform, min: 2, max: 1}\n")
                                       << "w.yaml:6:48: 'sweep.random.params.lr': max (1) must be above min (2)";
        QTest::newRow("seeds") << QByteArray("command: [a]\nsweep:\n  seeds: 0\n")
                               << "w.yaml:3:10: 'sweep.seeds' (a count, or a list of seeds) must be at least 1";
        QTest::newRow("too many") << QByteArray("command: [a]\nsweep:\n  seeds: 20000\n")
                                  << "w.yaml:3:3: the sweep makes 20000 runs; at most 10000";
        // Early stopping (issue 20).
        const QByteArray grid = "command: [a]\nsweep:\n  grid: {lr: [1, 2]}\n";
        QTest::newRow("rungs not increasing") << grid + "  early_stop: {metric: loss, mode: min, rungs: [100, 100]}\n"
                                              << "w.yaml:4:54: 'sweep.early_stop.rungs' must increase: 100 follows 100";
        QTest::newRow("rung past the length")
            << grid + "  early_stop: {metric: loss, mode: min, rungs: [100, 900], max_step: 500}\n"
            << "w.yaml:4:48: 'sweep.early_stop.rungs': rung 900 is not below max_step 500, the run's length";
        QTest::newRow("rung zero") << grid + "  median_stop: {metric: loss, mode: min, rungs: [0]}\n"
                                   << "w.yaml:4:50: 'sweep.median_stop.rungs' must hold whole steps of 1 or more";
        QTest::newRow("no metric") << grid + "  early_stop: {mode: min, rungs: [10]}\n"
                                   << "w.yaml:4:15: 'sweep.early_stop' needs 'metric'";
        QTest::newRow("bad mode") << grid + "  early_stop: {metric: loss, mode: lowest, rungs: [10]}\n"
                                  << "w.yaml:4:36: 'sweep.early_stop.mode' must be min or max (got 'lowest')";
        QTest::newRow("reduction of one")
            << grid + "  early_stop: {metric: loss, mode: min, rungs: [10], reduction: 1}\n"
            << "w.yaml:4:65: 'sweep.early_stop.reduction' must be at least 2";
        QTest::newRow("both rules")
            << grid
                + "  early_stop: {metric: loss, mode: min, rungs: [10]}\n  median_stop: {metric: loss, mode: "
                  "min, rungs: [10]}\n"
            << "w.yaml:5:16: 'sweep' has both 'early_stop' (ASHA) and 'median_stop': choose one";
        // Bayesian search.
        const QByteArray tpe = "command: [a]\nparams: {lr: 0.1}\nsweep:\n  method: tpe\n";
        QTest::newRow("tpe without trials") << tpe
                + "  params: {lr: {distribution: log_uniform, min: 1e-4, max: 1}}\n  metric: {key: loss, mode: min}\n"
                                            << "w.yaml:4:3: a tpe sweep needs 'sweep.trials'";
        QTest::newRow("tpe with a grid") << tpe + "  trials: 5\n  grid: {lr: [1]}\n"
                                         << "w.yaml:6:9: 'sweep.grid' is for grid and random sweeps";
        QTest::newRow("tpe without a metric")
            << tpe + "  trials: 5\n  params: {lr: {distribution: log_uniform, min: 1e-4, max: 1}}\n"
            << "w.yaml:4:3: a tpe sweep needs 'sweep.metric'";
        QTest::newRow("tpe param of the wrong type")
            << QByteArray("command: [a]\nparams: {layers: 3}\nsweep:\n  method: tpe\n  trials: 5\n  params: {layers: "
                          "{choice: [two]}}\n  metric: {key: loss, mode: min}\n")
            << "w.yaml:6:11: sweep value 'two' of param 'layers' is not of its type int";
        QTest::newRow("trials on a grid") << grid + "  trials: 5\n"
                                          << "w.yaml:4:11: 'sweep.trials' is for 'method: tpe' sweeps";
        QTest::newRow("unknown method") << QByteArray("command: [a]\nsweep:\n  method: bohb\n")
                                        << "w.yaml:3:11: 'sweep.method' must be tpe";
    }

    void sweepsReadEarlyStoppingAndBayesianSearch()
    {
        auto asha = parseRunSpec("command: [a]\nsweep:\n  grid: {lr: [1, 2]}\n  early_stop: {metric: val/loss, mode: "
                                 "min, rungs: [100, 300, 900], reduction: 3}\n",
                                 QStringLiteral("w.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(asha, asha ? "" : qPrintable(asha.error()));
        const EarlyStopRule rule = asha->sweep.earlyStop.value();
        QCOMPARE(rule.method, EarlyStopRule::Method::Asha);
        QCOMPARE(rule.metric, QStringLiteral("val/loss"));
        QCOMPARE(rule.rungs, (QList<std::int64_t>{100, 300, 900}));
        QCOMPARE(rule.reduction, 3);
        QVERIFY(!rule.maximize);
        QCOMPARE(rule.describe(), QStringLiteral("ASHA on val/loss (min) at steps 100, 300, 900, keeping 1/3"));
        QCOMPARE(asha->sweep.runCount(), 2);

        auto median = parseRunSpec("command: [a]\nsweep:\n  seeds: 4\n  median_stop: {metric: acc, mode: max, rungs: "
                                   "[50], min_runs: 2, max_step: 200}\n",
                                   QStringLiteral("w.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(median, median ? "" : qPrintable(median.error()));
        QCOMPARE(median->sweep.earlyStop->method, EarlyStopRule::Method::Median);
        QVERIFY(median->sweep.earlyStop->maximize);
        QCOMPARE(median->sweep.earlyStop->minRuns, 2);
        QCOMPARE(median->sweep.earlyStop->maxStep, std::optional<std::int64_t>(200));

        auto tpe =
            parseRunSpec("command: [a]\nparams: {lr: 0.1, opt: adam}\nsweep:\n  method: tpe\n  trials: 50\n"
                         "  parallel: 4\n  seed: 7\n  startup_trials: 5\n  params:\n    lr: {distribution: "
                         "log_uniform, min: 1e-5, max: 1e-1}\n    opt: {choice: [adam, sgd]}\n  metric: {key: "
                         "val/acc, mode: max, statistic: max}\n  early_stop: {metric: val/acc, mode: max, rungs: "
                         "[10]}\n",
                         QStringLiteral("w.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(tpe, tpe ? "" : qPrintable(tpe.error()));
        QCOMPARE(tpe->sweep.method, SweepSpec::Method::Tpe);
        QCOMPARE(tpe->sweep.trials, 50);
        QCOMPARE(tpe->sweep.parallel, 4);
        QCOMPARE(tpe->sweep.randomSeed, std::uint64_t(7));
        QCOMPARE(tpe->sweep.startupTrials, 5);
        QCOMPARE(tpe->sweep.space.size(), 2);
        QCOMPARE(tpe->sweep.space[0].distribution, RandomAxis::Distribution::LogUniform);
        QCOMPARE(tpe->sweep.space[1].choices, (QStringList{"adam", "sgd"}));
        QCOMPARE(tpe->sweep.objective.metric, QStringLiteral("val/acc"));
        QVERIFY(tpe->sweep.objective.maximize);
        QCOMPARE(tpe->sweep.objective.statistic, QStringLiteral("max"));
        QVERIFY(tpe->sweep.earlyStop.has_value());
        QCOMPARE(tpe->sweep.runCount(), 50);
        QVERIFY(!tpe->sweep.isEmpty());
        QVERIFY(!expandSweep(tpe->params, tpe->sweep)); // proposed one by one, never expanded
    }

    void sweepErrorsNameLineAndColumn()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(QString, message);
        auto spec = parseRunSpec(yaml, QStringLiteral("w.yaml"), QStringLiteral("/tmp"));
        QVERIFY(!spec.ok());
        QVERIFY2(spec.error().startsWith(message), qPrintable(spec.error()));
    }

    // Issue 20: the compose form writes a sweep's early stopping and a tpe sweep back whole; editing such a spec in
    // the window must not drop them.
    void formKeepsEarlyStoppingAndBayesianSweeps()
    {
        for (const QByteArray &yaml :
             {QByteArray("name: s\ncommand: [a]\nparams: {lr: 0.1}\nsweep:\n  grid: {lr: [0.1, 0.01]}\n  "
                         "median_stop: {metric: val/acc, mode: max, rungs: [5, 50], min_runs: 2, max_step: 100}\n"),
              QByteArray("name: t\ncommand: [a]\nparams: {lr: 0.1, opt: adam, layers: 2}\nsweep:\n  method: tpe\n"
                         "  trials: 20\n  parallel: 3\n  seed: 9\n  startup_trials: 4\n  params:\n    lr: "
                         "{distribution: log_uniform, min: 1e-5, max: 0.1}\n    opt: {choice: [adam, sgd]}\n    "
                         "layers: {distribution: int, min: 1, max: 6}\n  metric: {key: loss, mode: min, statistic: "
                         "min}\n  early_stop: {metric: loss, mode: min, rungs: [10, 30], reduction: 4}\n")}) {
            auto spec = parseRunSpec(yaml, QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
            QVERIFY2(spec, spec ? "" : qPrintable(spec.error()));
            const SpecForm form = formFromSpec(spec.value());
            auto written = applyForm({}, form);
            QVERIFY2(written, written ? "" : qPrintable(written.error()));
            auto again = parseRunSpec(written.value(), QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
            QVERIFY2(again, again ? "" : qPrintable(again.error() + QStringLiteral("\n") + written.value()));
            QVERIFY2(formFromSpec(again.value()) == form, written->constData());
            QCOMPARE(again->sweep.earlyStop, spec->sweep.earlyStop);
            QCOMPARE(again->sweep.method, spec->sweep.method);
            QCOMPARE(again->sweep.trials, spec->sweep.trials);
            QCOMPARE(again->sweep.objective, spec->sweep.objective);
        }
    }

    void formRoundTripsThroughYaml()
    {
        SpecForm form;
        form.name = QStringLiteral("resnet");
        form.command = {QStringLiteral("/usr/bin/python3"), QStringLiteral("train.py"), QStringLiteral("--data=/d a")};
        form.cwd = QStringLiteral("/home/ada/project");
        form.ranksPerNode = 2;
        form.gpus = {0, 3};
        form.maxRestarts = 2;
        form.hangTimeoutS = 90;
        form.tags = {QStringLiteral("baseline"), QStringLiteral("v2")};
        form.notes = QStringLiteral("first try: lr from the paper");
        form.params = {RunParam{QStringLiteral("lr"), ParamType::Float, QStringLiteral("0.0003"), {}},
                       RunParam{QStringLiteral("layers"), ParamType::Int, QStringLiteral("50"), {}},
                       RunParam{QStringLiteral("amp"), ParamType::Bool, QStringLiteral("true"), {}},
                       RunParam{QStringLiteral("opt"),
                                ParamType::Choice,
                                QStringLiteral("adamw"),
                                {QStringLiteral("adamw"), QStringLiteral("sgd")}}};
        form.sweep.grid = {qMakePair(QStringLiteral("lr"), QStringList{QStringLiteral("0.1"), QStringLiteral("0.01")})};
        form.sweep.samples = 4;
        form.sweep.randomSeed = 9;
        form.sweep.random = {
            RandomAxis{QStringLiteral("dropout"), RandomAxis::Distribution::Uniform, 0, 0.5, {}},
            RandomAxis{QStringLiteral("opt"), RandomAxis::Distribution::Choice, 0, 1, {QStringLiteral("sgd")}}};
        form.sweep.seeds = {QStringLiteral("1"), QStringLiteral("2")};
        form.nccl = NcclDebugOptions{QStringLiteral("INFO"), QStringLiteral("INIT,COLL"), 3, 2000, true, false,
                                     QStringLiteral("eth0")};
        auto yaml = applyForm({}, form);
        QVERIFY(yaml.ok());
        auto spec = parseRunSpec(yaml.value(), QStringLiteral("form.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(
            spec.ok(),
            qPrintable(spec.ok() ? QString() : spec.error() + QLatin1Char('\n') + QString::fromUtf8(yaml.value())));
        QVERIFY(formFromSpec(spec.value()) == form);
        QCOMPARE(spec->sweep.runCount(), 2 * 4 * 2);
        QCOMPARE(spec->nccl.socketIfname, QStringLiteral("eth0"));
        QCOMPARE(spec->nccl.asyncErrorHandling, 3);
        QVERIFY2(!yaml->contains("ib_disable"), yaml->constData()); // a switch left off is not written
        // Again from its own YAML: nothing moves.
        auto again = applyForm(yaml.value(), formFromSpec(spec.value()));
        QVERIFY(again.ok());
        QCOMPARE(again.value(), yaml.value());
    }

    void formKeepsWhatItDoesNotShowAndCloneChangesOneField()
    {
        const QByteArray parentYaml = "name: base\n"
                                      "command: [python3, train.py]\n"
                                      "params: {lr: 0.1, batch: 64}\n"
                                      "param_passing: {args: [\"--lr={lr}\"]}\n"
                                      "strategy: zero2\n"
                                      "nccl: {debug: INFO}\n"
                                      "sweep: {seeds: 3}\n";
        auto parent = parseRunSpec(parentYaml, QStringLiteral("parent.yaml"), QStringLiteral("/tmp"));
        QVERIFY(parent.ok());
        // Clone with changes: the parent's form with one param changed.
        SpecForm form = formFromSpec(parent.value());
        form.params[0].value = QStringLiteral("0.01");
        auto childYaml = applyForm(parentYaml, form);
        QVERIFY(childYaml.ok());
        auto child = parseRunSpec(childYaml.value(), QStringLiteral("child.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(child.ok(), qPrintable(child.ok() ? QString() : child.error()));
        QCOMPARE(changedFields(parent.value(), child.value()), QStringList{QStringLiteral("params.lr")});
        QCOMPARE(child->sweep.runCount(), 3);
        QCOMPARE(child->paramPassing.argsTemplate, QStringList{QStringLiteral("--lr={lr}")});
        QCOMPARE(strategyName(child->strategy.strategy), QStringLiteral("zero2"));
        QCOMPARE(child->nccl.level, QStringLiteral("INFO"));
        // Turning the NCCL switches off in the form removes the `nccl:` map, and the change is named.
        form.nccl = NcclDebugOptions{};
        auto quiet =
            parseRunSpec(applyForm(parentYaml, form).value(), QStringLiteral("quiet.yaml"), QStringLiteral("/tmp"));
        QVERIFY(quiet.ok());
        QVERIFY(quiet->nccl == NcclDebugOptions{});
        QCOMPARE(changedFields(parent.value(), quiet.value()),
                 (QStringList{QStringLiteral("nccl"), QStringLiteral("params.lr")}));
        // A YAML that does not parse is an error with its position, and the text is not touched.
        auto broken = applyForm("name: [unclosed\n", form);
        QVERIFY(!broken.ok());
        QVERIFY2(broken.error().startsWith(QStringLiteral("2:")), qPrintable(broken.error()));
    }

    void readsTheStrategy()
    {
        auto named = parseRunSpec("command: [a]\nstrategy: zero3\n", QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
        QVERIFY(named.ok());
        QCOMPARE(strategyName(named->strategy.strategy), QStringLiteral("zero3"));
        auto mapped =
            parseRunSpec("command: [a]\nstrategy: {name: fsdp-full-shard, precision: fp16-mixed, offload: both}\n",
                         QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(mapped.ok(), mapped ? "" : qPrintable(mapped.error()));
        QCOMPARE(strategyName(mapped->strategy.strategy), QStringLiteral("fsdp-full-shard"));
        QCOMPARE(precisionName(mapped->strategy.precision), QStringLiteral("fp16-mixed"));
        QVERIFY(mapped->strategy.offloadOptimizer && mapped->strategy.offloadParameters);
        auto bad =
            parseRunSpec("command: [a]\nstrategy: {name: zero4}\n", QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().startsWith(QStringLiteral("s.yaml:2:18: strategy 'zero4' is not one of")),
                 qPrintable(bad.error()));
    }

    void resolvedSpecOfARunReadsBack()
    {
        QTemporaryDir dir;
        LocalLaunch launch;
        launch.name = QStringLiteral("again");
        launch.tags = {QStringLiteral("x")};
        launch.params = {{QStringLiteral("lr"), QStringLiteral("0.1")}};
        launch.request.command = {QStringLiteral("python3"), QStringLiteral("a b.py")};
        launch.request.cwd = QStringLiteral("/srv/code");
        launch.request.nprocPerNode = 3;
        launch.request.maxRestarts = 1;
        launch.request.hangTimeoutMs = 30000;
        launch.request.graceMs = 4000;
        launch.request.env.insert(QStringLiteral("A"), QStringLiteral("1"));
        launch.request.nccl.level = QStringLiteral("INFO");
        launch.request.nccl.p2pDisable = true;
        launch.request.nccl.asyncErrorHandling = 1;
        launch.strategy.strategy = ShardingStrategy::Zero2;
        launch.strategy.offloadOptimizer = true;
        QVERIFY(writeResolvedSpec(dir.path(), launch).ok());
        auto spec = loadRunSpec(dir.filePath(QStringLiteral("spec.yaml")));
        QVERIFY2(spec.ok(), spec ? "" : qPrintable(spec.error()));
        const LocalLaunch again = localLaunchFor(*spec);
        QCOMPARE(again.name, launch.name);
        QCOMPARE(again.tags, launch.tags);
        QCOMPARE(again.params, launch.params);
        QCOMPARE(again.request.command, launch.request.command);
        QCOMPARE(again.request.cwd, launch.request.cwd);
        QCOMPARE(again.request.nprocPerNode, 3);
        QCOMPARE(again.request.maxRestarts, 1);
        QCOMPARE(again.request.hangTimeoutMs, 30000);
        QCOMPARE(again.request.graceMs, 4000);
        QCOMPARE(again.request.env, launch.request.env);
        QCOMPARE(strategyName(again.strategy.strategy), QStringLiteral("zero2"));
        QVERIFY(again.strategy.offloadOptimizer && !again.strategy.offloadParameters);
        QCOMPARE(again.request.nccl.level, QStringLiteral("INFO"));
        QVERIFY(again.request.nccl.p2pDisable && !again.request.nccl.ibDisable);
        QCOMPARE(again.request.nccl.asyncErrorHandling, 1);
        QCOMPARE(again.request.nccl.traceBufferSize, -1);
    }

    void clusterSpecsCarryBackendSlurmSettingsAndModel()
    {
        const QByteArray yaml =
            "name: big\n"
            "command: [python3, train.py]\n"
            "backend: lab\n"
            "resources: {nodes: 4, ranks_per_node: 8}\n"
            "strategy: {name: zero3, precision: bf16-mixed}\n"
            "slurm: {partition: gpu, time_limit_min: 90, gpus_per_node: 8, sbatch: [--qos=high, --mem=512G]}\n"
            "model: {params: 7.5B, optimizer: adamw, gpu_memory: 80GiB}\n";
        auto spec = parseRunSpec(yaml, QStringLiteral("spec.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(spec, spec ? "" : qPrintable(spec.error()));
        QCOMPARE(spec->backend, QStringLiteral("lab"));
        QCOMPARE(spec->nodes, 4);
        QCOMPARE(spec->slurm.partition, QStringLiteral("gpu"));
        QCOMPARE(spec->slurm.timeLimitMinutes, 90);
        QCOMPARE(spec->slurm.gpusPerNode, 8);
        QCOMPARE(spec->slurm.sbatchOptions, (QStringList{"--qos=high", "--mem=512G"}));
        QCOMPARE(localLaunchFor(*spec).request.nnodes, 4);

        const auto input = planInputFor(*spec);
        QVERIFY(input.has_value());
        QCOMPARE(*input->parameters, 7.5e9);
        QCOMPARE(input->nodes, 4);
        QCOMPARE(input->ranksPerNode, 8);
        QCOMPARE(strategyName(input->strategy), QStringLiteral("zero3"));
        QCOMPARE(input->gpuMemoryBytes, 80.0 * 1024 * 1024 * 1024);
        QCOMPARE(optimizerName(input->optimizer), optimizerName(OptimizerKind::AdamW));

        // The profile gives defaults; the spec's values win and its sbatch options add to the profile's.
        SlurmJobSettings profile;
        profile.partition = QStringLiteral("cpu");
        profile.account = QStringLiteral("ml");
        profile.cpusPerTask = 16;
        profile.sbatchOptions = {QStringLiteral("--comment=from-profile")};
        const SlurmJobSettings merged = mergeSlurmSettings(profile, spec->slurm);
        QCOMPARE(merged.partition, QStringLiteral("gpu"));
        QCOMPARE(merged.account, QStringLiteral("ml"));
        QCOMPARE(merged.cpusPerTask, 16);
        QCOMPARE(merged.timeLimitMinutes, 90);
        QCOMPARE(merged.sbatchOptions, (QStringList{"--comment=from-profile", "--qos=high", "--mem=512G"}));

        auto local = parseRunSpec("command: [a]\n", QStringLiteral("spec.yaml"), QStringLiteral("/tmp"));
        QVERIFY(local);
        QVERIFY(!planInputFor(*local).has_value());
    }

    // `alerts:` rules: read with their condition, step and action; checked against points as ingestion does.
    void alertRulesAreReadAndFireOnce()
    {
        auto spec = parseRunSpec("command: [a]\n"
                                 "alerts:\n"
                                 "  - {metric: train/loss, when: nan}\n"
                                 "  - {metric: val/acc, below: 0.1, after_step: 1000, action: stop}\n"
                                 "  - {metric: grad_norm, above: 1e3}\n",
                                 QStringLiteral("spec.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(spec.ok(), spec ? "" : qPrintable(spec.error()));
        QCOMPARE(spec->alerts.size(), 3);
        const AlertRule &nan = spec->alerts[0];
        QVERIFY(nan.condition == AlertRule::Condition::NotFinite && nan.action == AlertRule::Action::Notify);
        const AlertRule &acc = spec->alerts[1];
        QVERIFY(acc.condition == AlertRule::Condition::Below && acc.action == AlertRule::Action::Stop);
        QCOMPARE(acc.threshold, 0.1);
        QCOMPARE(acc.afterStep, std::int64_t(1000));
        QCOMPARE(acc.describe(), QStringLiteral("val/acc below 0.1 after step 1000"));
        QCOMPARE(spec->alerts[2].threshold, 1000.0);

        AlertEvaluator evaluator(spec->alerts);
        QVERIFY(evaluator.observe("val/acc", 999, 0.01).isEmpty()); // before after_step
        QVERIFY(evaluator.observe("val/acc", 1000, 0.5).isEmpty());
        QVERIFY(evaluator.observe("val/accuracy", 1200, 0.01).isEmpty()); // another key
        const QList<FiredAlert> fired = evaluator.observe("val/acc", 1200, 0.05);
        QCOMPARE(fired.size(), 1);
        QCOMPARE(fired.first().message(),
                 QStringLiteral("alert: val/acc below 0.1 after step 1000: 0.05 at step 1200 (the run is stopped)"));
        QVERIFY(evaluator.observe("val/acc", 1300, 0.01).isEmpty()); // once
        QCOMPARE(evaluator.observe("train/loss", 3, std::numeric_limits<double>::infinity()).size(), 1);
        QVERIFY(evaluator.observe("train/loss", 4, std::nan("")).isEmpty());
        QVERIFY(evaluator.observe("grad_norm", 5, std::nan("")).isEmpty()); // NaN is not above anything
        QCOMPARE(evaluator.observe("grad_norm", 6, 2e3).size(), 1);
    }

    void errorsNameLineColumnAndExpectedType_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown key") << QByteArray("name: x\ncomand: [a]\n") << "spec.yaml:2:1: unknown key 'comand'";
        QTest::newRow("missing command") << QByteArray("name: x\n") << "spec.yaml:1:1: missing 'command'";
        QTest::newRow("command not a list")
            << QByteArray("command: python3 train.py\n") << "spec.yaml:1:10: 'command' must be a list of strings";
        QTest::newRow("empty command") << QByteArray("command: []\n")
                                       << "spec.yaml:1:10: 'command' must name a program";
        QTest::newRow("ranks not integer") << QByteArray("command: [a]\nresources:\n  ranks_per_node: two\n")
                                           << "spec.yaml:3:19: 'resources.ranks_per_node' must be an integer";
        QTest::newRow("ranks below 1") << QByteArray("command: [a]\nresources: {ranks_per_node: 0}\n")
                                       << "spec.yaml:2:29: 'resources.ranks_per_node' must be at least 1 (got 0)";
        QTest::newRow("unknown resource") << QByteArray("command: [a]\nresources:\n  gpu: [0]\n")
                                          << "spec.yaml:3:3: unknown key 'gpu' in 'resources'";
        QTest::newRow("alerts not a list") << QByteArray("command: [a]\nalerts: {metric: loss}\n")
                                           << "spec.yaml:2:9: 'alerts' must be a list of rules";
        QTest::newRow("alert without metric")
            << QByteArray("command: [a]\nalerts:\n  - {when: nan}\n") << "spec.yaml:3:5: 'alerts[0]' needs 'metric'";
        QTest::newRow("alert with two conditions")
            << QByteArray("command: [a]\nalerts:\n  - {metric: loss, below: 1, above: 2}\n")
            << "spec.yaml:3:5: 'alerts[0]' needs exactly one of 'when: nan', 'below: X' or 'above: X' (has 2)";
        QTest::newRow("alert threshold not a number")
            << QByteArray("command: [a]\nalerts:\n  - {metric: loss, below: low}\n")
            << "spec.yaml:3:27: 'alerts[0].below' must be a number";
        QTest::newRow("alert when not nan") << QByteArray("command: [a]\nalerts:\n  - {metric: loss, when: high}\n")
                                            << "spec.yaml:3:26: 'alerts[0].when' must be 'nan'";
        QTest::newRow("alert unknown action")
            << QByteArray("command: [a]\nalerts:\n  - {metric: loss, when: nan, action: page}\n")
            << "spec.yaml:3:39: 'alerts[0].action' must be 'notify' or 'stop' (got 'page')";
        QTest::newRow("alert negative step")
            << QByteArray("command: [a]\nalerts:\n  - {metric: loss, when: nan, after_step: -5}\n")
            << "spec.yaml:3:43: 'alerts[0].after_step' must be a step";
        QTest::newRow("alert unknown key")
            << QByteArray("command: [a]\nalerts:\n  - {metric: loss, when: nan, at: 3}\n")
            << "spec.yaml:3:31: unknown key 'at' in 'alerts[0]'";
        QTest::newRow("shell not bool") << QByteArray("command: [a]\nshell: sometimes\n")
                                        << "spec.yaml:2:8: 'shell' must be true or false";
        QTest::newRow("negative grace") << QByteArray("command: [a]\ngrace_s: -1\n")
                                        << "spec.yaml:2:10: 'grace_s' must not be negative (got -1)";
        // Durations past a week used to overflow into negative milliseconds (issue 15, defect 5).
        QTest::newRow("grace past a week")
            << QByteArray("command: [a]\ngrace_s: 3000000\n")
            << "spec.yaml:2:10: 'grace_s' must be at most 604800 seconds (a week; got 3e+06)";
        QTest::newRow("hang timeout 1e300") << QByteArray("command: [a]\nhang_timeout_s: 1e300\n")
                                            << "spec.yaml:2:17: 'hang_timeout_s' must be at most 604800 seconds";
        QTest::newRow("env name with =") << QByteArray("command: [a]\nenv: {\"A=B\": x}\n")
                                         << "spec.yaml:2:6: 'env': environment variable name 'A=B' contains '='";
        QTest::newRow("env name empty") << QByteArray("command: [a]\nenv: {\"\": x}\n")
                                        << "spec.yaml:2:6: 'env': an environment variable needs a name";
        QTest::newRow("env value with NUL")
            << QByteArray("command: [a]\nenv: {A: \"x\\0y\"}\n")
            << "spec.yaml:2:10: 'env.A': an environment variable's value cannot hold a NUL";
        QTest::newRow("env not a map") << QByteArray("command: [a]\nenv: [A=1]\n")
                                       << "spec.yaml:2:6: 'env' must be a mapping of names to values";
        QTest::newRow("gpus vs ranks") << QByteArray("command: [a]\nresources: {ranks_per_node: 4, gpus: [0, 1]}\n")
                                       << "spec.yaml:2:38: 2 GPUs for 4 ranks per node";
        QTest::newRow("duplicate gpu") << QByteArray("command: [a]\nresources: {gpus: [1, 1]}\n")
                                       << "spec.yaml:2:23: GPU 1 is listed twice";
        QTest::newRow("nodes on local") << QByteArray("command: [a]\nresources: {nodes: 2}\n")
                                        << "spec.yaml:2:20: 2 nodes need a cluster backend";
        QTest::newRow("slurm on local") << QByteArray("command: [a]\nslurm: {partition: gpu}\n")
                                        << "spec.yaml:2:8: 'slurm' settings need a Slurm backend";
        QTest::newRow("local gpus on cluster") << QByteArray("command: [a]\nbackend: lab\nresources: {gpus: [0]}\n")
                                               << "spec.yaml:3:19: 'resources.gpus' picks GPUs of this machine";
        QTest::newRow("newline in partition")
            << QByteArray("command: [a]\nbackend: lab\nslurm: {partition: \"gpu\\ntouch pwned #\"}\n")
            << "spec.yaml:3:20: 'slurm.partition' contains a control character (U+000a at position 4)";
        QTest::newRow("unknown slurm key") << QByteArray("command: [a]\nbackend: lab\nslurm: {queue: gpu}\n")
                                           << "spec.yaml:3:9: unknown key 'queue' in 'slurm'";
        QTest::newRow("unsupported sbatch")
            << QByteArray("command: [a]\nbackend: lab\nslurm: {sbatch: [--exclusive]}\n")
            << "spec.yaml:3:17: sbatch option --exclusive is not one Trainyard can pass";
        QTest::newRow("bad sbatch memory") << QByteArray("command: [a]\nbackend: lab\nslurm: {sbatch: [--mem=lots]}\n")
                                           << "spec.yaml:3:17: sbatch option --mem: 'lots' is not a memory size";
        QTest::newRow("model without size") << QByteArray("command: [a]\nmodel: {optimizer: adam}\n")
                                            << "spec.yaml:2:8: 'model' needs 'params' or a transformer shape";
        QTest::newRow("model half a shape") << QByteArray("command: [a]\nmodel: {layers: 2, hidden: 64}\n")
                                            << "spec.yaml:2:8: a transformer shape needs all of";
        QTest::newRow("model bad params") << QByteArray("command: [a]\nmodel: {params: many}\n")
                                          << "spec.yaml:2:17: 'model.params' must be a parameter count";
        QTest::newRow("model bad memory") << QByteArray("command: [a]\nmodel: {params: 7B, gpu_memory: big}\n")
                                          << "spec.yaml:2:33: 'model.gpu_memory' must be a size";
        QTest::newRow("nccl level") << QByteArray("command: [a]\nnccl: {debug: LOUD}\n")
                                    << "spec.yaml:2:15: 'nccl.debug' must be one of";
        QTest::newRow("nccl unknown key")
            << QByteArray("command: [a]\nnccl:\n  p2p: true\n") << "spec.yaml:3:3: unknown key 'p2p' in 'nccl'";
        QTest::newRow("bad yaml") << QByteArray("command: [a\n") << "spec.yaml:2:1: not valid YAML";
        QTest::newRow("not a mapping") << QByteArray("- a\n- b\n") << "spec.yaml:1:1: a run spec must be a mapping";
        // Issue 15, defect 14: these were accepted silently.
        QTest::newRow("latin-1 byte") << QByteArray("command: [a]\nname: caf\xe9\n")
                                      << "spec.yaml:2:10: not UTF-8 text";
        QTest::newRow("overlong utf-8") << QByteArray("command: [a]\nname: \xc0\xaf\n")
                                        << "spec.yaml:2:7: not UTF-8 text";
        QTest::newRow("duplicate top-level key") << QByteArray("command: [a]\nname: x\nname: y\n")
                                                 << "spec.yaml:3:1: 'name' is given twice in the same mapping";
        QTest::newRow("duplicate nested key") << QByteArray("command: [a]\nparams:\n  lr: 0.1\n  lr: 0.2\n")
                                              << "spec.yaml:4:3: 'lr' is given twice in the same mapping";
        // Found by fuzz_runspec: an alias that refers to itself sent the duplicate-key check into endless recursion.
        QTest::newRow("alias of itself") << QByteArray("command: [a]\nparams: &x [*x]\n")
                                         << "spec.yaml:2:9: the spec nests deeper than 32 levels";
        QTest::newRow("NUL in command") << QByteArray("command: [python3, \"train\\0.py\"]\n")
                                        << "spec.yaml:1:20: 'command' element 2 holds a NUL byte";
    }
    void errorsNameLineColumnAndExpectedType()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(QString, message);
        auto spec = parseRunSpec(yaml, QStringLiteral("spec.yaml"), QStringLiteral("/tmp"));
        QVERIFY(!spec.ok());
        QVERIFY2(spec.error().startsWith(message), qPrintable(spec.error()));
    }
};

QTEST_GUILESS_MAIN(TestRunSpec)
#include "tst_runspec.moc"
