// Plain data for runs as stored in the workspace: status, record, and what a new run needs.
#pragma once

#include <QDateTime>
#include <QList>
#include <QMap>
#include <QPair>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

namespace trainyard {

// queued -> starting -> running -> {succeeded, failed, canceled, lost, stopped-early}; running -> restarting -> running.
// stopped-early: a sweep's early-stopping rule (ASHA, median) ended it at a rung; neither failed nor canceled.
enum class RunStatus { Queued, Starting, Running, Restarting, Succeeded, Failed, Canceled, Lost, StoppedEarly };

QString toString(RunStatus status);
std::optional<RunStatus> runStatusFromString(const QString &text);
bool isTerminal(RunStatus status);
bool isActive(RunStatus status); // starting, running or restarting: time is being spent

// A run's notes are MLflow's run description: the `mlflow.note.content` tag, so the MLflow API serves them as such.
inline constexpr const char *kNotesTag = "mlflow.note.content";

// A metric's summary over the whole run, from the top level of its pyramid.
struct RunMetricSummary {
    std::int64_t count = 0;
    double last = 0; // NaN when the run logged NaN last (or only NaN for min and max)
    double min = 0;
    double max = 0;
    // The key's id in the store: a key the run logged earlier has a smaller one (charts order keys by it).
    std::int64_t keyId = 0;
    bool operator==(const RunMetricSummary &other) const; // NaN equals NaN here: the same summary
};

struct RunRecord {
    QString id;
    QString name;
    RunStatus status = RunStatus::Queued;
    QDateTime createdAt;
    QDateTime startedAt; // invalid until the run started
    QDateTime endedAt;   // invalid until the run ended
    QStringList command;
    QString cwd;
    QString host;
    QString backend;
    QString exitSummary; // JSON object text, empty until the run ended

    // "metrics incomplete: N of M points stored (reason)" while the exit summary says some of the run's points are not
    // in the store yet (a store error during the run; `trainyard repair` ingests them); empty otherwise.
    QString metricsIncomplete() const;
    QStringList tags;     // sorted
    QString sweepId;      // the sweep the run belongs to, if any
    QDateTime archivedAt; // when it was archived; invalid while it is not (the default list hides it)
    // The alert rules it broke: a JSON array of {at, metric, rule, step, value, action, message}, or empty.
    QString alerts;
    qsizetype alertCount() const;
    QMap<QString, QString> params;           // as recorded at launch (typed values as text)
    QMap<QString, QString> systemTags;       // the MLflow client's mlflow.* tags, kept apart from the run's tags
    QMap<QString, RunMetricSummary> metrics; // every metric key of the run (superseded points aside)
    // The keys holding points a failed attempt logged past the checkpoint the next attempt resumed from
    // (supersededKeyName), sorted; the charts draw them faint on request.
    QStringList supersededKeys;
    // The run this one was forked or resumed from, and the step of the parent's checkpoint it started from.
    QString parentRunId;
    std::optional<std::int64_t> parentStep;
    // What its folder (and a checkpoint folder of its own outside it) held when last measured; nullopt until then.
    std::optional<std::int64_t> diskBytes;

    // Seconds from start to end (or to `now` while active); nullopt before the run started.
    std::optional<qint64> durationSeconds(const QDateTime &now) const;
    bool isArchived() const { return archivedAt.isValid(); }
    QString notes() const { return systemTags.value(QString::fromLatin1(kNotesTag)); }
    bool operator==(const RunRecord &) const = default;
};

// A run's time line, folded from its state changes in order: what the throughput review reads. The writer
// applies each change as it records it; schema 6 folds the events of runs recorded before.
struct RunTimeline {
    std::optional<std::int64_t> queuedMs;      // first `queued`
    std::optional<std::int64_t> firstActiveMs; // first starting, running or restarting
    std::int64_t activeMs = 0;                 // time spent active in closed spans
    std::optional<std::int64_t> activeSinceMs; // start of the open active span
    int restarts = 0;

    void apply(RunStatus status, std::int64_t atMs);
};

struct NewRun {
    QString id; // an id chosen beforehand (makeRunId), used when free; otherwise the writer draws one
    QString name;
    QStringList command;
    QString cwd;
    QString host;
    QString backend = QStringLiteral("local");
    QStringList tags;
    QList<QPair<QString, QString>> params;
    RunStatus initialStatus = RunStatus::Queued;
    QDateTime createdAt; // now when invalid
    QString user;        // who launched it (the OS user)
    QString project;     // the spec's `project`, else the name of the git repository or folder it runs in
    int gpus = 0;        // GPUs it holds while active (0: CPU only)
    QString source;      // an imported run's origin (a TensorBoard folder, an MLflow run folder); unique when set
    QString notes;       // the spec's `notes:`; stored as MLflow's run description tag (kNotesTag)
    QString sweepId;     // the sweep it belongs to (a queued sweep's runs)
    QString parentRunId; // forked or resumed from this run's checkpoint at parentStep
    std::optional<std::int64_t> parentStep;
};

// Where the points of `key` that attempt `attempt` (0-based) logged past the checkpoint the next attempt resumed
// from are kept: superseded/attempt<N>/<key>, N counted from 1 as the CLI and the window count attempts.
QString supersededKeyName(const QString &key, int attempt);
// The key a superseded key's points belong to, and the attempt (0-based) that logged them; nullopt for other keys.
std::optional<std::pair<QString, int>> parseSupersededKeyName(const QString &name);

// A new run id: creation time to the second in UTC (so ids sort by time) and 6 random hex digits,
// e.g. 20261124-175012-a3f91c. The writer draws again on the rare collision.
QString makeRunId(const QDateTime &createdAt);

} // namespace trainyard
