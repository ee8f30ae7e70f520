// PollingReader: the worker half of a watcher (the run list's, the queue's). On a thread of its own it polls PRAGMA
// data_version, a cheap check, and calls readNow() when another connection committed since its last read; a read
// that failed (a busy database) is tried again at the next poll. ReaderThread runs one for its owner.
#pragma once

#include "store/sqlite.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <cstdint>
#include <optional>

namespace trainyard {

class PollingReader : public QObject {
    Q_OBJECT
public:
    PollingReader(QString databasePath, int pollIntervalMs);

public slots:
    // Starts polling (on the reader's thread); the first read follows at once.
    void start();
    void poll();
    // Reads what changed and emits it; false when the read failed.
    virtual bool readNow() = 0;

signals:
    void readFailed(const QString &message);

protected:
    // The reader's connection, opened on first use; false (with readFailed) when it cannot be opened.
    bool ensureConnection();
    std::optional<SqliteConnection> m_connection;

private:
    QString m_databasePath;
    int m_pollIntervalMs;
    std::optional<std::int64_t> m_lastVersion;
};

// Runs a PollingReader on a thread named `name` for as long as it lives; the reader is deleted on that thread when it
// ends (or here, if it never started).
class ReaderThread {
public:
    ReaderThread(PollingReader *reader, const QString &name);
    ~ReaderThread();
    ReaderThread(const ReaderThread &) = delete;
    ReaderThread &operator=(const ReaderThread &) = delete;

    void start();
    // A fresh read now, on the reader's thread (e.g. after this process wrote).
    void refresh();

private:
    QThread m_thread;
    PollingReader *m_reader;
};

} // namespace trainyard
