// The runs table's sorting and filtering proxy: a mapping of proxy rows to source rows, computed whole on a worker
// thread for big tables, maintained row by row for the few runs a watcher's change touches.
#include "models/runfilterproxy.h"

#include "csv.h"

#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <vector>

namespace trainyard {

namespace {

// A SortRole value made comparable: numbers before text, empty cells last whichever the order.
struct SortKey {
    int rank = 2; // 0 number, 1 text, 2 empty
    double number = 0;
    QString text;

    static SortKey from(const QVariant &value)
    {
        SortKey key;
        if (!value.isValid() || value.isNull())
            return key;
        switch (value.typeId()) {
        case QMetaType::Double:
        case QMetaType::LongLong:
        case QMetaType::Int:
        case QMetaType::ULongLong:
        case QMetaType::UInt:
            key.rank = 0;
            key.number = value.toDouble();
            return key;
        default:
            key.rank = 1;
            key.text = value.toString();
            return key;
        }
    }
};

// Whether `a` goes before `b` (ties: false).
bool keyBefore(const SortKey &a, const SortKey &b, Qt::SortOrder order)
{
    if (a.rank != b.rank)
        return a.rank < b.rank;
    if (a.rank == 2)
        return false;
    int comparison = 0;
    if (a.rank == 0)
        comparison = a.number < b.number ? -1 : (b.number < a.number ? 1 : 0);
    else
        comparison = QString::compare(a.text, b.text, Qt::CaseInsensitive);
    return order == Qt::AscendingOrder ? comparison < 0 : comparison > 0;
}

} // namespace

RunFilterProxy::RunFilterProxy(QObject *parent)
    : QAbstractProxyModel(parent), m_worker(new QFutureWatcher<QList<int>>(this)), m_orderTimer(new QTimer(this))
{
    m_orderTimer->setSingleShot(true);
    m_orderTimer->setInterval(kOrderDelayMs);
    connect(m_orderTimer, &QTimer::timeout, this, &RunFilterProxy::requestOrder);
    connect(m_worker, &QFutureWatcher<QList<int>>::finished, this, [this] {
        QList<int> order = m_worker->result();
        const bool stale = m_computingGeneration != m_structureGeneration;
        m_updating = false;
        if (!stale) {
            applyOrder(std::move(order));
            // Rows changed while the worker sorted its snapshot: placed again, one by one.
            const QSet<int> dirty = std::exchange(m_dirtyWhileComputing, {});
            for (int sourceRow : dirty)
                placeRow(sourceRow);
        }
        if (stale || m_orderPending) {
            m_orderPending = false;
            requestOrder();
        }
        if (!m_updating)
            emit updatingChanged(false);
    });
}

RunFilterProxy::~RunFilterProxy()
{
    m_worker->waitForFinished(); // its snapshot shares the source's runs: done before they go
}

void RunFilterProxy::setSourceModel(QAbstractItemModel *source)
{
    Q_ASSERT(!source || qobject_cast<RunTableModel *>(source));
    beginResetModel();
    for (const auto &connection : std::as_const(m_sourceConnections))
        disconnect(connection);
    m_sourceConnections.clear();
    QAbstractProxyModel::setSourceModel(source);
    m_order.clear();
    m_proxyRows.clear();
    if (source) {
        for (int row = 0; row < source->rowCount(); ++row)
            if (accepts(row))
                m_order << row;
        std::stable_sort(m_order.begin(), m_order.end(), [this](int a, int b) { return lessThan(a, b); });
        rebuildProxyRows();
        m_sourceConnections = {
            connect(source, &QAbstractItemModel::rowsInserted, this, &RunFilterProxy::sourceRowsInserted),
            connect(source, &QAbstractItemModel::rowsAboutToBeRemoved, this,
                    &RunFilterProxy::sourceRowsAboutToBeRemoved),
            connect(source, &QAbstractItemModel::rowsRemoved, this, &RunFilterProxy::sourceRowsRemoved),
            connect(source, &QAbstractItemModel::dataChanged, this, &RunFilterProxy::sourceDataChanged),
            connect(source, &QAbstractItemModel::columnsAboutToBeInserted, this,
                    [this](const QModelIndex &, int first, int last) { beginInsertColumns({}, first, last); }),
            connect(source, &QAbstractItemModel::columnsInserted, this, [this] { endInsertColumns(); }),
            connect(source, &QAbstractItemModel::columnsAboutToBeRemoved, this,
                    [this](const QModelIndex &, int first, int last) { beginRemoveColumns({}, first, last); }),
            connect(source, &QAbstractItemModel::columnsRemoved, this, [this] { endRemoveColumns(); }),
            connect(source, &QAbstractItemModel::headerDataChanged, this, &QAbstractItemModel::headerDataChanged),
            connect(source, &QAbstractItemModel::modelAboutToBeReset, this, [this] { beginResetModel(); }),
            connect(source, &QAbstractItemModel::modelReset, this,
                    [this] {
                        ++m_structureGeneration;
                        m_order.clear();
                        for (int row = 0; row < sourceModel()->rowCount(); ++row)
                            if (accepts(row))
                                m_order << row;
                        rebuildProxyRows();
                        endResetModel();
                        scheduleOrder();
                    }),
        };
    }
    endResetModel();
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
    requestOrder();
    return true;
}

void RunFilterProxy::sort(int column, Qt::SortOrder order)
{
    if (column == m_sortColumn && order == m_sortOrder)
        return;
    m_sortColumn = column;
    m_sortOrder = order;
    requestOrder();
}

RunFilterProxy::OrderInput RunFilterProxy::orderInput() const
{
    return {runs()->runs(), m_filter, m_sortColumn, m_sortOrder, runs()->extraColumns(), runs()->now()};
}

QList<int> RunFilterProxy::computeOrder(const OrderInput &input)
{
    std::vector<std::pair<SortKey, int>> keyed;
    keyed.reserve(std::size_t(input.runs.size()));
    for (int row = 0; row < input.runs.size(); ++row) {
        const RunRecord &run = *input.runs.at(row);
        if (!input.filter.matches(run))
            continue;
        keyed.emplace_back(input.column < 0
                               ? SortKey{}
                               : SortKey::from(RunTableModel::cellValue(run, input.column, RunTableModel::SortRole,
                                                                        input.extraColumns, input.now)),
                           row);
    }
    if (input.column >= 0)
        std::stable_sort(keyed.begin(), keyed.end(),
                         [&](const auto &a, const auto &b) { return keyBefore(a.first, b.first, input.order); });
    QList<int> order;
    order.reserve(qsizetype(keyed.size()));
    for (const auto &entry : keyed)
        order << entry.second;
    return order;
}

void RunFilterProxy::scheduleOrder() { m_orderTimer->start(); }

void RunFilterProxy::requestOrder()
{
    m_orderTimer->stop();
    if (!sourceModel())
        return;
    if (sourceModel()->rowCount() <= m_synchronousLimit && !m_updating) {
        applyOrder(computeOrder(orderInput()));
        return;
    }
    if (m_updating) { // one at a time: the newest wish is computed when this one is done
        m_orderPending = true;
        return;
    }
    m_updating = true;
    m_computingGeneration = m_structureGeneration;
    m_dirtyWhileComputing.clear();
    emit updatingChanged(true);
    m_worker->setFuture(QtConcurrent::run([input = orderInput()] { return computeOrder(input); }));
}

void RunFilterProxy::applyOrder(QList<int> order)
{
    if (order == m_order)
        return;
    // The same rows in another order keep the selection and current row; other rows are a new table.
    bool sameRows = order.size() == m_order.size();
    for (qsizetype i = 0; sameRows && i < order.size(); ++i)
        sameRows = m_proxyRows.value(order.at(i), -1) >= 0;
    if (!sameRows) {
        beginResetModel();
        m_order = std::move(order);
        rebuildProxyRows();
        endResetModel();
        return;
    }
    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList before = persistentIndexList();
    QList<int> sourceRows;
    sourceRows.reserve(before.size());
    for (const QModelIndex &index : before)
        sourceRows << m_order.at(index.row());
    m_order = std::move(order);
    rebuildProxyRows();
    QModelIndexList after;
    after.reserve(before.size());
    for (qsizetype i = 0; i < before.size(); ++i)
        after << createIndex(m_proxyRows.at(sourceRows.at(i)), before.at(i).column());
    changePersistentIndexList(before, after);
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

void RunFilterProxy::rebuildProxyRows()
{
    m_proxyRows.fill(-1, sourceModel() ? sourceModel()->rowCount() : 0);
    for (int row = 0; row < m_order.size(); ++row)
        m_proxyRows[m_order.at(row)] = row;
}

bool RunFilterProxy::accepts(int sourceRow) const { return m_filter.matches(runs()->runAt(sourceRow)); }

bool RunFilterProxy::lessThan(int sourceLeft, int sourceRight) const
{
    if (m_sortColumn < 0)
        return sourceLeft < sourceRight;
    const QDateTime now = runs()->now();
    const auto key = [&](int row) {
        return SortKey::from(RunTableModel::cellValue(runs()->runAt(row), m_sortColumn, RunTableModel::SortRole,
                                                      runs()->extraColumns(), now));
    };
    const SortKey left = key(sourceLeft), right = key(sourceRight);
    if (keyBefore(left, right, m_sortOrder))
        return true;
    if (keyBefore(right, left, m_sortOrder))
        return false;
    return sourceLeft < sourceRight;
}

int RunFilterProxy::insertionRow(int sourceRow) const
{
    return int(
        std::upper_bound(m_order.cbegin(), m_order.cend(), sourceRow, [this](int a, int b) { return lessThan(a, b); })
        - m_order.cbegin());
}

void RunFilterProxy::placeRow(int sourceRow)
{
    if (sourceRow < 0 || sourceRow >= m_proxyRows.size())
        return;
    const int current = m_proxyRows.at(sourceRow);
    const bool shown = accepts(sourceRow);
    if (current < 0 && !shown)
        return;
    if (current >= 0 && !shown) {
        beginRemoveRows({}, current, current);
        m_order.removeAt(current);
        rebuildProxyRows();
        endRemoveRows();
        return;
    }
    if (current < 0) {
        const int row = insertionRow(sourceRow);
        beginInsertRows({}, row, row);
        m_order.insert(row, sourceRow);
        rebuildProxyRows();
        endInsertRows();
        return;
    }
    // Shown and still shown: moved if it no longer sits between its neighbours.
    const bool afterPrevious = current == 0 || !lessThan(sourceRow, m_order.at(current - 1));
    const bool beforeNext = current + 1 == m_order.size() || !lessThan(m_order.at(current + 1), sourceRow);
    if (afterPrevious && beforeNext) {
        emit dataChanged(index(current, 0), index(current, columnCount() - 1));
        return;
    }
    m_order.removeAt(current);
    const int row = insertionRow(sourceRow);
    m_order.insert(current, sourceRow); // back until the move is announced
    const int destination = row >= current ? row + 1 : row;
    if (beginMoveRows({}, current, current, {}, destination)) {
        m_order.removeAt(current);
        m_order.insert(row, sourceRow);
        rebuildProxyRows();
        endMoveRows();
    }
    emit dataChanged(index(m_proxyRows.at(sourceRow), 0), index(m_proxyRows.at(sourceRow), columnCount() - 1));
}

void RunFilterProxy::sourceRowsInserted(const QModelIndex &, int first, int last)
{
    ++m_structureGeneration;
    const int count = last - first + 1;
    for (int &sourceRow : m_order)
        if (sourceRow >= first)
            sourceRow += count;
    rebuildProxyRows();
    if (count <= kRowsPlacedOneByOne) {
        for (int row = first; row <= last; ++row)
            placeRow(row);
        return;
    }
    // Many rows (the first list): shown at once at the end when nothing filters them (but the default hiding of
    // archived runs), then sorted in the background.
    if (m_filter.isEmpty()) {
        QList<int> shown;
        for (int row = first; row <= last; ++row)
            if (!runs()->runAt(row).isArchived())
                shown << row;
        if (!shown.isEmpty()) {
            beginInsertRows({}, int(m_order.size()), int(m_order.size() + shown.size()) - 1);
            m_order << shown;
            rebuildProxyRows();
            endInsertRows();
        }
    }
    scheduleOrder();
}

void RunFilterProxy::sourceRowsAboutToBeRemoved(const QModelIndex &, int first, int last)
{
    QList<int> proxyRows;
    for (int row = first; row <= last; ++row)
        if (m_proxyRows.value(row, -1) >= 0)
            proxyRows << m_proxyRows.at(row);
    std::sort(proxyRows.begin(), proxyRows.end(), std::greater<>());
    for (int proxyRow : std::as_const(proxyRows)) {
        beginRemoveRows({}, proxyRow, proxyRow);
        m_order.removeAt(proxyRow);
        endRemoveRows();
    }
}

void RunFilterProxy::sourceRowsRemoved(const QModelIndex &, int first, int last)
{
    ++m_structureGeneration;
    const int count = last - first + 1;
    for (int &sourceRow : m_order)
        if (sourceRow > last)
            sourceRow -= count;
    rebuildProxyRows();
}

void RunFilterProxy::sourceDataChanged(const QModelIndex &topLeft, const QModelIndex &bottomRight,
                                       const QList<int> &roles)
{
    // Decoration and other roles change neither the filter nor the order; nor does a column other than the sort
    // column that the filter cannot see (the duration tick).
    const bool ordersOrFilters =
        roles.isEmpty() || roles.contains(Qt::DisplayRole) || roles.contains(RunTableModel::SortRole);
    const bool onlyDuration =
        topLeft.column() == RunTableModel::DurationColumn && bottomRight.column() == RunTableModel::DurationColumn;
    const bool reorder = ordersOrFilters && !(onlyDuration && m_sortColumn != RunTableModel::DurationColumn);
    const int count = bottomRight.row() - topLeft.row() + 1;
    if (reorder && m_updating)
        for (int row = topLeft.row(); row <= bottomRight.row(); ++row)
            m_dirtyWhileComputing.insert(row);
    if (!reorder || count > kRowsPlacedOneByOne) {
        if (count > kRowsPlacedOneByOne) { // one range over every row shown: the view repaints what it shows
            if (!m_order.isEmpty())
                emit dataChanged(index(0, topLeft.column()), index(int(m_order.size()) - 1, bottomRight.column()),
                                 roles);
        } else {
            for (int row = topLeft.row(); row <= bottomRight.row(); ++row)
                if (const int proxyRow = m_proxyRows.value(row, -1); proxyRow >= 0)
                    emit dataChanged(index(proxyRow, topLeft.column()), index(proxyRow, bottomRight.column()), roles);
        }
        if (reorder)
            scheduleOrder();
        return;
    }
    for (int row = topLeft.row(); row <= bottomRight.row(); ++row)
        placeRow(row);
}

QModelIndex RunFilterProxy::mapToSource(const QModelIndex &proxyIndex) const
{
    if (!proxyIndex.isValid() || !sourceModel() || proxyIndex.row() >= m_order.size())
        return {};
    return sourceModel()->index(m_order.at(proxyIndex.row()), proxyIndex.column());
}

QModelIndex RunFilterProxy::mapFromSource(const QModelIndex &sourceIndex) const
{
    if (!sourceIndex.isValid())
        return {};
    const int row = m_proxyRows.value(sourceIndex.row(), -1);
    return row < 0 ? QModelIndex() : createIndex(row, sourceIndex.column());
}

QModelIndex RunFilterProxy::index(int row, int column, const QModelIndex &parent) const
{
    if (parent.isValid() || row < 0 || row >= m_order.size() || column < 0 || column >= columnCount())
        return {};
    return createIndex(row, column);
}

QModelIndex RunFilterProxy::parent(const QModelIndex &) const { return {}; }

int RunFilterProxy::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_order.size()); }

int RunFilterProxy::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() || !sourceModel() ? 0 : sourceModel()->columnCount();
}

bool RunFilterProxy::hasChildren(const QModelIndex &parent) const { return !parent.isValid() && !m_order.isEmpty(); }

QVariant RunFilterProxy::headerData(int section, Qt::Orientation orientation, int role) const
{
    // Columns are the source's own, whether or not a row is shown.
    if (orientation == Qt::Horizontal)
        return sourceModel() ? sourceModel()->headerData(section, orientation, role) : QVariant();
    return role == Qt::DisplayRole ? QVariant(section + 1) : QVariant();
}

RunFilterProxy::CsvSnapshot RunFilterProxy::csvSnapshot() const
{
    CsvSnapshot snapshot{runs()->runs(), m_order, runs()->extraColumns(), {}, runs()->now()};
    for (int column = 0; column < columnCount(); ++column)
        snapshot.headers << headerData(column, Qt::Horizontal).toString();
    return snapshot;
}

QByteArray RunFilterProxy::CsvSnapshot::toCsv() const
{
    const auto quoted = [](const QString &text) { return csvField(text, CsvQuote::Always).toUtf8(); };
    QByteArray csv = "id";
    for (const QString &header : headers)
        csv += ',' + quoted(header);
    csv += '\n';
    for (int sourceRow : order) {
        const RunRecord &run = *runs.at(sourceRow);
        csv += run.id.toUtf8();
        for (int column = 0; column < headers.size(); ++column)
            csv += ',' + quoted(RunTableModel::cellValue(run, column, Qt::DisplayRole, extraColumns, now).toString());
        csv += '\n';
    }
    return csv;
}

} // namespace trainyard
