// EnvelopeLoader: envelope queries for the compare view on one worker thread with its own connection,
// so the UI thread never waits on SQL. A newer request for the same chart and run supersedes an older
// one still waiting, so a fast pan costs one query per run, not one per mouse move.
#pragma once

#include "store/metricenvelope.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QString>
#include <QThread>

#include <memory>

namespace trainyard {

class EnvelopeLoaderWorker;

class EnvelopeLoader : public QObject {
    Q_OBJECT
public:
    explicit EnvelopeLoader(const QString &databasePath, QObject *parent = nullptr);
    ~EnvelopeLoader() override;

    enum class Kind { Range, Tail }; // a range replaces what a chart shows; a tail is appended to it
    // Queues a query; returns its ticket. `loaded` reports it unless a newer request for the same
    // (key, run, kind) came first.
    quint64 request(const QString &key, const QString &runId, const EnvelopeRequest &range, Kind kind = Kind::Range);
    // Requests still queued or running.
    int pending() const;

    struct Shared {
        QMutex mutex;
        QHash<QString, quint64> latest; // slot -> newest ticket
        int pending = 0;
    };

signals:
    void loaded(quint64 ticket, const QString &key, const QString &runId, const trainyard::MetricEnvelope &envelope,
                trainyard::EnvelopeLoader::Kind kind);
    void failed(const QString &message);
    void idle(); // nothing left queued

private:
    QThread m_thread;
    EnvelopeLoaderWorker *m_worker;
    std::shared_ptr<Shared> m_shared;
    quint64 m_nextTicket = 1;
};

} // namespace trainyard

Q_DECLARE_METATYPE(trainyard::MetricEnvelope)
Q_DECLARE_METATYPE(trainyard::EnvelopeLoader::Kind)
