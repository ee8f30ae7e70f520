// SlurmJob: what Trainyard sends to Slurm for one run — the batch script (one `trainyard agent` per node,
// started by srun) and the job description slurmrestd takes its settings from — and how Slurm's job states
// map to run states.
#pragma once

#include "launch/launchrequest.h"
#include "launch/slurmclient.h"
#include "result.h"
#include "spec/slurmsettings.h"
#include "runfolder/runfolder.h"
#include "store/runrecord.h"

#include <QByteArray>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>

namespace trainyard {

struct SlurmSubmission {
    QByteArray script; // also written to the run folder as slurm-job.sh
    QJsonObject body;  // {"script": ..., "job": {...}} for POST /job/submit
};

// The run folder must be on a file system every node sees: the agents write logs and metrics there.
// `jobEnvironment` is the job's whole environment (slurmrestd passes none of the submitter's).
Result<SlurmSubmission> buildSlurmSubmission(const LaunchRequest &request, const SlurmJobSettings &settings,
                                             const QString &jobName, const QString &trainyardPath,
                                             const QMap<QString, QString> &jobEnvironment);

// PENDING -> queued, RUNNING (and CONFIGURING, COMPLETING) -> running, COMPLETED -> succeeded, CANCELLED ->
// canceled, every other end state (FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL, DEADLINE, PREEMPTED)
// -> failed.
RunStatus runStatusForSlurmState(const QString &state);
bool isFinalSlurmState(const QString &state);
// "Slurm job 12 ended TIMEOUT (reason TimeLimit) on n[1-2]" and the like, for a failed run's message.
QString describeSlurmEnd(const SlurmJobInfo &job);

// The agent's description of the run (agent.json in the run folder) and back.
QJsonObject launchRequestToJson(const LaunchRequest &request);
Result<LaunchRequest> launchRequestFromJson(const QJsonObject &object, const QString &sourceName);

} // namespace trainyard
