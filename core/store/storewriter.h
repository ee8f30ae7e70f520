// StoreWriter: the one thread that writes to a workspace database, in batched transactions.
#pragma once

#include "result.h"
#include "store/runrecord.h"
#include "store/sqlite.h"

#include <QObject>
#include <QString>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace trainyard {

class Database;

// The writes behind createRun and recordStatus, for operations that make them part of a larger write on the
// writer's connection (the tracking API creates a run with its tags in one operation).
Result<QString> insertNewRun(SqliteConnection &connection, const NewRun &run);
Result<void> applyRunStatus(SqliteConnection &connection, const QString &runId, RunStatus status, std::int64_t atMs,
                            const QString &detail = {});

class StoreWriter : public QObject {
    Q_OBJECT
public:
    // Opens the writer's own connection and starts its thread.
    static Result<std::unique_ptr<StoreWriter>> start(const Database &database);
    // Finishes every queued write, then stops the thread.
    ~StoreWriter() override;

    // Queues an operation. Operations queued while a batch is committing are committed together in the
    // next transaction; each runs inside its own savepoint, so one failing operation does not undo the
    // others. The future is set once the transaction holding the operation has committed (or failed).
    template <typename T>
    std::future<Result<T>> submit(std::function<Result<T>(SqliteConnection &)> operation);

    std::future<Result<QString>> createRun(const NewRun &run);
    // Records a state change: the run's status, started/ended time when it applies, and an event row.
    std::future<Result<void>> recordStatus(const QString &runId, RunStatus status, const QDateTime &at,
                                           const QString &detail = {});
    std::future<Result<void>> setExitSummary(const QString &runId, const QString &exitSummaryJson);
    // A run's end in one transaction: its final status and its exit summary, both or neither.
    std::future<Result<void>> recordEnd(const QString &runId, RunStatus status, const QDateTime &at,
                                        const QString &detail, const QString &exitSummaryJson);
    // A broken alert rule, appended to the run's alerts: `alertJson` is one JSON object (see RunRecord::alerts).
    std::future<Result<void>> recordAlert(const QString &runId, const QString &alertJson);
    // The argv that really runs (after param templates were applied).
    std::future<Result<void>> setCommand(const QString &runId, const QStringList &command);

    // Blocks until everything queued before this call has committed.
    void flush();

signals:
    // Emitted from the writer thread after each committed transaction.
    void batchCommitted(int operationCount);

private:
    struct PendingWrite {
        std::function<bool(SqliteConnection &)> apply;            // true on success
        std::function<void(const QString &commitError)> complete; // empty commitError when committed
    };

    explicit StoreWriter(SqliteConnection connection);
    void enqueue(PendingWrite write);
    void runLoop();
    void commitBatch(std::deque<PendingWrite> &batch);

    SqliteConnection m_connection;
    std::mutex m_mutex;
    std::condition_variable m_wakeUp;
    std::deque<PendingWrite> m_queue;
    bool m_stopping = false;
    std::thread m_thread;
};

template <typename T>
std::future<Result<T>> StoreWriter::submit(std::function<Result<T>(SqliteConnection &)> operation)
{
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto outcome = std::make_shared<std::optional<Result<T>>>();
    std::future<Result<T>> future = promise->get_future();
    enqueue(PendingWrite{[operation = std::move(operation), outcome](SqliteConnection &connection) {
                             outcome->emplace(operation(connection));
                             return outcome->value().ok();
                         },
                         [promise, outcome](const QString &commitError) {
                             if (!commitError.isEmpty() && outcome->has_value() && outcome->value().ok())
                                 promise->set_value(fail(commitError));
                             else if (outcome->has_value())
                                 promise->set_value(std::move(outcome->value()));
                             else
                                 promise->set_value(fail(commitError));
                         }});
    return future;
}

} // namespace trainyard
