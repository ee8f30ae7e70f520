// The runs table model. Updates arrive from the watcher as changes (the runs that changed) and are applied by row.
#include "models/runtablemodel.h"

#include <QHash>
#include <QLocale>
#include <QSet>
#include <QTimeZone>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <functional>

namespace trainyard {

namespace {
constexpr int kDurationTickMs = 1000;
constexpr qsizetype kRowsAnnouncedOneByOne = 256;
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

RunTableModel::RunTableModel(QObject *parent) : KeyedRowModel(parent), m_durationTimer(new QTimer(this))
{
    m_durationTimer->setInterval(kDurationTickMs);
    connect(m_durationTimer, &QTimer::timeout, this, &RunTableModel::tickDurations);
}

QColor RunTableModel::statusColor(RunStatus status, const QPalette &palette)
{
    // Material's 800 shades on a light background, its 300 shades on a dark one: text of either kind stays readable
    // (a contrast of at least 4.5 against the table's background in both; tst_mainwindow measures it).
    const bool dark = palette.color(QPalette::Base).lightness() < 128;
    const auto pick = [dark](QRgb light, QRgb onDark) { return QColor::fromRgb(dark ? onDark : light); };
    switch (status) {
    case RunStatus::Queued:
        return pick(0x616161, 0xbdbdbd);
    case RunStatus::Starting:
        return pick(0x006064, 0x4dd0e1);
    case RunStatus::Running:
        return pick(0x1565c0, 0x64b5f6);
    case RunStatus::Restarting:
        return pick(0xb34700, 0xffb74d);
    case RunStatus::Succeeded:
        return pick(0x2e7d32, 0x81c784);
    case RunStatus::Failed:
        return pick(0xc62828, 0xef9a9a);
    case RunStatus::Canceled:
        return pick(0x6d4c41, 0xbcaaa4);
    case RunStatus::Lost:
        return pick(0x8e24aa, 0xce93d8);
    case RunStatus::StoppedEarly: // teal: ended on purpose, like a success, but short of its length
        return pick(0x00695c, 0x80cbc4);
    }
    return palette.color(QPalette::Text);
}

void RunTableModel::setNow(const QDateTime &now) { m_pinnedNow = now; }

QDateTime RunTableModel::now() const { return m_pinnedNow.isValid() ? m_pinnedNow : QDateTime::currentDateTimeUtc(); }

void RunTableModel::setRuns(const QList<RunRecord> &runs)
{
    RunListChange change;
    change.complete = true;
    change.wholeList = true;
    change.upserted = runs;
    applyChange(change);
}

void RunTableModel::applyChange(const RunListChange &change)
{
    // Rows whose run is gone: those named as removed, or, for a whole list, every run it does not hold.
    const auto idOf = [](const RunRecord &run) { return run.id; };
    QList<int> gone = rowsOfKeys(change.removed);
    if (change.wholeList && !m_rows.isEmpty())
        gone += rowsNotIn(change.upserted, idOf);
    removeRowsAt(std::move(gone));
    // Changed runs in place, new runs appended in their incoming order (the view's proxy does the sorting).
    // Many changed rows (details arriving for every run) are announced as one range, not one signal a row.
    upsertRows(
        change.upserted, idOf, [](const RunRef &row, const RunRecord &run) { return run == *row; },
        [](const RunRecord &run) { return std::make_shared<const RunRecord>(run); }, kRowsAnnouncedOneByOne);
    updateDurationTimer();
}

QString RunTableModel::keyOfRow(const RunRef &row) const { return row->id; }

void RunTableModel::updateDurationTimer()
{
    bool anyActive = false;
    for (const RunRef &run : m_rows)
        if ((anyActive = isActive(run->status)))
            break;
    if (anyActive && !m_durationTimer->isActive())
        m_durationTimer->start();
    else if (!anyActive)
        m_durationTimer->stop();
}

void RunTableModel::tickDurations()
{
    // One range from the first to the last active run: views repaint what they show, not one signal a run.
    int first = -1, last = -1;
    for (int row = 0; row < m_rows.size(); ++row) {
        if (isActive(m_rows[row]->status)) {
            first = first < 0 ? row : first;
            last = row;
        }
    }
    if (first >= 0)
        emit dataChanged(index(first, DurationColumn), index(last, DurationColumn), {Qt::DisplayRole, SortRole});
}

int RunTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount + int(m_extraColumns.size());
}

QString RunTableModel::ExtraColumn::title() const
{
    switch (kind) {
    case Kind::Param:
        return key;
    case Kind::MetricLast:
        return QStringLiteral("%1 (last)").arg(key);
    case Kind::MetricMin:
        return QStringLiteral("%1 (min)").arg(key);
    case Kind::MetricMax:
        return QStringLiteral("%1 (max)").arg(key);
    }
    return key;
}

QString RunTableModel::ExtraColumn::id() const
{
    static const char *const kPrefixes[] = {"param:", "last:", "min:", "max:"};
    return QLatin1String(kPrefixes[int(kind)]) + key;
}

std::optional<RunTableModel::ExtraColumn> RunTableModel::ExtraColumn::fromId(const QString &id)
{
    static const QList<QPair<QString, Kind>> kPrefixes = {{QStringLiteral("param:"), Kind::Param},
                                                          {QStringLiteral("last:"), Kind::MetricLast},
                                                          {QStringLiteral("min:"), Kind::MetricMin},
                                                          {QStringLiteral("max:"), Kind::MetricMax}};
    for (const auto &[prefix, kind] : kPrefixes)
        if (id.startsWith(prefix) && id.size() > prefix.size())
            return ExtraColumn{kind, id.mid(prefix.size())};
    return std::nullopt;
}

void RunTableModel::setExtraColumns(const QList<ExtraColumn> &columns)
{
    if (columns == m_extraColumns)
        return;
    if (!m_extraColumns.isEmpty()) {
        beginRemoveColumns({}, ColumnCount, ColumnCount + int(m_extraColumns.size()) - 1);
        m_extraColumns.clear();
        endRemoveColumns();
    }
    if (!columns.isEmpty()) {
        beginInsertColumns({}, ColumnCount, ColumnCount + int(columns.size()) - 1);
        m_extraColumns = columns;
        endInsertColumns();
    }
}

QStringList RunTableModel::paramKeys() const
{
    QSet<QString> keys;
    for (const RunRef &run : m_rows)
        for (auto it = run->params.keyBegin(); it != run->params.keyEnd(); ++it)
            keys.insert(*it);
    QStringList sorted(keys.cbegin(), keys.cend());
    sorted.sort();
    return sorted;
}

QStringList RunTableModel::metricKeys() const
{
    QSet<QString> keys;
    for (const RunRef &run : m_rows)
        for (auto it = run->metrics.keyBegin(); it != run->metrics.keyEnd(); ++it)
            keys.insert(*it);
    QStringList sorted(keys.cbegin(), keys.cend());
    sorted.sort();
    return sorted;
}

void RunTableModel::setRunColors(const QHash<QString, QColor> &colors)
{
    const QHash<QString, QColor> previous = m_runColors;
    m_runColors = colors;
    for (int row = 0; row < m_rows.size(); ++row) {
        const QString &id = m_rows[row]->id;
        if (previous.value(id) != colors.value(id))
            emit dataChanged(index(row, NameColumn), index(row, NameColumn), {Qt::DecorationRole});
    }
}

QVariant RunTableModel::cellValue(const RunRecord &run, int column, int role, const QList<ExtraColumn> &extraColumns,
                                  const QDateTime &now)
{
    switch (column) {
    case NameColumn:
        return run.name;
    case StatusColumn:
        return toString(run.status);
    case StartedColumn: {
        const QDateTime shown = run.startedAt.isValid() ? run.startedAt : run.createdAt;
        if (!shown.isValid())
            return role == SortRole ? QVariant() : QVariant(QString());
        if (role == SortRole)
            return shown.toMSecsSinceEpoch();
        // The local zone, read once: toLocalTime() asks the C library, which stats /etc/localtime at every call.
        static const QTimeZone localZone = QTimeZone::systemTimeZone();
        return shown.toTimeZone(localZone).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    }
    case DurationColumn: {
        const auto duration = run.durationSeconds(now);
        if (role == SortRole)
            return duration ? *duration : qint64(-1);
        return duration ? formatDuration(*duration) : QString();
    }
    case TagsColumn:
        return run.tags.join(QStringLiteral(", "));
    case ParentColumn:
        if (run.parentRunId.isEmpty())
            return role == SortRole ? QVariant() : QVariant(QString());
        return run.parentStep ? QStringLiteral("%1@%2").arg(run.parentRunId).arg(*run.parentStep) : run.parentRunId;
    case DiskColumn:
        if (role == SortRole)
            return run.diskBytes ? QVariant(qint64(*run.diskBytes)) : QVariant();
        return run.diskBytes ? QLocale(QLocale::English).formattedDataSize(*run.diskBytes, 1) : QString();
    default: {
        const int extra = column - ColumnCount;
        if (extra < 0 || extra >= extraColumns.size())
            return {};
        const ExtraColumn &extraColumn = extraColumns.at(extra);
        if (extraColumn.kind == ExtraColumn::Kind::Param) {
            const QString value = run.params.value(extraColumn.key);
            if (role != SortRole)
                return value;
            bool numeric = false; // numbers sort as numbers, and before text
            const double number = value.toDouble(&numeric);
            return numeric ? QVariant(number) : (value.isEmpty() ? QVariant() : QVariant(value));
        }
        auto found = run.metrics.constFind(extraColumn.key);
        if (found == run.metrics.constEnd())
            return {};
        const double value = extraColumn.kind == ExtraColumn::Kind::MetricLast ? found->last
            : extraColumn.kind == ExtraColumn::Kind::MetricMin                 ? found->min
                                                                               : found->max;
        if (role == SortRole)
            return std::isnan(value) ? QVariant() : QVariant(value);
        return std::isnan(value) ? QStringLiteral("NaN") : QString::number(value, 'g', 6);
    }
    }
}

QVariant RunTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RunRecord &run = *m_rows.at(index.row());
    if (role == RunIdRole)
        return run.id;
    if (role == Qt::DisplayRole && index.column() == StatusColumn && !run.metricsIncomplete().isEmpty())
        return tr("%1 (metrics incomplete)").arg(toString(run.status)); // as `ls` shows it; the tooltip says how many
    if (role == Qt::DisplayRole && index.column() == StatusColumn && run.isArchived())
        return tr("%1 (archived)").arg(toString(run.status)); // shown only under status:archived
    if (role == Qt::DisplayRole || role == SortRole)
        return cellValue(run, index.column(), role, m_extraColumns, now());
    switch (index.column()) {
    case NameColumn:
        if (role == Qt::DecorationRole && m_runColors.contains(run.id))
            return m_runColors.value(run.id); // the run's colour in the compare view
        if (role == Qt::ToolTipRole)
            return QStringLiteral("%1\n%2").arg(run.id, run.command.join(QLatin1Char(' ')));
        break;
    case StatusColumn:
        if (role == Qt::ForegroundRole)
            return statusColor(run.status);
        if (role == Qt::DecorationRole)
            return statusColor(run.status); // drawn by the delegate as a solid swatch
        if (role == Qt::ToolTipRole) {
            if (const QString incomplete = run.metricsIncomplete(); !incomplete.isEmpty())
                return tr("%1\n`trainyard repair %2` stores the rest").arg(incomplete, run.id);
        }
        break;
    case StartedColumn:
    case TagsColumn:
        break;
    case ParentColumn:
        if (role == Qt::ToolTipRole && !run.parentRunId.isEmpty())
            return run.parentStep ? tr("Forked from run %1 at step %2").arg(run.parentRunId).arg(*run.parentStep)
                                  : tr("Forked from run %1").arg(run.parentRunId);
        break;
    case DiskColumn:
        if (role == Qt::ToolTipRole)
            return run.diskBytes ? tr("The run folder and its checkpoints, as last measured while it ran")
                                 : tr("Not measured: the run has not run under this version of Trainyard");
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case DurationColumn:
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    default:
        if (role == Qt::TextAlignmentRole && index.column() - ColumnCount < m_extraColumns.size()
            && m_extraColumns.at(index.column() - ColumnCount).kind != ExtraColumn::Kind::Param)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    }
    return {};
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Name");
    case StatusColumn:
        return tr("Status");
    case StartedColumn:
        return tr("Started");
    case DurationColumn:
        return tr("Duration");
    case TagsColumn:
        return tr("Tags");
    case ParentColumn:
        return tr("Parent");
    case DiskColumn:
        return tr("Disk");
    default:
        if (section - ColumnCount >= 0 && section - ColumnCount < m_extraColumns.size())
            return m_extraColumns.at(section - ColumnCount).title();
        return {};
    }
}

} // namespace trainyard
