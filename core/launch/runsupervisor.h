// RunSupervisor: one launched run end to end: its row in the store, its folder, its backend, live metric
// ingestion, cancel requests, and the final summary once every point is in.
#pragma once

#include "gpu/gputelemetry.h"
#include "gpu/processtelemetry.h"
#include "ingest/metricingester.h"
#include "launch/backend.h"
#include "launch/backendprofile.h"
#include "launch/launchrequest.h"
#include "launch/strategyenvironment.h"
#include "spec/runparams.h"
#include "result.h"
#include "spec/alertrule.h"
#include "spec/rungwatcher.h"
#include "spec/runspec.h"
#include "store/checkpoints.h"

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>
#include <QThread>
#include <QTimer>

#include <memory>
#include <optional>

namespace trainyard {

class IngestWorker;
class StoreWriter;
class TrackingService;
class Workspace;

struct LocalLaunch {
    QString name;
    QString project; // empty: the git repository (or folder) the command runs in
    QStringList tags;
    QString notes;           // the spec's free text, kept with the run
    QList<AlertRule> alerts; // the spec's `alerts:`, checked against every point ingested
    // Folders of TensorBoard event files to tail besides the run folder (the spec's `tensorboard:`; relative to the
    // run's cwd, {run_dir} expands).
    QStringList tensorboardDirs;
    QList<QPair<QString, QString>> params; // stored with the run; derived from typedParams when those are given
    QList<RunParam> typedParams;
    ParamPassing paramPassing;
    StrategyChoice strategy;
    ModelSpec model;       // the spec's `model:`, kept in the resolved spec (the memory plan, MFU)
    QString checkpointDir; // the spec's `checkpoints.dir` (relative to cwd, {run_dir} expands); empty: the default
    CheckpointRetention retention; // the spec's `checkpoints: {keep_last, keep_best}`
    // A sweep run's early-stopping rule: the supervisor reports each rung the run reaches (rungReached); the queue
    // judges it against the sweep's other runs and may stop it (stopEarly).
    std::optional<EarlyStopRule> earlyStop;
    // The spec's `resume_from`: the run starts from that run's checkpoint at that step, as its child.
    std::optional<ResumePoint> resumeFrom;
    LaunchRequest request; // runId and runDir are filled in by the supervisor
    QString existingRunId; // a queued run to start (its row and folder exist); empty: create a new run
    // Where it runs: this machine when empty, else the cluster of this profile (its job settings already
    // merged with the spec's `slurm:` section).
    std::optional<BackendProfile> cluster;
    // When `cluster` is not set: the spec's backend name, resolved against the workspace's profiles at launch,
    // with the spec's `slurm:` settings merged over the profile's.
    QString backendName = QStringLiteral("local");
    SlurmJobSettings slurmOverrides;
};

class RunSupervisor : public QObject {
    Q_OBJECT
public:
    static constexpr int kIngestPollMs = 250;
    static constexpr int kCancelCheckMs = 250;
    static constexpr int kTelemetryIntervalMs = 1000;
    // After the ranks are gone: how long a store error is retried before the run's missing points are left to
    // `trainyard repair` (the exit summary then says "metrics incomplete"), and how long recording the run's end is.
    static constexpr int kDrainRetryMs = 20000;
    static constexpr int kEndRecordRetryMs = 120000;

    // Creates the run (store row, folder, spec.yaml, supervisor.json) and starts its ranks.
    static Result<std::unique_ptr<RunSupervisor>> launch(const Workspace &workspace, StoreWriter &writer,
                                                         LocalLaunch launch, QObject *parent = nullptr);
    ~RunSupervisor() override;

    const QString &runId() const { return m_runId; }
    const QString &runDir() const { return m_request.runDir; }
    void cancel();
    // Stops the run as its sweep's early-stopping rule decided: its ranks are canceled and it ends `stopped-early`,
    // with `message` as its end detail and `details` as the exit summary's stopped_early (unless it had already
    // finished on its own).
    void stopEarly(const QString &message, const QJsonObject &details);

    int attempt() const;
    int ranksAlive() const;
    int ranksTotal() const { return m_request.nprocPerNode * m_request.nnodes; }
    IngestStats ingestStats() const;
    // Points the run's ranks stored through the MLflow tracking API and TensorBoard event files (not counted in
    // ingestStats, which reads metrics files and logs).
    std::int64_t trackedPoints() const;
    // Of those, the points stored through the MLflow tracking API (the exit summary's ingest.mlflow_points).
    std::int64_t mlflowPoints() const;
    // Why ingestion stopped, once the run has finished; empty when every point is in.
    const QString &ingestError() const { return m_ingestError; }
    // Once finished: the points its metrics files (or log) and system.jsonl hold, stored or not.
    std::int64_t pointsInFiles() const { return m_pointsInFiles; }
    bool isFinished() const { return m_finished; }

signals:
    void logLine(int rank, int attempt, const QDateTime &at, const QString &line);
    void statusChanged(trainyard::RunStatus status, const QString &detail);
    // A rule of the run's `alerts:` broke (recorded with the run; a `stop` rule also cancels the run).
    void alertFired(const trainyard::FiredAlert &alert);
    // The run first logged its sweep's early-stopping metric at or past a rung's step.
    void rungReached(const trainyard::RungArrival &arrival);
    // After the run's final status, exit summary and every metric point are committed.
    void finished(const trainyard::RunOutcome &outcome);

private:
    RunSupervisor(QString runId, LaunchRequest request, StoreWriter &writer, Backend *backend, QObject *parent);
    void onRunnerFinished(const RunOutcome &outcome);
    void onIngestDrained(const QString &drainError, qint64 totalPoints);
    // Records the run's end (status and exit summary, one transaction), retrying with back-off while the store fails.
    void recordEnd();
    void checkCancelRequest();
    void sampleTelemetry();
    void onAlertFired(const FiredAlert &alert);

    QString m_runId;
    LaunchRequest m_request;
    StoreWriter &m_writer;
    Backend *m_backend = nullptr; // a LocalRunner or a SlurmBackend, owned as a child
    QThread m_ingestThread;
    IngestWorker *m_ingestWorker = nullptr;
    QTimer m_cancelCheck;
    QTimer m_telemetryTimer;
    std::unique_ptr<ProcessTelemetry> m_telemetry;
    std::optional<GpuTelemetry> m_gpuTelemetry; // NVML, for a run given GPUs on a machine that has NVML
    QString m_gpuTelemetryUnavailable;          // why there is none, once tried
    qint64 m_telemetrySample = 0;
    bool m_finished = false;
    QString m_ingestError;
    RunOutcome m_outcome;
    std::int64_t m_pointsInFiles = 0;
    std::optional<FiredAlert> m_stoppedBy;                         // the `stop` rule that canceled the run
    std::optional<std::pair<QString, QJsonObject>> m_stoppedEarly; // why the sweep's rule stopped it
    QString m_endSummary;
    QString m_endDetail;
    QDateTime m_endAt;
    QElapsedTimer m_endClock;
    int m_endFailures = 0;
    std::unique_ptr<TrackingService> m_tracking; // the MLflow API of this run's ranks
};

// The store row of a launch: name, command, tags, params, and who, for which project, on how many GPUs.
NewRun newRunFor(const LocalLaunch &launch);

// Starts a tracking server for a launched run's ranks and sets MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID
// and MLFLOW_EXPERIMENT_ID (the project's experiment) in env.
Result<std::unique_ptr<TrackingService>> startTrackingFor(const Workspace &workspace, StoreWriter &writer,
                                                          const QString &runId, const QString &project,
                                                          QMap<QString, QString> &env);

// The folders whose TensorBoard event files a run's ingestion tails: the run folder (and its sub-folders), then each
// of the spec's `tensorboard:` folders resolved against cwd.
QStringList tensorboardFoldersOf(const QStringList &specDirs, const QString &cwd, const QString &runDir);
// The run's checkpoint folder: the spec's `checkpoints.dir` (relative to cwd, {run_dir} expands), or
// <run folder>/checkpoints.
QString checkpointFolderOf(const QString &specDir, const QString &cwd, const QString &runDir);
// The newest whole checkpoint with a step, of those the run's clients declared and of its checkpoint folder, taken as
// they are now (what a restart resumes from); nullopt when there is none.
std::optional<CheckpointRecord> newestWholeCheckpoint(const QString &runId, const QString &runDir,
                                                      const QString &checkpointDir);
// The checkpoint a fork starts from (checkpoints::resumableAt in the workspace's store).
Result<CheckpointRecord> checkpointToResumeFrom(const Workspace &workspace, const ResumePoint &from);
// Before attempt `attempt` (0-based) starts: a resume marker (ingest/metricingester.h) at the end of each rank's metrics
// file in the run folder, so that what the failed attempt logged past `resumeStep` is marked superseded.
void appendResumeMarkers(const QString &runDir, int attempt, std::optional<std::int64_t> resumeStep);

// The resolved `tensorboard:` folders a run's spec.yaml recorded (empty when none or unreadable).
QStringList resolvedTensorboardFolders(const QString &runDir);

// Writes the resolved launch as spec.yaml in the run folder.
Result<void> writeResolvedSpec(const QString &runDir, const LocalLaunch &launch);
// What writeResolvedSpec writes.
QByteArray resolvedSpecText(const QString &runDir, const LocalLaunch &launch);

} // namespace trainyard
