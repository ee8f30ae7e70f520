// KeyedRowModel: a table model whose rows are keyed by a string (a run id). Updates arrive as rows to insert or
// update and rows to remove, and are announced as row removals, dataChanged and row insertions, never a reset: a
// view's selection, its scroll position and a sorting proxy's work survive them. The runs table and the queue use it.
#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QString>

#include <algorithm>
#include <functional>
#include <limits>

namespace trainyard {

template <typename Row>
class KeyedRowModel : public QAbstractTableModel {
public:
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : int(m_rows.size()); }
    // The row of a key, or -1.
    int rowOfKey(const QString &key) const { return m_rowByKey.value(key, -1); }

protected:
    // Applies `incoming` by key: a row whose item changed (`same` says it did not) is replaced in place and announced
    // by dataChanged (as one range from the lowest to the highest changed row when more than `announcedOneByOne`
    // changed); an item with no row is made a row by `make` and appended, in incoming order.
    template <typename Incoming, typename KeyOf, typename Same, typename Make>
    void upsertRows(const QList<Incoming> &incoming, KeyOf keyOf, Same same, Make make,
                    int announcedOneByOne = std::numeric_limits<int>::max())
    {
        QList<Row> added;
        QList<int> changedRows;
        for (const Incoming &item : incoming) {
            const int row = rowOfKey(keyOf(item));
            if (row < 0) {
                added << make(item);
                continue;
            }
            if (!same(m_rows[row], item)) {
                m_rows[row] = make(item);
                changedRows << row;
            }
        }
        if (changedRows.size() > announcedOneByOne) {
            const auto [low, high] = std::minmax_element(changedRows.cbegin(), changedRows.cend());
            emit dataChanged(index(*low, 0), index(*high, columnCount() - 1));
        } else {
            for (int row : std::as_const(changedRows))
                emit dataChanged(index(row, 0), index(row, columnCount() - 1));
        }
        if (!added.isEmpty()) {
            const int first = int(m_rows.size());
            beginInsertRows({}, first, first + int(added.size()) - 1);
            m_rows.append(std::move(added));
            for (int row = first; row < m_rows.size(); ++row)
                m_rowByKey.insert(keyOfRow(m_rows[row]), row);
            endInsertRows();
        }
    }

    // The rows of these keys (those that have one).
    QList<int> rowsOfKeys(const QStringList &keys) const
    {
        QList<int> rows;
        for (const QString &key : keys)
            if (const int row = rowOfKey(key); row >= 0)
                rows << row;
        return rows;
    }

    // The rows whose key no item of `incoming` has (looked up by row: `incoming` is often a screenful, not 100,000).
    template <typename Incoming, typename KeyOf>
    QList<int> rowsNotIn(const QList<Incoming> &incoming, KeyOf keyOf) const
    {
        QList<bool> kept(m_rows.size(), false);
        for (const Incoming &item : incoming)
            if (const int row = rowOfKey(keyOf(item)); row >= 0)
                kept[row] = true;
        QList<int> rows;
        for (int row = 0; row < m_rows.size(); ++row)
            if (!kept[row])
                rows << row;
        return rows;
    }

    // Removes these rows (any order, repeats allowed): from the bottom up, contiguous rows at once, so row numbers
    // stay valid.
    void removeRowsAt(QList<int> rows)
    {
        if (rows.isEmpty())
            return;
        std::sort(rows.begin(), rows.end(), std::greater<>());
        rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
        for (qsizetype i = 0; i < rows.size();) {
            qsizetype j = i;
            while (j + 1 < rows.size() && rows[j + 1] == rows[j] - 1)
                ++j;
            const int firstRow = rows[j], lastRow = rows[i];
            beginRemoveRows({}, firstRow, lastRow);
            for (int row = firstRow; row <= lastRow; ++row)
                m_rowByKey.remove(keyOfRow(m_rows[row]));
            m_rows.remove(firstRow, lastRow - firstRow + 1);
            endRemoveRows();
            i = j + 1;
        }
        for (int row = rows.last(); row < m_rows.size(); ++row) // rows below the first removed one moved up
            m_rowByKey.insert(keyOfRow(m_rows[row]), row);
    }

    virtual QString keyOfRow(const Row &row) const = 0;

    QList<Row> m_rows;

private:
    QHash<QString, int> m_rowByKey;
};

} // namespace trainyard
