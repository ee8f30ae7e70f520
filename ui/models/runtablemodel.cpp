// The runs table model. Updates arrive as whole lists from the watcher and are applied as a diff by run id.
#include "models/runtablemodel.h"

#include <QHash>
#include <QTimer>

namespace trainyard {

namespace {
constexpr int kDurationTickMs = 1000;
} // namespace

QString formatDuration(qint64 seconds)
{
    const qint64 hours = seconds / 3600;
    const qint64 minutes = (seconds % 3600) / 60;
    const qint64 rest = seconds % 60;
    if (hours > 0)
        return QStringLiteral("%1h %2m").arg(hours).arg(minutes, 2, 10, QLatin1Char('0'));
    if (minutes > 0)
        return QStringLiteral("%1m %2s").arg(minutes).arg(rest, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1s").arg(rest);
}

RunTableModel::RunTableModel(QObject *parent) : QAbstractTableModel(parent), m_durationTimer(new QTimer(this))
{
    m_durationTimer->setInterval(kDurationTickMs);
    connect(m_durationTimer, &QTimer::timeout, this, &RunTableModel::tickDurations);
}

QColor RunTableModel::statusColor(RunStatus status)
{
    switch (status) {
    case RunStatus::Queued: return QColor(0x75, 0x75, 0x75);
    case RunStatus::Starting: return QColor(0x00, 0x83, 0x8f);
    case RunStatus::Running: return QColor(0x15, 0x65, 0xc0);
    case RunStatus::Restarting: return QColor(0xef, 0x6c, 0x00);
    case RunStatus::Succeeded: return QColor(0x2e, 0x7d, 0x32);
    case RunStatus::Failed: return QColor(0xc6, 0x28, 0x28);
    case RunStatus::Canceled: return QColor(0x6d, 0x4c, 0x41);
    case RunStatus::Lost: return QColor(0x8e, 0x24, 0xaa);
    }
    return Qt::black;
}

void RunTableModel::setNow(const QDateTime &now) { m_pinnedNow = now; }

QDateTime RunTableModel::now() const { return m_pinnedNow.isValid() ? m_pinnedNow : QDateTime::currentDateTimeUtc(); }

void RunTableModel::setRuns(const QList<RunRecord> &runs)
{
    QHash<QString, qsizetype> incomingById;
    for (qsizetype i = 0; i < runs.size(); ++i)
        incomingById.insert(runs[i].id, i);

    // Remove rows whose run is gone, from the bottom up so row numbers stay valid.
    for (int row = int(m_runs.size()) - 1; row >= 0; --row) {
        if (!incomingById.contains(m_runs[row].id)) {
            beginRemoveRows({}, row, row);
            m_runs.removeAt(row);
            endRemoveRows();
        }
    }
    // Update rows that changed.
    QHash<QString, int> rowById;
    for (int row = 0; row < m_runs.size(); ++row) {
        rowById.insert(m_runs[row].id, row);
        const RunRecord &incoming = runs[incomingById.value(m_runs[row].id)];
        if (!(incoming == m_runs[row])) {
            m_runs[row] = incoming;
            emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
        }
    }
    // Append new runs in their incoming order; the view's proxy does the sorting.
    QList<RunRecord> added;
    for (const RunRecord &run : runs) {
        if (!rowById.contains(run.id))
            added << run;
    }
    if (!added.isEmpty()) {
        const int first = int(m_runs.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        m_runs.append(added);
        endInsertRows();
    }

    bool anyActive = false;
    for (const RunRecord &run : m_runs)
        anyActive = anyActive || isActive(run.status);
    if (anyActive && !m_durationTimer->isActive())
        m_durationTimer->start();
    else if (!anyActive)
        m_durationTimer->stop();
}

void RunTableModel::tickDurations()
{
    for (int row = 0; row < m_runs.size(); ++row) {
        if (isActive(m_runs[row].status))
            emit dataChanged(index(row, DurationColumn), index(row, DurationColumn), {Qt::DisplayRole, SortRole});
    }
}

int RunTableModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_runs.size()); }

int RunTableModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RunRecord &run = m_runs.at(index.row());
    if (role == RunIdRole)
        return run.id;
    const auto duration = run.durationSeconds(now());
    switch (index.column()) {
    case NameColumn:
        if (role == Qt::DisplayRole || role == SortRole)
            return run.name;
        if (role == Qt::ToolTipRole)
            return QStringLiteral("%1\n%2").arg(run.id, run.command.join(QLatin1Char(' ')));
        break;
    case StatusColumn:
        if (role == Qt::DisplayRole || role == SortRole)
            return toString(run.status);
        if (role == Qt::ForegroundRole)
            return statusColor(run.status);
        if (role == Qt::DecorationRole)
            return statusColor(run.status); // drawn by the delegate as a solid swatch
        break;
    case StartedColumn: {
        const QDateTime shown = run.startedAt.isValid() ? run.startedAt : run.createdAt;
        if (role == Qt::DisplayRole)
            return shown.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        if (role == SortRole)
            return shown.toMSecsSinceEpoch();
        break;
    }
    case DurationColumn:
        if (role == Qt::DisplayRole)
            return duration ? formatDuration(*duration) : QString();
        if (role == SortRole)
            return duration ? *duration : qint64(-1);
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case TagsColumn:
        if (role == Qt::DisplayRole || role == SortRole)
            return run.tags.join(QStringLiteral(", "));
        break;
    default: break;
    }
    return {};
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Name");
    case StatusColumn: return tr("Status");
    case StartedColumn: return tr("Started");
    case DurationColumn: return tr("Duration");
    case TagsColumn: return tr("Tags");
    default: return {};
    }
}

} // namespace trainyard
