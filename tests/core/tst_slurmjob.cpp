// What Trainyard sends to Slurm and how it reads Slurm's answers, without a cluster: the batch script and job
// description, #SBATCH pass-through, job-state mapping, the agent's request file, backend profiles and tokens.
#include "launch/backendprofile.h"
#include "launch/slurmclient.h"
#include "launch/slurmjob.h"

#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace trainyard;

namespace {

LaunchRequest twoNodeRequest()
{
    LaunchRequest request;
    request.runId = QStringLiteral("20261124-120000-abcdef");
    request.runDir = QStringLiteral("/shared/ws/runs/20261124-120000-abcdef");
    request.command = {QStringLiteral("/usr/bin/python3"), QStringLiteral("train.py"), QStringLiteral("--name"),
                       QStringLiteral("it's")};
    request.cwd = QStringLiteral("/shared/code");
    request.nprocPerNode = 4;
    request.nnodes = 2;
    request.graceMs = 7000;
    request.env.insert(QStringLiteral("TRAINYARD_STRATEGY"), QStringLiteral("zero1"));
    request.nccl.level = QStringLiteral("INFO");
    request.nccl.asyncErrorHandling = 1;
    request.nccl.socketIfname = QStringLiteral("^lo");
    return request;
}

QString writeFile(const QString &path, const QByteArray &content, int mode)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(content);
    file.close();
    ::chmod(QFile::encodeName(path).constData(), mode_t(mode));
    return path;
}

} // namespace

class TestSlurmJob : public QObject {
    Q_OBJECT

private slots:
    void batchScriptStartsOneAgentPerNodeAndSaysTheSettingsTwice()
    {
        SlurmJobSettings settings;
        settings.partition = QStringLiteral("gpu");
        settings.account = QStringLiteral("ml-team");
        settings.timeLimitMinutes = 120;
        settings.cpusPerTask = 32;
        settings.gpusPerNode = 4;
        settings.sbatchOptions = {QStringLiteral("--qos=high"), QStringLiteral("--mem=256G")};
        const QMap<QString, QString> environment{
            {QStringLiteral("TRAINYARD_PYTHON_DIR"), QStringLiteral("/opt/ty/python")}};
        auto submission = buildSlurmSubmission(twoNodeRequest(), settings, QStringLiteral("trainyard-run"),
                                               QStringLiteral("/opt/my tools/trainyard"), environment);
        QVERIFY2(submission, submission ? "" : qPrintable(submission.error()));

        const QString script = QString::fromUtf8(submission->script);
        QVERIFY(script.startsWith(QStringLiteral("#!/bin/bash\n")));
        for (const QString &directive :
             {QStringLiteral("#SBATCH --nodes=2\n"), QStringLiteral("#SBATCH --ntasks-per-node=1\n"),
              QStringLiteral("#SBATCH --cpus-per-task=32\n"), QStringLiteral("#SBATCH --gpus-per-node=4\n"),
              QStringLiteral("#SBATCH --time=120\n"), QStringLiteral("#SBATCH --partition=gpu\n"),
              QStringLiteral("#SBATCH --account=ml-team\n"), QStringLiteral("#SBATCH --qos=high\n"),
              QStringLiteral("#SBATCH --mem=256G\n")})
            QVERIFY2(script.contains(directive), qPrintable(directive + script));
        QVERIFY2(script.contains(QStringLiteral(
                     "exec srun --nodes=2 --ntasks-per-node=1 --kill-on-bad-exit=1 --unbuffered --cpus-per-task=32 "
                     "'/opt/my tools/trainyard' agent --run-dir /shared/ws/runs/20261124-120000-abcdef\n")),
                 qPrintable(script));

        // slurmrestd ignores #SBATCH lines: the same settings go in the job description.
        const QJsonObject job = submission->body.value(QStringLiteral("job")).toObject();
        QCOMPARE(submission->body.value(QStringLiteral("script")).toString(), script);
        QCOMPARE(job.value(QStringLiteral("nodes")).toInt(), 2);
        QCOMPARE(job.value(QStringLiteral("tasks")).toInt(), 2);
        QCOMPARE(job.value(QStringLiteral("tasks_per_node")).toInt(), 1);
        QCOMPARE(job.value(QStringLiteral("cpus_per_task")).toInt(), 32);
        QCOMPARE(job.value(QStringLiteral("gpus_per_node")).toString(), QStringLiteral("gpu:4"));
        QCOMPARE(job.value(QStringLiteral("time_limit")).toInt(), 120);
        QCOMPARE(job.value(QStringLiteral("partition")).toString(), QStringLiteral("gpu"));
        QCOMPARE(job.value(QStringLiteral("account")).toString(), QStringLiteral("ml-team"));
        QCOMPARE(job.value(QStringLiteral("qos")).toString(), QStringLiteral("high"));
        QCOMPARE(job.value(QStringLiteral("memory_per_node")).toInteger(), 256 * 1024);
        QCOMPARE(job.value(QStringLiteral("current_working_directory")).toString(), twoNodeRequest().runDir);
        QCOMPARE(job.value(QStringLiteral("standard_output")).toString(),
                 twoNodeRequest().runDir + QStringLiteral("/slurm-%j.out"));
        const QJsonObject env = job.value(QStringLiteral("environment")).toObject();
        QCOMPARE(env.value(QStringLiteral("TRAINYARD_PYTHON_DIR")).toString(), QStringLiteral("/opt/ty/python"));
        QCOMPARE(env.value(QStringLiteral("PATH")).toString(), QStringLiteral("/usr/local/bin:/usr/bin:/bin"));
    }

    void submissionRefusesWhatCannotWorkOnACluster()
    {
        LaunchRequest relative = twoNodeRequest();
        relative.runDir = QStringLiteral("runs/x");
        auto refused =
            buildSlurmSubmission(relative, {}, QStringLiteral("j"), QStringLiteral("/usr/bin/trainyard"), {});
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("must be an absolute path on a file system every node sees")),
                 qPrintable(refused.error()));

        LaunchRequest withGpus = twoNodeRequest();
        withGpus.gpus = {0, 1, 2, 3};
        refused = buildSlurmSubmission(withGpus, {}, QStringLiteral("j"), QStringLiteral("/usr/bin/trainyard"), {});
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("slurm.gpus_per_node")), qPrintable(refused.error()));

        SlurmJobSettings badOption;
        badOption.sbatchOptions = {QStringLiteral("--exclusive")};
        refused = buildSlurmSubmission(twoNodeRequest(), badOption, QStringLiteral("j"),
                                       QStringLiteral("/usr/bin/trainyard"), {});
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("--exclusive is not one Trainyard can pass")),
                 qPrintable(refused.error()));

        // A newline in a value is never written into the script, whatever let it through (issue 15, defect 8).
        SlurmJobSettings injected;
        injected.partition = QStringLiteral("gpu\ntouch pwned #");
        refused = buildSlurmSubmission(twoNodeRequest(), injected, QStringLiteral("j"),
                                       QStringLiteral("/usr/bin/trainyard"), {});
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("contains a control character (U+000a")),
                 qPrintable(refused.error()));
        refused = buildSlurmSubmission(twoNodeRequest(), {}, QStringLiteral("j"), QStringLiteral("/usr/bin/trainyard"),
                                       {{QStringLiteral("A"), QStringLiteral("x\ntouch pwned")}});
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("environment variable A")), qPrintable(refused.error()));

        // Nor is a CR LF in the user sent as a header: the request fails before anything is sent.
        SlurmClient client({QStringLiteral("http://127.0.0.1:1"), QStringLiteral("alice\r\nX-Injected: 1"), "token"});
        auto answered = client.ping();
        QVERIFY(!answered);
        QVERIFY2(answered.error().contains(QStringLiteral("the Slurm user name contains a control character")),
                 qPrintable(answered.error()));
    }

    void sbatchOptionsBecomeJobFields_data()
    {
        QTest::addColumn<QString>("option");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QJsonValue>("value");
        QTest::newRow("comment") << "--comment=nightly eval"
                                 << "comment" << QJsonValue(QStringLiteral("nightly eval"));
        QTest::newRow("as #SBATCH line") << "#SBATCH --qos=low"
                                         << "qos" << QJsonValue(QStringLiteral("low"));
        QTest::newRow("constraint") << "--constraint=a100&ib"
                                    << "constraints" << QJsonValue(QStringLiteral("a100&ib"));
        QTest::newRow("mem in G") << "--mem=64G"
                                  << "memory_per_node" << QJsonValue(65536);
        QTest::newRow("mem in MiB") << "--mem=4096"
                                    << "memory_per_node" << QJsonValue(4096);
        QTest::newRow("mem in K rounds up") << "--mem-per-cpu=1500K"
                                            << "memory_per_cpu" << QJsonValue(2);
        QTest::newRow("mem per gpu in T") << "--mem-per-gpu=1T"
                                          << "memory_per_gpu" << QJsonValue(1024 * 1024);
        QTest::newRow("nice") << "--nice=10"
                              << "nice" << QJsonValue(10);
        QTest::newRow("requeue") << "--requeue"
                                 << "requeue" << QJsonValue(true);
        QTest::newRow("no requeue") << "--no-requeue"
                                    << "requeue" << QJsonValue(false);
    }
    void sbatchOptionsBecomeJobFields()
    {
        QFETCH(QString, option);
        QFETCH(QString, field);
        QFETCH(QJsonValue, value);
        QJsonObject job;
        const auto applied = applySbatchOption(option, job);
        QVERIFY2(applied, applied ? "" : qPrintable(applied.error()));
        QCOMPARE(job.value(field), value);
    }

    void badSbatchOptionsAreNamed_data()
    {
        QTest::addColumn<QString>("option");
        QTest::addColumn<QString>("message");
        QTest::newRow("unsupported")
            << "--exclusive"
            << "sbatch option --exclusive is not one Trainyard can pass through slurmrestd; supported: --qos";
        QTest::newRow("short form") << "-p gpu"
                                    << "sbatch option '-p gpu' must be written --name=value";
        QTest::newRow("missing value") << "--qos"
                                       << "sbatch option --qos needs a value";
        QTest::newRow("flag with value") << "--requeue=yes"
                                         << "sbatch option --requeue takes no value";
        QTest::newRow("bad number") << "--nice=low"
                                    << "sbatch option --nice: 'low' is not a whole number";
        QTest::newRow("bad memory") << "--mem=1.5G"
                                    << "sbatch option --mem: '1.5G' is not a memory size";
    }
    void badSbatchOptionsAreNamed()
    {
        QFETCH(QString, option);
        QFETCH(QString, message);
        QJsonObject job;
        const auto applied = applySbatchOption(option, job);
        QVERIFY(!applied);
        QVERIFY2(applied.error().startsWith(message), qPrintable(applied.error()));
        QVERIFY(job.isEmpty());
    }

    void slurmStatesMapToRunStates_data()
    {
        QTest::addColumn<QString>("state");
        QTest::addColumn<QString>("status");
        QTest::addColumn<bool>("final");
        QTest::newRow("pending") << "PENDING"
                                 << "queued" << false;
        QTest::newRow("requeued") << "REQUEUED"
                                  << "queued" << false;
        QTest::newRow("configuring") << "CONFIGURING"
                                     << "running" << false;
        QTest::newRow("running") << "RUNNING"
                                 << "running" << false;
        QTest::newRow("completing") << "COMPLETING"
                                    << "running" << false;
        QTest::newRow("completed") << "COMPLETED"
                                   << "succeeded" << true;
        QTest::newRow("cancelled") << "CANCELLED"
                                   << "canceled" << true;
        QTest::newRow("failed") << "FAILED"
                                << "failed" << true;
        QTest::newRow("timeout") << "TIMEOUT"
                                 << "failed" << true;
        QTest::newRow("node fail") << "NODE_FAIL"
                                   << "failed" << true;
        QTest::newRow("oom") << "OUT_OF_MEMORY"
                             << "failed" << true;
        QTest::newRow("preempted") << "PREEMPTED"
                                   << "failed" << true;
        QTest::newRow("boot fail") << "BOOT_FAIL"
                                   << "failed" << true;
    }
    void slurmStatesMapToRunStates()
    {
        QFETCH(QString, state);
        QFETCH(QString, status);
        QFETCH(bool, final);
        QCOMPARE(toString(runStatusForSlurmState(state)), status);
        QCOMPARE(isFinalSlurmState(state), final);
    }

    void jobAnswersAreRead()
    {
        // As slurmrestd 22.05 (openapi v0.0.38) answers GET /job/N, trimmed to the fields read.
        QJsonObject timedOut{{QStringLiteral("job_id"), 42},
                             {QStringLiteral("job_state"), QStringLiteral("TIMEOUT")},
                             {QStringLiteral("state_reason"), QStringLiteral("TimeLimit")},
                             {QStringLiteral("nodes"), QStringLiteral("gpu[01-02]")},
                             {QStringLiteral("batch_host"), QStringLiteral("gpu01")},
                             {QStringLiteral("exit_code"), 15},
                             {QStringLiteral("submit_time"), 1795561993},
                             {QStringLiteral("start_time"), 1795561995},
                             {QStringLiteral("end_time"), 1795565595}};
        const SlurmJobInfo job = parseSlurmJob(timedOut);
        QCOMPARE(job.jobId, 42);
        QCOMPARE(job.state, QStringLiteral("TIMEOUT"));
        QVERIFY(!job.exitCode.has_value());
        QCOMPARE(job.exitSignal.value_or(-1), 15); // a wait status: SIGTERM in the low bits
        QCOMPARE(job.submitTime, QDateTime::fromSecsSinceEpoch(1795561993, Qt::UTC));
        QCOMPARE(job.startTime, QDateTime::fromSecsSinceEpoch(1795561995, Qt::UTC));
        QCOMPARE(describeSlurmEnd(job),
                 QStringLiteral("Slurm job 42 ended TIMEOUT by signal 15 (reason TimeLimit) on gpu[01-02]"));

        QJsonObject failed = timedOut;
        failed.insert(QStringLiteral("job_state"), QStringLiteral("FAILED"));
        failed.insert(QStringLiteral("exit_code"), 2 << 8);
        failed.insert(QStringLiteral("state_reason"), QStringLiteral("NonZeroExitCode"));
        QCOMPARE(parseSlurmJob(failed).exitCode.value_or(-1), 2);
        QCOMPARE(describeSlurmEnd(parseSlurmJob(failed)),
                 QStringLiteral("Slurm job 42 ended FAILED with exit code 2 (reason NonZeroExitCode) on gpu[01-02]"));

        // A pending job reports its expected start in start_time: not a start.
        QJsonObject pending = timedOut;
        pending.insert(QStringLiteral("job_state"), QStringLiteral("PENDING"));
        pending.insert(QStringLiteral("exit_code"), 0);
        const SlurmJobInfo waiting = parseSlurmJob(pending);
        QVERIFY(!waiting.startTime.isValid());
        QVERIFY(!waiting.endTime.isValid());
        QCOMPARE(waiting.exitCode.value_or(-1), 0);
    }

    void agentRequestRoundTrips()
    {
        const LaunchRequest request = twoNodeRequest();
        auto back = launchRequestFromJson(launchRequestToJson(request), QStringLiteral("agent.json"));
        QVERIFY2(back, back ? "" : qPrintable(back.error()));
        QCOMPARE(back->runId, request.runId);
        QCOMPARE(back->runDir, request.runDir);
        QCOMPARE(back->command, request.command);
        QCOMPARE(back->cwd, request.cwd);
        QCOMPARE(back->nprocPerNode, 4);
        QCOMPARE(back->nnodes, 2);
        QCOMPARE(back->graceMs, 7000);
        QCOMPARE(back->env, request.env);
        QCOMPARE(back->nccl.level, QStringLiteral("INFO"));
        QCOMPARE(back->nccl.asyncErrorHandling, 1);
        QCOMPARE(back->nccl.traceBufferSize, -1);
        QCOMPARE(back->nccl.socketIfname, QStringLiteral("^lo"));

        auto broken = launchRequestFromJson(QJsonObject{{QStringLiteral("run_dir"), QStringLiteral("/x")}},
                                            QStringLiteral("/x/agent.json"));
        QVERIFY(!broken);
        QCOMPARE(broken.error(), QStringLiteral("/x/agent.json: 'command' is missing or of the wrong type"));
    }

    void profilesAreSavedLoadedAndRemoved()
    {
        QTemporaryDir workspace;
        BackendProfile lab;
        lab.name = QStringLiteral("lab");
        lab.url = QStringLiteral("http://login1:6820");
        lab.user = QStringLiteral("alice");
        lab.tokenFile = workspace.filePath(QStringLiteral("lab.token"));
        lab.job.partition = QStringLiteral("gpu");
        lab.job.timeLimitMinutes = 60;
        lab.job.gpusPerNode = 8;
        lab.job.sbatchOptions = {QStringLiteral("--qos=high")};
        lab.jobEnvironment.insert(QStringLiteral("PATH"), QStringLiteral("/opt/bin:/usr/bin:/bin"));
        lab.pollIntervalMs = 500;
        QVERIFY(upsertBackendProfile(workspace.path(), lab));
        BackendProfile other = lab;
        other.name = QStringLiteral("other");
        other.url = QStringLiteral("https://other:6820");
        QVERIFY(upsertBackendProfile(workspace.path(), other));
        lab.job.account = QStringLiteral("ml"); // replaces, does not add
        QVERIFY(upsertBackendProfile(workspace.path(), lab));

        auto loaded = loadBackendProfiles(workspace.path());
        QVERIFY2(loaded, loaded ? "" : qPrintable(loaded.error()));
        QCOMPARE(loaded->size(), 2);
        const BackendProfile &back = loaded->first();
        QCOMPARE(back.name, QStringLiteral("lab"));
        QCOMPARE(back.url, lab.url);
        QCOMPARE(back.user, lab.user);
        QCOMPARE(back.tokenFile, lab.tokenFile);
        QCOMPARE(back.job.partition, QStringLiteral("gpu"));
        QCOMPARE(back.job.account, QStringLiteral("ml"));
        QCOMPARE(back.job.timeLimitMinutes, 60);
        QCOMPARE(back.job.gpusPerNode, 8);
        QCOMPARE(back.job.sbatchOptions, lab.job.sbatchOptions);
        QCOMPARE(back.jobEnvironment, lab.jobEnvironment);
        QCOMPARE(back.pollIntervalMs, 500);

        QVERIFY(removeBackendProfile(workspace.path(), QStringLiteral("lab")));
        QCOMPARE(loadBackendProfiles(workspace.path())->size(), 1);
        const auto missing = findBackendProfile(workspace.path(), QStringLiteral("lab"));
        QVERIFY(!missing);
        QVERIFY2(missing.error().contains(QStringLiteral("backend 'lab' is not defined"))
                     && missing.error().contains(QStringLiteral("profiles: other")),
                 qPrintable(missing.error()));
    }

    void badProfilesAreNamed_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown key") << QByteArray(
            "lab:\n  url: http://a:1\n  user: u\n  token_file: /t\n  partiton: gpu\n")
                                     << "backends.yaml:5:3: unknown key 'partiton' in profile 'lab'";
        QTest::newRow("bad url") << QByteArray("lab:\n  url: login1:6820\n  user: u\n  token_file: /t\n")
                                 << "backends.yaml:2:3: profile 'lab': url 'login1:6820' is not an http(s) address";
        QTest::newRow("no user") << QByteArray("lab:\n  url: http://a:1\n  token_file: /t\n")
                                 << "backends.yaml:2:3: profile 'lab': 'user'";
        QTest::newRow("relative token") << QByteArray("lab:\n  url: http://a:1\n  user: u\n  token_file: t.token\n")
                                        << "backends.yaml:2:3: profile 'lab': 'token_file' must be an absolute path";
        QTest::newRow("local name") << QByteArray("local:\n  url: http://a:1\n  user: u\n  token_file: /t\n")
                                    << "backends.yaml:2:3: 'local' is this machine's backend";
        QTest::newRow("bad sbatch") << QByteArray(
            "lab:\n  url: http://a:1\n  user: u\n  token_file: /t\n  sbatch: [--exclusive]\n")
                                    << "backends.yaml:2:3: profile 'lab': sbatch option --exclusive";
        QTest::newRow("not a number") << QByteArray(
            "lab:\n  url: http://a:1\n  user: u\n  token_file: /t\n  gpus_per_node: eight\n")
                                      << "backends.yaml:5:18: profile 'lab'";
        // Control characters would become a header of their own, or a line of the job script (issue 15, defect 8).
        QTest::newRow("header injection")
            << QByteArray("lab:\n  url: http://a:1\n  user: \"alice\\r\\nX-Injected: 1\"\n  token_file: /t\n")
            << "backends.yaml:2:3: profile 'lab': 'user' contains a control character (U+000d at position 6)";
        QTest::newRow("script injection")
            << QByteArray(
                   "lab:\n  url: http://a:1\n  user: u\n  token_file: /t\n  partition: \"gpu\\ntouch pwned #\"\n")
            << "backends.yaml:2:3: profile 'lab': 'partition' contains a control character (U+000a at position 4)";
    }
    void badProfilesAreNamed()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(QString, message);
        QTemporaryDir workspace;
        QVERIFY(!writeFile(workspace.filePath(QStringLiteral("backends.yaml")), yaml, 0644).isEmpty());
        const auto loaded = loadBackendProfiles(workspace.path());
        QVERIFY(!loaded);
        const QString relative = QString(loaded.error()).replace(workspace.path() + QLatin1Char('/'), QString());
        QVERIFY2(relative.startsWith(message), qPrintable(relative));
    }

    void tokensStayPrivate()
    {
        QTemporaryDir dir;
        BackendProfile profile;
        profile.name = QStringLiteral("lab");
        profile.tokenFile = writeFile(dir.filePath(QStringLiteral("open.token")), "SLURM_JWT=eyJ.secret.sig\n", 0644);
        auto token = readBackendToken(profile);
        QVERIFY(!token);
        QVERIFY2(token.error().contains(QStringLiteral("can be read by others (mode 644); run `chmod 600")),
                 qPrintable(token.error()));
        QVERIFY(!token.error().contains(QStringLiteral("secret")));

        ::chmod(QFile::encodeName(profile.tokenFile).constData(), 0600);
        token = readBackendToken(profile);
        QVERIFY2(token, token ? "" : qPrintable(token.error()));
        QCOMPARE(*token, QByteArray("eyJ.secret.sig")); // `scontrol token` output is taken as it is printed

        profile.tokenFile = writeFile(dir.filePath(QStringLiteral("empty.token")), "\n", 0600);
        QVERIFY(readBackendToken(profile).error().contains(QStringLiteral("is empty")));

        const QString written = dir.filePath(QStringLiteral("tokens/lab.token"));
        QVERIFY(writeTokenFile(written, "abc.def.ghi"));
        struct stat info { };
        QCOMPARE(::stat(QFile::encodeName(written).constData(), &info), 0);
        QCOMPARE(int(info.st_mode & 0777), 0600);
        profile.tokenFile = written;
        QCOMPARE(*readBackendToken(profile), QByteArray("abc.def.ghi"));
    }

    void unreachableSlurmrestdIsNamed()
    {
        SlurmEndpoint endpoint;
        endpoint.baseUrl = QStringLiteral("http://127.0.0.1:9/");
        endpoint.user = QStringLiteral("alice");
        endpoint.token = "secret-token";
        const SlurmClient client(endpoint);
        const auto pinged = client.ping();
        QVERIFY(!pinged);
        QVERIFY2(pinged.error().startsWith(
                     QStringLiteral("cannot reach the cluster: slurmrestd at http://127.0.0.1:9 cannot be reached: ")),
                 qPrintable(pinged.error()));
        QVERIFY(!pinged.error().contains(QStringLiteral("secret-token")));
        const auto submitted = client.submit(QJsonObject{});
        QVERIFY(!submitted);
        QVERIFY(submitted.error().startsWith(
            QStringLiteral("cannot submit the job: slurmrestd at http://127.0.0.1:9 cannot be reached")));
    }
};

QTEST_GUILESS_MAIN(TestSlurmJob)
#include "tst_slurmjob.moc"
