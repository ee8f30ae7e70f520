// Finding and closing abandoned runs; catching up ingestion.
#include "launch/runrecovery.h"

#include "atomicfile.h"
#include "ingest/metricingester.h"
#include "ingest/tensorboardingester.h"
#include "launch/runsupervisor.h"
#include "launch/supervisorrecord.h"
#include "logging.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

namespace trainyard {

namespace {

constexpr int kOrphanKillWaitMs = 2000;

struct PendingOutcome {
    RunStatus status = RunStatus::Lost;
    QString detail;
    QDateTime at;
    QJsonObject summary;
};

std::optional<PendingOutcome> readPendingOutcome(const QString &runDir)
{
    QFile file(runDir + QLatin1Char('/') + QLatin1String(kPendingOutcomeFileName));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QJsonObject object = QJsonDocument::fromJson(file.readAll()).object();
    auto status = runStatusFromString(object.value(QStringLiteral("status")).toString());
    if (!status)
        return std::nullopt;
    PendingOutcome outcome;
    outcome.status = status.value();
    outcome.detail = object.value(QStringLiteral("detail")).toString();
    outcome.at = QDateTime::fromMSecsSinceEpoch(object.value(QStringLiteral("at_ms")).toInteger(), Qt::UTC);
    outcome.summary = object.value(QStringLiteral("exit_summary")).toObject();
    return outcome;
}

} // namespace

IngestCatchUp catchUpIngestion(const Workspace &workspace, StoreWriter &writer, const QString &runId)
{
    const QString runDir = workspace.runDir(runId);
    IngestCatchUp catchUp;
    MetricIngester ingester(runId, runDir, writer);
    if (auto resumed = ingester.resume(workspace.database()); !resumed)
        catchUp.error = resumed.error();
    else if (auto polled = ingester.poll(true); !polled)
        catchUp.error = polled.error();
    if (auto written = ingester.waitForWrites(); !written && catchUp.error.isEmpty())
        catchUp.error = written.error();
    if (!catchUp.error.isEmpty())
        (void)ingester.rewind(workspace.database()); // the figures below are then what is committed
    const IngestStats stats = ingester.stats();
    catchUp.stored = stats.points;
    catchUp.total = stats.points;
    catchUp.malformedLines = stats.malformedLines;
    catchUp.malformedExamples = stats.malformedExamples;
    if (!catchUp.error.isEmpty())
        catchUp.total = MetricIngester::pointsInFiles(runId, runDir, writer, workspace.database(), catchUp.stored);

    // Event files too, from where the last ingestion committed (the folders spec.yaml recorded).
    TensorBoardIngester tensorboard(runId, writer);
    for (const QString &folder : QStringList{runDir} + resolvedTensorboardFolders(runDir))
        tensorboard.addFolder(folder, true);
    if (auto resumed = tensorboard.resume(workspace.database()); !resumed && catchUp.error.isEmpty())
        catchUp.error = resumed.error();
    else if (auto polled = tensorboard.poll(true); !polled && catchUp.error.isEmpty())
        catchUp.error = polled.error();
    catchUp.hasTensorboard = tensorboard.stats().files > 0;
    catchUp.tensorboardPoints = tensorboard.stats().points;
    return catchUp;
}

QJsonObject withIngestFigures(QJsonObject summary, const IngestCatchUp &catchUp)
{
    QJsonObject ingest = summary.value(QStringLiteral("ingest")).toObject();
    ingest.insert(QStringLiteral("points"), qint64(catchUp.stored));
    ingest.insert(QStringLiteral("malformed_lines"), qint64(catchUp.malformedLines));
    ingest.insert(QStringLiteral("malformed_examples"), QJsonArray::fromStringList(catchUp.malformedExamples));
    if (catchUp.hasTensorboard)
        ingest.insert(QStringLiteral("tensorboard_points"), qint64(catchUp.tensorboardPoints));
    if (catchUp.error.isEmpty()) {
        ingest.remove(QStringLiteral("incomplete"));
        ingest.remove(QStringLiteral("error"));
    } else {
        ingest.insert(QStringLiteral("error"), catchUp.error);
        ingest.insert(QStringLiteral("incomplete"),
                      QJsonObject{{QStringLiteral("stored"), qint64(catchUp.stored)},
                                  {QStringLiteral("total"), qint64(std::max(catchUp.total, catchUp.stored))},
                                  {QStringLiteral("reason"), catchUp.error}});
    }
    summary.insert(QStringLiteral("ingest"), ingest);
    return summary;
}

bool isAbandoned(const Workspace &workspace, const RunRecord &run)
{
    if (!isActive(run.status) || run.backend != QLatin1String("local") || run.host != thisHostName())
        return false;
    auto record = SupervisorRecord::read(workspace.runDir(run.id));
    return !(record && (record->isAlive() || record->ranksAlive()));
}

RunStatus abandonedRunStatus(const Workspace &workspace, const RunRecord &run)
{
    const auto pending = readPendingOutcome(workspace.runDir(run.id));
    return pending ? pending->status : RunStatus::Lost;
}

Result<QStringList> recoverAbandonedRuns(const Workspace &workspace, StoreWriter &writer)
{
    auto connection = workspace.database().connect();
    if (!connection)
        return fail(connection.error());
    auto runs = runqueries::listRuns(connection.value());
    if (!runs)
        return fail(runs.error());
    QStringList recovered;
    for (const RunRecord &run : runs.value()) {
        if (!isActive(run.status) || run.backend != QLatin1String("local") || run.host != thisHostName())
            continue;
        const QString runDir = workspace.runDir(run.id);
        const auto record = SupervisorRecord::read(runDir);
        if (record && record->isAlive())
            continue;
        // Its supervisor is gone, so what still lives of its rank group is an orphan (its watchdog kills them, unless
        // it was killed too): kill it before closing the run, so that nothing of it outlives the run's end.
        if (record && record->ranksAlive() && !record->killRanks(kOrphanKillWaitMs)) {
            qCWarning(lcLaunch, "run %s: processes of its rank group %d are still alive after SIGKILL; left active",
                      qPrintable(run.id), int(record->processGroup));
            continue;
        }

        const IngestCatchUp catchUp = catchUpIngestion(workspace, writer, run.id);
        // The end its supervisor could not record, else lost.
        PendingOutcome outcome;
        if (auto pending = readPendingOutcome(runDir)) {
            outcome = *pending;
        } else {
            outcome.detail = record
                ? QStringLiteral("the Trainyard process that supervised it (pid %1) ended without finishing it")
                      .arg(record->pid)
                : QStringLiteral("its supervisor left no record: %1").arg(record.error());
            outcome.at = QDateTime::currentDateTimeUtc();
            outcome.summary = QJsonObject{{QStringLiteral("status"), QStringLiteral("lost")},
                                          {QStringLiteral("lost_because"), outcome.detail},
                                          {QStringLiteral("first_failure"), QJsonValue(QJsonValue::Null)}};
        }
        const QJsonObject summary = withIngestFigures(outcome.summary, catchUp);
        auto marked = writer
                          .recordEnd(run.id, outcome.status, outcome.at, outcome.detail,
                                     QString::fromUtf8(QJsonDocument(summary).toJson(QJsonDocument::Compact)))
                          .get();
        if (!marked)
            return fail(marked.error());
        QFile::remove(runDir + QLatin1Char('/') + QLatin1String(kPendingOutcomeFileName));
        recovered << run.id;
    }
    return recovered;
}

Result<QList<RepairedRun>> repairIncompleteRuns(const Workspace &workspace, StoreWriter &writer, const QString &runId)
{
    auto connection = workspace.database().connect();
    if (!connection)
        return fail(connection.error());
    QList<RunRecord> candidates;
    if (!runId.isEmpty()) {
        auto run = runqueries::findRun(connection.value(), runId);
        if (!run)
            return fail(run.error());
        if (isActive(run->status))
            return fail(
                QStringLiteral("run %1 is %2: its supervisor ingests its metrics; repair a run once it has ended")
                    .arg(run->id, toString(run->status)));
        candidates << run.value();
    } else {
        // Only the runs whose summary says so (a scan of one column; this runs at every start of a writing Trainyard).
        auto ids = connection->queryTexts("SELECT id FROM runs WHERE exit_summary LIKE '%\"incomplete\"%'");
        if (!ids)
            return fail(ids.error());
        for (const QString &id : ids.value()) {
            auto run = runqueries::findRun(connection.value(), id);
            if (run && !isActive(run->status) && !run->metricsIncomplete().isEmpty())
                candidates << run.value();
        }
    }
    QList<RepairedRun> repaired;
    for (const RunRecord &run : candidates) {
        QJsonObject summary = QJsonDocument::fromJson(run.exitSummary.toUtf8()).object();
        RepairedRun result;
        result.runId = run.id;
        result.storedBefore =
            summary.value(QStringLiteral("ingest")).toObject().value(QStringLiteral("points")).toInteger();
        result.catchUp = catchUpIngestion(workspace, writer, run.id);
        summary = withIngestFigures(summary, result.catchUp);
        auto updated =
            writer.setExitSummary(run.id, QString::fromUtf8(QJsonDocument(summary).toJson(QJsonDocument::Compact)))
                .get();
        if (!updated && result.catchUp.error.isEmpty())
            result.catchUp.error = updated.error();
        repaired << result;
    }
    return repaired;
}

} // namespace trainyard
