// SweepView: one sweep's runs as a table: the params the sweep varies, status, and a chosen summary
// metric (a key and last, min or max), sorted best first, with the best finished run marked.
#pragma once

#include "models/runtablemodel.h"
#include "store/runrecord.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QTableView;

namespace trainyard {

class SweepTableModel;

class SweepView : public QWidget {
    Q_OBJECT
public:
    explicit SweepView(QWidget *parent = nullptr);

    // Every run of the workspace; the view keeps the sweeps' runs.
    void setRuns(const QList<RunRef> &runs);
    void setRuns(const QList<RunRecord> &runs);
    void setSweep(const QString &sweepId);
    // The metric to rank by: key, statistic ("last", "min", "max"), and whether lower is better.
    void setMetric(const QString &key, const QString &statistic, bool lowerIsBetter);
    QTableView *table() const { return m_table; }
    QString bestRunId() const { return m_bestRunId; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    void rebuild();

    QList<RunRef> m_runs; // the workspace's sweep runs
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
};

} // namespace trainyard
