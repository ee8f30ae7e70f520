// Moving a lab's history in: a TensorBoard logdir (every folder holding event files becomes a run) and an MLflow
// file store (mlruns/: every run of every experiment). Both are idempotent: a run remembers where it came from
// (runs.source), so a second import finds it; event files continue from their committed offsets.
#pragma once

#include "result.h"

#include <QString>
#include <QStringList>

#include <cstdint>

namespace trainyard {

class StoreWriter;
class Workspace;

struct HistoryImportResult {
    int runsCreated = 0;
    int runsAlreadyPresent = 0; // found by their source; event files read on from where the last import stopped
    std::int64_t points = 0;    // points stored by this import
    std::int64_t damagedRecords = 0;
    QStringList problems; // damaged records and files that are not event files, each naming its file
    std::int64_t skippedHistograms = 0;
    std::int64_t skippedImages = 0;
    std::int64_t skippedOther = 0; // audio, text, non-scalar tensors
    QStringList runIds;
};

// Imports every folder under `logdir` (itself included) that holds events.out.tfevents.* files as a run: named by its
// path below the logdir, project the logdir's name, backend `tensorboard`, status succeeded, its times those of its
// first and last events, hparams as params. A file whose first record is not a TensorBoard event is reported and left
// out; an error only when nothing could be imported.
Result<HistoryImportResult> importTensorBoardLogdir(const Workspace &workspace, StoreWriter &writer,
                                                    const QString &logdir);

// Imports an MLflow file store (the folder holding experiment folders, usually mlruns/): each experiment becomes a
// project, each run a run (backend `mlflow`, its status, times, params, tags and every metric line). The whole store is
// read and checked first: a missing or unreadable meta.yaml or metric file is an error naming it, and nothing is written.
Result<HistoryImportResult> importMlflowStore(const Workspace &workspace, StoreWriter &writer, const QString &storeDir);

} // namespace trainyard
