// RankEnvironment: the torchrun environment contract plus Trainyard's own variables, for one rank.
#pragma once

#include <QProcessEnvironment>
#include <QList>
#include <QString>

#include <optional>

namespace trainyard {

struct LaunchRequest;

struct RankPlacement {
    int localRank = 0;
    int restartCount = 0;
    int masterPort = 0;
};

// The environment of one rank: the parent's, the request's env, then the contract, which wins.
// OMP_NUM_THREADS=1 and PYTHONUNBUFFERED=1 are set only when neither the parent nor the request sets them.
QProcessEnvironment rankEnvironment(const QProcessEnvironment &parent, const LaunchRequest &request,
                                    const RankPlacement &placement);

// metrics.rank<N>.jsonl in the run folder, N being the global rank.
QString metricsFileName(int globalRank);
// nccl.rank<N>.log (nccl.rank<N>.attempt<K>.log for restart K): NCCL_DEBUG_FILE when NCCL debugging is on.
QString ncclDebugFileName(int globalRank, int attempt);
// Every line of rank<N>.log starts with its receive time and a space: "2026-11-24T18:03:03.123Z text".
inline constexpr int kLogStampLength = 24;
// Output lines longer than this are cut into pieces of this size in the rank log, each piece starting with
// kCutLinePrefix ("[trainyard: piece N of a line over 1 MiB, cut; not read as metrics] "): the log never holds a
// line the launcher had to buffer without bound, and no piece is read as a stdout metric line.
inline constexpr qsizetype kMaxOutputLineBytes = 1 << 20;
inline constexpr char kCutLinePrefix[] = "[trainyard: piece ";

struct RankLogName {
    int rank = 0;
    int attempt = 0;
    bool nccl = false; // nccl.rank<N>[.attempt<K>].log, written by NCCL itself (no receive stamps)
};
// Reads the names rankLogFileName and ncclDebugFileName make; nullopt for any other file.
std::optional<RankLogName> parseRankLogFileName(const QString &name);

// rank<N>.log for the first attempt, rank<N>.attempt<K>.log for restart K.
QString rankLogFileName(int globalRank, int attempt);

// "0,2" -> {0, 2}: distinct non-negative GPU indices, as --gpus and the New local run form take them. An empty
// text gives an empty list; anything else that is not such a list gives nullopt.
std::optional<QList<int>> parseGpuList(const QString &text);

int globalRank(const LaunchRequest &request, int localRank);
int worldSize(const LaunchRequest &request);

} // namespace trainyard
