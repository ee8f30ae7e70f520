// TraceTimeline: the Traces tab's timeline of one or more ranks' profiler traces. One block per trace (rank), one
// lane per thread or CUDA stream within it, one row per nesting depth; wheel zooms around the pointer, dragging pans
// and a double click shows everything, as on the metric charts; hovering an event shows its name, duration, self
// time and args. Several ranks are aligned at the start of the first step all of them profiled (ProfilerStep#N), so
// that the same step sits side by side and a straggler's longer operators show.
//
// Drawing is bounded by pixels, not events: per row, events narrower than a pixel are merged into one pixel column
// and the next event looked up past it (binary search), so a 500,000-event trace pans as fast as a small one.
#pragma once

#include "perf/chrometrace.h"

#include <QList>
#include <QPoint>
#include <QWidget>

#include <optional>

namespace trainyard {

struct TimelineTrace {
    QString label; // "rank 0"
    ChromeTrace trace;
};

class TraceTimeline : public QWidget {
    Q_OBJECT
public:
    explicit TraceTimeline(QWidget *parent = nullptr);

    void setTraces(QList<TimelineTrace> traces);
    const QList<TimelineTrace> &traces() const { return m_traces; }
    // The step all traces are aligned at, or nullopt when they are shown from their own first events.
    std::optional<std::int64_t> alignedStep() const { return m_alignedStep; }

    // The time shown, in microseconds on the aligned axis (0: the aligned step's start).
    void setTimeRange(double from, double to);
    double timeFrom() const { return m_from; }
    double timeTo() const { return m_to; }
    void fitAll();

    // "rank 0 · CPU functions · thread 1", one per lane, in drawing order (for tests and accessibility).
    QStringList laneLabels() const;

    struct Hit {
        int trace = -1;
        std::uint32_t event = 0;
    };
    std::optional<Hit> eventAt(QPoint point) const;
    QString describe(const Hit &hit) const; // the hover text
    // The widget point at the middle of an event's bar (for tests), or nullopt when it is not in view.
    std::optional<QPoint> pointOf(const Hit &hit) const;

    QSize sizeHint() const override;

signals:
    void timeRangeChanged(double from, double to);
    void hovered(const QString &description); // empty when the pointer leaves the events

protected:
    void paintEvent(QPaintEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void leaveEvent(QEvent *event) override;

private:
    struct Row {
        int trace = 0;
        int lane = -1; // -1: the trace's header row
        int depth = 0;
        int top = 0;
        int height = 0;
    };
    void layoutRows();
    QRect plotArea() const;
    double xOf(double us) const;
    double usAt(double x) const;
    int rowAt(int y) const;
    QColor ink(double share) const;
    void paintRow(QPainter &painter, const Row &row, const QRect &area) const;

    QList<TimelineTrace> m_traces;
    std::vector<double> m_offsets; // per trace: added to its events' times to place them on the aligned axis
    std::optional<std::int64_t> m_alignedStep;
    std::vector<Row> m_rows;
    double m_from = 0, m_to = 1;
    double m_minTime = 0, m_maxTime = 1;
    std::optional<QPoint> m_dragStart;
    double m_dragFrom = 0, m_dragTo = 0;
};

} // namespace trainyard
