// Sweeps: one spec, many runs. A spec's `sweep:` section gives grid axes (every combination), random
// search (N samples, seeded: uniform, log-uniform, integer or a choice) and a seeds axis; the runs are
// their product. See docs/SWEEPS.md.
#pragma once

#include "result.h"
#include "spec/runparams.h"

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <cstdint>

namespace trainyard {

struct RandomAxis {
    enum class Distribution { Uniform, LogUniform, Int, Choice };
    QString param;
    Distribution distribution = Distribution::Uniform;
    double min = 0;
    double max = 1;
    QStringList choices;
    qint64 minInt = 0; // an int distribution's bounds, exact (a double loses integers past 2^53)
    qint64 maxInt = 0;
};

struct SweepSpec {
    QList<QPair<QString, QStringList>> grid; // param -> values, in the spec's order
    int samples = 0;                         // random samples (0: no random search)
    std::uint64_t randomSeed = 0;
    QList<RandomAxis> random;
    QStringList seeds; // values of the seed param, one run each
    QString seedParam = QStringLiteral("seed");

    bool isEmpty() const { return grid.isEmpty() && samples == 0 && seeds.isEmpty(); }
    // How many runs the sweep makes: grid points x samples x seeds (an absent factor counts 1).
    qint64 runCount() const;
};

// One run of a sweep: its params (the spec's, with the sweep's values put in, typed and checked) and a
// short label of what the sweep set, e.g. "lr=0.01 batch=64 seed=2".
struct SweepPoint {
    QList<RunParam> params;
    QString label;
};

// Expands the sweep over the spec's params. Values are checked against the param's type (a choice must
// be one of its choices); a param the spec does not declare gets the type its values read as. The same
// sweep and seed always give the same runs, in the same order.
Result<QList<SweepPoint>> expandSweep(const QList<RunParam> &baseParams, const SweepSpec &sweep);

inline constexpr qint64 kMaxSweepRuns = 10000;

} // namespace trainyard
