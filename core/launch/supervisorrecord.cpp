// supervisor.json and liveness checks through /proc.
#include "launch/supervisorrecord.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QSysInfo>

#include <cerrno>
#include <csignal>

#include <unistd.h>

namespace trainyard {

namespace {

constexpr auto kFileName = "/supervisor.json";

qint64 processStartTicks(pid_t pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray content = stat.readAll();
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const qsizetype close = content.lastIndexOf(')');
    if (close < 0)
        return -1;
    const QList<QByteArray> fields = content.mid(close + 2).split(' ');
    constexpr int kStartTimeIndexAfterName = 19; // field 22 overall
    return fields.size() > kStartTimeIndexAfterName ? fields[kStartTimeIndexAfterName].toLongLong() : -1;
}

} // namespace

QString thisHostName() { return QSysInfo::machineHostName(); }

QString cancelRequestPath(const QString &runDir) { return runDir + QStringLiteral("/cancel-requested"); }

SupervisorRecord SupervisorRecord::forThisProcess()
{
    SupervisorRecord record;
    record.pid = ::getpid();
    record.startTicks = processStartTicks(record.pid);
    record.host = thisHostName();
    return record;
}

Result<SupervisorRecord> SupervisorRecord::read(const QString &runDir)
{
    QFile file(runDir + QLatin1String(kFileName));
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read %1: %2").arg(file.fileName(), file.errorString()));
    QJsonParseError error;
    const QJsonObject object = QJsonDocument::fromJson(file.readAll(), &error).object();
    if (error.error != QJsonParseError::NoError)
        return fail(QStringLiteral("%1: %2").arg(file.fileName(), error.errorString()));
    SupervisorRecord record;
    record.pid = pid_t(object.value(QStringLiteral("pid")).toInteger());
    record.startTicks = object.value(QStringLiteral("start_ticks")).toInteger();
    record.host = object.value(QStringLiteral("host")).toString();
    record.processGroup = pid_t(object.value(QStringLiteral("process_group")).toInteger());
    return record;
}

Result<void> SupervisorRecord::write(const QString &runDir) const
{
    QSaveFile file(runDir + QLatin1String(kFileName));
    if (!file.open(QIODevice::WriteOnly))
        return fail(QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
    const QJsonObject object{{QStringLiteral("pid"), qint64(pid)},
                             {QStringLiteral("start_ticks"), startTicks},
                             {QStringLiteral("host"), host},
                             {QStringLiteral("process_group"), qint64(processGroup)}};
    file.write(QJsonDocument(object).toJson());
    if (!file.commit())
        return fail(QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
    return {};
}

bool SupervisorRecord::isAlive() const
{
    if (pid <= 0 || host != thisHostName())
        return false;
    return processStartTicks(pid) == startTicks;
}

bool SupervisorRecord::ranksAlive() const
{
    if (processGroup <= 1 || host != thisHostName())
        return false;
    return ::kill(-processGroup, 0) == 0 || errno == EPERM;
}

} // namespace trainyard
