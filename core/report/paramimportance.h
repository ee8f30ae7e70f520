// Parameter importance over a sweep's finished runs (issue 20): which params shape a metric, and which way. Two
// methods side by side, because each misses what the other sees:
//   - Spearman's rank correlation between a numeric param and the metric: monotone effects, with their direction,
//     blind to a param whose best value is in the middle;
//   - permutation importance from a random forest of regression trees (Breiman 2001): the forest is fitted to the runs
//     (param values -> metric), then each param's values are shuffled among each tree's out-of-bag runs and the growth
//     of that tree's squared error is averaged. It sees any shape and interactions, and needs more runs to be stable.
// mlpack, the C++ learning library in Debian, has no random-forest regressor (mlpack/mlpack#3703), so the forest is
// written here: CART regression trees split on variance reduction, choices split by ordering their values by mean
// metric in the node (exact for regression), bootstrap samples, a third of the params tried at each split.
#pragma once

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

namespace trainyard {

// One finished run: its params as text (numbers where they read as numbers) and the metric's value.
struct ImportanceRun {
    QString runId;
    QMap<QString, QString> params;
    double metric = 0;
};

struct ParamImportance {
    QString param;
    bool numeric = true;    // every value reads as a number; otherwise a choice (categorical)
    int distinctValues = 0; // among the runs used
    // Spearman's rho between the param and the metric, -1..1 (numeric params; nullopt for a choice).
    std::optional<double> spearman;
    // The forest's permutation importance: the mean growth of out-of-bag squared error when the param is shuffled, as
    // a fraction of the metric's variance (0: the forest does not use it; can be slightly negative by chance).
    double permutation = 0;
    double share = 0; // permutation importance as a share of all params' (negatives counted as 0), 0..1
    // What helps the goal: "higher" or "lower" (numeric, from rho's sign when |rho| is at least kClearCorrelation and
    // ImportanceReport::chanceCorrelation), or the best
    // value of a choice (by mean metric); empty when no direction is clear.
    QString better;
};

struct ImportanceReport {
    int runsUsed = 0;
    QStringList leftOut;   // "RUN: the metric is NaN" and the like
    QStringList notVaried; // params with one value in every run used: nothing to learn from them
    // Set (and no params) when fewer than kMinImportanceRuns runs are usable: "3 finished runs with the metric; 8 are
    // needed to say anything".
    QString notEnoughData;
    QList<ParamImportance> params; // by permutation importance, most important first
    // The forest's out-of-bag R²: how much of the metric's variance the params explain (low: take the ranking lightly).
    std::optional<double> forestR2;
    int trees = 0;
    // |rho| under this is what unrelated params reach one time in twenty with this many runs (1.96 / sqrt(n - 1), the
    // normal approximation of rho's spread under no relation): no direction is read from a smaller one.
    double chanceCorrelation = 0;
};

inline constexpr int kMinImportanceRuns = 8;
inline constexpr double kClearCorrelation = 0.2;

struct ForestSettings {
    int trees = 300;
    int minLeafRuns = 2;
    std::uint64_t seed = 20; // the same runs and seed give the same numbers
};

// `lowerIsBetter`: the metric is a loss (min) rather than an accuracy (max); it sets the direction words only.
ImportanceReport paramImportance(const QList<ImportanceRun> &runs, bool lowerIsBetter,
                                 const ForestSettings &settings = {});

// Spearman's rank correlation of two equally long series (ties get their mean rank); nullopt when either is constant
// or there are fewer than 3 pairs.
std::optional<double> spearmanCorrelation(const QList<double> &x, const QList<double> &y);

} // namespace trainyard
