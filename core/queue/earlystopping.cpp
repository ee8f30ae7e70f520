// ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020), in its stopping form as
// Optuna's SuccessiveHalvingPruner and Ray Tune's ASHA use it: a run that reaches a rung is compared with every run
// that reached it before, and goes on only while it is among the best 1/reduction of them (at least the best one).
// Median stopping (Golovin et al., "Google Vizier", KDD 2017): a run worse than the median of the finished runs'
// values at the same rung stops.
#include "queue/earlystopping.h"

#include <QJsonValue>

#include <algorithm>
#include <cmath>
#include <vector>

namespace trainyard {

namespace {

// Lower is better after this: a maximized metric is negated; NaN and infinities rank last.
double badness(const EarlyStopRule &rule, double value)
{
    if (!std::isfinite(value))
        return std::numeric_limits<double>::infinity();
    return rule.maximize ? -value : value;
}

QString ordinal(int n)
{
    const int lastTwo = n % 100;
    const char *suffix = (lastTwo >= 11 && lastTwo <= 13) ? "th"
        : n % 10 == 1                                     ? "st"
        : n % 10 == 2                                     ? "nd"
        : n % 10 == 3                                     ? "rd"
                                                          : "th";
    return QString::number(n) + QLatin1String(suffix);
}

QString number(double value) { return QString::number(value, 'g', 4); }

} // namespace

EarlyStopDecision judgeArrival(const EarlyStopRule &rule, const QString &runId, const RungArrival &arrival,
                               const QList<SweepRungValue> &atRung)
{
    EarlyStopDecision decision;
    decision.method = rule.method == EarlyStopRule::Method::Asha ? QStringLiteral("asha") : QStringLiteral("median");
    decision.rung = arrival.rung;
    decision.rungCount = int(rule.rungs.size());
    decision.arrival = arrival;
    const QString what = QStringLiteral("%1 %2 at step %3").arg(rule.metric, number(arrival.value)).arg(arrival.step);
    const QString where = QStringLiteral("rung %1 (step %2)").arg(arrival.rung + 1).arg(arrival.rungStep);
    const double mine = badness(rule, arrival.value);
    if (!std::isfinite(arrival.value)) {
        // A diverged run cannot be ranked, and cannot come back: it stops whatever the others did.
        decision.stop = true;
        decision.comparison = QStringLiteral("%1 at %2 is not a number: a diverged run is stopped").arg(what, where);
        return decision;
    }

    if (rule.method == EarlyStopRule::Method::Asha) {
        int reached = 0, better = 0;
        bool counted = false;
        for (const SweepRungValue &other : atRung) {
            ++reached;
            if (other.runId == runId) {
                counted = true;
                continue;
            }
            better += badness(rule, other.value) < mine;
        }
        if (!counted)
            ++reached;
        const int keep = std::max(1, reached / rule.reduction);
        const int rank = better + 1;
        decision.stop = rank > keep;
        decision.comparison = QStringLiteral("%1 ranks %2 of %3 run%4 at %5; ASHA keeps the best %6 (1/%7)")
                                  .arg(what, ordinal(rank))
                                  .arg(reached)
                                  .arg(reached == 1 ? QString() : QStringLiteral("s"), where)
                                  .arg(keep)
                                  .arg(rule.reduction);
        return decision;
    }

    std::vector<double> finished;
    for (const SweepRungValue &other : atRung)
        if (other.runId != runId && other.status == RunStatus::Succeeded)
            finished.push_back(badness(rule, other.value));
    if (int(finished.size()) < rule.minRuns) {
        decision.comparison = QStringLiteral("%1: %2 finished run%3 reached %4; median stopping waits for %5")
                                  .arg(what)
                                  .arg(finished.size())
                                  .arg(finished.size() == 1 ? QString() : QStringLiteral("s"), where)
                                  .arg(rule.minRuns);
        return decision;
    }
    std::sort(finished.begin(), finished.end());
    const std::size_t middle = finished.size() / 2;
    const double median = finished.size() % 2 ? finished[middle] : (finished[middle - 1] + finished[middle]) / 2;
    const double medianValue = rule.maximize ? -median : median;
    decision.stop = mine > median;
    decision.comparison =
        QStringLiteral("%1 is %2 the median %3 of %4 finished runs at %5")
            .arg(what,
                 decision.stop ? QStringLiteral("worse than")
                               : (mine == median ? QStringLiteral("at") : QStringLiteral("better than")),
                 number(medianValue))
            .arg(finished.size())
            .arg(where);
    return decision;
}

QString EarlyStopDecision::message() const
{
    return QStringLiteral("stopped early at rung %1 of %2 (step %3): %4")
        .arg(rung + 1)
        .arg(rungCount)
        .arg(arrival.rungStep)
        .arg(comparison);
}

QJsonObject EarlyStopDecision::toJson() const
{
    return QJsonObject{
        {QStringLiteral("method"), method},
        {QStringLiteral("rung"), rung + 1},
        {QStringLiteral("rungs"), rungCount},
        {QStringLiteral("rung_step"), qint64(arrival.rungStep)},
        {QStringLiteral("step"), qint64(arrival.step)},
        {QStringLiteral("value"),
         std::isfinite(arrival.value) ? QJsonValue(arrival.value) : QJsonValue(QString::number(arrival.value))},
        {QStringLiteral("comparison"), comparison},
        {QStringLiteral("message"), message()},
    };
}

} // namespace trainyard
