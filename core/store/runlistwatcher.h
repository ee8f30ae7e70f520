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

signals:
    // Delivered on the thread that owns the watcher; only when the list differs from the last one.
    void runsChanged(const QList<trainyard::RunRecord> &runs);
    // The local queue, in order; only when it differs from the last one.
    void queueChanged(const QList<trainyard::QueuedRun> &queue);
    void readFailed(const QString &message);

private:
    QThread m_thread;
    RunListReader *m_reader; // lives on m_thread, deleted when it finishes
};

} // namespace trainyard
