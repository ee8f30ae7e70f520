// The freedesktop notification protocol (Desktop Notifications Specification 1.2): Notify(app_name, replaces_id,
// app_icon, summary, body, actions, hints, expire_timeout) -> id, and the ActionInvoked(id, action_key) signal.
#include "desktopnotifier.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QVariantMap>

namespace trainyard {

namespace {

QDBusMessage notifyMessage(const QString &title, const QString &body, bool clickable)
{
    QDBusMessage message =
        QDBusMessage::createMethodCall(QLatin1String(DesktopNotifier::kService), QLatin1String(DesktopNotifier::kPath),
                                       QLatin1String(DesktopNotifier::kService), QStringLiteral("Notify"));
    const QStringList actions =
        clickable ? QStringList{QStringLiteral("default"), QObject::tr("Open run")} : QStringList();
    const QVariantMap hints{{QStringLiteral("desktop-entry"), QStringLiteral("trainyard")}};
    message << QStringLiteral("Trainyard") << uint(0) << QStringLiteral("trainyard") << title << body << actions
            << hints << int(-1);
    return message;
}

// Why no service will take a notification now, or empty when the session bus has one.
QString unavailableBecause()
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected())
        return QObject::tr("no D-Bus session bus (%1)").arg(bus.lastError().message());
    if (!bus.interface()->isServiceRegistered(QLatin1String(DesktopNotifier::kService)))
        return QObject::tr("no notification service (%1) on the session bus")
            .arg(QLatin1String(DesktopNotifier::kService));
    return {};
}

} // namespace

DesktopNotifier::DesktopNotifier(QObject *parent) : QObject(parent)
{
    QDBusConnection::sessionBus().connect(QLatin1String(kService), QLatin1String(kPath), QLatin1String(kService),
                                          QStringLiteral("ActionInvoked"), this, SLOT(onActionInvoked(uint, QString)));
}

void DesktopNotifier::notify(const QString &title, const QString &body, const QString &runId)
{
    if (const QString why = unavailableBecause(); !why.isEmpty()) {
        emit undelivered(title, body, runId, why);
        return;
    }
    const QDBusPendingCall call = QDBusConnection::sessionBus().asyncCall(notifyMessage(title, body, true));
    auto watcher = new QDBusPendingCallWatcher(call, this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, [this, watcher, title, body, runId] {
        watcher->deleteLater();
        const QDBusPendingReply<uint> reply = *watcher;
        if (reply.isError()) {
            emit undelivered(title, body, runId, reply.error().message());
            return;
        }
        m_runs.insert(reply.value(), runId);
        emit delivered(runId);
    });
}

Result<void> DesktopNotifier::notifyAndWait(const QString &title, const QString &body, int timeoutMs)
{
    if (const QString why = unavailableBecause(); !why.isEmpty())
        return fail(why);
    const QDBusMessage reply =
        QDBusConnection::sessionBus().call(notifyMessage(title, body, false), QDBus::Block, timeoutMs);
    if (reply.type() == QDBusMessage::ErrorMessage)
        return fail(reply.errorMessage());
    return {};
}

void DesktopNotifier::onActionInvoked(uint id, const QString &actionKey)
{
    // Every application's notifications share the signal: only ours (known ids) are acted on.
    const auto run = m_runs.constFind(id);
    if (run != m_runs.constEnd() && actionKey == QLatin1String("default"))
        emit activated(*run);
}

} // namespace trainyard
