// The batch script and job description of a Slurm run; the agent's copy of the launch request.
#include "launch/slurmjob.h"

#include "controlcharacters.h"

#include <QJsonArray>
#include <QRegularExpression>

namespace trainyard {

namespace {

// Quotes a word for bash: 'text', with each ' written as '\''.
QString shellQuote(const QString &word)
{
    if (!word.isEmpty() && QRegularExpression(QStringLiteral("^[A-Za-z0-9_./:=@%+-]+$")).match(word).hasMatch())
        return word;
    QString quoted = word;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

} // namespace

Result<SlurmSubmission> buildSlurmSubmission(const LaunchRequest &request, const SlurmJobSettings &settings,
                                             const QString &jobName, const QString &trainyardPath,
                                             const QMap<QString, QString> &jobEnvironment)
{
    if (request.runDir.isEmpty() || !request.runDir.startsWith(QLatin1Char('/')))
        return fail(QStringLiteral("the run folder '%1' must be an absolute path on a file system every node sees")
                        .arg(request.runDir));
    if (request.nnodes < 1 || request.nprocPerNode < 1)
        return fail(QStringLiteral("a Slurm job needs at least one node and one rank per node"));
    if (!request.gpus.isEmpty())
        return fail(QStringLiteral(
            "resources.gpus picks GPUs of this machine; on Slurm ask for GPUs per node with slurm.gpus_per_node"));

    QJsonObject job{
        {QStringLiteral("name"), jobName},
        {QStringLiteral("nodes"), request.nnodes},
        {QStringLiteral("tasks"), request.nnodes},
        {QStringLiteral("tasks_per_node"), 1},
        {QStringLiteral("current_working_directory"), request.runDir},
        {QStringLiteral("standard_output"), request.runDir + QStringLiteral("/slurm-%j.out")},
        {QStringLiteral("standard_error"), request.runDir + QStringLiteral("/slurm-%j.out")},
    };
    QStringList directives{
        QStringLiteral("--job-name=%1").arg(shellQuote(jobName)),
        QStringLiteral("--nodes=%1").arg(request.nnodes),
        QStringLiteral("--ntasks-per-node=1"),
        QStringLiteral("--output=%1").arg(shellQuote(request.runDir + QStringLiteral("/slurm-%j.out"))),
    };
    if (settings.cpusPerTask > 0) {
        job.insert(QStringLiteral("cpus_per_task"), settings.cpusPerTask);
        directives << QStringLiteral("--cpus-per-task=%1").arg(settings.cpusPerTask);
    }
    if (settings.gpusPerNode > 0) {
        job.insert(QStringLiteral("gpus_per_node"), QStringLiteral("gpu:%1").arg(settings.gpusPerNode));
        directives << QStringLiteral("--gpus-per-node=%1").arg(settings.gpusPerNode);
    }
    if (settings.timeLimitMinutes > 0) {
        job.insert(QStringLiteral("time_limit"), settings.timeLimitMinutes);
        directives << QStringLiteral("--time=%1").arg(settings.timeLimitMinutes);
    }
    if (!settings.partition.isEmpty()) {
        job.insert(QStringLiteral("partition"), settings.partition);
        directives << QStringLiteral("--partition=%1").arg(shellQuote(settings.partition));
    }
    if (!settings.account.isEmpty()) {
        job.insert(QStringLiteral("account"), settings.account);
        directives << QStringLiteral("--account=%1").arg(shellQuote(settings.account));
    }
    for (const QString &option : settings.sbatchOptions) {
        if (auto applied = applySbatchOption(option, job); !applied)
            return fail(applied.error());
        directives << option.trimmed();
    }
    QJsonObject environment;
    for (auto it = jobEnvironment.constBegin(); it != jobEnvironment.constEnd(); ++it)
        environment.insert(it.key(), it.value());
    if (!environment.contains(QStringLiteral("PATH")))
        environment.insert(QStringLiteral("PATH"), QStringLiteral("/usr/local/bin:/usr/bin:/bin"));
    job.insert(QStringLiteral("environment"), environment);

    QStringList srun{QStringLiteral("srun"), QStringLiteral("--nodes=%1").arg(request.nnodes),
                     QStringLiteral("--ntasks-per-node=1"), QStringLiteral("--kill-on-bad-exit=1"),
                     QStringLiteral("--unbuffered")};
    // Since Slurm 22.05 srun does not take --cpus-per-task from the job: say it again.
    if (settings.cpusPerTask > 0)
        srun << QStringLiteral("--cpus-per-task=%1").arg(settings.cpusPerTask);
    srun << shellQuote(trainyardPath) << QStringLiteral("agent") << QStringLiteral("--run-dir")
         << shellQuote(request.runDir);

    // A control character in any value would break out of its line of the script (a newline in a partition is a
    // command of its own): refused, whatever let it through.
    for (const QString &value : QStringList{jobName, request.runDir, trainyardPath} + directives)
        if (auto clean =
                refuseControlCharacters(value, QStringLiteral("the job script's '%1'").arg(value.simplified()));
            !clean)
            return fail(clean.error());
    for (auto it = jobEnvironment.constBegin(); it != jobEnvironment.constEnd(); ++it)
        if (auto clean = refuseControlCharacters(
                it.key() + it.value(), QStringLiteral("the job's environment variable %1").arg(it.key().simplified()));
            !clean)
            return fail(clean.error());

    QString script = QStringLiteral("#!/bin/bash\n");
    script +=
        QStringLiteral("# Trainyard run %1: one `trainyard agent` per node starts %2 rank(s) there (%3 in all).\n")
            .arg(request.runId)
            .arg(request.nprocPerNode)
            .arg(request.nprocPerNode * request.nnodes);
    script += QStringLiteral("# slurmrestd takes these settings from the job description sent with this script; the\n"
                             "# #SBATCH lines say the same, so that `sbatch` on this file runs the same job.\n");
    for (const QString &directive : directives)
        script += QStringLiteral("#SBATCH ") + directive + QLatin1Char('\n');
    script += QStringLiteral("exec ") + srun.join(QLatin1Char(' ')) + QLatin1Char('\n');

    SlurmSubmission submission;
    submission.script = script.toUtf8();
    submission.body = QJsonObject{{QStringLiteral("script"), script}, {QStringLiteral("job"), job}};
    return submission;
}

RunStatus runStatusForSlurmState(const QString &state)
{
    if (state == QLatin1String("PENDING") || state == QLatin1String("REQUEUED") || state == QLatin1String("SUSPENDED")
        || state.isEmpty())
        return RunStatus::Queued;
    if (state == QLatin1String("RUNNING") || state == QLatin1String("CONFIGURING")
        || state == QLatin1String("COMPLETING") || state == QLatin1String("RESIZING")
        || state == QLatin1String("SIGNALING") || state == QLatin1String("STAGE_OUT"))
        return RunStatus::Running;
    if (state == QLatin1String("COMPLETED"))
        return RunStatus::Succeeded;
    if (state == QLatin1String("CANCELLED"))
        return RunStatus::Canceled;
    return RunStatus::Failed;
}

bool isFinalSlurmState(const QString &state) { return isTerminal(runStatusForSlurmState(state)); }

QString describeSlurmEnd(const SlurmJobInfo &job)
{
    QString text = QStringLiteral("Slurm job %1 ended %2").arg(job.jobId).arg(job.state);
    if (job.exitCode && *job.exitCode != 0)
        text += QStringLiteral(" with exit code %1").arg(*job.exitCode);
    if (job.exitSignal)
        text += QStringLiteral(" by signal %1").arg(*job.exitSignal);
    if (!job.reason.isEmpty() && job.reason != QLatin1String("None"))
        text += QStringLiteral(" (reason %1)").arg(job.reason);
    if (!job.nodes.isEmpty())
        text += QStringLiteral(" on %1").arg(job.nodes);
    return text;
}

QJsonObject launchRequestToJson(const LaunchRequest &request)
{
    QJsonObject env;
    for (auto it = request.env.constBegin(); it != request.env.constEnd(); ++it)
        env.insert(it.key(), it.value());
    QJsonArray gpus;
    for (int gpu : request.gpus)
        gpus.append(gpu);
    const NcclDebugOptions &nccl = request.nccl;
    return QJsonObject{
        {QStringLiteral("run_id"), request.runId},
        {QStringLiteral("run_dir"), request.runDir},
        {QStringLiteral("command"), QJsonArray::fromStringList(request.command)},
        {QStringLiteral("shell"), request.useShell},
        {QStringLiteral("cwd"), request.cwd},
        {QStringLiteral("nproc_per_node"), request.nprocPerNode},
        {QStringLiteral("nnodes"), request.nnodes},
        {QStringLiteral("gpus"), gpus},
        {QStringLiteral("max_restarts"), request.maxRestarts},
        {QStringLiteral("hang_timeout_ms"), request.hangTimeoutMs},
        {QStringLiteral("grace_ms"), request.graceMs},
        {QStringLiteral("master_port"), request.masterPort},
        {QStringLiteral("env"), env},
        {QStringLiteral("nccl"),
         QJsonObject{{QStringLiteral("debug"), nccl.level},
                     {QStringLiteral("debug_subsys"), nccl.subsystems},
                     {QStringLiteral("async_error_handling"), nccl.asyncErrorHandling},
                     {QStringLiteral("trace_buffer_size"), nccl.traceBufferSize},
                     {QStringLiteral("p2p_disable"), nccl.p2pDisable},
                     {QStringLiteral("ib_disable"), nccl.ibDisable},
                     {QStringLiteral("socket_ifname"), nccl.socketIfname}}},
    };
}

Result<LaunchRequest> launchRequestFromJson(const QJsonObject &object, const QString &sourceName)
{
    LaunchRequest request;
    const auto missing = [&](const char *key) {
        return fail(QStringLiteral("%1: '%2' is missing or of the wrong type").arg(sourceName, QLatin1String(key)));
    };
    if (!object.value(QStringLiteral("command")).isArray() || !object.value(QStringLiteral("run_dir")).isString())
        return missing(!object.value(QStringLiteral("command")).isArray() ? "command" : "run_dir");
    for (const QJsonValue &argument : object.value(QStringLiteral("command")).toArray())
        request.command << argument.toString();
    if (request.command.isEmpty())
        return fail(QStringLiteral("%1: 'command' is empty").arg(sourceName));
    request.runId = object.value(QStringLiteral("run_id")).toString();
    request.runDir = object.value(QStringLiteral("run_dir")).toString();
    request.useShell = object.value(QStringLiteral("shell")).toBool();
    request.cwd = object.value(QStringLiteral("cwd")).toString();
    request.nprocPerNode = object.value(QStringLiteral("nproc_per_node")).toInt(1);
    request.nnodes = object.value(QStringLiteral("nnodes")).toInt(1);
    if (request.nprocPerNode < 1 || request.nnodes < 1)
        return fail(QStringLiteral("%1: nproc_per_node and nnodes must be at least 1").arg(sourceName));
    for (const QJsonValue &gpu : object.value(QStringLiteral("gpus")).toArray())
        request.gpus << gpu.toInt();
    request.maxRestarts = object.value(QStringLiteral("max_restarts")).toInt();
    request.hangTimeoutMs = object.value(QStringLiteral("hang_timeout_ms")).toInt();
    request.graceMs = object.value(QStringLiteral("grace_ms")).toInt(5000);
    request.masterPort = object.value(QStringLiteral("master_port")).toInt();
    const QJsonObject env = object.value(QStringLiteral("env")).toObject();
    for (auto it = env.constBegin(); it != env.constEnd(); ++it)
        request.env.insert(it.key(), it.value().toString());
    const QJsonObject nccl = object.value(QStringLiteral("nccl")).toObject();
    request.nccl.level = nccl.value(QStringLiteral("debug")).toString();
    request.nccl.subsystems = nccl.value(QStringLiteral("debug_subsys")).toString();
    request.nccl.asyncErrorHandling = nccl.value(QStringLiteral("async_error_handling")).toInt(-1);
    request.nccl.traceBufferSize = nccl.value(QStringLiteral("trace_buffer_size")).toInt(-1);
    request.nccl.p2pDisable = nccl.value(QStringLiteral("p2p_disable")).toBool();
    request.nccl.ibDisable = nccl.value(QStringLiteral("ib_disable")).toBool();
    request.nccl.socketIfname = nccl.value(QStringLiteral("socket_ifname")).toString();
    return request;
}

} // namespace trainyard
