// RunActions: the window's run housekeeping (Run > Rename, Edit tags, Archive, Delete; the run page's notes). Asks
// with a dialog where a desktop application would, then writes through the workspace's writer off the UI thread
// (core/store/runhousekeeping.h); the run list's change sequence shows the change in every window.
#pragma once

#include "store/runhousekeeping.h"
#include "store/runrecord.h"

#include <QFuture>
#include <QObject>
#include <QPointer>

#include <functional>

class QWidget;

namespace trainyard {

class RunActions : public QObject {
    Q_OBJECT
public:
    RunActions(const QString &workspaceRoot, QWidget *dialogParent);

    // Dialogs (opened without blocking, found by object name in tests: renameDialog, tagsDialog, confirmDelete),
    // then the write below.
    void askRename(const RunRecord &run);
    void askTags(const RunRecord &run);
    // Reads what the runs would free (off the UI thread), then asks once for all of them.
    void askDelete(const QList<RunRecord> &runs);

    // The writes. Each future's result is an error message, empty on success; done() or failed() follows.
    QFuture<QString> rename(const QString &runId, const QString &name);
    QFuture<QString> setTags(const QString &runId, const QString &tagsText);
    QFuture<QString> setNotes(const QString &runId, const QString &notes);
    QFuture<QString> setArchived(const QStringList &runIds, bool archived);
    QFuture<QString> remove(const QStringList &runIds, bool keepFiles);

    // "Delete 3 runs and their folders? This frees 1.2 GiB." for the confirmation.
    static QString deleteQuestion(const QList<housekeeping::RunRemoval> &plan);

signals:
    void done(const QString &message);
    void failed(const QString &title, const QString &message);

private:
    void askText(const QString &objectName, const QString &title, const QString &label, const QString &value,
                 const std::function<void(const QString &)> &onAnswer);
    template <typename Write>
    QFuture<QString> write(const QString &title, const QString &doneMessage, Write work);

    QString m_workspaceRoot;
    QPointer<QWidget> m_dialogParent;
};

} // namespace trainyard
