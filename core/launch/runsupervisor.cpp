// Wiring of one run. Ingestion runs on its own thread so that parsing never delays process supervision.
#include "launch/runsupervisor.h"

#include "atomicfile.h"
#include "logging.h"
#include "runfolder/runfolder.h"

#include "ingest/checkpointretention.h"
#include "ingest/checkpointwatcher.h"
#include "ingest/tensorboardingester.h"
#include "launch/localrunner.h"
#include "launch/provenance.h"
#include "launch/runrecovery.h"
#include "launch/slurmbackend.h"
#include "launch/supervisorrecord.h"
#include "store/checkpoints.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/trackingstore.h"
#include "store/workspace.h"
#include "tracking/trackingserver.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonArray>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace trainyard {

// Lives on the ingest thread: polls the run's files and drains them at the end. A store error (a database locked by
// another process, a full disk) never stops ingestion while the run lives: what was not committed is read again from
// the committed progress, after a back-off that doubles up to kRetryMaxMs.
class IngestWorker : public QObject {
    Q_OBJECT
public:
    // TensorBoard's folders are scanned once every this many polls: a recursive listing of the run folder costs more
    // than reading a metrics file.
    static constexpr int kTensorBoardPollEvery = 4;
    static constexpr int kRetryFirstMs = 250;
    static constexpr int kRetryMaxMs = 30000;

    IngestWorker(QString runId, QString runDir, StoreWriter &writer, const Database &database,
                 const QStringList &tensorboardFolders, std::shared_ptr<AlertEvaluator> alerts,
                 std::shared_ptr<RungWatcher> rungs, const QString &checkpointDir, const CheckpointRetention &retention)
        : m_runId(runId), m_runDir(runDir), m_writer(writer), m_ingester(runId, runDir, writer),
          m_tensorboard(runId, writer),
          m_checkpoints(runId, runDir, checkpointDir,
                        qEnvironmentVariableIsSet("TRAINYARD_CHECKPOINT_SETTLE_MS")
                            ? qEnvironmentVariableIntValue("TRAINYARD_CHECKPOINT_SETTLE_MS")
                            : CheckpointWatcher::kDefaultSettleMs),
          m_checkpointDir(checkpointDir), m_retention(retention), m_database(database), m_alerts(std::move(alerts)),
          m_rungs(std::move(rungs))
    {
        for (const QString &folder : tensorboardFolders)
            m_tensorboard.addFolder(folder, true);
        const bool watchAlerts = m_alerts && !m_alerts->isEmpty();
        const bool watchRungs = m_rungs && !m_rungs->isEmpty();
        if (watchAlerts || watchRungs)
            m_ingester.setPointObserver(
                [this, watchAlerts, watchRungs](std::string_view key, std::int64_t step, double value) {
                    if (watchAlerts)
                        for (const FiredAlert &alert : m_alerts->observe(key, step, value))
                            emit alertFired(alert);
                    if (watchRungs)
                        for (const RungArrival &arrival : m_rungs->observe(key, step, value))
                            emit rungReached(arrival);
                });
        m_clock.start();
    }

    IngestStats stats() const { return m_ingester.stats(); }
    TensorBoardStats tensorboardStats() const { return m_tensorboard.stats(); }

signals:
    // After drain: the store error that remains (empty when every point is in) and how many points the run's files
    // hold in all (stored + missing).
    void drained(const QString &error, qint64 totalPoints);
    void alertFired(const trainyard::FiredAlert &alert);
    void rungReached(const trainyard::RungArrival &arrival);

public slots:
    void start()
    {
        m_needsRewind = true; // the first "rewind" loads the committed progress (and the first poll TensorBoard's)
        m_timer = new QTimer(this);
        connect(m_timer, &QTimer::timeout, this, [this] {
            if (m_clock.elapsed() >= m_retryAtMs)
                pollOnce(false);
        });
        m_timer->start(RunSupervisor::kIngestPollMs);
    }

    // When the ranks are gone: reads everything left and waits for the commits, retrying store errors for up to
    // retryMs; then emits drained().
    void drain(int retryMs)
    {
        if (m_timer)
            m_timer->stop();
        QElapsedTimer waited;
        waited.start();
        while (!pollOnce(true) && waited.elapsed() < retryMs)
            QThread::msleep(
                quint64(std::clamp<qint64>(m_retryAtMs - m_clock.elapsed(), 10, retryMs - waited.elapsed())));
        if (!m_error.isEmpty())
            (void)m_ingester.rewind(m_database); // its stats are then what is stored, never what was only queued
        const qint64 stored = m_ingester.stats().points;
        emit drained(m_error,
                     m_error.isEmpty()
                         ? stored
                         : MetricIngester::pointsInFiles(m_runId, m_runDir, m_writer, m_database, stored));
    }

private:
    // One round; true when it went through (everything read so far is queued, or with `final` committed).
    bool pollOnce(bool final)
    {
        if (m_needsRewind) {
            if (auto rewound = m_ingester.rewind(m_database); !rewound)
                return noteFailure(rewound.error());
            m_needsRewind = false;
        }
        if (!m_tensorboardResumed) {
            if (auto resumed = m_tensorboard.resume(m_database); !resumed)
                return noteFailure(resumed.error(), false);
            m_tensorboardResumed = true;
        }
        if (auto polled = m_ingester.poll(final); !polled)
            return noteFailure(polled.error());
        if (final) {
            if (auto written = m_ingester.waitForWrites(); !written)
                return noteFailure(written.error());
        }
        if (final || ++m_polls % kTensorBoardPollEvery == 0) {
            // The TensorBoard ingester reads again from its committed offsets after a failed commit by itself.
            if (auto polled = m_tensorboard.poll(final); !polled)
                return noteFailure(polled.error(), false);
            recordCheckpoints(final);
        }
        if (final || m_clock.elapsed() - m_diskMeasuredAtMs >= kDiskMeasureEveryMs)
            recordDiskUse();
        if (!m_error.isEmpty())
            qCWarning(lcLaunch, "run %s: metrics are being stored again", qPrintable(m_runId));
        m_error.clear();
        m_failures = 0;
        return true;
    }

    // What the run takes on disk (the runs table's column): measured now and then, written when it changed.
    void recordDiskUse()
    {
        m_diskMeasuredAtMs = m_clock.elapsed();
        const std::int64_t bytes = measureRunDiskUse(m_runDir, m_checkpointDir).total();
        if (bytes == m_diskBytes)
            return;
        auto written = m_writer
                           .submit<void>([bytes, runId = m_runId](SqliteConnection &connection) -> Result<void> {
                               auto update = connection.prepare("UPDATE runs SET disk_bytes = ? WHERE id = ?");
                               if (!update)
                                   return fail(update.error());
                               update->bind(1, bytes);
                               update->bind(2, runId);
                               return update->run();
                           })
                           .get();
        if (written)
            m_diskBytes = bytes;
    }

    // The checkpoints found since the last look, recorded in one write (a failed write is retried at the next look:
    // the watcher gives them again only when they change, so they are kept until written).
    void recordCheckpoints(bool final)
    {
        const CheckpointWatcher::Changes changes = m_checkpoints.poll(QDateTime::currentMSecsSinceEpoch(), final);
        m_pendingCheckpoints += changes.found;
        m_goneCheckpoints += changes.removed;
        if (m_pendingCheckpoints.isEmpty() && m_goneCheckpoints.isEmpty())
            return;
        auto written = m_writer
                           .submit<void>([found = m_pendingCheckpoints, gone = m_goneCheckpoints,
                                          runId = m_runId](SqliteConnection &connection) -> Result<void> {
                               for (const CheckpointRecord &checkpoint : found)
                                   if (auto recorded = checkpoints::record(connection, checkpoint); !recorded)
                                       return recorded;
                               for (const QString &path : gone)
                                   if (auto forgotten = checkpoints::forget(connection, runId, path); !forgotten)
                                       return forgotten;
                               return {};
                           })
                           .get();
        if (!written) {
            qCWarning(lcLaunch, "run %s: cannot record its checkpoints yet (%s); retrying", qPrintable(m_runId),
                      qPrintable(written.error()));
            return;
        }
        const bool recorded = !m_pendingCheckpoints.isEmpty();
        m_pendingCheckpoints.clear();
        m_goneCheckpoints.clear();
        if (recorded && !m_retention.isEmpty())
            applyRetention();
    }

    // The spec's retention rule, once a newer checkpoint is complete: the checkpoints it does not keep are deleted
    // and forgotten. A failure is reported and tried again with the next checkpoint; nothing else stops.
    void applyRetention()
    {
        auto connection = m_database.connect();
        if (!connection)
            return;
        auto listed = checkpoints::list(connection.value(), m_runId);
        if (!listed)
            return;
        QList<std::int64_t> steps;
        for (const CheckpointRecord &checkpoint : *listed)
            if (checkpoint.step)
                steps << *checkpoint.step;
        auto metrics = checkpoints::metricsAtSteps(connection.value(), m_runId, steps, m_retention.bestMetric);
        // A child run started from a checkpoint of this run: that one stays while the child does.
        auto forked = checkpoints::pathsChildrenStartedFrom(connection.value(), m_runId, *listed);
        if (!metrics || !forked)
            return;
        const RetentionPlan plan = retention::plan(*listed, m_retention, *metrics, *forked);
        if (plan.remove.isEmpty())
            return;
        const retention::Deleted deleted = retention::apply(plan);
        for (const QString &error : deleted.errors)
            qCWarning(lcLaunch, "run %s: checkpoint retention: %s", qPrintable(m_runId), qPrintable(error));
        (void)m_writer
            .submit<void>([paths = deleted.paths, runId = m_runId](SqliteConnection &writing) -> Result<void> {
                for (const QString &path : paths)
                    if (auto forgotten = checkpoints::forget(writing, runId, path); !forgotten)
                        return forgotten;
                return {};
            })
            .get();
    }

    bool noteFailure(const QString &error, bool rewindMetrics = true)
    {
        if (m_error.isEmpty())
            qCWarning(lcLaunch, "run %s: storing its metrics failed (%s); retrying, nothing is lost",
                      qPrintable(m_runId), qPrintable(error));
        m_error = error;
        m_needsRewind = m_needsRewind || rewindMetrics;
        ++m_failures;
        m_retryAtMs =
            m_clock.elapsed() + std::min<qint64>(kRetryMaxMs, qint64(kRetryFirstMs) << std::min(m_failures - 1, 10));
        return false;
    }

    QString m_runId;
    QString m_runDir;
    StoreWriter &m_writer;
    MetricIngester m_ingester;
    TensorBoardIngester m_tensorboard;
    CheckpointWatcher m_checkpoints;
    QString m_checkpointDir;
    CheckpointRetention m_retention;
    static constexpr qint64 kDiskMeasureEveryMs = 10000;
    qint64 m_diskMeasuredAtMs = -kDiskMeasureEveryMs; // measured at the first poll
    std::int64_t m_diskBytes = -1;
    QList<CheckpointRecord> m_pendingCheckpoints; // found, not yet written
    QStringList m_goneCheckpoints;
    Database m_database;
    std::shared_ptr<AlertEvaluator> m_alerts; // shared with the MLflow API's observer
    std::shared_ptr<RungWatcher> m_rungs;     // likewise
    QTimer *m_timer = nullptr;
    QElapsedTimer m_clock;
    QString m_error;
    bool m_needsRewind = false;
    bool m_tensorboardResumed = false;
    int m_failures = 0;
    qint64 m_retryAtMs = 0;
    int m_polls = 0;
};

QStringList tensorboardFoldersOf(const QStringList &specDirs, const QString &cwd, const QString &runDir)
{
    QStringList folders{runDir};
    for (QString dir : specDirs) {
        dir.replace(QStringLiteral("{run_dir}"), runDir);
        folders << QDir::cleanPath(QDir(cwd).absoluteFilePath(dir));
    }
    folders.removeDuplicates();
    return folders;
}

std::optional<CheckpointRecord> newestWholeCheckpoint(const QString &runId, const QString &runDir,
                                                      const QString &checkpointDir)
{
    // A watcher of its own, asked once as at a run's end: what the clients declared and what the folder holds, whole.
    CheckpointWatcher watcher(runId, runDir, checkpointDir);
    std::optional<CheckpointRecord> newest;
    for (const CheckpointRecord &checkpoint : watcher.poll(QDateTime::currentMSecsSinceEpoch(), true).found)
        if (checkpoint.step
            && (!newest || *checkpoint.step > *newest->step
                || (*checkpoint.step == *newest->step && checkpoint.createdMs > newest->createdMs)))
            newest = checkpoint;
    return newest;
}

Result<CheckpointRecord> checkpointToResumeFrom(const Workspace &workspace, const ResumePoint &from)
{
    auto connection = workspace.database().connect();
    if (!connection)
        return fail(connection.error());
    return checkpoints::resumableAt(connection.value(), from.runId, from.step);
}

void appendResumeMarkers(const QString &runDir, int attempt, std::optional<std::int64_t> resumeStep)
{
    const QByteArray marker = resumeMarkerLine(attempt, resumeStep, QDateTime::currentMSecsSinceEpoch());
    const QDir dir(runDir);
    for (const QString &name : dir.entryList({QLatin1String(kMetricsFilePattern)}, QDir::Files)) {
        QFile file(dir.filePath(name));
        if (!file.open(QIODevice::ReadWrite | QIODevice::Append)) {
            qCWarning(lcLaunch, "%s: cannot mark where attempt %d resumes: %s", qPrintable(file.fileName()),
                      attempt + 1, qPrintable(file.errorString()));
            continue;
        }
        // A rank killed mid-line left it without its newline: the marker must start a line of its own.
        QByteArray last;
        if (file.size() > 0 && file.seek(file.size() - 1))
            last = file.read(1);
        file.write(!last.isEmpty() && last != "\n" ? QByteArray("\n") + marker : marker);
    }
}

QString checkpointFolderOf(const QString &specDir, const QString &cwd, const QString &runDir)
{
    if (specDir.isEmpty())
        return runDir + QStringLiteral("/checkpoints");
    QString dir = specDir;
    dir.replace(QStringLiteral("{run_dir}"), runDir);
    return QDir::cleanPath(QDir(cwd).absoluteFilePath(dir));
}

QStringList resolvedTensorboardFolders(const QString &runDir)
{
    QStringList folders;
    try {
        const YAML::Node spec =
            YAML::LoadFile(QFile::encodeName(QDir(runDir).filePath(QLatin1String(kSpecFileName))).toStdString());
        if (const YAML::Node list = spec["tensorboard"]; list && list.IsSequence())
            for (const YAML::Node &folder : list)
                folders << QString::fromStdString(folder.as<std::string>());
    } catch (const YAML::Exception &) {
        // No spec (a run launched before specs were written) or an unreadable one: the run folder alone is tailed.
    }
    return folders;
}

Result<void> writeResolvedSpec(const QString &runDir, const LocalLaunch &launch)
{
    return writeFileAtomically(QDir(runDir).filePath(QLatin1String(kSpecFileName)), resolvedSpecText(runDir, launch));
}

QByteArray resolvedSpecText(const QString &runDir, const LocalLaunch &launch)
{
    const LaunchRequest &request = launch.request;
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << launch.name.toStdString();
    if (!launch.project.isEmpty())
        out << YAML::Key << "project" << YAML::Value << launch.project.toStdString();
    out << YAML::Key << "command" << YAML::Value << YAML::BeginSeq;
    for (const QString &argument : request.command)
        out << argument.toStdString();
    out << YAML::EndSeq;
    out << YAML::Key << "shell" << YAML::Value << request.useShell;
    out << YAML::Key << "cwd" << YAML::Value << request.cwd.toStdString();
    out << YAML::Key << "env" << YAML::Value << YAML::BeginMap;
    for (auto it = request.env.constBegin(); it != request.env.constEnd(); ++it)
        out << YAML::Key << it.key().toStdString() << YAML::Value << it.value().toStdString();
    out << YAML::EndMap;
    out << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
    if (launch.typedParams.isEmpty()) {
        for (const auto &[key, value] : launch.params)
            out << YAML::Key << key.toStdString() << YAML::Value << value.toStdString();
    }
    for (const RunParam &param : launch.typedParams) {
        out << YAML::Key << param.name.toStdString() << YAML::Value << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "type" << YAML::Value << paramTypeName(param.type).toStdString();
        out << YAML::Key << "value" << YAML::Value << param.value.toStdString();
        if (param.type == ParamType::Choice) {
            out << YAML::Key << "choices" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (const QString &choice : param.choices)
                out << choice.toStdString();
            out << YAML::EndSeq;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndMap;
    const ParamPassing &passing = launch.paramPassing;
    if (!passing.argsTemplate.isEmpty() || !passing.envFromParam.isEmpty() || !passing.configFile.isEmpty()) {
        out << YAML::Key << "param_passing" << YAML::Value << YAML::BeginMap;
        if (!passing.argsTemplate.isEmpty()) {
            out << YAML::Key << "args" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (const QString &argument : passing.argsTemplate)
                out << argument.toStdString();
            out << YAML::EndSeq;
        }
        if (!passing.envFromParam.isEmpty()) {
            out << YAML::Key << "env" << YAML::Value << YAML::BeginMap;
            for (auto it = passing.envFromParam.constBegin(); it != passing.envFromParam.constEnd(); ++it)
                out << YAML::Key << it.key().toStdString() << YAML::Value << it.value().toStdString();
            out << YAML::EndMap;
        }
        if (!passing.configFile.isEmpty()) {
            out << YAML::Key << "config_file" << YAML::Value << YAML::BeginMap;
            out << YAML::Key << "path" << YAML::Value << passing.configFile.toStdString();
            if (!passing.configArgTemplate.isEmpty())
                out << YAML::Key << "arg" << YAML::Value << passing.configArgTemplate.toStdString();
            out << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    if (launch.resumeFrom)
        out << YAML::Key << "resume_from" << YAML::Value
            << QStringLiteral("%1@%2").arg(launch.resumeFrom->runId).arg(launch.resumeFrom->step).toStdString();
    out << YAML::Key << "resources" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "nodes" << YAML::Value << request.nnodes;
    out << YAML::Key << "ranks_per_node" << YAML::Value << request.nprocPerNode;
    out << YAML::Key << "gpus" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (int gpu : request.gpus)
        out << gpu;
    out << YAML::EndSeq << YAML::EndMap;
    out << YAML::Key << "strategy" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << strategyName(launch.strategy.strategy).toStdString();
    out << YAML::Key << "precision" << YAML::Value << precisionName(launch.strategy.precision).toStdString();
    out << YAML::Key << "offload" << YAML::Value
        << (launch.strategy.offloadOptimizer && launch.strategy.offloadParameters ? "both"
                : launch.strategy.offloadOptimizer                                ? "optimizer"
                : launch.strategy.offloadParameters                               ? "params"
                                                                                  : "none");
    out << YAML::EndMap;
    if (!launch.model.isEmpty()) {
        const ModelSpec &model = launch.model;
        out << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
        if (model.parameters)
            out << YAML::Key << "params" << YAML::Value << QString::number(*model.parameters, 'g', 17).toStdString();
        if (model.shape) {
            out << YAML::Key << "layers" << YAML::Value << model.shape->layers;
            out << YAML::Key << "hidden" << YAML::Value << model.shape->hidden;
            out << YAML::Key << "heads" << YAML::Value << model.shape->heads;
            out << YAML::Key << "vocab" << YAML::Value << model.shape->vocab;
            out << YAML::Key << "seq_len" << YAML::Value << model.shape->seqLen;
            out << YAML::Key << "micro_batch" << YAML::Value << model.shape->microBatch;
        }
        out << YAML::Key << "optimizer" << YAML::Value << optimizerName(model.optimizer).toStdString();
        if (model.gpuMemoryBytes > 0)
            out << YAML::Key << "gpu_memory" << YAML::Value
                << QString::number(model.gpuMemoryBytes, 'f', 0).toStdString();
        out << YAML::Key << "activation_checkpointing" << YAML::Value << model.activationCheckpointing;
        if (model.peakTflops)
            out << YAML::Key << "peak_tflops" << YAML::Value
                << QString::number(*model.peakTflops, 'g', 17).toStdString();
        out << YAML::EndMap;
    }
    const NcclDebugOptions &nccl = request.nccl;
    out << YAML::Key << "nccl" << YAML::Value << YAML::BeginMap;
    if (!nccl.level.isEmpty())
        out << YAML::Key << "debug" << YAML::Value << nccl.level.toStdString();
    if (!nccl.subsystems.isEmpty())
        out << YAML::Key << "debug_subsys" << YAML::Value << nccl.subsystems.toStdString();
    if (nccl.asyncErrorHandling >= 0)
        out << YAML::Key << "async_error_handling" << YAML::Value << nccl.asyncErrorHandling;
    if (nccl.traceBufferSize >= 0)
        out << YAML::Key << "trace_buffer_size" << YAML::Value << nccl.traceBufferSize;
    out << YAML::Key << "p2p_disable" << YAML::Value << nccl.p2pDisable;
    out << YAML::Key << "ib_disable" << YAML::Value << nccl.ibDisable;
    if (!nccl.socketIfname.isEmpty())
        out << YAML::Key << "socket_ifname" << YAML::Value << nccl.socketIfname.toStdString();
    out << YAML::EndMap;
    out << YAML::Key << "backend" << YAML::Value
        << (launch.cluster ? launch.cluster->name.toStdString() : std::string("local"));
    if (launch.cluster) {
        const SlurmJobSettings &job = launch.cluster->job;
        out << YAML::Key << "slurm" << YAML::Value << YAML::BeginMap;
        if (!job.partition.isEmpty())
            out << YAML::Key << "partition" << YAML::Value << job.partition.toStdString();
        if (!job.account.isEmpty())
            out << YAML::Key << "account" << YAML::Value << job.account.toStdString();
        if (job.timeLimitMinutes > 0)
            out << YAML::Key << "time_limit_min" << YAML::Value << job.timeLimitMinutes;
        if (job.cpusPerTask > 0)
            out << YAML::Key << "cpus_per_task" << YAML::Value << job.cpusPerTask;
        if (job.gpusPerNode > 0)
            out << YAML::Key << "gpus_per_node" << YAML::Value << job.gpusPerNode;
        if (!job.sbatchOptions.isEmpty()) {
            out << YAML::Key << "sbatch" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (const QString &option : job.sbatchOptions)
                out << option.toStdString();
            out << YAML::EndSeq;
        }
        out << YAML::EndMap;
    }
    out << YAML::Key << "max_restarts" << YAML::Value << request.maxRestarts;
    out << YAML::Key << "hang_timeout_s" << YAML::Value << request.hangTimeoutMs / 1000.0;
    out << YAML::Key << "grace_s" << YAML::Value << request.graceMs / 1000.0;
    out << YAML::Key << "tags" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const QString &tag : launch.tags)
        out << tag.toStdString();
    out << YAML::EndSeq;
    if (!launch.notes.isEmpty())
        out << YAML::Key << "notes" << YAML::Value << launch.notes.toStdString();
    if (!launch.alerts.isEmpty()) {
        out << YAML::Key << "alerts" << YAML::Value << YAML::BeginSeq;
        for (const AlertRule &rule : launch.alerts) {
            out << YAML::Flow << YAML::BeginMap << YAML::Key << "metric" << YAML::Value << rule.metric.toStdString();
            if (rule.condition == AlertRule::Condition::NotFinite)
                out << YAML::Key << "when" << YAML::Value << "nan";
            else
                out << YAML::Key << (rule.condition == AlertRule::Condition::Below ? "below" : "above") << YAML::Value
                    << rule.threshold;
            if (rule.afterStep > 0)
                out << YAML::Key << "after_step" << YAML::Value << rule.afterStep;
            out << YAML::Key << "action" << YAML::Value << toString(rule.action).toStdString() << YAML::EndMap;
        }
        out << YAML::EndSeq;
    }
    if (!launch.checkpointDir.isEmpty() || !launch.retention.isEmpty()) {
        // As the spec wrote it (relative to cwd, {run_dir} unexpanded): a clone of this run saves into its own folder.
        out << YAML::Key << "checkpoints" << YAML::Value << YAML::BeginMap;
        if (!launch.checkpointDir.isEmpty())
            out << YAML::Key << "dir" << YAML::Value << launch.checkpointDir.toStdString();
        if (launch.retention.keepLast)
            out << YAML::Key << "keep_last" << YAML::Value << *launch.retention.keepLast;
        if (!launch.retention.bestMetric.isEmpty()) {
            out << YAML::Key << "keep_best" << YAML::Value << YAML::Flow << YAML::BeginMap;
            out << YAML::Key << "metric" << YAML::Value << launch.retention.bestMetric.toStdString();
            out << YAML::Key << "mode" << YAML::Value << (launch.retention.bestIsMin ? "min" : "max");
            out << YAML::Key << "n" << YAML::Value << launch.retention.keepBest << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    if (!launch.tensorboardDirs.isEmpty()) {
        // Resolved, so that recovery after a crash tails the same folders.
        out << YAML::Key << "tensorboard" << YAML::Value << YAML::BeginSeq;
        for (const QString &folder : tensorboardFoldersOf(launch.tensorboardDirs, request.cwd, runDir).mid(1))
            out << folder.toStdString();
        out << YAML::EndSeq;
    }
    out << YAML::EndMap;
    return QByteArray(out.c_str()) + '\n';
}

NewRun newRunFor(const LocalLaunch &launch)
{
    NewRun row;
    row.name = launch.name;
    row.command = launch.request.command;
    row.cwd = launch.request.cwd;
    row.backend = launch.cluster ? launch.cluster->name : launch.backendName;
    row.tags = launch.tags;
    row.notes = launch.notes;
    row.params = launch.params;
    if (row.params.isEmpty())
        for (const RunParam &param : launch.typedParams)
            row.params << qMakePair(param.name, param.value);
    if (launch.resumeFrom) {
        row.parentRunId = launch.resumeFrom->runId;
        row.parentStep = launch.resumeFrom->step;
    }
    row.user = currentUserName();
    row.project = launch.project.isEmpty() ? projectNameFor(launch.request.cwd) : launch.project;
    row.gpus =
        launch.cluster ? launch.request.nnodes * launch.cluster->job.gpusPerNode : int(launch.request.gpus.size());
    return row;
}

Result<std::unique_ptr<TrackingService>> startTrackingFor(const Workspace &workspace, StoreWriter &writer,
                                                          const QString &runId, const QString &project,
                                                          QMap<QString, QString> &env)
{
    auto connection = workspace.database().connect();
    if (!connection)
        return fail(connection.error());
    auto experiment = trackingstore::experimentByName(*connection, project);
    if (!experiment)
        return fail(experiment.error());
    auto service = TrackingService::start(workspace, writer);
    if (!service)
        return fail(service.error());
    env.insert(QStringLiteral("MLFLOW_TRACKING_URI"), (*service)->uri());
    env.insert(QStringLiteral("MLFLOW_TRACKING_TOKEN"), QString::fromLatin1((*service)->token()));
    env.insert(QStringLiteral("MLFLOW_RUN_ID"), runId);
    env.insert(QStringLiteral("MLFLOW_EXPERIMENT_ID"),
               QString::number(experiment->has_value() ? (*experiment)->id : 0));
    return service;
}

Result<std::unique_ptr<RunSupervisor>> RunSupervisor::launch(const Workspace &workspace, StoreWriter &writer,
                                                             LocalLaunch launch, QObject *parent)
{
    LaunchRequest &request = launch.request;
    if (request.command.isEmpty())
        return fail(QStringLiteral("no command to launch: give it after --"));
    if (request.cwd.isEmpty())
        request.cwd = QDir::currentPath();
    if (!QFileInfo(request.cwd).isDir())
        return fail(QStringLiteral("working folder %1 does not exist").arg(request.cwd));
    if (!launch.cluster && launch.backendName != QLatin1String("local")) {
        auto profile = findBackendProfile(workspace.root(), launch.backendName);
        if (!profile)
            return fail(profile.error());
        profile->job = mergeSlurmSettings(profile->job, launch.slurmOverrides);
        launch.cluster = std::move(profile).value();
    }
    if (!launch.cluster && request.nnodes != 1)
        return fail(
            QStringLiteral("%1 nodes need a cluster backend; the local backend runs on one node").arg(request.nnodes));

    // A fork starts from its parent's checkpoint: it must still be there, or nothing is launched (a queued run that
    // finds it gone fails with the reason).
    std::optional<CheckpointRecord> forkCheckpoint;
    if (launch.resumeFrom) {
        auto found = checkpointToResumeFrom(workspace, *launch.resumeFrom);
        if (!found && launch.existingRunId.isEmpty())
            return fail(QStringLiteral("%1; nothing was launched").arg(found.error()));
        if (!found) {
            (void)writer
                .recordStatus(launch.existingRunId, RunStatus::Failed, QDateTime::currentDateTimeUtc(), found.error())
                .get();
            return fail(found.error());
        }
        forkCheckpoint = found.value();
    }

    // Who launched it and for which project, like a queued run (the tracking API finds the project's experiment).
    NewRun row = newRunFor(launch);
    row.host = thisHostName();
    row.backend = launch.cluster ? launch.cluster->name : QStringLiteral("local");
    if (launch.cluster)
        row.initialStatus = RunStatus::Queued; // until Slurm starts it
    auto runId = launch.existingRunId.isEmpty() ? writer.createRun(row).get() : Result<QString>(launch.existingRunId);
    if (!runId)
        return fail(runId.error());
    request.runId = runId.value();
    request.runDir = workspace.runDir(runId.value());
    const auto abandon = [&](const QString &message) -> Error {
        (void)writer.recordStatus(request.runId, RunStatus::Failed, QDateTime::currentDateTimeUtc(), message).get();
        return fail(message);
    };
    if (!QDir().mkpath(request.runDir))
        return abandon(QStringLiteral("cannot create run folder %1").arg(request.runDir));
    // The spec records the strategy by name; the variables and files it implies are made for this run only
    // (a spec launched again gets its own deepspeed.json).
    if (auto written = writeResolvedSpec(request.runDir, launch); !written)
        return abandon(written.error());
    if (auto applied = applyStrategy(launch.strategy, request.runDir, request.env); !applied)
        return abandon(applied.error());
    // The checkpoint folder exists and takes files before any rank starts: a rank that cannot save its first
    // checkpoint hours in is worse than a run that does not start.
    request.checkpointDir = checkpointFolderOf(launch.checkpointDir, request.cwd, request.runDir);
    if (!launch.cluster) {
        if (auto writable = checkFolderWritable(request.checkpointDir); !writable)
            return abandon(QStringLiteral("the checkpoint folder %1: %2; nothing was launched")
                               .arg(request.checkpointDir, writable.error()));
    }
    // Params reach the program as arguments, environment and a config file in the run folder; the run's
    // stored command becomes the argv that really runs.
    QStringList templatedCommand = request.command; // `{checkpoint}` still in it: each attempt applies its own
    if (!launch.typedParams.isEmpty() || !launch.paramPassing.argsTemplate.isEmpty()) {
        auto resolved = resolveParams(launch.typedParams, launch.paramPassing, request.runDir);
        if (!resolved)
            return abandon(resolved.error());
        if (!resolved->configPath.isEmpty()) {
            if (auto written = writeFileAtomically(resolved->configPath, resolved->configContent); !written)
                return abandon(written.error());
        }
        templatedCommand += resolved->extraArguments;
        for (auto it = resolved->extraEnvironment.constBegin(); it != resolved->extraEnvironment.constEnd(); ++it)
            request.env.insert(it.key(), it.value());
    }
    if (forkCheckpoint) {
        request.env.insert(QStringLiteral("TRAINYARD_RESUME_FROM"), forkCheckpoint->path);
        request.env.insert(QStringLiteral("TRAINYARD_RESUME_STEP"), QString::number(*forkCheckpoint->step));
    }
    if (templatedCommand != request.command || forkCheckpoint) {
        request.command = applyCheckpointArguments(templatedCommand, forkCheckpoint ? forkCheckpoint->path : QString());
        if (auto stored = writer.setCommand(request.runId, request.command).get(); !stored)
            return abandon(stored.error());
    }
    // Where the code came from; a failing git is reported but does not stop the run.
    if (auto provenance = captureGitProvenance(request.cwd); !provenance)
        qCWarning(lcLaunch, "run %s: %s", qPrintable(request.runId), qPrintable(provenance.error()));
    else if (provenance->has_value())
        (void)saveProvenance(**provenance, request.runDir);

    // Scripts that log with MLflow log into this run: a tracking server of the workspace for this run's ranks, and
    // the variables that make mlflow.start_run() continue this run (docs/MLFLOW.md). A spec that points
    // MLFLOW_TRACKING_URI elsewhere keeps its own server; ranks on cluster nodes cannot reach this machine's loopback.
    std::unique_ptr<TrackingService> tracking;
    if (!launch.cluster && !request.env.contains(QStringLiteral("MLFLOW_TRACKING_URI"))) {
        auto started = startTrackingFor(workspace, writer, request.runId, row.project, request.env);
        if (!started)
            qCWarning(lcLaunch, "run %s: no MLflow tracking API for its ranks: %s", qPrintable(request.runId),
                      qPrintable(started.error()));
        else
            tracking = std::move(started).value();
    }

    // The backend: this machine's ranks, or a Slurm job (whose token is read now, so a bad one fails the run
    // with the reason before anything is submitted).
    Backend *backend = nullptr;
    if (launch.cluster) {
        auto token = readBackendToken(*launch.cluster);
        if (!token)
            return abandon(token.error());
        backend = new SlurmBackend(*launch.cluster, *token);
    } else {
        auto *runner = new LocalRunner;
        // A restart resumes: each new attempt is pointed at the newest whole checkpoint (looked for now, with the
        // ranks gone, so nothing waits to settle), through TRAINYARD_RESUME_FROM and TRAINYARD_RESUME_STEP.
        // A fork that fails before its first checkpoint resumes from its parent's again. The metrics files get a
        // resume marker, so that what the failed attempt logged past the resume step is marked superseded.
        runner->setAttemptPreparer([runId = request.runId, runDir = request.runDir,
                                    checkpointDir = request.checkpointDir, templatedCommand,
                                    forkCheckpoint](LaunchRequest &next, int attempt) {
            next.env.remove(QStringLiteral("TRAINYARD_RESUME_FROM"));
            next.env.remove(QStringLiteral("TRAINYARD_RESUME_STEP"));
            std::optional<CheckpointRecord> latest = newestWholeCheckpoint(runId, runDir, checkpointDir);
            if (!latest)
                latest = forkCheckpoint;
            next.command = applyCheckpointArguments(templatedCommand, latest ? latest->path : QString());
            appendResumeMarkers(runDir, attempt, latest ? latest->step : std::nullopt);
            if (!latest) {
                qCInfo(lcLaunch, "run %s: attempt %d starts from the beginning (no whole checkpoint with a step)",
                       qPrintable(runId), attempt + 1);
                return;
            }
            next.env.insert(QStringLiteral("TRAINYARD_RESUME_FROM"), latest->path);
            next.env.insert(QStringLiteral("TRAINYARD_RESUME_STEP"), QString::number(*latest->step));
            qCInfo(lcLaunch, "run %s: attempt %d resumes from %s (step %lld)", qPrintable(runId), attempt + 1,
                   qPrintable(latest->path), static_cast<long long>(*latest->step));
        });
        backend = runner;
    }
    std::unique_ptr<RunSupervisor> supervisor(new RunSupervisor(runId.value(), request, writer, backend, parent));
    supervisor->m_tracking = std::move(tracking);
    // The spec's alert rules watch the points of the metrics files and of the MLflow API alike, each rule firing once.
    // So does a sweep's early-stopping rule, each rung reached once.
    auto alerts = std::make_shared<AlertEvaluator>(launch.alerts);
    auto rungs = launch.earlyStop ? std::make_shared<RungWatcher>(launch.earlyStop->metric, launch.earlyStop->rungs)
                                  : std::shared_ptr<RungWatcher>();
    if ((!launch.alerts.isEmpty() || rungs) && supervisor->m_tracking) {
        RunSupervisor *watching = supervisor.get();
        supervisor->m_tracking->setMetricObserver([alerts, rungs, watching, runId = request.runId](
                                                      const QString &metricRunId, const QString &key, std::int64_t step,
                                                      double value) {
            if (metricRunId != runId)
                return;
            const std::string name = key.toStdString();
            for (const FiredAlert &alert : alerts->observe(name, step, value))
                QMetaObject::invokeMethod(
                    watching, [watching, alert] { watching->onAlertFired(alert); }, Qt::QueuedConnection);
            if (rungs)
                for (const RungArrival &arrival : rungs->observe(name, step, value))
                    QMetaObject::invokeMethod(
                        watching, [watching, arrival] { emit watching->rungReached(arrival); }, Qt::QueuedConnection);
        });
    }
    supervisor->m_ingestWorker =
        new IngestWorker(request.runId, request.runDir, writer, workspace.database(),
                         tensorboardFoldersOf(launch.tensorboardDirs, request.cwd, request.runDir), alerts, rungs,
                         request.checkpointDir, launch.retention);
    supervisor->m_ingestWorker->moveToThread(&supervisor->m_ingestThread);
    connect(&supervisor->m_ingestThread, &QThread::started, supervisor->m_ingestWorker, &IngestWorker::start);
    connect(&supervisor->m_ingestThread, &QThread::finished, supervisor->m_ingestWorker, &QObject::deleteLater);
    connect(supervisor->m_ingestWorker, &IngestWorker::drained, supervisor.get(), &RunSupervisor::onIngestDrained);
    qRegisterMetaType<trainyard::FiredAlert>();
    connect(supervisor->m_ingestWorker, &IngestWorker::alertFired, supervisor.get(), &RunSupervisor::onAlertFired);
    qRegisterMetaType<trainyard::RungArrival>();
    connect(supervisor->m_ingestWorker, &IngestWorker::rungReached, supervisor.get(), &RunSupervisor::rungReached);
    supervisor->m_ingestThread.setObjectName(QStringLiteral("ingest-") + request.runId);
    supervisor->m_ingestThread.start();

    RunSupervisor *raw = supervisor.get();
    connect(backend, &Backend::statusChanged, raw,
            [raw, backend](RunStatus status, const QDateTime &at, const QString &detail) {
                if (auto *runner = qobject_cast<LocalRunner *>(backend); runner && status == RunStatus::Running) {
                    // Each attempt has its own process group: keep supervisor.json current for `cancel` and recovery.
                    SupervisorRecord record = SupervisorRecord::forThisProcess();
                    record.processGroup = runner->processGroup();
                    (void)record.write(raw->m_request.runDir);
                }
                (void)raw->m_writer.recordStatus(raw->m_runId, status, at, detail);
                emit raw->statusChanged(status, detail);
            });
    connect(backend, &Backend::logLine, raw, &RunSupervisor::logLine);
    connect(backend, &Backend::finished, raw, &RunSupervisor::onRunnerFinished);

    if (auto written = SupervisorRecord::forThisProcess().write(request.runDir); !written)
        return abandon(written.error());
    if (auto submitted = backend->submit(request); !submitted)
        return abandon(submitted.error());
    supervisor->m_cancelCheck.start(kCancelCheckMs);
    if (!launch.cluster) // the ranks of a Slurm run are on other machines
        supervisor->m_telemetryTimer.start(kTelemetryIntervalMs);
    return supervisor;
}

RunSupervisor::RunSupervisor(QString runId, LaunchRequest request, StoreWriter &writer, Backend *backend,
                             QObject *parent)
    : QObject(parent), m_runId(std::move(runId)), m_request(std::move(request)), m_writer(writer), m_backend(backend)
{
    m_backend->setParent(this);
    connect(&m_cancelCheck, &QTimer::timeout, this, &RunSupervisor::checkCancelRequest);
    connect(&m_telemetryTimer, &QTimer::timeout, this, &RunSupervisor::sampleTelemetry);
}

// One line a second in system.jsonl (ingested like a metrics file): each rank's CPU and resident memory from
// /proc and, for a run given GPUs where NVML is there, each GPU's NVML figures, at the step "seconds since launch".
void RunSupervisor::sampleTelemetry()
{
    if (!m_telemetry) {
        m_telemetry = std::make_unique<ProcessTelemetry>();
        if (auto gpus = GpuTelemetry::open(m_request.gpus)) {
            m_gpuTelemetry = std::move(gpus.value());
            // The GPUs by name and PCI bus id, once: the performance summary picks MFU's peak by name and names a
            // straggler's GPU by its bus id.
            QJsonArray identities;
            for (const GpuIdentity &identity : m_gpuTelemetry->identities())
                identities.append(QJsonObject{{QStringLiteral("gpu"), identity.gpu},
                                              {QStringLiteral("name"), identity.name},
                                              {QStringLiteral("pci_bus_id"), identity.pciBusId}});
            if (auto written = writeFileAtomically(m_request.runDir + QStringLiteral("/gpus.json"),
                                                   QJsonDocument(identities).toJson(QJsonDocument::Compact));
                !written)
                qCWarning(lcLaunch, "%s", qPrintable(written.error()));
        } else
            m_gpuTelemetryUnavailable = gpus.error();
    }
    auto *runner = qobject_cast<LocalRunner *>(m_backend);
    if (!runner)
        return;
    const QMap<int, ProcessUsage> usage = m_telemetry->sample(runner->liveRanks());
    const qint64 step = m_telemetrySample++;
    if (usage.isEmpty() || step == 0)
        return; // the first sample only sets the CPU baseline
    QJsonObject line{{QStringLiteral("step"), step},
                     {QStringLiteral("ts"), QDateTime::currentMSecsSinceEpoch() / 1000.0}};
    for (auto it = usage.constBegin(); it != usage.constEnd(); ++it) {
        const QString prefix = QStringLiteral("sys/rank%1/").arg(it.key());
        line.insert(prefix + QStringLiteral("cpu_percent"), std::round(it->cpuPercent * 10) / 10);
        line.insert(prefix + QStringLiteral("rss_mib"), std::round(it->rssBytes / (1024.0 * 1024.0) * 10) / 10);
    }
    if (m_gpuTelemetry) {
        for (const GpuSample &gpu : m_gpuTelemetry->sample()) {
            const QString prefix = QStringLiteral("sys/gpu%1/").arg(gpu.gpu);
            const auto insert = [&](const char *name, const std::optional<double> &value) {
                if (value)
                    line.insert(prefix + QLatin1String(name), std::round(*value * 10) / 10);
            };
            insert("utilization_percent", gpu.utilizationPercent);
            insert("memory_used_mib", gpu.memoryUsedMiB);
            insert("power_w", gpu.powerWatts);
            insert("temperature_c", gpu.temperatureCelsius);
            insert("sm_clock_mhz", gpu.smClockMHz);
            insert("memory_clock_mhz", gpu.memoryClockMHz);
            if (gpu.throttleReasons)
                line.insert(prefix + QStringLiteral("throttle_reasons"), double(*gpu.throttleReasons));
        }
    }
    QFile file(m_request.runDir + QStringLiteral("/") + QLatin1String(kSystemMetricsFileName));
    if (file.open(QIODevice::Append))
        file.write(QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n');
}

RunSupervisor::~RunSupervisor()
{
    m_ingestThread.quit();
    m_ingestThread.wait();
}

void RunSupervisor::cancel() { m_backend->cancel(); }

void RunSupervisor::stopEarly(const QString &message, const QJsonObject &details)
{
    if (m_finished || m_stoppedEarly || m_stoppedBy)
        return;
    qCInfo(lcLaunch, "run %s: %s", qPrintable(m_runId), qPrintable(message));
    m_stoppedEarly = std::make_pair(message, details);
    m_backend->cancel();
}

void RunSupervisor::checkCancelRequest()
{
    if (QFile::exists(cancelRequestPath(m_request.runDir))) {
        m_cancelCheck.stop();
        cancel();
    }
}

int RunSupervisor::attempt() const { return m_backend->attempt(); }

int RunSupervisor::ranksAlive() const { return m_backend->ranksAlive(); }

IngestStats RunSupervisor::ingestStats() const { return m_ingestWorker->stats(); }

std::int64_t RunSupervisor::mlflowPoints() const { return m_tracking ? m_tracking->pointsStored() : 0; }

std::int64_t RunSupervisor::trackedPoints() const { return mlflowPoints() + m_ingestWorker->tensorboardStats().points; }

// Recorded with the run (the window's notifications and `show` read it there); a `stop` rule cancels the run, and the
// exit summary names the rule as the cause.
void RunSupervisor::onAlertFired(const FiredAlert &alert)
{
    qCWarning(lcLaunch, "run %s: %s", qPrintable(m_runId), qPrintable(alert.message()));
    (void)m_writer.recordAlert(m_runId, alert.toJson(QDateTime::currentDateTimeUtc()));
    emit alertFired(alert);
    if (alert.rule.action == AlertRule::Action::Stop && !m_stoppedBy && !m_finished) {
        m_stoppedBy = alert;
        m_backend->cancel();
    }
}

void RunSupervisor::onRunnerFinished(const RunOutcome &outcome)
{
    m_cancelCheck.stop();
    m_telemetryTimer.stop();
    m_outcome = outcome;
    // Stopped by its sweep's rule: neither failed nor canceled. A run that ended on its own first keeps its outcome.
    if (m_stoppedEarly && outcome.status == RunStatus::Canceled)
        m_outcome.status = RunStatus::StoppedEarly;
    else
        m_stoppedEarly.reset();
    // Asynchronously: the drain may retry a store error for a while, and this thread may be the window's.
    QMetaObject::invokeMethod(
        m_ingestWorker, [worker = m_ingestWorker] { worker->drain(kDrainRetryMs); }, Qt::QueuedConnection);
}

void RunSupervisor::onIngestDrained(const QString &drainError, qint64 totalPoints)
{
    QString ingestError = drainError;
    m_pointsInFiles = totalPoints;
    // What the ranks logged through the MLflow API and the server journaled is committed before the summary counts it.
    if (m_tracking) {
        if (auto committed = m_tracking->commitJournaled(); !committed && ingestError.isEmpty())
            ingestError = committed.error();
    }
    const IngestStats stats = m_ingestWorker->stats();
    m_ingestError = ingestError;

    const RunOutcome &outcome = m_outcome;
    QJsonObject summary = outcome.toJson();
    QJsonObject ingest{{QStringLiteral("points"), qint64(stats.points)},
                       {QStringLiteral("malformed_lines"), qint64(stats.malformedLines)},
                       {QStringLiteral("malformed_examples"), QJsonArray::fromStringList(stats.malformedExamples)},
                       {QStringLiteral("mlflow_points"), qint64(mlflowPoints())}};
    const TensorBoardStats tensorboard = m_ingestWorker->tensorboardStats();
    if (tensorboard.files > 0) {
        ingest.insert(QStringLiteral("tensorboard_points"), qint64(tensorboard.points));
        ingest.insert(QStringLiteral("tensorboard_damaged_records"), qint64(tensorboard.damagedRecords));
        ingest.insert(QStringLiteral("tensorboard_damage_examples"),
                      QJsonArray::fromStringList(tensorboard.damageExamples));
    }
    if (!ingestError.isEmpty()) {
        // Points only count once stored; the rest is ingested later from the committed progress (`trainyard repair`,
        // or the next Trainyard that starts).
        ingest.insert(QStringLiteral("error"), ingestError);
        ingest.insert(QStringLiteral("incomplete"),
                      QJsonObject{{QStringLiteral("stored"), qint64(stats.points)},
                                  {QStringLiteral("total"), std::max<qint64>(totalPoints, stats.points)},
                                  {QStringLiteral("reason"), ingestError}});
    }
    summary.insert(QStringLiteral("ingest"), ingest);
    // Whether the run's GPUs were sampled, and if not why ("NVML not found: ..."): a run page without GPU charts
    // says so through this.
    if (!m_request.gpus.isEmpty())
        summary.insert(QStringLiteral("gpu_telemetry"),
                       m_gpuTelemetry    ? QStringLiteral("nvml")
                           : m_telemetry ? QStringLiteral("none: ") + m_gpuTelemetryUnavailable
                                         : QStringLiteral("none: the run ended before the first sample"));
    if (m_stoppedBy)
        summary.insert(
            QStringLiteral("stopped_by_alert"),
            QJsonObject{{QStringLiteral("rule"), m_stoppedBy->rule.describe()},
                        {QStringLiteral("metric"), m_stoppedBy->rule.metric},
                        {QStringLiteral("step"), qint64(m_stoppedBy->step)},
                        {QStringLiteral("value"),
                         std::isfinite(m_stoppedBy->value) ? QJsonValue(m_stoppedBy->value)
                                                           : QJsonValue(QString::number(m_stoppedBy->value))},
                        {QStringLiteral("message"), m_stoppedBy->message()}});
    if (m_stoppedEarly)
        summary.insert(QStringLiteral("stopped_early"), m_stoppedEarly->second);
    m_endSummary = QString::fromUtf8(QJsonDocument(summary).toJson(QJsonDocument::Compact));
    m_endDetail = m_stoppedEarly ? m_stoppedEarly->first
        : m_stoppedBy            ? m_stoppedBy->message()
        : outcome.firstFailure   ? outcome.firstFailure->message
                                 : QString();
    m_endAt = QDateTime::currentDateTimeUtc();
    // The end is first kept in the run folder: if the store cannot take it before we give up (or this process dies),
    // the next Trainyard records it from there instead of marking the run lost.
    const QJsonObject pending{{QStringLiteral("status"), toString(outcome.status)},
                              {QStringLiteral("detail"), m_endDetail},
                              {QStringLiteral("at_ms"), m_endAt.toMSecsSinceEpoch()},
                              {QStringLiteral("exit_summary"), summary}};
    if (auto kept = writeFileAtomically(m_request.runDir + QLatin1Char('/') + QLatin1String(kPendingOutcomeFileName),
                                        QJsonDocument(pending).toJson(QJsonDocument::Compact));
        !kept)
        qCWarning(lcLaunch, "run %s: %s", qPrintable(m_runId), qPrintable(kept.error()));
    m_endClock.start();
    recordEnd();
}

void RunSupervisor::recordEnd()
{
    auto recorded = m_writer.recordEnd(m_runId, m_outcome.status, m_endAt, m_endDetail, m_endSummary).share();
    // Waited for without blocking this thread: a locked database makes one try last up to the busy timeout.
    auto *poll = new QTimer(this);
    connect(poll, &QTimer::timeout, this, [this, poll, recorded] {
        if (recorded.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
            return;
        poll->deleteLater();
        const Result<void> &result = recorded.get();
        if (!result) {
            ++m_endFailures;
            if (m_endClock.elapsed() < kEndRecordRetryMs) {
                if (m_endFailures == 1)
                    qCWarning(lcLaunch, "run %s: cannot record its end yet (%s); retrying", qPrintable(m_runId),
                              qPrintable(result.error()));
                const int backoff = std::min(30000, 250 << std::min(m_endFailures - 1, 7));
                QTimer::singleShot(backoff, this, &RunSupervisor::recordEnd);
                return;
            }
            qCWarning(lcLaunch, "run %s: cannot record its end (%s); it is kept in %s/%s for the next Trainyard",
                      qPrintable(m_runId), qPrintable(result.error()), qPrintable(m_request.runDir),
                      kPendingOutcomeFileName);
        } else {
            QFile::remove(m_request.runDir + QLatin1Char('/') + QLatin1String(kPendingOutcomeFileName));
        }
        QFile::remove(cancelRequestPath(m_request.runDir));
        m_finished = true;
        emit statusChanged(m_outcome.status, m_endDetail);
        emit finished(m_outcome);
    });
    poll->start(20);
}

} // namespace trainyard

#include "runsupervisor.moc"
