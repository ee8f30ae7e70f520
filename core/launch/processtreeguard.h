// ProcessTreeGuard: every process of a run dies with the process that launched it, even when that one is killed
// with SIGKILL and can do nothing more.
//
// A small watchdog process is forked at construction. It holds one end of a socket pair whose other end only the
// launcher has (close-on-exec: no rank inherits it); the launcher tells it, through that socket, which process groups and single processes belong to its
// runs. When the socket closes (the launcher exited, normally or by kill -9), the watchdog sends SIGKILL to everything
// still registered and exits. The watchdog is in a session of its own, ignores terminal signals and holds no file
// of the launcher's.
#pragma once

#include <sys/types.h>

namespace trainyard {

class ProcessTreeGuard {
public:
    ProcessTreeGuard();
    // Closes the socket: the watchdog kills what is still registered, exits, and is reaped here.
    ~ProcessTreeGuard();
    ProcessTreeGuard(const ProcessTreeGuard &) = delete;
    ProcessTreeGuard &operator=(const ProcessTreeGuard &) = delete;

    // False when the watchdog could not be started (no socket, no fork): the process group alone then guards the run.
    bool isArmed() const { return m_writeFd >= 0; }
    pid_t watchdogPid() const { return m_watchdog; }

    void watchGroup(pid_t group) { send(kWatchGroup, group); }
    void forgetGroup(pid_t group) { send(kForgetGroup, group); }
    void watchProcess(pid_t pid) { send(kWatchProcess, pid); }
    void forgetProcess(pid_t pid) { send(kForgetProcess, pid); }

    // How many groups and processes one watchdog keeps at once (a run registers its group and any escaped process).
    static constexpr int kCapacity = 1024;
    enum Operation : int { kWatchGroup = 1, kForgetGroup = 2, kWatchProcess = 3, kForgetProcess = 4 };

private:
    void send(Operation operation, pid_t id);

    int m_writeFd = -1;
    pid_t m_watchdog = 0;
};

} // namespace trainyard
