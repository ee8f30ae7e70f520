// TerminationSignals: Ctrl-C, SIGTERM and SIGHUP delivered on the event loop (a self-pipe), for the
// commands that supervise runs (launch, queue work) and must end them cleanly.
#pragma once

#include <QObject>
#include <QSocketNotifier>

#include <csignal>

#include <sys/socket.h>
#include <unistd.h>

namespace trainyard::cli {

class TerminationSignals : public QObject {
    Q_OBJECT
public:
    TerminationSignals()
    {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s_pipe) != 0)
            return;
        m_notifier = new QSocketNotifier(s_pipe[1], QSocketNotifier::Read, this);
        connect(m_notifier, &QSocketNotifier::activated, this, [this] {
            char signalNumber = 0;
            if (::read(s_pipe[1], &signalNumber, 1) == 1)
                emit received(signalNumber);
        });
        struct sigaction action = {};
        action.sa_handler = &TerminationSignals::handle;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        for (int signalNumber : {SIGINT, SIGTERM, SIGHUP})
            ::sigaction(signalNumber, &action, nullptr);
    }
    ~TerminationSignals() override
    {
        for (int signalNumber : {SIGINT, SIGTERM, SIGHUP})
            ::signal(signalNumber, SIG_DFL);
        ::close(s_pipe[0]);
        ::close(s_pipe[1]);
    }

signals:
    void received(int signalNumber);

private:
    static void handle(int signalNumber)
    {
        const char byte = char(signalNumber);
        [[maybe_unused]] const ssize_t written = ::write(s_pipe[0], &byte, 1);
    }
    static inline int s_pipe[2] = {-1, -1};
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace trainyard::cli
