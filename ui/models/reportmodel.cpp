#include "models/reportmodel.h"

#include <QSet>

#include <cmath>

namespace trainyard {

QString formatDurationSeconds(const std::optional<double> &seconds)
{
    if (!seconds)
        return QStringLiteral("—");
    const double s = *seconds;
    if (std::abs(s) < 120)
        return QString::number(s, 'f', std::abs(s) < 10 ? 2 : 1) + QStringLiteral(" s");
    if (std::abs(s) < 7200)
        return QString::number(s / 60, 'f', 1) + QStringLiteral(" min");
    return QString::number(s / 3600, 'f', 1) + QStringLiteral(" h");
}

void ReportModel::setReport(const ThroughputReport &report)
{
    if (!m_hasReport || report.query.by != m_report.query.by) {
        beginResetModel();
        m_report = report;
        m_hasReport = true;
        endResetModel();
        return;
    }
    // Same grouping: keep the rows of groups that stay, in the new order's terms, by removing the groups that
    // went, updating the rest and appending the new ones.
    QSet<QString> incoming;
    for (const ReportGroup &group : report.groups)
        incoming.insert(group.name);
    for (int i = int(m_report.groups.size()) - 1; i >= 0; --i) {
        if (!incoming.contains(m_report.groups.at(i).name)) {
            beginRemoveRows({}, i + 1, i + 1);
            m_report.groups.removeAt(i);
            endRemoveRows();
        }
    }
    QList<ReportGroup> appended;
    for (const ReportGroup &group : report.groups) {
        auto existing = std::find_if(m_report.groups.begin(), m_report.groups.end(),
                                     [&](const ReportGroup &g) { return g.name == group.name; });
        if (existing != m_report.groups.end())
            existing->figures = group.figures;
        else
            appended << group;
    }
    const QList<ReportGroup> kept = m_report.groups;
    m_report = report;
    m_report.groups = kept;
    if (rowCount() > 0)
        emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    if (!appended.isEmpty()) {
        const int first = rowCount();
        beginInsertRows({}, first, first + int(appended.size()) - 1);
        m_report.groups += appended;
        endInsertRows();
    }
}

QString ReportModel::groupAt(int row) const
{
    return row <= 0 || row > m_report.groups.size() ? QString() : m_report.groups.at(row - 1).name;
}

const ReportFigures &ReportModel::figuresAt(int row) const
{
    return row == 0 ? m_report.total : m_report.groups.at(row - 1).figures;
}

int ReportModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() || !m_hasReport ? 0 : int(m_report.groups.size()) + 1;
}

int ReportModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ReportModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount()
        || (role != Qt::DisplayRole && role != SortRole && role != Qt::TextAlignmentRole))
        return {};
    if (role == Qt::TextAlignmentRole)
        return index.column() == GroupColumn || index.column() == TopCauseColumn
            ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
            : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    const ReportFigures &f = figuresAt(index.row());
    const bool display = role == Qt::DisplayRole;
    const auto seconds = [&](const std::optional<double> &value) -> QVariant {
        return display ? QVariant(formatDurationSeconds(value)) : (value ? QVariant(*value) : QVariant());
    };
    switch (Column(index.column())) {
    case GroupColumn:
        return index.row() == 0 ? tr("all runs") : m_report.groups.at(index.row() - 1).name;
    case LaunchedColumn:
        return qint64(f.launched);
    case SucceededColumn:
        return qint64(f.succeeded);
    case FailedColumn:
        return qint64(f.failed);
    case CanceledColumn:
        return qint64(f.canceled);
    case StoppedEarlyColumn:
        return qint64(f.stoppedEarly);
    case SuccessRateColumn:
        if (!f.successRate())
            return display ? QVariant(QStringLiteral("—")) : QVariant();
        return display ? QVariant(QString::number(*f.successRate() * 100, 'f', 1) + QLatin1Char('%'))
                       : QVariant(*f.successRate());
    case GpuHoursColumn:
        return display ? QVariant(QString::number(f.gpuHours, 'f', 1)) : QVariant(f.gpuHours);
    case QueueWaitMedianColumn:
        return seconds(f.queueWait.medianS);
    case QueueWaitP90Column:
        return seconds(f.queueWait.p90S);
    case FirstStepMedianColumn:
        return seconds(f.timeToFirstStep.medianS);
    case RestartsColumn:
        return qint64(f.restarts);
    case TopCauseColumn:
        return f.failureCauses.isEmpty()
            ? QString()
            : QStringLiteral("%1 (%2)").arg(f.failureCauses.first().first).arg(f.failureCauses.first().second);
    case ColumnCount:
        break;
    }
    return {};
}

QVariant ReportModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case GroupColumn:
        return m_report.query.by == ReportGrouping::None ? tr("Runs") : groupingName(m_report.query.by);
    case LaunchedColumn:
        return tr("Launched");
    case SucceededColumn:
        return tr("Succeeded");
    case FailedColumn:
        return tr("Failed");
    case CanceledColumn:
        return tr("Canceled");
    case StoppedEarlyColumn:
        return tr("Stopped early");
    case SuccessRateColumn:
        return tr("Success");
    case GpuHoursColumn:
        return tr("GPU-hours");
    case QueueWaitMedianColumn:
        return tr("Wait (median)");
    case QueueWaitP90Column:
        return tr("Wait (p90)");
    case FirstStepMedianColumn:
        return tr("To first step");
    case RestartsColumn:
        return tr("Restarts");
    case TopCauseColumn:
        return tr("Top failure cause");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace trainyard
