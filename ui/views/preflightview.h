// PreflightView: this machine's NCCL preflight results — bus bandwidth by size for each collective against the
// bandwidth its class of link should give, the one-line verdict, and the history — and a button that runs a
// new preflight on the GPUs given (off the UI thread; rows appear as they are measured).
#pragma once

#include "gpu/ncclpreflight.h"
#include "store/preflighthistory.h"

#include <QWidget>

class QChartView;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace trainyard {

// Carries a running preflight's rows from its worker, which owns it, to the view by a queued connection, so
// the worker never touches a view that may have been closed meanwhile.
class PreflightProgressRelay : public QObject {
    Q_OBJECT
signals:
    void measured(const trainyard::PreflightMeasurement &measurement);
};

class PreflightView : public QWidget {
    Q_OBJECT
public:
    explicit PreflightView(const QString &workspaceRoot, QWidget *parent = nullptr);

    // Reloads the history from the workspace (off the UI thread).
    void refresh();
    // Runs a preflight on the GPUs in the GPUs box (all when empty), stores it and shows it.
    void runPreflight();
    // Shows one result: its chart, verdict and details.
    void showResult(const PreflightResult &result);

    QListWidget *historyList() const { return m_history; }
    QChartView *chart() const { return m_chart; }
    QLabel *verdictLabel() const { return m_verdict; }
    QLabel *detailsLabel() const { return m_details; }
    QLineEdit *gpusEdit() const { return m_gpus; }
    const QList<PreflightRecord> &records() const { return m_records; }

signals:
    void historyLoaded();
    void preflightFinished(bool ran); // false: nothing ran (no GPU, a bad GPU list); the verdict says why

private:
    void showHistory(const QList<PreflightRecord> &records);
    void appendMeasurement(const PreflightMeasurement &measurement);

    QString m_workspaceRoot;
    QLineEdit *m_gpus;
    QPushButton *m_run;
    QLabel *m_verdict;
    QLabel *m_details;
    QListWidget *m_history;
    QChartView *m_chart;
    QList<PreflightRecord> m_records;
    PreflightResult m_live; // the preflight running now, as its rows arrive
};

} // namespace trainyard
