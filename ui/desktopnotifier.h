// DesktopNotifier: notifications through the desktop's freedesktop notification service
// (org.freedesktop.Notifications on the session bus, which GNOME, KDE, XFCE and dunst provide). A click on one
// ("default" action) is reported with the run it is about. Where no service answers, undelivered() hands the
// notification back so that the window can show it its own way (status bar, tray icon).
#pragma once

#include "result.h"

#include <QHash>
#include <QObject>
#include <QString>

class QDBusPendingCallWatcher;

namespace trainyard {

class DesktopNotifier : public QObject {
    Q_OBJECT
public:
    static constexpr const char *kService = "org.freedesktop.Notifications";
    static constexpr const char *kPath = "/org/freedesktop/Notifications";

    explicit DesktopNotifier(QObject *parent = nullptr);

    // Asynchronous: nothing waits on the bus. delivered() or undelivered() follows.
    void notify(const QString &title, const QString &body, const QString &runId);
    // For a command-line process that exits next: sends and waits (up to timeoutMs) for the service's answer.
    static Result<void> notifyAndWait(const QString &title, const QString &body, int timeoutMs = 3000);

signals:
    void delivered(const QString &runId);
    void undelivered(const QString &title, const QString &body, const QString &runId, const QString &why);
    // The user clicked the notification about this run.
    void activated(const QString &runId);

private slots:
    void onActionInvoked(uint id, const QString &actionKey);

private:
    QHash<uint, QString> m_runs; // notification id -> run id
};

} // namespace trainyard
