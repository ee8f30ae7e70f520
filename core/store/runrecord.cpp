// Run statuses and ids.
#include "store/runrecord.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>

#include <QJsonObject>
#include <QRandomGenerator>

#include <array>

namespace trainyard {

namespace {
struct StatusName {
    RunStatus status;
    const char *name;
};
constexpr std::array kStatusNames = {
    StatusName{RunStatus::Queued, "queued"},
    StatusName{RunStatus::Starting, "starting"},
    StatusName{RunStatus::Running, "running"},
    StatusName{RunStatus::Restarting, "restarting"},
    StatusName{RunStatus::Succeeded, "succeeded"},
    StatusName{RunStatus::Failed, "failed"},
    StatusName{RunStatus::Canceled, "canceled"},
    StatusName{RunStatus::Lost, "lost"},
    StatusName{RunStatus::StoppedEarly, "stopped-early"},
};
} // namespace

QString toString(RunStatus status)
{
    for (const StatusName &entry : kStatusNames) {
        if (entry.status == status)
            return QString::fromLatin1(entry.name);
    }
    return QStringLiteral("unknown");
}

std::optional<RunStatus> runStatusFromString(const QString &text)
{
    for (const StatusName &entry : kStatusNames) {
        if (text == QLatin1String(entry.name))
            return entry.status;
    }
    return std::nullopt;
}

bool isTerminal(RunStatus status)
{
    return status == RunStatus::Succeeded || status == RunStatus::Failed || status == RunStatus::Canceled
        || status == RunStatus::Lost || status == RunStatus::StoppedEarly;
}

bool isActive(RunStatus status)
{
    return status == RunStatus::Starting || status == RunStatus::Running || status == RunStatus::Restarting;
}

void RunTimeline::apply(RunStatus status, std::int64_t atMs)
{
    if (status == RunStatus::Queued && !queuedMs)
        queuedMs = atMs;
    if (status == RunStatus::Restarting)
        ++restarts;
    if (isActive(status)) {
        if (!firstActiveMs)
            firstActiveMs = atMs;
        if (!activeSinceMs)
            activeSinceMs = atMs; // running -> restarting -> running is one span
    } else if (activeSinceMs) {
        activeMs += std::max<std::int64_t>(0, atMs - *activeSinceMs);
        activeSinceMs.reset();
    }
}

std::optional<qint64> RunRecord::durationSeconds(const QDateTime &now) const
{
    if (!startedAt.isValid())
        return std::nullopt;
    const QDateTime end = endedAt.isValid() ? endedAt : (isTerminal(status) ? startedAt : now);
    return std::max<qint64>(0, startedAt.secsTo(end));
}

QString RunRecord::metricsIncomplete() const
{
    if (!exitSummary.contains(QLatin1String("\"incomplete\""))) // cheap: `ls` asks this of 100,000 runs
        return {};
    const QJsonObject incomplete = QJsonDocument::fromJson(exitSummary.toUtf8())
                                       .object()
                                       .value(QStringLiteral("ingest"))
                                       .toObject()
                                       .value(QStringLiteral("incomplete"))
                                       .toObject();
    if (incomplete.isEmpty())
        return {};
    return QStringLiteral("metrics incomplete: %1 of %2 points stored (%3)")
        .arg(incomplete.value(QStringLiteral("stored")).toInteger())
        .arg(incomplete.value(QStringLiteral("total")).toInteger())
        .arg(incomplete.value(QStringLiteral("reason")).toString());
}

QString makeRunId(const QDateTime &createdAt)
{
    const quint32 suffix = QRandomGenerator::global()->bounded(0x1000000u);
    return createdAt.toUTC().toString(QStringLiteral("yyyyMMdd-HHmmss-"))
        + QStringLiteral("%1").arg(suffix, 6, 16, QLatin1Char('0'));
}

bool RunMetricSummary::operator==(const RunMetricSummary &other) const
{
    const auto same = [](double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
    return count == other.count && same(last, other.last) && same(min, other.min) && same(max, other.max)
        && keyId == other.keyId;
}

QString supersededKeyName(const QString &key, int attempt)
{
    return QStringLiteral("superseded/attempt%1/%2").arg(attempt + 1).arg(key);
}

std::optional<std::pair<QString, int>> parseSupersededKeyName(const QString &name)
{
    static const QLatin1String prefix("superseded/attempt");
    if (!name.startsWith(prefix))
        return std::nullopt;
    const qsizetype slash = name.indexOf(QLatin1Char('/'), prefix.size());
    bool ok = false;
    const int attempt = name.mid(prefix.size(), slash - prefix.size()).toInt(&ok);
    if (slash < 0 || !ok || attempt < 1 || slash + 1 == name.size())
        return std::nullopt;
    return std::pair{name.mid(slash + 1), attempt - 1};
}

qsizetype RunRecord::alertCount() const
{
    return alerts.isEmpty() ? 0 : QJsonDocument::fromJson(alerts.toUtf8()).array().size();
}

} // namespace trainyard
