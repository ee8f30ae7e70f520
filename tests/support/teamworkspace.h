// A generated team workspace for the throughput review: runs with known time lines (queued, started, restarts,
// an outcome and its cause, first metric point, GPU telemetry), written through the real StoreWriter, and the
// same runs kept in memory so tests can compute every figure by brute force.
#pragma once

#include "store/storewriter.h"

#include <QDateTime>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>
#include <vector>

namespace trainyard::test {

struct GeneratedEvent {
    QString status;
    std::int64_t atMs = 0;
};

struct GeneratedRun {
    QString id;
    std::int64_t createdMs = 0;
    QString user, project, backend, host;
    QStringList tags;
    int gpus = 0;
    std::vector<GeneratedEvent> events; // in order; the first is the creation
    QString cause;                      // for a failed run that had ranks: its first failure's cause
    std::optional<std::int64_t> firstMetricMs;
    std::optional<double> gpuUtilization; // one telemetry sample, when it has one
};

// `count` runs launched over the 28 days from `start`; `seed` fixes everything.
std::vector<GeneratedRun> generateTeamRuns(StoreWriter &writer, int count, std::uint32_t seed, const QDateTime &start);

// What a lab's merged workspace has besides: params of every type on every run (float, int, text, bool, JSON), a
// `loss` summary on most, one sweep of `sweepRuns` runs, and runs with odd rows: a name of 10,000 characters, a name
// with a newline and right-to-left text, 1,000 tags on one run, a running run and a succeeded run without start or
// end times, an exit summary that is not JSON. Written in a few transactions through the writer; returns the sweep id.
QString addLabDetails(StoreWriter &writer, const std::vector<GeneratedRun> &runs, int sweepRuns);

} // namespace trainyard::test
