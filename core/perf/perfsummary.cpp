// The performance summary: weighted quantiles of each rank's step-time windows, and the verdicts drawn from them.
#include "perf/perfsummary.h"

#include "store/sqlite.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>

namespace trainyard {

namespace {

// Tokens or samples per step past this are not believed (a script that logs a running total, say).
constexpr double kMaxCountPerStep = 1e12;

struct Window {
    std::int64_t lastStep = 0;
    double meanMs = 0;
    std::int64_t steps = 1;
    std::int64_t firstStep() const { return lastStep - steps + 1; }
};

// The value below which `share` of the weight lies (windows weighted by the steps they cover).
double weightedQuantile(std::vector<Window> windows, double share)
{
    if (windows.empty())
        return 0;
    std::sort(windows.begin(), windows.end(), [](const Window &a, const Window &b) { return a.meanMs < b.meanMs; });
    std::int64_t total = 0;
    for (const Window &window : windows)
        total += window.steps;
    std::int64_t seen = 0;
    for (const Window &window : windows) {
        seen += window.steps;
        if (double(seen) >= share * double(total))
            return window.meanMs;
    }
    return windows.back().meanMs;
}

double median(QList<double> values)
{
    std::sort(values.begin(), values.end());
    const qsizetype n = values.size();
    return n == 0 ? 0 : (n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2);
}

QJsonValue optionalNumber(const std::optional<double> &value) { return value ? QJsonValue(*value) : QJsonValue(); }

double rounded(double value, int decimals)
{
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

} // namespace

namespace perf {

PerfSummary summarizeSeries(const QMap<QString, QList<MetricPoint>> &series, int rankCount, bool gpus,
                            const PerfThresholds &thresholds)
{
    static const QRegularExpression kPerfKey(QStringLiteral("^perf/rank(\\d+)/(.+)_ms$"));
    static const QRegularExpression kStepsKey(QStringLiteral("^perf/rank(\\d+)/steps$"));
    // rank -> (step -> steps covered), rank -> (phase -> (step -> mean ms))
    QMap<int, QMap<std::int64_t, std::int64_t>> covered;
    QMap<int, QMap<QString, QMap<std::int64_t, double>>> timed;
    for (auto it = series.constBegin(); it != series.constEnd(); ++it) {
        if (const auto steps = kStepsKey.match(it.key()); steps.hasMatch()) {
            for (const MetricPoint &point : it.value())
                if (std::isfinite(point.value) && point.value >= 1)
                    covered[steps.captured(1).toInt()][point.step] = std::int64_t(point.value);
        } else if (const auto key = kPerfKey.match(it.key()); key.hasMatch()) {
            for (const MetricPoint &point : it.value())
                if (std::isfinite(point.value) && point.value >= 0)
                    timed[key.captured(1).toInt()][key.captured(2)][point.step] = point.value;
        }
    }

    PerfSummary summary;
    QMap<int, std::vector<Window>> windowsOf, ownWindowsOf;
    for (auto rank = timed.constBegin(); rank != timed.constEnd(); ++rank) {
        const QMap<std::int64_t, double> stepTimes = rank->value(QStringLiteral("step_time"));
        if (stepTimes.isEmpty())
            continue;
        std::vector<Window> windows, ownWindows;
        double stepTotal = 0, dataTotal = 0;
        bool hasData = false;
        const QMap<std::int64_t, double> data = rank->value(QStringLiteral("data"));
        const QMap<std::int64_t, double> sync = rank->value(QStringLiteral("sync"));
        const QMap<std::int64_t, double> comm = rank->value(QStringLiteral("comm"));
        for (auto point = stepTimes.constBegin(); point != stepTimes.constEnd(); ++point) {
            const std::int64_t steps = covered.value(rank.key()).value(point.key(), 1);
            windows.push_back({point.key(), point.value(), steps});
            stepTotal += point.value() * double(steps);
            if (const auto phase = data.constFind(point.key()); phase != data.constEnd()) {
                dataTotal += *phase * double(steps);
                hasData = true;
            }
            const double waited = sync.value(point.key(), 0) + comm.value(point.key(), 0);
            if (sync.contains(point.key()) || comm.contains(point.key()))
                ownWindows.push_back({point.key(), std::max(0.0, point.value() - waited), steps});
        }
        RankStepTime time;
        time.rank = rank.key();
        for (const Window &window : windows)
            time.steps += window.steps;
        time.medianMs = weightedQuantile(windows, 0.5);
        time.p90Ms = weightedQuantile(windows, 0.9);
        if (hasData && stepTotal > 0)
            time.dataShare = std::min(1.0, dataTotal / stepTotal);
        if (!ownWindows.empty())
            time.ownMedianMs = weightedQuantile(ownWindows, 0.5);
        summary.ranks << time;
        windowsOf.insert(rank.key(), std::move(windows));
        ownWindowsOf.insert(rank.key(), std::move(ownWindows));
    }
    if (!summary.ranks.isEmpty())
        for (int rank = 0; rank < rankCount; ++rank)
            if (!windowsOf.contains(rank))
                summary.ranksWithoutTiming << rank;

    // Straggler: a rank whose median is over the threshold above the median of the others' medians.
    StragglerVerdict &straggler = summary.straggler;
    if (summary.ranks.isEmpty()) {
        straggler.reason = QStringLiteral("no step timing: the script does not use trainyard_log (log() per step, or "
                                          "step())");
    } else if (summary.ranks.size() == 1) {
        straggler.reason = summary.ranksWithoutTiming.isEmpty() ? QStringLiteral("one rank: nothing to compare it with")
                                                                : QStringLiteral("only one rank reports step timing");
    } else {
        // Where every rank marks the time it waits for the others, its own time is what tells the slow one apart.
        const bool own = std::all_of(summary.ranks.cbegin(), summary.ranks.cend(),
                                     [](const RankStepTime &rank) { return rank.ownMedianMs.has_value(); });
        straggler.basis = own ? QStringLiteral("step time less the sync phase") : QStringLiteral("step time");
        const auto timeOf = [own](const RankStepTime &rank) { return own ? *rank.ownMedianMs : rank.medianMs; };
        double worst = 0;
        QList<QPair<double, int>> slowness; // (percent slower, rank) of each rank over the threshold
        for (const RankStepTime &rank : std::as_const(summary.ranks)) {
            QList<double> others;
            for (const RankStepTime &other : std::as_const(summary.ranks))
                if (other.rank != rank.rank)
                    others << timeOf(other);
            const double othersMedian = median(others);
            if (othersMedian <= 0)
                continue;
            const double slower = (timeOf(rank) / othersMedian - 1) * 100;
            if (slower <= thresholds.stragglerPercent)
                continue;
            slowness << qMakePair(slower, rank.rank);
            if (slower > worst) {
                worst = slower;
                straggler.slowerPercent = slower;
                straggler.othersMedianMs = othersMedian;
                // Since when: the first window of the run of windows, up to the last, that stay over the threshold.
                const std::vector<Window> &windows = (own ? ownWindowsOf : windowsOf).value(rank.rank);
                const double limit = othersMedian * (1 + thresholds.stragglerPercent / 100);
                std::int64_t since = -1;
                for (auto window = windows.rbegin(); window != windows.rend() && window->meanMs > limit; ++window)
                    since = window->firstStep();
                straggler.sinceStep = since;
            }
        }
        // The slowest first.
        std::sort(slowness.begin(), slowness.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
        for (const auto &[slower, rank] : std::as_const(slowness))
            straggler.ranks << rank;
        straggler.applies = !straggler.ranks.isEmpty();
    }

    // Input-bound: the data phase's share of step time, over the ranks that mark it.
    QList<double> shares;
    for (const RankStepTime &rank : std::as_const(summary.ranks))
        if (rank.dataShare)
            shares << *rank.dataShare;
    if (shares.isEmpty()) {
        summary.inputBound.reason = QStringLiteral("no data phase marked (with trainyard_log.phase(\"data\"))");
    } else {
        double sum = 0;
        for (double share : std::as_const(shares))
            sum += share;
        summary.inputBound.dataShare = sum / double(shares.size());
        summary.inputBound.applies = summary.inputBound.dataShare >= thresholds.inputBoundShare;
    }

    // Throughput: what the script logs per step (samples, tokens) over rank 0's median step time (else the ranks').
    double stepSeconds = 0;
    for (const RankStepTime &rank : std::as_const(summary.ranks))
        if (rank.rank == 0 || stepSeconds == 0)
            stepSeconds = rank.medianMs / 1000.0;
    QStringList setAside;
    const auto perStep = [&](const char *name) -> std::optional<double> {
        for (const QString &key : QStringList{QLatin1String(name), QStringLiteral("train/") + QLatin1String(name)}) {
            const auto points = series.constFind(key);
            if (points == series.constEnd())
                continue;
            double sum = 0;
            int kept = 0, dropped = 0;
            for (const MetricPoint &point : *points) {
                if (std::isfinite(point.value) && point.value > 0 && point.value <= kMaxCountPerStep) {
                    sum += point.value;
                    ++kept;
                } else {
                    ++dropped;
                }
            }
            if (dropped > 0)
                setAside << QStringLiteral("%1 %2 value(s) set aside (negative, zero, not finite or over 1e12)")
                                .arg(dropped)
                                .arg(key);
            if (kept > 0)
                return sum / kept;
        }
        return std::nullopt;
    };
    const std::optional<double> samples = perStep("samples");
    const std::optional<double> tokens = perStep("tokens");
    if (stepSeconds > 0) {
        if (samples)
            summary.throughput.samplesPerSecond = *samples / stepSeconds;
        if (tokens)
            summary.throughput.tokensPerSecond = *tokens / stepSeconds;
    }
    if (!samples && !tokens)
        setAside.prepend(QStringLiteral("the script logs neither samples nor tokens per step"));
    else if (stepSeconds <= 0)
        setAside.prepend(QStringLiteral("no step timing to divide by"));
    summary.throughput.reason = setAside.join(QStringLiteral("; "));

    summary.mfu = gpus ? QStringLiteral("not computed yet: the GPUs' peak FLOPs table is still to come (issue 18)")
                       : QStringLiteral("not applicable: a CPU run");
    return summary;
}

Result<PerfSummary> summarize(SqliteConnection &connection, const QString &runId, int rankCount, bool gpus,
                              const PerfThresholds &thresholds)
{
    auto keys = metricqueries::keySummaries(connection, runId);
    if (!keys)
        return fail(keys.error());
    QMap<QString, QList<MetricPoint>> series;
    for (const MetricKeySummary &key : std::as_const(*keys)) {
        const bool wanted = key.key.startsWith(QLatin1String("perf/rank")) || key.key == u"samples"
            || key.key == u"tokens" || key.key == u"train/samples" || key.key == u"train/tokens";
        if (!wanted)
            continue;
        auto points = metricqueries::series(connection, runId, key.key);
        if (!points)
            return fail(points.error());
        series.insert(key.key, *points);
    }
    return summarizeSeries(series, rankCount, gpus, thresholds);
}

} // namespace perf

QJsonObject PerfSummary::toJson() const
{
    QJsonArray perRank;
    for (const RankStepTime &rank : ranks)
        perRank << QJsonObject{
            {QStringLiteral("rank"), rank.rank},
            {QStringLiteral("steps"), qint64(rank.steps)},
            {QStringLiteral("median_ms"), rounded(rank.medianMs, 3)},
            {QStringLiteral("p90_ms"), rounded(rank.p90Ms, 3)},
            {QStringLiteral("data_share"), rank.dataShare ? QJsonValue(rounded(*rank.dataShare, 4)) : QJsonValue()}};
    QJsonArray silent;
    for (int rank : ranksWithoutTiming)
        silent << rank;
    QJsonArray slowRanks;
    for (int rank : straggler.ranks)
        slowRanks << rank;
    return {
        {QStringLiteral("step_time"),
         QJsonObject{{QStringLiteral("per_rank"), perRank}, {QStringLiteral("ranks_without_timing"), silent}}},
        {QStringLiteral("straggler"),
         QJsonObject{{QStringLiteral("verdict"), straggler.applies},
                     {QStringLiteral("ranks"), slowRanks},
                     {QStringLiteral("slower_percent"), rounded(straggler.slowerPercent, 1)},
                     {QStringLiteral("others_median_ms"), rounded(straggler.othersMedianMs, 3)},
                     {QStringLiteral("since_step"),
                      straggler.sinceStep >= 0 ? QJsonValue(qint64(straggler.sinceStep)) : QJsonValue()},
                     {QStringLiteral("basis"), straggler.basis},
                     {QStringLiteral("reason"), straggler.reason}}},
        {QStringLiteral("input_bound"),
         QJsonObject{{QStringLiteral("verdict"), inputBound.applies},
                     {QStringLiteral("data_share"), rounded(inputBound.dataShare, 4)},
                     {QStringLiteral("reason"), inputBound.reason}}},
        {QStringLiteral("throughput"),
         QJsonObject{{QStringLiteral("samples_per_s"), optionalNumber(throughput.samplesPerSecond)},
                     {QStringLiteral("tokens_per_s"), optionalNumber(throughput.tokensPerSecond)},
                     {QStringLiteral("reason"), throughput.reason}}},
        {QStringLiteral("mfu"), QJsonObject{{QStringLiteral("value"), QJsonValue()}, {QStringLiteral("reason"), mfu}}},
    };
}

QStringList PerfSummary::sentences() const
{
    QStringList lines;
    if (ranks.isEmpty())
        return {straggler.reason};
    QStringList times;
    for (const RankStepTime &rank : ranks)
        times << QStringLiteral("rank %1 %2 ms (p90 %3)")
                     .arg(rank.rank)
                     .arg(rank.medianMs, 0, 'f', 1)
                     .arg(rank.p90Ms, 0, 'f', 1);
    lines << QStringLiteral("step time (median): ") + times.join(QStringLiteral(", "));
    for (int rank : ranksWithoutTiming)
        lines << QStringLiteral("rank %1 never reported step timing (does it call trainyard_log.log() or step()?)")
                     .arg(rank);
    if (straggler.applies) {
        QStringList slow;
        for (int rank : straggler.ranks)
            slow << QString::number(rank);
        lines << QStringLiteral("straggler: rank %1 is %2% slower than the others (%3: their median %4 ms)%5")
                     .arg(slow.join(QStringLiteral(", ")))
                     .arg(straggler.slowerPercent, 0, 'f', 0)
                     .arg(straggler.basis)
                     .arg(straggler.othersMedianMs, 0, 'f', 1)
                     .arg(straggler.sinceStep >= 0 ? QStringLiteral(" since step %1").arg(straggler.sinceStep)
                                                   : QString());
    } else {
        lines << QStringLiteral("straggler: none%1")
                     .arg(straggler.reason.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(straggler.reason));
    }
    if (inputBound.reason.isEmpty())
        lines << QStringLiteral("input: %1% of step time in the data phase%2")
                     .arg(inputBound.dataShare * 100, 0, 'f', 0)
                     .arg(inputBound.applies ? QStringLiteral(": input-bound") : QString());
    else
        lines << QStringLiteral("input: %1").arg(inputBound.reason);
    if (throughput.samplesPerSecond || throughput.tokensPerSecond) {
        QStringList rates;
        if (throughput.samplesPerSecond)
            rates << QStringLiteral("%1 samples/s").arg(*throughput.samplesPerSecond, 0, 'f', 1);
        if (throughput.tokensPerSecond)
            rates << QStringLiteral("%1 tokens/s").arg(*throughput.tokensPerSecond, 0, 'f', 0);
        lines << QStringLiteral("throughput: ") + rates.join(QStringLiteral(", "));
    }
    if (!throughput.reason.isEmpty())
        lines << QStringLiteral("throughput: ") + throughput.reason;
    lines << QStringLiteral("MFU: ") + mfu;
    return lines;
}

} // namespace trainyard
