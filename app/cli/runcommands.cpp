// trainyard show / logs / metrics / cancel: reading and stopping one run.
#include "cli/subcommand.h"

#include "csv.h"
#include "queue/runqueue.h"

#include "launch/provenance.h"
#include "launch/rankenvironment.h"
#include "launch/runrecovery.h"
#include "launch/runsupervisor.h"
#include "runfolder/runfolder.h"
#include "store/checkpoints.h"
#include "launch/supervisorrecord.h"
#include "queue/runqueue.h"
#include "perf/perfsummary.h"
#include "spec/runspec.h"
#include "store/metricqueries.h"
#include "store/runqueries.h"
#include "store/storewriter.h"
#include "store/trackingstore.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QRegularExpression>
#include <QThread>

#include <cmath>

namespace trainyard::cli {

namespace {

constexpr int kFollowPollMs = 250;
// How long `cancel` waits for the run to end: the grace period of a long-lived run plus its final ingestion.
constexpr int kCancelWaitMs = 70000;

QJsonValue numberOrText(double value)
{
    if (std::isnan(value))
        return QStringLiteral("nan");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    return value;
}

} // namespace

// The files under a run's artifacts/ folder (where mlflow.log_artifact copies them), as paths relative to it.
QStringList listArtifacts(const QString &runDir)
{
    const QDir root(runDir + QStringLiteral("/artifacts"));
    QStringList files;
    QDirIterator it(root.path(), QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        files << root.relativeFilePath(it.next());
    files.sort();
    return files;
}

int runShow(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print the run as JSON."));
    const QCommandLineOption peakTflops(
        QStringLiteral("peak-tflops"),
        QStringLiteral("One GPU's peak TFLOPS for MFU, instead of the peak table's for the GPUs the run used."),
        QStringLiteral("TFLOPS"));
    parser.addOption(json);
    parser.addOption(peakTflops);
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name."));
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("show"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
        return usageFailure(streams, parser, QStringLiteral("show"), QStringLiteral("give exactly one run"));
    bool peakOk = true;
    const double peakTflopsValue = parser.isSet(peakTflops) ? parser.value(peakTflops).toDouble(&peakOk) : 0;
    if (parser.isSet(peakTflops) && (!peakOk || !(peakTflopsValue > 0) || peakTflopsValue > 1e6))
        return usageFailure(streams, parser, QStringLiteral("show"),
                            QStringLiteral("--peak-tflops must be a GPU's peak in TFLOPS, such as 989.5, not '%1'")
                                .arg(parser.value(peakTflops)));
    auto found = findRunForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, QStringLiteral("show"), found.error());
    // Active in the store, but its launcher and ranks are gone: shown as lost at once (show writes nothing; the next
    // Trainyard that writes records it so).
    const bool abandoned = isAbandoned(found->workspace, found->run);
    if (abandoned)
        found->run.status = abandonedRunStatus(found->workspace, found->run);
    const RunRecord &run = found->run;
    auto connection = found->workspace.database().connect();
    if (!connection)
        return reportFailure(streams, QStringLiteral("show"), connection.error());
    auto events = runqueries::events(connection.value(), run.id);
    auto metrics = metricqueries::keySummaries(connection.value(), run.id);
    auto tracked = trackingstore::findTrackedRun(connection.value(), run.id);
    if (!events || !metrics || !tracked)
        return reportFailure(streams, QStringLiteral("show"),
                             !events        ? events.error()
                                 : !metrics ? metrics.error()
                                            : tracked.error());
    // Tags set through the MLflow API (key-value); the client's system tags (mlflow.*) are shown apart from the run's tags.
    QList<KeyValue> keyValueTags;
    if (tracked->has_value())
        for (const KeyValue &tag : (*tracked)->tags)
            if (!run.tags.contains(tag.key)) // a launched run's plain tags are listed as tags already
                keyValueTags.append(tag);
    const QStringList artifacts = listArtifacts(found->workspace.runDir(run.id));
    auto checkpointList = checkpointsJson(found->workspace, run.id);
    if (!checkpointList)
        return reportFailure(streams, QStringLiteral("show"), checkpointList.error());
    // Lineage: the runs forked from this one, and what it takes on disk now (its checkpoint folder included).
    auto forks = checkpoints::children(connection.value(), run.id);
    if (!forks)
        return reportFailure(streams, QStringLiteral("show"), forks.error());
    QJsonArray childrenJson;
    QStringList childLines;
    for (auto it = forks->constBegin(); it != forks->constEnd(); ++it) {
        childrenJson.append(
            QJsonObject{{QStringLiteral("run_id"), it.value()}, {QStringLiteral("step"), qint64(it.key())}});
        childLines << QStringLiteral("%1 (from step %2)").arg(it.value()).arg(it.key());
    }
    const QString runDir = found->workspace.runDir(run.id);
    const auto resolvedSpec = loadRunSpec(runDir + QLatin1Char('/') + QLatin1String(kSpecFileName));
    const QString checkpointDir = checkpointFolderOf(resolvedSpec ? resolvedSpec->checkpointDir : QString(),
                                                     resolvedSpec ? resolvedSpec->cwd : runDir, runDir);
    const RunDiskUse disk = measureRunDiskUse(runDir, checkpointDir);

    const QJsonObject summary = QJsonDocument::fromJson(run.exitSummary.toUtf8()).object();
    int attempts = summary.value(QStringLiteral("attempts")).toInt(0);
    if (attempts == 0) {
        // Still running: count attempts from the events (each restart is one more).
        attempts = run.startedAt.isValid() ? 1 : 0;
        for (const RunEvent &event : events.value())
            attempts += event.toStatus == QLatin1String("restarting");
    }
    const QJsonValue firstFailure = summary.value(QStringLiteral("first_failure"));
    const auto duration = run.durationSeconds(QDateTime::currentDateTimeUtc());
    // Why is it slow: from the step timing the ranks wrote; ranks, GPUs and model from the run's spec and gpus.json.
    PerfContext perfContext = perf::contextFor(found->workspace.runDir(run.id));
    if (parser.isSet(peakTflops))
        perfContext.peakTflopsPerGpu = peakTflopsValue;
    auto perf = perf::summarize(connection.value(), run.id, perfContext);
    if (!perf)
        return reportFailure(streams, QStringLiteral("show"), perf.error());

    if (parser.isSet(json)) {
        QJsonArray eventArray;
        for (const RunEvent &event : events.value()) {
            QJsonObject object{
                {QStringLiteral("at"), isoTimeOrNull(event.at)},
                {QStringLiteral("from"),
                 event.fromStatus.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(event.fromStatus)},
                {QStringLiteral("to"), event.toStatus}};
            if (!event.detail.isEmpty())
                object.insert(QStringLiteral("detail"), event.detail);
            eventArray.append(object);
        }
        QJsonObject metricObject;
        for (const MetricKeySummary &key : metrics.value()) {
            metricObject.insert(key.key,
                                QJsonObject{{QStringLiteral("points"), qint64(key.points)},
                                            {QStringLiteral("first_step"), qint64(key.firstStep)},
                                            {QStringLiteral("last_step"), qint64(key.lastStep)},
                                            {QStringLiteral("last"), numberOrText(key.lastValue)},
                                            {QStringLiteral("min"), numberOrText(key.minValue)},
                                            {QStringLiteral("max"), numberOrText(key.maxValue)}});
        }
        QJsonObject object = runJson(run, QDateTime::currentDateTimeUtc());
        object.remove(QStringLiteral("exit_summary")); // its parts are given below, by name
        object.insert(QStringLiteral("attempts"), attempts);
        object.insert(QStringLiteral("run_dir"), found->workspace.runDir(run.id));
        object.insert(QStringLiteral("first_failure"),
                      firstFailure.isObject() ? firstFailure : QJsonValue(QJsonValue::Null));
        object.insert(QStringLiteral("failures"), summary.value(QStringLiteral("failures")).toArray());
        object.insert(QStringLiteral("alerts"), QJsonDocument::fromJson(run.alerts.toUtf8()).array());
        object.insert(QStringLiteral("perf"), perf->toJson());
        object.insert(QStringLiteral("stopped_by_alert"),
                      summary.contains(QStringLiteral("stopped_by_alert"))
                          ? summary.value(QStringLiteral("stopped_by_alert"))
                          : QJsonValue(QJsonValue::Null));
        object.insert(QStringLiteral("stopped_early"),
                      summary.contains(QStringLiteral("stopped_early")) ? summary.value(QStringLiteral("stopped_early"))
                                                                        : QJsonValue(QJsonValue::Null));
        object.insert(QStringLiteral("ingest"), summary.value(QStringLiteral("ingest")).toObject());
        const QString incomplete = run.metricsIncomplete();
        object.insert(QStringLiteral("metrics_incomplete"),
                      incomplete.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(incomplete));
        object.insert(QStringLiteral("gpu_telemetry"), summary.value(QStringLiteral("gpu_telemetry")));
        object.insert(QStringLiteral("metrics"), metricObject);
        object.insert(QStringLiteral("events"), eventArray);
        QJsonObject params, mlflowTags;
        for (auto it = run.params.constBegin(); it != run.params.constEnd(); ++it)
            params.insert(it.key(), it.value());
        for (const KeyValue &tag : keyValueTags)
            mlflowTags.insert(tag.key, tag.value);
        object.insert(QStringLiteral("params"), params);
        object.insert(QStringLiteral("notes"), run.systemTags.value(QString::fromLatin1(kNotesTag)));
        object.insert(QStringLiteral("mlflow_tags"), mlflowTags);
        object.insert(QStringLiteral("artifacts"), QJsonArray::fromStringList(artifacts));
        object.insert(QStringLiteral("checkpoints"), *checkpointList);
        object.insert(QStringLiteral("children"), childrenJson);
        object.insert(QStringLiteral("disk"),
                      QJsonObject{{QStringLiteral("bytes"), qint64(disk.total())},
                                  {QStringLiteral("run_folder_bytes"), qint64(disk.runFolderBytes)},
                                  {QStringLiteral("checkpoint_bytes"), qint64(disk.checkpointBytes)},
                                  {QStringLiteral("checkpoint_dir"), checkpointDir}});
        object.insert(QStringLiteral("superseded_metrics"), QJsonArray::fromStringList(run.supersededKeys));
        const auto provenance = loadProvenance(found->workspace.runDir(run.id));
        object.insert(QStringLiteral("git"),
                      provenance ? QJsonValue(provenance->toJson()) : QJsonValue(QJsonValue::Null));
        streams.out << QJsonDocument(object).toJson(QJsonDocument::Indented);
        return kExitOk;
    }

    streams.out << "run        " << run.id << "  " << printableText(run.name) << '\n'
                << "status     " << toString(run.status) << (abandoned ? " (its launcher and ranks are gone)" : "")
                << '\n'
                << "attempts   " << attempts << '\n'
                << "started    "
                << (run.startedAt.isValid() ? run.startedAt.toLocalTime().toString(Qt::ISODate) : QStringLiteral("-"))
                << '\n'
                << "ended      "
                << (run.endedAt.isValid() ? run.endedAt.toLocalTime().toString(Qt::ISODate) : QStringLiteral("-"))
                << '\n'
                << "duration   " << (duration ? QStringLiteral("%1 s").arg(*duration) : QStringLiteral("-")) << '\n'
                << "command    " << run.command.join(QLatin1Char(' ')) << '\n'
                << "cwd        " << run.cwd << '\n'
                << "host       " << run.host << " (" << run.backend << ")\n"
                << "tags       " << printableText(run.tags.join(QStringLiteral(", "))) << '\n'
                << "folder     " << found->workspace.runDir(run.id) << '\n'
                << "disk       " << QLocale(QLocale::English).formattedDataSize(disk.total(), 1)
                << QStringLiteral(" (run folder %1, checkpoints %2)")
                       .arg(QLocale(QLocale::English).formattedDataSize(disk.runFolderBytes, 1),
                            QLocale(QLocale::English).formattedDataSize(disk.checkpointBytes, 1))
                << '\n';
    if (!run.parentRunId.isEmpty())
        streams.out << "parent     " << run.parentRunId
                    << (run.parentStep ? QStringLiteral(" at step %1").arg(*run.parentStep) : QString())
                    << " (forked from its checkpoint)\n";
    if (!childLines.isEmpty())
        streams.out << "children   " << childLines.join(QStringLiteral(", ")) << '\n';
    if (!run.supersededKeys.isEmpty())
        streams.out << "superseded " << run.supersededKeys.size()
                    << " key(s) hold what failed attempts logged past the checkpoint the next resumed from ("
                    << run.supersededKeys.first() << (run.supersededKeys.size() > 1 ? ", ..." : "") << ")\n";
    if (run.isArchived())
        streams.out << "archived   " << run.archivedAt.toLocalTime().toString(Qt::ISODate)
                    << " (hidden from the default list; `trainyard archive --undo` brings it back)\n";
    if (const QString notes = run.systemTags.value(QString::fromLatin1(kNotesTag)); !notes.isEmpty())
        streams.out << "notes      " << QString(notes).replace(QLatin1Char('\n'), QStringLiteral("\n           "))
                    << '\n';
    if (!run.params.isEmpty()) {
        QStringList params;
        for (auto it = run.params.constBegin(); it != run.params.constEnd(); ++it)
            params << it.key() + QLatin1Char('=') + it.value();
        streams.out << "params     " << params.join(QStringLiteral(", ")) << '\n';
    }
    QStringList systemTags;
    for (const KeyValue &tag : keyValueTags)
        if (tag.key.startsWith(QLatin1String("mlflow.")) && tag.key != QLatin1String(kNotesTag)) // notes: above
            systemTags << tag.key + QLatin1Char('=') + tag.value.left(60);
    if (!systemTags.isEmpty())
        streams.out << "mlflow     " << systemTags.join(QStringLiteral(", ")) << '\n';
    for (const QString &artifact : artifacts)
        streams.out << "artifact   " << artifact << '\n';
    for (const QString &line : checkpointLines(*checkpointList))
        streams.out << "checkpoint " << line << '\n';
    if (const auto provenance = loadProvenance(found->workspace.runDir(run.id)))
        streams.out << "git        " << provenance->commit.left(12) << " on " << provenance->branch
                    << (provenance->dirty ? QStringLiteral(", dirty (uncommitted changes in git.diff)")
                                          : QStringLiteral(", clean"))
                    << '\n';
    if (firstFailure.isObject()) {
        const QJsonObject failure = firstFailure.toObject();
        streams.out << "failure    rank " << failure.value(QStringLiteral("rank")).toInt() << ", "
                    << failure.value(QStringLiteral("cause")).toString() << ": "
                    << failure.value(QStringLiteral("message")).toString() << '\n';
    }
    if (const QJsonObject stopped = summary.value(QStringLiteral("stopped_by_alert")).toObject(); !stopped.isEmpty())
        streams.out << "stopped    by its alert rule: " << stopped.value(QStringLiteral("message")).toString() << '\n';
    if (const QJsonObject stopped = summary.value(QStringLiteral("stopped_early")).toObject(); !stopped.isEmpty())
        streams.out << "stopped    by its sweep's rule: " << stopped.value(QStringLiteral("message")).toString()
                    << '\n';
    for (const QJsonValue &alert : QJsonDocument::fromJson(run.alerts.toUtf8()).array())
        streams.out << "alert      " << alert.toObject().value(QStringLiteral("at")).toString() << "  "
                    << alert.toObject().value(QStringLiteral("message")).toString() << '\n';
    if (const QString telemetry = summary.value(QStringLiteral("gpu_telemetry")).toString(); !telemetry.isEmpty())
        streams.out << "gpu stats  "
                    << (telemetry == QLatin1String("nvml")
                            ? QStringLiteral("sampled by NVML once a second (sys/gpu<N>/...)")
                            : telemetry)
                    << '\n';
    const QJsonObject ingest = summary.value(QStringLiteral("ingest")).toObject();
    if (const QString incomplete = run.metricsIncomplete(); !incomplete.isEmpty())
        streams.out << "WARNING    " << incomplete << "; `trainyard repair " << run.id << "` ingests the rest\n";
    if (ingest.value(QStringLiteral("malformed_lines")).toInt() > 0) {
        streams.out << "malformed  " << ingest.value(QStringLiteral("malformed_lines")).toInt() << " metric lines\n";
        for (const QJsonValue &example : ingest.value(QStringLiteral("malformed_examples")).toArray())
            streams.out << "           " << example.toString() << '\n';
    }
    if (!perf->isEmpty()) {
        streams.out << "perf\n";
        for (const QString &line : perf->sentences())
            streams.out << "  " << line << '\n';
    }
    if (!metrics->isEmpty()) {
        streams.out << "metrics\n";
        for (const MetricKeySummary &key : metrics.value())
            streams.out << "  " << key.key.leftJustified(24) << " " << key.points << " points, steps " << key.firstStep
                        << ".." << key.lastStep << ", last " << key.lastValue << ", min " << key.minValue << ", max "
                        << key.maxValue << '\n';
    }
    return kExitOk;
}

namespace {

struct LogSource {
    int rank = 0;
    int attempt = 0;
    QString path;
    qint64 offset = 0;
    QByteArray partial;
};

QList<LogSource> logSources(const QString &runDir, std::optional<int> rankFilter)
{
    QList<LogSource> sources;
    for (const QString &name : QDir(runDir).entryList({QStringLiteral("rank*.log")}, QDir::Files)) {
        const auto parsed = parseRankLogFileName(name);
        if (!parsed)
            continue;
        LogSource source{parsed->rank, parsed->attempt, runDir + QLatin1Char('/') + name, 0, {}};
        if (!rankFilter || *rankFilter == source.rank)
            sources << source;
    }
    std::sort(sources.begin(), sources.end(), [](const LogSource &a, const LogSource &b) {
        return std::tie(a.attempt, a.rank) < std::tie(b.attempt, b.rank);
    });
    return sources;
}

// Reads the complete new lines of each source; lines of all ranks are merged by their receive time.
void printNewLines(QList<LogSource> &sources, bool prefixRank, QTextStream &out)
{
    struct Line {
        QByteArray stamp;
        int attempt;
        int rank;
        QByteArray text;
    };
    QList<Line> lines;
    for (LogSource &source : sources) {
        QFile file(source.path);
        if (!file.open(QIODevice::ReadOnly) || !file.seek(source.offset))
            continue;
        const QByteArray data = file.readAll();
        source.offset += data.size();
        QByteArray buffer = source.partial + data;
        const qsizetype lastNewline = buffer.lastIndexOf('\n');
        source.partial = lastNewline < 0 ? buffer : buffer.mid(lastNewline + 1);
        if (lastNewline < 0)
            continue;
        for (const QByteArray &line : buffer.left(lastNewline).split('\n'))
            lines << Line{line.left(kLogStampLength), source.attempt, source.rank, line};
    }
    std::stable_sort(lines.begin(), lines.end(), [](const Line &a, const Line &b) {
        return std::tie(a.attempt, a.stamp) < std::tie(b.attempt, b.stamp);
    });
    for (const Line &line : lines) {
        if (prefixRank)
            out << "[rank " << line.rank
                << (line.attempt > 0 ? QStringLiteral(" attempt %1").arg(line.attempt) : QString()) << "] ";
        out << QString::fromUtf8(line.text) << '\n';
    }
    out.flush();
}

} // namespace

int runLogs(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    const QCommandLineOption rank(QStringLiteral("rank"), QStringLiteral("Only this rank's log."), QStringLiteral("N"));
    const QCommandLineOption follow(QStringLiteral("follow"),
                                    QStringLiteral("Keep printing new lines until the run ends."));
    parser.addOption(rank);
    parser.addOption(follow);
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name."));
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("logs"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
        return usageFailure(streams, parser, QStringLiteral("logs"), QStringLiteral("give exactly one run"));
    std::optional<int> rankFilter;
    if (parser.isSet(rank)) {
        bool ok = false;
        rankFilter = parser.value(rank).toInt(&ok);
        if (!ok || *rankFilter < 0)
            return usageFailure(streams, parser, QStringLiteral("logs"),
                                QStringLiteral("--rank '%1' is not a rank number").arg(parser.value(rank)));
    }
    auto found = findRunForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, QStringLiteral("logs"), found.error());
    const QString runDir = found->workspace.runDir(found->run.id);
    QList<LogSource> sources = logSources(runDir, rankFilter);
    if (sources.isEmpty() && !parser.isSet(follow)) {
        return reportFailure(
            streams, QStringLiteral("logs"),
            rankFilter
                ? QStringLiteral("run %1 has no log for rank %2 in %3").arg(found->run.id).arg(*rankFilter).arg(runDir)
                : QStringLiteral("run %1 has no rank logs in %2").arg(found->run.id, runDir));
    }
    const bool prefixRank = !rankFilter.has_value();
    printNewLines(sources, prefixRank, streams.out);
    if (!parser.isSet(follow))
        return kExitOk;

    auto connection = found->workspace.database().connect();
    if (!connection)
        return reportFailure(streams, QStringLiteral("logs"), connection.error());
    for (;;) {
        auto run = runqueries::findRun(connection.value(), found->run.id);
        const bool over = !run || isTerminal(run->status);
        // New attempts bring new files.
        for (LogSource &fresh : logSources(runDir, rankFilter)) {
            const bool known =
                std::any_of(sources.begin(), sources.end(), [&](const LogSource &s) { return s.path == fresh.path; });
            if (!known)
                sources << fresh;
        }
        printNewLines(sources, prefixRank, streams.out);
        if (over)
            return kExitOk;
        QThread::msleep(kFollowPollMs);
    }
}

int runMetrics(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print {key: [{step, value, ts}, ...]}."));
    const QCommandLineOption csv(QStringLiteral("csv"), QStringLiteral("Print CSV rows key,step,value,ts."));
    parser.addOption(json);
    parser.addOption(csv);
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name."));
    parser.addPositionalArgument(QStringLiteral("KEY"), QStringLiteral("Only this metric."), QStringLiteral("[KEY]"));
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("metrics"), arguments, streams))
        return *exit;
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty() || positional.size() > 2)
        return usageFailure(streams, parser, QStringLiteral("metrics"),
                            QStringLiteral("give a run and at most one key"));
    if (parser.isSet(json) && parser.isSet(csv))
        return usageFailure(streams, parser, QStringLiteral("metrics"),
                            QStringLiteral("--json and --csv exclude each other"));
    auto found = findRunForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, QStringLiteral("metrics"), found.error());
    auto connection = found->workspace.database().connect();
    if (!connection)
        return reportFailure(streams, QStringLiteral("metrics"), connection.error());
    auto summaries = metricqueries::keySummaries(connection.value(), found->run.id);
    if (!summaries)
        return reportFailure(streams, QStringLiteral("metrics"), summaries.error());
    QStringList keys;
    for (const MetricKeySummary &summary : summaries.value())
        keys << summary.key;
    if (positional.size() == 2) {
        // A superseded key (what a failed attempt logged past its resume point) is read when named.
        if (!keys.contains(positional[1]) && found->run.supersededKeys.contains(positional[1]))
            keys << positional[1];
        if (!keys.contains(positional[1]))
            return reportFailure(streams, QStringLiteral("metrics"),
                                 QStringLiteral("run %1 has no metric '%2' (it has: %3)")
                                     .arg(found->run.id, positional[1],
                                          keys.isEmpty() ? QStringLiteral("none") : keys.join(QStringLiteral(", "))));
        keys = {positional[1]};
    }

    if (!parser.isSet(json) && !parser.isSet(csv)) {
        streams.out << QStringLiteral("%1 %2 %3 %4 %5 %6\n")
                           .arg(QStringLiteral("KEY"), -24)
                           .arg(QStringLiteral("POINTS"), 8)
                           .arg(QStringLiteral("LAST STEP"), 10)
                           .arg(QStringLiteral("LAST"), 12)
                           .arg(QStringLiteral("MIN"), 12)
                           .arg(QStringLiteral("MAX"), 12);
        for (const MetricKeySummary &summary : summaries.value()) {
            if (keys.contains(summary.key))
                streams.out << QStringLiteral("%1 %2 %3 %4 %5 %6\n")
                                   .arg(summary.key, -24)
                                   .arg(summary.points, 8)
                                   .arg(summary.lastStep, 10)
                                   .arg(summary.lastValue, 12, 'g', 6)
                                   .arg(summary.minValue, 12, 'g', 6)
                                   .arg(summary.maxValue, 12, 'g', 6);
        }
        return kExitOk;
    }
    QJsonObject object;
    if (parser.isSet(csv))
        streams.out << "key,step,value,ts\n";
    for (const QString &key : keys) {
        auto points = metricqueries::series(connection.value(), found->run.id, key);
        if (!points)
            return reportFailure(streams, QStringLiteral("metrics"), points.error());
        if (parser.isSet(csv)) {
            const QString quotedKey = csvField(key);
            for (const MetricPoint &point : points.value())
                streams.out << quotedKey << ',' << point.step << ',' << QString::number(point.value, 'g', 17) << ','
                            << (point.tsMs ? QString::number(*point.tsMs / 1000.0, 'f', 3) : QString()) << '\n';
        } else {
            QJsonArray array;
            for (const MetricPoint &point : points.value())
                array.append(
                    QJsonObject{{QStringLiteral("step"), qint64(point.step)},
                                {QStringLiteral("value"), numberOrText(point.value)},
                                {QStringLiteral("ts"),
                                 point.tsMs ? QJsonValue(*point.tsMs / 1000.0) : QJsonValue(QJsonValue::Null)}});
            object.insert(key, array);
        }
    }
    if (parser.isSet(json))
        streams.out << QJsonDocument(object).toJson(QJsonDocument::Indented);
    return kExitOk;
}

int runCancel(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name."));
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("cancel"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
        return usageFailure(streams, parser, QStringLiteral("cancel"), QStringLiteral("give exactly one run"));
    auto found = findRunForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, QStringLiteral("cancel"), found.error());
    const RunRecord &run = found->run;
    if (isTerminal(run.status))
        return reportFailure(streams, QStringLiteral("cancel"),
                             QStringLiteral("run %1 already ended: %2").arg(run.id, toString(run.status)));
    if (run.status == RunStatus::Queued) {
        // Still in the local queue: taken out and canceled there, as `queue cancel` does. A run the queue no longer
        // holds (a worker just took it, or a cluster run waiting in Slurm) is canceled through its supervisor below.
        auto writer = StoreWriter::start(found->workspace.database());
        if (!writer)
            return reportFailure(streams, QStringLiteral("cancel"), writer.error());
        auto connection = found->workspace.database().connect();
        if (!connection)
            return reportFailure(streams, QStringLiteral("cancel"), connection.error());
        auto queue = runqueue::list(connection.value());
        if (!queue)
            return reportFailure(streams, QStringLiteral("cancel"), queue.error());
        const bool inQueue = std::any_of(queue->cbegin(), queue->cend(),
                                         [&](const QueuedRun &queued) { return queued.runId == run.id; });
        if (inQueue) {
            if (auto canceled = runqueue::cancel(*writer.value(), run.id)) {
                streams.out << "run " << run.id << " canceled (it was queued)\n";
                return kExitOk;
            }
        }
    }
    const QString runDir = found->workspace.runDir(run.id);
    auto record = SupervisorRecord::read(runDir);
    if (!record || !record->isAlive()) {
        // Nobody is supervising it any more: close it as lost rather than wait forever.
        auto writer = StoreWriter::start(found->workspace.database());
        if (writer)
            (void)recoverAbandonedRuns(found->workspace, *writer.value());
        return reportFailure(
            streams, QStringLiteral("cancel"),
            QStringLiteral("run %1 has no live Trainyard process supervising it; it was marked lost").arg(run.id));
    }
    QFile request(cancelRequestPath(runDir));
    if (!request.open(QIODevice::WriteOnly))
        return reportFailure(streams, QStringLiteral("cancel"),
                             QStringLiteral("cannot write %1: %2").arg(request.fileName(), request.errorString()));
    request.close();

    auto connection = found->workspace.database().connect();
    if (!connection)
        return reportFailure(streams, QStringLiteral("cancel"), connection.error());
    QElapsedTimer waited;
    waited.start();
    for (;;) {
        auto current = runqueries::findRun(connection.value(), run.id);
        if (current && isTerminal(current->status)) {
            streams.out << "run " << run.id << " " << toString(current->status) << '\n';
            return current->status == RunStatus::Canceled ? kExitOk : kExitFailure;
        }
        if (waited.elapsed() > kCancelWaitMs)
            return reportFailure(
                streams, QStringLiteral("cancel"),
                QStringLiteral("run %1 did not stop within %2 s").arg(run.id).arg(waited.elapsed() / 1000));
        QThread::msleep(kFollowPollMs);
    }
}

int runRepair(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Store the points a run's files hold that a store error kept out "
                                                    "of the store (a locked database, a full disk):\n"
                                                    "from the progress committed with the points, so nothing is "
                                                    "doubled. Without RUN: every ended run whose metrics\n"
                                                    "are incomplete. Exits 1 while points are still missing."));
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name (optional)."),
                                 QStringLiteral("[RUN]"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print what was repaired as JSON."));
    parser.addOption(json);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("repair"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() > 1)
        return usageFailure(streams, parser, QStringLiteral("repair"), QStringLiteral("give at most one run"));
    auto workspace = openWorkspace(parser, workspaceBefore);
    if (!workspace)
        return reportFailure(streams, QStringLiteral("repair"), workspace.error());
    QString runId;
    if (!parser.positionalArguments().isEmpty()) {
        auto found = findRunForCommand(parser, workspaceBefore);
        if (!found)
            return reportFailure(streams, QStringLiteral("repair"), found.error());
        runId = found->run.id;
    }
    auto writer = StoreWriter::start(workspace->database());
    if (!writer)
        return reportFailure(streams, QStringLiteral("repair"), writer.error());
    auto repaired = repairIncompleteRuns(workspace.value(), *writer.value(), runId);
    if (!repaired)
        return reportFailure(streams, QStringLiteral("repair"), repaired.error());
    bool stillMissing = false;
    QJsonArray runs;
    for (const RepairedRun &run : repaired.value()) {
        const IngestCatchUp &catchUp = run.catchUp;
        stillMissing = stillMissing || !catchUp.error.isEmpty();
        runs.append(QJsonObject{{QStringLiteral("id"), run.runId},
                                {QStringLiteral("stored_before"), qint64(run.storedBefore)},
                                {QStringLiteral("stored"), qint64(catchUp.stored)},
                                {QStringLiteral("total"), qint64(std::max(catchUp.total, catchUp.stored))},
                                {QStringLiteral("complete"), catchUp.error.isEmpty()},
                                {QStringLiteral("error"),
                                 catchUp.error.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(catchUp.error)}});
        if (parser.isSet(json))
            continue;
        if (catchUp.error.isEmpty())
            streams.out << "run " << run.runId << ": " << catchUp.stored << " points stored ("
                        << (catchUp.stored - run.storedBefore) << " added); its metrics are complete\n";
        else
            streams.out << "run " << run.runId << ": metrics incomplete: " << catchUp.stored << " of "
                        << std::max(catchUp.total, catchUp.stored) << " points stored (" << catchUp.error << ")\n";
    }
    if (parser.isSet(json))
        streams.out << QJsonDocument(QJsonObject{{QStringLiteral("runs"), runs}}).toJson(QJsonDocument::Indented);
    else if (repaired->isEmpty())
        streams.out << "no run has incomplete metrics\n";
    return stillMissing ? kExitFailure : kExitOk;
}

} // namespace trainyard::cli
