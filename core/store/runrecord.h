// Plain data for runs as stored in the workspace: status, record, and what a new run needs.
#pragma once

#include <QDateTime>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <optional>

namespace trainyard {

// queued -> starting -> running -> {succeeded, failed, canceled, lost}; running -> restarting -> running.
enum class RunStatus { Queued, Starting, Running, Restarting, Succeeded, Failed, Canceled, Lost };

QString toString(RunStatus status);
std::optional<RunStatus> runStatusFromString(const QString &text);
bool isTerminal(RunStatus status);
bool isActive(RunStatus status); // starting, running or restarting: time is being spent

struct RunRecord {
    QString id;
    QString name;
    RunStatus status = RunStatus::Queued;
    QDateTime createdAt;
    QDateTime startedAt; // invalid until the run started
    QDateTime endedAt;   // invalid until the run ended
    QStringList command;
    QString cwd;
    QString host;
    QString backend;
    QString exitSummary; // JSON object text, empty until the run ended
    QStringList tags;    // sorted

    // Seconds from start to end (or to `now` while active); nullopt before the run started.
    std::optional<qint64> durationSeconds(const QDateTime &now) const;
    bool operator==(const RunRecord &) const = default;
};

struct NewRun {
    QString name;
    QStringList command;
    QString cwd;
    QString host;
    QString backend = QStringLiteral("local");
    QStringList tags;
    QList<QPair<QString, QString>> params;
    RunStatus initialStatus = RunStatus::Queued;
    QDateTime createdAt; // now when invalid
};

// A new run id: creation time to the second in UTC (so ids sort by time) and 6 random hex digits,
// e.g. 20261124-175012-a3f91c. The writer draws again on the rare collision.
QString makeRunId(const QDateTime &createdAt);

} // namespace trainyard
