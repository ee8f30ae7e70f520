// EnvelopeChart: one metric of many runs, drawn from envelopes (at most a bucket per pixel), so a chart
// of twenty runs of a million points each draws as fast as one of a few thousand. Zoom (wheel), pan
// (drag), reset (double-click), a hover line with every run's value, EMA smoothing with the raw curve
// faint behind, log y, and group lines (mean) with a min/max band. It draws what it is given; the
// compare view loads envelopes for the range it shows.
#pragma once

#include "result.h"
#include "store/metricchunk.h"
#include "store/metricenvelope.h"

#include <QByteArray>
#include <QColor>
#include <QPalette>
#include <QFontMetrics>
#include <QFuture>
#include <QImage>
#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <optional>

class QPainter;

namespace trainyard {

enum class XAxisMode { Step, WallTime, RelativeTime };

struct ChartSeries {
    QString id;    // the run id
    QString label; // the run's name
    QColor color;
    QString group;            // the run's group when runs are grouped
    std::int64_t startMs = 0; // the run's start, for time since start
    MetricEnvelope envelope;  // what is drawn
    bool isGroup = false;     // a group's mean line with its min/max band (made by the chart)
};

class EnvelopeChart : public QWidget {
    Q_OBJECT
public:
    explicit EnvelopeChart(const QString &title, QWidget *parent = nullptr);

    const QString &title() const { return m_title; }
    void setSeries(const QList<ChartSeries> &series);
    const QList<ChartSeries> &series() const { return m_series; }
    // New data for one series (a re-query at a new range, or a longer series while a run is live).
    void setEnvelope(const QString &id, MetricEnvelope envelope);
    // Points that arrived after the envelope's end, as an envelope of the new steps only: appended.
    void appendTail(const QString &id, const MetricEnvelope &tail);

    void setXAxisMode(XAxisMode mode);
    XAxisMode xAxisMode() const { return m_mode; }
    void setSmoothing(double weight); // 0 (off) to 0.999, as TensorBoard's slider
    void setLogY(bool logY);
    void setGrouped(bool grouped); // one line per group (mean) with a min/max band
    void setPinned(bool pinned);
    bool isPinned() const { return m_pinned; }
    // Steps marked with a dashed line across the plot (a run's checkpoints), drawn on the step axis only.
    void setStepMarkers(const QList<double> &steps);
    const QList<double> &stepMarkers() const { return m_stepMarkers; }

    // The visible x range, in steps, ms since the epoch or ms since start (by mode).
    void setXRange(double x0, double x1);
    // As the user's wheel or drag does: stops following the data and reports the new range.
    void zoomTo(double x0, double x1) { userSetRange(x0, x1); }
    std::pair<double, double> xRange() const { return {m_x0, m_x1}; }
    // Follows the data (every series whole) until the user zooms or pans.
    void fitAll();
    bool followsData() const { return m_followData; }
    // The x extent of every series' data.
    std::optional<std::pair<double, double>> dataExtent() const;
    int plotWidth() const;
    // A bucket's x (its first and last point) in the current mode; nullopt without timestamps.
    std::optional<std::pair<double, double>> bucketX(const ChartSeries &series, const EnvelopeBucket &bucket) const;

    // Hover: the line at x and each series' value there (as shown in the hover box).
    void setHoverX(std::optional<double> x);
    QStringList hoverLines() const;

    enum class ExportFormat { Png, Svg, Csv };
    // Writes the chart (PNG at twice its size, SVG) or its data (CSV) to `path` off the UI thread, whole or not at all;
    // exportFinished says how it went. Returns the error message's future (empty when written).
    QFuture<QString> exportTo(const QString &path, ExportFormat format);
    // The axes' tick labels as the chart draws them at its size (round ticks, none alike), and what it says instead
    // of a curve when it has no point in its range ("No points yet", "No points in this range"; empty otherwise).
    QStringList yTickLabels() const;
    QStringList xTickLabels() const;
    QString emptyText() const;
    QImage toImage(const QSize &size) const;
    QByteArray toSvg(const QSize &size) const;
    QByteArray toCsv() const; // the buckets drawn, per series, with their step intervals

    // Paints the chart into any device (the widget, an image, an SVG generator).
    void render(QPainter &painter, const QRect &rect) const;
    // A colour `share` of the way from the palette's background to its text (the grid, the axes, the labels).
    QColor ink(double share) const;

signals:
    void xRangeChanged(double x0, double x1); // the user zoomed or panned (or reset)
    void pinToggled(bool pinned);
    void exportRequested();                                         // the user asked for the chart's menu
    void exportFinished(const QString &path, const QString &error); // error empty: written

protected:
    void paintEvent(QPaintEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void leaveEvent(QEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;

private:
    struct Plot; // the geometry of one render
    // One series' curve (and a group's band) in the plot: thread-safe, so that many are drawn in parallel.
    void drawSeries(QPainter &painter, const Plot &plot, const ChartSeries &series) const;
    struct Tick {
        double value;
        QString label;
    };
    QList<Tick> yTicks(const Plot &plot) const;
    QList<Tick> xTicks(const Plot &plot) const;
    QString emptyMessage() const;
    // The parts of render(), in drawing order.
    void drawTitleAndLegend(QPainter &painter, const QRect &rect, const QList<ChartSeries> &drawn,
                            const QFontMetrics &metrics) const;
    void drawAxes(QPainter &painter, const QRect &rect, const Plot &plot) const;
    void drawCurves(QPainter &painter, const Plot &plot, const QList<ChartSeries> &drawn) const;
    void drawHover(QPainter &painter, const Plot &plot, const QList<ChartSeries> &drawn,
                   const QFontMetrics &metrics) const;
    static constexpr int kSeriesPerDrawingWorker = 16; // fewer series a worker are drawn on the UI thread
    static QRect plotArea(const QRect &rect);          // where the curves go, inside the axes and the legend
    Plot plotFor(const QRect &rect, const QList<ChartSeries> &drawn) const;
    QStringList hoverLinesFor(const QList<ChartSeries> &drawn) const;
    // The series, or the groups when grouped. Const, so iterating the (implicitly shared) result never
    // detaches it: a detach deep-copied every envelope, twice per frame.
    const QList<ChartSeries> drawnSeries() const;
    std::optional<double> valueAt(const ChartSeries &series, double x) const;
    // The buckets whose x range meets the visible range.
    std::pair<std::vector<EnvelopeBucket>::const_iterator, std::vector<EnvelopeBucket>::const_iterator>
    visibleBuckets(const ChartSeries &series) const;
    void userSetRange(double x0, double x1);

    QString m_title;
    QList<ChartSeries> m_series;
    XAxisMode m_mode = XAxisMode::Step;
    QList<double> m_stepMarkers;
    double m_smoothing = 0;
    bool m_logY = false;
    bool m_grouped = false;
    bool m_pinned = false;
    bool m_followData = true;
    double m_x0 = 0, m_x1 = 1;
    std::optional<double> m_hoverX;
    std::optional<QPoint> m_dragStart;
    double m_dragX0 = 0, m_dragX1 = 0;
};

// Distinct colours for runs (and groups), the same in the runs table and in every chart: kSeriesColors of them (the
// compare view's cap), no two closer than kMinSeriesColorDistance in CIELAB, then again from the first.
inline constexpr int kSeriesColors = 200;
inline constexpr double kMinSeriesColorDistance = 10.0;
QColor seriesColor(int index);
// A colour `share` of the way from a palette's background (Base) to its text colour: the inks of the charts and the
// trace timeline, so that they follow a light or a dark desktop.
QColor paletteInk(const QPalette &palette, double share);
// A chart's legend on one line: the runs' labels that fit in `width` pixels (each elided to kLongestLegendLabel
// pixels), in order, and how many are left for a "+N more" (their values show on hover).
inline constexpr int kLongestLegendLabel = 180;
struct LegendLayout {
    QStringList labels;
    int hidden = 0;
};
LegendLayout layOutLegend(const QStringList &labels, const QFontMetrics &metrics, int width);
// CIE76 colour difference (Euclidean distance in CIELAB): about 2.3 is just noticeable, 10 plainly different.
double perceptualDistance(const QColor &first, const QColor &second);

} // namespace trainyard
