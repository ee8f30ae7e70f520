#include "models/queuemodel.h"

#include <QHash>

namespace trainyard {

QueueModel::QueueModel(QObject *parent) : QAbstractTableModel(parent) { }

void QueueModel::setQueue(const QList<QueuedRun> &queue)
{
    QHash<QString, qsizetype> incoming;
    for (qsizetype i = 0; i < queue.size(); ++i)
        incoming.insert(queue[i].runId, i);
    for (int row = int(m_runs.size()) - 1; row >= 0; --row) {
        if (!incoming.contains(m_runs[row].runId)) {
            beginRemoveRows({}, row, row);
            m_runs.removeAt(row);
            endRemoveRows();
        }
    }
    QSet<QString> present;
    for (int row = 0; row < m_runs.size(); ++row) {
        present.insert(m_runs[row].runId);
        const QueuedRun &fresh = queue[incoming.value(m_runs[row].runId)];
        if (!(fresh == m_runs[row])) {
            m_runs[row] = fresh;
            emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
        }
    }
    QList<QueuedRun> added;
    for (const QueuedRun &run : queue)
        if (!present.contains(run.runId))
            added << run;
    if (!added.isEmpty()) {
        beginInsertRows({}, int(m_runs.size()), int(m_runs.size() + added.size()) - 1);
        m_runs.append(added);
        endInsertRows();
    }
}

int QueueModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_runs.size()); }
int QueueModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant QueueModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QueuedRun &run = m_runs.at(index.row());
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
