// Run notifications: state changes seen in the run list, turned into what a user wants to hear about.
#include "models/runnotifications.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>

namespace trainyard {

namespace {
constexpr auto kFailedKey = "notifications/failed";
constexpr auto kHungKey = "notifications/hung";
constexpr auto kFinishedKey = "notifications/finishedLong";
constexpr auto kAlertsKey = "notifications/alerts";
constexpr auto kLongRunKey = "notifications/longRunMinutes";

QString failureLine(const RunRecord &run)
{
    const QJsonObject summary = QJsonDocument::fromJson(run.exitSummary.toUtf8()).object();
    const QJsonObject failure = summary.value(QStringLiteral("first_failure")).toObject();
    if (!failure.isEmpty())
        return QObject::tr("rank %1, %2: %3")
            .arg(failure.value(QStringLiteral("rank")).toInt())
            .arg(failure.value(QStringLiteral("cause")).toString(),
                 failure.value(QStringLiteral("message")).toString());
    if (const QString lost = summary.value(QStringLiteral("lost_because")).toString(); !lost.isEmpty())
        return QObject::tr("lost: %1").arg(lost);
    return QObject::tr("%1, no failure recorded").arg(toString(run.status));
}

bool isHang(const RunRecord &run)
{
    const QJsonObject summary = QJsonDocument::fromJson(run.exitSummary.toUtf8()).object();
    return summary.value(QStringLiteral("first_failure")).toObject().value(QStringLiteral("cause")).toString()
        == QLatin1String("hang");
}
} // namespace

NotificationSettings NotificationSettings::load()
{
    const QSettings settings;
    NotificationSettings loaded;
    loaded.failed = settings.value(QLatin1String(kFailedKey), loaded.failed).toBool();
    loaded.hung = settings.value(QLatin1String(kHungKey), loaded.hung).toBool();
    loaded.finishedLong = settings.value(QLatin1String(kFinishedKey), loaded.finishedLong).toBool();
    loaded.alerts = settings.value(QLatin1String(kAlertsKey), loaded.alerts).toBool();
    loaded.longRunMinutes = std::max(1, settings.value(QLatin1String(kLongRunKey), loaded.longRunMinutes).toInt());
    return loaded;
}

void NotificationSettings::save() const
{
    QSettings settings;
    settings.setValue(QLatin1String(kFailedKey), failed);
    settings.setValue(QLatin1String(kHungKey), hung);
    settings.setValue(QLatin1String(kFinishedKey), finishedLong);
    settings.setValue(QLatin1String(kAlertsKey), alerts);
    settings.setValue(QLatin1String(kLongRunKey), longRunMinutes);
}

QList<RunNotification> RunNotificationDetector::update(const RunListChange &change,
                                                       const NotificationSettings &settings)
{
    QList<RunNotification> notifications;
    const bool seeding = !m_seeded;
    for (const RunRecord &run : change.upserted) {
        const auto known = m_known.constFind(run.id);
        const Known now{run.status, run.alertCount()};
        // Only what changed while this window watched: a run first seen already ended tells nothing new, unless it was
        // created since (a run that failed within one read of starting); an import keeps its old creation time.
        const bool watched =
            !seeding && (known != m_known.constEnd() || !isTerminal(run.status) || run.createdAt >= m_seededAt);
        const Known before = known != m_known.constEnd() ? *known : Known{};
        m_known.insert(run.id, now);
        if (!watched)
            continue;
        if (!isTerminal(before.status) && isTerminal(run.status)) {
            const bool failed = run.status == RunStatus::Failed || run.status == RunStatus::Lost;
            if (failed && isHang(run) && settings.hung) {
                notifications << RunNotification{RunNotification::Kind::Hung, run.id,
                                                 QObject::tr("Run hung: %1").arg(run.name), failureLine(run)};
            } else if (failed && !isHang(run) && settings.failed) {
                notifications << RunNotification{RunNotification::Kind::Failed, run.id,
                                                 QObject::tr("Run failed: %1").arg(run.name), failureLine(run)};
            } else if (!failed && settings.finishedLong) {
                const auto seconds = run.durationSeconds(run.endedAt);
                if (seconds && *seconds >= qint64(settings.longRunMinutes) * 60)
                    notifications << RunNotification{
                        RunNotification::Kind::FinishedLong, run.id, QObject::tr("Run finished: %1").arg(run.name),
                        QObject::tr("%1 after %2 min").arg(toString(run.status)).arg(*seconds / 60)};
            }
        }
        if (settings.alerts && now.alerts > before.alerts) {
            const QJsonArray alerts = QJsonDocument::fromJson(run.alerts.toUtf8()).array();
            for (qsizetype i = before.alerts; i < alerts.size(); ++i)
                notifications << RunNotification{RunNotification::Kind::Alert, run.id,
                                                 QObject::tr("Alert: %1").arg(run.name),
                                                 alerts.at(i).toObject().value(QStringLiteral("message")).toString()};
        }
    }
    for (const QString &removed : change.removed)
        m_known.remove(removed);
    if (change.complete && !m_seeded) {
        m_seeded = true;
        m_seededAt = QDateTime::currentDateTimeUtc();
    }
    return notifications;
}

} // namespace trainyard
