// Trainyard's logging categories: one per area, so that a user turns on one area's debug messages with
// QT_LOGGING_RULES (e.g. QT_LOGGING_RULES="trainyard.launch.debug=true"). Warnings of every area are on by default;
// debug messages are off. docs/DEVELOPING.md ("Logging") lists what each area says.
#pragma once

#include <QLoggingCategory>

namespace trainyard {

Q_DECLARE_LOGGING_CATEGORY(lcStore)    // trainyard.store: the writer's transactions
Q_DECLARE_LOGGING_CATEGORY(lcIngest)   // trainyard.ingest: metric batches stored, with the files' offsets
Q_DECLARE_LOGGING_CATEGORY(lcLaunch)   // trainyard.launch: ranks started and ended, teardown, recovery, run ends
Q_DECLARE_LOGGING_CATEGORY(lcQueue)    // trainyard.queue: the scheduler's starts
Q_DECLARE_LOGGING_CATEGORY(lcTracking) // trainyard.tracking: the MLflow API's requests
Q_DECLARE_LOGGING_CATEGORY(lcUi)       // trainyard.ui: the window's background reads that failed

} // namespace trainyard
