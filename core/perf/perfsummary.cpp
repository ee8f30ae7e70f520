// The performance summary: weighted quantiles of each rank's step-time windows, and the verdicts drawn from them.
#include "perf/perfsummary.h"

#include "runfolder/runfolder.h"
#include "spec/runspec.h"
#include "store/sqlite.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
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

// The median of a series' values from `sinceMs` on (all of them without a time), or nullopt when it has none.
std::optional<double> medianSince(const QMap<QString, QList<MetricPoint>> &series, const QString &key,
                                  std::optional<std::int64_t> sinceMs)
{
    const auto points = series.constFind(key);
    if (points == series.constEnd())
        return std::nullopt;
    QList<double> values;
    for (const MetricPoint &point : *points)
        if (std::isfinite(point.value) && (!sinceMs || !point.tsMs || *point.tsMs >= *sinceMs))
            values << point.value;
    if (values.isEmpty())
        return std::nullopt;
    return median(values);
}

std::optional<double> medianOf(const QList<double> &values)
{
    return values.isEmpty() ? std::nullopt : std::optional<double>(median(values));
}

// 1,410 and 262,144: the group separator, whatever the user's locale (the summary is a report, like `show`).
QString thousands(double value) { return QLocale(QLocale::English).toString(qint64(std::llround(value))); }

QJsonValue roundedOrNull(const std::optional<double> &value, int decimals)
{
    return value ? QJsonValue(rounded(*value, decimals)) : QJsonValue();
}

// The straggler's GPU beside the others', since the straggler fell behind.
std::optional<StragglerGpu> stragglerGpu(const QMap<QString, QList<MetricPoint>> &series, const PerfContext &context,
                                         const StragglerVerdict &straggler)
{
    if (!context.gpuRun() || context.nodes != 1 || context.ranksPerNode <= 0 || straggler.ranks.isEmpty())
        return std::nullopt; // the telemetry is the launching node's: a single-node run's GPUs
    const int rank = straggler.ranks.first();
    const int index = rank % context.ranksPerNode;
    if (index >= context.gpus.size())
        return std::nullopt;
    StragglerGpu gpu;
    gpu.gpu = context.gpus[index];
    for (const GpuIdentity &identity : context.gpuIdentities)
        if (identity.gpu == gpu.gpu) {
            gpu.pciBusId = identity.pciBusId;
            gpu.name = identity.name;
        }
    // Since when: the time of the straggler's first window from its since-step on.
    std::optional<std::int64_t> sinceMs;
    for (const MetricPoint &point : series.value(QStringLiteral("perf/rank%1/step_time_ms").arg(rank)))
        if (point.step >= straggler.sinceStep && point.tsMs) {
            sinceMs = *point.tsMs - 1000; // the window's line is written at its end, a second or so after its start
            break;
        }
    const auto figure = [&](const char *name, std::optional<double> &mine, std::optional<double> &others) {
        QList<double> otherMedians;
        for (int other : context.gpus) {
            const auto value =
                medianSince(series, QStringLiteral("sys/gpu%1/%2").arg(other).arg(QLatin1String(name)), sinceMs);
            if (other == gpu.gpu)
                mine = value;
            else if (value)
                otherMedians << *value;
        }
        others = medianOf(otherMedians);
    };
    figure("sm_clock_mhz", gpu.smClockMHz, gpu.othersSmClockMHz);
    figure("temperature_c", gpu.temperatureC, gpu.othersTemperatureC);
    figure("utilization_percent", gpu.utilizationPercent, gpu.othersUtilizationPercent);
    unsigned long long reasons = 0;
    for (const MetricPoint &point : series.value(QStringLiteral("sys/gpu%1/throttle_reasons").arg(gpu.gpu)))
        if (std::isfinite(point.value) && point.value >= 0 && (!sinceMs || !point.tsMs || *point.tsMs >= *sinceMs))
            reasons |= static_cast<unsigned long long>(point.value);
    gpu.throttleReasons = describeThrottleReasons(reasons);
    return gpu;
}

MfuEstimate estimateMfu(const PerfContext &context, const Throughput &throughput)
{
    MfuEstimate mfu;
    mfu.precision = gpupeaks::toString(context.precision);
    if (!context.gpuRun() && !context.peakTflopsPerGpu) {
        mfu.reason = QStringLiteral("not applicable: a CPU run");
        return mfu;
    }
    std::optional<double> parameters = context.parameters;
    if (!parameters && context.shape)
        parameters = context.shape->parameterCount();
    if (!parameters || *parameters <= 0) {
        mfu.reason = QStringLiteral("needs the model's size: give model.params (or its transformer shape: layers, "
                                    "hidden, heads, vocab, seq_len, micro_batch) in the spec");
        return mfu;
    }
    // Training FLOPs per token: 2N forward and 4N backward (Kaplan et al. 2020), plus attention's 12·L·h·s
    // (PaLM, Chowdhery et al. 2022, appendix B) when the shape is known.
    mfu.flopsPerToken = 6 * *parameters;
    if (context.shape) {
        mfu.flopsPerToken += 12.0 * context.shape->layers * context.shape->hidden * context.shape->seqLen;
        mfu.attentionTerm = true;
    }
    if (!throughput.tokensPerSecond) {
        mfu.reason = QStringLiteral("needs tokens per second: log `tokens` per step (all ranks' tokens), or give "
                                    "the model's seq_len and micro_batch in the spec");
        return mfu;
    }
    mfu.tokensPerSecond = *throughput.tokensPerSecond;
    mfu.gpuCount = context.rankCount > 0 ? context.rankCount : int(context.gpus.size()) * std::max(1, context.nodes);
    if (mfu.gpuCount <= 0) {
        mfu.reason = QStringLiteral("needs the number of ranks, which the run's spec does not say");
        return mfu;
    }
    if (context.peakTflopsPerGpu) {
        mfu.peakTflopsPerGpu = *context.peakTflopsPerGpu;
        mfu.gpuModel = QStringLiteral("given");
        mfu.peakSource = QStringLiteral("--peak-tflops or model.peak_tflops");
    } else {
        if (context.gpuIdentities.isEmpty() || context.gpuIdentities.first().name.isEmpty()) {
            mfu.reason = QStringLiteral("needs the GPUs' model, which the run did not record (no NVML when it ran); "
                                        "pass --peak-tflops");
            return mfu;
        }
        const QString name = context.gpuIdentities.first().name;
        for (const GpuIdentity &identity : context.gpuIdentities)
            if (identity.name != name) {
                mfu.reason = QStringLiteral("the run's GPUs are of different models (%1, %2); pass --peak-tflops")
                                 .arg(name, identity.name);
                return mfu;
            }
        const auto peak = gpupeaks::find(name);
        if (!peak) {
            mfu.reason =
                QStringLiteral("'%1' is not in the peak table (docs/USER_GUIDE.md); pass --peak-tflops").arg(name);
            return mfu;
        }
        auto value = peak->at(context.precision);
        if (!value) { // a GPU without that precision's tensor cores (V100 and bf16): its FP16 peak
            value = peak->fp16;
            mfu.precision = QStringLiteral("fp16");
        }
        mfu.peakTflopsPerGpu = value.value_or(0);
        mfu.gpuModel = peak->model;
        mfu.peakSource = peak->source;
    }
    if (mfu.peakTflopsPerGpu <= 0) {
        mfu.reason = QStringLiteral("no peak for %1").arg(mfu.gpuModel);
        return mfu;
    }
    mfu.value = mfu.tokensPerSecond * mfu.flopsPerToken / (mfu.peakTflopsPerGpu * 1e12 * mfu.gpuCount);
    return mfu;
}

} // namespace

namespace perf {

PerfContext simpleContext(int rankCount, bool gpus)
{
    PerfContext context;
    context.rankCount = rankCount;
    context.ranksPerNode = rankCount;
    if (gpus)
        for (int gpu = 0; gpu < std::max(1, rankCount); ++gpu)
            context.gpus << gpu;
    return context;
}

PerfContext contextFor(const QString &runDir)
{
    PerfContext context;
    const auto spec = loadRunSpec(runDir + QLatin1Char('/') + QLatin1String(kSpecFileName));
    if (!spec)
        return context;
    context.nodes = spec->nodes;
    context.ranksPerNode = spec->ranksPerNode;
    context.rankCount = spec->nodes * spec->ranksPerNode;
    context.gpus = spec->gpus;
    context.parameters = spec->model.parameters;
    context.shape = spec->model.shape;
    context.peakTflopsPerGpu = spec->model.peakTflops;
    context.precision = spec->strategy.precision == Precision::Fp16Mixed ? PeakPrecision::Fp16
        : spec->strategy.precision == Precision::Fp32                    ? PeakPrecision::Tf32
                                                                         : PeakPrecision::Bf16;
    QFile identities(runDir + QStringLiteral("/gpus.json"));
    if (identities.open(QIODevice::ReadOnly))
        for (const QJsonValue &value : QJsonDocument::fromJson(identities.readAll()).array()) {
            const QJsonObject object = value.toObject();
            context.gpuIdentities.append({object.value(QStringLiteral("gpu")).toInt(),
                                          object.value(QStringLiteral("name")).toString(),
                                          object.value(QStringLiteral("pci_bus_id")).toString()});
        }
    return context;
}

PerfSummary summarizeSeries(const QMap<QString, QList<MetricPoint>> &series, const PerfContext &context,
                            const PerfThresholds &thresholds)
{
    const int rankCount = context.rankCount;
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
        if (straggler.applies)
            straggler.gpu = stragglerGpu(series, context, straggler);
    }

    // Input-bound: the data phase's share of step time, over the ranks that mark it.
    QList<double> shares;
    for (const RankStepTime &rank : std::as_const(summary.ranks))
        if (rank.dataShare)
            shares << *rank.dataShare;
    if (shares.isEmpty()) {
        // Without a data phase, on GPUs: idle GPUs while the ranks' processes keep their CPU busy.
        QList<double> utilization, cpu;
        for (int gpu : context.gpus)
            if (const auto value = medianSince(series, QStringLiteral("sys/gpu%1/utilization_percent").arg(gpu), {}))
                utilization << *value;
        for (int rank = 0; rank < std::max(rankCount, int(summary.ranks.size())); ++rank)
            if (const auto value = medianSince(series, QStringLiteral("sys/rank%1/cpu_percent").arg(rank), {}))
                cpu << *value;
        if (!utilization.isEmpty() && !cpu.isEmpty()) {
            summary.inputBound.basis = QStringLiteral("GPU utilisation and CPU");
            summary.inputBound.gpuUtilizationPercent = median(utilization);
            summary.inputBound.cpuPercent = median(cpu);
            summary.inputBound.applies = *summary.inputBound.gpuUtilizationPercent < thresholds.lowGpuUtilization
                && *summary.inputBound.cpuPercent >= thresholds.saturatedCpuPercent;
        } else {
            summary.inputBound.reason = context.gpuRun()
                ? QStringLiteral("no data phase marked (with trainyard_log.phase(\"data\")) and no GPU telemetry")
                : QStringLiteral("no data phase marked (with trainyard_log.phase(\"data\"))");
        }
    } else {
        summary.inputBound.basis = QStringLiteral("data phase");
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
    std::optional<double> samples = perStep("samples");
    std::optional<double> tokens = perStep("tokens");
    // Neither logged: the spec's micro batch and sequence length, on every (data-parallel) rank.
    if (!samples && !tokens && context.shape && context.shape->microBatch > 0 && rankCount > 0) {
        samples = double(context.shape->microBatch) * rankCount;
        tokens = *samples * context.shape->seqLen;
        summary.throughput.fromSpec = true;
    }
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

    summary.mfu = estimateMfu(context, summary.throughput);
    return summary;
}

Result<PerfSummary> summarize(SqliteConnection &connection, const QString &runId, const PerfContext &context,
                              const PerfThresholds &thresholds)
{
    static const QRegularExpression kTelemetry(
        QStringLiteral("^sys/(gpu\\d+/(utilization_percent|sm_clock_mhz|temperature_c|throttle_reasons)|"
                       "rank\\d+/cpu_percent)$"));
    auto keys = metricqueries::keySummaries(connection, runId);
    if (!keys)
        return fail(keys.error());
    QMap<QString, QList<MetricPoint>> series;
    for (const MetricKeySummary &key : std::as_const(*keys)) {
        const bool wanted = key.key.startsWith(QLatin1String("perf/rank")) || key.key == u"samples"
            || key.key == u"tokens" || key.key == u"train/samples" || key.key == u"train/tokens"
            || kTelemetry.match(key.key).hasMatch();
        if (!wanted)
            continue;
        auto points = metricqueries::series(connection, runId, key.key);
        if (!points)
            return fail(points.error());
        series.insert(key.key, *points);
    }
    return summarizeSeries(series, context, thresholds);
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
    QJsonValue stragglerGpuJson;
    if (straggler.gpu)
        stragglerGpuJson = QJsonObject{
            {QStringLiteral("gpu"), straggler.gpu->gpu},
            {QStringLiteral("pci_bus_id"), straggler.gpu->pciBusId},
            {QStringLiteral("name"), straggler.gpu->name},
            {QStringLiteral("sm_clock_mhz"), roundedOrNull(straggler.gpu->smClockMHz, 0)},
            {QStringLiteral("others_sm_clock_mhz"), roundedOrNull(straggler.gpu->othersSmClockMHz, 0)},
            {QStringLiteral("temperature_c"), roundedOrNull(straggler.gpu->temperatureC, 1)},
            {QStringLiteral("others_temperature_c"), roundedOrNull(straggler.gpu->othersTemperatureC, 1)},
            {QStringLiteral("utilization_percent"), roundedOrNull(straggler.gpu->utilizationPercent, 1)},
            {QStringLiteral("others_utilization_percent"), roundedOrNull(straggler.gpu->othersUtilizationPercent, 1)},
            {QStringLiteral("throttle_reasons"), QJsonArray::fromStringList(straggler.gpu->throttleReasons)}};
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
                     {QStringLiteral("gpu"), stragglerGpuJson},
                     {QStringLiteral("reason"), straggler.reason}}},
        {QStringLiteral("input_bound"),
         QJsonObject{{QStringLiteral("verdict"), inputBound.applies},
                     {QStringLiteral("basis"), inputBound.basis},
                     {QStringLiteral("data_share"), rounded(inputBound.dataShare, 4)},
                     {QStringLiteral("gpu_utilization_percent"), roundedOrNull(inputBound.gpuUtilizationPercent, 1)},
                     {QStringLiteral("cpu_percent"), roundedOrNull(inputBound.cpuPercent, 1)},
                     {QStringLiteral("reason"), inputBound.reason}}},
        {QStringLiteral("throughput"),
         QJsonObject{{QStringLiteral("samples_per_s"), optionalNumber(throughput.samplesPerSecond)},
                     {QStringLiteral("tokens_per_s"), optionalNumber(throughput.tokensPerSecond)},
                     {QStringLiteral("from_spec"), throughput.fromSpec},
                     {QStringLiteral("reason"), throughput.reason}}},
        {QStringLiteral("mfu"),
         QJsonObject{
             {QStringLiteral("value"), roundedOrNull(mfu.value, 5)},
             {QStringLiteral("flops_per_token"), mfu.flopsPerToken > 0 ? QJsonValue(mfu.flopsPerToken) : QJsonValue()},
             {QStringLiteral("attention_term"), mfu.attentionTerm},
             {QStringLiteral("tokens_per_s"), mfu.tokensPerSecond > 0 ? QJsonValue(mfu.tokensPerSecond) : QJsonValue()},
             {QStringLiteral("peak_tflops_per_gpu"),
              mfu.peakTflopsPerGpu > 0 ? QJsonValue(mfu.peakTflopsPerGpu) : QJsonValue()},
             {QStringLiteral("gpus"), mfu.gpuCount},
             {QStringLiteral("gpu_model"), mfu.gpuModel},
             {QStringLiteral("precision"), mfu.precision},
             {QStringLiteral("peak_source"), mfu.peakSource},
             {QStringLiteral("reason"), mfu.reason}}},
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
        if (const auto &gpu = straggler.gpu) {
            QStringList figures;
            const auto against = [&](const std::optional<double> &mine, const std::optional<double> &others,
                                     const QString &unit) {
                if (mine && others)
                    figures << QStringLiteral("%1%3 against %2%3 on the others")
                                   .arg(thousands(*mine), thousands(*others), unit);
                else if (mine)
                    figures << thousands(*mine) + unit;
            };
            against(gpu->smClockMHz, gpu->othersSmClockMHz, QStringLiteral(" MHz"));
            against(gpu->temperatureC, gpu->othersTemperatureC, QStringLiteral(" °C"));
            against(gpu->utilizationPercent, gpu->othersUtilizationPercent, QStringLiteral("% busy"));
            QString line = QStringLiteral("  its GPU: gpu %1%2")
                               .arg(gpu->gpu)
                               .arg(gpu->pciBusId.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(gpu->pciBusId));
            if (!figures.isEmpty())
                line += QStringLiteral(" ran at ") + figures.join(QStringLiteral(", "));
            if (!gpu->throttleReasons.isEmpty())
                line += QStringLiteral("; NVML says its clocks were held down by: ")
                    + gpu->throttleReasons.join(QStringLiteral(", "));
            lines << line;
        }
    } else {
        lines << QStringLiteral("straggler: none%1")
                     .arg(straggler.reason.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(straggler.reason));
    }
    if (inputBound.reason.isEmpty() && inputBound.gpuUtilizationPercent)
        lines << QStringLiteral("input: GPUs %1% busy while the ranks use %2% CPU (100: one core)%3")
                     .arg(*inputBound.gpuUtilizationPercent, 0, 'f', 0)
                     .arg(inputBound.cpuPercent.value_or(0), 0, 'f', 0)
                     .arg(inputBound.applies ? QStringLiteral(": input-bound") : QString());
    else if (inputBound.reason.isEmpty())
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
        lines << QStringLiteral("throughput: ") + rates.join(QStringLiteral(", "))
                + (throughput.fromSpec ? QStringLiteral(" (from the spec's micro_batch and seq_len on every rank)")
                                       : QString());
    }
    if (!throughput.reason.isEmpty())
        lines << QStringLiteral("throughput: ") + throughput.reason;
    if (mfu.value)
        lines << QStringLiteral("MFU: %1% (%2 tokens/s x %3 FLOPs/token%4, over %5 x %6 TFLOPS %7: %8, %9)")
                     .arg(*mfu.value * 100, 0, 'f', 1)
                     .arg(thousands(mfu.tokensPerSecond))
                     .arg(mfu.flopsPerToken, 0, 'g', 3)
                     .arg(mfu.attentionTerm ? QStringLiteral(" with attention") : QString())
                     .arg(mfu.gpuCount)
                     .arg(mfu.peakTflopsPerGpu, 0, 'g', 6)
                     .arg(mfu.precision, mfu.gpuModel, mfu.peakSource);
    else
        lines << QStringLiteral("MFU: ") + mfu.reason;
    return lines;
}

} // namespace trainyard
