#include "models/runfilterproxy.h"

#include "models/runtablemodel.h"

namespace trainyard {

RunFilterProxy::RunFilterProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(RunTableModel::SortRole);
    setDynamicSortFilter(true);
}

bool RunFilterProxy::setQuery(const QString &query, RunFilter::ParseError *error)
{
    RunFilter::ParseError parseError;
    auto filter = RunFilter::tryParse(query, parseError);
    if (!filter) {
        if (error)
            *error = parseError;
        return false;
    }
    m_filter = std::move(*filter);
    invalidateRowsFilter();
    return true;
}

bool RunFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &) const
{
    const auto *runs = qobject_cast<const RunTableModel *>(sourceModel());
    return !runs || m_filter.matches(runs->runAt(sourceRow));
}

QByteArray RunFilterProxy::toCsv() const
{
    const auto quoted = [](const QString &text) { return '"' + text.toUtf8().replace('"', "\"\"") + '"'; };
    QByteArray csv = "id";
    for (int column = 0; column < columnCount(); ++column)
        csv += ',' + quoted(headerData(column, Qt::Horizontal).toString());
    csv += '\n';
    for (int row = 0; row < rowCount(); ++row) {
        csv += index(row, 0).data(RunTableModel::RunIdRole).toString().toUtf8();
        for (int column = 0; column < columnCount(); ++column)
            csv += ',' + quoted(index(row, column).data().toString());
        csv += '\n';
    }
    return csv;
}

} // namespace trainyard
