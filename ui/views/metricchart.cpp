// Appends go straight to the series (no reset), and the axes grow to fit. NaN points are skipped.
#include "views/metricchart.h"

#include <QChart>
#include <QChartView>
#include <QLineSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include <cmath>

namespace trainyard {

MetricChart::MetricChart(const QString &key, QWidget *parent)
    : QWidget(parent), m_key(key), m_chart(new QChart), m_series(new QLineSeries), m_xAxis(new QValueAxis),
      m_yAxis(new QValueAxis)
{
    m_chart->setTitle(key);
    m_chart->legend()->hide();
    m_chart->addSeries(m_series);
    m_xAxis->setTitleText(tr("step"));
    m_xAxis->setLabelFormat(QStringLiteral("%g"));
    m_yAxis->setLabelFormat(QStringLiteral("%.4g"));
    m_chart->addAxis(m_xAxis, Qt::AlignBottom);
    m_chart->addAxis(m_yAxis, Qt::AlignLeft);
    m_series->attachAxis(m_xAxis);
    m_series->attachAxis(m_yAxis);
    m_series->setUseOpenGL(false);
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_view = new QChartView(m_chart, this); // takes ownership of the chart
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumSize(320, 220);
    auto layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view);
    setObjectName(QStringLiteral("chart:") + key);
}

void MetricChart::appendPoints(const QList<MetricPoint> &points)
{
    QList<QPointF> added;
    added.reserve(points.size());
    for (const MetricPoint &point : points) {
        if (!std::isfinite(point.value))
            continue;
        const double x = double(point.step);
        added << QPointF(x, point.value);
        if (m_empty) {
            m_minX = m_maxX = x;
            m_minY = m_maxY = point.value;
            m_empty = false;
        }
        m_minX = std::min(m_minX, x);
        m_maxX = std::max(m_maxX, x);
        m_minY = std::min(m_minY, point.value);
        m_maxY = std::max(m_maxY, point.value);
    }
    if (added.isEmpty())
        return;
    m_series->append(added);
    const double padY = m_maxY > m_minY ? (m_maxY - m_minY) * 0.05 : std::max(1e-9, std::abs(m_maxY) * 0.05 + 1e-9);
    m_xAxis->setRange(m_minX, m_maxX > m_minX ? m_maxX : m_minX + 1);
    m_yAxis->setRange(m_minY - padY, m_maxY + padY);
}

int MetricChart::pointCount() const { return int(m_series->count()); }

} // namespace trainyard
