// The real trainyard binary: exit codes, usage, ls --json, and bad workspaces left untouched.
#include "support/testworkspace.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace trainyard;

namespace {

struct Outcome {
    int exitCode = -1;
    QString out;
    QString err;
};

Outcome runTrainyard(const QStringList &arguments, const QProcessEnvironment &environment)
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(TRAINYARD_BINARY), arguments);
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished();
        return {};
    }
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromUtf8(process.readAllStandardOutput()), QString::fromUtf8(process.readAllStandardError())};
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT
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

    void lsJsonListsRunsNewestFirst()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QDateTime t0 = QDateTime::fromMSecsSinceEpoch(1764000000000, Qt::UTC);
        const QString older = workspace.addRun(QStringLiteral("older"), RunStatus::Succeeded, {QStringLiteral("baseline")}, t0);
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
        for (const QStringList &arguments : {QStringList{"ls", "--workspace", root}, QStringList{"--workspace", root}}) {
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
