// What the window tells the user about runs without being asked: a run failed (with its first-failure line), hung,
// finished after running longer than a threshold, or broke one of its alert rules. Worked out from the run list's
// changes (RunListWatcher), so it covers runs launched anywhere: this window, a terminal, the queue, a cluster.
#pragma once

#include "store/runqueries.h"
#include "store/runrecord.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QMetaType>
#include <QString>

namespace trainyard {

// Which notifications are on (File > Settings…), kept with QSettings.
struct NotificationSettings {
    bool failed = true;
    bool hung = true;
    bool finishedLong = true; // a run that ran longer than longRunMinutes ended (succeeded or canceled)
    bool alerts = true;
    int longRunMinutes = 10;

    static NotificationSettings load();
    void save() const;
    bool operator==(const NotificationSettings &) const = default;
};

struct RunNotification {
    enum class Kind { Failed, Hung, FinishedLong, Alert };
    Kind kind = Kind::Failed;
    QString runId;
    QString title; // "Run failed: resnet50-lr3e-3"
    QString body;  // "rank 1, python-exception: ValueError: loss is NaN at step 4"
};

} // namespace trainyard

Q_DECLARE_METATYPE(trainyard::RunNotification)

namespace trainyard {

class RunNotificationDetector {
public:
    // The notifications a change of the run list calls for. The first complete list only says what is known; runs that
    // appear already ended (an import) notify nothing.
    QList<RunNotification> update(const RunListChange &change, const NotificationSettings &settings);

private:
    struct Known {
        RunStatus status = RunStatus::Queued;
        qsizetype alerts = 0;
    };
    bool m_seeded = false;
    QDateTime m_seededAt;
    QHash<QString, Known> m_known;
};

} // namespace trainyard
