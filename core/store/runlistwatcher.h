// RunListWatcher: keeps a live run list, reading on its own thread whenever any process commits, and delivering
// only what changed (the run list's change sequence, schema version 10).
#pragma once

#include "store/runqueries.h"

#include <QList>
#include <QObject>
#include <QQueue>
#include <QString>

#include <memory>

namespace trainyard {

class ReaderThread;
class RunListReader;

class RunListWatcher : public QObject {
    Q_OBJECT
public:
    static constexpr int kPollIntervalMs = 500;
    // Before the first complete list, the newest runs alone, so that a big workspace shows rows at once.
    static constexpr int kFirstPageRuns = 500;
    // The first whole list is delivered in changes of at most this many runs (the last one complete).
    static constexpr int kChunkRuns = 5000;

    // Watches the database at databasePath once started: connect to the signals first, then call start(), so that no
    // change is ever delivered before a consumer listens (each is delivered once, and only the first is complete).
    explicit RunListWatcher(const QString &databasePath, QObject *parent = nullptr);
    ~RunListWatcher() override;

    // Starts the worker thread; the first (complete) list follows at once.
    void start();
    // Asks for a fresh read now (e.g. after this process wrote).
    void refresh();

    // Whether the first, complete list has been delivered (until then the consumer is loading, not empty).
    bool hasRuns() const { return m_hasRuns; }

signals:
    // Delivered on the thread that owns the watcher: the newest kFirstPageRuns runs, the whole list in chunks of
    // kChunkRuns (the last one complete), then only the runs that changed; never an empty change but the first list's.
    void runsChanged(const trainyard::RunListChange &change);
    void readFailed(const QString &message);
    // While the first list is read: how many runs the workspace holds (their details still being read).
    void loadingProgress(qsizetype runsFound);

private:
    void deliverNext();

    RunListReader *m_reader; // lives on the reader thread, which deletes it
    std::unique_ptr<ReaderThread> m_readerThread;
    bool m_hasRuns = false;
    QQueue<RunListChange> m_pending; // read, not yet delivered
};

} // namespace trainyard
