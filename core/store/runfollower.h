// RunFollower: follows one run for a run page: its record (with its metric summaries, from which the page's charts
// load what is new) and new log lines, read on a worker thread and delivered incrementally.
#pragma once

#include "store/runrecord.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QThread>

namespace trainyard {

struct RankLogLine {
    int rank = 0;
    int attempt = 0;
    QString stamp; // receive time as written in the log (for NCCL debug lines: when they were read)
    QString text;
    bool nccl = false; // from the rank's NCCL debug file (NCCL_DEBUG_FILE), not its output
};

class RunFollowerWorker;

class RunFollower : public QObject {
    Q_OBJECT
public:
    static constexpr int kPollIntervalMs = 400;

    RunFollower(const QString &databasePath, const QString &runId, const QString &runDir, QObject *parent = nullptr);
    ~RunFollower() override;

signals:
    void runChanged(const trainyard::RunRecord &run);
    void logLinesAppended(const QList<trainyard::RankLogLine> &lines);
    // Once: the run's git provenance as a line ("git 1a2b3c4d5e6f on main, dirty") and its uncommitted diff.
    void provenanceRead(const QString &summary, const QString &diff);
    void readFailed(const QString &message);
    // The run was deleted while followed; nothing more comes.
    void runRemoved();

private:
    QThread m_thread;
    RunFollowerWorker *m_worker;
};

} // namespace trainyard

Q_DECLARE_METATYPE(trainyard::RankLogLine)
