// The Slurm backend against a real cluster: munge, slurmctld, two slurmd nodes and slurmrestd on loopback,
// brought up by tests/slurm/cluster.sh, which runs this test. Runs are launched by the trainyard CLI as the
// cluster's ordinary user (slurmrestd refuses root's tokens), as a researcher would launch them.
#include "launch/slurmclient.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace trainyard;

namespace {

struct Outcome {
    int exitCode = -1;
    QString out;
    QString err;
};

} // namespace

class TestSlurm : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void twoNodesTwoRanksComplete();
    void cancelRunningJob();
    void badTokenFailsTheRunWithTheServersAnswer();
    void unreachableSlurmrestdFailsTheRun();
    void rejectedJobFailsTheRunWithTheServersMessage();

private:
    QStringList asJobUser(const QStringList &trainyardArguments) const;
    Outcome trainyard(const QStringList &arguments, int timeoutMs = 180000) const;
    void addProfile(const QString &name, const QString &url, const QString &tokenFile);
    QString writeSpec(const QString &name, const QString &body) const;
    // `trainyard show NAME --json`, read as the job user (a root reader would leave root-owned WAL files).
    QJsonObject show(const QString &name) const;
    static QString lastEventDetail(const QJsonObject &run);
    SlurmClient client() const;

    QString m_url, m_user, m_tokenFile, m_shared, m_workspace, m_binary, m_script;
    uid_t m_uid = 0;
    gid_t m_gid = 0;
};

void TestSlurm::initTestCase()
{
    const QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    m_url = environment.value(QStringLiteral("TRAINYARD_TEST_SLURM_URL"));
    m_user = environment.value(QStringLiteral("TRAINYARD_TEST_SLURM_USER"));
    m_tokenFile = environment.value(QStringLiteral("TRAINYARD_TEST_SLURM_TOKEN_FILE"));
    m_shared = environment.value(QStringLiteral("TRAINYARD_TEST_SLURM_SHARED"));
    if (m_url.isEmpty() || m_user.isEmpty() || m_tokenFile.isEmpty() || m_shared.isEmpty())
        QFAIL("no Slurm cluster: run this test through tests/slurm/cluster.sh (ctest does), which starts one on "
              "loopback");
    const passwd *account = ::getpwnam(m_user.toLocal8Bit().constData());
    QVERIFY2(account, qPrintable(QStringLiteral("no user %1").arg(m_user)));
    m_uid = account->pw_uid;
    m_gid = account->pw_gid;

    // The nodes run the binary and the example from the "shared file system", as on a cluster: copies the job
    // user can read wherever this checkout lives.
    QVERIFY(QDir().mkpath(m_shared + QStringLiteral("/bin")));
    QVERIFY(QDir().mkpath(m_shared + QStringLiteral("/examples")));
    QVERIFY(QDir().mkpath(m_shared + QStringLiteral("/python")));
    m_binary = m_shared + QStringLiteral("/bin/trainyard");
    m_script = m_shared + QStringLiteral("/examples/train_ddp.py");
    QFile::remove(m_binary);
    QVERIFY(QFile::copy(QStringLiteral(TRAINYARD_BINARY), m_binary));
    QVERIFY(QFile::copy(QStringLiteral(TRAINYARD_SOURCE_DIR "/resources/examples/train_ddp.py"), m_script));
    QVERIFY(QFile::copy(QStringLiteral(TRAINYARD_SOURCE_DIR "/resources/python/trainyard_log.py"),
                        m_shared + QStringLiteral("/python/trainyard_log.py")));
    for (const QString &path : {m_shared + QStringLiteral("/bin"), m_shared + QStringLiteral("/examples"),
                                m_shared + QStringLiteral("/python"), m_binary, m_script,
                                m_shared + QStringLiteral("/python/trainyard_log.py")})
        QCOMPARE(::chown(QFile::encodeName(path).constData(), m_uid, m_gid), 0);
    QCOMPARE(::chmod(QFile::encodeName(m_binary).constData(), 0755), 0);

    m_workspace = m_shared + QStringLiteral("/workspace");
    addProfile(QStringLiteral("lab"), m_url, m_tokenFile);
    const Outcome tested = trainyard({QStringLiteral("backend"), QStringLiteral("test"), QStringLiteral("lab")});
    QVERIFY2(tested.exitCode == 0, qPrintable(tested.err));
    QVERIFY2(tested.out.contains(QStringLiteral("Slurm 22.")), qPrintable(tested.out));
}

QStringList TestSlurm::asJobUser(const QStringList &trainyardArguments) const
{
    return QStringList{QStringLiteral("--reuid=%1").arg(m_uid), QStringLiteral("--regid=%1").arg(m_gid),
                       QStringLiteral("--init-groups"),         QStringLiteral("env"),
                       QStringLiteral("HOME=") + m_shared,      m_binary,
                       QStringLiteral("--workspace"),           m_workspace}
    + trainyardArguments;
}

Outcome TestSlurm::trainyard(const QStringList &arguments, int timeoutMs) const
{
    QProcess process;
    process.setWorkingDirectory(m_shared);
    process.start(QStringLiteral("setpriv"), asJobUser(arguments));
    Outcome outcome;
    if (process.waitForFinished(timeoutMs) && process.exitStatus() == QProcess::NormalExit)
        outcome.exitCode = process.exitCode();
    else
        process.kill(), process.waitForFinished();
    outcome.out = QString::fromUtf8(process.readAllStandardOutput());
    outcome.err = QString::fromUtf8(process.readAllStandardError());
    return outcome;
}

void TestSlurm::addProfile(const QString &name, const QString &url, const QString &tokenFile)
{
    const Outcome added = trainyard(
        {QStringLiteral("backend"), QStringLiteral("add"), name, QStringLiteral("--url"), url, QStringLiteral("--user"),
         m_user, QStringLiteral("--token-file"), tokenFile, QStringLiteral("--poll"), QStringLiteral("0.5"),
         QStringLiteral("--trainyard"), m_binary, QStringLiteral("--time-limit"), QStringLiteral("10"),
         QStringLiteral("--env"), QStringLiteral("TRAINYARD_PYTHON_DIR=") + m_shared + QStringLiteral("/python")});
    QVERIFY2(added.exitCode == 0, qPrintable(added.err));
}

QString TestSlurm::writeSpec(const QString &name, const QString &body) const
{
    const QString path = m_shared + QStringLiteral("/%1.yaml").arg(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(body.toUtf8()) < 0)
        return {};
    file.close();
    (void)::chown(QFile::encodeName(path).constData(), m_uid, m_gid);
    return path;
}

QJsonObject TestSlurm::show(const QString &name) const
{
    const Outcome shown = trainyard({QStringLiteral("show"), name, QStringLiteral("--json")}, 30000);
    return shown.exitCode == 0 ? QJsonDocument::fromJson(shown.out.toUtf8()).object() : QJsonObject();
}

QString TestSlurm::lastEventDetail(const QJsonObject &run)
{
    const QJsonArray events = run.value(QStringLiteral("events")).toArray();
    return events.isEmpty() ? QString() : events.last().toObject().value(QStringLiteral("detail")).toString();
}

SlurmClient TestSlurm::client() const
{
    QFile token(m_tokenFile);
    (void)token.open(QIODevice::ReadOnly);
    SlurmEndpoint endpoint;
    endpoint.baseUrl = m_url;
    endpoint.user = m_user;
    endpoint.token = token.readAll().trimmed();
    return SlurmClient(endpoint);
}

void TestSlurm::twoNodesTwoRanksComplete()
{
    const QString spec = writeSpec(QStringLiteral("two-by-two"),
                                   QStringLiteral("name: two-by-two\n"
                                                  "command: [/usr/bin/python3, %1, --steps, '40']\n"
                                                  "backend: lab\n"
                                                  "resources: {nodes: 2, ranks_per_node: 2}\n"
                                                  "slurm: {cpus_per_task: 1, sbatch: [--comment=trainyard-e2e]}\n")
                                       .arg(m_script));
    const Outcome launched = trainyard({QStringLiteral("launch"), QStringLiteral("--quiet"), spec});
    QVERIFY2(launched.exitCode == 0, qPrintable(launched.out + launched.err));
    QVERIFY2(launched.out.contains(QStringLiteral("queued as Slurm job")), qPrintable(launched.out));

    const QJsonObject run = show(QStringLiteral("two-by-two"));
    QCOMPARE(run.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(run.value(QStringLiteral("backend")).toString(), QStringLiteral("lab"));
    const QString runDir = run.value(QStringLiteral("run_dir")).toString();

    // Every rank printed where it sits: distinct global ranks 0-3, world size 4, one master for all.
    QSet<int> ranks;
    QSet<QString> masters;
    for (int rank = 0; rank < 4; ++rank) {
        QFile log(runDir + QStringLiteral("/rank%1.log").arg(rank));
        QVERIFY2(log.open(QIODevice::ReadOnly), qPrintable(log.fileName()));
        const QString text = QString::fromUtf8(log.readAll());
        const auto match =
            QRegularExpression(
                QStringLiteral("rank (\\d+)/(\\d+) on cpu \\(gloo\\).*node (\\d+) local rank (\\d+), master (\\S+)"))
                .match(text);
        QVERIFY2(match.hasMatch(), qPrintable(text));
        QCOMPARE(match.captured(1).toInt(), rank);
        QCOMPARE(match.captured(2).toInt(), 4);
        QCOMPARE(match.captured(3).toInt(), rank / 2); // NODE_RANK from SLURM_NODEID
        QCOMPARE(match.captured(4).toInt(), rank % 2);
        ranks << match.captured(1).toInt();
        masters << match.captured(5);
    }
    QCOMPARE(ranks.size(), 4);
    QCOMPARE(masters.size(), 1);
    QVERIFY2(masters.values().first().startsWith(QStringLiteral("127.0.0.1:")),
             qPrintable(masters.values().first())); // n1's NodeAddr

    // Its metrics are in the store (the example logs loss at every step from rank 0).
    const QJsonObject loss = run.value(QStringLiteral("metrics")).toObject().value(QStringLiteral("loss")).toObject();
    QCOMPARE(loss.value(QStringLiteral("points")).toInt(), 40);
    QCOMPARE(loss.value(QStringLiteral("last_step")).toInt(), 39);

    // The run's history: queued (at submit), running (at Slurm's start time), succeeded.
    QStringList states;
    for (const QJsonValue &event : run.value(QStringLiteral("events")).toArray())
        states << event.toObject().value(QStringLiteral("to")).toString();
    QVERIFY2(states.contains(QStringLiteral("queued")) && states.contains(QStringLiteral("running")),
             qPrintable(states.join(',')));
    QCOMPARE(states.last(), QStringLiteral("succeeded"));

    // The job Slurm ran is the one the run folder names, with the spec's extra #SBATCH option.
    QFile record(runDir + QStringLiteral("/slurm.json"));
    QVERIFY(record.open(QIODevice::ReadOnly));
    const qint64 jobId =
        QJsonDocument::fromJson(record.readAll()).object().value(QStringLiteral("job_id")).toVariant().toLongLong();
    auto job = client().job(jobId);
    QVERIFY2(job, job ? "" : qPrintable(job.error()));
    QCOMPARE(job->state, QStringLiteral("COMPLETED"));
    QCOMPARE(job->nodes, QStringLiteral("n[1-2]"));
    QVERIFY(job->startTime.isValid() && job->submitTime.isValid() && job->submitTime <= job->startTime);
}

void TestSlurm::cancelRunningJob()
{
    const QString spec = writeSpec(QStringLiteral("long"),
                                   QStringLiteral("name: long-run\n"
                                                  "command: [/usr/bin/python3, %1, --steps, '1000000']\n"
                                                  "backend: lab\n"
                                                  "resources: {nodes: 2, ranks_per_node: 1}\n")
                                       .arg(m_script));
    QProcess launch;
    launch.setWorkingDirectory(m_shared);
    launch.start(QStringLiteral("setpriv"), asJobUser({QStringLiteral("launch"), QStringLiteral("--quiet"), spec}));
    QVERIFY(launch.waitForStarted());
    QElapsedTimer clock;
    clock.start();
    QJsonObject run;
    QString runDir;
    while (clock.elapsed() < 90000) {
        run = show(QStringLiteral("long-run"));
        runDir = run.value(QStringLiteral("run_dir")).toString();
        if (run.value(QStringLiteral("status")).toString() == QLatin1String("running")
            && QFile::exists(runDir + QStringLiteral("/metrics.rank0.jsonl")))
            break;
        QTest::qWait(500);
    }
    QVERIFY2(QFile::exists(runDir + QStringLiteral("/metrics.rank0.jsonl")),
             qPrintable(run.value(QStringLiteral("status")).toString() + QString::fromUtf8(launch.readAll())));

    const Outcome canceled = trainyard({QStringLiteral("cancel"), QStringLiteral("long-run")});
    QVERIFY2(canceled.exitCode == 0, qPrintable(canceled.err));
    QVERIFY2(launch.waitForFinished(90000), "the launching process did not end after cancel");
    QCOMPARE(launch.exitCode(), 130);
    QCOMPARE(show(QStringLiteral("long-run")).value(QStringLiteral("status")).toString(), QStringLiteral("canceled"));

    QFile record(runDir + QStringLiteral("/slurm.json"));
    QVERIFY(record.open(QIODevice::ReadOnly));
    auto job = client().job(
        QJsonDocument::fromJson(record.readAll()).object().value(QStringLiteral("job_id")).toVariant().toLongLong());
    QVERIFY2(job, job ? "" : qPrintable(job.error()));
    QCOMPARE(job->state, QStringLiteral("CANCELLED"));
}

void TestSlurm::badTokenFailsTheRunWithTheServersAnswer()
{
    const QString badToken = m_shared + QStringLiteral("/bad.token");
    QFile file(badToken);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("eyJhbGciOiJIUzI1NiJ9.not-a-real-token.c2lnbmF0dXJl\n");
    file.close();
    QCOMPARE(::chmod(QFile::encodeName(badToken).constData(), 0600), 0);
    QCOMPARE(::chown(QFile::encodeName(badToken).constData(), m_uid, m_gid), 0);
    addProfile(QStringLiteral("badtoken"), m_url, badToken);

    const Outcome tested = trainyard({QStringLiteral("backend"), QStringLiteral("test"), QStringLiteral("badtoken")});
    QCOMPARE(tested.exitCode, 1);
    QVERIFY2(tested.err.contains(QStringLiteral("answered HTTP")) && tested.err.contains(QStringLiteral("token")),
             qPrintable(tested.err));
    QVERIFY2(!tested.err.contains(QStringLiteral("not-a-real-token")), "the token must never be printed");

    const Outcome launched = trainyard(
        {QStringLiteral("launch"), QStringLiteral("--backend"), QStringLiteral("badtoken"), QStringLiteral("--name"),
         QStringLiteral("bad-token-run"), QStringLiteral("--"), QStringLiteral("/bin/true")});
    QCOMPARE(launched.exitCode, 1);
    QVERIFY2(launched.err.contains(QStringLiteral("cannot submit the job")), qPrintable(launched.err));
    const QJsonObject run = show(QStringLiteral("bad-token-run"));
    QCOMPARE(run.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QVERIFY2(lastEventDetail(run).contains(QStringLiteral("answered HTTP")), qPrintable(lastEventDetail(run)));
    QVERIFY(!lastEventDetail(run).contains(QStringLiteral("not-a-real-token")));
}

void TestSlurm::unreachableSlurmrestdFailsTheRun()
{
    addProfile(QStringLiteral("nowhere"), QStringLiteral("http://127.0.0.1:9"), m_tokenFile);
    const Outcome tested = trainyard({QStringLiteral("backend"), QStringLiteral("test"), QStringLiteral("nowhere")});
    QCOMPARE(tested.exitCode, 1);
    QVERIFY2(tested.err.contains(QStringLiteral("slurmrestd at http://127.0.0.1:9 cannot be reached")),
             qPrintable(tested.err));

    const Outcome launched = trainyard(
        {QStringLiteral("launch"), QStringLiteral("--backend"), QStringLiteral("nowhere"), QStringLiteral("--name"),
         QStringLiteral("unreachable-run"), QStringLiteral("--"), QStringLiteral("/bin/true")});
    QCOMPARE(launched.exitCode, 1);
    QVERIFY2(launched.err.contains(QStringLiteral("cannot be reached")), qPrintable(launched.err));
    const QJsonObject run = show(QStringLiteral("unreachable-run"));
    QCOMPARE(run.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QVERIFY2(lastEventDetail(run).contains(QStringLiteral("http://127.0.0.1:9")), qPrintable(lastEventDetail(run)));
}

void TestSlurm::rejectedJobFailsTheRunWithTheServersMessage()
{
    // Five nodes from a two-node cluster: slurmctld refuses the job at submission.
    const Outcome launched = trainyard({QStringLiteral("launch"), QStringLiteral("--backend"), QStringLiteral("lab"),
                                        QStringLiteral("--nodes"), QStringLiteral("5"), QStringLiteral("--name"),
                                        QStringLiteral("too-big"), QStringLiteral("--"), QStringLiteral("/bin/true")});
    QCOMPARE(launched.exitCode, 1);
    QVERIFY2(launched.err.contains(QStringLiteral("configuration not available")), qPrintable(launched.err));
    const QJsonObject run = show(QStringLiteral("too-big"));
    QCOMPARE(run.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QVERIFY2(lastEventDetail(run).contains(QStringLiteral("configuration not available")),
             qPrintable(lastEventDetail(run)));
    // Slurm queued the job it refused (it would wait forever); the failed run leaves no such job behind.
    const auto queued = QRegularExpression(QStringLiteral("queued it as job (\\d+); Trainyard canceled that job"))
                            .match(lastEventDetail(run));
    QVERIFY2(queued.hasMatch(), qPrintable(lastEventDetail(run)));
    auto job = client().job(queued.captured(1).toLongLong());
    QVERIFY2(job, job ? "" : qPrintable(job.error()));
    QCOMPARE(job->state, QStringLiteral("CANCELLED"));
}

QTEST_GUILESS_MAIN(TestSlurm)
#include "tst_slurm.moc"
