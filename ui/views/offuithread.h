// The one way the window and its views run work off the UI thread (disk, SQL, processes, network).
//
// runOffUiThread(owner, work, done): `work` runs on Qt's thread pool; `done` gets its result on the owner's thread,
// and only while the owner lives (a QPointer checks it; the watcher is the owner's child). Returns the future.
// Given a LatestOnly, only the newest job started through it reaches `done`: a job still running when a newer one
// starts is superseded and its result dropped (a report recomputed while the user changes its range).
// exportOffUiThread(owner, path, produce, done): what `produce` makes on the pool is written to `path` whole or not
// at all (writeFileAtomically); `done` gets the error message, empty when the file is written.
// runInBackground(work): work no one waits for (a service stopped, memory given back).
#pragma once

#include "atomicfile.h"

#include <QFuture>
#include <QFutureWatcher>
#include <QObject>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include <type_traits>
#include <utility>

namespace trainyard {

// A generation counter for one kind of request of one owner (a member of it).
class LatestOnly {
public:
    // A new job: every one started before it is superseded.
    int start() { return ++m_generation; }
    bool isCurrent(int generation) const { return generation == m_generation; }

private:
    int m_generation = 0;
};

template <typename Work, typename Done>
QFuture<std::invoke_result_t<Work>> runOffUiThread(QObject *owner, Work work, Done done, LatestOnly *latest = nullptr)
{
    using T = std::invoke_result_t<Work>;
    const int generation = latest ? latest->start() : 0;
    const QPointer<QObject> guard(owner);
    auto watcher = new QFutureWatcher<T>(owner);
    QObject::connect(watcher, &QFutureWatcher<T>::finished, owner,
                     [guard, watcher, latest, generation, done = std::move(done)]() mutable {
                         watcher->deleteLater();
                         // The owner (and the LatestOnly it holds) first: nothing is touched once it is gone.
                         if (!guard || (latest && !latest->isCurrent(generation)))
                             return;
                         if constexpr (std::is_void_v<T>)
                             done();
                         else
                             done(watcher->result());
                     });
    QFuture<T> future = QtConcurrent::run(std::move(work));
    watcher->setFuture(future);
    return future;
}

template <typename Produce, typename Done>
QFuture<QString> exportOffUiThread(QObject *owner, const QString &path, Produce produce, Done done)
{
    return runOffUiThread(
        owner,
        [path, produce = std::move(produce)]() -> QString {
            auto written = writeFileAtomically(path, produce());
            return written ? QString() : written.error();
        },
        std::move(done));
}

template <typename Work>
void runInBackground(Work work)
{
    (void)QtConcurrent::run(std::move(work));
}

} // namespace trainyard
