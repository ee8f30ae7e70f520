// Colours of text that says something went wrong, went well, or needs a look, chosen for the palette's background:
// the darker shade on a light desktop, the lighter on a dark one, each readable (contrast 4.5 or more) on its own.
#pragma once

#include <QColor>
#include <QGuiApplication>
#include <QPalette>
#include <QString>

namespace trainyard {

inline bool isDarkPalette(const QPalette &palette = QGuiApplication::palette())
{
    return palette.color(QPalette::Base).lightness() < 128;
}

inline QColor errorTextColor(const QPalette &palette = QGuiApplication::palette())
{
    return QColor::fromRgb(isDarkPalette(palette) ? 0xef9a9a : 0xc62828);
}

inline QColor goodTextColor(const QPalette &palette = QGuiApplication::palette())
{
    return QColor::fromRgb(isDarkPalette(palette) ? 0x81c784 : 0x2e7d32);
}

inline QColor warningTextColor(const QPalette &palette = QGuiApplication::palette())
{
    return QColor::fromRgb(isDarkPalette(palette) ? 0xffcc80 : 0x8a5a00);
}

// "color: #rrggbb" for a style sheet.
inline QString textColorStyle(const QColor &color) { return QStringLiteral("color: %1").arg(color.name()); }

} // namespace trainyard
