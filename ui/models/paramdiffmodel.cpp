#include "models/paramdiffmodel.h"
#include "models/statuscolors.h"

#include "csv.h"

#include <QBrush>
#include <QSet>

namespace trainyard {

ParamDiffModel::ParamDiffModel(QObject *parent) : QAbstractTableModel(parent) { }

bool ParamDiffModel::differs(const QString &param) const
{
    // A param that some runs lack differs too: "absent" is a value the user wants to see.
    QSet<QString> values;
    for (const RunRecord &run : m_runs)
        values.insert(run.params.contains(param) ? run.params.value(param) : QStringLiteral("\x01absent"));
    return values.size() > 1;
}

QStringList ParamDiffModel::rowsFor(const QList<RunRecord> &runs) const
{
    QStringList all;
    for (const RunRecord &run : runs)
        for (auto it = run.params.cbegin(); it != run.params.cend(); ++it)
            if (!all.contains(it.key()))
                all << it.key();
    all.sort();
    if (!m_onlyDifferences)
        return all;
    QStringList different;
    QSet<QString> values;
    for (const QString &param : all) {
        values.clear();
        for (const RunRecord &run : runs)
            values.insert(run.params.contains(param) ? run.params.value(param) : QStringLiteral("\x01absent"));
        if (values.size() > 1)
            different << param;
    }
    return different;
}

void ParamDiffModel::setRuns(const QList<RunRecord> &runs)
{
    QStringList ids, newIds;
    for (const RunRecord &run : m_runs)
        ids << run.id;
    for (const RunRecord &run : runs)
        newIds << run.id;
    const QStringList rows = rowsFor(runs);
    if (ids != newIds || rows != m_rows) {
        beginResetModel();
        m_runs = runs;
        m_rows = rows;
        endResetModel();
        return;
    }
    m_runs = runs;
    if (!m_rows.isEmpty() && !m_runs.isEmpty())
        emit dataChanged(index(0, 0), index(int(m_rows.size()) - 1, int(m_runs.size()) - 1));
}

void ParamDiffModel::setRunColors(const QHash<QString, QColor> &colors)
{
    m_colors = colors;
    if (!m_runs.isEmpty())
        emit headerDataChanged(Qt::Horizontal, 0, int(m_runs.size()) - 1);
}

void ParamDiffModel::setOnlyDifferences(bool only)
{
    if (only == m_onlyDifferences)
        return;
    beginResetModel();
    m_onlyDifferences = only;
    m_rows = rowsFor(m_runs);
    endResetModel();
}

int ParamDiffModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int ParamDiffModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_runs.size()); }

QVariant ParamDiffModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size() || index.column() >= m_runs.size())
        return {};
    const QString &param = m_rows.at(index.row());
    const RunRecord &run = m_runs.at(index.column());
    switch (role) {
    case Qt::DisplayRole:
        return run.params.contains(param) ? run.params.value(param) : QStringLiteral("—");
    case Qt::BackgroundRole:
        return differs(param) ? QBrush(isDarkPalette() ? QColor(0x5d, 0x4a, 0x00) : QColor(0xff, 0xf3, 0xc4))
                              : QVariant();
    case DiffersRole:
        return differs(param);
    case Qt::ToolTipRole:
        return QStringLiteral("%1 = %2 (%3)").arg(param, run.params.value(param, tr("not set")), run.name);
    default:
        return {};
    }
}

QVariant ParamDiffModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Vertical) {
        if (role == Qt::DisplayRole && section >= 0 && section < m_rows.size())
            return m_rows.at(section);
        return {};
    }
    if (section < 0 || section >= m_runs.size())
        return {};
    if (role == Qt::DisplayRole)
        return m_runs.at(section).name;
    if (role == Qt::DecorationRole && m_colors.contains(m_runs.at(section).id))
        return m_colors.value(m_runs.at(section).id);
    if (role == Qt::ToolTipRole)
        return m_runs.at(section).id;
    return {};
}

QByteArray ParamDiffModel::toCsv() const
{
    const auto quoted = [](const QString &text) { return csvField(text, CsvQuote::Always).toUtf8(); };
    QByteArray csv = "param";
    for (const RunRecord &run : m_runs)
        csv += ',' + quoted(run.name + QStringLiteral(" (") + run.id + QLatin1Char(')'));
    csv += '\n';
    for (const QString &param : m_rows) {
        csv += quoted(param);
        for (const RunRecord &run : m_runs)
            csv += ',' + (run.params.contains(param) ? quoted(run.params.value(param)) : QByteArray());
        csv += '\n';
    }
    return csv;
}

} // namespace trainyard
