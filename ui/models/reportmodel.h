// ReportModel: the group table of a throughput report (the first row is everyone), one column per figure.
// A new report of the same grouping updates rows in place (inserted, removed, changed); another grouping is
// a new data set.
#pragma once

#include "report/throughputreport.h"

#include <QAbstractTableModel>

namespace trainyard {

class ReportModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        GroupColumn,
        LaunchedColumn,
        SucceededColumn,
        FailedColumn,
        CanceledColumn,
        StoppedEarlyColumn,
        SuccessRateColumn,
        GpuHoursColumn,
        QueueWaitMedianColumn,
        QueueWaitP90Column,
        FirstStepMedianColumn,
        RestartsColumn,
        TopCauseColumn,
        ColumnCount
    };
    static constexpr int SortRole = Qt::UserRole + 1; // numbers as numbers

    using QAbstractTableModel::QAbstractTableModel;

    void setReport(const ThroughputReport &report);
    const ThroughputReport &report() const { return m_report; }
    // The group a row stands for; empty for the first row (everyone).
    QString groupAt(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    const ReportFigures &figuresAt(int row) const;

    ThroughputReport m_report;
    bool m_hasReport = false;
};

QString formatDurationSeconds(const std::optional<double> &seconds);

} // namespace trainyard
