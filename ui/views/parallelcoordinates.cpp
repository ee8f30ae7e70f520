#include "views/parallelcoordinates.h"

#include "csv.h"
#include "report/sweepreport.h"
#include "views/chartexport.h"
#include "views/chartmath.h"
#include "views/envelopechart.h"

#include <QContextMenuEvent>
#include <QFileDialog>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace trainyard {

namespace {

constexpr int kAxisReach = 10;  // pixels either side of an axis that take a brush
constexpr int kBrushWidth = 14; // the brush's drawn width
constexpr int kTitleBand = 30;  // above the plot: the axes' titles, dragged to move an axis
const QString kUnset = QStringLiteral("(unset)");

double tOf(const SweepScatter::Axis &axis, const QString &value)
{
    if (axis.categorical) {
        const qsizetype slot = axis.categories.indexOf(value);
        return (double(slot) + 0.5) / double(std::max<qsizetype>(1, axis.categories.size()));
    }
    double number = value.toDouble();
    if (axis.log)
        number = std::log10(number);
    return axis.hi > axis.lo ? (number - axis.lo) / (axis.hi - axis.lo) : 0.5;
}

// A 1-pixel line into an ARGB32 image, one pixel per step along its longer extent (a DDA). At 10,000 runs a frame is
// millions of pixels of long lines; QPainter's general raster path spends about 25 ns on each, this about 1.
void rasterizeLine(QImage &image, QLineF line, QRgb color)
{
    const int width = image.width(), height = image.height();
    auto *bits = reinterpret_cast<QRgb *>(image.bits());
    const qsizetype stride = image.bytesPerLine() / qsizetype(sizeof(QRgb));
    const bool shallow = std::abs(line.dx()) >= std::abs(line.dy());
    // Along the longer extent in whole pixels, the other coordinate in 16.16 fixed point.
    if (shallow ? line.x1() > line.x2() : line.y1() > line.y2())
        line = QLineF(line.p2(), line.p1());
    const double from = shallow ? line.x1() : line.y1(), to = shallow ? line.x2() : line.y2();
    const double slope = (to > from) ? (shallow ? line.dy() : line.dx()) / (to - from) : 0;
    const int limit = shallow ? width : height, across = shallow ? height : width;
    const int first = std::max(0, int(std::lround(from))), last = std::min(limit - 1, int(std::lround(to)));
    const double start = (shallow ? line.y1() : line.x1()) + slope * (first - from);
    std::int64_t fixed = std::int64_t(std::llround(start * 65536.0)) + 32768;
    const std::int64_t step = std::llround(slope * 65536.0);
    for (int along = first; along <= last; ++along, fixed += step) {
        const int other = int(fixed >> 16);
        if (other < 0 || other >= across)
            continue;
        if (shallow)
            bits[qsizetype(other) * stride + along] = color;
        else
            bits[qsizetype(along) * stride + other] = color;
    }
}

} // namespace

ParallelCoordinates::ParallelCoordinates(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("parallelCoordinates"));
    setMinimumSize(360, 240);
}

void ParallelCoordinates::setData(const QList<RunRecord> &runs, const QStringList &params, const QString &metricKey,
                                  const QString &statistic, bool lowerIsBetter)
{
    m_ids.clear();
    m_names.clear();
    m_metric.clear();
    m_values.clear();
    m_lowerIsBetter = lowerIsBetter;
    const SweepMetric metric{metricKey, statistic, lowerIsBetter};
    for (const RunRecord &run : runs) {
        const double value = sweepMetricValue(run, metric);
        if (run.status != RunStatus::Succeeded || !std::isfinite(value))
            continue;
        QStringList values;
        for (const QString &param : params)
            values << run.params.value(param, kUnset);
        values << QString::number(value, 'g', 17);
        m_ids << run.id;
        m_names << run.name;
        m_metric.push_back(value);
        m_values.push_back(values);
    }
    // Keep the brushes of axes that are still there, by title.
    QHash<QString, std::optional<std::pair<float, float>>> brushes;
    for (const AxisData &axis : m_axes)
        brushes.insert(axis.axis.title, axis.brush);
    const QStringList titles = params + QStringList{QStringLiteral("%1 (%2)").arg(metricKey, statistic)};
    QStringList previousOrder = axisTitles();
    m_axes.clear();
    for (qsizetype a = 0; a < titles.size(); ++a) {
        QStringList column;
        for (const QStringList &values : m_values)
            column << values[a];
        AxisData data;
        data.axis = scatterAxisFor(titles[a], column);
        data.t.reserve(std::size_t(column.size()));
        for (const QString &value : column)
            data.t.push_back(float(tOf(data.axis, value)));
        data.brush = brushes.value(titles[a]);
        m_axes.push_back(std::move(data));
    }
    // The drawing order: the user's where the same axes are shown again, else the given order.
    m_order.resize(m_axes.size());
    std::iota(m_order.begin(), m_order.end(), 0);
    if (previousOrder.size() == titles.size()
        && QSet<QString>(previousOrder.begin(), previousOrder.end()) == QSet<QString>(titles.begin(), titles.end()))
        for (qsizetype i = 0; i < previousOrder.size(); ++i)
            m_order[std::size_t(i)] = int(titles.indexOf(previousOrder[i]));
    m_metricLo = m_metric.empty() ? 0 : *std::min_element(m_metric.begin(), m_metric.end());
    m_metricHi = m_metric.empty() ? 1 : *std::max_element(m_metric.begin(), m_metric.end());
    m_empty = params.isEmpty() ? tr("No param varies in this sweep")
        : m_ids.isEmpty()      ? tr("No finished run with %1 yet").arg(metricKey)
                               : QString();
    invalidateCache();
}

QStringList ParallelCoordinates::axisTitles() const
{
    QStringList titles;
    for (int index : m_order)
        titles << m_axes[std::size_t(index)].axis.title;
    return titles;
}

QStringList ParallelCoordinates::runIds() const { return m_ids; }

void ParallelCoordinates::setBrush(int axisIndex, std::optional<std::pair<double, double>> range)
{
    AxisData &data = m_axes[std::size_t(m_order[std::size_t(axisIndex)])];
    if (!range) {
        data.brush.reset();
    } else if (data.axis.categorical) {
        const double count = double(std::max<qsizetype>(1, data.axis.categories.size()));
        data.brush = std::pair{float(std::min(range->first, range->second) / count),
                               float((std::max(range->first, range->second) + 1) / count)};
    } else {
        const auto t = [&](double value) { return tOf(data.axis, QString::number(value, 'g', 17)); };
        data.brush = std::pair{float(std::min(t(range->first), t(range->second))),
                               float(std::max(t(range->first), t(range->second)))};
    }
    update();
}

void ParallelCoordinates::clearBrushes()
{
    for (AxisData &axis : m_axes)
        axis.brush.reset();
    update();
}

bool ParallelCoordinates::hasBrushes() const
{
    return std::any_of(m_axes.begin(), m_axes.end(), [](const AxisData &axis) { return axis.brush.has_value(); });
}

std::vector<char> ParallelCoordinates::passing() const
{
    std::vector<char> inside(std::size_t(m_ids.size()), 1);
    for (const AxisData &axis : m_axes) {
        if (!axis.brush)
            continue;
        for (std::size_t run = 0; run < inside.size(); ++run)
            if (axis.t[run] < axis.brush->first || axis.t[run] > axis.brush->second)
                inside[run] = 0;
    }
    return inside;
}

QStringList ParallelCoordinates::brushedRunIds() const
{
    const std::vector<char> inside = passing();
    QStringList ids;
    for (std::size_t run = 0; run < inside.size(); ++run)
        if (inside[run])
            ids << m_ids[qsizetype(run)];
    return ids;
}

void ParallelCoordinates::moveAxis(int from, int to)
{
    if (from < 0 || from >= axisCount() || to < 0 || to >= axisCount() || from == to)
        return;
    const int moved = m_order[std::size_t(from)];
    m_order.erase(m_order.begin() + from);
    m_order.insert(m_order.begin() + to, moved);
    invalidateCache();
}

QRect ParallelCoordinates::plotArea(const QRect &rect) const { return rect.adjusted(56, 28 + kTitleBand, -56, -24); }

double ParallelCoordinates::xOf(int index, const QRect &plot) const
{
    const int count = axisCount();
    return count <= 1 ? plot.center().x() : plot.left() + double(index) * plot.width() / (count - 1);
}

double ParallelCoordinates::axisX(int index) const { return xOf(index, plotArea(rect())); }

double ParallelCoordinates::valueY(int index, double value) const
{
    const QRect plot = plotArea(rect());
    const AxisData &data = m_axes[std::size_t(m_order[std::size_t(index)])];
    return plot.bottom() - tOf(data.axis, QString::number(value, 'g', 17)) * plot.height();
}

QColor ParallelCoordinates::colorFor(double metric) const
{
    const double span = m_metricHi - m_metricLo;
    const double t = span > 0 ? (metric - m_metricLo) / span : 1.0;
    return viridisColor(m_lowerIsBetter ? 1 - t : t);
}

void ParallelCoordinates::invalidateCache()
{
    m_faintLayer = QImage();
    update();
}

void ParallelCoordinates::drawLines(QPainter *painter, QImage *image, const QRect &plot, bool faintOnly,
                                    bool brushedOnly) const
{
    const std::vector<char> inside = brushedOnly ? passing() : std::vector<char>(std::size_t(m_ids.size()), 1);
    // Segments batched by colour (the metric in kColorLevels steps), drawn from the worst level to the best, so the
    // best runs lie on top: one drawLines call a level instead of a pen change and a call per run.
    constexpr int kColorLevels = 64;
    const int axes = axisCount();
    std::vector<double> xs(static_cast<std::size_t>(axes));
    for (int i = 0; i < axes; ++i)
        xs[std::size_t(i)] = xOf(i, plot);
    std::vector<const std::vector<float> *> columns(static_cast<std::size_t>(axes));
    for (int i = 0; i < axes; ++i)
        columns[std::size_t(i)] = &m_axes[std::size_t(m_order[std::size_t(i)])].t;
    std::vector<std::vector<QLineF>> levels(faintOnly ? 1 : kColorLevels);
    const double span = m_metricHi - m_metricLo;
    for (std::size_t run = 0; run < inside.size(); ++run) {
        if (!inside[run])
            continue;
        int level = 0;
        if (!faintOnly) {
            double t = span > 0 ? (m_metric[run] - m_metricLo) / span : 1.0;
            if (m_lowerIsBetter)
                t = 1 - t; // 1: the best
            level = std::clamp(int(t * kColorLevels), 0, kColorLevels - 1);
        }
        std::vector<QLineF> &segments = levels[std::size_t(level)];
        for (int i = 0; i + 1 < axes; ++i)
            segments.emplace_back(
                xs[std::size_t(i)], plot.bottom() - double((*columns[std::size_t(i)])[run]) * plot.height(),
                xs[std::size_t(i + 1)], plot.bottom() - double((*columns[std::size_t(i + 1)])[run]) * plot.height());
    }
    for (std::size_t level = 0; level < levels.size(); ++level) {
        if (levels[level].empty())
            continue;
        const QColor color =
            faintOnly ? paletteInk(palette(), 0.18) : viridisColor((double(level) + 0.5) / kColorLevels);
        if (image) { // the widget: straight into the image's pixels, at its device pixel ratio
            const double scale = image->devicePixelRatio();
            const QRgb rgb = color.rgba();
            for (const QLineF &segment : levels[level])
                rasterizeLine(*image, QLineF(segment.p1() * scale, segment.p2() * scale), rgb);
            continue;
        }
        QPen pen(color, 1);
        pen.setCosmetic(true);
        painter->setPen(pen);
        painter->drawLines(levels[level].data(), int(levels[level].size()));
    }
}

void ParallelCoordinates::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    render(painter, rect(), true);
}

void ParallelCoordinates::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    m_faintLayer = QImage();
}

void ParallelCoordinates::render(QPainter &painter, const QRect &rect, bool useCache) const
{
    painter.fillRect(rect, palette().color(QPalette::Base));
    const QRect plot = plotArea(rect);
    const QFontMetrics metrics(painter.font());
    if (!m_empty.isEmpty()) {
        painter.setPen(paletteInk(palette(), 0.7));
        painter.drawText(rect, Qt::AlignCenter, m_empty);
        return;
    }
    const bool brushed = hasBrushes();
    if (useCache) {
        // The widget: every line faint (rasterized once while the size and the axes stay), then the runs in the
        // brushes coloured, rasterized into a reused image each frame.
        const QSize pixels = rect.size() * devicePixelRatioF();
        if (brushed && m_faintLayer.size() != pixels) {
            m_faintLayer = QImage(pixels, QImage::Format_ARGB32_Premultiplied);
            m_faintLayer.setDevicePixelRatio(devicePixelRatioF());
            m_faintLayer.fill(Qt::transparent);
            drawLines(nullptr, &m_faintLayer, plot, true, false);
        }
        if (brushed)
            painter.drawImage(rect.topLeft(), m_faintLayer);
        if (m_lineLayer.size() != pixels) {
            m_lineLayer = QImage(pixels, QImage::Format_ARGB32_Premultiplied);
            m_lineLayer.setDevicePixelRatio(devicePixelRatioF());
        }
        m_lineLayer.fill(Qt::transparent);
        drawLines(nullptr, &m_lineLayer, plot, false, brushed);
        painter.drawImage(rect.topLeft(), m_lineLayer);
    } else { // an export (SVG, PNG at another size): vector lines
        if (brushed)
            drawLines(&painter, nullptr, plot, true, false);
        drawLines(&painter, nullptr, plot, false, brushed);
    }
    // Axes: a line, the title above (dragged to move the axis), ticks, and the brush.
    for (int i = 0; i < axisCount(); ++i) {
        const AxisData &data = m_axes[std::size_t(m_order[std::size_t(i)])];
        const double x = xOf(i, plot);
        painter.setPen(QPen(paletteInk(palette(), 0.75), 1));
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        QFont bold = painter.font();
        bold.setBold(true);
        painter.setFont(bold);
        const QString title = data.axis.title + (data.axis.log ? tr(" (log)") : QString());
        painter.drawText(QRectF(x - 80, rect.top() + 6, 160, kTitleBand), Qt::AlignHCenter | Qt::AlignBottom,
                         QFontMetrics(bold).elidedText(title, Qt::ElideMiddle, 156));
        bold.setBold(false);
        painter.setFont(bold);
        QList<std::pair<double, QString>> ticks;
        if (data.axis.categorical) {
            for (qsizetype c = 0; c < data.axis.categories.size(); ++c)
                ticks.append({(double(c) + 0.5) / double(data.axis.categories.size()), data.axis.categories[c]});
        } else if (data.axis.hi > data.axis.lo) {
            const double step = data.axis.log ? 1.0 : chartmath::niceStep(data.axis.hi - data.axis.lo, 5);
            for (double v = std::ceil(data.axis.lo / step) * step; v <= data.axis.hi; v += step)
                ticks.append({(v - data.axis.lo) / (data.axis.hi - data.axis.lo),
                              data.axis.log ? QStringLiteral("1e%1").arg(qRound(v)) : chartmath::formatTick(v, step)});
        }
        painter.setPen(paletteInk(palette(), 0.7));
        for (const auto &[t, label] : ticks) {
            const double y = plot.bottom() - t * plot.height();
            painter.drawLine(QPointF(x - 3, y), QPointF(x, y));
            painter.drawText(QRectF(x - 54, y - 8, 50, 16), Qt::AlignRight | Qt::AlignVCenter,
                             metrics.elidedText(label, Qt::ElideRight, 50));
        }
        if (data.brush) {
            QColor fill = palette().color(QPalette::Highlight);
            fill.setAlpha(70);
            const double top = plot.bottom() - double(data.brush->second) * plot.height();
            const double bottom = plot.bottom() - double(data.brush->first) * plot.height();
            painter.fillRect(QRectF(x - kBrushWidth / 2.0, top, kBrushWidth, bottom - top), fill);
            painter.setPen(palette().color(QPalette::Highlight));
            painter.drawRect(QRectF(x - kBrushWidth / 2.0, top, kBrushWidth, bottom - top));
        }
    }
    if (brushed) {
        painter.setPen(paletteInk(palette(), 0.7));
        painter.drawText(QRect(rect.left() + 8, rect.bottom() - 20, rect.width() - 16, 18), Qt::AlignLeft,
                         tr("%1 of %2 runs in the brushed ranges (click an axis to clear its brush)")
                             .arg(brushedRunIds().size())
                             .arg(m_ids.size()));
    }
}

int ParallelCoordinates::axisNear(double x) const
{
    int nearest = -1;
    double best = kAxisReach;
    for (int i = 0; i < axisCount(); ++i)
        if (std::abs(axisX(i) - x) <= best) {
            best = std::abs(axisX(i) - x);
            nearest = i;
        }
    return nearest;
}

void ParallelCoordinates::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton || !m_empty.isEmpty())
        return;
    const QPointF at = event->position();
    const QRect plot = plotArea(rect());
    m_dragAxis = axisNear(at.x());
    m_dragged = false;
    m_movingAxis = m_dragAxis >= 0 && at.y() < plot.top();
    m_dragFrom = std::clamp((plot.bottom() - at.y()) / plot.height(), 0.0, 1.0);
}

void ParallelCoordinates::mouseMoveEvent(QMouseEvent *event)
{
    if (m_dragAxis < 0 || !(event->buttons() & Qt::LeftButton))
        return;
    m_dragged = true;
    if (m_movingAxis)
        return; // the axis moves where it is dropped
    const QRect plot = plotArea(rect());
    const double t = std::clamp((plot.bottom() - event->position().y()) / plot.height(), 0.0, 1.0);
    m_axes[std::size_t(m_order[std::size_t(m_dragAxis)])].brush =
        std::pair{float(std::min(t, m_dragFrom)), float(std::max(t, m_dragFrom))};
    update();
}

void ParallelCoordinates::mouseReleaseEvent(QMouseEvent *event)
{
    if (m_dragAxis < 0 || event->button() != Qt::LeftButton)
        return;
    const int axis = m_dragAxis;
    m_dragAxis = -1;
    if (m_movingAxis) {
        const QRect plot = plotArea(rect());
        const int count = axisCount();
        const double step = count > 1 ? double(plot.width()) / (count - 1) : 1;
        moveAxis(axis, std::clamp(int(std::lround((event->position().x() - plot.left()) / step)), 0, count - 1));
        return;
    }
    if (!m_dragged) // a click clears the axis's brush
        m_axes[std::size_t(m_order[std::size_t(axis)])].brush.reset();
    update();
    emit brushChanged(brushedRunIds());
}

void ParallelCoordinates::contextMenuEvent(QContextMenuEvent *event)
{
    QMenu menu(this);
    const auto ask = [this](const QString &filter, const QString &suffix, ExportFormat format) {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export the parallel coordinates"),
                                                          QStringLiteral("parallel-coordinates.") + suffix, filter);
        if (!path.isEmpty())
            exportTo(path, format);
    };
    menu.addAction(tr("Clear brushes"), this, [this] {
        clearBrushes();
        emit brushChanged(brushedRunIds());
    });
    menu.addSeparator();
    menu.addAction(tr("Export PNG…"), this,
                   [ask] { ask(tr("PNG image (*.png)"), QStringLiteral("png"), ExportFormat::Png); });
    menu.addAction(tr("Export SVG…"), this,
                   [ask] { ask(tr("SVG image (*.svg)"), QStringLiteral("svg"), ExportFormat::Svg); });
    menu.addAction(tr("Export CSV…"), this,
                   [ask] { ask(tr("CSV (*.csv)"), QStringLiteral("csv"), ExportFormat::Csv); });
    menu.exec(event->globalPos());
}

QFuture<QString> ParallelCoordinates::exportTo(const QString &path, ExportFormat format)
{
    const auto finished = [this, path](const QString &error) { emit exportFinished(path, error); };
    if (format == ExportFormat::Png)
        return exportChartPng(this, path, toImage(size() * 2), finished);
    return exportChartBytes(this, path, format == ExportFormat::Svg ? toSvg(size()) : toCsv(), finished);
}

QImage ParallelCoordinates::toImage(const QSize &size) const
{
    return renderChartImage([this](QPainter &painter, const QRect &rect) { render(painter, rect); }, size, width());
}

QByteArray ParallelCoordinates::toSvg(const QSize &size) const
{
    return renderChartSvg([this](QPainter &painter, const QRect &rect) { render(painter, rect); }, size,
                          tr("Parallel coordinates"));
}

QByteArray ParallelCoordinates::toCsv() const
{
    const auto field = [](const QString &text) { return csvField(text, CsvQuote::WhenNeeded).toUtf8(); };
    QByteArray csv = "run_id,name";
    for (int index : m_order)
        csv += ',' + field(m_axes[std::size_t(index)].axis.title);
    csv += ",in_brush\n";
    const std::vector<char> inside = passing();
    for (qsizetype run = 0; run < m_ids.size(); ++run) {
        csv += field(m_ids[run]) + ',' + field(m_names[run]);
        for (int index : m_order)
            csv += ',' + field(m_values[std::size_t(run)][index]);
        csv += inside[std::size_t(run)] ? ",1\n" : ",0\n";
    }
    return csv;
}

} // namespace trainyard
