// Sweeps: one spec, many runs. A spec's `sweep:` section gives grid axes (every combination), random
// search (N samples, seeded: uniform, log-uniform, integer or a choice) and a seeds axis; the runs are
// their product. Or, with `method: tpe`, trials that Optuna's TPE sampler proposes one by one from the
// finished ones. Either may stop hopeless runs early (`early_stop:` ASHA, or `median_stop:`), judged by
// the queue at rungs. See the user guide's "Sweeps".
#pragma once

#include "result.h"
#include "spec/runparams.h"

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <cstdint>

namespace trainyard {

struct RandomAxis {
    enum class Distribution { Uniform, LogUniform, Int, Choice };
    QString param;
    Distribution distribution = Distribution::Uniform;
    double min = 0;
    double max = 1;
    QStringList choices;
    qint64 minInt = 0; // an int distribution's bounds, exact (a double loses integers past 2^53)
    qint64 maxInt = 0;
};

// A sweep's early stopping, judged by the queue when a run first logs `metric` at or past a rung's step.
//   ASHA (`early_stop:`, asynchronous successive halving, Li et al. 2018): a run goes on past a rung while it is
//   among the best max(1, floor(n / reduction)) of the n runs of the sweep that have reached that rung so far.
//   Median (`median_stop:`): a run is stopped when it is worse than the median of the finished runs' values at
//   that rung, once at least min_runs finished runs have one.
struct EarlyStopRule {
    enum class Method { Asha, Median };
    Method method = Method::Asha;
    QString metric;
    bool maximize = false;
    QList<std::int64_t> rungs; // steps, strictly increasing
    int reduction = 3;         // ASHA: keep the best 1/reduction at each rung
    int minRuns = 3;           // median: finished runs with a value at the rung before any run is judged there
    // The step a run that is never stopped ends at (its length); every rung must be below it. Unset: the length is
    // read off the sweep's runs that finished (GPU-hours saved are estimated from it).
    std::optional<std::int64_t> maxStep;

    // "ASHA on loss (min) at steps 10, 30, keeping 1/3" / "median stopping on loss (min) at steps 10, 30"
    QString describe() const;
    bool operator==(const EarlyStopRule &) const = default;
};

// What a `method: tpe` sweep optimizes: a metric's last, min or max per run, minimized or maximized.
struct SweepObjective {
    QString metric;
    bool maximize = false;
    QString statistic = QStringLiteral("last");
    bool operator==(const SweepObjective &) const = default;
};

struct SweepSpec {
    enum class Method { Enumerate, Tpe };
    Method method = Method::Enumerate;       // Enumerate: grid x random samples x seeds, all queued at once
    QList<QPair<QString, QStringList>> grid; // param -> values, in the spec's order
    int samples = 0;                         // random samples (0: no random search)
    std::uint64_t randomSeed = 0;
    QList<RandomAxis> random;
    QStringList seeds; // values of the seed param, one run each
    QString seedParam = QStringLiteral("seed");

    // method: tpe. The sampler's seed is randomSeed (`sweep.seed`).
    int trials = 0;          // runs in all
    int parallel = 1;        // trials queued or running at once
    int startupTrials = 10;  // trials drawn at random before TPE models the finished ones (Optuna's default)
    QList<RandomAxis> space; // `sweep.params`: each param's distribution, as random search's
    SweepObjective objective;

    std::optional<EarlyStopRule> earlyStop;

    bool isEmpty() const { return method == Method::Enumerate && grid.isEmpty() && samples == 0 && seeds.isEmpty(); }
    // How many runs the sweep makes: grid points x samples x seeds (an absent factor counts 1); a TPE sweep's trials.
    qint64 runCount() const;
};

// One run of a sweep: its params (the spec's, with the sweep's values put in, typed and checked) and a
// short label of what the sweep set, e.g. "lr=0.01 batch=64 seed=2".
struct SweepPoint {
    QList<RunParam> params;
    QString label;
};

// Expands the sweep over the spec's params. Values are checked against the param's type (a choice must
// be one of its choices); a param the spec does not declare gets the type its values read as. The same
// sweep and seed always give the same runs, in the same order.
Result<QList<SweepPoint>> expandSweep(const QList<RunParam> &baseParams, const SweepSpec &sweep);

inline constexpr qint64 kMaxSweepRuns = 10000;

} // namespace trainyard
