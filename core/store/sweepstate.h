// What a sweep that thinks keeps in the workspace (issue 20): the value each of its runs had at each early-stopping
// rung (sweep_rungs), a tpe sweep's trials and their runs (sweep_trials), and the sweep's method and state. The queue
// writes them as it judges and proposes; the sweep report and the Sweeps tab read them.
#pragma once

#include "result.h"
#include "store/runrecord.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <cstdint>
#include <optional>

namespace trainyard {

class SqliteConnection;

struct SweepRow {
    QString id;
    QString name;
    QByteArray spec; // the spec text it was made from
    QString method;  // "grid" (every run queued at once) or "tpe"
    QString state;   // a tpe sweep's: active, paused (message says why) or done
    QString message; // why it is paused
    std::int64_t createdMs = 0;
};

// A run's value at one rung of its sweep's early-stopping rule.
struct SweepRungValue {
    QString runId;
    int rung = 0;
    std::int64_t step = 0;                 // the step of the point judged
    double value = 0;                      // NaN when the run logged NaN there
    RunStatus status = RunStatus::Running; // the run's status now
};

// One trial of a tpe sweep: Optuna's trial number, its run, and what the study was told.
struct SweepTrial {
    int trial = 0;
    QString runId; // empty when the run was deleted
    QString state; // running (proposed, its run queued or active), complete, pruned or fail
    std::optional<double> value;
};

// What a run of a sweep cost, and how far it got in a metric: what the GPU-hours saved by stopping are figured from.
struct SweepRunCost {
    QString runId;
    int gpus = 0;
    std::int64_t activeMs = 0;            // time spent active, restarts included (an active run's so far)
    std::optional<std::int64_t> lastStep; // the metric's last step; nullopt when the run did not log it
};

namespace sweepstate {

Result<SweepRow> readSweep(SqliteConnection &connection, const QString &sweepId);
// The tpe sweeps the queue drives (state active).
Result<QStringList> activeTpeSweeps(SqliteConnection &connection);
Result<void> setMethod(SqliteConnection &connection, const QString &sweepId, const QString &method);
Result<void> setState(SqliteConnection &connection, const QString &sweepId, const QString &state,
                      const QString &message = {});

// Records that `runId` reached `rung` with `value` at `step`; false when it had already (a restart's second
// arrival keeps the first: the run was judged on it).
Result<bool> recordRung(SqliteConnection &connection, const QString &sweepId, const QString &runId, int rung,
                        std::int64_t step, double value, std::int64_t atMs);
// Every value recorded at `rung` of the sweep (the one just recorded included), with each run's status now.
Result<QList<SweepRungValue>> valuesAtRung(SqliteConnection &connection, const QString &sweepId, int rung);
// Every value of the sweep, by run and rung.
Result<QList<SweepRungValue>> rungsOf(SqliteConnection &connection, const QString &sweepId);

Result<void> recordTrial(SqliteConnection &connection, const QString &sweepId, int trial, const QString &runId);
Result<void> setTrialResult(SqliteConnection &connection, const QString &sweepId, int trial, const QString &state,
                            std::optional<double> value);
// Each run of the sweep: GPUs, active time and the last step of `metric`.
Result<QList<SweepRunCost>> runCosts(SqliteConnection &connection, const QString &sweepId, const QString &metric,
                                     std::int64_t nowMs);
// The sweep's trials, by number.
Result<QList<SweepTrial>> trialsOf(SqliteConnection &connection, const QString &sweepId);

} // namespace sweepstate
} // namespace trainyard
