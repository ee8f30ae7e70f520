// What the charts (EnvelopeChart, SweepScatter, ParallelCoordinates) share to export themselves: their render
// function drawn into a white image at any size (scaled from the widget's), into an SVG document, and a PNG encoded
// off the UI thread and written whole or not at all (exportOffUiThread).
#pragma once

#include <QByteArray>
#include <QFuture>
#include <QImage>
#include <QSize>
#include <QString>

#include <functional>

class QObject;
class QPainter;
class QRect;

namespace trainyard {

using ChartRender = std::function<void(QPainter &painter, const QRect &rect)>;

// `render` drawn at `size` pixels, scaled from `widgetWidth` (the layout is the widget's, the pixels finer).
QImage renderChartImage(const ChartRender &render, const QSize &size, int widgetWidth);
QByteArray renderChartSvg(const ChartRender &render, const QSize &size, const QString &title);
// Writes `image` as PNG (encoded off the UI thread), or `bytes`, to `path`; `done` gets the error (empty: written).
QFuture<QString> exportChartPng(QObject *owner, const QString &path, const QImage &image,
                                std::function<void(const QString &error)> done);
QFuture<QString> exportChartBytes(QObject *owner, const QString &path, const QByteArray &bytes,
                                  std::function<void(const QString &error)> done);

} // namespace trainyard
