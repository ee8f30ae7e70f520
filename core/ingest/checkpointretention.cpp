#include "ingest/checkpointretention.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <cmath>

namespace trainyard {

std::int64_t RetentionPlan::bytesFreed() const
{
    std::int64_t bytes = 0;
    for (const CheckpointRecord &checkpoint : remove)
        bytes += checkpoint.bytes;
    return bytes;
}

namespace retention {

RetentionPlan plan(const QList<CheckpointRecord> &checkpoints, const CheckpointRetention &rule,
                   const QMap<std::int64_t, QJsonObject> &metricsAtSteps, const QSet<QString> &protectedPaths)
{
    RetentionPlan result;
    QList<CheckpointRecord> stepped;
    for (const CheckpointRecord &checkpoint : checkpoints) {
        if (checkpoint.step && !rule.isEmpty())
            stepped << checkpoint;
        else
            result.keep << checkpoint; // no step, or no rule: never deleted
    }
    std::stable_sort(stepped.begin(), stepped.end(), [](const CheckpointRecord &a, const CheckpointRecord &b) {
        return *a.step != *b.step ? *a.step < *b.step : a.createdMs < b.createdMs;
    });
    QSet<QString> kept = protectedPaths;
    // The newest always (it is the one a restart resumes from), and the last N.
    const int last = std::max(1, rule.keepLast.value_or(0));
    for (qsizetype i = std::max<qsizetype>(0, stepped.size() - last); i < stepped.size(); ++i)
        kept.insert(stepped[i].path);
    // The best K by the metric: the client's value given with the checkpoint, else the run's at its step.
    if (!rule.bestMetric.isEmpty() && rule.keepBest > 0) {
        QList<std::pair<double, qsizetype>> ranked;
        for (qsizetype i = 0; i < stepped.size(); ++i) {
            const QJsonValue value = checkpoints::metricsOf(stepped[i], metricsAtSteps).value(rule.bestMetric);
            if (value.isDouble() && std::isfinite(value.toDouble()))
                ranked.append({value.toDouble(), i});
        }
        // Best first; of two equal, the newer.
        std::stable_sort(ranked.begin(), ranked.end(), [&](const auto &a, const auto &b) {
            if (a.first != b.first)
                return rule.bestIsMin ? a.first < b.first : a.first > b.first;
            return a.second > b.second;
        });
        for (qsizetype i = 0; i < std::min<qsizetype>(rule.keepBest, ranked.size()); ++i)
            kept.insert(stepped[ranked[i].second].path);
    }
    for (const CheckpointRecord &checkpoint : stepped)
        (kept.contains(checkpoint.path) ? result.keep : result.remove) << checkpoint;
    return result;
}

Deleted apply(const RetentionPlan &plan)
{
    Deleted deleted;
    for (const CheckpointRecord &checkpoint : plan.remove) {
        const QFileInfo info(checkpoint.path);
        bool removed = !info.exists();
        if (!removed)
            removed = info.isDir() ? QDir(checkpoint.path).removeRecursively() : QFile::remove(checkpoint.path);
        if (removed)
            deleted.paths << checkpoint.path;
        else
            deleted.errors << QStringLiteral("cannot delete %1").arg(checkpoint.path);
    }
    return deleted;
}

} // namespace retention
} // namespace trainyard
