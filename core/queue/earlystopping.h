// Early stopping's judgement: when a run of a sweep reaches a rung of the sweep's rule, whether it goes on or is
// stopped, and the comparison that says why. Pure: the queue (QueueScheduler) gathers the values recorded at the rung
// (store/sweepstate) and acts on the decision. See the user guide's "Early stopping".
#pragma once

#include "spec/rungwatcher.h"
#include "spec/sweep.h"
#include "store/sweepstate.h"

#include <QJsonObject>
#include <QList>
#include <QString>

namespace trainyard {

struct EarlyStopDecision {
    bool stop = false;
    QString method;      // "asha" or "median"
    int rung = 0;        // 0-based
    int rungCount = 0;   // rungs in the rule
    RungArrival arrival; // what the run logged at the rung
    QString comparison;  // "loss 0.91 at step 10 ranks 3rd of 3 runs at rung 1 (step 10); ASHA keeps the best 1"
    // "stopped early at rung 1 of 2 (step 10): <comparison>": the run's end detail, as a first failure's message.
    QString message() const;
    // {method, rung, rungs, rung_step, step, value, comparison, message}: the exit summary's stopped_early.
    QJsonObject toJson() const;
};

// Judges `runId`'s arrival at a rung. `atRung` holds every value the sweep's runs recorded at that rung, the
// arrival's own included. An arrival that is NaN or infinite is stopped (a diverged run); others' NaN values rank
// below every number, whichever the mode.
EarlyStopDecision judgeArrival(const EarlyStopRule &rule, const QString &runId, const RungArrival &arrival,
                               const QList<SweepRungValue> &atRung);

} // namespace trainyard
