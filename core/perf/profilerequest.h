// Profiles on demand: Trainyard asks the ranks of a live run, through a file in its run folder, to wrap their next N
// steps in torch.profiler; each chosen rank answers with a Chrome trace and a status file. The Python client does the
// profiling (resources/python/trainyard_log.py); this is the side that asks and reads the answers, shared by
// `trainyard profile` and the run page's Traces tab. Layout of <run folder>/profile/:
//   request.json                 {id, steps, ranks, requested_ms, expires_ms}: the newest request, replaced whole
//   <id>/rank<N>.status.json     written by rank N: state profiling | done | failed, its steps, error, trace name
//   <id>/rank<N>.json            rank N's trace (torch.profiler's export_chrome_trace)
#pragma once

#include "result.h"

#include <QList>
#include <QString>

#include <chrono>
#include <optional>

namespace trainyard {

struct RunRecord;

struct ProfileRequest {
    QString id;       // "p<epoch ms>", also the folder of its answers
    int steps = 0;    // how many steps each rank profiles
    QList<int> ranks; // the chosen ranks; empty: every rank
    std::int64_t requestedMs = 0;
    std::int64_t expiresMs = 0; // a rank that first sees the request after this ignores it
};

struct RankProfile {
    enum class State { Waiting, Profiling, Done, Failed };
    int rank = 0;
    State state = State::Waiting;
    QString error;               // Failed: what the rank said
    std::int64_t firstStep = -1; // the profiled steps
    std::int64_t lastStep = -1;
    QString tracePath; // Done: the trace file
    std::int64_t bytes = 0;
    QStringList activities;  // "cpu", "cuda"
    bool endedEarly = false; // the script ended before the requested steps were all profiled
    bool answered() const { return state == State::Done || state == State::Failed; }
    QString stateName() const;
};

struct ProfileSession {
    ProfileRequest request;
    QString folder;
    QList<RankProfile> ranks; // the chosen ranks (when the request names them) plus any rank that answered
    bool allAnswered() const;
    QList<int> tracedRanks() const; // ranks with a trace, in order
};

namespace profiling {

inline constexpr int kMaxSteps = 1000;

// "0,2,5-7" (or "all", or empty: every rank) into rank numbers, each checked against `rankCount` (0: not known).
Result<QList<int>> parseRankList(const QString &text, int rankCount);

// Asks a run to profile: refused unless the run is running, with steps in 1..kMaxSteps and ranks of the run. The
// request is written whole (a rank never reads half of it); `answerWithin` bounds when ranks may still take it up.
Result<ProfileRequest> request(const RunRecord &run, const QString &runDir, int rankCount, int steps,
                               const QList<int> &ranks, std::chrono::seconds answerWithin);

// One request's answers so far; an error names the file that could not be read.
Result<ProfileSession> readSession(const QString &runDir, const QString &requestId);
// Every request of the run that has a folder of answers, newest first.
Result<QList<ProfileSession>> sessions(const QString &runDir);

// Why a chosen rank gave no answer: a rank that never wrote step timing has no Trainyard client (or never ends a
// step through it), otherwise it did not reach a step boundary in time.
QString silentRankMessage(int rank, bool rankWroteStepTiming, std::chrono::seconds waited);

} // namespace profiling
} // namespace trainyard
