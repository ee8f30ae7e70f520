// MetricChart: a live line chart of one metric key against step (QtCharts), extended in place as points arrive.
#pragma once

#include "store/metricqueries.h"

#include <QWidget>

class QChart;
class QChartView;
class QLineSeries;
class QValueAxis;

namespace trainyard {

class MetricChart : public QWidget {
    Q_OBJECT
public:
    explicit MetricChart(const QString &key, QWidget *parent = nullptr);
    void appendPoints(const QList<MetricPoint> &points);
    int pointCount() const;
    const QString &key() const { return m_key; }

private:
    QString m_key;
    QChart *m_chart;
    QChartView *m_view;
    QLineSeries *m_series;
    QValueAxis *m_xAxis;
    QValueAxis *m_yAxis;
    double m_minX = 0, m_maxX = 0, m_minY = 0, m_maxY = 0;
    bool m_empty = true;
};

} // namespace trainyard
