// The main window: presents the run list that RunListWatcher reads off the UI thread.
#include "mainwindow.h"

#include "models/runtablemodel.h"
#include "store/runlistwatcher.h"
#include "store/workspace.h"

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
        "<p>Launch a first run from a terminal, for example a data-parallel script on two CPU ranks:</p>"
        "<pre>trainyard launch --nproc-per-node 2 --name first-run -- \\\n"
        "    /usr/bin/python3 train.py</pre>"
        "<p>or any command that works under <tt>torchrun</tt>:</p>"
        "<pre>trainyard launch --nproc-per-node N -- COMMAND ARGS...</pre>"
        "<p>Runs appear here live as they start, from this window or any other process.</p>");
}
} // namespace

MainWindow::MainWindow(const Workspace &workspace, QWidget *parent)
    : QMainWindow(parent),
      m_runsModel(new RunTableModel(this)),
      m_sortedRuns(new QSortFilterProxyModel(this)),
      m_pages(new QStackedWidget(this)),
      m_runsView(new QTableView(m_pages)),
      m_emptyState(new QLabel(m_pages)),
      m_watcher(new RunListWatcher(workspace.database().path(), this))
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
    setCentralWidget(m_pages);
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
