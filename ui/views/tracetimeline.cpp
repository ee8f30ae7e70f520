#include "views/tracetimeline.h"

#include "views/chartmath.h"
#include "views/envelopechart.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <set>

namespace trainyard {

namespace {

constexpr int kLabelWidth = 170;
constexpr int kAxisHeight = 24;
constexpr int kRowHeight = 16;
constexpr int kHeaderHeight = 20;

// Event colours: a name keeps its colour across ranks and traces (hashed), from a palette readable under white or
// black text.
QColor colourOf(const QString &name)
{
    static const QRgb palette[] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948,
                                   0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac, 0x86bcb6, 0xd37295};
    return QColor(palette[qHash(name) % (sizeof palette / sizeof palette[0])]);
}

QString formatMicros(double us)
{
    const double magnitude = std::abs(us);
    if (magnitude == 0)
        return QStringLiteral("0");
    if (magnitude >= 1e6)
        return QString::number(us / 1e6, 'f', 3) + QStringLiteral(" s");
    if (magnitude >= 1e3)
        return QString::number(us / 1e3, 'f', 3) + QStringLiteral(" ms");
    return QString::number(us, 'f', magnitude >= 10 ? 1 : 3) + QStringLiteral(" µs");
}

} // namespace

TraceTimeline::TraceTimeline(QWidget *parent) : QWidget(parent)
{
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setFocusPolicy(Qt::StrongFocus);
}

void TraceTimeline::setTraces(QList<TimelineTrace> traces)
{
    m_traces = std::move(traces);
    m_offsets.assign(std::size_t(m_traces.size()), 0.0);
    m_alignedStep.reset();
    // The first step every trace marked: each trace is shifted so that that step starts at 0.
    if (!m_traces.isEmpty()) {
        std::set<std::int64_t> common;
        for (const TraceStep &step : m_traces.front().trace.steps())
            common.insert(step.step);
        for (const TimelineTrace &timeline : m_traces) {
            std::set<std::int64_t> steps;
            for (const TraceStep &step : timeline.trace.steps())
                if (common.count(step.step))
                    steps.insert(step.step);
            common = std::move(steps);
        }
        if (!common.empty()) {
            m_alignedStep = *common.begin();
            for (qsizetype i = 0; i < m_traces.size(); ++i)
                for (const TraceStep &step : m_traces[i].trace.steps())
                    if (step.step == *m_alignedStep)
                        m_offsets[std::size_t(i)] = -step.startUs;
        }
    }
    m_minTime = 0;
    m_maxTime = 0;
    bool first = true;
    for (qsizetype i = 0; i < m_traces.size(); ++i) {
        const double offset = m_offsets[std::size_t(i)];
        const double from = offset, to = m_traces[i].trace.durationUs() + offset;
        m_minTime = first ? from : std::min(m_minTime, from);
        m_maxTime = first ? to : std::max(m_maxTime, to);
        first = false;
    }
    if (m_maxTime <= m_minTime)
        m_maxTime = m_minTime + 1;
    layoutRows();
    fitAll();
}

void TraceTimeline::layoutRows()
{
    m_rows.clear();
    int top = kAxisHeight;
    for (qsizetype t = 0; t < m_traces.size(); ++t) {
        m_rows.push_back({int(t), -1, 0, top, kHeaderHeight});
        top += kHeaderHeight;
        const auto &lanes = m_traces[t].trace.lanes();
        for (std::size_t lane = 0; lane < lanes.size(); ++lane) {
            for (int depth = 0; depth < lanes[lane].depthCount; ++depth) {
                m_rows.push_back({int(t), int(lane), depth, top, kRowHeight});
                top += kRowHeight;
            }
            top += 4; // a gap between lanes
        }
    }
    setMinimumHeight(top + 4);
    updateGeometry();
    update();
}

QSize TraceTimeline::sizeHint() const { return {900, std::max(300, minimumHeight())}; }

QStringList TraceTimeline::laneLabels() const
{
    QStringList labels;
    for (const Row &row : m_rows)
        if (row.lane >= 0 && row.depth == 0)
            labels.append(m_traces[row.trace].label + QStringLiteral(" · ")
                          + m_traces[row.trace].trace.lanes()[std::size_t(row.lane)].label());
    return labels;
}

void TraceTimeline::setTimeRange(double from, double to)
{
    if (!(to > from))
        return;
    const double minimumSpan = 0.01; // 10 ns
    if (to - from < minimumSpan) {
        const double middle = (from + to) / 2;
        from = middle - minimumSpan / 2;
        to = middle + minimumSpan / 2;
    }
    if (from == m_from && to == m_to)
        return;
    m_from = from;
    m_to = to;
    update();
    emit timeRangeChanged(m_from, m_to);
}

void TraceTimeline::fitAll()
{
    const double margin = (m_maxTime - m_minTime) * 0.01;
    setTimeRange(m_minTime - margin, m_maxTime + margin);
}

QRect TraceTimeline::plotArea() const
{
    return QRect(kLabelWidth, 0, std::max(1, width() - kLabelWidth - 6), height());
}

double TraceTimeline::xOf(double us) const
{
    const QRect area = plotArea();
    return area.left() + (us - m_from) / (m_to - m_from) * area.width();
}

double TraceTimeline::usAt(double x) const
{
    const QRect area = plotArea();
    return m_from + (x - area.left()) / area.width() * (m_to - m_from);
}

int TraceTimeline::rowAt(int y) const
{
    const auto it =
        std::upper_bound(m_rows.begin(), m_rows.end(), y, [](int value, const Row &row) { return value < row.top; });
    if (it == m_rows.begin())
        return -1;
    const Row &row = *std::prev(it);
    return y < row.top + row.height ? int(std::prev(it) - m_rows.begin()) : -1;
}

QColor TraceTimeline::ink(double share) const { return paletteInk(palette(), share); }

void TraceTimeline::paintRow(QPainter &painter, const Row &row, const QRect &area) const
{
    const ChromeTrace &trace = m_traces[row.trace].trace;
    const double offset = m_offsets[std::size_t(row.trace)];
    const auto &events = trace.events();
    const auto last = trace.lanes()[std::size_t(row.lane)].rows[std::size_t(row.depth)].second;
    const double scale = area.width() / (m_to - m_from);
    const int y = row.top + 1, h = row.height - 2;
    const QColor textColour = QColor(0x20, 0x20, 0x20);
    std::uint32_t i = trace.firstEndingAfter(row.lane, row.depth, m_from - offset);
    while (i < last) {
        const TraceEvent &event = events[i];
        const double start = event.startUs + offset;
        if (start > m_to)
            break;
        const double x0 = area.left() + (start - m_from) * scale;
        const double x1 = x0 + event.durationUs * scale;
        const QString name = trace.name(event.name);
        if (x1 - x0 < 1.5) {
            // Narrower than a pixel or so: one column for it and whatever else starts within that pixel.
            const int column = int(std::floor(std::max<double>(x0, area.left())));
            painter.fillRect(column, y, 1, h, colourOf(name).darker(115));
            const double nextUs = m_from + (column + 1 - area.left()) / scale - offset;
            std::uint32_t next = trace.firstEndingAfter(row.lane, row.depth, nextUs);
            i = std::max(i + 1, next);
            continue;
        }
        const int left = int(std::floor(std::max<double>(x0, area.left() - 1)));
        const int right = int(std::ceil(std::min<double>(x1, area.right() + 1)));
        const QRect bar(left, y, std::max(1, right - left - 1), h);
        painter.fillRect(bar, colourOf(name));
        if (bar.width() > 30) {
            painter.setPen(textColour);
            painter.drawText(bar.adjusted(3, 0, -2, 0), Qt::AlignVCenter | Qt::AlignLeft,
                             painter.fontMetrics().elidedText(name, Qt::ElideRight, bar.width() - 5));
        }
        ++i;
    }
}

void TraceTimeline::paintEvent(QPaintEvent *event)
{
    QPainter painter(this);
    const QRect exposed = event->rect();
    painter.fillRect(exposed, palette().color(QPalette::Base));
    const QRect area = plotArea();
    if (m_traces.isEmpty()) {
        painter.setPen(ink(0.6));
        painter.drawText(rect(), Qt::AlignCenter, tr("No trace open"));
        return;
    }
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    painter.setFont(small);

    // Rows in view (the widget may be taller than its scroll area's viewport).
    const int firstRow = std::max(0, rowAt(std::max(exposed.top(), kAxisHeight)) - 1);
    painter.setClipRect(QRect(area.left(), kAxisHeight, area.width(), height()).intersected(exposed));
    for (std::size_t r = std::size_t(std::max(0, firstRow)); r < m_rows.size(); ++r) {
        const Row &row = m_rows[r];
        if (row.top > exposed.bottom())
            break;
        if (row.lane < 0) {
            painter.fillRect(QRect(area.left(), row.top, area.width(), row.height), ink(0.06));
            // The trace's steps, as bands on its header row.
            const double offset = m_offsets[std::size_t(row.trace)];
            painter.setPen(ink(0.7));
            for (const TraceStep &step : m_traces[row.trace].trace.steps()) {
                const double x0 = xOf(step.startUs + offset), x1 = xOf(step.startUs + step.durationUs + offset);
                if (x1 < area.left() || x0 > area.right())
                    continue;
                painter.fillRect(QRectF(x0, row.top + 3, std::max(1.0, x1 - x0 - 1), row.height - 6), ink(0.18));
                if (x1 - x0 > 50)
                    painter.drawText(QRectF(x0 + 3, row.top, x1 - x0 - 4, row.height), Qt::AlignVCenter,
                                     tr("step %1").arg(step.step));
            }
            continue;
        }
        paintRow(painter, row, area);
    }
    painter.setClipping(false);

    // Labels: the trace's name on its header row, each lane's on its first row.
    painter.fillRect(QRect(0, kAxisHeight, kLabelWidth - 4, height()).intersected(exposed),
                     palette().color(QPalette::Base));
    for (std::size_t r = std::size_t(firstRow); r < m_rows.size(); ++r) {
        const Row &row = m_rows[r];
        if (row.top > exposed.bottom())
            break;
        if (row.lane < 0) {
            QFont bold = small;
            bold.setBold(true);
            painter.setFont(bold);
            painter.setPen(ink(0.9));
            painter.drawText(QRect(6, row.top, kLabelWidth - 10, row.height), Qt::AlignVCenter,
                             m_traces[row.trace].label);
            painter.setFont(small);
        } else if (row.depth == 0) {
            painter.setPen(ink(0.7));
            const QString label = m_traces[row.trace].trace.lanes()[std::size_t(row.lane)].label();
            painter.drawText(QRect(14, row.top, kLabelWidth - 18, kRowHeight), Qt::AlignVCenter,
                             painter.fontMetrics().elidedText(label, Qt::ElideMiddle, kLabelWidth - 18));
        }
    }

    // The time axis, drawn last so that it stays readable.
    painter.fillRect(QRect(0, 0, width(), kAxisHeight), palette().color(QPalette::Base));
    painter.setPen(ink(0.35));
    painter.drawLine(area.left(), kAxisHeight - 1, area.right(), kAxisHeight - 1);
    const double step = chartmath::niceStep(m_to - m_from, std::max(2, area.width() / 110));
    painter.setPen(ink(0.7));
    for (double tick = std::ceil(m_from / step) * step; tick <= m_to; tick += step) {
        const double x = xOf(tick);
        painter.drawLine(QPointF(x, kAxisHeight - 5), QPointF(x, kAxisHeight - 1));
        painter.drawText(QRectF(x + 3, 2, 110, kAxisHeight - 6), Qt::AlignVCenter | Qt::AlignLeft,
                         formatMicros(std::abs(tick) < step * 1e-9 ? 0 : tick));
    }
    painter.drawText(QRect(6, 2, kLabelWidth - 10, kAxisHeight - 6), Qt::AlignVCenter,
                     m_alignedStep ? tr("from step %1").arg(*m_alignedStep) : tr("from the first event"));
}

std::optional<TraceTimeline::Hit> TraceTimeline::eventAt(QPoint point) const
{
    const int r = rowAt(point.y());
    if (r < 0 || point.x() < plotArea().left())
        return std::nullopt;
    const Row &row = m_rows[std::size_t(r)];
    if (row.lane < 0)
        return std::nullopt;
    const double us = usAt(point.x()) - m_offsets[std::size_t(row.trace)];
    const double slack = 2.0 * (m_to - m_from) / plotArea().width(); // two pixels
    const std::int64_t index = m_traces[row.trace].trace.eventAt(row.lane, row.depth, us, slack);
    if (index < 0)
        return std::nullopt;
    return Hit{row.trace, std::uint32_t(index)};
}

std::optional<QPoint> TraceTimeline::pointOf(const Hit &hit) const
{
    if (hit.trace < 0 || hit.trace >= m_traces.size())
        return std::nullopt;
    const TraceEvent &event = m_traces[hit.trace].trace.events()[hit.event];
    const double offset = m_offsets[std::size_t(hit.trace)];
    for (const Row &row : m_rows)
        if (row.trace == hit.trace && row.lane == event.lane && row.depth == event.depth) {
            const double x = xOf(event.startUs + offset + event.durationUs / 2);
            if (x < plotArea().left() || x > plotArea().right())
                return std::nullopt;
            return QPoint(int(std::lround(x)), row.top + row.height / 2);
        }
    return std::nullopt;
}

QString TraceTimeline::describe(const Hit &hit) const
{
    const ChromeTrace &trace = m_traces[hit.trace].trace;
    const TraceEvent &event = trace.events()[hit.event];
    QString text = trace.name(event.name) + QLatin1Char('\n')
        + tr("%1 (self %2)").arg(formatMicros(event.durationUs), formatMicros(event.selfUs));
    const QString category = trace.name(event.category);
    if (!category.isEmpty())
        text += QStringLiteral(" · ") + category;
    text += QLatin1Char('\n') + m_traces[hit.trace].label + QStringLiteral(" · ")
        + trace.lanes()[std::size_t(event.lane)].label() + QStringLiteral(" · ")
        + tr("starts at %1").arg(formatMicros(event.startUs + m_offsets[std::size_t(hit.trace)]));
    QString args = trace.args(event);
    if (!args.isEmpty()) {
        if (args.size() > 600)
            args = args.left(600) + QStringLiteral("…");
        text += QLatin1Char('\n') + args;
    }
    return text;
}

void TraceTimeline::wheelEvent(QWheelEvent *event)
{
    const double at = usAt(event->position().x());
    const double factor = std::pow(0.8, event->angleDelta().y() / 120.0);
    setTimeRange(at - (at - m_from) * factor, at + (m_to - at) * factor);
    event->accept();
}

void TraceTimeline::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        m_dragStart = event->position().toPoint();
        m_dragFrom = m_from;
        m_dragTo = m_to;
    }
}

void TraceTimeline::mouseMoveEvent(QMouseEvent *event)
{
    if (m_dragStart) {
        const double dx =
            double(event->position().x() - m_dragStart->x()) / plotArea().width() * (m_dragTo - m_dragFrom);
        setTimeRange(m_dragFrom - dx, m_dragTo - dx);
        return;
    }
    const auto hit = eventAt(event->position().toPoint());
    const QString description = hit ? describe(*hit) : QString();
    if (hit)
        QToolTip::showText(event->globalPosition().toPoint(), description, this);
    else
        QToolTip::hideText();
    emit hovered(description);
}

void TraceTimeline::mouseReleaseEvent(QMouseEvent *) { m_dragStart.reset(); }

void TraceTimeline::mouseDoubleClickEvent(QMouseEvent *) { fitAll(); }

void TraceTimeline::leaveEvent(QEvent *)
{
    QToolTip::hideText();
    emit hovered(QString());
}

} // namespace trainyard
