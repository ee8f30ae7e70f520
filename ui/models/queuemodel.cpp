#include "models/queuemodel.h"

namespace trainyard {

QueueModel::QueueModel(QObject *parent) : KeyedRowModel(parent) { }

void QueueModel::setQueue(const QList<QueuedRun> &queue)
{
    const auto idOf = [](const QueuedRun &run) { return run.runId; };
    removeRowsAt(rowsNotIn(queue, idOf));
    upsertRows(
        queue, idOf, [](const QueuedRun &row, const QueuedRun &run) { return row == run; },
        [](const QueuedRun &run) { return run; });
}

QString QueueModel::keyOfRow(const QueuedRun &row) const { return row.runId; }

int QueueModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant QueueModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QueuedRun &run = m_rows.at(index.row());
    if (role == RunIdRole)
        return run.runId;
    if (role == SortRole)
        return run.position;
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case PositionColumn:
        return run.position;
    case RunColumn:
        return run.runId;
    case NameColumn:
        return run.name;
    case GpusColumn:
        return run.gpus ? QString::number(run.gpus) : tr("CPU slot");
    case StateColumn:
        return run.paused ? tr("paused") : tr("waiting");
    default:
        return {};
    }
}

QVariant QueueModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *const kTitles[] = {"#", "Run", "Name", "GPUs", "State"};
    return section >= 0 && section < ColumnCount ? tr(kTitles[section]) : QVariant();
}

} // namespace trainyard
