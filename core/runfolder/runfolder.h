// RunFolder: the layout of a run's folder (runs/<id>/ in the workspace), the one place that names its files. Launch
// writes them, ingest and store read them; this module sits below all three and knows nothing of them.
#pragma once

#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

namespace trainyard {

// The resolved spec the run was launched with (what clone and the queue read back).
inline constexpr const char *kSpecFileName = "spec.yaml";
// Where the run's code came from (see provenancefile.h), and the uncommitted diff when the tree was dirty.
inline constexpr const char *kProvenanceFileName = "provenance.json";
inline constexpr const char *kGitDiffFileName = "git.diff";
// The supervisor's pid, start time and process group, for recovery after a crash.
inline constexpr const char *kSupervisorRecordFileName = "supervisor.json";
// The run's end (status, detail, exit summary) until the store has recorded it: a supervisor that cannot record the
// end (a database locked or a disk full for longer than it retries) leaves it for the next Trainyard, so a run's
// final status is never lost.
inline constexpr const char *kPendingOutcomeFileName = "outcome.json";
// The run's system metrics (CPU, memory, GPU telemetry), written by the supervisor, read like a metrics file.
inline constexpr const char *kSystemMetricsFileName = "system.jsonl";
// A ZeRO stage's DeepSpeed config.
inline constexpr const char *kDeepSpeedConfigFileName = "deepspeed.json";
// A Slurm run: the agent's description of the run, the batch script, and the profile, job id and submit time.
inline constexpr const char *kAgentRequestFileName = "agent.json";
inline constexpr const char *kSlurmScriptFileName = "slurm-job.sh";
inline constexpr const char *kSlurmJobFileName = "slurm.json";
// agent.node<N>.json: the outcome of the ranks one agent ran.
QString agentOutcomeFileName(int nodeRank);

// The files Trainyard writes in a run folder under fixed names, which a spec's files must not take.
QStringList reservedRunFileNames();

// metrics.rank<N>.jsonl in the run folder, N being the global rank.
QString metricsFileName(int globalRank);
// The name pattern of every rank's metrics file, for a folder listing.
inline constexpr const char *kMetricsFilePattern = "metrics.rank*.jsonl";
// nccl.rank<N>.log (nccl.rank<N>.attempt<K>.log for restart K): NCCL_DEBUG_FILE when NCCL debugging is on.
QString ncclDebugFileName(int globalRank, int attempt);
// rank<N>.log for the first attempt, rank<N>.attempt<K>.log for restart K.
QString rankLogFileName(int globalRank, int attempt);

struct RankLogName {
    int rank = 0;
    int attempt = 0;
    bool nccl = false; // nccl.rank<N>[.attempt<K>].log, written by NCCL itself (no receive stamps)
};
// Reads the names rankLogFileName and ncclDebugFileName make; nullopt for any other file.
std::optional<RankLogName> parseRankLogFileName(const QString &name);

// What a run takes on disk: its folder, and its checkpoint folder when that lies outside it (a spec's
// `checkpoints.dir`). Files are counted by their allocated size (du's figure), each hard link once; symbolic links are
// not followed.
struct RunDiskUse {
    std::int64_t runFolderBytes = 0;
    std::int64_t checkpointBytes = 0; // under the checkpoint folder, inside the run folder or not
    std::int64_t total() const;
};
RunDiskUse measureRunDiskUse(const QString &runDir, const QString &checkpointDir);

// Every line of rank<N>.log starts with its receive time and a space: "2026-11-24T18:03:03.123Z text".
inline constexpr int kLogStampLength = 24;
// Output lines longer than this are cut into pieces of this size in the rank log, each piece starting with
// kCutLinePrefix ("[trainyard: piece N of a line over 1 MiB, cut; not read as metrics] "): the log never holds a
// line the launcher had to buffer without bound, and no piece is read as a stdout metric line.
inline constexpr qsizetype kMaxOutputLineBytes = 1 << 20;
inline constexpr char kCutLinePrefix[] = "[trainyard: piece ";

} // namespace trainyard
