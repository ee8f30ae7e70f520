// RunFilterProxy: the runs table sorted (by SortRole values) and filtered (by a RunFilter query). Small tables are
// sorted and filtered at once; above synchronousLimit() rows a new sort or filter is computed off the UI thread on
// a snapshot of the runs and applied when done (the rows shown until then stay as they were). A few changed runs are
// placed by binary search on the UI thread, as QSortFilterProxyModel would.
#pragma once

#include "models/runtablemodel.h"
#include "query/runfilter.h"

#include <QAbstractProxyModel>
#include <QDateTime>
#include <QFutureWatcher>
#include <QList>
#include <QSet>
#include <QTimer>

namespace trainyard {

class RunFilterProxy : public QAbstractProxyModel {
    Q_OBJECT
public:
    static constexpr int kSynchronousRows = 5000;   // up to this many runs, sort and filter on the UI thread
    static constexpr int kRowsPlacedOneByOne = 256; // changes of up to this many rows are placed one by one
    static constexpr int kOrderDelayMs = 100;       // a burst of big source changes is sorted once, this long after

    explicit RunFilterProxy(QObject *parent = nullptr);
    ~RunFilterProxy() override;

    // The source must be a RunTableModel.
    void setSourceModel(QAbstractItemModel *source) override;
    // Parses and applies the query; on a parse error keeps the previous filter and returns false.
    bool setQuery(const QString &query, RunFilter::ParseError *error = nullptr);
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    int sortColumn() const { return m_sortColumn; }
    Qt::SortOrder sortOrder() const { return m_sortOrder; }
    // Whether a sort or filter is under way or due (its result not yet shown).
    bool isUpdating() const { return m_updating || m_orderTimer->isActive(); }
    void setSynchronousLimit(int rows) { m_synchronousLimit = rows; }
    int synchronousLimit() const { return m_synchronousLimit; }

    // The rows shown, in order, with the columns shown, as CSV. csvSnapshot() takes what that needs in O(1) on the
    // UI thread; its toCsv() may then run on any thread.
    struct CsvSnapshot {
        QList<RunRef> runs; // the source's runs (shared, not copied)
        QList<int> order;   // source rows shown, in order
        QList<RunTableModel::ExtraColumn> extraColumns;
        QStringList headers;
        QDateTime now;
        QByteArray toCsv() const;
    };
    CsvSnapshot csvSnapshot() const;
    QByteArray toCsv() const { return csvSnapshot().toCsv(); }

    QModelIndex mapToSource(const QModelIndex &proxyIndex) const override;
    QModelIndex mapFromSource(const QModelIndex &sourceIndex) const override;
    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    bool hasChildren(const QModelIndex &parent = {}) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

signals:
    void updatingChanged(bool updating);

private:
    // What an ordering is computed from: a snapshot that a worker thread can read.
    struct OrderInput {
        QList<RunRef> runs;
        RunFilter filter;
        int column = -1;
        Qt::SortOrder order = Qt::AscendingOrder;
        QList<RunTableModel::ExtraColumn> extraColumns;
        QDateTime now;
    };
    static QList<int> computeOrder(const OrderInput &input);

    const RunTableModel *runs() const { return static_cast<const RunTableModel *>(sourceModel()); }
    OrderInput orderInput() const;
    bool accepts(int sourceRow) const;
    bool lessThan(int sourceLeft, int sourceRight) const;
    int insertionRow(int sourceRow) const; // where the row goes in m_order (binary search)
    void requestOrder();                   // a full sort and filter: now, or off the UI thread
    void scheduleOrder();                  // the same, once a burst of source changes (the first list's chunks) is over
    void applyOrder(QList<int> order);
    void rebuildProxyRows();
    void placeRow(int sourceRow); // a changed row: shown, hidden or moved as the filter and sort say

    void sourceRowsInserted(const QModelIndex &parent, int first, int last);
    void sourceRowsAboutToBeRemoved(const QModelIndex &parent, int first, int last);
    void sourceRowsRemoved(const QModelIndex &parent, int first, int last);
    void sourceDataChanged(const QModelIndex &topLeft, const QModelIndex &bottomRight, const QList<int> &roles);

    RunFilter m_filter;
    int m_sortColumn = -1;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    QList<int> m_order;     // proxy row -> source row
    QList<int> m_proxyRows; // source row -> proxy row, -1 when hidden
    int m_synchronousLimit = kSynchronousRows;

    QFutureWatcher<QList<int>> *m_worker;
    QTimer *m_orderTimer;
    bool m_updating = false;
    bool m_orderPending = false;   // another full order is wanted once the running one is done
    int m_structureGeneration = 0; // bumped when source rows are inserted or removed
    int m_computingGeneration = 0;
    QSet<int> m_dirtyWhileComputing; // source rows changed since the running computation's snapshot
    QList<QMetaObject::Connection> m_sourceConnections;
};

} // namespace trainyard
