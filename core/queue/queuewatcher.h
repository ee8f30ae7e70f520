// QueueWatcher: keeps the local queue live for a window, reading it on its own thread whenever it changed (the
// queue's change sequence, bumped by every enqueue, move, pause, cancel and start), and delivering it whole, in order.
#pragma once

#include "queue/runqueue.h"

#include <QList>
#include <QObject>
#include <QString>

#include <memory>

namespace trainyard {

class QueueReader;
class ReaderThread;

class QueueWatcher : public QObject {
    Q_OBJECT
public:
    static constexpr int kPollIntervalMs = 500;

    // Watches the database at databasePath once started: connect to the signals first, then call start().
    explicit QueueWatcher(const QString &databasePath, QObject *parent = nullptr);
    ~QueueWatcher() override;

    void start();
    // Asks for a fresh read now (e.g. after this process changed the queue).
    void refresh();

signals:
    // Delivered on the thread that owns the watcher: the local queue, in order; only when it changed.
    void queueChanged(const QList<trainyard::QueuedRun> &queue);
    void readFailed(const QString &message);

private:
    QueueReader *m_reader; // lives on the reader thread, which deletes it
    std::unique_ptr<ReaderThread> m_readerThread;
};

} // namespace trainyard
