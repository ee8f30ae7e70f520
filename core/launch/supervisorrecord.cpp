// supervisor.json and liveness checks through /proc.
#include "launch/supervisorrecord.h"

#include "atomicfile.h"
#include "launch/processtable.h"
#include "runfolder/runfolder.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSysInfo>

#include <QThread>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include <unistd.h>

namespace trainyard {

namespace {

qint64 processStartTicks(pid_t pid)
{
    const auto entry = readProcessEntry(pid);
    return entry ? entry->startTicks : -1;
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
    QFile file(runDir + QLatin1Char('/') + QLatin1String(kSupervisorRecordFileName));
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
    return writeFileAtomically(runDir + QLatin1Char('/') + QLatin1String(kSupervisorRecordFileName),
                               QJsonDocument(object).toJson());
}

bool SupervisorRecord::isAlive() const
{
    if (pid <= 0 || host != thisHostName())
        return false;
    const auto entry = readProcessEntry(pid);
    return entry && entry->isLive() && entry->startTicks == startTicks;
}

bool SupervisorRecord::ranksAlive() const
{
    if (processGroup <= 1 || host != thisHostName())
        return false;
    // kill(-group, 0) would also count zombies, which linger until init reaps them.
    const std::vector<ProcessEntry> table = readProcessTable();
    return std::any_of(table.begin(), table.end(),
                       [&](const ProcessEntry &entry) { return entry.isLive() && entry.group == processGroup; });
}

bool SupervisorRecord::killRanks(int waitMs) const
{
    if (processGroup <= 1 || host != thisHostName())
        return true;
    // By pid, from what /proc lists now: a group that has emptied meanwhile may have its number reused.
    for (const ProcessEntry &entry : readProcessTable()) {
        if (entry.isLive() && entry.group == processGroup)
            ::kill(entry.pid, SIGKILL);
    }
    constexpr int kPollMs = 20;
    for (int waited = 0; waited < waitMs; waited += kPollMs) {
        if (!ranksAlive())
            return true;
        QThread::msleep(kPollMs);
    }
    return !ranksAlive();
}

} // namespace trainyard
