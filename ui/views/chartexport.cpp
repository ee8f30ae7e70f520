#include "views/chartexport.h"

#include "views/offuithread.h"

#include <QBuffer>
#include <QPainter>
#include <QSvgGenerator>

#include <algorithm>

namespace trainyard {

QImage renderChartImage(const ChartRender &render, const QSize &size, int widgetWidth)
{
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPainter painter(&image);
    const double scale = double(size.width()) / std::max(1, widgetWidth);
    painter.scale(scale, scale);
    render(painter, QRect(QPoint(0, 0), QSize(int(size.width() / scale), int(size.height() / scale))));
    return image;
}

QByteArray renderChartSvg(const ChartRender &render, const QSize &size, const QString &title)
{
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    QSvgGenerator generator;
    generator.setOutputDevice(&buffer);
    generator.setSize(size);
    generator.setViewBox(QRect(QPoint(0, 0), size));
    generator.setTitle(title);
    {
        QPainter painter(&generator);
        render(painter, QRect(QPoint(0, 0), size));
    }
    return buffer.data();
}

QFuture<QString> exportChartPng(QObject *owner, const QString &path, const QImage &image,
                                std::function<void(const QString &error)> done)
{
    return exportOffUiThread(
        owner, path,
        [image] {
            QByteArray png;
            QBuffer buffer(&png);
            buffer.open(QIODevice::WriteOnly);
            image.save(&buffer, "PNG");
            return png;
        },
        std::move(done));
}

QFuture<QString> exportChartBytes(QObject *owner, const QString &path, const QByteArray &bytes,
                                  std::function<void(const QString &error)> done)
{
    return exportOffUiThread(
        owner, path, [bytes] { return bytes; }, std::move(done));
}

} // namespace trainyard
