// RunPage: one run: status and first failure, per-rank logs (rank filter, follow, search), and its metrics in the
// compare view's charts (sections by key prefix, search, zoom, hover), live.
#pragma once

#include "store/runfollower.h"
#include "store/runrecord.h"
#include "views/offuithread.h"

#include <QHash>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QFileSystemModel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTableWidget;
class QTimer;

namespace trainyard {

class CompareView;
class EnvelopeChart;
class TracesView;

class RunPage : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxLogLines = 200000;
    static constexpr int kPerformanceRefreshMs = 2000;

    RunPage(const QString &databasePath, const QString &runId, const QString &runDir, QWidget *parent = nullptr);
    ~RunPage() override;

    const QString &runId() const { return m_runId; }
    // For tests and the window: what the page shows now.
    QString statusText() const;
    QString failureText() const;
    QString alertsText() const; // empty when the run broke no alert rule
    // The Performance tab's verdicts (step time per rank, straggler, input, throughput, MFU), one a line.
    QString performanceText() const;
    EnvelopeChart *stepTimeChart() const { return m_stepTimeChart; }
    TracesView *tracesView() const { return m_traces; }
    // The Checkpoints tab's rows: step, size, saved, metrics at the step, path.
    QList<QStringList> checkpointRows() const;
    // "Resume from here…" on the Checkpoints tab: enabled while a checkpoint with a step is selected.
    QPushButton *resumeButton() const { return m_resume; }
    void selectCheckpointRow(int row);
    CompareView *charts() const { return m_metrics; }
    void showTab(QWidget *tab); // brings one of the side tabs (logs, artifacts, notes, performance, traces) forward
    QString visibleLogText() const;
    QString provenanceText() const;
    QStringList chartKeys() const;
    int chartPointCount(const QString &key) const;
    void setRankFilter(int rank); // -1: all ranks
    void setSearchText(const QString &text);
    // The notes tab: the run's free text, edited here and saved through the window (notesEdited).
    QString notesText() const;
    void setNotesText(const QString &text);
    void saveNotes();
    void editNotes(); // brings the notes tab forward with the cursor in it
    // True once the run was deleted while this page showed it (the page says so and stops reading).
    bool isRunRemoved() const { return m_removed; }

signals:
    void cancelRequested(const QString &runId);
    void notesEdited(const QString &runId, const QString &notes);
    // The user asked to start a new run from the run's checkpoint at `step` (the compose panel opens with it set).
    void resumeRequested(const QString &runId, qint64 step);

private:
    void showRun(const RunRecord &run);
    void appendLogLines(const QList<RankLogLine> &lines);
    bool lineIsShown(const RankLogLine &line) const;
    QString formatLine(const RankLogLine &line) const;
    void rebuildLogView();
    void showRemoved();
    void refreshPerformance(); // off the UI thread, at most once per kPerformanceRefreshMs
    void refreshCheckpoints(); // likewise
    QWidget *buildNotesTab();

    QString m_runId;
    RunFollower *m_follower;
    QLabel *m_title;
    QLabel *m_status;
    QLabel *m_failure;
    QLabel *m_metricsIncomplete;
    QLabel *m_alerts; // the alert rules the run broke, one a line
    QLabel *m_provenance;
    QLabel *m_systemTags;   // the MLflow client's mlflow.* tags, apart from the run's own
    QLabel *m_notesPreview; // the notes' first line under the title, when there are notes
    QPlainTextEdit *m_notes;
    QPushButton *m_saveNotes;
    QString m_storedNotes; // as last read: the editor is not overwritten while it holds unsaved changes
    QTabWidget *m_sideTabs = nullptr;
    bool m_removed = false;
    QLabel *m_performance;
    QTimer *m_performanceTimer;
    EnvelopeChart *m_stepTimeChart; // perf/rank<N>/step_time_ms, a line a rank
    TracesView *m_traces;
    QTableWidget *m_checkpointTable;
    QPushButton *m_resume;
    QLabel *m_checkpointsHint;
    QString m_checkpointSignature; // the list last shown
    LatestOnly m_checkpointsRead;
    QString m_databasePath;
    QString m_runDir;
    LatestOnly m_performanceRead;
    QFileSystemModel *m_artifacts; // <run>/artifacts, read by the model's own thread
    QPushButton *m_cancel;
    QComboBox *m_rankFilter;
    QCheckBox *m_follow;
    QLineEdit *m_search;
    QPlainTextEdit *m_log;
    CompareView *m_metrics; // the charts: the compare view's, for this run
    QList<RankLogLine> m_lines;
    QList<int> m_ranks;
    RunStatus m_lastStatus = RunStatus::Queued;
};

} // namespace trainyard
