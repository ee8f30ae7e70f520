// MainWindow: the runs table of a workspace, or how to launch a first run when it is empty.
#pragma once

#include <QMainWindow>

class QLabel;
class QSortFilterProxyModel;
class QStackedWidget;
class QTableView;

namespace trainyard {

class RunListWatcher;
class RunTableModel;
class Workspace;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const Workspace &workspace, QWidget *parent = nullptr);
    ~MainWindow() override;

    QTableView *runsView() const { return m_runsView; }
    RunTableModel *runsModel() const { return m_runsModel; }
    bool isShowingEmptyState() const;

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void showRunsOrEmptyState();
    void restoreLayout();
    void saveLayout() const;

    RunTableModel *m_runsModel;
    QSortFilterProxyModel *m_sortedRuns;
    QStackedWidget *m_pages;
    QTableView *m_runsView;
    QLabel *m_emptyState;
    RunListWatcher *m_watcher;
};

} // namespace trainyard
