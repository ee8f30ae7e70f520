// A sweep's report (issue 20): its runs ranked by a metric, the best one, and each param's importance for that metric
// (report/paramimportance.h), from the runs' records as the store lists them. `trainyard sweep report` prints it; the
// Sweeps tab shows the same numbers.
#pragma once

#include "report/paramimportance.h"
#include "result.h"
#include "spec/sweep.h"
#include "store/runrecord.h"
#include "store/sweepstate.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace trainyard {

// Which number of each run ranks it: a metric key and a statistic of its series ("last", "min" or "max"), and
// whether lower is better (a loss) or higher (an accuracy).
struct SweepMetric {
    QString key;
    QString statistic = QStringLiteral("min");
    bool lowerIsBetter = true;
};

// The run's value of the metric (NaN when it did not log the key).
double sweepMetricValue(const RunRecord &run, const SweepMetric &metric);
// The metric a sweep is ranked by when none is named: val/loss, eval/loss, loss or valid/loss if a run logged it.
QString defaultSweepMetricKey(const QList<RunRecord> &runs);

// A run its sweep's early-stopping rule ended, and what that saved.
struct StoppedEarlyRun {
    QString runId;
    QString name;
    int rung = 0; // 1-based, as the report prints it
    std::int64_t rungStep = 0;
    std::int64_t step = 0;
    double value = 0;
    QString comparison;
    int gpus = 0;
    double hoursUsed = 0;                    // active hours
    std::int64_t stepsDone = 0;              // the metric's last step + 1
    std::optional<double> hoursAtFullLength; // estimated at its own pace; nullopt while the full length is unknown
};

struct RungCount {
    int rung = 0; // 1-based
    std::int64_t step = 0;
    int reached = 0;
    int stoppedThere = 0;
};

struct EarlyStoppingReport {
    QString rule; // EarlyStopRule::describe()
    QList<RungCount> rungs;
    QList<StoppedEarlyRun> stopped;
    std::optional<std::int64_t> fullLength; // steps a run that is never stopped makes
    QString fullLengthFrom;                 // "max_step" or "the longest run that finished"
    double hoursUsed = 0;                   // by the stopped runs, wall-clock
    double hoursSaved = 0;                  // wall-clock run-hours the stopped runs would still have taken
    double gpuHoursUsed = 0;
    double gpuHoursSaved = 0; // the same, times each run's GPUs
    QStringList notes;        // rungs no run could reach, a metric no run logged
};

// The early-stopping part of a sweep's report, from its runs, the values they had at each rung and what they cost.
EarlyStoppingReport earlyStoppingReport(const EarlyStopRule &rule, const QList<RunRecord> &runs,
                                        const QList<SweepRungValue> &rungValues, const QList<SweepRunCost> &costs);

struct SweepReport {
    QString sweepId;
    SweepMetric metric;
    int runs = 0;     // every run of the sweep
    int finished = 0; // succeeded: the runs ranked and used for importance
    QStringList keys; // every metric key the sweep's runs logged (superseded ones aside)
    std::optional<RunRecord> best;
    double bestValue = 0;
    ImportanceReport importance;
    std::optional<EarlyStoppingReport> earlyStopping; // when the sweep's spec has a rule
    int stoppedEarly = 0;                             // runs the rule ended
};

// The report of `runs` (a sweep's). Fails with the keys the runs have when none of them logged `metric.key`.
Result<SweepReport> sweepReport(const QString &sweepId, const QList<RunRecord> &runs, const SweepMetric &metric,
                                const ForestSettings &forest = {});

} // namespace trainyard
