// Checkpoints: what Trainyard knows of a run's checkpoints (issue 19). A checkpoint is recorded when the script says
// so through the client (trainyard_log.checkpoint), or when a file or folder whose name holds a step appears, whole,
// in the run's checkpoint folder (core/ingest/checkpointwatcher). One row per run and path; a path recorded again
// (the client and the folder watch both saw it) keeps the client's step and metrics.
#pragma once

#include "result.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QMultiMap>
#include <QSet>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

namespace trainyard {

class SqliteConnection;

struct CheckpointRecord {
    QString runId;
    QString path;                     // absolute
    std::optional<std::int64_t> step; // none when its name holds no step (listed, never pruned)
    std::int64_t bytes = 0;           // a folder: everything under it
    std::int64_t createdMs = 0;       // when it was found complete (or the client said so)
    QString source;                   // "client", "folder" (the checkpoint folder's watch) or "mlflow"
    int rank = -1;                    // the rank that said so, -1 when found in the folder
    QJsonObject metrics;              // what the client gave with it (trainyard_log.checkpoint(..., loss=0.3))
};

namespace checkpoints {

// Records (or updates) a run's checkpoint, keyed by its path.
Result<void> record(SqliteConnection &connection, const CheckpointRecord &checkpoint);
// A run's checkpoints: by step (those without a step last), then by time.
Result<QList<CheckpointRecord>> list(SqliteConnection &connection, const QString &runId);
// Forgets a checkpoint (its file is gone).
Result<void> forget(SqliteConnection &connection, const QString &runId, const QString &path);
// The checkpoint of `runId` at `step` a new run can start from: one whose file or folder is still there. The error
// names what is missing: the run, a checkpoint at that step (with the steps it has), or the file (with its path).
Result<CheckpointRecord> resumableAt(SqliteConnection &connection, const QString &runId, std::int64_t step);
// The runs forked from `runId`, by the step they started from.
Result<QMultiMap<std::int64_t, QString>> children(SqliteConnection &connection, const QString &runId);
// The paths of `checkpoints` (a run's) that retention must keep: those a child run started from.
Result<QSet<QString>> pathsChildrenStartedFrom(SqliteConnection &connection, const QString &runId,
                                               const QList<CheckpointRecord> &checkpoints);

// The run's metrics at each step: every key's value at its last point at or before the step (keys under sys/ and
// perf/ left out: telemetry, not the model's metrics). A step before a key's first point has no value for it.
// `onlyKey`: that key alone (retention ranking by one metric).
Result<QMap<std::int64_t, QJsonObject>> metricsAtSteps(SqliteConnection &connection, const QString &runId,
                                                       const QList<std::int64_t> &steps, const QString &onlyKey = {});

// A checkpoint's metrics: the run's at its step, with what the client gave with the checkpoint over them.
QJsonObject metricsOf(const CheckpointRecord &checkpoint, const QMap<std::int64_t, QJsonObject> &metricsAtSteps);
// Metrics as "key=value" items, keys in order, numbers to `precision` significant digits.
QStringList describeMetrics(const QJsonObject &metrics, int precision);

} // namespace checkpoints
} // namespace trainyard
