// RunTableModel: the runs of a workspace as a table (name, status, started, duration, tags).
#pragma once

#include "models/keyedrowmodel.h"
#include "store/runqueries.h"
#include "store/runrecord.h"

#include <QColor>
#include <QGuiApplication>
#include <QPalette>
#include <QDateTime>
#include <QHash>
#include <QList>

#include <memory>
#include <optional>

class QTimer;

namespace trainyard {

// A run as the table holds it: shared, immutable, so a snapshot of 100,000 runs for a worker thread (a sort, a CSV
// export) costs pointer copies, and a change on the UI thread while the worker reads never copies the runs.
using RunRef = std::shared_ptr<const RunRecord>;

class RunTableModel : public KeyedRowModel<RunRef> {
    Q_OBJECT
public:
    enum Column {
        NameColumn,
        StatusColumn,
        StartedColumn,
        DurationColumn,
        TagsColumn,
        ParentColumn, // lineage: the run and step it was forked from
        DiskColumn,   // what its folder and checkpoints take on disk, as last measured
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, // a value that sorts naturally (times, durations and numbers as numbers)
        RunIdRole,
    };

    // A column the user added after the fixed ones: a param, or a metric's last, min or max.
    struct ExtraColumn {
        enum class Kind { Param, MetricLast, MetricMin, MetricMax };
        Kind kind = Kind::Param;
        QString key;
        QString title() const;
        QString id() const; // "param:lr", "last:loss", ... (saved in the settings)
        static std::optional<ExtraColumn> fromId(const QString &id);
        bool operator==(const ExtraColumn &) const = default;
    };

    explicit RunTableModel(QObject *parent = nullptr);

    // Applies a watcher's change by row: changed runs as dataChanged of their rows, new runs as rows inserted at the
    // end, removed runs as rows removed; never a reset, and (but for a whole list) never a look at the other rows.
    void applyChange(const RunListChange &change);
    // The whole list, applied as a change with wholeList set.
    void setRuns(const QList<RunRecord> &runs);
    const RunRecord &runAt(int row) const { return *m_rows.at(row); }
    // The row of a run, or -1.
    int rowOfRun(const QString &runId) const { return rowOfKey(runId); }
    const QList<RunRef> &runs() const { return m_rows; }

    // Columns after the fixed ones, as inserted and removed columns (never a reset).
    void setExtraColumns(const QList<ExtraColumn> &columns);
    const QList<ExtraColumn> &extraColumns() const { return m_extraColumns; }
    // The params and metric keys of the runs, for the column chooser.
    QStringList paramKeys() const;
    QStringList metricKeys() const;
    // The compare view's colours, shown as a swatch beside the name.
    void setRunColors(const QHash<QString, QColor> &colors);
    // The clock used for the durations of active runs (tests pin it).
    void setNow(const QDateTime &now);

    // The status's colour, for text and swatches on `palette`'s background (a light or a dark one).
    static QColor statusColor(RunStatus status, const QPalette &palette = QGuiApplication::palette());
    // A cell's DisplayRole or SortRole value, from the run alone: what data() answers for those roles, and what the
    // sorting proxy and the CSV export compute off the UI thread on a snapshot of the runs.
    static QVariant cellValue(const RunRecord &run, int column, int role, const QList<ExtraColumn> &extraColumns,
                              const QDateTime &now);
    QDateTime now() const;

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void tickDurations();

    QString keyOfRow(const RunRef &row) const override;
    void updateDurationTimer();

    QList<ExtraColumn> m_extraColumns;
    QHash<QString, QColor> m_runColors;
    QDateTime m_pinnedNow;
    QTimer *m_durationTimer;
};

QString formatDuration(qint64 seconds);

} // namespace trainyard
