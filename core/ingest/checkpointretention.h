// Checkpoint retention (issue 19, point 3): of a run's checkpoints, which the spec's rule keeps (the union of the
// newest `keep_last` and the best `keep_best.n` by a metric) and which go. Only checkpoints whose name holds a step
// are ever deleted; the newest is always kept (a checkpoint goes only once a newer one is complete), and so is any
// path a resume or a restart points at. Applied by the run's ingestion thread whenever a checkpoint is recorded, and
// by `trainyard checkpoints RUN --prune`.
#pragma once

#include "result.h"
#include "spec/runspec.h"
#include "store/checkpoints.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QSet>
#include <QString>

namespace trainyard {

struct RetentionPlan {
    QList<CheckpointRecord> keep;
    QList<CheckpointRecord> remove;
    std::int64_t bytesFreed() const;
};

namespace retention {

// `metricsAtSteps`: the run's metrics at each checkpoint's step (checkpoints::metricsAtSteps); what the client gave
// with a checkpoint counts over them.
RetentionPlan plan(const QList<CheckpointRecord> &checkpoints, const CheckpointRetention &rule,
                   const QMap<std::int64_t, QJsonObject> &metricsAtSteps, const QSet<QString> &protectedPaths = {});

// Deletes the plan's `remove` files and folders; returns the paths deleted. An error names each path that could not
// be deleted (the others are deleted all the same).
struct Deleted {
    QStringList paths;
    QStringList errors;
};
Deleted apply(const RetentionPlan &plan);

} // namespace retention
} // namespace trainyard
