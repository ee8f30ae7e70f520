// The main window: presents the run list that RunListWatcher reads off the UI thread.
#include "mainwindow.h"
#include "models/statuscolors.h"

#ifdef __GLIBC__
#include <malloc.h>
#include <sqlite3.h>
#endif

#include "atomicfile.h"
#include "version.h"
#include "launch/speclaunch.h"
#include "queue/queuewatcher.h"
#include "runfolder/runfolder.h"
#include "views/offuithread.h"

#include "launch/launchhost.h"
#include "launch/supervisorrecord.h"
#include "models/queuemodel.h"
#include "models/runfilterproxy.h"
#include "models/runtablemodel.h"
#include "store/runlistwatcher.h"
#include "store/workspace.h"
#include "store/workspaceimport.h"
#include "queue/runqueue.h"
#include "store/storewriter.h"
#include "views/backendsdialog.h"
#include "views/compareview.h"
#include "views/preflightview.h"
#include "views/throughputview.h"
#include "views/composepanel.h"
#include "views/newrundialog.h"
#include "views/openingestion.h"
#include "views/queueview.h"
#include "views/sweepview.h"
#include "desktopnotifier.h"
#include "logging.h"
#include "views/runactions.h"
#include "views/settingsdialog.h"
#include "views/runpage.h"

#include <QAction>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>
#include <QMessageBox>
#include <QTabWidget>
#include <QToolBar>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QUrl>
#include <QDesktopServices>
#include <QMenuBar>
#include <QIcon>
#include <QScreen>
#include <QSystemTrayIcon>

#include <array>

#include <QCloseEvent>
#include <QHeaderView>
#include <QLabel>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTableView>

namespace trainyard {

namespace {
constexpr auto kGeometryKey = "mainWindow/geometry";
constexpr auto kStateKey = "mainWindow/state";
constexpr auto kRunsHeaderKey = "mainWindow/runsHeader";
constexpr auto kExtraColumnsKey = "mainWindow/extraColumns";
constexpr auto kRecentWorkspacesKey = "workspaces/recent";
constexpr int kMaxRecentWorkspaces = 8;
// A 1366x768 laptop screen, less a desktop panel and the title bar, holds this whole (MainWindow::defaultSize).
constexpr int kDefaultWidth = 1240;
constexpr int kDefaultHeight = 680;

// A warning that does not block: background work reports through it while the window stays live.
void showWarning(QWidget *parent, const QString &title, const QString &text)
{
    auto *box = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::Ok, parent);
    box->setObjectName(QStringLiteral("warningBox"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

// What the runs page says while the first list is read (runsFound: how many runs there are, -1 before that is known).
QString loadingText(qsizetype runsFound)
{
    return runsFound < 0
        ? QObject::tr("<h2>Loading runs…</h2>")
        : QObject::tr("<h2>Loading runs…</h2><p>%1 runs found, reading their tags, params and metrics.</p>")
              .arg(QLocale().toString(qlonglong(runsFound)));
}

QString emptyStateText()
{
    return QObject::tr(
        "<h2>No runs in this workspace yet</h2>"
        "<p>Click <b>New local run…</b> (Ctrl+N), or launch one from a terminal, for example the example "
        "data-parallel PyTorch script on two CPU ranks:</p>"
        "<pre>trainyard launch --nproc-per-node 2 --name first-run -- \\\n"
        "    /usr/bin/python3 /usr/share/trainyard/examples/train_ddp.py</pre>"
        "<p>(in a source tree: <tt>resources/examples/train_ddp.py</tt>), or any command that works under "
        "<tt>torchrun</tt>:</p>"
        "<pre>trainyard launch --nproc-per-node N -- COMMAND ARGS...</pre>"
        "<p>Runs appear here live as they start, from this window or any other process.</p>");
}
} // namespace

MainWindow::MainWindow(const Workspace &workspace, QWidget *parent)
    : QMainWindow(parent), m_workspaceRoot(workspace.root()), m_databasePath(workspace.database().path()),
      m_runsModel(new RunTableModel(this)), m_tabs(new QTabWidget(this)), m_sortedRuns(new RunFilterProxy(this)),
      m_filterEdit(new QLineEdit(this)), m_filterError(new QLabel(this)), m_columnsMenu(new QMenu(this)),
      m_pages(new QStackedWidget(this)), m_runsView(new QTableView(m_pages)), m_emptyState(new QLabel(m_pages)),
      m_queueModel(new QueueModel(this)), m_queueView(new QueueView(workspace.root(), m_queueModel, this)),
      m_sweepView(new SweepView(this)), m_watcher(new RunListWatcher(workspace.database().path(), this)),
      m_queueWatcher(new QueueWatcher(workspace.database().path(), this)),
      m_launchHost(new LaunchHost(workspace, this)), m_serveSwitch(new MlflowServeSwitch(workspace, this)),
      m_importMenu(new HistoryImportMenu(workspace, this)), m_runActions(new RunActions(workspace.root(), this)),
      m_notifier(new DesktopNotifier(this)), m_notificationSettings(NotificationSettings::load())
{
    setWindowTitle(tr("Trainyard — %1").arg(workspace.root()));
    setObjectName(QStringLiteral("mainWindow"));

    setUpRunsView();
    setUpTabs(buildRunsPage());
    buildToolbar();
    buildMenus();
    setActionIcons();
    rememberWorkspace(m_workspaceRoot);
    setUpStatusBar();
    connectRunActions();
    connectWatchers();
    setUpNotifications();

    resize(defaultSize(screen() ? screen()->availableGeometry().size() : QSize(kDefaultWidth, kDefaultHeight)));
    restoreLayout();
    showRunsOrEmptyState();
    // Started only now that everything listens: each change is delivered once, the first one complete.
    m_watcher->start();
    m_queueWatcher->start();
}

// The runs table (sorted and filtered off the UI thread by the proxy) and the page shown while it is empty.
void MainWindow::setUpRunsView()
{
    m_sortedRuns->setSourceModel(m_runsModel);

    m_runsView->setObjectName(QStringLiteral("runsView"));
    m_runsView->setModel(m_sortedRuns);
    m_runsView->setSortingEnabled(true);
    m_runsView->sortByColumn(RunTableModel::StartedColumn, Qt::DescendingOrder);
    m_runsView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_runsView->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_runsView->setAlternatingRowColors(true);
    m_runsView->verticalHeader()->hide();
    m_runsView->horizontalHeader()->setStretchLastSection(true);
    m_runsView->horizontalHeader()->resizeSection(RunTableModel::NameColumn, 280);
    m_runsView->horizontalHeader()->resizeSection(RunTableModel::StatusColumn, 120);
    m_runsView->horizontalHeader()->resizeSection(RunTableModel::StartedColumn, 170);

    m_emptyState->setObjectName(QStringLiteral("emptyState"));
    m_emptyState->setText(emptyStateText());
    m_emptyState->setTextFormat(Qt::RichText);
    m_emptyState->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_emptyState->setAlignment(Qt::AlignCenter);
    m_emptyState->setWordWrap(true);
}

// The runs page: the filter box, the column chooser and CSV export above the table.
QWidget *MainWindow::buildRunsPage()
{
    m_filterEdit->setObjectName(QStringLiteral("runFilter"));
    m_filterEdit->setPlaceholderText(
        tr("Filter runs, e.g.  status:failed tag:baseline lr>=1e-3 loss.min<0.2 name~resnet"));
    m_filterEdit->setClearButtonEnabled(true);
    m_filterError->setObjectName(QStringLiteral("runFilterError"));
    m_filterError->setStyleSheet(textColorStyle(errorTextColor()) + QStringLiteral("; font-family: monospace"));
    m_filterError->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_filterError->setTextFormat(Qt::PlainText);
    m_filterError->hide();
    auto columnsButton = new QToolButton(this);
    columnsButton->setText(tr("Columns"));
    columnsButton->setPopupMode(QToolButton::InstantPopup);
    columnsButton->setMenu(m_columnsMenu);
    connect(m_columnsMenu, &QMenu::aboutToShow, this, &MainWindow::fillColumnsMenu);
    auto exportCsv = new QPushButton(tr("Export CSV…"), this);
    connect(exportCsv, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export runs"), QStringLiteral("runs.csv"), tr("CSV (*.csv)"));
        if (!path.isEmpty())
            (void)exportRunsCsv(path);
    });
    auto runsPage = new QWidget(m_pages);
    auto runsLayout = new QVBoxLayout(runsPage);
    runsLayout->setContentsMargins(0, 4, 0, 0);
    auto filterBar = new QHBoxLayout;
    filterBar->addWidget(m_filterEdit, 1);
    filterBar->addWidget(columnsButton);
    filterBar->addWidget(exportCsv);
    runsLayout->addLayout(filterBar);
    runsLayout->addWidget(m_filterError);
    runsLayout->addWidget(m_runsView);
    connect(m_filterEdit, &QLineEdit::textChanged, this, &MainWindow::applyFilter);
    QList<RunTableModel::ExtraColumn> extraColumns;
    for (const QString &id : QSettings().value(QLatin1String(kExtraColumnsKey)).toStringList())
        if (auto column = RunTableModel::ExtraColumn::fromId(id))
            extraColumns << *column;
    m_runsModel->setExtraColumns(extraColumns);

    return runsPage;
}

// Runs, Queue and Sweeps stay; the tabs opened later (run pages, compare, compose, throughput) close.
void MainWindow::setUpTabs(QWidget *runsPage)
{
    m_pages->addWidget(m_emptyState);
    m_pages->addWidget(runsPage);
    m_tabs->setObjectName(QStringLiteral("tabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->setTabsClosable(true);
    m_tabs->addTab(m_pages, tr("Runs"));
    m_tabs->addTab(m_queueView, tr("Queue"));
    m_tabs->addTab(m_sweepView, tr("Sweeps"));
    m_sweepView->setDatabasePath(m_databasePath);
    connect(m_sweepView, &SweepView::runActivated, this, [this](const QString &runId) { openRunPage(runId); });
    connect(m_sweepView, &SweepView::runsBrushed, this, &MainWindow::selectRuns);
    for (int fixed = 0; fixed < 3; ++fixed) // the runs, queue and sweeps tabs stay
        m_tabs->tabBar()->setTabButton(fixed, QTabBar::RightSide, nullptr);
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, [this](int index) {
        if (index > 2) {
            QWidget *page = m_tabs->widget(index);
            m_tabs->removeTab(index);
            if (page == m_compose)
                m_compose = nullptr;
            if (page == m_throughput)
                m_throughput = nullptr;
            if (page == m_compare) {
                m_compare = nullptr;
                m_runsModel->setRunColors({});
            }
            page->deleteLater();
        }
    });
    setCentralWidget(m_tabs);
}

void MainWindow::buildToolbar()
{
    QToolBar *toolbar = addToolBar(tr("Runs"));
    toolbar->setObjectName(QStringLiteral("runsToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->setIconSize(QSize(16, 16));
    QAction *newRun = toolbar->addAction(tr("New local run…"), this, &MainWindow::showNewRunDialog);
    newRun->setShortcut(QKeySequence::New);
    m_actions.insert(QStringLiteral("newRun"), newRun);
    QAction *openRun = toolbar->addAction(tr("Open run"), this, [this] {
        const QModelIndex current = m_runsView->currentIndex();
        if (current.isValid())
            openRunPage(current.data(RunTableModel::RunIdRole).toString());
    });
    openRun->setShortcut(Qt::Key_Return);
    m_actions.insert(QStringLiteral("openRun"), openRun);
    m_actions.insert(QStringLiteral("cancelRun"), toolbar->addAction(tr("Cancel run"), this, [this] {
        for (const QString &runId : targetRunIds())
            requestCancel(runId);
    }));
    QAction *compose = toolbar->addAction(tr("Compose…"), this, [this] { openCompose(); });
    compose->setToolTip(tr("Compose a run spec as a form and as YAML; launch it or queue its sweep"));
    m_actions.insert(QStringLiteral("compose"), compose);
    QAction *clone = toolbar->addAction(tr("Clone with changes"), this, [this] {
        const QModelIndex current = m_runsView->currentIndex();
        if (current.isValid())
            cloneWithChanges(current.data(RunTableModel::RunIdRole).toString());
    });
    clone->setToolTip(tr("Open the compose panel with the selected run's spec, showing what you change"));
    m_actions.insert(QStringLiteral("clone"), clone);
    QAction *backends = toolbar->addAction(tr("Backends…"), this, [this] {
        BackendsDialog dialog(m_workspaceRoot, this);
        dialog.exec();
        if (m_compose)
            m_compose->refreshBackends();
    });
    backends->setToolTip(tr("Cluster profiles (Slurm through slurmrestd) runs can launch on"));
    m_actions.insert(QStringLiteral("backends"), backends);
    QAction *throughput = toolbar->addAction(tr("Throughput"), this, [this] { openThroughput(); });
    throughput->setToolTip(
        tr("The leads' review: outcomes per day, GPU-hours, failure causes, queue wait, time to first step"));
    m_actions.insert(QStringLiteral("throughput"), throughput);
    QAction *preflight = toolbar->addAction(tr("GPU preflight"), this, [this] { openPreflight(); });
    preflight->setToolTip(
        tr("Are the GPUs and their links healthy? NCCL collectives checked and timed, against the link's bandwidth"));
    m_actions.insert(QStringLiteral("preflight"), preflight);
    auto importButton = new QToolButton(this);
    importButton->setObjectName(QStringLiteral("importButton"));
    importButton->setText(tr("Import"));
    importButton->setToolTip(tr("Bring in history: a TensorBoard logdir or an MLflow store (mlruns)"));
    importButton->setPopupMode(QToolButton::InstantPopup);
    importButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    importButton->setMenu(m_importMenu);
    toolbar->addWidget(importButton);
    toolbar->addAction(m_serveSwitch->action());
    connect(
        m_importMenu, &HistoryImportMenu::imported, this, [this](const QString &summary, const QStringList &problems) {
            statusBar()->showMessage(summary, 10000);
            refreshFromStore();
            if (!problems.isEmpty())
                showWarning(this, tr("Import"), summary + QStringLiteral("\n\n") + problems.join(QLatin1Char('\n')));
        });
    connect(m_importMenu, &HistoryImportMenu::importFailed, this,
            [this](const QString &message) { showWarning(this, tr("Import failed"), message); });
    QAction *compare = toolbar->addAction(tr("Compare"), this, [this] { openCompare(); });
    compare->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    compare->setToolTip(tr("Compare the selected runs (Ctrl+D): charts of every metric and their params side by side"));
    m_actions.insert(QStringLiteral("compare"), compare);
}

// The menu bar, as desktop applications have it: File, Run, View and Help, with the standard shortcuts. The actions
// are the toolbar's where there is one.
void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *openWorkspace = file->addAction(tr("&Open workspace…"), this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Open a workspace"), m_workspaceRoot);
        if (!folder.isEmpty())
            emit openWorkspaceRequested(folder);
    });
    openWorkspace->setShortcut(QKeySequence::Open);
    m_actions.insert(QStringLiteral("openWorkspace"), openWorkspace);
    m_recentMenu = file->addMenu(tr("&Recent workspaces"));
    m_recentMenu->setObjectName(QStringLiteral("recentWorkspaces"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::fillRecentMenu);
    m_actions.insert(QStringLiteral("newWorkspace"), file->addAction(tr("&New workspace…"), this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(
            this, tr("A new workspace: choose or create an empty folder"), QDir::homePath());
        if (!folder.isEmpty())
            emit openWorkspaceRequested(folder);
    }));
    file->addSeparator();
    QMenu *import = file->addMenu(tr("&Import"));
    for (QAction *action : m_importMenu->actions())
        import->addAction(action);
    QMenu *exportMenu = file->addMenu(tr("&Export"));
    m_actions.insert(QStringLiteral("exportRuns"), exportMenu->addAction(tr("Runs shown, as &CSV…"), this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export runs"), QStringLiteral("runs.csv"), tr("CSV (*.csv)"));
        if (!path.isEmpty())
            (void)exportRunsCsv(path);
    }));
    m_actions.insert(QStringLiteral("exportBundle"), exportMenu->addAction(tr("Workspace &bundle…"), this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export the workspace as one bundle file"),
                                         QStringLiteral("workspace.trainyard"), tr("Trainyard bundles (*.trainyard)"));
        if (!path.isEmpty())
            (void)exportWorkspaceBundle(path);
    }));
    file->addSeparator();
    QAction *settings = file->addAction(tr("&Settings…"), this, [this] {
        auto dialog = new SettingsDialog(m_notificationSettings, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &QDialog::accepted, this, [this, dialog] { setNotificationSettings(dialog->settings()); });
        dialog->open();
    });
    settings->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    settings->setMenuRole(QAction::PreferencesRole);
    m_actions.insert(QStringLiteral("settings"), settings);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);
    m_actions.insert(QStringLiteral("quit"), quit);

    QMenu *run = menuBar()->addMenu(tr("&Run"));
    for (const char *name : {"newRun", "compose", "clone", "openRun"})
        run->addAction(m_actions.value(QLatin1String(name)));
    run->addSeparator();
    buildHousekeepingActions(run);
    run->addSeparator();
    run->addAction(m_actions.value(QStringLiteral("backends")));

    QMenu *view = menuBar()->addMenu(tr("&View"));
    const QList<QPair<QString, int>> fixedTabs = {{tr("&Runs"), 0}, {tr("&Queue"), 1}, {tr("&Sweeps"), 2}};
    for (const auto &[title, index] : fixedTabs) {
        const int tab = index; // clang 14 cannot capture a structured binding
        QAction *show = view->addAction(title, this, [this, tab] { m_tabs->setCurrentIndex(tab); });
        show->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + tab)));
        m_actions.insert(QStringLiteral("viewTab%1").arg(tab), show);
    }
    QAction *find = view->addAction(tr("&Filter runs"), this, [this] {
        m_tabs->setCurrentIndex(0);
        m_filterEdit->setFocus(Qt::ShortcutFocusReason);
        m_filterEdit->selectAll();
    });
    find->setShortcut(QKeySequence::Find);
    m_actions.insert(QStringLiteral("filter"), find);
    view->addSeparator();
    for (const char *name : {"compare", "throughput", "preflight"})
        view->addAction(m_actions.value(QLatin1String(name)));
    view->addSeparator();
    QAction *fullScreen = view->addAction(tr("&Full screen"), this, [this](bool on) {
        if (on)
            showFullScreen();
        else
            showNormal();
    });
    fullScreen->setCheckable(true);
    fullScreen->setShortcut(QKeySequence::FullScreen);
    m_actions.insert(QStringLiteral("fullScreen"), fullScreen);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    QAction *guide = help->addAction(tr("&User guide"), this, [this] {
        const QString path = userGuidePath();
        if (path.isEmpty() || !QDesktopServices::openUrl(QUrl::fromLocalFile(path)))
            showWarning(this, tr("User guide"),
                        tr("The user guide is docs/USER_GUIDE.md in Trainyard's sources%1.")
                            .arg(path.isEmpty() ? QString() : tr(" (here: %1)").arg(path)));
    });
    guide->setShortcut(QKeySequence::HelpContents);
    m_actions.insert(QStringLiteral("userGuide"), guide);
    m_actions.insert(QStringLiteral("shortcuts"), help->addAction(tr("&Keyboard shortcuts"), this, [this] {
        QMessageBox::information(this, tr("Keyboard shortcuts"), shortcutsText());
    }));
    QAction *about = help->addAction(tr("&About Trainyard"), this,
                                     [this] { QMessageBox::about(this, tr("About Trainyard"), aboutText()); });
    about->setMenuRole(QAction::AboutRole);
    m_actions.insert(QStringLiteral("about"), about);
}

// Resume, Cancel, Rename (F2), Edit tags, Edit notes, Archive and Delete (the Delete key), each on the target runs.
void MainWindow::buildHousekeepingActions(QMenu *runMenu)
{
    const auto addRunAction = [&](const char *name, const QString &text, const QKeySequence &shortcut, auto onRuns) {
        QAction *action = runMenu->addAction(text, this, [this, onRuns] {
            const QList<RunRecord> runs = runsById(targetRunIds());
            if (runs.isEmpty())
                statusBar()->showMessage(tr("Select a run first"), 5000);
            else
                onRuns(runs);
        });
        action->setShortcut(shortcut);
        m_actions.insert(QLatin1String(name), action);
        return action;
    };
    addRunAction("resumeRun", tr("Res&ume (paused in the queue)"), {}, [this](const QList<RunRecord> &runs) {
        const QString root = m_workspaceRoot;
        const QString runId = runs.first().id;
        runOffUiThread(
            this,
            [root, runId]() -> QString {
                auto workspace = Workspace::openIfExists(root);
                if (!workspace || !workspace->has_value())
                    return tr("the workspace at %1 cannot be opened").arg(root);
                auto writer = StoreWriter::start(workspace->value().database());
                if (!writer)
                    return writer.error();
                auto resumed = runqueue::setPaused(*writer.value(), runId, false);
                return resumed ? QString() : resumed.error();
            },
            [this, runId](const QString &error) {
                if (error.isEmpty())
                    statusBar()->showMessage(tr("Run %1 resumed in the queue").arg(runId), 5000);
                else
                    showWarning(this, tr("Resume"), error);
                refreshFromStore();
            });
    });
    QAction *cancel = m_actions.value(QStringLiteral("cancelRun"));
    runMenu->addAction(cancel);
    runMenu->addSeparator();
    addRunAction("rename", tr("Re&name…"), QKeySequence(Qt::Key_F2),
                 [this](const QList<RunRecord> &runs) { m_runActions->askRename(runs.first()); });
    addRunAction("editTags", tr("Edit &tags…"), QKeySequence(Qt::CTRL | Qt::Key_T),
                 [this](const QList<RunRecord> &runs) { m_runActions->askTags(runs.first()); });
    addRunAction("editNotes", tr("Edit n&otes…"), {},
                 [this](const QList<RunRecord> &runs) { openRunPage(runs.first().id)->editNotes(); });
    addRunAction("archive", tr("&Archive"), {}, [this](const QList<RunRecord> &runs) {
        // Archive, or bring back when every target is archived already (the action's text says which).
        const bool allArchived =
            std::all_of(runs.cbegin(), runs.cend(), [](const RunRecord &run) { return run.isArchived(); });
        QStringList ids;
        for (const RunRecord &run : runs)
            ids << run.id;
        (void)m_runActions->setArchived(ids, !allArchived);
    });
    addRunAction("deleteRuns", tr("&Delete…"), QKeySequence::Delete,
                 [this](const QList<RunRecord> &runs) { m_runActions->askDelete(runs); });
    connect(runMenu, &QMenu::aboutToShow, this, &MainWindow::updateArchiveAction);
    connect(m_runActions, &RunActions::done, this, [this](const QString &message) {
        statusBar()->showMessage(message, 10000);
        refreshFromStore();
    });
    connect(m_runActions, &RunActions::failed, this, [this](const QString &title, const QString &message) {
        showWarning(this, title, message);
        refreshFromStore();
    });
}

void MainWindow::updateArchiveAction()
{
    const QList<RunRecord> runs = runsById(targetRunIds());
    const bool allArchived = !runs.isEmpty()
        && std::all_of(runs.cbegin(), runs.cend(), [](const RunRecord &run) { return run.isArchived(); });
    m_actions.value(QStringLiteral("archive"))->setText(allArchived ? tr("Un&archive") : tr("&Archive"));
}

// A click on a desktop notification opens its run; without a notification service, the status bar and the tray say it.
void MainWindow::setUpNotifications()
{
    connect(m_notifier, &DesktopNotifier::activated, this, [this](const QString &runId) {
        showNormal();
        raise();
        activateWindow();
        openRunPage(runId);
    });
    connect(m_notifier, &DesktopNotifier::undelivered, this,
            [this](const QString &title, const QString &body, const QString &runId, const QString &why) {
                qCInfo(lcUi, "notification not delivered (%s): %s", qPrintable(why), qPrintable(title));
                statusBar()->showMessage(QStringLiteral("%1 — %2").arg(title, body), 60000);
                if (!QSystemTrayIcon::isSystemTrayAvailable())
                    return;
                if (!m_tray) {
                    m_tray = new QSystemTrayIcon(windowIcon(), this);
                    connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
                        if (!m_trayRunId.isEmpty())
                            openRunPage(m_trayRunId);
                    });
                    m_tray->show();
                }
                m_trayRunId = runId;
                m_tray->showMessage(title, body);
            });
}

void MainWindow::notifyUser(const RunNotification &notification)
{
    emit notificationRaised(notification);
    m_notifier->notify(notification.title, notification.body, notification.runId);
}

void MainWindow::setNotificationSettings(const NotificationSettings &settings)
{
    m_notificationSettings = settings;
    settings.save();
}

QStringList MainWindow::targetRunIds() const
{
    if (auto page = qobject_cast<RunPage *>(m_tabs->currentWidget()))
        return {page->runId()};
    QStringList ids = selectedRunIds();
    if (ids.isEmpty() && m_runsView->currentIndex().isValid())
        ids << m_runsView->currentIndex().data(RunTableModel::RunIdRole).toString();
    return ids;
}

QSize MainWindow::defaultSize(const QSize &available)
{
    return {std::min(kDefaultWidth, available.width()), std::min(kDefaultHeight, available.height())};
}

QIcon MainWindow::themedIcon(const QString &themeName, const QString &fallback)
{
    return QIcon::fromTheme(themeName, QIcon(QStringLiteral(":/icons/actions/%1.svg").arg(fallback)));
}

// The desktop theme's icon for each main action (freedesktop icon naming), else the one shipped in resources/.
void MainWindow::setActionIcons()
{
    const QList<std::array<const char *, 3>> icons = {
        {"newRun", "media-playback-start", "new-run"},
        {"openRun", "document-open", "open-run"},
        {"cancelRun", "process-stop", "cancel"},
        {"compose", "document-edit", "compose"},
        {"clone", "edit-copy", "clone"},
        {"compare", "view-statistics", "compare"},
        {"throughput", "x-office-spreadsheet", "throughput"},
        {"preflight", "utilities-system-monitor", "preflight"},
        {"deleteRuns", "edit-delete", "delete"},
        {"rename", "edit-rename", "rename"},
    };
    for (const auto &[name, themeName, fallback] : icons)
        if (QAction *named = m_actions.value(QLatin1String(name)))
            named->setIcon(themedIcon(QLatin1String(themeName), QLatin1String(fallback)));
    if (auto importButton = findChild<QToolButton *>(QStringLiteral("importButton")))
        importButton->setIcon(themedIcon(QStringLiteral("document-import"), QStringLiteral("import")));
}

QString MainWindow::aboutText()
{
    return tr("Trainyard %1\nCompose, launch, watch and compare training runs.\n\nQt %2 (built with %3)\nSQLite %4")
        .arg(QString::fromLatin1(kVersion), QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR),
             QString::fromLatin1(sqlite3_libversion()));
}

QString MainWindow::shortcutsText() const
{
    QStringList lines;
    for (QMenu *menu : menuBar()->findChildren<QMenu *>()) {
        for (QAction *action : menu->actions()) {
            if (!action->shortcut().isEmpty())
                lines << QStringLiteral("%1\t%2").arg(action->shortcut().toString(QKeySequence::NativeText),
                                                      QString(action->text()).remove(QLatin1Char('&')));
        }
    }
    lines.removeDuplicates();
    return lines.join(QLatin1Char('\n'));
}

QString MainWindow::userGuidePath()
{
    // Installed (the .deb's share/doc), or beside the sources the binary was built from.
    const QStringList candidates = {QCoreApplication::applicationDirPath()
                                        + QStringLiteral("/../share/doc/trainyard/USER_GUIDE.md"),
                                    QStringLiteral(TRAINYARD_SOURCE_DIR "/docs/USER_GUIDE.md")};
    for (const QString &candidate : candidates) {
        if (QFileInfo::exists(candidate))
            return QFileInfo(candidate).canonicalFilePath();
    }
    return {};
}

QStringList MainWindow::recentWorkspaces()
{
    return QSettings().value(QLatin1String(kRecentWorkspacesKey)).toStringList();
}

void MainWindow::rememberWorkspace(const QString &root)
{
    QStringList recent = recentWorkspaces();
    recent.removeAll(root);
    recent.prepend(root);
    QSettings().setValue(QLatin1String(kRecentWorkspacesKey), recent.mid(0, kMaxRecentWorkspaces));
}

void MainWindow::fillRecentMenu()
{
    m_recentMenu->clear();
    for (const QString &root : recentWorkspaces()) {
        QAction *open = m_recentMenu->addAction(root, this, [this, root] { emit openWorkspaceRequested(root); });
        open->setEnabled(root != m_workspaceRoot);
    }
    if (m_recentMenu->isEmpty())
        m_recentMenu->addAction(tr("(none yet)"))->setEnabled(false);
}

QAction *MainWindow::action(const QString &name) const { return m_actions.value(name); }

void MainWindow::warn(const QString &title, const QString &text) { showWarning(this, title, text); }

// The status bar: the workspace, and the MLflow API's address while the window serves it.
void MainWindow::setUpStatusBar()
{
    auto serving = new QLabel(this);
    serving->setObjectName(QStringLiteral("servingLabel"));
    serving->setTextInteractionFlags(Qt::TextSelectableByMouse);
    serving->hide();
    statusBar()->addPermanentWidget(serving);
    connect(m_serveSwitch, &MlflowServeSwitch::started, this, [this, serving](const QString &uri) {
        serving->setText(tr("MLflow API: %1").arg(uri));
        serving->setToolTip(tr("In a script's shell:\nexport MLFLOW_TRACKING_URI=%1\nexport MLFLOW_TRACKING_TOKEN=%2")
                                .arg(uri, QString::fromLatin1(m_serveSwitch->token())));
        serving->show();
    });
    connect(m_serveSwitch, &MlflowServeSwitch::stopped, serving, &QLabel::hide);
    connect(m_serveSwitch, &MlflowServeSwitch::failed, this,
            [this](const QString &message) { showWarning(this, tr("Cannot serve the MLflow API"), message); });
    statusBar()->showMessage(tr("Workspace: %1").arg(m_workspaceRoot));
}

// Opening runs (double-click), following the selection in the compare view, and what a launch from here does.
void MainWindow::connectRunActions()
{
    connect(m_runsView->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        if (m_compare && !selectedRunIds().isEmpty())
            updateCompareRuns();
    });
    connect(m_runsView, &QTableView::doubleClicked, this,
            [this](const QModelIndex &index) { openRunPage(index.data(RunTableModel::RunIdRole).toString()); });
    connect(m_launchHost, &LaunchHost::launched, this, [this](const QString &runId) {
        statusBar()->showMessage(tr("Launched run %1").arg(runId), 5000);
        refreshFromStore();
        openRunPage(runId);
    });
    connect(m_launchHost, &LaunchHost::launchFailed, this,
            [this](const QString &message) { QMessageBox::warning(this, tr("Launch failed"), message); });
}

// The watchers' runs and queue into the models; their progress and failures in the status bar.
void MainWindow::connectWatchers()
{
    connect(m_watcher, &RunListWatcher::runsChanged, this, &MainWindow::applyRuns);
    connect(m_sortedRuns, &RunFilterProxy::updatingChanged, this, [this](bool updating) {
        if (updating)
            statusBar()->showMessage(tr("Sorting and filtering %n run(s)…", nullptr, m_runsModel->rowCount()));
        else
            statusBar()->clearMessage();
    });
    connect(m_watcher, &RunListWatcher::loadingProgress, this, [this](qsizetype runsFound) {
        if (!m_watcher->hasRuns())
            m_emptyState->setText(loadingText(runsFound));
    });
    connect(m_queueWatcher, &QueueWatcher::queueChanged, m_queueModel, &QueueModel::setQueue);
    connect(m_queueView, &QueueView::changed, this, &MainWindow::refreshFromStore);
    connect(m_queueWatcher, &QueueWatcher::readFailed, this,
            [this](const QString &message) { statusBar()->showMessage(tr("Cannot read the queue: %1").arg(message)); });
    connect(m_watcher, &RunListWatcher::readFailed, this,
            [this](const QString &message) { statusBar()->showMessage(tr("Cannot read runs: %1").arg(message)); });
    connect(m_runsModel, &QAbstractItemModel::rowsInserted, this, &MainWindow::showRunsOrEmptyState);
    connect(m_runsModel, &QAbstractItemModel::rowsRemoved, this, &MainWindow::showRunsOrEmptyState);
}

void MainWindow::refreshFromStore()
{
    m_watcher->refresh();
    m_queueWatcher->refresh();
}

void MainWindow::applyRuns(const RunListChange &change)
{
    m_runsModel->applyChange(change);
    for (const RunNotification &notification : m_notificationDetector.update(change, m_notificationSettings))
        notifyUser(notification);
    // The sweeps tab sees the list again only when a sweep run changed, and while the first list arrives in
    // chunks, only once it is complete.
    bool sweepChanged = change.complete || !change.removed.isEmpty();
    for (const RunRecord &run : change.upserted)
        sweepChanged = sweepChanged || !run.sweepId.isEmpty();
    if (sweepChanged && m_watcher->hasRuns())
        m_sweepView->setRuns(m_runsModel->runs());
#ifdef __GLIBC__
    // The first list passed through the watcher's chunks, copies that are freed now: their pages go back to the system
    // (on a worker: walking the heap takes tens of milliseconds at 100,000 runs).
    if (change.complete)
        runInBackground([] { malloc_trim(0); });
#endif
    showRunsOrEmptyState();
    if (m_compare) { // fresher records of the compared runs: live charts extend
        const QStringList compared = m_compare->runIds();
        bool touched = change.complete || !change.removed.isEmpty();
        for (const RunRecord &run : change.upserted)
            touched = touched || compared.contains(run.id);
        if (touched)
            m_compare->setRuns(runsById(compared));
    }
}

QList<RunRecord> MainWindow::runsById(const QStringList &ids) const
{
    QList<RunRecord> runs;
    for (const QString &id : ids)
        if (const int row = m_runsModel->rowOfRun(id); row >= 0)
            runs << m_runsModel->runAt(row);
    return runs;
}

QFuture<QString> MainWindow::exportWorkspaceBundle(const QString &path)
{
    statusBar()->showMessage(tr("Exporting the workspace to %1…").arg(path));
    const QString root = m_workspaceRoot;
    return runOffUiThread(
        this,
        [root, path]() -> QString {
            auto workspace = Workspace::openIfExists(root);
            if (!workspace || !workspace->has_value())
                return tr("the workspace at %1 cannot be opened").arg(root);
            auto exported = exportBundle(workspace->value(), path);
            if (!exported)
                return exported.error();
            if (!exported->tooLarge.isEmpty())
                return tr("the bundle is written, without %1 artifact file(s) over the 1 GB a bundle holds per file: "
                          "%2")
                    .arg(exported->tooLarge.size())
                    .arg(exported->tooLarge.join(QStringLiteral(", ")));
            return QString();
        },
        [this, path](const QString &error) {
            if (error.isEmpty())
                statusBar()->showMessage(tr("Exported the workspace to %1").arg(path), 10000);
            else
                showWarning(this, tr("Export"), tr("Cannot export the workspace: %1").arg(error));
        });
}

QFuture<QString> MainWindow::exportRunsCsv(const QString &path)
{
    // The snapshot is taken here in O(1) (the runs are shared, not copied); the text is made and written off the UI
    // thread, whole or not at all.
    statusBar()->showMessage(tr("Exporting %n run(s) to %1…", nullptr, m_sortedRuns->rowCount()).arg(path));
    const int rows = m_sortedRuns->rowCount();
    return exportOffUiThread(
        this, path, [snapshot = m_sortedRuns->csvSnapshot()] { return snapshot.toCsv(); },
        [this, path, rows](const QString &error) {
            statusBar()->showMessage(error.isEmpty() ? tr("Exported %n run(s) to %1", nullptr, rows).arg(path)
                                                     : tr("Cannot export runs: %1").arg(error),
                                     10000);
        });
}

MainWindow::~MainWindow() = default;

RunPage *MainWindow::openRunPage(const QString &runId)
{
    for (int index = 3; index < m_tabs->count(); ++index) {
        auto page = qobject_cast<RunPage *>(m_tabs->widget(index));
        if (page && page->runId() == runId) {
            m_tabs->setCurrentIndex(index);
            return page;
        }
    }
    auto page = new RunPage(m_databasePath, runId, m_workspaceRoot + QStringLiteral("/runs/") + runId, m_tabs);
    connect(page, &RunPage::cancelRequested, this, &MainWindow::requestCancel);
    connect(page, &RunPage::resumeRequested, this, &MainWindow::resumeFromCheckpoint);
    connect(page, &RunPage::notesEdited, m_runActions,
            [this](const QString &runId, const QString &notes) { (void)m_runActions->setNotes(runId, notes); });
    m_tabs->setCurrentIndex(m_tabs->addTab(page, runId));
    return page;
}

void MainWindow::requestCancel(const QString &runId)
{
    // The cancel-request file reaches the supervisor whichever process runs it (this window or a terminal).
    const QString path = cancelRequestPath(m_workspaceRoot + QStringLiteral("/runs/") + runId);
    statusBar()->showMessage(tr("Canceling run %1…").arg(runId), 5000);
    runOffUiThread(
        this,
        [path] {
            QFile request(path);
            return request.open(QIODevice::WriteOnly) ? QString() : request.errorString();
        },
        [this, runId, path](const QString &error) {
            if (!error.isEmpty())
                statusBar()->showMessage(tr("Cannot cancel run %1: %2: %3").arg(runId, path, error), 10000);
        });
}

void MainWindow::showNewRunDialog()
{
    auto dialog = new NewRunDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        if (auto launch = dialog->launch())
            m_launchHost->launch(launch.value());
    });
    dialog->open();
}

QStringList MainWindow::selectedRunIds() const
{
    QStringList ids;
    for (const QModelIndex &index : m_runsView->selectionModel()->selectedRows())
        ids << index.data(RunTableModel::RunIdRole).toString();
    return ids;
}

CompareView *MainWindow::openCompare(const QStringList &runIds)
{
    if (!m_compare) {
        m_compare = new CompareView(m_databasePath, m_tabs);
        connect(m_compare, &CompareView::runColorsChanged, m_runsModel, &RunTableModel::setRunColors);
        connect(m_compare, &CompareView::runActivated, this, [this](const QString &runId) { openRunPage(runId); });
        m_tabs->addTab(m_compare, tr("Compare"));
    }
    QStringList ids = runIds.isEmpty() ? selectedRunIds() : runIds;
    m_compare->setRuns(runsById(ids));
    m_tabs->setCurrentWidget(m_compare);
    return m_compare;
}

ThroughputView *MainWindow::openThroughput()
{
    if (!m_throughput) {
        m_throughput = new ThroughputView(m_workspaceRoot, m_tabs);
        connect(m_throughput, &ThroughputView::openRunRequested, this,
                [this](const QString &runId) { openRunPage(runId); });
        m_tabs->addTab(m_throughput, tr("Throughput"));
    }
    m_tabs->setCurrentWidget(m_throughput);
    return m_throughput;
}

PreflightView *MainWindow::openPreflight()
{
    if (!m_preflight) {
        m_preflight = new PreflightView(m_workspaceRoot, m_tabs);
        m_tabs->addTab(m_preflight, tr("GPU preflight"));
    }
    m_tabs->setCurrentWidget(m_preflight);
    return m_preflight;
}

ComposePanel *MainWindow::openCompose()
{
    if (!m_compose) {
        m_compose = new ComposePanel(m_workspaceRoot, m_tabs);
        connect(m_compose, &ComposePanel::launchRequested, this, [this](const RunSpec &spec, const QByteArray &yaml) {
            if (spec.sweep.isEmpty()) {
                m_launchHost->launch(localLaunchFor(spec));
                return;
            }
            // A sweep is queued off the UI thread, through its own writer.
            const QString root = m_workspaceRoot;
            runOffUiThread(
                this,
                [root, spec, yaml]() -> QString {
                    auto workspace = Workspace::open(root);
                    if (!workspace)
                        return tr("Cannot queue the sweep: %1").arg(workspace.error());
                    auto writer = StoreWriter::start(workspace->database());
                    if (!writer)
                        return tr("Cannot queue the sweep: %1").arg(writer.error());
                    auto queued =
                        runqueue::enqueueSweep(workspace.value(), *writer.value(), spec, yaml, QStringLiteral("sweep"));
                    if (!queued)
                        return tr("Cannot queue the sweep: %1").arg(queued.error());
                    if (spec.sweep.method == SweepSpec::Method::Tpe)
                        return tr("Queued sweep %1: %2 trials proposed one by one by Optuna's TPE; `trainyard queue "
                                  "work` runs them")
                            .arg(queued->name)
                            .arg(spec.sweep.trials);
                    return tr("Queued %1 runs of sweep %2; `trainyard queue work` starts them")
                        .arg(queued->runIds.size())
                        .arg(queued->name);
                },
                [this](const QString &message) {
                    statusBar()->showMessage(message, 10000);
                    refreshFromStore();
                });
        });
        m_tabs->addTab(m_compose, tr("Compose"));
    }
    m_tabs->setCurrentWidget(m_compose);
    return m_compose;
}

void MainWindow::selectRuns(const QStringList &runIds)
{
    const QSet<QString> wanted(runIds.cbegin(), runIds.cend());
    QItemSelection selection;
    for (int row = 0; row < m_sortedRuns->rowCount(); ++row) {
        const QModelIndex index = m_sortedRuns->index(row, 0);
        if (wanted.contains(index.data(RunTableModel::RunIdRole).toString()))
            selection.select(index, index);
    }
    m_runsView->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    statusBar()->showMessage(tr("%1 runs selected from the brushed ranges").arg(selection.indexes().size()), 5000);
}

void MainWindow::resumeFromCheckpoint(const QString &runId, qint64 step)
{
    // The parent's spec.yaml is read off the UI thread; the compose panel opens with resume_from set.
    const QString path =
        m_workspaceRoot + QStringLiteral("/runs/") + runId + QLatin1Char('/') + QLatin1String(kSpecFileName);
    const QList<RunRecord> found = runsById({runId});
    const QString name = found.isEmpty() ? runId : found.first().name;
    runOffUiThread(
        this,
        [path] {
            QFile file(path);
            return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
        },
        [this, runId, step, name](const QByteArray &yaml) {
            if (yaml.isEmpty()) {
                statusBar()->showMessage(tr("Run %1 has no spec.yaml to resume from").arg(runId), 8000);
                return;
            }
            if (const QString error = openCompose()->resumeFrom(runId, yaml, step, name); !error.isEmpty())
                statusBar()->showMessage(tr("Cannot resume run %1 from step %2: %3").arg(runId).arg(step).arg(error),
                                         10000);
        });
}

void MainWindow::cloneWithChanges(const QString &runId)
{
    // The parent's spec.yaml is read off the UI thread.
    const QString path =
        m_workspaceRoot + QStringLiteral("/runs/") + runId + QLatin1Char('/') + QLatin1String(kSpecFileName);
    runOffUiThread(
        this,
        [path] {
            QFile file(path);
            return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
        },
        [this, runId](const QByteArray &yaml) {
            if (yaml.isEmpty()) {
                statusBar()->showMessage(tr("Run %1 has no spec.yaml to clone").arg(runId), 8000);
                return;
            }
            openCompose()->cloneFrom(runId, yaml);
        });
}

void MainWindow::updateCompareRuns() { m_compare->setRuns(runsById(selectedRunIds())); }

void MainWindow::applyFilter(const QString &query)
{
    RunFilter::ParseError error;
    if (m_sortedRuns->setQuery(query, &error)) {
        m_filterError->hide();
        m_filterEdit->setStyleSheet(QString());
        return;
    }
    m_filterError->setText(error.display(query)); // plain text in a monospace font: the caret lines up
    m_filterError->show();
    m_filterEdit->setStyleSheet(QStringLiteral("QLineEdit { border: 1px solid %1; }").arg(errorTextColor().name()));
}

void MainWindow::fillColumnsMenu()
{
    m_columnsMenu->clear();
    const QList<RunTableModel::ExtraColumn> current = m_runsModel->extraColumns();
    const auto toggle = [this](const RunTableModel::ExtraColumn &column, bool on) {
        QList<RunTableModel::ExtraColumn> columns = m_runsModel->extraColumns();
        columns.removeAll(column);
        if (on)
            columns << column;
        m_runsModel->setExtraColumns(columns);
        QStringList ids;
        for (const auto &c : columns)
            ids << c.id();
        QSettings().setValue(QLatin1String(kExtraColumnsKey), ids);
    };
    const auto addItem = [&](QMenu *menu, const QString &text, const RunTableModel::ExtraColumn &column) {
        QAction *action = menu->addAction(text);
        action->setCheckable(true);
        action->setChecked(current.contains(column));
        connect(action, &QAction::toggled, this, [toggle, column](bool on) { toggle(column, on); });
    };
    QMenu *params = m_columnsMenu->addMenu(tr("Params"));
    for (const QString &key : m_runsModel->paramKeys())
        addItem(params, key, {RunTableModel::ExtraColumn::Kind::Param, key});
    params->setEnabled(!params->isEmpty());
    QMenu *metrics = m_columnsMenu->addMenu(tr("Metrics"));
    for (const QString &key : m_runsModel->metricKeys()) {
        QMenu *stats = metrics->addMenu(key);
        addItem(stats, tr("last"), {RunTableModel::ExtraColumn::Kind::MetricLast, key});
        addItem(stats, tr("min"), {RunTableModel::ExtraColumn::Kind::MetricMin, key});
        addItem(stats, tr("max"), {RunTableModel::ExtraColumn::Kind::MetricMax, key});
    }
    metrics->setEnabled(!metrics->isEmpty());
}

bool MainWindow::isShowingEmptyState() const { return m_pages->currentWidget() == m_emptyState; }

void MainWindow::showRunsOrEmptyState()
{
    // Until the first list has arrived the workspace is loading, not empty.
    if (m_runsModel->rowCount() == 0)
        m_emptyState->setText(m_watcher->hasRuns() ? emptyStateText() : loadingText(-1));
    m_pages->setCurrentWidget(m_runsModel->rowCount() == 0 ? m_emptyState : m_pages->widget(1));
}

bool MainWindow::isLoadingRuns() const { return !m_watcher->hasRuns(); }

void MainWindow::restoreLayout()
{
    QSettings settings;
    restoreGeometry(settings.value(QLatin1String(kGeometryKey)).toByteArray());
    restoreState(settings.value(QLatin1String(kStateKey)).toByteArray());
    m_runsView->horizontalHeader()->restoreState(settings.value(QLatin1String(kRunsHeaderKey)).toByteArray());
}

void MainWindow::saveLayout() const
{
    QSettings settings;
    settings.setValue(QLatin1String(kGeometryKey), saveGeometry());
    settings.setValue(QLatin1String(kStateKey), saveState());
    settings.setValue(QLatin1String(kRunsHeaderKey), m_runsView->horizontalHeader()->saveState());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveLayout();
    event->accept();
}

} // namespace trainyard
