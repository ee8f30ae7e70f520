// Drawing envelopes: per bucket the first point, the min and max at the bucket's middle, and the last
// point (the M4 scheme), which at one bucket per pixel is the same picture as drawing every point.
#include "views/envelopechart.h"

#include "views/chartexport.h"

#include "csv.h"
#include "views/chartmath.h"

#include <QContextMenuEvent>
#include <QDateTime>
#include <QFileDialog>
#include <QFontMetrics>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>
#include <QThread>
#include <QtConcurrent/QtConcurrentRun>

#include <QFile>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace trainyard {

using chartmath::formatElapsed;
using chartmath::formatNumber;
using chartmath::formatTick;
using chartmath::niceStep;

namespace {

struct Lab {
    double l, a, b;
};

// sRGB (D65) to CIELAB.
Lab toLab(QRgb rgb)
{
    const auto linear = [](int channel) {
        const double c = channel / 255.0;
        return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
    };
    const double r = linear(qRed(rgb)), g = linear(qGreen(rgb)), b = linear(qBlue(rgb));
    const double x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    const double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    const double z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    const auto f = [](double t) { return t > 216.0 / 24389.0 ? std::cbrt(t) : (24389.0 / 27.0 * t + 16.0) / 116.0; };
    return {116.0 * f(y) - 16.0, 500.0 * (f(x) - f(y)), 200.0 * (f(y) - f(z))};
}

double labDistance(const Lab &p, const Lab &q) { return std::hypot(p.l - q.l, p.a - q.a, p.b - q.b); }

// Tableau 10 (distinct on white, and for most colour blindness), then, one at a time, the colour farthest (CIE76)
// from all chosen so far among an sRGB grid of colours dark enough to read on white and light enough to tell apart:
// 200 runs in one chart get 200 colours, no two alike.
std::vector<QRgb> buildPalette(int count)
{
    std::vector<QRgb> palette = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f,
                                 0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac};
    std::vector<QRgb> candidates;
    std::vector<Lab> candidateLab;
    for (int r = 0; r < 256; r += 15)
        for (int g = 0; g < 256; g += 15)
            for (int b = 0; b < 256; b += 15) {
                const QRgb rgb = qRgb(r, g, b);
                const Lab lab = toLab(rgb);
                if (lab.l < 25 || lab.l > 82)
                    continue;
                candidates.push_back(rgb);
                candidateLab.push_back(lab);
            }
    std::vector<double> nearest(candidates.size(), std::numeric_limits<double>::infinity());
    const auto chosen = [&](QRgb rgb) {
        const Lab lab = toLab(rgb);
        for (std::size_t i = 0; i < candidates.size(); ++i)
            nearest[i] = std::min(nearest[i], labDistance(lab, candidateLab[i]));
    };
    for (QRgb rgb : palette)
        chosen(rgb);
    while (int(palette.size()) < count) {
        const auto farthest = std::max_element(nearest.cbegin(), nearest.cend()) - nearest.cbegin();
        palette.push_back(candidates[std::size_t(farthest)]);
        chosen(candidates[std::size_t(farthest)]);
    }
    return palette;
}

} // namespace

QColor seriesColor(int index)
{
    static const std::vector<QRgb> palette = buildPalette(kSeriesColors);
    return QColor(palette[std::size_t(((index % kSeriesColors) + kSeriesColors) % kSeriesColors)]);
}

LegendLayout layOutLegend(const QStringList &labels, const QFontMetrics &metrics, int width)
{
    LegendLayout layout;
    int x = 0;
    for (qsizetype i = 0; i < labels.size(); ++i) {
        const QString label = metrics.elidedText(labels[i], Qt::ElideMiddle, kLongestLegendLabel);
        const int w = metrics.horizontalAdvance(label) + 22;
        if (x + w > width) {
            layout.hidden = int(labels.size() - i);
            break;
        }
        layout.labels << label;
        x += w;
    }
    return layout;
}

double perceptualDistance(const QColor &first, const QColor &second)
{
    return labDistance(toLab(first.rgb()), toLab(second.rgb()));
}

namespace {

constexpr int kMarginLeft = 62;
constexpr int kMarginRight = 14;
constexpr int kMarginTop = 42;
constexpr int kMarginBottom = 30;

bool finite(double value) { return std::isfinite(value); }

} // namespace

struct EnvelopeChart::Plot {
    QRect area;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1; // y in drawn space (log10 when logY)
    bool logY = false;
    bool empty = false; // no point to draw in the range
    // Pixels per unit, set by finish() once the ranges are known: a multiplication per vertex, not a division
    // (a fifth of a 200-run frame went to dividing).
    double xScale = 1, yScale = 1;
    void finish()
    {
        xScale = area.width() / (x1 - x0);
        yScale = area.height() / (y1 - y0);
    }
    double px(double x) const { return area.left() + (x - x0) * xScale; }
    double py(double y) const
    {
        const double v = logY ? std::log10(y) : y;
        return area.bottom() - (v - y0) * yScale;
    }
    bool drawable(double y) const { return finite(y) && (!logY || y > 0); }
};

EnvelopeChart::EnvelopeChart(const QString &title, QWidget *parent) : QWidget(parent), m_title(title)
{
    setObjectName(QStringLiteral("chart:") + title);
    setMouseTracking(true);
    setMinimumSize(320, 280);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void EnvelopeChart::setSeries(const QList<ChartSeries> &series)
{
    m_series = series;
    if (m_followData)
        fitAll();
    update();
}

void EnvelopeChart::setEnvelope(const QString &id, MetricEnvelope envelope)
{
    for (ChartSeries &series : m_series) {
        if (series.id == id) {
            series.envelope = std::move(envelope);
            break;
        }
    }
    if (m_followData)
        fitAll();
    update();
}

void EnvelopeChart::appendTail(const QString &id, const MetricEnvelope &tail)
{
    for (ChartSeries &series : m_series) {
        if (series.id != id)
            continue;
        auto &buckets = series.envelope.buckets;
        for (const EnvelopeBucket &bucket : tail.buckets) {
            if (buckets.empty() || bucket.loStep > buckets.back().hiStep)
                buckets.push_back(bucket);
        }
        if (!buckets.empty()) {
            series.envelope.toStep = std::max(series.envelope.toStep, buckets.back().hiStep);
            series.envelope.seriesLastStep = std::max(series.envelope.seriesLastStep, tail.seriesLastStep);
        }
    }
    if (m_followData)
        fitAll();
    update();
}

void EnvelopeChart::setXAxisMode(XAxisMode mode)
{
    m_mode = mode;
    fitAll();
    update();
}

void EnvelopeChart::setSmoothing(double weight)
{
    m_smoothing = std::clamp(weight, 0.0, 0.999);
    update();
}

void EnvelopeChart::setLogY(bool logY)
{
    m_logY = logY;
    update();
}

void EnvelopeChart::setGrouped(bool grouped)
{
    m_grouped = grouped;
    update();
}

void EnvelopeChart::setPinned(bool pinned)
{
    m_pinned = pinned;
    update();
}

void EnvelopeChart::setXRange(double x0, double x1)
{
    if (!(x1 > x0))
        x1 = x0 + 1;
    m_x0 = x0;
    m_x1 = x1;
    update();
}

void EnvelopeChart::userSetRange(double x0, double x1)
{
    m_followData = false;
    setXRange(x0, x1);
    emit xRangeChanged(m_x0, m_x1);
}

std::optional<std::pair<double, double>> EnvelopeChart::bucketX(const ChartSeries &series,
                                                                const EnvelopeBucket &bucket) const
{
    const BinSummary &s = bucket.summary;
    switch (m_mode) {
    case XAxisMode::Step:
        return std::pair{double(s.firstStep), double(s.lastStep)};
    case XAxisMode::WallTime:
        if (s.firstTs == kNoTimestamp || s.lastTs == kNoTimestamp)
            return std::nullopt;
        return std::pair{double(s.firstTs), double(s.lastTs)};
    case XAxisMode::RelativeTime:
        if (s.firstTs == kNoTimestamp || s.lastTs == kNoTimestamp)
            return std::nullopt;
        return std::pair{double(s.firstTs - series.startMs), double(s.lastTs - series.startMs)};
    }
    return std::nullopt;
}

std::optional<std::pair<double, double>> EnvelopeChart::dataExtent() const
{
    std::optional<std::pair<double, double>> extent;
    for (const ChartSeries &series : m_series) {
        for (const EnvelopeBucket &bucket : series.envelope.buckets) {
            if (auto x = bucketX(series, bucket)) {
                if (!extent)
                    extent = x;
                extent->first = std::min(extent->first, x->first);
                extent->second = std::max(extent->second, x->second);
            }
        }
    }
    return extent;
}

void EnvelopeChart::fitAll()
{
    m_followData = true;
    if (auto extent = dataExtent())
        setXRange(extent->first, extent->second > extent->first ? extent->second : extent->first + 1);
}

int EnvelopeChart::plotWidth() const { return std::max(1, width() - kMarginLeft - kMarginRight); }

const QList<ChartSeries> EnvelopeChart::drawnSeries() const
{
    if (!m_grouped)
        return m_series;
    // One synthetic series per group: per pixel column, the mean of the members' means, with the
    // lowest min and highest max of the members as the band.
    const int columns = plotWidth();
    QList<ChartSeries> groups;
    QStringList order;
    for (const ChartSeries &series : m_series)
        if (!order.contains(series.group))
            order << series.group;
    for (int g = 0; g < order.size(); ++g) {
        std::vector<std::vector<chartmath::PlacedBucket>> members;
        for (const ChartSeries &series : m_series) {
            if (series.group != order[g])
                continue;
            std::vector<chartmath::PlacedBucket> &placed = members.emplace_back();
            for (const EnvelopeBucket &bucket : series.envelope.buckets) {
                if (const auto x = bucketX(series, bucket))
                    placed.push_back({(x->first + x->second) / 2, bucket.summary.sum,
                                      std::int64_t(bucket.summary.finiteCount), bucket.summary.minValue,
                                      bucket.summary.maxValue});
            }
        }
        const std::vector<chartmath::GroupColumn> cells = chartmath::aggregateGroup(members, m_x0, m_x1, columns);
        ChartSeries group;
        group.id = QStringLiteral("group:") + order[g];
        group.label = order[g].isEmpty() ? tr("(none)") : order[g];
        group.color = seriesColor(g);
        group.isGroup = true;
        for (int c = 0; c < columns; ++c) {
            const chartmath::GroupColumn &cell = cells[std::size_t(c)];
            if (!cell.members)
                continue;
            const double x = m_x0 + (c + 0.5) / columns * (m_x1 - m_x0);
            const std::int64_t xi = std::llround(x);
            EnvelopeBucket bucket;
            bucket.loStep = bucket.hiStep = xi;
            BinSummary &s = bucket.summary;
            s.count = s.finiteCount = cell.members;
            s.sum = cell.meanSum;
            s.minValue = cell.lo;
            s.maxValue = cell.hi;
            s.firstStep = s.lastStep = s.firstTs = s.lastTs = xi;
            s.firstValue = s.lastValue = cell.mean();
            group.envelope.buckets.push_back(bucket);
        }
        groups << group;
    }
    return groups;
}

QRect EnvelopeChart::plotArea(const QRect &rect)
{
    return rect.adjusted(kMarginLeft, kMarginTop, -kMarginRight, -kMarginBottom);
}

EnvelopeChart::Plot EnvelopeChart::plotFor(const QRect &rect, const QList<ChartSeries> &drawn) const
{
    Plot plot;
    plot.area = plotArea(rect);
    plot.x0 = m_x0;
    plot.x1 = m_x1;
    plot.logY = m_logY;
    double lo = INFINITY, hi = -INFINITY;
    for (const ChartSeries &series : drawn) {
        const auto [begin, end] = visibleBuckets(series);
        for (auto bucket = begin; bucket != end; ++bucket) {
            const auto x = bucketX(series, *bucket);
            if (!x || x->second < m_x0 || x->first > m_x1)
                continue;
            for (double v : {bucket->summary.minValue, bucket->summary.maxValue}) {
                if (!plot.drawable(v))
                    continue;
                const double t = m_logY ? std::log10(v) : v;
                lo = std::min(lo, t);
                hi = std::max(hi, t);
            }
        }
    }
    plot.empty = !(lo <= hi);
    if (plot.empty) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
        lo -= 0.5;
        hi += 0.5;
    }
    // A little room above and below, but never across zero: a learning rate that is never negative gets no
    // negative ticks.
    const double pad = (hi - lo) * 0.05;
    plot.y0 = !m_logY && lo >= 0 ? std::max(0.0, lo - pad) : lo - pad;
    plot.y1 = !m_logY && hi <= 0 ? std::min(0.0, hi + pad) : hi + pad;
    plot.finish();
    return plot;
}

void EnvelopeChart::drawSeries(QPainter &painter, const Plot &plot, const ChartSeries &series) const
{
    const auto &buckets = series.envelope.buckets;
    // Only the buckets in view, and one either side so lines run to the edge.
    auto [first, last] = visibleBuckets(series);
    if (first != buckets.begin())
        --first;
    if (last != buckets.end())
        ++last;
    QPolygonF raw, smooth, bandTop, bandBottom;
    raw.reserve(4 * (last - first));
    const auto flush = [&] {
        if (series.isGroup && bandTop.size() > 1) {
            QPolygonF band = bandTop;
            for (auto it = bandBottom.crbegin(); it != bandBottom.crend(); ++it)
                band << *it;
            QColor fill = series.color;
            fill.setAlpha(50);
            painter.setPen(Qt::NoPen);
            painter.setBrush(fill);
            painter.setRenderHint(QPainter::Antialiasing, true);
            painter.drawPolygon(band);
            painter.setRenderHint(QPainter::Antialiasing, false);
            painter.setBrush(Qt::NoBrush);
        }
        QColor rawColor = series.color;
        if (m_smoothing > 0)
            rawColor.setAlpha(60);
        // Cosmetic pens: Qt's raster engine draws them with its fast cosmetic stroker; a widened pen
        // goes through the general path stroker, which was 100 times slower on thousands of vertices.
        QPen rawPen(rawColor, 1);
        rawPen.setCosmetic(true);
        painter.setPen(rawPen);
        if (raw.size() > 1) {
            // Whole pixels, each vertex once: aliased drawing lands on pixels anyway, and at 200 runs a frame the
            // raster engine's integer path over a quarter of the vertices is what keeps panning smooth.
            QPolygon pixels;
            pixels.reserve(raw.size());
            for (const QPointF &point : std::as_const(raw))
                if (const QPoint pixel = point.toPoint(); pixels.isEmpty() || pixels.back() != pixel)
                    pixels << pixel;
            painter.drawPolyline(pixels);
        } else if (raw.size() == 1)
            painter.drawEllipse(raw.front(), 2.0, 2.0);
        if (m_smoothing > 0 && smooth.size() > 1) {
            QPen smoothPen(series.color, 1);
            smoothPen.setCosmetic(true);
            painter.setPen(smoothPen);
            painter.drawPolyline(smooth);
        }
        raw.clear();
        smooth.clear();
        bandTop.clear();
        bandBottom.clear();
    };
    double emaNumerator = 0, emaDenominator = 0;
    for (auto it = first; it != last; ++it) {
        const auto x = bucketX(series, *it);
        if (!x)
            continue;
        const BinSummary &s = it->summary;
        if (s.finiteCount == 0) { // only NaN here: a gap in the line
            flush();
            continue;
        }
        const double xf = plot.px(x->first), xl = plot.px(x->second), xm = (xf + xl) / 2;
        if (series.isGroup) {
            if (plot.drawable(s.maxValue) && plot.drawable(s.minValue)) {
                bandTop << QPointF(xm, plot.py(s.maxValue));
                bandBottom << QPointF(xm, plot.py(s.minValue));
            }
            if (plot.drawable(s.firstValue))
                raw << QPointF(xm, plot.py(s.firstValue));
        } else {
            if (plot.drawable(s.firstValue))
                raw << QPointF(xf, plot.py(s.firstValue));
            if (s.count > 2 && plot.drawable(s.minValue) && plot.drawable(s.maxValue)) {
                raw << QPointF(xm, plot.py(s.firstValue <= s.lastValue ? s.minValue : s.maxValue));
                raw << QPointF(xm, plot.py(s.firstValue <= s.lastValue ? s.maxValue : s.minValue));
            }
            if (s.count > 1 && plot.drawable(s.lastValue))
                raw << QPointF(xl, plot.py(s.lastValue));
        }
        if (m_smoothing > 0) {
            // A bucket of n points weighs as n points would in the point-by-point EMA (debiased).
            const double decay = std::pow(m_smoothing, double(s.finiteCount));
            emaNumerator = decay * emaNumerator + (1 - decay) * s.mean();
            emaDenominator = decay * emaDenominator + (1 - decay);
            const double value = emaNumerator / emaDenominator;
            if (plot.drawable(value))
                smooth << QPointF(xl, plot.py(value));
        }
    }
    flush();
}

// The chart's inks come from the widget's palette, so that it follows a light or a dark desktop: `share` of the way
// from the background (Base) to the text colour (0.07 a faint grid line, 0.9 the title).
QColor paletteInk(const QPalette &palette, double share)
{
    const QColor base = palette.color(QPalette::Base);
    const QColor text = palette.color(QPalette::Text);
    const auto mix = [share](int from, int to) { return int(std::lround(from + (to - from) * share)); };
    return QColor(mix(base.red(), text.red()), mix(base.green(), text.green()), mix(base.blue(), text.blue()));
}

QColor EnvelopeChart::ink(double share) const { return paletteInk(palette(), share); }

void EnvelopeChart::render(QPainter &painter, const QRect &rect) const
{
    // The drawn series (for groups, an aggregation) are computed once a frame and shared by the scale,
    // the curves and the hover box.
    const QList<ChartSeries> drawn = drawnSeries();
    const Plot plot = plotFor(rect, drawn);
    painter.save();
    painter.fillRect(rect, palette().color(QPalette::Base));
    painter.setRenderHint(QPainter::Antialiasing, false);
    const QFontMetrics metrics(painter.font()); // the legend's and the hover box's, before the title's bold font
    drawTitleAndLegend(painter, rect, drawn, metrics);
    drawAxes(painter, rect, plot);
    drawCurves(painter, plot, drawn);
    drawHover(painter, plot, drawn, metrics);
    painter.restore();
}

// Title, pin star and legend.
void EnvelopeChart::drawTitleAndLegend(QPainter &painter, const QRect &rect, const QList<ChartSeries> &drawn,
                                       const QFontMetrics &metrics) const
{
    QFont titleFont = painter.font();
    titleFont.setBold(true);
    painter.setFont(titleFont);
    painter.setPen(ink(0.9));
    painter.drawText(QRect(rect.left() + 8, rect.top() + 2, rect.width() - 40, 18), Qt::AlignLeft | Qt::AlignVCenter,
                     m_title);
    painter.drawText(QRect(rect.right() - 28, rect.top() + 2, 22, 18), Qt::AlignCenter,
                     m_pinned ? QStringLiteral("★") : QStringLiteral("☆"));
    painter.setFont(QFont(painter.font().family(), painter.font().pointSize()));
    int legendX = rect.left() + 8;
    const int legendY = rect.top() + 22;
    QStringList labels;
    for (const auto &series : drawn)
        labels << series.label;
    const LegendLayout legend = layOutLegend(labels, metrics, rect.width() - 68);
    for (int i = 0; i < legend.labels.size(); ++i) {
        painter.fillRect(QRect(legendX, legendY + 3, 10, 10), drawn[i].color);
        painter.setPen(ink(0.85));
        painter.drawText(QPoint(legendX + 14, legendY + 12), legend.labels[i]);
        legendX += metrics.horizontalAdvance(legend.labels[i]) + 22;
    }
    if (legend.hidden > 0) {
        painter.setPen(ink(0.55));
        painter.drawText(QPoint(legendX, legendY + 12), tr("+%1 more").arg(legend.hidden));
    }
}

// Axes and grid: round ticks, labelled by the x axis's mode.
QList<EnvelopeChart::Tick> EnvelopeChart::yTicks(const Plot &plot) const
{
    QList<Tick> ticks;
    const double step = niceStep(plot.y1 - plot.y0, 5);
    for (double t = std::ceil(plot.y0 / step) * step; t <= plot.y1; t += step)
        ticks.append({t, m_logY ? formatNumber(std::pow(10.0, t)) : formatTick(t, step)});
    return ticks;
}

QList<EnvelopeChart::Tick> EnvelopeChart::xTicks(const Plot &plot) const
{
    QList<Tick> ticks;
    double step = niceStep(plot.x1 - plot.x0, std::max(2, plot.area.width() / 110));
    if (m_mode == XAxisMode::Step)
        step = std::max(step, 1.0); // steps are whole numbers: no tick between two of them
    for (double t = std::ceil(plot.x0 / step) * step; t <= plot.x1; t += step) {
        QString label;
        switch (m_mode) {
        case XAxisMode::Step:
            label = formatTick(t, step);
            break;
        case XAxisMode::WallTime:
            label = QDateTime::fromMSecsSinceEpoch(qint64(t)).toString(
                plot.x1 - plot.x0 > 2 * 86400000.0 ? QStringLiteral("MM-dd HH:mm") : QStringLiteral("HH:mm:ss"));
            break;
        case XAxisMode::RelativeTime:
            label = formatElapsed(t);
            break;
        }
        ticks.append({t, label});
    }
    return ticks;
}

QStringList EnvelopeChart::yTickLabels() const
{
    QStringList labels;
    for (const Tick &tick : yTicks(plotFor(rect(), drawnSeries())))
        labels << tick.label;
    return labels;
}

QStringList EnvelopeChart::xTickLabels() const
{
    QStringList labels;
    for (const Tick &tick : xTicks(plotFor(rect(), drawnSeries())))
        labels << tick.label;
    return labels;
}

QString EnvelopeChart::emptyText() const { return plotFor(rect(), drawnSeries()).empty ? emptyMessage() : QString(); }

QString EnvelopeChart::emptyMessage() const
{
    return dataExtent() ? tr("No points in this range") : tr("No points yet");
}

void EnvelopeChart::drawAxes(QPainter &painter, const QRect &rect, const Plot &plot) const
{
    for (const Tick &tick : yTicks(plot)) {
        const double y = plot.area.bottom() - (tick.value - plot.y0) / (plot.y1 - plot.y0) * plot.area.height();
        painter.setPen(ink(0.12));
        painter.drawLine(QPointF(plot.area.left(), y), QPointF(plot.area.right(), y));
        painter.setPen(ink(0.7));
        painter.drawText(QRectF(rect.left(), y - 8, kMarginLeft - 6, 16), Qt::AlignRight | Qt::AlignVCenter,
                         tick.label);
    }
    for (const Tick &tick : xTicks(plot)) {
        const double x = plot.px(tick.value);
        painter.setPen(ink(0.07));
        painter.drawLine(QPointF(x, plot.area.top()), QPointF(x, plot.area.bottom()));
        painter.setPen(ink(0.7));
        painter.drawText(QRectF(x - 50, plot.area.bottom() + 4, 100, 16), Qt::AlignHCenter | Qt::AlignTop, tick.label);
    }
    if (m_mode == XAxisMode::Step && !plot.empty) {
        // Checkpoints: a dashed line at each step in range, a small tick above the plot.
        QPen dashed(ink(0.4), 1, Qt::DashLine);
        for (double step : m_stepMarkers) {
            const double x = plot.px(step);
            if (x < plot.area.left() || x > plot.area.right())
                continue;
            painter.setPen(dashed);
            painter.drawLine(QPointF(x, plot.area.top()), QPointF(x, plot.area.bottom()));
            painter.fillRect(QRectF(x - 2, plot.area.top() - 4, 5, 4), ink(0.55));
        }
    }
    painter.setPen(ink(0.45));
    painter.drawRect(plot.area);
    if (plot.empty) {
        // Nothing to draw: say why, rather than show empty axes.
        painter.setPen(ink(0.55));
        painter.drawText(plot.area, Qt::AlignCenter, emptyMessage());
    }
}

// The curves, clipped to the plot.
void EnvelopeChart::drawCurves(QPainter &painter, const Plot &plot, const QList<ChartSeries> &drawn) const
{
    painter.setClipRect(plot.area.adjusted(1, 1, 0, 0));
    // The curves are drawn aliased: M4 (first, min, max, last per pixel column) reproduces the picture of
    // every point exactly for aliased lines, and crisp one-pixel lines keep their colour. Only the group
    // band is antialiased.
    painter.setRenderHint(QPainter::Antialiasing, false);
    // Many runs (up to 200 in a chart) are drawn in parallel, each worker's share into a transparent image of its own,
    // laid over the chart in order: "over" composition is associative, so the picture is the one drawn in sequence.
    const int workers = std::min(QThread::idealThreadCount(), int(drawn.size()) / kSeriesPerDrawingWorker);
    if (workers < 2) {
        for (const ChartSeries &series : drawn)
            drawSeries(painter, plot, series);
    } else {
        const QRect clip = plot.area.adjusted(1, 1, 0, 0);
        const qreal ratio = painter.device() ? painter.device()->devicePixelRatioF() : 1.0;
        std::vector<QImage> layers(static_cast<std::size_t>(workers));
        std::vector<QFuture<void>> drawing;
        for (int w = 0; w < workers; ++w) {
            const qsizetype from = drawn.size() * w / workers, to = drawn.size() * (w + 1) / workers;
            drawing.push_back(QtConcurrent::run([&, w, from, to] {
                QImage &layer = layers[std::size_t(w)];
                layer = QImage((clip.size() * ratio), QImage::Format_ARGB32_Premultiplied);
                layer.setDevicePixelRatio(ratio);
                layer.fill(Qt::transparent);
                QPainter layerPainter(&layer);
                layerPainter.translate(-clip.topLeft());
                layerPainter.setRenderHint(QPainter::Antialiasing, false);
                for (qsizetype i = from; i < to; ++i)
                    drawSeries(layerPainter, plot, drawn[i]);
            }));
        }
        for (auto &done : drawing)
            done.waitForFinished();
        for (const QImage &layer : layers)
            painter.drawImage(clip.topLeft(), layer);
    }
    painter.setClipping(false);
}

// The hover line and every series' value at it.
void EnvelopeChart::drawHover(QPainter &painter, const Plot &plot, const QList<ChartSeries> &drawn,
                              const QFontMetrics &metrics) const
{
    if (!m_hoverX || *m_hoverX < m_x0 || *m_hoverX > m_x1)
        return;
    const double x = plot.px(*m_hoverX);
    painter.setRenderHint(QPainter::Antialiasing, false);
    painter.setPen(QPen(ink(0.6), 1, Qt::DashLine));
    painter.drawLine(QPointF(x, plot.area.top()), QPointF(x, plot.area.bottom()));
    // As many lines as the plot is tall, each at most 300 pixels wide; the rest counted (200 runs, long names).
    QStringList lines = hoverLinesFor(drawn);
    const int fitting = std::max(2, (plot.area.height() - 14) / (metrics.height() + 1));
    if (lines.size() > fitting) {
        const qsizetype hidden = lines.size() - (fitting - 1);
        lines = lines.mid(0, fitting - 1);
        lines << tr("+%1 more").arg(hidden);
    }
    for (QString &line : lines)
        line = metrics.elidedText(line, Qt::ElideMiddle, 300);
    if (!lines.isEmpty()) {
        int boxWidth = 0;
        for (const QString &line : lines)
            boxWidth = std::max(boxWidth, metrics.horizontalAdvance(line) + 24);
        const int boxHeight = int(lines.size()) * (metrics.height() + 1) + 8;
        QRect box(int(x) + 10, plot.area.top() + 6, boxWidth, boxHeight);
        if (box.right() > plot.area.right())
            box.moveRight(int(x) - 10);
        QColor boxFill = palette().color(QPalette::Base);
        boxFill.setAlpha(230);
        painter.fillRect(box, boxFill);
        painter.setPen(ink(0.35));
        painter.drawRect(box);
        for (int i = 0; i < lines.size(); ++i) {
            const int y = box.top() + 4 + i * (metrics.height() + 1);
            if (i > 0 && i - 1 < drawn.size() && !(i + 1 == lines.size() && lines.size() < drawn.size() + 1))
                painter.fillRect(QRect(box.left() + 6, y + 3, 9, 9), drawn[i - 1].color);
            painter.setPen(ink(0.9));
            painter.drawText(QPoint(box.left() + 19, y + metrics.ascent()), lines[i]);
        }
    }
}

std::pair<std::vector<EnvelopeBucket>::const_iterator, std::vector<EnvelopeBucket>::const_iterator>
EnvelopeChart::visibleBuckets(const ChartSeries &series) const
{
    // Buckets are in step order, and so in x order on every axis (times grow with steps).
    const auto &buckets = series.envelope.buckets;
    const auto begin = std::partition_point(buckets.begin(), buckets.end(), [&](const EnvelopeBucket &b) {
        const auto x = bucketX(series, b);
        return !x || x->second < m_x0;
    });
    const auto end = std::partition_point(begin, buckets.end(), [&](const EnvelopeBucket &b) {
        const auto x = bucketX(series, b);
        return !x || x->first <= m_x1;
    });
    return {begin, end};
}

std::optional<double> EnvelopeChart::valueAt(const ChartSeries &series, double x) const
{
    // The last value at or before x: the bucket holding x, or the last one before it.
    std::optional<double> value;
    for (const EnvelopeBucket &bucket : series.envelope.buckets) {
        const auto bx = bucketX(series, bucket);
        if (!bx)
            continue;
        if (bx->first > x)
            break;
        value = bucket.summary.lastValue;
    }
    return value;
}

QStringList EnvelopeChart::hoverLines() const { return hoverLinesFor(drawnSeries()); }

QStringList EnvelopeChart::hoverLinesFor(const QList<ChartSeries> &drawn) const
{
    if (!m_hoverX)
        return {};
    QStringList lines;
    switch (m_mode) {
    case XAxisMode::Step:
        lines << tr("step %1").arg(qint64(std::llround(*m_hoverX)));
        break;
    case XAxisMode::WallTime:
        lines << QDateTime::fromMSecsSinceEpoch(qint64(*m_hoverX)).toString(Qt::ISODate);
        break;
    case XAxisMode::RelativeTime:
        lines << formatElapsed(*m_hoverX);
        break;
    }
    for (const ChartSeries &series : drawn) {
        const auto value = valueAt(series, *m_hoverX);
        lines << QStringLiteral("%1: %2").arg(series.label,
                                              value ? QString::number(*value, 'g', 6) : QStringLiteral("—"));
    }
    return lines;
}

void EnvelopeChart::setHoverX(std::optional<double> x)
{
    m_hoverX = x;
    update();
}

void EnvelopeChart::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    render(painter, rect());
}

void EnvelopeChart::setStepMarkers(const QList<double> &steps)
{
    if (steps == m_stepMarkers)
        return;
    m_stepMarkers = steps;
    update();
}

void EnvelopeChart::wheelEvent(QWheelEvent *event)
{
    const QRect area = plotArea(rect());
    const double at = m_x0 + (event->position().x() - area.left()) / area.width() * (m_x1 - m_x0);
    const double factor = std::pow(0.8, event->angleDelta().y() / 120.0);
    userSetRange(at - (at - m_x0) * factor, at + (m_x1 - at) * factor);
    event->accept();
}

void EnvelopeChart::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && QRect(width() - 30, 0, 30, 22).contains(event->position().toPoint())) {
        setPinned(!m_pinned);
        emit pinToggled(m_pinned);
        return;
    }
    if (event->button() == Qt::LeftButton) {
        m_dragStart = event->position().toPoint();
        m_dragX0 = m_x0;
        m_dragX1 = m_x1;
    }
}

void EnvelopeChart::mouseMoveEvent(QMouseEvent *event)
{
    const QRect area = plotArea(rect());
    if (m_dragStart) {
        const double dx = double(event->position().x() - m_dragStart->x()) / area.width() * (m_dragX1 - m_dragX0);
        m_followData = false;
        setXRange(m_dragX0 - dx, m_dragX1 - dx);
        emit xRangeChanged(m_x0, m_x1);
    }
    if (area.contains(event->position().toPoint()))
        setHoverX(m_x0 + (event->position().x() - area.left()) / area.width() * (m_x1 - m_x0));
    else
        setHoverX(std::nullopt);
}

void EnvelopeChart::mouseReleaseEvent(QMouseEvent *) { m_dragStart.reset(); }

void EnvelopeChart::mouseDoubleClickEvent(QMouseEvent *)
{
    fitAll();
    emit xRangeChanged(m_x0, m_x1);
}

void EnvelopeChart::leaveEvent(QEvent *) { setHoverX(std::nullopt); }

void EnvelopeChart::contextMenuEvent(QContextMenuEvent *event)
{
    QMenu menu(this);
    const QString base = QString(m_title).replace(QLatin1Char('/'), QLatin1Char('_'));
    menu.addAction(tr("Export PNG…"), this, [this, base] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export chart"), base + QStringLiteral(".png"), tr("PNG (*.png)"));
        if (!path.isEmpty())
            exportTo(path, ExportFormat::Png);
    });
    menu.addAction(tr("Export SVG…"), this, [this, base] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export chart"), base + QStringLiteral(".svg"), tr("SVG (*.svg)"));
        if (!path.isEmpty())
            exportTo(path, ExportFormat::Svg);
    });
    menu.addAction(tr("Export data as CSV…"), this, [this, base] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export chart data"), base + QStringLiteral(".csv"),
                                                          tr("CSV (*.csv)"));
        if (!path.isEmpty())
            exportTo(path, ExportFormat::Csv);
    });
    menu.addSeparator();
    menu.addAction(m_pinned ? tr("Unpin") : tr("Pin to the top"), this, [this] {
        setPinned(!m_pinned);
        emit pinToggled(m_pinned);
    });
    menu.addAction(tr("Reset zoom"), this, [this] {
        fitAll();
        emit xRangeChanged(m_x0, m_x1);
    });
    menu.exec(event->globalPos());
}

QFuture<QString> EnvelopeChart::exportTo(const QString &path, ExportFormat format)
{
    // Rendering happens here, where the widgets live; encoding and writing off the UI thread, whole or not at all.
    const auto finished = [this, path](const QString &error) { emit exportFinished(path, error); };
    switch (format) {
    case ExportFormat::Png:
        return exportChartPng(this, path, toImage(size() * 2), finished);
    case ExportFormat::Svg:
        return exportChartBytes(this, path, toSvg(size()), finished);
    case ExportFormat::Csv:
        break;
    }
    return exportChartBytes(this, path, toCsv(), finished);
}

QImage EnvelopeChart::toImage(const QSize &size) const
{
    return renderChartImage([this](QPainter &painter, const QRect &rect) { render(painter, rect); }, size, width());
}

QByteArray EnvelopeChart::toSvg(const QSize &size) const
{
    return renderChartSvg([this](QPainter &painter, const QRect &rect) { render(painter, rect); }, size, m_title);
}

QByteArray EnvelopeChart::toCsv() const
{
    QByteArray csv = "series,step_from,step_to,points,min,max,mean,first_step,first_value,last_step,last_value\n";
    const auto number = [](double v) { return std::isnan(v) ? QByteArray() : QByteArray::number(v, 'g', 17); };
    const auto quoted = [](const QString &text) { return csvField(text, CsvQuote::Always).toUtf8(); };
    for (const ChartSeries &series : drawnSeries()) {
        for (const EnvelopeBucket &bucket : series.envelope.buckets) {
            const BinSummary &s = bucket.summary;
            csv += quoted(series.label) + ',' + QByteArray::number(qint64(bucket.loStep)) + ','
                + QByteArray::number(qint64(bucket.hiStep)) + ',' + QByteArray::number(qint64(s.count)) + ','
                + number(s.minValue) + ',' + number(s.maxValue) + ',' + number(s.mean()) + ','
                + QByteArray::number(qint64(s.firstStep)) + ',' + number(s.firstValue) + ','
                + QByteArray::number(qint64(s.lastStep)) + ',' + number(s.lastValue) + '\n';
        }
    }
    return csv;
}

} // namespace trainyard
