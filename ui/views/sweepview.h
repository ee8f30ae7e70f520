// SweepView: one sweep's runs as a table: the params the sweep varies, status, and a chosen summary
// metric (a key and last, min or max), sorted best first, with the best finished run marked.
#pragma once

#include "views/offuithread.h"

#include "models/runtablemodel.h"
#include "store/runrecord.h"

#include <QHash>
#include <QWidget>

class QComboBox;
class QLabel;
class QTableView;
class QTableWidget;

namespace trainyard {

class ParallelCoordinates;
class SweepScatter;

class SweepTableModel;

class SweepView : public QWidget {
    Q_OBJECT
public:
    explicit SweepView(QWidget *parent = nullptr);

    // Every run of the workspace; the view keeps the sweeps' runs.
    void setRuns(const QList<RunRef> &runs);
    void setRuns(const QList<RunRecord> &runs);
    void setSweep(const QString &sweepId);
    // Any selection of runs instead of one sweep (the compare view's Analysis tab): the view ranks and analyses exactly
    // `runs`, sweep or not, and hides its sweep chooser.
    void setSelection(const QList<RunRecord> &runs);
    bool isSelectionMode() const { return m_selectionMode; }
    // The metric to rank by: key, statistic ("last", "min", "max"), and whether lower is better.
    void setMetric(const QString &key, const QString &statistic, bool lowerIsBetter);
    // The workspace's database: the sweep's early-stopping rungs are read from it (off the UI thread) for the Rung
    // column, shown when the sweep's spec has early_stop or median_stop.
    void setDatabasePath(const QString &path);
    // A run's Rung cell as last read: "2/3 (step 300)", "stopped at 1/3 (step 100)", or empty.
    QString rungText(const QString &runId) const { return m_rungText.value(runId); }
    bool isReadingRungs() const { return m_rungsPending; }
    // A tpe sweep's line under the summary: its trials and state ("paused: the Optuna helper stopped ..."); empty
    // for other sweeps.
    QString searchText() const { return m_searchText; }
    QTableView *table() const { return m_table; }
    QString bestRunId() const { return m_bestRunId; }
    // Parameter importance for the metric (report/paramimportance.h), computed off the UI thread when the sweep, the
    // metric or its finished runs change: rows of param, forest importance, share, Spearman's rho, what is better.
    QTableWidget *importanceTable() const { return m_importance; }
    QString importanceText() const; // the note above the rows: runs used, R², or why there is nothing to say
    bool isComputingImportance() const { return m_importancePending; }
    // The scatter tab (views/sweepscatter.h): the metric against a param, or two params coloured by the metric.
    SweepScatter *scatter() const { return m_scatter; }
    // The parallel coordinates tab (views/parallelcoordinates.h): an axis per varied param and the metric's.
    ParallelCoordinates *parallelCoordinates() const { return m_parallel; }
    void setScatterParams(const QString &xParam, const QString &yParam = {}); // yParam empty: the metric on y

signals:
    void runActivated(const QString &runId);     // a run was clicked in the scatter plot: open it
    void runsBrushed(const QStringList &runIds); // the runs inside the parallel coordinates' brushes (select them)

protected:
    void showEvent(QShowEvent *event) override;

private:
    void rebuild();
    void refreshRungs(const QList<RunRecord> &runs);
    QString m_databasePath;
    QString m_rungSignature;
    QHash<QString, QString> m_rungText; // by run id; empty when the sweep has no early stopping
    QString m_searchText;
    bool m_hasRungs = false;
    bool m_rungsPending = false;
    LatestOnly m_rungJob;

    QList<RunRef> m_runs; // the workspace's sweep runs (in selection mode: the selected runs)
    bool m_selectionMode = false;
    QWidget *m_sweepChooser = nullptr; // the "Sweep:" label and box
    QStringList m_sweepIds;
    bool m_stale = false;
    QString m_sweepId;
    QString m_key;
    QString m_statistic = QStringLiteral("min");
    bool m_lowerIsBetter = true;
    QString m_bestRunId;
    QComboBox *m_sweeps;
    QComboBox *m_keys;
    QComboBox *m_statistics;
    QComboBox *m_direction;
    QLabel *m_summary;
    SweepTableModel *m_model;
    QTableView *m_table;
    SweepScatter *m_scatter;
    ParallelCoordinates *m_parallel;
    QComboBox *m_scatterX;
    QComboBox *m_scatterY;
    QString m_scatterXParam, m_scatterYParam;
    QList<RunRecord> m_shownRuns; // the sweep's runs as last ranked
    void refreshScatter();
    QLabel *m_importanceNote;
    QTableWidget *m_importance;
    QString m_importanceSignature; // what the shown importance was computed from
    bool m_importancePending = false;
    LatestOnly m_importanceRead;
    void refreshImportance(const QList<RunRecord> &runs);
};

} // namespace trainyard
