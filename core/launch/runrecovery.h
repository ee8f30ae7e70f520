// Recovery of runs left active by a Trainyard that crashed, and repair of runs whose metrics did not all reach the
// store: both ingest what the run's files hold past the progress committed with the points.
#pragma once

#include "result.h"
#include "runfolder/runfolder.h"
#include "store/runrecord.h"

#include <QJsonObject>
#include <QStringList>

namespace trainyard {

class StoreWriter;
class Workspace;
struct RunRecord;

// What catching up a run's ingestion found.
struct IngestCatchUp {
    std::int64_t stored = 0; // points of the run's metrics files (or rank 0's log) and system.jsonl in the store
    std::int64_t total = 0;  // points those files hold (stored + still missing)
    std::int64_t malformedLines = 0;
    QStringList malformedExamples;
    std::int64_t tensorboardPoints = 0;
    bool hasTensorboard = false;
    QString error; // why some points are still missing; empty when every point is stored
};

// Ingests what the run's files hold past the committed progress (metrics files or rank 0's log, system.jsonl,
// TensorBoard event files); when the store still fails, counts what is missing.
IngestCatchUp catchUpIngestion(const Workspace &workspace, StoreWriter &writer, const QString &runId);
// The exit summary's "ingest" object updated with `catchUp`: its point counts, and "incomplete"
// ({stored, total, reason}) while points are missing (removed once every point is stored).
QJsonObject withIngestFigures(QJsonObject summary, const IngestCatchUp &catchUp);

// For every local run of this host in starting/running/restarting whose supervising process is gone: kills what
// is still alive of its recorded rank group, ingests its metric files from where ingestion stopped, and records its
// end: the one its supervisor left in outcome.json when it could not record it, else `lost`. Returns the ids of the
// runs it closed.
Result<QStringList> recoverAbandonedRuns(const Workspace &workspace, StoreWriter &writer);
// Whether the store says `run` is active but it is a local run of this host whose supervisor and ranks are gone:
// what recovery would close as lost. Reads the run folder and /proc only, so read-only commands (ls, show) can
// report such a run as lost at once, without writing.
bool isAbandoned(const Workspace &workspace, const RunRecord &run);
// What recovery will record for an abandoned run: the status its supervisor left in outcome.json, else `lost`.
RunStatus abandonedRunStatus(const Workspace &workspace, const RunRecord &run);

struct RepairedRun {
    QString runId;
    std::int64_t storedBefore = 0;
    IngestCatchUp catchUp;
};
// `trainyard repair [RUN]`: catches up the ingestion of the ended run `runId`, or of every ended run whose exit summary
// says its metrics are incomplete, and updates their exit summaries.
Result<QList<RepairedRun>> repairIncompleteRuns(const Workspace &workspace, StoreWriter &writer,
                                                const QString &runId = {});

} // namespace trainyard
