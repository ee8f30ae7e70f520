// RunTableModel: the runs of a workspace as a table (name, status, started, duration, tags).
#pragma once

#include "store/runrecord.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QDateTime>
#include <QList>

class QTimer;

namespace trainyard {

class RunTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { NameColumn, StatusColumn, StartedColumn, DurationColumn, TagsColumn, ColumnCount };
    enum Role {
        SortRole = Qt::UserRole + 1, // a value that sorts naturally (times and durations as numbers)
        RunIdRole,
    };

    explicit RunTableModel(QObject *parent = nullptr);

    // Applies a new list of runs as row inserts, removals and dataChanged; never a reset.
    void setRuns(const QList<RunRecord> &runs);
    const RunRecord &runAt(int row) const { return m_runs.at(row); }
    // The clock used for the durations of active runs (tests pin it).
    void setNow(const QDateTime &now);

    static QColor statusColor(RunStatus status);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void tickDurations();
    QDateTime now() const;

    QList<RunRecord> m_runs;
    QDateTime m_pinnedNow;
    QTimer *m_durationTimer;
};

QString formatDuration(qint64 seconds);

} // namespace trainyard
