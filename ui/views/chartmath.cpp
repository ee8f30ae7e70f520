#include "views/chartmath.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace trainyard::chartmath {

double niceStep(double span, int ticks)
{
    if (!(span > 0))
        return 1;
    const double raw = span / ticks;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double factor : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (raw <= factor * magnitude)
            return factor * magnitude;
    }
    return 10 * magnitude;
}

QString formatNumber(double value)
{
    const double magnitude = std::abs(value);
    if (magnitude >= 1e9)
        return QString::number(value / 1e9, 'g', 4) + QLatin1Char('G');
    if (magnitude >= 1e6)
        return QString::number(value / 1e6, 'g', 4) + QLatin1Char('M');
    if (magnitude >= 1e4)
        return QString::number(value / 1e3, 'g', 4) + QLatin1Char('k');
    return QString::number(value, 'g', 4);
}

int decimalsFor(double step)
{
    if (!(step > 0) || !std::isfinite(step))
        return 0;
    for (int decimals = 0; decimals < 12; ++decimals) {
        const double scaled = step * std::pow(10.0, decimals);
        if (std::abs(scaled - std::round(scaled)) <= 1e-6 * scaled)
            return decimals;
    }
    return 12;
}

QString formatTick(double value, double step)
{
    if (!(step > 0) || std::abs(value) < step * 1e-9)
        return QStringLiteral("0");
    const double magnitude = std::abs(value);
    if (magnitude >= 1e15 || step < 1e-3) {
        // Enough significant digits for neighbours a step apart to differ.
        const int digits = std::clamp(int(std::floor(std::log10(magnitude)) - std::floor(std::log10(step))), 0, 16);
        return QString::number(value, 'e', digits);
    }
    double scale = 1;
    QString suffix;
    if (magnitude >= 1e9) {
        scale = 1e9;
        suffix = QStringLiteral("G");
    } else if (magnitude >= 1e6) {
        scale = 1e6;
        suffix = QStringLiteral("M");
    } else if (magnitude >= 1e4) {
        scale = 1e3;
        suffix = QStringLiteral("k");
    }
    return QString::number(value / scale, 'f', decimalsFor(step / scale)) + suffix;
}

QString formatElapsed(double ms)
{
    const qint64 seconds = qint64(std::llround(ms / 1000));
    if (std::abs(seconds) < 60)
        return QStringLiteral("%1s").arg(seconds);
    if (std::abs(seconds) < 3600)
        return QStringLiteral("%1m%2s").arg(seconds / 60).arg(std::abs(seconds % 60), 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1h%2m").arg(seconds / 3600).arg(std::abs((seconds / 60) % 60), 2, 10, QLatin1Char('0'));
}

QStringList metricSections()
{
    return {QStringLiteral("train/"), QStringLiteral("eval/"), QStringLiteral("perf/"), QString(),
            QStringLiteral("sys/")};
}

QString metricSectionOf(const QString &key)
{
    for (const QString &section : metricSections())
        if (!section.isEmpty() && key.startsWith(section))
            return section;
    return {};
}

std::vector<GroupColumn> aggregateGroup(const std::vector<std::vector<PlacedBucket>> &members, double x0, double x1,
                                        int columns)
{
    constexpr double kInfinity = std::numeric_limits<double>::infinity();
    std::vector<GroupColumn> cells(std::size_t(columns), GroupColumn{0, 0, kInfinity, -kInfinity});
    for (const std::vector<PlacedBucket> &member : members) {
        std::vector<std::pair<double, std::int64_t>> perColumn(std::size_t(columns), {0.0, 0}); // sum, count
        for (const PlacedBucket &bucket : member) {
            if (bucket.finiteCount == 0 || bucket.xMid < x0 || bucket.xMid > x1)
                continue;
            const auto c = std::size_t(std::clamp(int((bucket.xMid - x0) / (x1 - x0) * columns), 0, columns - 1));
            perColumn[c].first += bucket.sum;
            perColumn[c].second += bucket.finiteCount;
            cells[c].lo = std::min(cells[c].lo, bucket.minValue);
            cells[c].hi = std::max(cells[c].hi, bucket.maxValue);
        }
        for (std::size_t c = 0; c < perColumn.size(); ++c) {
            if (perColumn[c].second) {
                cells[c].meanSum += perColumn[c].first / double(perColumn[c].second);
                ++cells[c].members;
            }
        }
    }
    return cells;
}

} // namespace trainyard::chartmath
