// QueueModel: the local queue as a table (position, run, name, GPUs, state). Updates are applied by run
// id as inserts, removals and dataChanged, never a reset; the view sorts by position.
#pragma once

#include "models/keyedrowmodel.h"
#include "queue/runqueue.h"

namespace trainyard {

class QueueModel : public KeyedRowModel<QueuedRun> {
    Q_OBJECT
public:
    enum Column { PositionColumn, RunColumn, NameColumn, GpusColumn, StateColumn, ColumnCount };
    enum Role { RunIdRole = Qt::UserRole + 1, SortRole };
    explicit QueueModel(QObject *parent = nullptr);

    void setQueue(const QList<QueuedRun> &queue);
    const QueuedRun &runAt(int row) const { return m_rows.at(row); }

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QString keyOfRow(const QueuedRun &row) const override;
};

} // namespace trainyard
