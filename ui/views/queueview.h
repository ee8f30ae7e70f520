// QueueView: the local queue in the window: move a queued run up or down, pause or resume it, cancel it.
// Changes are written off the UI thread; the table follows the store through the run-list watcher.
#pragma once

#include <QWidget>

class QTableView;
class QSortFilterProxyModel;

namespace trainyard {

class QueueModel;

class QueueView : public QWidget {
    Q_OBJECT
public:
    QueueView(const QString &workspaceRoot, QueueModel *model, QWidget *parent = nullptr);
    QTableView *table() const { return m_table; }

    enum class Action { Up, Down, Pause, Resume, Cancel };
    // Applies the action to the selected run.
    void act(Action action);

signals:
    void changed(); // a change was written: re-read the queue

private:
    QString m_workspaceRoot;
    QueueModel *m_model;
    QSortFilterProxyModel *m_sorted;
    QTableView *m_table;
};

} // namespace trainyard
