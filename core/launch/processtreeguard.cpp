// The watchdog runs between fork and nothing: it never execs, so it may only make async-signal-safe calls (the
// launcher has threads; their locks are copied held). Everything below the fork is plain system calls.
#include "launch/processtreeguard.h"

#include "logging.h"

#include <QtGlobal>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace trainyard {

namespace {

struct Message {
    std::int32_t operation;
    std::int32_t id;
};
// Messages are 8 bytes on a stream socket; the reader assembles each whole, so a short read splits nothing.

struct Target {
    std::int32_t id = 0;
    bool group = false;
};

// Reads one whole message; false on end of file or an error (the launcher is gone either way).
bool readMessage(int fd, Message &message) noexcept
{
    auto *bytes = reinterpret_cast<char *>(&message);
    std::size_t done = 0;
    while (done < sizeof(message)) {
        const ssize_t got = ::read(fd, bytes + done, sizeof(message) - done);
        if (got > 0)
            done += std::size_t(got);
        else if (got < 0 && errno == EINTR)
            continue;
        else
            return false;
    }
    return true;
}

[[noreturn]] void runWatchdog(int readFd) noexcept
{
    struct sigaction ignore { };
    ignore.sa_handler = SIG_IGN;
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU})
        ::sigaction(signal, &ignore, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setsid();         // out of the terminal's process group: Ctrl-C reaches the launcher, not this
    (void)::chdir("/"); // holds no mount busy
    ::prctl(PR_SET_NAME, "trainyard-guard");
    const int devNull = ::open("/dev/null", O_RDWR);
    if (devNull >= 0) {
        for (int fd = 0; fd <= 2; ++fd)
            ::dup2(devNull, fd);
    }
    // Keep only its end of the socket (as fd 3): no database, socket or rank pipe of the launcher stays open here.
    if (readFd != 3) {
        ::dup2(readFd, 3);
        readFd = 3;
    }
    ::close_range(4, ~0U, 0);

    static Target targets[ProcessTreeGuard::kCapacity];
    int count = 0;
    Message message{};
    while (readMessage(readFd, message)) {
        const bool group =
            message.operation == ProcessTreeGuard::kWatchGroup || message.operation == ProcessTreeGuard::kForgetGroup;
        const bool watch =
            message.operation == ProcessTreeGuard::kWatchGroup || message.operation == ProcessTreeGuard::kWatchProcess;
        if (message.id <= 1)
            continue; // never pid 1, never "every process" (kill(-1))
        int found = -1;
        for (int i = 0; i < count; ++i) {
            if (targets[i].id == message.id && targets[i].group == group)
                found = i;
        }
        if (watch && found < 0 && count < ProcessTreeGuard::kCapacity)
            targets[count++] = Target{message.id, group};
        else if (!watch && found >= 0)
            targets[found] = targets[--count];
    }
    for (int i = 0; i < count; ++i)
        ::kill(targets[i].group ? -targets[i].id : targets[i].id, SIGKILL);
    ::_exit(0);
}

} // namespace

ProcessTreeGuard::ProcessTreeGuard()
{
    int fds[2];
    // A socket pair rather than a pipe: send() with MSG_NOSIGNAL cannot raise SIGPIPE in the launcher.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        qCWarning(
            lcLaunch,
            "no process-tree watchdog (socketpair: %s): a run's processes are guarded by their process group only",
            strerror(errno));
        return;
    }
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[1]);
        runWatchdog(fds[0]);
    }
    ::close(fds[0]);
    if (child < 0) {
        qCWarning(lcLaunch,
                  "no process-tree watchdog (fork: %s): a run's processes are guarded by their process group only",
                  strerror(errno));
        ::close(fds[1]);
        return;
    }
    m_watchdog = child;
    m_writeFd = fds[1];
}

ProcessTreeGuard::~ProcessTreeGuard()
{
    if (m_writeFd < 0)
        return;
    ::close(m_writeFd);
    int status = 0;
    while (::waitpid(m_watchdog, &status, 0) < 0 && errno == EINTR) { }
}

void ProcessTreeGuard::send(Operation operation, pid_t id)
{
    if (m_writeFd < 0 || id <= 1)
        return;
    const Message message{std::int32_t(operation), std::int32_t(id)};
    ssize_t written;
    do {
        written = ::send(m_writeFd, &message, sizeof(message), MSG_NOSIGNAL);
    } while (written < 0 && errno == EINTR);
}

} // namespace trainyard
