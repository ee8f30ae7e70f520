// runOffUiThread: runs work on Qt's thread pool and hands its result to `done` on the owner's (UI) thread.
#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QtConcurrent>

namespace trainyard {

template <typename Work, typename Done>
void runOffUiThread(QObject *owner, Work work, Done done)
{
    using T = decltype(work());
    auto watcher = new QFutureWatcher<T>(owner);
    QObject::connect(watcher, &QFutureWatcher<T>::finished, owner, [watcher, done] {
        done(watcher->result());
        watcher->deleteLater();
    });
    watcher->setFuture(QtConcurrent::run(std::move(work)));
}

} // namespace trainyard
