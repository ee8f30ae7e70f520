// Recovery of runs left active by a Trainyard that crashed: ingest what they wrote, then mark them lost.
#pragma once

#include "result.h"

#include <QStringList>

namespace trainyard {

class StoreWriter;
class Workspace;
struct RunRecord;

// For every local run of this host in starting/running/restarting whose supervising process is gone: kills what
// is still alive of its recorded rank group, ingests its metric files from where ingestion stopped, records the exit summary
// and marks it `lost`. Returns the ids of the runs it marked.
Result<QStringList> recoverAbandonedRuns(const Workspace &workspace, StoreWriter &writer);
// Whether the store says `run` is active but it is a local run of this host whose supervisor and ranks are gone:
// what recovery would close as lost. Reads the run folder and /proc only, so read-only commands (ls, show) can
// report such a run as lost at once, without writing.
bool isAbandoned(const Workspace &workspace, const RunRecord &run);

} // namespace trainyard
