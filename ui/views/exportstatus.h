// How an export went, in a label of the view it came from: "Exported PATH" in green, or the error in red.
#pragma once

#include <QLabel>
#include <QString>

namespace trainyard {

inline void showExportResult(QLabel *label, const QString &path, const QString &error)
{
    label->setText(error.isEmpty() ? QObject::tr("Exported %1").arg(path)
                                   : QObject::tr("Export failed: %1").arg(error));
    label->setStyleSheet(error.isEmpty() ? QStringLiteral("color: #2e7d32") : QStringLiteral("color: #c62828"));
    label->show();
}

// Sets a label up for showExportResult: hidden until the first export, its text selectable (a path to copy).
inline void setUpExportStatus(QLabel *label)
{
    label->setObjectName(QStringLiteral("exportStatus"));
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setWordWrap(true);
    label->hide();
}

} // namespace trainyard
