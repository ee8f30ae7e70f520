// RunSpec: a run described in YAML (what `trainyard launch SPEC.yaml` reads, and what every run folder's
// spec.yaml holds, resolved). Errors name the file, line and column, and the type that was expected.
#pragma once

#include "spec/alertrule.h"
#include "spec/launchoptions.h"
#include "spec/runparams.h"
#include "spec/slurmsettings.h"
#include "spec/sweep.h"
#include "result.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QPair>
#include <QString>

#include <optional>
#include <QStringList>

namespace trainyard {

// Durations in a spec (`grace_s`, `hang_timeout_s`) and on the command line (`--grace`, `--hang-timeout`) follow one
// rule: a number of seconds from 0 to kMaxDurationS (a week), kept as whole milliseconds.
inline constexpr double kMaxDurationS = 7 * 24 * 3600;
// The milliseconds of `seconds`, or nullopt when it is not a number from 0 to kMaxDurationS.
std::optional<int> durationMs(double seconds);

// Why `name` cannot name an environment variable (empty, an '=' in it, a control character), or an empty string:
// the same rule for a spec's `env:` and `param_passing.env:` and for `--env`.
QString environmentNameProblem(const QString &name);
// Why `value` cannot be an environment variable's value (a NUL byte, which execve cannot pass), or an empty string.
QString environmentValueProblem(const QString &value);

// What the memory planner needs beyond the spec's strategy and resources (the `model:` section).
struct ModelSpec {
    std::optional<double> parameters;
    std::optional<TransformerShape> shape;
    OptimizerKind optimizer = OptimizerKind::Adam;
    double gpuMemoryBytes = 0; // 0: not given (the plan shows bytes, no verdict)
    bool activationCheckpointing = false;
    std::optional<double> peakTflops; // one GPU's peak for MFU, instead of the table's (`model.peak_tflops`)

    bool isEmpty() const { return !parameters && !shape; }
};

// `checkpoints: {keep_last: N, keep_best: {metric, mode, n}}`: which checkpoints a run keeps once a newer one is
// complete; the others are deleted. Checkpoints whose name holds no step are never deleted.
struct CheckpointRetention {
    std::optional<int> keepLast; // the N newest by step
    QString bestMetric;          // empty: no keep_best
    bool bestIsMin = true;       // mode: min (a loss) or max (an accuracy)
    int keepBest = 0;            // the K best by bestMetric
    bool isEmpty() const { return !keepLast && bestMetric.isEmpty(); }
};

struct RunSpec {
    QString name;
    QString project; // for the throughput review; default: the git repository (or folder) of cwd
    QStringList command;
    bool shell = false;
    QString cwd; // absolute after loading: relative paths are taken from the spec file's folder
    QMap<QString, QString> env;
    QList<RunParam> params;    // typed; a plain `name: value` gets the type its value reads as
    ParamPassing paramPassing; // how they reach the program
    int nodes = 1;
    int ranksPerNode = 1;
    QList<int> gpus;
    QString backend = QStringLiteral("local"); // or the name of a backend profile of the workspace
    SlurmJobSettings slurm;                    // the `slurm:` section: overrides the profile's job settings
    ModelSpec model;                           // the `model:` section, for the memory plan
    StrategyChoice strategy;
    NcclDebugOptions nccl;
    int maxRestarts = 0;
    double hangTimeoutS = 0;
    double graceS = 5;
    QStringList tags;
    // Folders of TensorBoard event files the run writes, tailed while it runs (relative to cwd; {run_dir} expands).
    QStringList tensorboardDirs;
    QString notes;
    QList<AlertRule> alerts; // `alerts:`, checked on ingestion
    // `checkpoints: {dir: ...}`: where the ranks save checkpoints, relative to cwd ({run_dir} expands); empty: the
    // run folder's checkpoints/.
    QString checkpointDir;
    CheckpointRetention retention; // `checkpoints: {keep_last, keep_best}`
    // `resume_from: RUN@STEP`: start from that run's checkpoint at that step, as its child (a fork).
    std::optional<ResumePoint> resumeFrom;
    SweepSpec sweep; // empty unless the spec sweeps
};

Result<RunSpec> loadRunSpec(const QString &path);
// `sourceName` is what messages call the text (a path); `baseDir` anchors a relative cwd.
Result<RunSpec> parseRunSpec(const QByteArray &yaml, const QString &sourceName, const QString &baseDir);

} // namespace trainyard
