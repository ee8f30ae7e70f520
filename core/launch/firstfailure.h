// FirstFailure: which rank failed first in an attempt, how, and why (classified from its log tail).
#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace trainyard {

struct FirstFailure {
    int rank = -1;
    int attempt = 0;
    std::optional<int> exitCode; // set when the rank exited
    std::optional<int> signal;   // set when a signal ended it
    QString cause;   // a short class: cuda-oom, nccl, python-exception, oom-killer, signal, exit, hang, start
    QString message; // one line for people
    QDateTime at;
    QList<int> silentRanks; // for a hang: the rank(s) that went silent first

    QJsonObject toJson() const;
    static FirstFailure fromJson(const QJsonObject &object);
};

// Reads the cause from how the rank ended and the last lines it printed. `oomKillerFired` tells that the
// kernel's OOM-kill counter of our cgroup rose while the run was alive.
FirstFailure classifyFailure(int rank, std::optional<int> exitCode, std::optional<int> signal,
                             const QStringList &logTail, bool oomKillerFired);

QString signalName(int signal);

} // namespace trainyard
