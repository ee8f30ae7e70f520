// Reading /proc/<pid>/stat.
#include "launch/processtable.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QSet>

namespace trainyard {

std::optional<ProcessEntry> readProcessEntry(pid_t pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return std::nullopt;
    // The command name (field 2) may hold spaces and parentheses, so fields are counted after the last ')'.
    const QByteArray content = stat.readAll();
    const qsizetype close = content.lastIndexOf(')');
    if (close < 0)
        return std::nullopt;
    const QList<QByteArray> fields = content.mid(close + 2).split(' ');
    constexpr int kStateIndex = 0;      // field 3 overall
    constexpr int kParentIndex = 1;     // field 4
    constexpr int kGroupIndex = 2;      // field 5
    constexpr int kSessionIndex = 3;    // field 6
    constexpr int kStartTimeIndex = 19; // field 22
    if (fields.size() <= kStartTimeIndex)
        return std::nullopt;
    ProcessEntry entry;
    entry.pid = pid;
    entry.state = fields[kStateIndex].isEmpty() ? '?' : fields[kStateIndex].at(0);
    entry.parent = pid_t(fields[kParentIndex].toInt());
    entry.group = pid_t(fields[kGroupIndex].toInt());
    entry.session = pid_t(fields[kSessionIndex].toInt());
    entry.startTicks = fields[kStartTimeIndex].toLongLong();
    return entry;
}

std::vector<ProcessEntry> readProcessTable()
{
    std::vector<ProcessEntry> table;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    table.reserve(std::size_t(entries.size()));
    for (const QString &entry : entries) {
        bool isPid = false;
        const int pid = entry.toInt(&isPid);
        if (!isPid)
            continue;
        if (auto process = readProcessEntry(pid_t(pid)))
            table.push_back(*process);
    }
    return table;
}

std::vector<ProcessEntry> descendantsOf(const std::vector<ProcessEntry> &table, const std::vector<pid_t> &roots)
{
    QHash<pid_t, QList<const ProcessEntry *>> children;
    for (const ProcessEntry &entry : table)
        children[entry.parent].append(&entry);
    std::vector<ProcessEntry> found;
    QSet<pid_t> seen(roots.begin(), roots.end());
    std::vector<pid_t> pending = roots;
    while (!pending.empty()) {
        const pid_t parent = pending.back();
        pending.pop_back();
        for (const ProcessEntry *child : children.value(parent)) {
            if (seen.contains(child->pid))
                continue;
            seen.insert(child->pid);
            found.push_back(*child);
            pending.push_back(child->pid);
        }
    }
    return found;
}

} // namespace trainyard
