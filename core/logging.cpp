#include "logging.h"

namespace trainyard {

// Warnings and above on by default, debug off: what a Trainyard prints unasked stays as it was.
Q_LOGGING_CATEGORY(lcStore, "trainyard.store", QtWarningMsg)
Q_LOGGING_CATEGORY(lcIngest, "trainyard.ingest", QtWarningMsg)
Q_LOGGING_CATEGORY(lcLaunch, "trainyard.launch", QtWarningMsg)
Q_LOGGING_CATEGORY(lcQueue, "trainyard.queue", QtWarningMsg)
Q_LOGGING_CATEGORY(lcTracking, "trainyard.tracking", QtWarningMsg)
Q_LOGGING_CATEGORY(lcUi, "trainyard.ui", QtWarningMsg)

} // namespace trainyard
