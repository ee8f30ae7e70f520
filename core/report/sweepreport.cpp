#include "report/sweepreport.h"

#include <QSet>

#include <cmath>
#include <limits>

namespace trainyard {

double sweepMetricValue(const RunRecord &run, const SweepMetric &metric)
{
    const auto found = run.metrics.constFind(metric.key);
    if (found == run.metrics.constEnd())
        return std::numeric_limits<double>::quiet_NaN();
    return metric.statistic == u"last" ? found->last : metric.statistic == u"max" ? found->max : found->min;
}

QString defaultSweepMetricKey(const QList<RunRecord> &runs)
{
    for (const char *key : {"val/loss", "eval/loss", "valid/loss", "loss"})
        for (const RunRecord &run : runs)
            if (run.metrics.contains(QLatin1String(key)))
                return QLatin1String(key);
    return {};
}

Result<SweepReport> sweepReport(const QString &sweepId, const QList<RunRecord> &runs, const SweepMetric &metric,
                                const ForestSettings &forest)
{
    SweepReport report;
    report.sweepId = sweepId;
    report.metric = metric;
    report.runs = int(runs.size());
    QSet<QString> keys;
    for (const RunRecord &run : runs)
        for (auto it = run.metrics.keyBegin(); it != run.metrics.keyEnd(); ++it)
            keys.insert(*it);
    report.keys = QStringList(keys.cbegin(), keys.cend());
    report.keys.sort();
    if (!keys.contains(metric.key))
        return fail(
            QStringLiteral("no run of sweep %1 logged '%2' (its runs logged: %3)")
                .arg(sweepId, metric.key,
                     report.keys.isEmpty() ? QStringLiteral("nothing yet") : report.keys.join(QStringLiteral(", "))));
    QList<ImportanceRun> finished;
    QStringList notFinished;
    for (const RunRecord &run : runs) {
        if (run.status != RunStatus::Succeeded) {
            notFinished << QStringLiteral("%1: %2").arg(run.id, toString(run.status));
            continue;
        }
        const double value = sweepMetricValue(run, metric);
        finished << ImportanceRun{run.id, run.params,
                                  run.metrics.contains(metric.key) ? value : std::numeric_limits<double>::quiet_NaN()};
        if (!std::isfinite(value))
            continue;
        if (!report.best || (metric.lowerIsBetter ? value < report.bestValue : value > report.bestValue)) {
            report.best = run;
            report.bestValue = value;
        }
    }
    report.finished = int(finished.size());
    report.importance = paramImportance(finished, metric.lowerIsBetter, forest);
    // A run without the key is no NaN: say what it is.
    for (QString &line : report.importance.leftOut)
        for (const RunRecord &run : runs)
            if (line.startsWith(run.id + QLatin1Char(':')) && !run.metrics.contains(metric.key))
                line = QStringLiteral("%1: it did not log %2").arg(run.id, metric.key);
    report.importance.leftOut = notFinished + report.importance.leftOut;
    return report;
}

} // namespace trainyard
