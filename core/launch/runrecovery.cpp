// Finding and closing abandoned runs.
#include "launch/runrecovery.h"

#include "ingest/metricingester.h"
#include "ingest/tensorboardingester.h"
#include "launch/runsupervisor.h"
#include "launch/supervisorrecord.h"
#include "store/runqueries.h"
#include "store/storewriter.h"
#include "store/workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace trainyard {

namespace {
constexpr int kOrphanKillWaitMs = 2000;
} // namespace

bool isAbandoned(const Workspace &workspace, const RunRecord &run)
{
    if (!isActive(run.status) || run.backend != QLatin1String("local") || run.host != thisHostName())
        return false;
    auto record = SupervisorRecord::read(workspace.runDir(run.id));
    return !(record && (record->isAlive() || record->ranksAlive()));
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
            qWarning("run %s: processes of its rank group %d are still alive after SIGKILL; left active", qPrintable(run.id),
                     int(record->processGroup));
            continue;
        }

        MetricIngester ingester(run.id, runDir, writer);
        QString ingestError;
        if (auto resumed = ingester.resume(workspace.database()); !resumed)
            ingestError = resumed.error();
        else if (auto polled = ingester.poll(true); !polled)
            ingestError = polled.error();
        if (auto written = ingester.waitForWrites(); !written && ingestError.isEmpty())
            ingestError = written.error();
        const IngestStats stats = ingester.stats();
        // Event files too, from where the supervisor's ingestion committed (the folders spec.yaml recorded).
        TensorBoardIngester tensorboard(run.id, writer);
        for (const QString &folder : QStringList{runDir} + resolvedTensorboardFolders(runDir))
            tensorboard.addFolder(folder, true);
        if (auto resumed = tensorboard.resume(workspace.database()); !resumed && ingestError.isEmpty())
            ingestError = resumed.error();
        else if (auto polled = tensorboard.poll(true); !polled && ingestError.isEmpty())
            ingestError = polled.error();

        const QString detail = record
            ? QStringLiteral("the Trainyard process that supervised it (pid %1) ended without finishing it").arg(record->pid)
            : QStringLiteral("its supervisor left no record: %1").arg(record.error());
        QJsonObject ingest{{QStringLiteral("points"), qint64(stats.points)},
                           {QStringLiteral("malformed_lines"), qint64(stats.malformedLines)},
                           {QStringLiteral("malformed_examples"), QJsonArray::fromStringList(stats.malformedExamples)}};
        if (tensorboard.stats().files > 0)
            ingest.insert(QStringLiteral("tensorboard_points"), qint64(tensorboard.stats().points));
        if (!ingestError.isEmpty())
            ingest.insert(QStringLiteral("error"), ingestError);
        const QJsonObject summary{{QStringLiteral("status"), QStringLiteral("lost")},
                                  {QStringLiteral("lost_because"), detail},
                                  {QStringLiteral("first_failure"), QJsonValue(QJsonValue::Null)},
                                  {QStringLiteral("ingest"), ingest}};
        (void)writer.setExitSummary(run.id, QString::fromUtf8(QJsonDocument(summary).toJson(QJsonDocument::Compact)));
        auto marked = writer.recordStatus(run.id, RunStatus::Lost, QDateTime::currentDateTimeUtc(), detail).get();
        if (!marked)
            return fail(marked.error());
        recovered << run.id;
    }
    return recovered;
}

} // namespace trainyard
