// MainWindow: the runs table of a workspace, or how to launch a first run when it is empty.
#pragma once

#include <QMainWindow>

class QLabel;
class QSortFilterProxyModel;
class QStackedWidget;
class QTabWidget;
class QTableView;

namespace trainyard {

class LaunchHost;
class RunListWatcher;
class RunPage;
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
    LaunchHost *launchHost() const { return m_launchHost; }

    // Opens (or brings forward) the page of a run.
    RunPage *openRunPage(const QString &runId);
    // Asks the run's supervisor, in this process or another, to cancel it.
    void requestCancel(const QString &runId);
    void showNewRunDialog();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void showRunsOrEmptyState();
    void restoreLayout();
    void saveLayout() const;

    QString m_workspaceRoot;
    QString m_databasePath;
    RunTableModel *m_runsModel;
    QTabWidget *m_tabs;
    QSortFilterProxyModel *m_sortedRuns;
    QStackedWidget *m_pages;
    QTableView *m_runsView;
    QLabel *m_emptyState;
    RunListWatcher *m_watcher;
    LaunchHost *m_launchHost;
};

} // namespace trainyard
