// RunFilterProxy: the runs table sorted by SortRole and filtered by a RunFilter query.
#pragma once

#include "query/runfilter.h"

#include <QSortFilterProxyModel>

namespace trainyard {

class RunFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit RunFilterProxy(QObject *parent = nullptr);
    // Parses and applies the query; on a parse error keeps the previous filter and returns false.
    bool setQuery(const QString &query, RunFilter::ParseError *error = nullptr);
    // The rows shown, in order, with the columns shown, as CSV.
    QByteArray toCsv() const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    RunFilter m_filter;
};

} // namespace trainyard
