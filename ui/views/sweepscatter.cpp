#include "views/sweepscatter.h"

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
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace trainyard {

namespace {

constexpr int kPointRadius = 4;
constexpr int kHitRadius = 7;
const QString kUnset = QStringLiteral("(unset)");

// A small, fixed offset per point inside a choice's slot, so that runs with the same value do not hide each other.
double jitter(std::size_t index) { return (double((index * 37) % 11) - 5) / 20.0; }

} // namespace

// Viridis at five stops (matplotlib's), interpolated in RGB: dark purple for the worst value, yellow for the best.
QColor viridisColor(double t)
{
    static const QColor stops[] = {QColor(0x44, 0x01, 0x54), QColor(0x3b, 0x52, 0x8b), QColor(0x21, 0x91, 0x8c),
                                   QColor(0x5e, 0xc9, 0x62), QColor(0xfd, 0xe7, 0x25)};
    t = std::clamp(t, 0.0, 1.0) * 4;
    const int i = std::min(3, int(t));
    const double f = t - i;
    const QColor &a = stops[i], &b = stops[i + 1];
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * f),
                            float(a.greenF() + (b.greenF() - a.greenF()) * f),
                            float(a.blueF() + (b.blueF() - a.blueF()) * f));
}

SweepScatter::Axis scatterAxisFor(const QString &title, const QStringList &values)
{
    SweepScatter::Axis axis;
    axis.title = title;
    QList<double> numbers;
    for (const QString &value : values) {
        bool ok = false;
        const double number = value.toDouble(&ok);
        if (!ok || !std::isfinite(number)) {
            axis.categorical = true;
            break;
        }
        numbers << number;
    }
    if (axis.categorical) {
        axis.categories = values;
        axis.categories.removeDuplicates();
        std::sort(axis.categories.begin(), axis.categories.end(),
                  [](const QString &a, const QString &b) { return QString::localeAwareCompare(a, b) < 0; });
        return axis;
    }
    if (numbers.isEmpty())
        return axis;
    const auto [lo, hi] = std::minmax_element(numbers.cbegin(), numbers.cend());
    axis.log = *lo > 0 && *hi / *lo >= 100;
    double from = axis.log ? std::log10(*lo) : *lo, to = axis.log ? std::log10(*hi) : *hi;
    const double pad = to > from ? (to - from) * 0.05 : (axis.log ? 0.5 : std::max(1.0, std::abs(from) * 0.1));
    axis.lo = from - pad;
    axis.hi = to + pad;
    return axis;
}

SweepScatter::SweepScatter(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("sweepScatter"));
    setMouseTracking(true);
    setMinimumSize(320, 240);
}

void SweepScatter::setData(const QList<RunRecord> &runs, const QString &metricKey, const QString &statistic,
                           bool lowerIsBetter, const QString &xParam, const QString &yParam)
{
    m_points.clear();
    m_metricKey = metricKey;
    m_lowerIsBetter = lowerIsBetter;
    const SweepMetric metric{metricKey, statistic, lowerIsBetter};
    QStringList xs, ys;
    for (const RunRecord &run : runs) {
        const double value = sweepMetricValue(run, metric);
        if (run.status != RunStatus::Succeeded || !std::isfinite(value))
            continue;
        Point point{run.id, run.name, run.params.value(xParam, kUnset),
                    yParam.isEmpty() ? QString::number(value, 'g', 17) : run.params.value(yParam, kUnset), value};
        xs << point.x;
        ys << point.y;
        m_points << point;
    }
    m_x = scatterAxisFor(xParam, xs);
    m_yIsMetric = yParam.isEmpty();
    m_y = scatterAxisFor(yParam.isEmpty() ? QStringLiteral("%1 (%2)").arg(metricKey, statistic) : yParam, ys);
    m_metricLo = m_metricHi = 0;
    if (!m_points.isEmpty()) {
        const auto [lo, hi] = std::minmax_element(m_points.cbegin(), m_points.cend(),
                                                  [](const Point &a, const Point &b) { return a.metric < b.metric; });
        m_metricLo = lo->metric;
        m_metricHi = hi->metric;
    }
    m_empty = xParam.isEmpty() ? tr("No param varies in this sweep")
        : m_points.isEmpty()   ? tr("No finished run with %1 yet").arg(metricKey)
                               : QString();
    m_hovered.clear();
    update();
}

QColor SweepScatter::colorFor(double metric) const
{
    const double span = m_metricHi - m_metricLo;
    double t = span > 0 ? (metric - m_metricLo) / span : 1.0;
    if (m_lowerIsBetter)
        t = 1 - t;
    return viridisColor(t);
}

QString SweepScatter::emptyText() const { return m_empty; }

QRect SweepScatter::plotArea(const QRect &rect) const
{
    return rect.adjusted(70, 28, -86, -46); // axis labels left and below, the colour bar right
}

double SweepScatter::position(const Axis &axis, const QString &value, double span, std::size_t index) const
{
    if (axis.categorical) {
        const qsizetype slot = axis.categories.indexOf(value);
        return (double(slot) + 0.5 + jitter(index) * 0.6) / double(std::max<qsizetype>(1, axis.categories.size()))
            * span;
    }
    double number = value.toDouble();
    if (axis.log)
        number = std::log10(number);
    return (number - axis.lo) / (axis.hi - axis.lo) * span;
}

QPointF SweepScatter::place(const Point &point, std::size_t index, const QRect &plot) const
{
    return {plot.left() + position(m_x, point.x, plot.width(), index),
            plot.bottom() - position(m_y, point.y, plot.height(), index + 5)};
}

std::optional<QPointF> SweepScatter::pointPosition(const QString &runId) const
{
    const QRect plot = plotArea(rect());
    for (qsizetype i = 0; i < m_points.size(); ++i)
        if (m_points[i].runId == runId)
            return place(m_points[i], std::size_t(i), plot);
    return std::nullopt;
}

std::optional<QString> SweepScatter::runAt(const QPoint &pixel) const
{
    const QRect plot = plotArea(rect());
    std::optional<QString> nearest;
    double best = kHitRadius * kHitRadius;
    for (qsizetype i = 0; i < m_points.size(); ++i) {
        const QPointF at = place(m_points[i], std::size_t(i), plot);
        const double dx = at.x() - pixel.x(), dy = at.y() - pixel.y();
        if (dx * dx + dy * dy <= best) {
            best = dx * dx + dy * dy;
            nearest = m_points[i].runId;
        }
    }
    return nearest;
}

QString SweepScatter::hoverText(const QString &runId) const
{
    for (const Point &point : m_points)
        if (point.runId == runId) {
            QString text = QStringLiteral("%1 (%2)\n%3: %4").arg(point.name, point.runId, m_x.title, point.x);
            if (!m_yIsMetric)
                text += QStringLiteral("\n%1: %2").arg(m_y.title, point.y);
            return text + QStringLiteral("\n%1: %2").arg(m_metricKey, QString::number(point.metric, 'g', 6));
        }
    return {};
}

void SweepScatter::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    render(painter, rect());
}

void SweepScatter::render(QPainter &painter, const QRect &rect) const
{
    painter.fillRect(rect, palette().color(QPalette::Base));
    const QRect plot = plotArea(rect);
    const QFontMetrics metrics(painter.font());
    painter.setPen(paletteInk(palette(), 0.9));
    painter.drawText(QRect(rect.left() + 8, rect.top() + 4, rect.width() - 16, 20), Qt::AlignLeft | Qt::AlignVCenter,
                     QStringLiteral("%1 against %2").arg(m_y.title, m_x.title));
    // Axes and their ticks: decades on a log axis, round steps on a linear one, a slot per value of a choice.
    const auto ticks = [&](const Axis &axis, double span, bool horizontal) {
        QList<std::pair<double, QString>> marks;
        if (axis.categorical) {
            for (qsizetype i = 0; i < axis.categories.size(); ++i)
                marks.append({(double(i) + 0.5) / double(axis.categories.size()) * span, axis.categories[i]});
        } else if (axis.hi > axis.lo) {
            const double step = axis.log ? 1.0 : chartmath::niceStep(axis.hi - axis.lo, horizontal ? 6 : 5);
            for (double v = std::ceil(axis.lo / step) * step; v <= axis.hi; v += step)
                marks.append({(v - axis.lo) / (axis.hi - axis.lo) * span,
                              axis.log ? QStringLiteral("1e%1").arg(qRound(v)) : chartmath::formatTick(v, step)});
        }
        return marks;
    };
    painter.setPen(paletteInk(palette(), 0.15));
    for (const auto &[offset, label] : ticks(m_x, plot.width(), true))
        painter.drawLine(QPointF(plot.left() + offset, plot.top()), QPointF(plot.left() + offset, plot.bottom()));
    for (const auto &[offset, label] : ticks(m_y, plot.height(), false))
        painter.drawLine(QPointF(plot.left(), plot.bottom() - offset), QPointF(plot.right(), plot.bottom() - offset));
    painter.setPen(paletteInk(palette(), 0.7));
    painter.drawRect(plot);
    for (const auto &[offset, label] : ticks(m_x, plot.width(), true))
        painter.drawText(QRectF(plot.left() + offset - 50, plot.bottom() + 4, 100, 16), Qt::AlignHCenter | Qt::AlignTop,
                         metrics.elidedText(label, Qt::ElideRight, 96));
    for (const auto &[offset, label] : ticks(m_y, plot.height(), false))
        painter.drawText(QRectF(rect.left() + 2, plot.bottom() - offset - 8, plot.left() - rect.left() - 8, 16),
                         Qt::AlignRight | Qt::AlignVCenter, metrics.elidedText(label, Qt::ElideRight, 60));
    painter.drawText(QRect(plot.left(), plot.bottom() + 22, plot.width(), 18), Qt::AlignHCenter,
                     m_x.title + (m_x.log ? tr(" (log)") : QString()));
    if (!m_empty.isEmpty()) {
        painter.drawText(plot, Qt::AlignCenter, m_empty);
        return;
    }
    // The points, best drawn last (on top).
    QList<qsizetype> order(m_points.size());
    std::iota(order.begin(), order.end(), qsizetype(0));
    std::stable_sort(order.begin(), order.end(), [&](qsizetype a, qsizetype b) {
        return m_lowerIsBetter ? m_points[a].metric > m_points[b].metric : m_points[a].metric < m_points[b].metric;
    });
    painter.setRenderHint(QPainter::Antialiasing, true);
    painter.setPen(QPen(paletteInk(palette(), 0.55), 0.8));
    std::optional<QPointF> hovered;
    for (qsizetype i : order) {
        const QPointF at = place(m_points[i], std::size_t(i), plot);
        painter.setBrush(colorFor(m_points[i].metric));
        painter.drawEllipse(at, kPointRadius, kPointRadius);
        if (m_points[i].runId == m_hovered)
            hovered = at;
    }
    if (hovered) {
        painter.setBrush(Qt::NoBrush);
        painter.setPen(QPen(paletteInk(palette(), 0.95), 2));
        painter.drawEllipse(*hovered, kPointRadius + 3, kPointRadius + 3);
    }
    painter.setRenderHint(QPainter::Antialiasing, false);
    // The colour bar: the best value at the top.
    const QRect bar(plot.right() + 16, plot.top(), 14, plot.height());
    for (int y = 0; y < bar.height(); ++y)
        painter.fillRect(QRect(bar.left(), bar.top() + y, bar.width(), 1),
                         viridisColor(1.0 - double(y) / std::max(1, bar.height() - 1)));
    painter.setPen(paletteInk(palette(), 0.7));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(bar);
    const double best = m_lowerIsBetter ? m_metricLo : m_metricHi, worst = m_lowerIsBetter ? m_metricHi : m_metricLo;
    painter.drawText(QRect(bar.right() + 4, bar.top() - 2, rect.right() - bar.right() - 4, 16), Qt::AlignLeft,
                     chartmath::formatNumber(best));
    painter.drawText(QRect(bar.right() + 4, bar.bottom() - 14, rect.right() - bar.right() - 4, 16), Qt::AlignLeft,
                     chartmath::formatNumber(worst));
    painter.save();
    painter.translate(bar.right() + 22, bar.center().y());
    painter.rotate(90);
    painter.drawText(QRect(-bar.height() / 2, -14, bar.height(), 16), Qt::AlignCenter, m_metricKey);
    painter.restore();
}

void SweepScatter::mouseMoveEvent(QMouseEvent *event)
{
    const QString hovered = runAt(event->position().toPoint()).value_or(QString());
    if (hovered != m_hovered) {
        m_hovered = hovered;
        update();
    }
    if (hovered.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), hoverText(hovered), this);
}

void SweepScatter::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return;
    if (const auto run = runAt(event->position().toPoint()))
        emit runActivated(*run);
}

void SweepScatter::contextMenuEvent(QContextMenuEvent *event)
{
    QMenu menu(this);
    const auto ask = [this](const QString &filter, const QString &suffix, ExportFormat format) {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export the scatter plot"),
                                                          QStringLiteral("scatter.") + suffix, filter);
        if (!path.isEmpty())
            exportTo(path, format);
    };
    menu.addAction(tr("Export PNG…"), this,
                   [ask] { ask(tr("PNG image (*.png)"), QStringLiteral("png"), ExportFormat::Png); });
    menu.addAction(tr("Export SVG…"), this,
                   [ask] { ask(tr("SVG image (*.svg)"), QStringLiteral("svg"), ExportFormat::Svg); });
    menu.addAction(tr("Export CSV…"), this,
                   [ask] { ask(tr("CSV (*.csv)"), QStringLiteral("csv"), ExportFormat::Csv); });
    menu.exec(event->globalPos());
}

QFuture<QString> SweepScatter::exportTo(const QString &path, ExportFormat format)
{
    const auto finished = [this, path](const QString &error) { emit exportFinished(path, error); };
    if (format == ExportFormat::Png)
        return exportChartPng(this, path, toImage(size() * 2), finished);
    return exportChartBytes(this, path, format == ExportFormat::Svg ? toSvg(size()) : toCsv(), finished);
}

QImage SweepScatter::toImage(const QSize &size) const
{
    return renderChartImage([this](QPainter &painter, const QRect &rect) { render(painter, rect); }, size, width());
}

QByteArray SweepScatter::toSvg(const QSize &size) const
{
    return renderChartSvg([this](QPainter &painter, const QRect &rect) { render(painter, rect); }, size,
                          QStringLiteral("%1 against %2").arg(m_y.title, m_x.title));
}

QByteArray SweepScatter::toCsv() const
{
    const auto field = [](const QString &text) { return csvField(text, CsvQuote::WhenNeeded).toUtf8(); };
    QByteArray csv = "run_id,name," + field(m_x.title) + "," + field(m_y.title) + "," + field(m_metricKey) + "\n";
    for (const Point &point : m_points)
        csv += field(point.runId) + ',' + field(point.name) + ',' + field(point.x) + ',' + field(point.y) + ','
            + QByteArray::number(point.metric, 'g', 17) + '\n';
    return csv;
}

} // namespace trainyard
