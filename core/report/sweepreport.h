// A sweep's report (issue 20): its runs ranked by a metric, the best one, and each param's importance for that metric
// (report/paramimportance.h), from the runs' records as the store lists them. `trainyard sweep report` prints it; the
// Sweeps tab shows the same numbers.
#pragma once

#include "report/paramimportance.h"
#include "result.h"
#include "store/runrecord.h"

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

struct SweepReport {
    QString sweepId;
    SweepMetric metric;
    int runs = 0;     // every run of the sweep
    int finished = 0; // succeeded: the runs ranked and used for importance
    QStringList keys; // every metric key the sweep's runs logged (superseded ones aside)
    std::optional<RunRecord> best;
    double bestValue = 0;
    ImportanceReport importance;
};

// The report of `runs` (a sweep's). Fails with the keys the runs have when none of them logged `metric.key`.
Result<SweepReport> sweepReport(const QString &sweepId, const QList<RunRecord> &runs, const SweepMetric &metric,
                                const ForestSettings &forest = {});

} // namespace trainyard
