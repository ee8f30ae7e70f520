// ParallelCoordinates: a sweep's finished runs as lines across one vertical axis per varied param and a last one for
// the metric (issue 20). Each line is coloured by the run's metric (viridis, worst to best). Dragging along an axis
// brushes a range on it: the runs inside every brushed range stay coloured, the others turn faint, and brushChanged
// names them (the Sweeps tab selects them in the runs table). A click on an axis clears its brush; dragging an axis
// by its title moves it. Log axes for params spanning two decades, a slot per value for a choice. Exports PNG, SVG
// and CSV. The faint layer is drawn once into an image, so brushing redraws only the runs inside the brushes, and the
// widget rasterizes its lines itself (QPainter's general path is 25 times slower at 10,000 runs).
#pragma once

#include "store/runrecord.h"
#include "views/sweepscatter.h"

#include <QFuture>
#include <QImage>
#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <optional>
#include <vector>

class QPainter;

namespace trainyard {

class ParallelCoordinates : public QWidget {
    Q_OBJECT
public:
    explicit ParallelCoordinates(QWidget *parent = nullptr);

    // The finished runs with a finite metric are drawn; `params` are the axes before the metric's, in order.
    void setData(const QList<RunRecord> &runs, const QStringList &params, const QString &metricKey,
                 const QString &statistic, bool lowerIsBetter);
    QStringList axisTitles() const; // in drawing order, the metric's last
    const SweepScatter::Axis &axis(int index) const { return m_axes[std::size_t(m_order[std::size_t(index)])].axis; }
    int axisCount() const { return int(m_order.size()); }
    QStringList runIds() const; // the runs drawn, in data order

    // A brush on an axis (by drawing position), in the axis's own units: numbers (log10 on a log axis: give the value,
    // not its log) or, for a choice, a range of slots holding the values inside it. nullopt clears it.
    void setBrush(int axisIndex, std::optional<std::pair<double, double>> range);
    void clearBrushes();
    QStringList brushedRunIds() const; // every run when nothing is brushed
    bool hasBrushes() const;
    // Moves the axis at `from` to position `to` (as dragging its title does).
    void moveAxis(int from, int to);
    // Where an axis is drawn (its x) and where a value of it is (its y), at the widget's size.
    double axisX(int index) const;
    double valueY(int index, double value) const;
    QColor colorFor(double metric) const;
    QString emptyText() const { return m_empty; }

    enum class ExportFormat { Png, Svg, Csv };
    QFuture<QString> exportTo(const QString &path, ExportFormat format);
    QImage toImage(const QSize &size) const;
    QByteArray toSvg(const QSize &size) const;
    QByteArray toCsv() const;
    void render(QPainter &painter, const QRect &rect, bool useCache = false) const;

signals:
    void brushChanged(const QStringList &runIds); // after a brush is drawn, moved or cleared
    void exportFinished(const QString &path, const QString &error);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;

private:
    struct AxisData {
        SweepScatter::Axis axis;
        std::vector<float> t;                         // per run: where its value sits, 0 (bottom) to 1 (top)
        std::optional<std::pair<float, float>> brush; // in t
    };
    QRect plotArea(const QRect &rect) const;
    double xOf(int index, const QRect &plot) const;
    std::vector<char> passing() const;
    // Every run's line (or those in the brushes), coloured by its metric or faint: into `image`'s pixels when given
    // (the widget), else through `painter` (exports).
    void drawLines(QPainter *painter, QImage *image, const QRect &plot, bool faintOnly, bool brushedOnly) const;
    int axisNear(double x) const; // -1 when none is within reach
    void invalidateCache();

    std::vector<AxisData> m_axes; // the params' then the metric's
    std::vector<int> m_order;     // drawing order: indexes into m_axes
    QStringList m_ids, m_names;
    std::vector<double> m_metric;
    std::vector<QStringList> m_values; // per run: each axis's value as text (for CSV)
    bool m_lowerIsBetter = true;
    double m_metricLo = 0, m_metricHi = 1;
    QString m_empty;
    mutable QImage m_faintLayer; // every line, faint, at the widget's size
    mutable QImage m_lineLayer;  // the coloured lines of the frame being drawn (reused)
    // Mouse: a brush being drawn on an axis, or an axis being moved by its title.
    int m_dragAxis = -1;
    bool m_movingAxis = false;
    double m_dragFrom = 0;
    bool m_dragged = false;
};

} // namespace trainyard
