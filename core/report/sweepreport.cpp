#include "report/sweepreport.h"

#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
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

EarlyStoppingReport earlyStoppingReport(const EarlyStopRule &rule, const QList<RunRecord> &runs,
                                        const QList<SweepRungValue> &rungValues, const QList<SweepRunCost> &costs)
{
    EarlyStoppingReport report;
    report.rule = rule.describe();
    QHash<QString, SweepRunCost> costOf;
    for (const SweepRunCost &cost : costs)
        costOf.insert(cost.runId, cost);

    // The length of a run that is never stopped: the spec's max_step, else the longest run that finished.
    if (rule.maxStep) {
        report.fullLength = *rule.maxStep;
        report.fullLengthFrom = QStringLiteral("max_step");
    } else {
        for (const RunRecord &run : runs) {
            const SweepRunCost cost = costOf.value(run.id);
            if (run.status == RunStatus::Succeeded && cost.lastStep
                && (!report.fullLength || *cost.lastStep + 1 > *report.fullLength))
                report.fullLength = *cost.lastStep + 1;
        }
        if (report.fullLength)
            report.fullLengthFrom = QStringLiteral("the longest run that finished");
    }

    for (qsizetype i = 0; i < rule.rungs.size(); ++i)
        report.rungs << RungCount{int(i) + 1, rule.rungs[i], 0, 0};
    for (const SweepRungValue &value : rungValues)
        if (value.rung >= 0 && value.rung < report.rungs.size())
            ++report.rungs[value.rung].reached;

    for (const RunRecord &run : runs) {
        if (run.status != RunStatus::StoppedEarly)
            continue;
        const QJsonObject stopped = QJsonDocument::fromJson(run.exitSummary.toUtf8())
                                        .object()
                                        .value(QStringLiteral("stopped_early"))
                                        .toObject();
        StoppedEarlyRun entry;
        entry.runId = run.id;
        entry.name = run.name;
        entry.rung = stopped.value(QStringLiteral("rung")).toInt();
        entry.rungStep = stopped.value(QStringLiteral("rung_step")).toInteger();
        entry.step = stopped.value(QStringLiteral("step")).toInteger();
        const QJsonValue value = stopped.value(QStringLiteral("value"));
        entry.value = value.isString() ? value.toString().toDouble() : value.toDouble();
        entry.comparison = stopped.value(QStringLiteral("comparison")).toString();
        const SweepRunCost cost = costOf.value(run.id);
        entry.gpus = cost.gpus;
        entry.hoursUsed = double(cost.activeMs) / 3.6e6;
        entry.stepsDone = cost.lastStep ? *cost.lastStep + 1 : entry.step + 1;
        if (report.fullLength && entry.stepsDone > 0)
            entry.hoursAtFullLength =
                std::max(entry.hoursUsed, entry.hoursUsed * double(*report.fullLength) / double(entry.stepsDone));
        if (entry.rung >= 1 && entry.rung <= report.rungs.size())
            ++report.rungs[entry.rung - 1].stoppedThere;
        report.hoursUsed += entry.hoursUsed;
        report.gpuHoursUsed += entry.hoursUsed * entry.gpus;
        if (entry.hoursAtFullLength) {
            report.hoursSaved += *entry.hoursAtFullLength - entry.hoursUsed;
            report.gpuHoursSaved += (*entry.hoursAtFullLength - entry.hoursUsed) * entry.gpus;
        }
        report.stopped << entry;
    }

    bool anyLogged = false;
    for (const SweepRunCost &cost : costs)
        anyLogged = anyLogged || cost.lastStep.has_value();
    if (!anyLogged && !runs.isEmpty())
        report.notes
            << QStringLiteral("no run of the sweep logged '%1', so early stopping has judged no run").arg(rule.metric);
    if (report.fullLength) {
        for (const RungCount &rung : std::as_const(report.rungs))
            if (rung.step >= *report.fullLength)
                report.notes << QStringLiteral("rung %1 (step %2) is past the runs' length (%3 steps, from %4): no run "
                                               "can be judged there")
                                    .arg(rung.rung)
                                    .arg(rung.step)
                                    .arg(*report.fullLength)
                                    .arg(report.fullLengthFrom);
    } else if (!report.stopped.isEmpty()) {
        report.notes << QStringLiteral("no run has finished yet, so the hours saved are not known (or give "
                                       "max_step in the rule)");
    }
    return report;
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
            report.stoppedEarly += run.status == RunStatus::StoppedEarly;
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
