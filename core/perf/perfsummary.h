// PerfSummary: why is this run slow? From the step timing every rank writes (perf/rank<N>/step_time_ms and its
// phases, see docs/METRICS.md) and the `samples` / `tokens` a script logs: step time per rank, the straggler verdict,
// the input-bound verdict and throughput, each with the numbers it rests on. Computed from the store, live or after
// the run; `trainyard show` and `show --json` carry it.
#pragma once

#include "gpu/gputelemetry.h"
#include "perf/gpupeaks.h"
#include "result.h"
#include "spec/launchoptions.h"
#include "store/metricqueries.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

namespace trainyard {

class SqliteConnection;

struct PerfThresholds {
    double stragglerPercent = 10;    // a rank this much slower than the others' median step time is a straggler
    double inputBoundShare = 0.3;    // the data phase's share of step time from which a run is input-bound
    double lowGpuUtilization = 50;   // without a data phase: GPUs under this (percent) ...
    double saturatedCpuPercent = 90; // ... while the ranks' processes use this much CPU: input-bound
};

// What the summary knows of the run beyond its points: its shape, its GPUs, its model (for MFU).
struct PerfContext {
    int rankCount = 0;    // 0: not known
    int ranksPerNode = 0; // 0: not known
    int nodes = 1;
    QList<int> gpus; // the GPU ordinals a node's ranks use, rank r on gpus[r % ranksPerNode]; empty: CPU
    QList<GpuIdentity> gpuIdentities; // their names and PCI bus ids (the run folder's gpus.json)
    std::optional<double> parameters; // the model's parameter count (model.params, or its transformer shape's)
    std::optional<TransformerShape> shape;
    PeakPrecision precision = PeakPrecision::Bf16; // the peak's column: the strategy's precision
    std::optional<double> peakTflopsPerGpu;        // `--peak-tflops` or model.peak_tflops: instead of the table
    bool gpuRun() const { return !gpus.isEmpty(); }
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

// A straggler's GPU beside the others', from the NVML samples Trainyard takes once a second (sys/gpu<N>/...), over
// the time since the straggler fell behind.
struct StragglerGpu {
    int gpu = -1;     // its CUDA ordinal
    QString pciBusId; // from gpus.json, when recorded
    QString name;
    std::optional<double> smClockMHz, othersSmClockMHz;
    std::optional<double> temperatureC, othersTemperatureC;
    std::optional<double> utilizationPercent, othersUtilizationPercent;
    QStringList throttleReasons; // what NVML said held its clocks down, when it did
};

struct StragglerVerdict {
    bool applies = false;     // false: no straggler, or it cannot be said (`reason`)
    QList<int> ranks;         // the slow rank(s), the slowest first
    double slowerPercent = 0; // the slowest one's median over the others' median, in percent
    double othersMedianMs = 0;
    std::int64_t sinceStep = -1;     // from this step on its windows stay over the threshold
    QString basis;                   // "step time", or "step time less the sync phase" (see RankStepTime::ownMedianMs)
    QString reason;                  // why there is no verdict (one rank; no timing)
    std::optional<StragglerGpu> gpu; // on a GPU run with telemetry: the slowest straggler's GPU
};

struct InputBoundVerdict {
    bool applies = false;
    QString basis;        // "data phase", or "GPU utilisation and CPU" (no data phase marked), or empty
    double dataShare = 0; // the mean over the ranks that mark a data phase
    std::optional<double> gpuUtilizationPercent; // without a data phase: the GPUs' median utilisation ...
    std::optional<double> cpuPercent;            // ... and the ranks' median CPU use (100: one core)
    QString reason;
};

struct Throughput {
    std::optional<double> samplesPerSecond;
    std::optional<double> tokensPerSecond;
    bool fromSpec = false; // counted from the spec's micro_batch and seq_len, the script logging neither
    QString reason;        // why there is none ("the script logs neither samples nor tokens"), or what was set aside
};

// Model FLOPs utilisation: the model's training FLOPs per token (6 x parameters, plus the attention term 12 x layers
// x hidden x seq_len when the transformer shape is given) times tokens/s, over the peak of the GPUs used.
struct MfuEstimate {
    std::optional<double> value; // 0..1; none when it cannot be said (`reason`)
    double flopsPerToken = 0;
    bool attentionTerm = false;
    double tokensPerSecond = 0;
    double peakTflopsPerGpu = 0;
    int gpuCount = 0;
    QString gpuModel;   // the table's entry ("H100 SXM5"), or "given" for --peak-tflops
    QString peakSource; // the document, or "--peak-tflops / model.peak_tflops"
    QString precision;  // the peak's column
    QString reason;
};

struct PerfSummary {
    QList<RankStepTime> ranks;     // by rank
    QList<int> ranksWithoutTiming; // ranks the run has that never wrote step timing
    StragglerVerdict straggler;
    InputBoundVerdict inputBound;
    Throughput throughput;
    MfuEstimate mfu;

    bool isEmpty() const { return ranks.isEmpty(); }
    QJsonObject toJson() const;
    // The verdicts in words, one a line ("rank 1 is 24% slower than the others since step 1200 (...)").
    QStringList sentences() const;
};

namespace perf {

// What a run's folder says of it: its spec (ranks, GPUs, model, precision) and gpus.json (the GPUs' names). A run
// without a spec gets an empty context (ranks and GPUs unknown).
PerfContext contextFor(const QString &runDir);

// The summary of a run from its stored points (perf/, samples, tokens, and the sys/ telemetry of its GPUs and ranks).
Result<PerfSummary> summarize(SqliteConnection &connection, const QString &runId, const PerfContext &context,
                              const PerfThresholds &thresholds = {});

// The same from series already read (key -> points): what summarize() does after reading, for tests and the UI.
PerfSummary summarizeSeries(const QMap<QString, QList<MetricPoint>> &series, const PerfContext &context,
                            const PerfThresholds &thresholds = {});
// A context of `rankCount` ranks, on as many GPUs (0..rankCount-1) when `gpus`, one node.
PerfContext simpleContext(int rankCount, bool gpus);

} // namespace perf
} // namespace trainyard
