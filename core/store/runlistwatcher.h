// RunListWatcher: keeps a live list of runs, reading on its own thread whenever any process commits.
#pragma once

#include "queue/runqueue.h"
#include "store/runrecord.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QThread>

#include <memory>

namespace trainyard {

class RunListReader;

class RunListWatcher : public QObject {
    Q_OBJECT
public:
    static constexpr int kPollIntervalMs = 500;

    // Starts watching the database at databasePath on a worker thread; the first list arrives at once.
    explicit RunListWatcher(const QString &databasePath, QObject *parent = nullptr);
    ~RunListWatcher() override;

    // Asks for a fresh read now (e.g. after this process wrote).
    void refresh();

    // The newest list read so far, kept here as it arrives: a consumer that connects late (or misses a signal) takes
    // it from here, so no list is ever lost between the reader and the window.
    bool hasRuns() const { return m_hasRuns; }
    const QList<RunRecord> &runs() const { return m_runs; }
    bool hasQueue() const { return m_hasQueue; }
    const QList<QueuedRun> &queue() const { return m_queue; }

signals:
    // Delivered on the thread that owns the watcher; only when the list differs from the last one.
    void runsChanged(const QList<trainyard::RunRecord> &runs);
    // The local queue, in order; only when it differs from the last one.
    void queueChanged(const QList<trainyard::QueuedRun> &queue);
    void readFailed(const QString &message);
    // While the first list is read: how many runs the workspace holds (their details still being read).
    void loadingProgress(qsizetype runsFound);

private:
    QThread m_thread;
    RunListReader *m_reader; // lives on m_thread, deleted when it finishes
    QList<RunRecord> m_runs;
    QList<QueuedRun> m_queue;
    bool m_hasRuns = false;
    bool m_hasQueue = false;
};

} // namespace trainyard
