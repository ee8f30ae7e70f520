// What /proc says about this machine's processes: enough to tell a run's live processes from zombies and from a
// reused pid, and to follow a rank's descendants wherever they moved (another process group, another session).
#pragma once

#include <QtGlobal>

#include <optional>
#include <vector>

#include <sys/types.h>

namespace trainyard {

struct ProcessEntry {
    pid_t pid = 0;
    pid_t parent = 0;
    pid_t group = 0;
    pid_t session = 0;
    char state = '?';
    qint64 startTicks = -1; // /proc/<pid>/stat field 22: tells a reused pid apart

    // A zombie (exited, not yet reaped) is not alive for our purposes.
    bool isLive() const { return state != 'Z' && state != 'X'; }
};

std::optional<ProcessEntry> readProcessEntry(pid_t pid);
// Every process /proc lists now (a process may end while it is read: it is then left out).
std::vector<ProcessEntry> readProcessTable();
// Every process of `table` that descends from one of `roots` (the roots themselves left out).
std::vector<ProcessEntry> descendantsOf(const std::vector<ProcessEntry> &table, const std::vector<pid_t> &roots);

} // namespace trainyard
