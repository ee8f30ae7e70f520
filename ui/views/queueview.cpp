#include "views/queueview.h"

#include "models/queuemodel.h"
#include "store/storewriter.h"
#include "store/workspace.h"
#include "views/offuithread.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace trainyard {

QueueView::QueueView(const QString &workspaceRoot, QueueModel *model, QWidget *parent)
    : QWidget(parent), m_workspaceRoot(workspaceRoot), m_model(model), m_sorted(new QSortFilterProxyModel(this)),
      m_table(new QTableView(this))
{
    setObjectName(QStringLiteral("queueView"));
    m_sorted->setSourceModel(model);
    m_sorted->setSortRole(QueueModel::SortRole);
    m_sorted->setDynamicSortFilter(true);
    m_sorted->sort(QueueModel::PositionColumn);
    m_table->setModel(m_sorted);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    auto buttons = new QHBoxLayout;
    const QList<QPair<QString, Action>> actions = {{tr("Move up"), Action::Up},
                                                   {tr("Move down"), Action::Down},
                                                   {tr("Pause"), Action::Pause},
                                                   {tr("Resume"), Action::Resume},
                                                   {tr("Cancel"), Action::Cancel}};
    for (const auto &[text, action] : actions) {
        auto button = new QPushButton(text, this);
        connect(button, &QPushButton::clicked, this, [this, action = action] { act(action); });
        buttons->addWidget(button);
    }
    buttons->addStretch();
    auto note = new QLabel(tr("Queued runs start when <tt>trainyard queue work</tt> runs on this workspace "
                              "(see docs/QUEUE.md)."),
                           this);
    auto layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(m_table);
    layout->addWidget(note);
}

void QueueView::act(Action action)
{
    const QModelIndex current = m_table->currentIndex();
    if (!current.isValid())
        return;
    const QModelIndex source = m_sorted->mapToSource(current);
    const QueuedRun run = m_model->runAt(source.row());
    const QString root = m_workspaceRoot;
    runOffUiThread(
        this,
        [root, run, action] {
            auto workspace = Workspace::open(root);
            if (!workspace)
                return;
            auto writer = StoreWriter::start(workspace->database());
            if (!writer)
                return;
            switch (action) {
            case Action::Up:
                (void)runqueue::move(*writer.value(), run.runId, std::max(1, run.position - 1));
                break;
            case Action::Down:
                (void)runqueue::move(*writer.value(), run.runId, run.position + 1);
                break;
            case Action::Pause:
                (void)runqueue::setPaused(*writer.value(), run.runId, true);
                break;
            case Action::Resume:
                (void)runqueue::setPaused(*writer.value(), run.runId, false);
                break;
            case Action::Cancel:
                (void)runqueue::cancel(*writer.value(), run.runId);
                break;
            }
        },
        [this] { emit changed(); });
}

} // namespace trainyard
