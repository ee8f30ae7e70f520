// MainWindow: the runs table of a workspace, or how to launch a first run when it is empty.
#pragma once

#include "store/runqueries.h"
#include "models/runnotifications.h"
#include "store/runrecord.h"

#include <QFuture>
#include <QHash>
#include <QMainWindow>

class QAction;
class QIcon;
class QSystemTrayIcon;
class QLabel;
class QLineEdit;
class QMenu;
class QStackedWidget;
class QTabWidget;
class QTableView;

namespace trainyard {

class PreflightView;
class ThroughputView;

class CompareView;
class ComposePanel;
class QueueModel;
class QueueView;
class SweepView;
struct RunSpec;
class LaunchHost;
class MlflowServeSwitch;
class HistoryImportMenu;
class RunFilterProxy;
class QueueWatcher;
class RunListWatcher;
class DesktopNotifier;
class RunActions;
class RunPage;
class RunTableModel;
class Workspace;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const Workspace &workspace, QWidget *parent = nullptr);
    ~MainWindow() override;

    QTableView *runsView() const { return m_runsView; }
    // Writes the rows shown, in order, with the columns shown, as CSV to path (off the UI thread); the result is an
    // error message, empty on success.
    QFuture<QString> exportRunsCsv(const QString &path);
    // File > Export > Workspace bundle…: what `trainyard export` writes (refuses an existing file); the result is an
    // error message, empty on success.
    QFuture<QString> exportWorkspaceBundle(const QString &path);
    RunTableModel *runsModel() const { return m_runsModel; }
    bool isShowingEmptyState() const;
    // True until the first run list has arrived: the runs page says it is loading, never that the workspace is empty.
    bool isLoadingRuns() const;
    LaunchHost *launchHost() const { return m_launchHost; }
    MlflowServeSwitch *serveSwitch() const { return m_serveSwitch; }
    HistoryImportMenu *importMenu() const { return m_importMenu; }
    RunFilterProxy *filteredRuns() const { return m_sortedRuns; }
    QLineEdit *filterEdit() const { return m_filterEdit; }
    QLabel *filterError() const { return m_filterError; }
    CompareView *compareView() const { return m_compare; }
    ComposePanel *composePanel() const { return m_compose; }
    QueueView *queueView() const { return m_queueView; }
    QueueModel *queueModel() const { return m_queueModel; }
    SweepView *sweepView() const { return m_sweepView; }
    // Opens (or brings forward) the compose panel; with a run id, pre-filled from that run's spec.
    ComposePanel *openCompose();
    // Opens (or brings forward) the leads' throughput page.
    ThroughputView *openThroughput();
    ThroughputView *throughputView() const { return m_throughput; }
    // The GPUs' preflight page (history, chart, verdict, a Run button), opened once and brought forward after.
    PreflightView *openPreflight();
    void cloneWithChanges(const QString &runId);
    void resumeFromCheckpoint(const QString &runId, qint64 step);
    // Selects these runs in the runs table (those it lists), and nothing else: the parallel coordinates' brushes.
    void selectRuns(const QStringList &runIds);

    // Opens (or brings forward) the compare view with these runs (the selected ones by default).
    CompareView *openCompare(const QStringList &runIds = {});
    QStringList selectedRunIds() const;

    // Opens (or brings forward) the page of a run.
    RunPage *openRunPage(const QString &runId);
    // Asks the run's supervisor, in this process or another, to cancel it.
    void requestCancel(const QString &runId);
    // Rename, tags, notes, archive and delete (the Run menu's housekeeping).
    RunActions *runActions() const { return m_runActions; }
    // The runs a Run menu action applies to: the open run page's run, else the runs selected in the table.
    QStringList targetRunIds() const;
    void showNewRunDialog();

    // The window's actions by name (menus and toolbar share them): newRun, openRun, cancelRun, resumeRun, compose,
    // clone, rename, editTags, editNotes, archive, deleteRuns, backends, throughput, preflight, compare, openWorkspace,
    // newWorkspace, exportRuns, settings, quit, viewTab0-2, filter, fullScreen, userGuide, shortcuts, about.
    QAction *action(const QString &name) const;
    const QString &workspaceRoot() const { return m_workspaceRoot; }
    // A warning box that does not block (it opens and returns).
    void warn(const QString &title, const QString &text);
    // Help > About: the version, and the Qt and SQLite it runs on.
    static QString aboutText();
    // Help > Keyboard shortcuts: every menu action that has one.
    QString shortcutsText() const;
    // File > Recent workspaces, newest first (the open one included).
    static QStringList recentWorkspaces();
    static QString userGuidePath();
    // The size a window opens at the first time (later, the size it was closed at): 1240x680, or the screen's
    // available size where that is smaller.
    static QSize defaultSize(const QSize &available);
    // The desktop theme's icon `themeName`, else resources/icons/actions/<fallback>.svg.
    static QIcon themedIcon(const QString &themeName, const QString &fallback);

    DesktopNotifier *notifier() const { return m_notifier; }
    const NotificationSettings &notificationSettings() const { return m_notificationSettings; }
    void setNotificationSettings(const NotificationSettings &settings); // saved, and used from now on

signals:
    // A notification the window sent (to the desktop, or where there is none to its status bar and tray).
    void notificationRaised(const trainyard::RunNotification &notification);
    // File > Open workspace…, New workspace… or a recent one: the window's owner opens it in place of this window.
    void openWorkspaceRequested(const QString &root);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    // The constructor's parts.
    void setUpRunsView();
    QWidget *buildRunsPage();
    void setUpTabs(QWidget *runsPage);
    void buildToolbar();
    void buildMenus();
    void buildHousekeepingActions(QMenu *runMenu);
    void setActionIcons();
    void updateArchiveAction();
    void setUpNotifications();
    void notifyUser(const RunNotification &notification);
    static void rememberWorkspace(const QString &root);
    void fillRecentMenu();
    void setUpStatusBar();
    void connectRunActions();
    void connectWatchers();

    void showRunsOrEmptyState();
    // Asks both watchers for a fresh read now (after this process wrote runs or changed the queue).
    void refreshFromStore();
    void applyRuns(const RunListChange &change);
    QList<RunRecord> runsById(const QStringList &ids) const; // in the order given; unknown ids left out
    void restoreLayout();
    void saveLayout() const;
    void applyFilter(const QString &query);
    void fillColumnsMenu();
    void updateCompareRuns();

    QString m_workspaceRoot;
    QString m_databasePath;
    RunTableModel *m_runsModel;
    QTabWidget *m_tabs;
    RunFilterProxy *m_sortedRuns;
    QLineEdit *m_filterEdit;
    QLabel *m_filterError;
    QMenu *m_columnsMenu;
    QMenu *m_recentMenu = nullptr;
    QHash<QString, QAction *> m_actions;
    CompareView *m_compare = nullptr;
    ThroughputView *m_throughput = nullptr;
    PreflightView *m_preflight = nullptr;
    ComposePanel *m_compose = nullptr;
    QStackedWidget *m_pages;
    QTableView *m_runsView;
    QLabel *m_emptyState;
    QueueModel *m_queueModel;
    QueueView *m_queueView;
    SweepView *m_sweepView;
    RunListWatcher *m_watcher;
    QueueWatcher *m_queueWatcher;
    LaunchHost *m_launchHost;
    MlflowServeSwitch *m_serveSwitch;
    HistoryImportMenu *m_importMenu;
    RunActions *m_runActions;
    DesktopNotifier *m_notifier;
    RunNotificationDetector m_notificationDetector;
    NotificationSettings m_notificationSettings;
    QSystemTrayIcon *m_tray = nullptr;
    QString m_trayRunId; // the run the tray's last message is about
};

} // namespace trainyard
