// PerfSummary: why is this run slow? From the step timing every rank writes (perf/rank<N>/step_time_ms and its
// phases, see docs/METRICS.md) and the `samples` / `tokens` a script logs: step time per rank, the straggler verdict,
// the input-bound verdict and throughput, each with the numbers it rests on. Computed from the store, live or after
// the run; `trainyard show` and `show --json` carry it.
#pragma once

#include "result.h"
#include "store/metricqueries.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

namespace trainyard {

class SqliteConnection;

struct PerfThresholds {
    double stragglerPercent = 10; // a rank this much slower than the others' median step time is a straggler
    double inputBoundShare = 0.3; // the data phase's share of step time from which a run is input-bound
};

struct RankStepTime {
    int rank = 0;
    std::int64_t steps = 0; // steps the timing covers
    double medianMs = 0;
    double p90Ms = 0;
    std::optional<double> dataShare; // the `data` phase's share of step time, when the script marks it
    // The median of step time less the time it waited for the other ranks (a phase named `sync` or `comm`), when the
    // script marks one: under synchronous data parallelism every rank's step takes as long as the slowest's, and a
    // straggler is the rank that waits least.
    std::optional<double> ownMedianMs;
};

struct StragglerVerdict {
    bool applies = false;     // false: no straggler, or it cannot be said (`reason`)
    QList<int> ranks;         // the slow rank(s), the slowest first
    double slowerPercent = 0; // the slowest one's median over the others' median, in percent
    double othersMedianMs = 0;
    std::int64_t sinceStep = -1; // from this step on its windows stay over the threshold
    QString basis;               // "step time", or "step time less the sync phase" (see RankStepTime::ownMedianMs)
    QString reason;              // why there is no verdict (one rank; no timing)
};

struct InputBoundVerdict {
    bool applies = false;
    double dataShare = 0; // the mean over the ranks that mark a data phase
    QString reason;
};

struct Throughput {
    std::optional<double> samplesPerSecond;
    std::optional<double> tokensPerSecond;
    QString reason; // why there is none ("the script logs neither samples nor tokens"), or what was set aside
};

struct PerfSummary {
    QList<RankStepTime> ranks;     // by rank
    QList<int> ranksWithoutTiming; // ranks the run has that never wrote step timing
    StragglerVerdict straggler;
    InputBoundVerdict inputBound;
    Throughput throughput;
    QString mfu; // "not applicable: a CPU run" or why it cannot be computed yet

    bool isEmpty() const { return ranks.isEmpty(); }
    QJsonObject toJson() const;
    // The verdicts in words, one a line ("rank 1 is 24% slower than the others since step 1200 (...)").
    QStringList sentences() const;
};

namespace perf {

// The summary of a run from its stored points; `rankCount` is how many ranks it has (0 when unknown) and `gpus`
// whether it ran on GPUs.
Result<PerfSummary> summarize(SqliteConnection &connection, const QString &runId, int rankCount, bool gpus,
                              const PerfThresholds &thresholds = {});

// The same from series already read (key -> points): what summarize() does after reading, for tests and the UI.
PerfSummary summarizeSeries(const QMap<QString, QList<MetricPoint>> &series, int rankCount, bool gpus,
                            const PerfThresholds &thresholds = {});

} // namespace perf
} // namespace trainyard
