// The main window: presents the run list that RunListWatcher reads off the UI thread.
#include "mainwindow.h"

#include "launch/launchhost.h"
#include "launch/supervisorrecord.h"
#include "models/runtablemodel.h"
#include "store/runlistwatcher.h"
#include "store/workspace.h"
#include "views/newrundialog.h"
#include "views/runpage.h"

#include <QAction>
#include <QFile>
#include <QMessageBox>
#include <QTabWidget>
#include <QToolBar>
#include <QtConcurrent/QtConcurrentRun>

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
constexpr int kDefaultWidth = 1100;
constexpr int kDefaultHeight = 700;

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
    : QMainWindow(parent),
      m_workspaceRoot(workspace.root()),
      m_databasePath(workspace.database().path()),
      m_runsModel(new RunTableModel(this)),
      m_tabs(new QTabWidget(this)),
      m_sortedRuns(new QSortFilterProxyModel(this)),
      m_pages(new QStackedWidget(this)),
      m_runsView(new QTableView(m_pages)),
      m_emptyState(new QLabel(m_pages)),
      m_watcher(new RunListWatcher(workspace.database().path(), this)),
      m_launchHost(new LaunchHost(workspace, this))
{
    setWindowTitle(tr("Trainyard — %1").arg(workspace.root()));
    setObjectName(QStringLiteral("mainWindow"));

    m_sortedRuns->setSourceModel(m_runsModel);
    m_sortedRuns->setSortRole(RunTableModel::SortRole);
    m_sortedRuns->setDynamicSortFilter(true);

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

    m_pages->addWidget(m_emptyState);
    m_pages->addWidget(m_runsView);
    m_tabs->setObjectName(QStringLiteral("tabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->setTabsClosable(true);
    m_tabs->addTab(m_pages, tr("Runs"));
    m_tabs->tabBar()->setTabButton(0, QTabBar::RightSide, nullptr); // the runs tab stays
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, [this](int index) {
        if (index > 0) {
            QWidget *page = m_tabs->widget(index);
            m_tabs->removeTab(index);
            page->deleteLater();
        }
    });
    setCentralWidget(m_tabs);

    QToolBar *toolbar = addToolBar(tr("Runs"));
    toolbar->setObjectName(QStringLiteral("runsToolbar"));
    QAction *newRun = toolbar->addAction(tr("New local run…"), this, &MainWindow::showNewRunDialog);
    newRun->setShortcut(QKeySequence::New);
    QAction *openRun = toolbar->addAction(tr("Open run"), this, [this] {
        const QModelIndex current = m_runsView->currentIndex();
        if (current.isValid())
            openRunPage(current.data(RunTableModel::RunIdRole).toString());
    });
    openRun->setShortcut(Qt::Key_Return);
    toolbar->addAction(tr("Cancel run"), this, [this] {
        const QModelIndex current = m_runsView->currentIndex();
        if (current.isValid())
            requestCancel(current.data(RunTableModel::RunIdRole).toString());
    });
    connect(m_runsView, &QTableView::doubleClicked, this,
            [this](const QModelIndex &index) { openRunPage(index.data(RunTableModel::RunIdRole).toString()); });
    connect(m_launchHost, &LaunchHost::launched, this, [this](const QString &runId) {
        statusBar()->showMessage(tr("Launched run %1").arg(runId), 5000);
        m_watcher->refresh();
        openRunPage(runId);
    });
    connect(m_launchHost, &LaunchHost::launchFailed, this,
            [this](const QString &message) { QMessageBox::warning(this, tr("Launch failed"), message); });
    statusBar()->showMessage(tr("Workspace: %1").arg(workspace.root()));

    connect(m_watcher, &RunListWatcher::runsChanged, this, [this](const QList<RunRecord> &runs) {
        m_runsModel->setRuns(runs);
        showRunsOrEmptyState();
    });
    connect(m_watcher, &RunListWatcher::readFailed, this,
            [this](const QString &message) { statusBar()->showMessage(tr("Cannot read runs: %1").arg(message)); });
    connect(m_runsModel, &QAbstractItemModel::rowsInserted, this, &MainWindow::showRunsOrEmptyState);
    connect(m_runsModel, &QAbstractItemModel::rowsRemoved, this, &MainWindow::showRunsOrEmptyState);

    resize(kDefaultWidth, kDefaultHeight);
    restoreLayout();
    showRunsOrEmptyState();
}

MainWindow::~MainWindow() = default;

RunPage *MainWindow::openRunPage(const QString &runId)
{
    for (int index = 1; index < m_tabs->count(); ++index) {
        auto page = qobject_cast<RunPage *>(m_tabs->widget(index));
        if (page && page->runId() == runId) {
            m_tabs->setCurrentIndex(index);
            return page;
        }
    }
    auto page = new RunPage(m_databasePath, runId, m_workspaceRoot + QStringLiteral("/runs/") + runId, m_tabs);
    connect(page, &RunPage::cancelRequested, this, &MainWindow::requestCancel);
    m_tabs->setCurrentIndex(m_tabs->addTab(page, runId));
    return page;
}

void MainWindow::requestCancel(const QString &runId)
{
    // The cancel-request file reaches the supervisor whichever process runs it (this window or a terminal).
    const QString path = cancelRequestPath(m_workspaceRoot + QStringLiteral("/runs/") + runId);
    (void)QtConcurrent::run([path] {
        QFile request(path);
        if (request.open(QIODevice::WriteOnly))
            request.close();
    });
    statusBar()->showMessage(tr("Canceling run %1…").arg(runId), 5000);
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

bool MainWindow::isShowingEmptyState() const { return m_pages->currentWidget() == m_emptyState; }

void MainWindow::showRunsOrEmptyState()
{
    m_pages->setCurrentWidget(m_runsModel->rowCount() == 0 ? static_cast<QWidget *>(m_emptyState) : m_runsView);
}

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
