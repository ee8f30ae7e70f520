// One pass over /proc per sample: parent links to find each rank's descendants, stat for CPU ticks, statm
// for resident pages.
#include "gpu/processtelemetry.h"

#include <QDir>
#include <QFile>

#include <unistd.h>

namespace trainyard {

namespace {

struct ProcStat {
    pid_t parent = 0;
    qint64 cpuTicks = 0; // utime + stime
};

bool readStat(const QString &pid, ProcStat &out)
{
    QFile file(QStringLiteral("/proc/") + pid + QStringLiteral("/stat"));
    if (!file.open(QIODevice::ReadOnly))
        return false;
    const QByteArray content = file.readAll();
    const qsizetype close = content.lastIndexOf(')');
    if (close < 0)
        return false;
    const QList<QByteArray> fields = content.mid(close + 2).split(' ');
    // After the name: state(0) ppid(1) ... utime(11) stime(12)
    if (fields.size() < 13)
        return false;
    out.parent = pid_t(fields[1].toInt());
    out.cpuTicks = fields[11].toLongLong() + fields[12].toLongLong();
    return true;
}

qint64 residentPages(pid_t pid)
{
    QFile file(QStringLiteral("/proc/%1/statm").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> fields = file.readAll().split(' ');
    return fields.size() > 1 ? fields[1].toLongLong() : 0;
}

} // namespace

ProcessTelemetry::ProcessTelemetry() : m_ticksPerSecond(::sysconf(_SC_CLK_TCK)), m_pageBytes(::sysconf(_SC_PAGESIZE))
{
    m_clock.start();
}

QMap<int, ProcessUsage> ProcessTelemetry::sample(const QList<QPair<int, pid_t>> &ranks)
{
    QHash<pid_t, ProcStat> stats;
    QHash<pid_t, QList<pid_t>> children;
    for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        if (!entry.front().isDigit())
            continue;
        ProcStat stat;
        if (!readStat(entry, stat))
            continue;
        const pid_t pid = pid_t(entry.toInt());
        stats.insert(pid, stat);
        children[stat.parent] << pid;
    }
    const qint64 now = m_clock.nsecsElapsed();
    const double elapsedS = m_lastSampleNs < 0 ? 0 : (now - m_lastSampleNs) / 1e9;
    m_lastSampleNs = now;

    QMap<int, ProcessUsage> usage;
    for (const auto &[rank, root] : ranks) {
        if (!stats.contains(root))
            continue;
        ProcessUsage &rankUsage = usage[rank];
        qint64 ticks = 0;
        QList<pid_t> pending{root};
        while (!pending.isEmpty()) {
            const pid_t pid = pending.takeLast();
            ticks += stats.value(pid).cpuTicks;
            rankUsage.rssBytes += double(residentPages(pid)) * double(m_pageBytes);
            ++rankUsage.processes;
            pending += children.value(pid);
        }
        const qint64 previous = m_lastTicksByRank.value(rank, -1);
        m_lastTicksByRank.insert(rank, ticks);
        if (previous >= 0 && elapsedS > 0)
            rankUsage.cpuPercent = std::max<qint64>(0, ticks - previous) * 100.0 / double(m_ticksPerSecond) / elapsedS;
    }
    return usage;
}

} // namespace trainyard
