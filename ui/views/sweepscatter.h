// SweepScatter: a sweep's finished runs as points (issue 20): the metric against one param, or two params with the
// metric as each point's colour. A numeric param whose values are all positive and span two decades or more gets a log
// axis; a choice param gets one slot per value. Hover names the run and its values; a click opens it. Exports PNG,
// SVG and CSV (the points drawn). Drawn with the charts' inks, so it follows a light or dark desktop.
#pragma once

#include "store/runrecord.h"

#include <QByteArray>
#include <QColor>
#include <QFuture>
#include <QImage>
#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <optional>

class QPainter;

namespace trainyard {

class SweepScatter : public QWidget {
    Q_OBJECT
public:
    explicit SweepScatter(QWidget *parent = nullptr);

    struct Point {
        QString runId;
        QString name;
        QString x; // the x param's value as the run has it
        QString y; // the y param's value, or the metric's as text
        double metric = 0;
    };
    // One axis: a param (or the metric), numeric (linear or log) or categorical.
    struct Axis {
        QString title;
        bool categorical = false;
        bool log = false;
        double lo = 0, hi = 1;  // numeric: the range drawn (log10 of it on a log axis)
        QStringList categories; // categorical: in order
    };

    // The runs (finished ones with a finite metric are drawn), the metric's key and direction, the param on x, and the
    // param on y (empty: the metric on y, coloured by it too).
    void setData(const QList<RunRecord> &runs, const QString &metricKey, const QString &statistic, bool lowerIsBetter,
                 const QString &xParam, const QString &yParam = {});
    const QList<Point> &points() const { return m_points; }
    const Axis &xAxis() const { return m_x; }
    const Axis &yAxis() const { return m_y; }
    // Where a run's point is drawn at the widget's size (nullopt when it is not drawn).
    std::optional<QPointF> pointPosition(const QString &runId) const;
    // The colour of a metric value (viridis from the worst value to the best).
    QColor colorFor(double metric) const;
    // The run under a pixel (within a few pixels), and its hover text.
    std::optional<QString> runAt(const QPoint &pixel) const;
    QString hoverText(const QString &runId) const;
    QString emptyText() const; // what is drawn instead of points when there are none ("" otherwise)

    enum class ExportFormat { Png, Svg, Csv };
    QFuture<QString> exportTo(const QString &path, ExportFormat format);
    QImage toImage(const QSize &size) const;
    QByteArray toSvg(const QSize &size) const;
    QByteArray toCsv() const;
    void render(QPainter &painter, const QRect &rect) const;

signals:
    void runActivated(const QString &runId); // a point was clicked
    void exportFinished(const QString &path, const QString &error);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;

private:
    QRect plotArea(const QRect &rect) const;
    double position(const Axis &axis, const QString &value, double span, std::size_t index) const;
    QPointF place(const Point &point, std::size_t index, const QRect &plot) const;

    QList<Point> m_points;
    Axis m_x, m_y;
    QString m_metricKey;
    bool m_yIsMetric = true; // no y param: the metric is on y
    bool m_lowerIsBetter = true;
    double m_metricLo = 0, m_metricHi = 1;
    QString m_empty;
    QString m_hovered;
};

// Viridis (matplotlib's, at five stops): t = 0 dark purple (the worst value), t = 1 yellow (the best).
QColor viridisColor(double t);

// The axis that draws these values: categorical unless every one reads as a number; log when all are positive and span
// two decades or more. Exposed for tests.
SweepScatter::Axis scatterAxisFor(const QString &title, const QStringList &values);

} // namespace trainyard
