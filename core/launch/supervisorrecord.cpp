// supervisor.json and liveness checks through /proc.
#include "launch/supervisorrecord.h"

#include "atomicfile.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSysInfo>

#include <cerrno>
#include <csignal>
#include <optional>

#include <unistd.h>

namespace trainyard {

namespace {

constexpr auto kFileName = "/supervisor.json";

struct ProcessStat {
    char state = '?';
    pid_t processGroup = 0;
    qint64 startTicks = -1;
};

// Reads /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses, so fields are
// counted after the last ')'.
std::optional<ProcessStat> readProcessStat(const QString &pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QByteArray content = stat.readAll();
    const qsizetype close = content.lastIndexOf(')');
    if (close < 0)
        return std::nullopt;
    const QList<QByteArray> fields = content.mid(close + 2).split(' ');
    constexpr int kStateIndex = 0;       // field 3 overall
    constexpr int kGroupIndex = 2;       // field 5
    constexpr int kStartTimeIndex = 19;  // field 22
    if (fields.size() <= kStartTimeIndex)
        return std::nullopt;
    return ProcessStat{fields[kStateIndex].isEmpty() ? '?' : fields[kStateIndex].at(0), pid_t(fields[kGroupIndex].toInt()),
                       fields[kStartTimeIndex].toLongLong()};
}

qint64 processStartTicks(pid_t pid)
{
    const auto stat = readProcessStat(QString::number(pid));
    return stat ? stat->startTicks : -1;
}

// A zombie (exited, not yet reaped by its new parent) is not alive for our purposes.
bool isLiveProcess(const std::optional<ProcessStat> &stat) { return stat && stat->state != 'Z' && stat->state != 'X'; }

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
    const QJsonObject object{{QStringLiteral("pid"), qint64(pid)},
                             {QStringLiteral("start_ticks"), startTicks},
                             {QStringLiteral("host"), host},
                             {QStringLiteral("process_group"), qint64(processGroup)}};
    return writeFileAtomically(runDir + QLatin1String(kFileName), QJsonDocument(object).toJson());
}

bool SupervisorRecord::isAlive() const
{
    if (pid <= 0 || host != thisHostName())
        return false;
    const auto stat = readProcessStat(QString::number(pid));
    return isLiveProcess(stat) && stat->startTicks == startTicks;
}

bool SupervisorRecord::ranksAlive() const
{
    if (processGroup <= 1 || host != thisHostName())
        return false;
    // kill(-group, 0) would also count zombies, which linger until init reaps them.
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &entry : entries) {
        if (!entry.front().isDigit())
            continue;
        const auto stat = readProcessStat(entry);
        if (isLiveProcess(stat) && stat->processGroup == processGroup)
            return true;
    }
    return false;
}

} // namespace trainyard
