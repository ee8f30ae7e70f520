// ThroughputView: the leads' page. Outcomes per day as stacked bars, GPU-hours by group, failure causes, and
// the queue-wait and time-to-first-step trends; a range and a grouping; a click on a bar lists the runs behind
// it (double-click one to open it); CSV and PNG export. Reports are computed off the UI thread.
#pragma once

#include "report/throughputreport.h"
#include "views/offuithread.h"

#include <QDate>
#include <QFuture>
#include <QWidget>

class QChartView;
class QComboBox;
class QDateEdit;
class QLabel;
class QListWidget;
class QTableView;

namespace trainyard {

class ReportModel;

class ThroughputView : public QWidget {
    Q_OBJECT
public:
    explicit ThroughputView(const QString &workspaceRoot, QWidget *parent = nullptr);

    void setRange(const QDate &since, const QDate &until); // until inclusive
    void setGrouping(ReportGrouping grouping);
    // Recomputes the report for the current range and grouping (off the UI thread).
    void refresh();
    // Lists the runs behind one bar (a day and an outcome, or a group), as a click on it does.
    void showRunsBehind(const QDate &day, const QString &outcome, const QString &group);

    ReportModel *model() const { return m_model; }
    QListWidget *runsList() const { return m_runs; }
    QChartView *outcomesChart() const { return m_outcomes; }
    const ThroughputReport &report() const;
    // The report's tables (groups, then days) as CSV, and the charts as PNG, written off the UI thread whole or not
    // at all; how it went is shown under the summary. Each returns the error message's future (empty when written).
    QFuture<QString> exportCsv(const QString &path);
    QFuture<QString> exportPng(const QString &path);
    QString exportStatus() const;

signals:
    void reportReady();
    void runsBehindReady();
    void openRunRequested(const QString &runId);

private:
    // showReport's parts: the summary line and each chart.
    void showSummary(const ReportFigures &total);
    void drawOutcomes(const ThroughputReport &report);
    void drawGpuHours(const ThroughputReport &report);
    void drawFailureCauses(const ReportFigures &total);
    void drawTrends(const ThroughputReport &report);

    ReportQuery currentQuery() const;
    void showReport(const ThroughputReport &report);

    QString m_workspaceRoot;
    QDateEdit *m_since;
    QDateEdit *m_until;
    QComboBox *m_grouping;
    QLabel *m_summary;
    QLabel *m_exportStatus; // how the last export went
    QChartView *m_outcomes;
    QChartView *m_gpuHours;
    QChartView *m_causes;
    QChartView *m_trends;
    QWidget *m_charts;
    ReportModel *m_model;
    QTableView *m_table;
    QLabel *m_runsTitle;
    QListWidget *m_runs;
    LatestOnly m_latestReport; // a newer range or grouping supersedes a report still being computed
};

} // namespace trainyard
