// TensorBoard logdirs and MLflow file stores into the workspace, each run through the one writer.
#include "ingest/historyimport.h"

#include "ingest/tensorboardingester.h"
#include "ingest/tfevents.h"
#include "ingest/tfrecord.h"
#include "store/metricchunk.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/trackingstore.h"
#include "store/workspace.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QMap>
#include <QSysInfo>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <limits>

namespace trainyard {

namespace {

constexpr qint64 kFirstRecordReadBytes = 1 << 20;

// The wall time of a file's first record, or why the file is not a TensorBoard event file.
Result<double> firstWallTimeOf(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("%1: cannot read: %2").arg(path, file.errorString()));
    const QByteArray head = file.read(kFirstRecordReadBytes);
    const TfRecordScan scan = scanTfRecords(head.constData(), std::size_t(head.size()), 0, file.atEnd());
    if (scan.records.empty() || scan.records.front().offset != 0) {
        const QString why = scan.damage.empty() ? QStringLiteral("no complete record") : scan.damage.front().what;
        return fail(QStringLiteral("%1: not a TensorBoard event file (TFRecord) at offset 0: %2").arg(path, why));
    }
    TfEventDecoder decoder;
    TfEventBatch batch;
    if (auto decoded = decoder.decode(scan.records.front().data, batch); !decoded)
        return fail(QStringLiteral("%1: the first record is %2").arg(path, decoded.error()));
    return batch.firstWallTime;
}

QDateTime timeFromSeconds(double seconds)
{
    return seconds > 0 ? QDateTime::fromMSecsSinceEpoch(std::llround(seconds * 1000.0), Qt::UTC)
                       : QDateTime::currentDateTimeUtc();
}

} // namespace

Result<HistoryImportResult> importTensorBoardLogdir(const Workspace &workspace, StoreWriter &writer,
                                                    const QString &logdir)
{
    const QFileInfo rootInfo(logdir);
    if (!rootInfo.isDir())
        return fail(QStringLiteral("%1 is not a folder").arg(logdir));
    const QString root = rootInfo.canonicalFilePath();
    QMap<QString, QStringList> filesByFolder;
    QDirIterator it(root, {QStringLiteral("events.out.tfevents.*")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        filesByFolder[QFileInfo(path).absolutePath()].append(path);
    }
    if (filesByFolder.isEmpty())
        return fail(QStringLiteral("no TensorBoard event files (events.out.tfevents.*) under %1").arg(logdir));

    auto reader = workspace.database().connect();
    if (!reader)
        return fail(reader.error());
    HistoryImportResult result;
    const QString project = rootInfo.fileName();
    for (auto folder = filesByFolder.constBegin(); folder != filesByFolder.constEnd(); ++folder) {
        double firstWallTime = 0;
        int eventFiles = 0;
        for (const QString &path : folder.value()) {
            auto wallTime = firstWallTimeOf(path);
            if (!wallTime) {
                result.problems << wallTime.error();
                continue;
            }
            ++eventFiles;
            if (*wallTime > 0 && (firstWallTime == 0 || *wallTime < firstWallTime))
                firstWallTime = *wallTime;
        }
        if (eventFiles == 0)
            continue;
        const QString source = QStringLiteral("tensorboard:") + folder.key();
        auto existing = trackingstore::runIdForSource(*reader, source);
        if (!existing)
            return fail(existing.error());
        QString runId;
        if (existing->has_value()) {
            runId = **existing;
            ++result.runsAlreadyPresent;
        } else {
            const QString relative = QDir(root).relativeFilePath(folder.key());
            NewRun run;
            run.name = relative == QLatin1String(".") ? project : relative;
            run.project = project;
            run.backend = QStringLiteral("tensorboard");
            run.host = QSysInfo::machineHostName();
            run.cwd = folder.key();
            run.source = source;
            run.tags = {QStringLiteral("tensorboard")};
            run.initialStatus = RunStatus::Running;
            run.createdAt = timeFromSeconds(firstWallTime);
            auto created = writer.createRun(run).get();
            if (!created)
                return fail(created.error());
            runId = *created;
            ++result.runsCreated;
        }
        TensorBoardIngester ingester(runId, writer);
        ingester.addFolder(folder.key(), false);
        if (auto resumed = ingester.resume(workspace.database()); !resumed)
            return fail(resumed.error());
        const TensorBoardStats before = ingester.stats();
        auto polled = ingester.poll(true);
        if (!polled)
            return fail(QStringLiteral("%1: %2").arg(folder.key(), polled.error()));
        const TensorBoardStats after = ingester.stats();
        result.points += *polled;
        result.damagedRecords += after.damagedRecords - before.damagedRecords;
        result.problems += after.damageExamples.mid(before.damageExamples.size());
        result.skippedHistograms += after.histograms;
        result.skippedImages += after.images;
        result.skippedOther += after.audio + after.otherTensors;
        if (!existing->has_value()) {
            const double lastWallTime = after.lastWallTime > 0 ? after.lastWallTime : firstWallTime;
            if (auto ended = writer.recordStatus(runId, RunStatus::Succeeded, timeFromSeconds(lastWallTime)).get();
                !ended)
                return fail(ended.error());
        }
        result.runIds << runId;
    }
    if (result.runIds.isEmpty())
        return fail(QStringLiteral("nothing imported from %1:\n  %2")
                        .arg(logdir, result.problems.join(QStringLiteral("\n  "))));
    return result;
}

namespace {

struct MlflowRunFiles {
    QString folder;
    QString runId;
    QString name;
    QString experiment;
    QString user;
    int status = 1; // RUNNING
    std::int64_t startMs = 0;
    std::optional<std::int64_t> endMs;
    QList<KeyValue> params;
    QList<KeyValue> tags;
    std::vector<TrackedMetric> metrics;
};

Result<YAML::Node> loadYaml(const QString &path)
{
    if (!QFileInfo::exists(path))
        return fail(QStringLiteral("%1: missing (every MLflow experiment and run folder has a meta.yaml)").arg(path));
    try {
        YAML::Node node = YAML::LoadFile(QFile::encodeName(path).toStdString());
        if (!node.IsMap())
            return fail(QStringLiteral("%1: not a YAML mapping").arg(path));
        return node;
    } catch (const YAML::Exception &error) {
        return fail(QStringLiteral("%1:%2:%3: %4")
                        .arg(path)
                        .arg(error.mark.line + 1)
                        .arg(error.mark.column + 1)
                        .arg(QString::fromStdString(error.msg)));
    }
}

QString yamlText(const YAML::Node &map, const char *key)
{
    const YAML::Node value = map[key];
    return value && value.IsScalar() ? QString::fromStdString(value.Scalar()) : QString();
}

std::optional<std::int64_t> yamlInteger(const YAML::Node &map, const char *key)
{
    const YAML::Node value = map[key];
    if (!value || !value.IsScalar())
        return std::nullopt;
    bool ok = false;
    const qlonglong number = QString::fromStdString(value.Scalar()).toLongLong(&ok);
    return ok ? std::optional<std::int64_t>(number) : std::nullopt;
}

// Files under folder/ as (key, content): a key with '/' is a path of sub-folders.
Result<QList<KeyValue>> keyFiles(const QString &folder)
{
    QList<KeyValue> pairs;
    if (!QFileInfo(folder).isDir())
        return pairs;
    const QDir root(folder);
    QDirIterator it(folder, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return fail(QStringLiteral("%1: cannot read: %2").arg(path, file.errorString()));
        pairs.append({root.relativeFilePath(path), QString::fromUtf8(file.readAll())});
    }
    std::sort(pairs.begin(), pairs.end(), [](const KeyValue &a, const KeyValue &b) { return a.key < b.key; });
    return pairs;
}

double parsePythonFloat(const QString &text, bool &ok)
{
    ok = true;
    if (text == QLatin1String("nan"))
        return std::numeric_limits<double>::quiet_NaN();
    if (text == QLatin1String("inf"))
        return std::numeric_limits<double>::infinity();
    if (text == QLatin1String("-inf"))
        return -std::numeric_limits<double>::infinity();
    return text.toDouble(&ok);
}

// Metric files: "timestamp value step" per line (two fields: step 0), in logging order.
Result<void> readMetricFiles(const QString &folder, std::vector<TrackedMetric> &metrics)
{
    if (!QFileInfo(folder).isDir())
        return {};
    const QDir root(folder);
    QDirIterator it(folder, QDir::Files, QDirIterator::Subdirectories);
    QStringList paths;
    while (it.hasNext())
        paths << it.next();
    paths.sort();
    for (const QString &path : paths) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return fail(QStringLiteral("%1: cannot read: %2").arg(path, file.errorString()));
        const QString key = root.relativeFilePath(path);
        int lineNumber = 0;
        while (!file.atEnd()) {
            const QByteArray line = file.readLine().trimmed();
            ++lineNumber;
            if (line.isEmpty())
                continue;
            const QList<QByteArray> fields = line.split(' ');
            bool tsOk = false, valueOk = false, stepOk = true;
            TrackedMetric metric;
            metric.key = key;
            if (fields.size() == 2 || fields.size() == 3) {
                metric.tsMs = fields[0].toLongLong(&tsOk);
                metric.value = parsePythonFloat(QString::fromLatin1(fields[1]), valueOk);
                metric.step = fields.size() == 3 ? fields[2].toLongLong(&stepOk) : 0;
            }
            if (!tsOk || !valueOk || !stepOk)
                return fail(QStringLiteral("%1:%2: expected \"timestamp value step\", got \"%3\"")
                                .arg(path)
                                .arg(lineNumber)
                                .arg(QString::fromUtf8(line.left(80))));
            metrics.push_back(std::move(metric));
        }
    }
    return {};
}

Result<MlflowRunFiles> readMlflowRun(const QString &folder, const QString &experimentName)
{
    auto meta = loadYaml(folder + QStringLiteral("/meta.yaml"));
    if (!meta)
        return fail(meta.error());
    MlflowRunFiles run;
    run.folder = folder;
    run.experiment = experimentName;
    run.runId = yamlText(*meta, "run_id");
    if (run.runId.isEmpty())
        run.runId = yamlText(*meta, "run_uuid");
    if (run.runId.isEmpty())
        return fail(QStringLiteral("%1/meta.yaml: no run_id").arg(folder));
    run.name = yamlText(*meta, "run_name");
    run.user = yamlText(*meta, "user_id");
    run.status = int(yamlInteger(*meta, "status").value_or(1));
    run.startMs = yamlInteger(*meta, "start_time").value_or(0);
    run.endMs = yamlInteger(*meta, "end_time");
    auto params = keyFiles(folder + QStringLiteral("/params"));
    auto tags = keyFiles(folder + QStringLiteral("/tags"));
    if (!params || !tags)
        return fail(!params ? params.error() : tags.error());
    run.params = *params;
    run.tags = *tags;
    if (run.name.isEmpty())
        for (const KeyValue &tag : run.tags)
            if (tag.key == QLatin1String("mlflow.runName"))
                run.name = tag.value;
    if (auto read = readMetricFiles(folder + QStringLiteral("/metrics"), run.metrics); !read)
        return fail(read.error());
    return run;
}

} // namespace

Result<HistoryImportResult> importMlflowStore(const Workspace &workspace, StoreWriter &writer, const QString &storeDir)
{
    const QFileInfo rootInfo(storeDir);
    if (!rootInfo.isDir())
        return fail(QStringLiteral("%1 is not a folder").arg(storeDir));
    // Read and check everything first: a store with a missing file imports nothing.
    QList<MlflowRunFiles> runs;
    int experiments = 0;
    const QDir root(rootInfo.canonicalFilePath());
    for (const QString &experimentDir : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        if (experimentDir == QLatin1String(".trash") || experimentDir == QLatin1String("models"))
            continue;
        const QString experimentPath = root.filePath(experimentDir);
        auto meta = loadYaml(experimentPath + QStringLiteral("/meta.yaml"));
        if (!meta)
            return fail(meta.error());
        if (yamlText(*meta, "lifecycle_stage") == QLatin1String("deleted"))
            continue;
        ++experiments;
        const QString name = yamlText(*meta, "name");
        if (name.isEmpty())
            return fail(QStringLiteral("%1/meta.yaml: no experiment name").arg(experimentPath));
        for (const QString &runDir : QDir(experimentPath).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
            if (runDir == QLatin1String("tags") || runDir == QLatin1String("datasets"))
                continue;
            auto run = readMlflowRun(experimentPath + QLatin1Char('/') + runDir, name);
            if (!run)
                return fail(run.error());
            runs.append(std::move(run).value());
        }
    }
    if (experiments == 0)
        return fail(QStringLiteral("%1 holds no MLflow experiment folder (<id>/meta.yaml): is it an mlruns/ folder?")
                        .arg(storeDir));

    auto reader = workspace.database().connect();
    if (!reader)
        return fail(reader.error());
    HistoryImportResult result;
    for (const MlflowRunFiles &files : runs) {
        const QString source = QStringLiteral("mlflow:") + files.runId;
        auto existing = trackingstore::runIdForSource(*reader, source);
        if (!existing)
            return fail(existing.error());
        if (existing->has_value()) {
            ++result.runsAlreadyPresent;
            result.runIds << **existing;
            continue;
        }
        NewRun run;
        run.name = files.name.isEmpty() ? files.runId : files.name;
        run.project = files.experiment;
        run.backend = QLatin1String(kMlflowBackend);
        run.user = files.user;
        run.cwd = files.folder;
        run.source = source;
        run.initialStatus = files.status == 2 ? RunStatus::Queued : RunStatus::Running;
        run.createdAt = files.startMs > 0 ? QDateTime::fromMSecsSinceEpoch(files.startMs, Qt::UTC)
                                          : QDateTime::currentDateTimeUtc();
        for (const KeyValue &tag : files.tags)
            if (tag.key == QLatin1String("mlflow.source.name"))
                run.command = {tag.value};
        std::optional<RunStatus> finalStatus;
        if (files.status == 3)
            finalStatus = RunStatus::Succeeded;
        else if (files.status == 4)
            finalStatus = RunStatus::Failed;
        else if (files.status == 5)
            finalStatus = RunStatus::Canceled;
        const std::int64_t endMs = files.endMs.value_or(files.startMs);
        // One transaction per run: a run is imported whole or not at all.
        auto created = writer
                           .submit<QString>([&](SqliteConnection &connection) -> Result<QString> {
                               auto id = trackingstore::createTrackedRun(connection, run, files.tags);
                               if (!id)
                                   return id;
                               if (auto stored = trackingstore::replaceParams(connection, *id, files.params); !stored)
                                   return fail(stored.error());
                               if (auto stored = trackingstore::logMetrics(connection, *id, files.metrics); !stored)
                                   return fail(stored.error());
                               if (finalStatus) {
                                   if (auto ended = applyRunStatus(connection, *id, *finalStatus, endMs); !ended)
                                       return fail(ended.error());
                               }
                               return id;
                           })
                           .get();
        if (!created)
            return fail(QStringLiteral("%1: %2").arg(files.folder, created.error()));
        ++result.runsCreated;
        result.points += std::int64_t(files.metrics.size());
        result.runIds << *created;
    }
    return result;
}

} // namespace trainyard
