// TracesView: the run page's Traces tab. "Profile next N steps" asks the live run's ranks for a torch.profiler
// trace (core/perf/profilerequest.h, as `trainyard profile` does); every profile taken is listed, and the chosen one
// opens: the top operators of a rank by self and total time, and the timeline of every traced rank side by side
// (TraceTimeline), aligned at the first step they all profiled. Folder reads and trace parsing run off the UI thread.
#pragma once

#include "perf/chrometrace.h"
#include "perf/profilerequest.h"
#include "store/runrecord.h"
#include "views/offuithread.h"
#include "views/tracetimeline.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace trainyard {

class TraceTimeline;

class TracesView : public QWidget {
    Q_OBJECT
public:
    static constexpr int kRefreshMs = 2000;

    TracesView(const QString &runDir, QWidget *parent = nullptr);

    // The run as last read: the profile button works while it is running.
    void setRun(const RunRecord &run);
    // Reads the run's profiles again (off the UI thread).
    void refresh();
    // Asks for a profile of the next `steps` steps of `ranks` ("" or "all": every rank); the answer is in statusText().
    void requestProfile(int steps, const QString &ranks);

    // For tests: what the tab shows.
    QStringList sessionLabels() const;
    QString statusText() const;
    TraceTimeline *timeline() const { return m_timeline; }
    QStringList operatorNames(int count) const; // the first `count` operators as listed
    int operatorRank() const;                   // whose operators are listed, -1 when none
    bool isLoading() const { return m_loading; }

signals:
    void tracesShown(); // a profile's traces were read and shown (or could not be: statusText says why)

private:
    void showSessions(const QList<ProfileSession> &sessions, const QString &error);
    void openSelectedSession();
    void showOperators();
    void updateProfileButton();

    QString m_runDir;
    RunRecord m_run;
    QList<ProfileSession> m_sessions;
    QString m_openedSession; // the id whose traces are shown, with the answers it had then
    QList<int> m_openedRanks;
    QList<TimelineTrace> m_traces;
    QComboBox *m_sessionList;
    QSpinBox *m_steps;
    QLineEdit *m_ranks;
    QPushButton *m_profile;
    QLabel *m_status;
    QComboBox *m_operatorRank;
    QTableWidget *m_operators;
    TraceTimeline *m_timeline;
    QTimer *m_refreshTimer;
    LatestOnly m_sessionsRead;
    LatestOnly m_tracesRead;
    bool m_loading = false;
    bool m_requestPending = false; // a request of ours not yet answered by every rank: keep looking
    QString m_requestMessage;
};

} // namespace trainyard
