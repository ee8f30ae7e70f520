// The real trainyard binary: exit codes, usage, ls --json, and bad workspaces left untouched.
#include "launch/supervisorrecord.h"
#include "store/preflighthistory.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"
#include "support/httpclient.h"
#include "support/testworkspace.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <cmath>
#include <csignal>
#include <tuple>

using namespace trainyard;

namespace {

using Outcome = test::CommandOutcome;

Outcome runTrainyard(const QStringList &arguments, const QProcessEnvironment &environment)
{
    return test::runTrainyard(arguments, environment, 30000);
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT
private:
    // Starts `trainyard serve --port 0` and reads the URI and token off its banner.
    void startServe(QProcess &serve, QString &uri, QString &token)
    {
        serve.setProcessEnvironment(m_environment);
        serve.start(QStringLiteral(TRAINYARD_BINARY), {"serve", "--port", "0"});
        QVERIFY(serve.waitForStarted());
        QString banner;
        QTRY_VERIFY_WITH_TIMEOUT(
            (banner += QString::fromUtf8(serve.readAllStandardOutput())).contains(QStringLiteral("Ctrl-C")), 10000);
        uri = QRegularExpression(QStringLiteral("MLFLOW_TRACKING_URI=(\\S+)")).match(banner).captured(1);
        token = QRegularExpression(QStringLiteral("MLFLOW_TRACKING_TOKEN=(\\S+)")).match(banner).captured(1);
    }

private slots:
    void init()
    {
        m_home.reset(new QTemporaryDir);
        m_environment = QProcessEnvironment::systemEnvironment();
        m_environment.remove(QStringLiteral("TRAINYARD_HOME"));
        m_environment.insert(QStringLiteral("XDG_DATA_HOME"), m_home->path() + QStringLiteral("/data"));
        m_environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home->path() + QStringLiteral("/config"));
        m_environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    }

    void versionAndHelp()
    {
        const Outcome version = runTrainyard({QStringLiteral("--version")}, m_environment);
        QCOMPARE(version.exitCode, 0);
        QVERIFY(QRegularExpression(QStringLiteral("^trainyard \\d+\\.\\d+\\.\\d+\\n$")).match(version.out).hasMatch());

        const Outcome help = runTrainyard({QStringLiteral("--help")}, m_environment);
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains(QStringLiteral("Commands:")));
        QVERIFY(QRegularExpression(QStringLiteral("\\n  ls +List the runs")).match(help.out).hasMatch());
        QVERIFY(help.out.contains(QStringLiteral("--workspace DIR")));

        const Outcome lsHelp = runTrainyard({QStringLiteral("ls"), QStringLiteral("--help")}, m_environment);
        QCOMPARE(lsHelp.exitCode, 0);
        QVERIFY(lsHelp.out.contains(QStringLiteral("--json")));
    }

    void badCommandLinesExitTwoWithUsage_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("named");
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << "unknown command 'frobnicate'";
        QTest::newRow("unknown global option") << QStringList{"--frobnicate"} << "frobnicate";
        QTest::newRow("unknown ls option") << QStringList{"ls", "--frobnicate"} << "frobnicate";
        QTest::newRow("stray ls argument") << QStringList{"ls", "extra"} << "extra";
        QTest::newRow("workspace without value") << QStringList{"ls", "--workspace"} << "workspace";
        QTest::newRow("grace past a week") << QStringList{"launch", "--grace", "3000000", "--", "/bin/true"}
                                           << "--grace '3000000' is not a number of seconds from 0 to 604800";
        QTest::newRow("env name with =") << QStringList{"launch", "--env", "=B", "--", "/bin/true"}
                                         << "--env '=B' is not KEY=VALUE";
        QTest::newRow("agent without run dir") << QStringList{"agent"} << "--run-dir is required";
        QTest::newRow("plan params 1e300") << QStringList{"plan", "--params", "1e300", "--json"}
                                           << "--params '1e300' is not a count such as 7.5e9 or 350M (from 1 to 1e15)";
        QTest::newRow("ls limit zero") << QStringList{"ls", "--limit", "0"}
                                       << "--limit '0' is not a positive whole number";
        QTest::newRow("ls since not a date")
            << QStringList{"ls", "--since", "soonish"} << "--since 'soonish' is not a date";
        QTest::newRow("ls bad filter") << QStringList{"ls", "--filter", "lr>>1"} << "unknown operator '>>'";
        QTest::newRow("serve port not a number") << QStringList{"serve", "--port", "http"} << "--port takes a number";
        QTest::newRow("serve port too large") << QStringList{"serve", "--port", "70000"} << "70000";
        QTest::newRow("import both kinds")
            << QStringList{"import", "--tensorboard", "--mlflow", "x"} << "exclude each other";
        QTest::newRow("rename without a name") << QStringList{"rename", "abc"} << "give a run and its new name";
        QTest::newRow("rm without a run") << QStringList{"rm"} << "give at least one run";
        QTest::newRow("archive without a run") << QStringList{"archive", "--undo"} << "give at least one run";
        QTest::newRow("notes text and clear") << QStringList{"notes", "abc", "text", "--clear"} << "at most one of";
    }
    void badCommandLinesExitTwoWithUsage()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, named);
        const Outcome outcome = runTrainyard(arguments, m_environment);
        QCOMPARE(outcome.exitCode, 2);
        QVERIFY2(outcome.err.contains(named), qPrintable(outcome.err));
        QVERIFY2(outcome.err.contains(QStringLiteral("Usage:")), qPrintable(outcome.err));
        QCOMPARE(outcome.out, QString());
        QVERIFY(!QFileInfo::exists(m_home->path() + QStringLiteral("/data/trainyard")));
    }

    // trainyard serve: prints the URI and token, serves the real API, a busy port is named (exit 1), SIGTERM stops it
    // with everything committed (exit 0).
    void serveServesAndStopsCleanly()
    {
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        const Outcome busy = runTrainyard({"serve", "--port", QString::number(squatter.serverPort())}, m_environment);
        QCOMPARE(busy.exitCode, 1);
        QVERIFY2(busy.err.contains(QString::number(squatter.serverPort())), qPrintable(busy.err));

        QProcess serve;
        QString uri, token;
        startServe(serve, uri, token);
        if (QTest::currentTestFailed())
            return;
        QVERIFY2(uri.startsWith(QStringLiteral("http://127.0.0.1:")), qPrintable(uri));
        QCOMPARE(token.size(), 64);
        test::HttpClient client(uri, token.toLatin1());
        const auto created =
            client.post(QStringLiteral("runs/create"), R"({"experiment_id": "0", "run_name": "by-hand"})");
        QCOMPARE(created.status, 200L);
        const QString runId =
            created.json()[QStringLiteral("run")][QStringLiteral("info")][QStringLiteral("run_id")].toString();
        QCOMPARE(client
                     .post(QStringLiteral("runs/log-metric"),
                           QStringLiteral(R"({"run_id": "%1", "key": "loss", "value": 0.5, "timestamp": 1, "step": 3})")
                               .arg(runId)
                               .toUtf8())
                     .status,
                 200L);
        ::kill(pid_t(serve.processId()), SIGTERM);
        QVERIFY(serve.waitForFinished(10000));
        QCOMPARE(serve.exitCode(), 0);
        QVERIFY2(QDir(m_home->path() + QStringLiteral("/data/trainyard/tracking"))
                     .entryList({QStringLiteral("journal-*.bin")})
                     .isEmpty(),
                 "a clean stop leaves no journal behind");
        QVERIFY(QString::fromUtf8(serve.readAllStandardOutput()).contains(QStringLiteral("everything committed")));
        QVERIFY2(!QString::fromUtf8(serve.readAllStandardError()).contains(token),
                 "the token is never printed on stderr");

        const Outcome ls = runTrainyard({"ls", "--json"}, m_environment);
        const QJsonArray runs = QJsonDocument::fromJson(ls.out.toUtf8()).array();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs[0][QStringLiteral("name")].toString(), QStringLiteral("by-hand"));
        QCOMPARE(runs[0][QStringLiteral("backend")].toString(), QStringLiteral("mlflow"));
        const Outcome metrics = runTrainyard({"metrics", runId, "loss", "--csv"}, m_environment);
        QVERIFY2(metrics.out.startsWith(QStringLiteral("key,step,value,ts\nloss,3,0.5,")), qPrintable(metrics.out));
    }

    // The real MLflow 2.12.2 client against `trainyard serve`: every client path, NaN and infinities, read back through
    // mlflow.get_run and MlflowClient().get_metric_history (the probe checks what it reads against what it sent).
    void realMlflowClientAgainstServe()
    {
        const QString realClients = QStringLiteral(TRAINYARD_SOURCE_DIR "/../shared/realclients");
        if (!QFileInfo::exists(realClients + QStringLiteral("/mlflow_probe.py")))
            QSKIP("../shared/realclients is absent: the real MLflow client is there (docs/MLFLOW.md)");
        QProcess serve;
        QString uri, token;
        startServe(serve, uri, token);
        if (QTest::currentTestFailed())
            return;
        QProcess probe;
        QProcessEnvironment environment = m_environment;
        environment.insert(QStringLiteral("PYTHONPATH"), realClients + QStringLiteral("/mlflow-src"));
        environment.insert(QStringLiteral("MLFLOW_HTTP_REQUEST_MAX_RETRIES"), QStringLiteral("0"));
        environment.insert(QStringLiteral("MLFLOW_TRACKING_TOKEN"), token);
        probe.setProcessEnvironment(environment);
        probe.start(QStringLiteral("/usr/bin/python3"),
                    {realClients + QStringLiteral("/mlflow_probe.py"), uri, "--experiment", "cli-exp", "--run-name",
                     "cli-run", "--edge-cases", "--readback", "--fail"});
        QVERIFY(probe.waitForFinished(120000));
        QVERIFY2(probe.exitCode() == 0, probe.readAllStandardError().right(3000).constData());
        QVERIFY(QString::fromUtf8(probe.readAllStandardOutput()).contains(QStringLiteral("readback OK")));
        // A wrong token: the client is refused with MLflow's error and nothing is stored.
        environment.insert(QStringLiteral("MLFLOW_TRACKING_TOKEN"), QStringLiteral("wrong"));
        QProcess intruder;
        intruder.setProcessEnvironment(environment);
        intruder.start(QStringLiteral("/usr/bin/python3"),
                       {realClients + QStringLiteral("/mlflow_probe.py"), uri, "--experiment", "intruder"});
        QVERIFY(intruder.waitForFinished(120000));
        QVERIFY(intruder.exitCode() != 0);
        QVERIFY2(QString::fromUtf8(intruder.readAllStandardError()).contains(QStringLiteral("UNAUTHENTICATED")),
                 "the client says why");
        ::kill(pid_t(serve.processId()), SIGTERM);
        QVERIFY(serve.waitForFinished(10000));
        const QJsonArray runs =
            QJsonDocument::fromJson(runTrainyard({"ls", "--json"}, m_environment).out.toUtf8()).array();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs[0][QStringLiteral("name")].toString(), QStringLiteral("cli-run"));
        QCOMPARE(runs[0][QStringLiteral("status")].toString(),
                 QStringLiteral("failed")); // --fail: the client sent FAILED
    }

    // kill -9 of `trainyard serve` right after it answered: nothing it answered is lost; the next server commits it.
    void serveKilledLosesNothingAnswered()
    {
        QProcess serve;
        QString uri, token;
        startServe(serve, uri, token);
        if (QTest::currentTestFailed())
            return;
        test::HttpClient client(uri, token.toLatin1());
        const QString runId =
            client.post(QStringLiteral("runs/create"), R"({"experiment_id": "0", "run_name": "killed"})")
                .json()[QStringLiteral("run")][QStringLiteral("info")][QStringLiteral("run_id")]
                .toString();
        QJsonArray metrics;
        for (int step = 0; step < 500; ++step)
            metrics.append(QJsonObject{
                {"key", "loss"}, {"value", step * 0.5}, {"timestamp", 1700000000000LL + step}, {"step", step}});
        QCOMPARE(client
                     .post(QStringLiteral("runs/log-batch"),
                           QJsonDocument(QJsonObject{{"run_id", runId}, {"metrics", metrics}}).toJson())
                     .status,
                 200L);
        ::kill(pid_t(serve.processId()), SIGKILL);
        QVERIFY(serve.waitForFinished(10000));

        QProcess again;
        QString secondUri, secondToken;
        startServe(again, secondUri, secondToken);
        QCOMPARE(secondToken, token);
        ::kill(pid_t(again.processId()), SIGTERM);
        QVERIFY(again.waitForFinished(10000));
        const QJsonObject stored =
            QJsonDocument::fromJson(runTrainyard({"metrics", runId, "--json"}, m_environment).out.toUtf8()).object();
        QCOMPARE(stored[QStringLiteral("loss")].toArray().size(), 500);
        QCOMPARE(stored[QStringLiteral("loss")].toArray()[499][QStringLiteral("value")].toDouble(), 249.5);
    }

    // trainyard import --tensorboard: a logdir's folders become runs, a second import adds nothing, bad input is named.
    void importTensorBoardFromTheCommandLine()
    {
        QTemporaryDir logdir;
        QVERIFY(QDir().mkpath(logdir.filePath(QStringLiteral("exp/run-a"))));
        QFile file(logdir.filePath(QStringLiteral("exp/run-a/events.out.tfevents.1.host")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        for (int step = 0; step < 10; ++step)
            file.write(test::tensorboardScalarRecord(step, "train/loss", 0.25f * float(step), 1700000000.0 + step));
        file.close();
        const Outcome first =
            runTrainyard({"import", "--tensorboard", logdir.filePath(QStringLiteral("exp"))}, m_environment);
        QVERIFY2(first.exitCode == 0, qPrintable(first.err));
        QVERIFY2(first.out.contains(QStringLiteral("imported 1 run(s)"))
                     && first.out.contains(QStringLiteral("10 new metric points")),
                 qPrintable(first.out));
        const Outcome again =
            runTrainyard({"import", "--tensorboard", logdir.filePath(QStringLiteral("exp"))}, m_environment);
        QVERIFY2(again.out.contains(QStringLiteral("imported 0 run(s)"))
                     && again.out.contains(QStringLiteral("1 already here")),
                 qPrintable(again.out));
        const QJsonArray runs =
            QJsonDocument::fromJson(runTrainyard({"ls", "--json"}, m_environment).out.toUtf8()).array();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs[0][QStringLiteral("name")].toString(), QStringLiteral("run-a"));
        QCOMPARE(runs[0][QStringLiteral("status")].toString(), QStringLiteral("succeeded"));
        QCOMPARE(runs[0][QStringLiteral("started_at")].toString(), QStringLiteral("2023-11-14T22:13:20.000Z"));

        const Outcome missing =
            runTrainyard({"import", "--tensorboard", logdir.filePath(QStringLiteral("nope"))}, m_environment);
        QCOMPARE(missing.exitCode, 1);
        QVERIFY(missing.err.contains(logdir.filePath(QStringLiteral("nope"))));
        const Outcome noStore =
            runTrainyard({"import", "--mlflow", logdir.filePath(QStringLiteral("exp"))}, m_environment);
        QCOMPARE(noStore.exitCode, 1);
        QVERIFY2(noStore.err.contains(QStringLiteral("run-a/meta.yaml: missing")), qPrintable(noStore.err));
    }

    void lsJsonListsRunsNewestFirst()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QDateTime t0 = QDateTime::fromMSecsSinceEpoch(1764000000000, Qt::UTC);
        const QString older =
            workspace.addRun(QStringLiteral("older"), RunStatus::Succeeded, {QStringLiteral("baseline")}, t0);
        const QString newer = workspace.addRun(QStringLiteral("newer"), RunStatus::Failed, {}, t0.addSecs(3600));
        workspace.writer().flush();

        // --workspace after the command, before it, and through TRAINYARD_HOME all find the same runs.
        QProcessEnvironment withHome = m_environment;
        withHome.insert(QStringLiteral("TRAINYARD_HOME"), workspace.root());
        const QList<std::pair<QStringList, QProcessEnvironment>> invocations{
            {{"ls", "--json", "--workspace", workspace.root()}, m_environment},
            {{"--workspace", workspace.root(), "ls", "--json"}, m_environment},
            {{"ls", "--json"}, withHome},
        };
        for (const auto &[arguments, environment] : invocations) {
            const Outcome outcome = runTrainyard(arguments, environment);
            QCOMPARE(outcome.exitCode, 0);
            QJsonParseError error;
            const QJsonDocument document = QJsonDocument::fromJson(outcome.out.toUtf8(), &error);
            QCOMPARE(error.error, QJsonParseError::NoError);
            const QJsonArray runs = document.array();
            QCOMPARE(runs.size(), 2);
            QCOMPARE(runs[0].toObject()[QStringLiteral("id")].toString(), newer);
            QCOMPARE(runs[1].toObject()[QStringLiteral("id")].toString(), older);
            const QJsonObject run = runs[1].toObject();
            QCOMPARE(run[QStringLiteral("name")].toString(), QStringLiteral("older"));
            QCOMPARE(run[QStringLiteral("status")].toString(), QStringLiteral("succeeded"));
            QCOMPARE(run[QStringLiteral("tags")].toArray(), QJsonArray{QStringLiteral("baseline")});
            QCOMPARE(run[QStringLiteral("duration_s")].toDouble(), 95.0);
            QCOMPARE(run[QStringLiteral("started_at")].toString(), t0.addSecs(5).toString(Qt::ISODateWithMs));
            QCOMPARE(run[QStringLiteral("command")].toArray().size(), 3);
            QCOMPARE(run[QStringLiteral("backend")].toString(), QStringLiteral("local"));
        }

        const Outcome table = runTrainyard({"ls", "--workspace", workspace.root()}, m_environment);
        QCOMPARE(table.exitCode, 0);
        const QStringList lines = table.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[0].startsWith(QStringLiteral("ID")));
        QVERIFY(lines[1].startsWith(newer));
        QVERIFY(lines[2].contains(QStringLiteral("succeeded")));
    }

    // ls --limit, --filter (the window's language, params and metrics included) and --since, in the table and in
    // --json, newest first; a filter that matches nothing prints an empty array.
    void lsLimitsFiltersAndSince()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QDateTime day = QDateTime(QDate(2026, 11, 20), QTime(12, 0), Qt::UTC);
        QStringList ids; // oldest first
        for (int i = 0; i < 5; ++i)
            ids << workspace.addRun(QStringLiteral("run%1").arg(i), i == 3 ? RunStatus::Failed : RunStatus::Succeeded,
                                    i % 2 ? QStringList{QStringLiteral("baseline")} : QStringList{}, day.addDays(i),
                                    {{QStringLiteral("lr"), QString::number(0.001 * (i + 1))}});
        QVERIFY(workspace.addPoints(ids[1], QStringLiteral("loss"), {0, 1}, {0.9, 0.1}));
        const auto listed = [&](const QStringList &options) {
            const Outcome outcome =
                runTrainyard(QStringList{"ls", "--json", "--workspace", workspace.root()} + options, m_environment);
            QStringList found;
            if (outcome.exitCode != 0)
                return QStringList{QStringLiteral("exit %1: %2").arg(outcome.exitCode).arg(outcome.err)};
            for (const QJsonValue &run : QJsonDocument::fromJson(outcome.out.toUtf8()).array())
                found << run.toObject()[QStringLiteral("id")].toString();
            return found;
        };
        QCOMPARE(listed({}), (QStringList{ids[4], ids[3], ids[2], ids[1], ids[0]}));
        QCOMPARE(listed({"--limit", "2"}), (QStringList{ids[4], ids[3]}));
        QCOMPARE(listed({"--filter", "tag:baseline"}), (QStringList{ids[3], ids[1]}));
        QCOMPARE(listed({"--filter", "status:failed"}), QStringList{ids[3]});
        QCOMPARE(listed({"--filter", "lr>=0.003"}), (QStringList{ids[4], ids[3], ids[2]}));
        QCOMPARE(listed({"--filter", "loss.min<0.2"}), QStringList{ids[1]});
        QCOMPARE(listed({"--filter", "tag:baseline", "--limit", "1"}), QStringList{ids[3]});
        QCOMPARE(listed({"--since", "2026-11-23"}), (QStringList{ids[4], ids[3]}));
        QCOMPARE(listed({"--since", "2026-11-22T12:00:00Z"}), (QStringList{ids[4], ids[3], ids[2]}));
        QCOMPARE(listed({"--since", "1d"}), QStringList{}); // all older than a day (the clock is 2026-12 or later)
        const Outcome none = runTrainyard(
            {"ls", "--json", "--filter", "name~nothing-like-this", "--workspace", workspace.root()}, m_environment);
        QCOMPARE(none.exitCode, 0);
        QCOMPARE(none.out.trimmed(), QStringLiteral("[]"));

        const Outcome table = runTrainyard({"ls", "--limit", "2", "--workspace", workspace.root()}, m_environment);
        QCOMPARE(table.exitCode, 0);
        const QStringList lines = table.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[1].startsWith(ids[4]));
        QVERIFY(lines[2].startsWith(ids[3]));
        QVERIFY(lines[2].contains(QStringLiteral("failed")));
    }

    // A name with a newline or a terminal escape sequence is printed escaped by ls and show, never raw (issue 15,
    // defect 14); --json keeps it whole (JSON escapes it).
    void lsAndShowEscapeControlCharacters()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString name = QStringLiteral("evil\x1b[31mred\nsecond line");
        const QString runId = workspace.addRun(name, RunStatus::Succeeded, {QStringLiteral("tab\there")});
        const Outcome table = runTrainyard({"ls", "--workspace", workspace.root()}, m_environment);
        QCOMPARE(table.exitCode, 0);
        QVERIFY2(!table.out.contains(QChar(0x1b)), qPrintable(table.out));
        const QStringList lines = table.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[1].contains(QStringLiteral("evil\\x1b[31mred\\nsecond line")), qPrintable(lines[1]));
        QVERIFY2(lines[1].contains(QStringLiteral("tab\\there")), qPrintable(lines[1]));
        const Outcome shown = runTrainyard({"show", runId, "--workspace", workspace.root()}, m_environment);
        QCOMPARE(shown.exitCode, 0);
        QVERIFY2(!shown.out.contains(QChar(0x1b)), qPrintable(shown.out));
        QVERIFY2(shown.out.contains(QStringLiteral("evil\\x1b[31mred\\nsecond line")), qPrintable(shown.out));
        const Outcome json = runTrainyard({"ls", "--json", "--workspace", workspace.root()}, m_environment);
        QCOMPARE(
            QJsonDocument::fromJson(json.out.toUtf8()).array().first().toObject()[QStringLiteral("name")].toString(),
            name);

        // A run named like the start of every id (its year) is found by its name (the newest of that name), not
        // refused as an ambiguous id prefix; a bare prefix of several ids still is.
        const QString year = runId.left(4);
        workspace.addRun(year, RunStatus::Failed, {}, QDateTime::currentDateTimeUtc().addSecs(-60));
        const QString newest = workspace.addRun(year, RunStatus::Succeeded);
        const Outcome byName = runTrainyard({"show", year, "--json", "--workspace", workspace.root()}, m_environment);
        QCOMPARE(byName.exitCode, 0);
        QCOMPARE(QJsonDocument::fromJson(byName.out.toUtf8()).object()[QStringLiteral("id")].toString(), newest);
        const Outcome prefix = runTrainyard({"show", runId.left(3), "--workspace", workspace.root()}, m_environment);
        QCOMPARE(prefix.exitCode, 1);
        QVERIFY2(prefix.err.contains(QStringLiteral("matches several runs")), qPrintable(prefix.err));
    }

    // Housekeeping from a terminal: rename, tag, notes, archive and rm, with the window's checks; bad input exits 1
    // naming what was wrong and changes nothing.
    void housekeepingFromTheCommandLine()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("first"), RunStatus::Succeeded, {QStringLiteral("old")});
        const QString running = workspace.addRun(QStringLiteral("busy"), RunStatus::Running);
        QDir().mkpath(workspace.workspace().runDir(runId));
        QFile log(workspace.workspace().runDir(runId) + QStringLiteral("/rank0.log"));
        QVERIFY(log.open(QIODevice::WriteOnly));
        log.write(QByteArray(2048, 'x'));
        log.close();
        const QStringList at = {QStringLiteral("--workspace"), workspace.root()};
        const auto run = [&](QStringList arguments) { return runTrainyard(arguments << at, m_environment); };
        const auto shown = [&](const QString &id) {
            return QJsonDocument::fromJson(run({"show", id, "--json"}).out.toUtf8()).object();
        };

        Outcome outcome = run({"rename", runId, "lr-1e-3 baseline"});
        QCOMPARE(outcome.exitCode, 0);
        QCOMPARE(shown(runId)[QStringLiteral("name")].toString(), QStringLiteral("lr-1e-3 baseline"));
        outcome = run({"rename", runId, QString(10000, u'n')});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("at most 200 characters")), qPrintable(outcome.err));
        outcome = run({"rename", runId, "  "});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("cannot be empty")), qPrintable(outcome.err));
        QCOMPARE(shown(runId)[QStringLiteral("name")].toString(), QStringLiteral("lr-1e-3 baseline"));

        outcome = run({"tag", runId, "--add", "baseline", "--add", "resnet", "--remove", "old", "--json"});
        QCOMPARE(outcome.exitCode, 0);
        QCOMPARE(QJsonDocument::fromJson(outcome.out.toUtf8()).array().toVariantList(),
                 QVariantList({QStringLiteral("baseline"), QStringLiteral("resnet")}));
        outcome = run({"tag", runId, "--add", "a,b"});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("comma")), qPrintable(outcome.err));
        outcome = run({"tag", runId, "--add", "two words"});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("space")), qPrintable(outcome.err));
        QCOMPARE(run({"tag", runId}).out.trimmed(), QStringLiteral("baseline resnet"));

        QCOMPARE(run({"notes", runId, "diverged after warmup\nretry with lr/2"}).exitCode, 0);
        QCOMPARE(run({"notes", runId}).out, QStringLiteral("diverged after warmup\nretry with lr/2\n"));
        QCOMPARE(shown(runId)[QStringLiteral("notes")].toString(),
                 QStringLiteral("diverged after warmup\nretry with lr/2"));
        outcome = run({"ls", "--json", "--filter", "notes~warmup"});
        QCOMPARE(QJsonDocument::fromJson(outcome.out.toUtf8()).array().size(), 1);

        // Archive: gone from the default list, shown by status:archived; a running run is refused.
        outcome = run({"archive", runId, running});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("cancel it first")) && outcome.err.contains(running),
                 qPrintable(outcome.err));
        QCOMPARE(run({"archive", runId}).exitCode, 0);
        QJsonArray listed = QJsonDocument::fromJson(run({"ls", "--json"}).out.toUtf8()).array();
        QCOMPARE(listed.size(), 1);
        QCOMPARE(listed.first().toObject()[QStringLiteral("id")].toString(), running);
        listed = QJsonDocument::fromJson(run({"ls", "--json", "--filter", "status:archived"}).out.toUtf8()).array();
        QCOMPARE(listed.size(), 1);
        QVERIFY(!listed.first().toObject()[QStringLiteral("archived_at")].toString().isEmpty());
        QVERIFY2(run({"show", runId}).out.contains(QStringLiteral("archived ")), "show says it is archived");
        QCOMPARE(run({"archive", "--undo", runId}).exitCode, 0);
        QCOMPARE(QJsonDocument::fromJson(run({"ls", "--json"}).out.toUtf8()).array().size(), 2);

        // rm: a running run must be canceled first; --dry-run deletes nothing; the real one says what it freed.
        outcome = run({"rm", running});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("cancel it first")), qPrintable(outcome.err));
        outcome = run({"rm", runId, "--dry-run", "--json"});
        QCOMPARE(outcome.exitCode, 0);
        QCOMPARE(QJsonDocument::fromJson(outcome.out.toUtf8()).object()[QStringLiteral("bytes_freed")].toInt(), 2048);
        QVERIFY(QFileInfo::exists(workspace.workspace().runDir(runId)));
        outcome = run({"rm", runId});
        QCOMPARE(outcome.exitCode, 0);
        QVERIFY2(outcome.out.contains(QStringLiteral("freed 2.0 KiB")), qPrintable(outcome.out));
        QVERIFY(!QFileInfo::exists(workspace.workspace().runDir(runId)));
        outcome = run({"show", runId});
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("no run matches")), qPrintable(outcome.err));
    }

    // Four launches creating the same new workspace at once all succeed (issue 15, defect 11: 1 in 80 failed with
    // "cannot switch ... to WAL mode: database is locked"); 30 rounds.
    void concurrentFirstLaunchesCreateOneWorkspace()
    {
        QTemporaryDir dir;
        for (int round = 0; round < 30; ++round) {
            const QString workspace = dir.filePath(QStringLiteral("ws%1").arg(round));
            std::vector<std::unique_ptr<QProcess>> launches;
            for (int i = 0; i < 4; ++i) {
                auto process = std::make_unique<QProcess>();
                process->setProcessEnvironment(m_environment);
                process->start(QStringLiteral(TRAINYARD_BINARY),
                               {"launch", "--quiet", "--workspace", workspace, "--", "/bin/true"});
                launches.push_back(std::move(process));
            }
            for (auto &process : launches) {
                QVERIFY(process->waitForFinished(60000));
                QVERIFY2(process->exitCode() == 0,
                         qPrintable(QStringLiteral("round %1: %2")
                                        .arg(round)
                                        .arg(QString::fromLocal8Bit(process->readAllStandardError()))));
            }
            const Outcome listed = runTrainyard({"ls", "--json", "--workspace", workspace}, m_environment);
            QCOMPARE(QJsonDocument::fromJson(listed.out.toUtf8()).array().size(), 4);
        }
    }

    // A run the store calls running whose launcher died (here: a supervisor record of a process that has ended) is
    // reported lost by ls and show at once, and neither writes (issue 15, defect 15).
    void readOnlyCommandsReportAnAbandonedRunAsLost()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        NewRun row;
        row.name = QStringLiteral("orphan");
        row.command = {QStringLiteral("/bin/true")};
        row.cwd = QStringLiteral("/tmp");
        row.host = thisHostName();
        row.initialStatus = RunStatus::Running;
        auto created = workspace.writer().createRun(row).get();
        QVERIFY(created);
        const QString runDir = workspace.workspace().runDir(created.value());
        QVERIFY(QDir().mkpath(runDir));
        QProcess ended;
        ended.start(QStringLiteral("/bin/true"));
        QVERIFY(ended.waitForFinished());
        SupervisorRecord record = SupervisorRecord::forThisProcess();
        record.pid = pid_t(ended.processId() > 0 ? ended.processId() : 999999);
        record.processGroup = record.pid;
        QVERIFY(record.write(runDir));
        const Outcome table = runTrainyard({"ls", "--workspace", workspace.root()}, m_environment);
        QVERIFY2(table.out.split(QLatin1Char('\n')).value(1).contains(QStringLiteral("lost")), qPrintable(table.out));
        const Outcome shown = runTrainyard({"show", created.value(), "--workspace", workspace.root()}, m_environment);
        QVERIFY2(shown.out.contains(QStringLiteral("status     lost (its launcher and ranks are gone)")),
                 qPrintable(shown.out));
        const Outcome json =
            runTrainyard({"ls", "--json", "--filter", "status:lost", "--workspace", workspace.root()}, m_environment);
        QCOMPARE(QJsonDocument::fromJson(json.out.toUtf8()).array().size(), 1);
        // Nothing written: the store still says running, with its one event.
        auto connection = workspace.workspace().database().connect();
        QVERIFY(runqueries::findRun(connection.value(), created.value())->status == RunStatus::Running);
        QCOMPARE(runqueries::events(connection.value(), created.value())->size(), 1);
    }

    void planGivesBytesPerGpuAndAVerdict()
    {
        const Outcome outcome =
            runTrainyard({"plan", "--params", "7.5e9", "--nodes", "8", "--nproc-per-node", "8", "--strategy", "zero3",
                          "--precision", "bf16-mixed", "--optimizer", "adam", "--gpu-memory", "80GiB", "--json"},
                         m_environment);
        QCOMPARE(outcome.exitCode, 0);
        const QJsonObject plan = QJsonDocument::fromJson(outcome.out.toUtf8()).object();
        QCOMPARE(plan[QStringLiteral("world_size")].toInt(), 64);
        QCOMPARE(plan[QStringLiteral("strategy")].toString(), QStringLiteral("zero3"));
        const QJsonObject bytes = plan[QStringLiteral("bytes_per_gpu")].toObject();
        // 16 bytes per parameter over 64 GPUs: the ZeRO paper's 1.9 GB.
        const double states = bytes[QStringLiteral("parameters")].toDouble()
            + bytes[QStringLiteral("gradients")].toDouble() + bytes[QStringLiteral("optimizer_state")].toDouble();
        QCOMPARE(states, 16 * 7.5e9 / 64);
        QVERIFY(bytes[QStringLiteral("activations")].isNull());
        QVERIFY(bytes[QStringLiteral("overhead")].toDouble() > 0);
        QCOMPARE(plan[QStringLiteral("total_bytes")].toDouble(), states + bytes[QStringLiteral("overhead")].toDouble());
        QCOMPARE(plan[QStringLiteral("capacity_bytes")].toDouble(), 80.0 * 1024 * 1024 * 1024);
        QVERIFY(plan[QStringLiteral("fits")].toBool());
        QCOMPARE(plan[QStringLiteral("least_sharded_fit")].toString(), QStringLiteral("zero1"));

        const Outcome shape =
            runTrainyard({"plan", "--layers", "12", "--hidden", "768", "--heads", "12", "--vocab", "50257", "--seq-len",
                          "1024", "--micro-batch", "8", "--gpu-memory", "24GiB", "--json"},
                         m_environment);
        QCOMPARE(shape.exitCode, 0);
        const QJsonObject small = QJsonDocument::fromJson(shape.out.toUtf8()).object();
        QCOMPARE(std::round(small[QStringLiteral("parameter_count")].toDouble() / 1e6), 124.0);
        QVERIFY(small[QStringLiteral("activations")].toObject()[QStringLiteral("without_checkpointing")].toDouble()
                > 0);

        const Outcome text = runTrainyard({"plan", "--params", "70e9", "--gpu-memory", "80GiB"}, m_environment);
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains(QStringLiteral("does NOT fit")));
    }

    void badPlanInputsExitTwoNamingTheOption_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("named");
        QTest::newRow("no model") << QStringList{"plan", "--gpu-memory", "80GiB"}
                                  << "give either --params or a transformer shape";
        QTest::newRow("both") << QStringList{"plan", "--params", "1e9", "--layers", "2", "--gpu-memory", "80GiB"}
                              << "give either --params";
        QTest::newRow("partial shape") << QStringList{"plan", "--layers",     "2",    "--hidden",
                                                      "64",   "--gpu-memory", "80GiB"}
                                       << "needs --heads too";
        QTest::newRow("bad memory") << QStringList{"plan", "--params", "1e9", "--gpu-memory", "lots"}
                                    << "--gpu-memory 'lots'";
        QTest::newRow("no memory") << QStringList{"plan", "--params", "1e9"} << "give --gpu-memory";
        QTest::newRow("bad strategy") << QStringList{"plan", "--params",   "1e9",  "--gpu-memory",
                                                     "8GB",  "--strategy", "zero4"}
                                      << "--strategy 'zero4'";
        QTest::newRow("offload params on ddp")
            << QStringList{"plan", "--params", "1e9", "--gpu-memory", "8GB", "--offload", "params"}
            << "shards parameters";
    }
    void badPlanInputsExitTwoNamingTheOption()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, named);
        const Outcome outcome = runTrainyard(arguments, m_environment);
        QCOMPARE(outcome.exitCode, 2);
        QVERIFY2(outcome.err.contains(named), qPrintable(outcome.err));
        QVERIFY(outcome.err.contains(QStringLiteral("Usage: trainyard plan [options]")));
    }

    void sweepListsItsRunsAndLaunchRefusesASweep()
    {
        QTemporaryDir dir;
        const QString specPath = dir.filePath(QStringLiteral("sweep.yaml"));
        QFile spec(specPath);
        QVERIFY(spec.open(QIODevice::WriteOnly));
        spec.write("name: grid\ncommand: [/bin/true]\nparams:\n  lr: 0.1\nsweep:\n  grid:\n    lr: [0.1, 0.01, 0.001]\n"
                   "    batch: [32, 64]\n  seeds: 2\n");
        spec.close();
        const Outcome listed =
            runTrainyard({QStringLiteral("sweep"), QStringLiteral("--list"), specPath}, m_environment);
        QCOMPARE(listed.exitCode, 0);
        QVERIFY2(listed.out.startsWith(QStringLiteral("12 runs\n")), qPrintable(listed.out));
        QVERIFY(listed.out.contains(QStringLiteral("   1  lr=0.1 batch=32 seed=0\n")));
        QVERIFY(listed.out.contains(QStringLiteral("  12  lr=0.001 batch=64 seed=1\n")));
        const Outcome json = runTrainyard({QStringLiteral("sweep"), QStringLiteral("--json"), specPath}, m_environment);
        QCOMPARE(json.exitCode, 0);
        const QJsonObject root = QJsonDocument::fromJson(json.out.toUtf8()).object();
        QCOMPARE(root.value(QStringLiteral("count")).toInt(), 12);
        QCOMPARE(root.value(QStringLiteral("runs"))
                     .toArray()
                     .at(11)
                     .toObject()
                     .value(QStringLiteral("params"))
                     .toObject()
                     .value(QStringLiteral("batch"))
                     .toString(),
                 QStringLiteral("64"));
        // Launching the spec would run only its base: refused, and nothing is created.
        const Outcome launched = runTrainyard(
            {QStringLiteral("--workspace"), dir.filePath(QStringLiteral("ws")), QStringLiteral("launch"), specPath},
            m_environment);
        QCOMPARE(launched.exitCode, 1);
        QVERIFY2(launched.err.contains(QStringLiteral("has a 'sweep' section (12 runs)")), qPrintable(launched.err));
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("ws/trainyard.db"))));
        // A bad sweep: file, line, column and what was expected; exit 1.
        QVERIFY(spec.open(QIODevice::WriteOnly | QIODevice::Truncate));
        spec.write("command: [/bin/true]\nparams: {layers: 3}\nsweep:\n  grid: {layers: [2, many]}\n");
        spec.close();
        const Outcome bad = runTrainyard({QStringLiteral("sweep"), specPath}, m_environment);
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.err.contains(
                     specPath + QStringLiteral(":4:3: sweep value 'many' of param 'layers' is not of its type int")),
                 qPrintable(bad.err));
    }

    // Issue 20: `trainyard sweep report` names the best run and ranks the params by importance, on run records whose
    // answer is known: the loss grows with log10(lr); `width` cycles through values that do nothing.
    void sweepReportRanksTheParamsThatMatter()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        StoreWriter &writer = workspace.writer();
        QVERIFY(writer
                    .submit<void>([](SqliteConnection &c) {
                        return c.execute("INSERT INTO sweeps (id, name, spec, created_ms) VALUES "
                                         "('sweep-a', 'lr-search', '', 1), ('sweep-b', 'small', '', 2)");
                    })
                    .get());
        const auto addRun = [&](const QString &sweep, const QString &name, RunStatus status,
                                const QList<QPair<QString, QString>> &params, std::optional<double> loss) {
            NewRun row;
            row.name = name;
            row.sweepId = sweep;
            row.params = params;
            auto id = writer.createRun(row).get();
            QVERIFY(id);
            QVERIFY(writer.recordStatus(*id, status, QDateTime::currentDateTimeUtc()).get());
            if (loss)
                QVERIFY(workspace.addPoints(*id, QStringLiteral("loss"), {0, 1}, {*loss + 1, *loss}));
        };
        const QStringList widths{"32", "64", "128", "256"};
        for (int i = 0; i < 16; ++i) {
            const double exponent = -4 + 3.0 * i / 15; // lr from 1e-4 to 1e-1
            addRun(
                QStringLiteral("sweep-a"), QStringLiteral("lr-search-%1").arg(i + 1), RunStatus::Succeeded,
                {{"lr", QString::number(std::pow(10.0, exponent), 'g', 4)}, {"width", widths[i % 4]}, {"epochs", "10"}},
                exponent + 4 + 0.01 * (i % 3));
        }
        addRun(QStringLiteral("sweep-a"), QStringLiteral("crashed"), RunStatus::Failed,
               {{"lr", "0.5"}, {"width", "32"}, {"epochs", "10"}}, 0.0);
        addRun(QStringLiteral("sweep-a"), QStringLiteral("diverged"), RunStatus::Succeeded,
               {{"lr", "0.9"}, {"width", "64"}, {"epochs", "10"}}, std::numeric_limits<double>::quiet_NaN());
        for (int i = 0; i < 5; ++i)
            addRun(QStringLiteral("sweep-b"), QStringLiteral("small-%1").arg(i), RunStatus::Succeeded,
                   {{"lr", QString::number(i)}}, double(i));

        const QString root = workspace.root();
        Outcome outcome = runTrainyard({"--workspace", root, "sweep", "report", "lr-search", "--json"}, m_environment);
        QVERIFY2(outcome.exitCode == 0, qPrintable(outcome.err));
        const QJsonObject report = QJsonDocument::fromJson(outcome.out.toUtf8()).object();
        QCOMPARE(report["sweep_id"].toString(), QStringLiteral("sweep-a"));
        QCOMPARE(report["metric"].toString(), QStringLiteral("loss")); // found without --metric
        QCOMPARE(report["statistic"].toString(), QStringLiteral("min"));
        QCOMPARE(report["runs"].toInt(), 18);
        QCOMPARE(report["finished"].toInt(), 17);
        QCOMPARE(report["best"].toObject()["name"].toString(), QStringLiteral("lr-search-1")); // the lowest lr
        QCOMPARE(report["best"].toObject()["params"].toObject()["lr"].toString(), QStringLiteral("0.0001"));
        const QJsonObject importance = report["importance"].toObject();
        QCOMPARE(importance["runs_used"].toInt(), 16);
        QCOMPARE(importance["not_varied"].toArray(), QJsonArray{"epochs"});
        const QJsonArray params = importance["params"].toArray();
        QCOMPARE(params.size(), 2);
        QCOMPARE(params[0].toObject()["param"].toString(), QStringLiteral("lr"));
        QCOMPARE(params[0].toObject()["better"].toString(), QStringLiteral("lower"));
        QVERIFY(params[0].toObject()["spearman"].toDouble() > 0.95);
        QVERIFY(params[0].toObject()["share"].toDouble() > 0.8);
        QCOMPARE(params[1].toObject()["param"].toString(), QStringLiteral("width"));
        QVERIFY(params[1].toObject()["share"].toDouble() < 0.2);
        const QJsonArray leftOut = importance["left_out"].toArray();
        QCOMPARE(leftOut.size(), 2);
        QVERIFY2(leftOut[0].toString().endsWith(QStringLiteral(": failed")), qPrintable(leftOut[0].toString()));
        QVERIFY2(leftOut[1].toString().endsWith(QStringLiteral(": the metric is NaN")),
                 qPrintable(leftOut[1].toString()));

        // The same as text.
        outcome = runTrainyard({"--workspace", root, "sweep", "report", "sweep-a"}, m_environment);
        QCOMPARE(outcome.exitCode, 0);
        QVERIFY2(outcome.out.contains(QStringLiteral("importance for loss (min of each run; lower is better)"))
                     && QRegularExpression(QStringLiteral("\n  lr +[0-9.]+ +\\d+% +(?:1\\.00|0\\.9\\d) +lower\n"))
                            .match(outcome.out)
                            .hasMatch()
                     && outcome.out.contains(QStringLiteral("not varied epochs")),
                 qPrintable(outcome.out));
        // Too few runs, a metric nobody logged, a sweep that does not exist, a bad mode.
        outcome = runTrainyard({"--workspace", root, "sweep", "report", "small"}, m_environment);
        QVERIFY2(outcome.exitCode == 0
                     && outcome.out.contains(
                         QStringLiteral("not enough data: 5 finished runs with the metric; 8 are needed")),
                 qPrintable(outcome.out));
        outcome =
            runTrainyard({"--workspace", root, "sweep", "report", "lr-search", "--metric", "val/acc"}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(
            outcome.err.contains(QStringLiteral("no run of sweep sweep-a logged 'val/acc' (its runs logged: loss)")),
            qPrintable(outcome.err));
        outcome = runTrainyard({"--workspace", root, "sweep", "report", "nope"}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY(outcome.err.contains(QStringLiteral("no sweep matches \"nope\"")));
        outcome =
            runTrainyard({"--workspace", root, "sweep", "report", "lr-search", "--mode", "sideways"}, m_environment);
        QCOMPARE(outcome.exitCode, 2);
    }

    void backendProfilesAreAddedListedTestedAndRemoved()
    {
        QTemporaryDir dir;
        const QString workspace = dir.filePath(QStringLiteral("ws"));
        const QString token = dir.filePath(QStringLiteral("lab.token"));
        QFile file(token);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("SLURM_JWT=eyJ.secret.sig\n");
        file.close();
        QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther));
        const QStringList add{"--workspace",
                              workspace,
                              "backend",
                              "add",
                              "lab",
                              "--url",
                              "http://127.0.0.1:9",
                              "--user",
                              "alice",
                              "--token-file",
                              token,
                              "--partition",
                              "gpu",
                              "--sbatch",
                              "--qos=high",
                              "--time-limit",
                              "30"};

        // A token others can read is refused, and nothing is written.
        Outcome outcome = runTrainyard(add, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("can be read by others (mode 644); run `chmod 600 ") + token),
                 qPrintable(outcome.err));
        QVERIFY(!QFileInfo::exists(workspace + QStringLiteral("/backends.yaml")));
        QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner));

        // An option Trainyard cannot pass to Slurm is refused by name.
        outcome = runTrainyard(QStringList(add) << "--sbatch"
                                                << "--exclusive",
                               m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("sbatch option --exclusive is not one Trainyard can pass")),
                 qPrintable(outcome.err));
        QVERIFY(!QFileInfo::exists(workspace + QStringLiteral("/backends.yaml")));

        // Control characters that would add a header, or a line to the job script, are refused (issue 15, defect 8).
        QStringList injected = add;
        injected[injected.indexOf(QStringLiteral("alice"))] = QStringLiteral("alice\r\nX-Injected: 1");
        outcome = runTrainyard(injected, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("'user' contains a control character (U+000d at position 6)")),
                 qPrintable(outcome.err));
        injected = add;
        injected[injected.indexOf(QStringLiteral("gpu"))] = QStringLiteral("gpu\ntouch pwned #");
        outcome = runTrainyard(injected, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(
            outcome.err.contains(QStringLiteral("'partition' contains a control character (U+000a at position 4)")),
            qPrintable(outcome.err));
        QVERIFY(!QFileInfo::exists(workspace + QStringLiteral("/backends.yaml")));

        outcome = runTrainyard(add, m_environment);
        QVERIFY2(outcome.exitCode == 0, qPrintable(outcome.err));
        // The same name again is refused unless --replace says so (it used to replace the profile silently).
        outcome = runTrainyard(QStringList(add) << "--partition"
                                                << "other",
                               m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(
                     QStringLiteral("backend 'lab' already exists (http://127.0.0.1:9 as alice); give --replace")),
                 qPrintable(outcome.err));
        outcome = runTrainyard(QStringList(add) << "--replace", m_environment);
        QVERIFY2(outcome.exitCode == 0, qPrintable(outcome.err));
        // A password in the URL is refused: it would be sent and shown (the token is the credential).
        QStringList withPassword = add;
        withPassword[withPassword.indexOf(QStringLiteral("http://127.0.0.1:9"))] =
            QStringLiteral("http://alice:hunter2@127.0.0.1:9");
        outcome = runTrainyard(QStringList(withPassword) << "--replace", m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("carries a password"))
                     && !outcome.err.contains(QStringLiteral("hunter2")),
                 qPrintable(outcome.err));
        outcome = runTrainyard({"--workspace", workspace, "backend", "ls", "--json"}, m_environment);
        QCOMPARE(outcome.exitCode, 0);
        const QJsonArray profiles = QJsonDocument::fromJson(outcome.out.toUtf8()).array();
        QCOMPARE(profiles.size(), 1);
        const QJsonObject lab = profiles.first().toObject();
        QCOMPARE(lab.value(QStringLiteral("name")).toString(), QStringLiteral("lab"));
        QCOMPARE(lab.value(QStringLiteral("url")).toString(), QStringLiteral("http://127.0.0.1:9"));
        QCOMPARE(lab.value(QStringLiteral("partition")).toString(), QStringLiteral("gpu"));
        QCOMPARE(lab.value(QStringLiteral("time_limit_min")).toInt(), 30);
        QCOMPARE(lab.value(QStringLiteral("sbatch")).toArray().first().toString(), QStringLiteral("--qos=high"));
        QVERIFY(!outcome.out.contains(QStringLiteral("secret")));

        // Nothing listens on port 9: the test names the address and exits 1, without printing the token.
        outcome = runTrainyard({"--workspace", workspace, "backend", "test", "lab"}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("slurmrestd at http://127.0.0.1:9 cannot be reached")),
                 qPrintable(outcome.err));
        QVERIFY(!outcome.err.contains(QStringLiteral("secret")));

        // A launch on it fails the same way, and the run it created says why.
        outcome = runTrainyard({"--workspace", workspace, "launch", "--backend", "lab", "--nodes", "2", "--name",
                                "nowhere", "--", "/bin/true"},
                               m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("cannot be reached")), qPrintable(outcome.err));
        outcome = runTrainyard({"--workspace", workspace, "show", "nowhere", "--json"}, m_environment);
        const QJsonObject run = QJsonDocument::fromJson(outcome.out.toUtf8()).object();
        QCOMPARE(run.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
        QCOMPARE(run.value(QStringLiteral("backend")).toString(), QStringLiteral("lab"));
        QVERIFY(run.value(QStringLiteral("events"))
                    .toArray()
                    .last()
                    .toObject()
                    .value(QStringLiteral("detail"))
                    .toString()
                    .contains(QStringLiteral("127.0.0.1:9")));

        // --token-stdin keeps the token in the workspace, mode 0600.
        QProcess stdinAdd;
        stdinAdd.setProcessEnvironment(m_environment);
        stdinAdd.start(QStringLiteral(TRAINYARD_BINARY),
                       {"--workspace", workspace, "backend", "add", "piped", "--url", "https://h:6820", "--user", "bob",
                        "--token-stdin"});
        QVERIFY(stdinAdd.waitForStarted());
        stdinAdd.write("eyJ.piped.sig\n");
        stdinAdd.closeWriteChannel();
        QVERIFY(stdinAdd.waitForFinished(30000));
        QVERIFY2(stdinAdd.exitCode() == 0, stdinAdd.readAllStandardError().constData());
        const QFileInfo stored(workspace + QStringLiteral("/tokens/piped.token"));
        QVERIFY(stored.exists());
        QCOMPARE(stored.permissions() & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther),
                 QFile::Permissions());

        outcome = runTrainyard({"--workspace", workspace, "backend", "rm", "piped"}, m_environment);
        QCOMPARE(outcome.exitCode, 0);
        QVERIFY(!QFileInfo::exists(stored.filePath()));
        outcome = runTrainyard({"--workspace", workspace, "backend", "rm", "piped"}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("backend 'piped' is not defined")), qPrintable(outcome.err));
    }

    void clusterLaunchOptionsAreChecked()
    {
        QTemporaryDir dir;
        Outcome outcome =
            runTrainyard({"--workspace", dir.path(), "launch", "--nodes", "2", "--", "/bin/true"}, m_environment);
        QCOMPARE(outcome.exitCode, 2);
        QVERIFY2(outcome.err.contains(QStringLiteral("2 nodes need a cluster backend: add --backend PROFILE")),
                 qPrintable(outcome.err));
        outcome =
            runTrainyard({"--workspace", dir.path(), "launch", "--backend", "nope", "--", "/bin/true"}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("backend 'nope' is not defined")), qPrintable(outcome.err));
        // Sweeps go to the local queue: a sweep on a cluster backend is refused before anything is queued.
        const QString sweepSpec = dir.filePath(QStringLiteral("sweep.yaml"));
        QFile spec(sweepSpec);
        QVERIFY(spec.open(QIODevice::WriteOnly));
        spec.write("command: [/bin/true]\nbackend: lab\nparams: {lr: 0.1}\nsweep: {grid: {lr: [0.1, 0.2]}}\n");
        spec.close();
        outcome = runTrainyard({"--workspace", dir.path(), "sweep", sweepSpec}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("sweeps on a cluster backend are not supported yet")),
                 qPrintable(outcome.err));
        outcome = runTrainyard({"--workspace", dir.path(), "ls", "--json"}, m_environment);
        QCOMPARE(QJsonDocument::fromJson(outcome.out.toUtf8()).array().size(), 0);
    }

    // Two agents on this machine form one 4-rank job, as two Slurm nodes would: global ranks, world size and
    // the master come from the agent's place, not from the ranks.
    void agentsPlaceTheirRanksInOneJob()
    {
        QTemporaryDir runDir;
        const QJsonObject request{
            {QStringLiteral("run_id"), QStringLiteral("agent-test")},
            {QStringLiteral("run_dir"), runDir.path()},
            {QStringLiteral("command"),
             QJsonArray{QStringLiteral("echo $RANK $WORLD_SIZE $LOCAL_RANK $NODE_RANK $MASTER_ADDR:$MASTER_PORT")}},
            {QStringLiteral("shell"), true},
            {QStringLiteral("nproc_per_node"), 2},
            {QStringLiteral("nnodes"), 2},
        };
        QFile file(runDir.filePath(QStringLiteral("agent.json")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(request).toJson());
        file.close();

        QList<QProcess *> agents;
        for (int node = 0; node < 2; ++node) {
            auto *agent = new QProcess(this);
            agent->setProcessEnvironment(m_environment);
            agent->start(QStringLiteral(TRAINYARD_BINARY),
                         {"agent", "--run-dir", runDir.path(), "--node-rank", QString::number(node), "--master-addr",
                          "127.0.0.1", "--master-port", "29777"});
            agents << agent;
        }
        for (QProcess *agent : agents) {
            QVERIFY(agent->waitForFinished(30000));
            QVERIFY2(agent->exitCode() == 0, agent->readAllStandardError().constData());
        }
        for (int rank = 0; rank < 4; ++rank) {
            QFile log(runDir.filePath(QStringLiteral("rank%1.log").arg(rank)));
            QVERIFY2(log.open(QIODevice::ReadOnly), qPrintable(log.fileName()));
            const QString line = QString::fromUtf8(log.readAll()).trimmed().mid(25); // after the receive stamp
            QCOMPARE(line, QStringLiteral("%1 4 %2 %3 127.0.0.1:29777").arg(rank).arg(rank % 2).arg(rank / 2));
        }
        for (int node = 0; node < 2; ++node) {
            QFile outcome(runDir.filePath(QStringLiteral("agent.node%1.json").arg(node)));
            QVERIFY(outcome.open(QIODevice::ReadOnly));
            const QJsonObject record = QJsonDocument::fromJson(outcome.readAll()).object();
            QCOMPARE(record.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
            QCOMPARE(record.value(QStringLiteral("node_rank")).toInt(), node);
        }

        // Outside a Slurm step and without --node-rank, or with no request file, the agent says what is missing.
        Outcome outcome = runTrainyard({"agent", "--run-dir", runDir.path()}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("not inside a Slurm job step? give --node-rank")),
                 qPrintable(outcome.err));
        QTemporaryDir empty;
        outcome = runTrainyard({"agent", "--run-dir", empty.path(), "--node-rank", "0"}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("cannot read ") + empty.filePath(QStringLiteral("agent.json"))),
                 qPrintable(outcome.err));
    }

    void reportExportAndImportFromTheCommandLine()
    {
        QTemporaryDir dir;
        const QString team = dir.filePath(QStringLiteral("team"));
        const QString lead = dir.filePath(QStringLiteral("lead"));
        // An absent workspace reports nothing and is not created.
        Outcome outcome = runTrainyard({"--workspace", team, "report", "--json"}, m_environment);
        QCOMPARE(outcome.exitCode, 0);
        QCOMPARE(
            QJsonDocument::fromJson(outcome.out.toUtf8()).object().value("total").toObject().value("launched").toInt(),
            0);
        QVERIFY(!QFileInfo::exists(team));
        for (const QStringList &bad :
             {QStringList{"report", "--by", "team"}, QStringList{"report", "--since", "yesterday"},
              QStringList{"report", "--since", "2026-11-02", "--until", "2026-11-01"},
              QStringList{"report", "--json", "--csv"}}) {
            outcome = runTrainyard(QStringList{"--workspace", team} + bad, m_environment);
            QVERIFY2(outcome.exitCode == 2 && outcome.err.contains(QStringLiteral("Usage:")),
                     qPrintable(bad.join(' ') + outcome.err));
        }

        // Two runs (one failing), their report, a bundle, and an import that is idempotent.
        QVERIFY(runTrainyard({"--workspace", team, "launch", "--quiet", "--tag", "baseline", "--", "/bin/true"},
                             m_environment)
                    .exitCode
                == 0);
        QVERIFY(runTrainyard({"--workspace", team, "launch", "--quiet", "--", "/bin/false"}, m_environment).exitCode
                == 1);
        outcome = runTrainyard({"--workspace", team, "report", "--by", "tag", "--json"}, m_environment);
        QCOMPARE(outcome.exitCode, 0);
        const QJsonObject report = QJsonDocument::fromJson(outcome.out.toUtf8()).object();
        const QJsonObject total = report.value("total").toObject();
        QCOMPARE(total.value("launched").toInt(), 2);
        QCOMPARE(total.value("succeeded").toInt(), 1);
        QCOMPARE(total.value("failed").toInt(), 1);
        QCOMPARE(total.value("success_rate").toDouble(), 0.5);
        QCOMPARE(total.value("failure_causes").toArray().first().toObject().value("cause").toString(),
                 QStringLiteral("exit"));
        QCOMPARE(report.value("groups").toArray().size(), 2); // baseline and (no tag)
        outcome = runTrainyard({"--workspace", team, "report", "--csv", "--by", "user"}, m_environment);
        QVERIFY2(outcome.out.startsWith(QStringLiteral("group,launched,started,succeeded,failed,"))
                     && outcome.out.contains(QStringLiteral("\nall,2,2,1,1,")),
                 qPrintable(outcome.out));

        const QString bundle = dir.filePath(QStringLiteral("team.trainyard"));
        QCOMPARE(runTrainyard({"--workspace", team, "export", bundle}, m_environment).exitCode, 0);
        outcome = runTrainyard({"--workspace", team, "export", bundle}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("exists already")), qPrintable(outcome.err));
        outcome = runTrainyard({"--workspace", lead, "import", bundle}, m_environment);
        QVERIFY2(outcome.exitCode == 0 && outcome.out.startsWith(QStringLiteral("imported 2 run(s)")),
                 qPrintable(outcome.out + outcome.err));
        outcome = runTrainyard({"--workspace", lead, "import", team}, m_environment);
        QVERIFY2(outcome.exitCode == 0 && outcome.out.startsWith(QStringLiteral("imported 0 run(s)"))
                     && outcome.out.contains(QStringLiteral("2 already here")),
                 qPrintable(outcome.out));
        outcome = runTrainyard({"--workspace", lead, "report", "--json"}, m_environment);
        QCOMPARE(
            QJsonDocument::fromJson(outcome.out.toUtf8()).object().value("total").toObject().value("launched").toInt(),
            2);
        outcome = runTrainyard({"--workspace", lead, "import", dir.filePath(QStringLiteral("nothing"))}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("neither a workspace folder nor a Trainyard bundle")),
                 qPrintable(outcome.err));
    }

    void preflightWithoutAGpuSaysSoAndExitsThree()
    {
        const Outcome outcome = runTrainyard(
            {"preflight", "--gpus", "0,1", "--ops", "all_reduce,broadcast", "--max-bytes", "64M"}, m_environment);
        if (outcome.exitCode != 3)
            QSKIP("this machine has a CUDA device and NCCL; preflight's no-GPU answer is checked on machines without "
                  "one");
        QVERIFY2(outcome.err.contains(QStringLiteral("no CUDA device found"))
                     || outcome.err.contains(QStringLiteral("NCCL")),
                 qPrintable(outcome.err));
        QVERIFY(outcome.out.contains(QStringLiteral("NVML")));
        const Outcome bad = runTrainyard({"preflight", "--ops", "scatter"}, m_environment);
        QCOMPARE(bad.exitCode, 2);
        QVERIFY(bad.err.contains(QStringLiteral("--ops: 'scatter'")));
        const Outcome badSize = runTrainyard({"preflight", "--min-bytes", "1G", "--max-bytes", "1M"}, m_environment);
        QCOMPARE(badSize.exitCode, 2);
        QVERIFY(badSize.err.contains(QStringLiteral("--max-bytes '1M'")));
    }

    void preflightHistoryListsStoredResultsNewestFirst()
    {
        const QString root = m_home->path() + QStringLiteral("/preflight-history");
        const Outcome empty = runTrainyard({"preflight", "--history", "--workspace", root}, m_environment);
        QCOMPARE(empty.exitCode, 0);
        QVERIFY2(empty.out.contains(QStringLiteral("no preflight results")), qPrintable(empty.out));
        QVERIFY(!QFileInfo::exists(root)); // reading the history creates nothing

        {
            auto workspace = Workspace::open(root);
            QVERIFY(workspace.ok());
            auto connection = workspace->database().connect();
            QVERIFY(connection.ok());
            for (const auto &[day, healthy, verdict] :
                 {std::tuple{1, true, "healthy: correct results; peak bus bandwidth 371.2 GB/s"},
                  std::tuple{2, false, "slow: peak bus bandwidth 40.0 GB/s"}})
                QVERIFY(
                    savePreflightRecord(
                        *connection,
                        QJsonObject{{"started_at",
                                     QDateTime(QDate(2026, 11, day), QTime(8, 0), Qt::UTC).toString(Qt::ISODateWithMs)},
                                    {"host", "gpu-box-1"},
                                    {"healthy", healthy},
                                    {"verdict", verdict},
                                    {"measurements", QJsonArray()}})
                        .ok());
        }
        const Outcome listed = runTrainyard({"preflight", "--history", "--workspace", root}, m_environment);
        QCOMPARE(listed.exitCode, 0);
        const QStringList lines = listed.out.trimmed().split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines.at(0).startsWith(QStringLiteral("2026-11-02T08:00:00Z  gpu-box-1  NOT HEALTHY  slow")),
                 qPrintable(lines.at(0)));
        QVERIFY2(lines.at(1).contains(QStringLiteral("healthy  healthy: correct results")), qPrintable(lines.at(1)));
        const Outcome json = runTrainyard({"preflight", "--history", "--json", "--workspace", root}, m_environment);
        QCOMPARE(json.exitCode, 0);
        const QJsonArray array = QJsonDocument::fromJson(json.out.toUtf8()).array();
        QCOMPARE(array.size(), 2);
        QCOMPARE(array.at(1).toObject().value(QStringLiteral("verdict")).toString(),
                 QStringLiteral("healthy: correct results; peak bus bandwidth 371.2 GB/s"));
    }

    void lsOnAbsentWorkspaceCreatesNothing()
    {
        const QString root = m_home->path() + QStringLiteral("/nowhere");
        const Outcome json = runTrainyard({"ls", "--json", "--workspace", root}, m_environment);
        QCOMPARE(json.exitCode, 0);
        QCOMPARE(QJsonDocument::fromJson(json.out.toUtf8()).array().size(), 0);
        const Outcome table = runTrainyard({"ls", "--workspace", root}, m_environment);
        QVERIFY(table.out.contains(QStringLiteral("No runs yet")));
        QVERIFY(!QFileInfo::exists(root));
    }

    void badWorkspacesFailNamingThePathAndStayUntouched_data()
    {
        QTest::addColumn<QByteArray>("databaseContent");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not sqlite") << QByteArray("just text\n") << "not an SQLite database";
    }
    void badWorkspacesFailNamingThePathAndStayUntouched()
    {
        QFETCH(QByteArray, databaseContent);
        QFETCH(QString, expected);
        const QString root = m_home->path() + QStringLiteral("/bad");
        QVERIFY(QDir().mkpath(root));
        const QString database = root + QStringLiteral("/trainyard.db");
        QFile file(database);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(databaseContent);
        file.close();
        const QByteArray before = test::sha256OfFile(database);

        // Both the command line and the window refuse it.
        for (const QStringList &arguments :
             {QStringList{"ls", "--workspace", root}, QStringList{"--workspace", root}}) {
            const Outcome outcome = runTrainyard(arguments, m_environment);
            QCOMPARE(outcome.exitCode, 1);
            QVERIFY2(outcome.err.contains(database), qPrintable(outcome.err));
            QVERIFY2(outcome.err.contains(expected), qPrintable(outcome.err));
        }
        QCOMPARE(test::sha256OfFile(database), before);
        QCOMPARE(QDir(root).entryList(QDir::NoDotAndDotDot | QDir::AllEntries), QStringList{"trainyard.db"});
    }

    void newerWorkspaceIsRefused()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        auto connection = workspace.workspace().database().connect();
        QVERIFY(connection->execute("PRAGMA user_version = 99").ok());
        const Outcome outcome = runTrainyard({"ls", "--workspace", workspace.root()}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(QStringLiteral("schema version 99")), qPrintable(outcome.err));
    }

    void unusableWorkspaceFolderFailsNamingIt()
    {
        const QString file = m_home->path() + QStringLiteral("/a-file");
        QFile(file).open(QIODevice::WriteOnly);
        const QString root = file + QStringLiteral("/ws");
        const Outcome outcome = runTrainyard({"--workspace", root}, m_environment);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains(root), qPrintable(outcome.err));
        QCOMPARE(QFileInfo(file).size(), 0);
    }

private:
    std::unique_ptr<QTemporaryDir> m_home;
    QProcessEnvironment m_environment;
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
