// trainyard checkpoints RUN: the checkpoints Trainyard knows of a run (core/store/checkpoints.h), with their step,
// size, time and the run's metrics at that step; `show` prints the same list.
#include "cli/subcommand.h"

#include "ingest/checkpointretention.h"
#include "launch/runsupervisor.h"
#include "spec/runspec.h"
#include "store/checkpoints.h"
#include "store/sqlite.h"
#include "store/storewriter.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

namespace trainyard::cli {

Result<QJsonArray> checkpointsJson(const Workspace &workspace, const QString &runId)
{
    auto connection = workspace.database().connect();
    if (!connection)
        return fail(connection.error());
    auto found = checkpoints::list(connection.value(), runId);
    if (!found)
        return fail(found.error());
    QList<std::int64_t> steps;
    for (const CheckpointRecord &checkpoint : *found)
        if (checkpoint.step)
            steps << *checkpoint.step;
    auto metrics = checkpoints::metricsAtSteps(connection.value(), runId, steps);
    if (!metrics)
        return fail(metrics.error());
    auto forks = checkpoints::children(connection.value(), runId);
    if (!forks)
        return fail(forks.error());
    QJsonArray array;
    for (const CheckpointRecord &checkpoint : *found) {
        const QJsonObject atStep = checkpoints::metricsOf(checkpoint, *metrics);
        const QStringList children = checkpoint.step ? forks->values(*checkpoint.step) : QStringList();
        array.append(
            QJsonObject{{QStringLiteral("step"), checkpoint.step ? QJsonValue(qint64(*checkpoint.step)) : QJsonValue()},
                        {QStringLiteral("path"), checkpoint.path},
                        {QStringLiteral("bytes"), qint64(checkpoint.bytes)},
                        {QStringLiteral("saved_at"),
                         QDateTime::fromMSecsSinceEpoch(checkpoint.createdMs, Qt::UTC).toString(Qt::ISODateWithMs)},
                        {QStringLiteral("source"), checkpoint.source},
                        {QStringLiteral("rank"), checkpoint.rank >= 0 ? QJsonValue(checkpoint.rank) : QJsonValue()},
                        {QStringLiteral("metrics"), atStep},
                        {QStringLiteral("children"), QJsonArray::fromStringList(children)}});
    }
    return array;
}

QStringList checkpointLines(const QJsonArray &checkpoints)
{
    QStringList lines;
    for (const QJsonValue &value : checkpoints) {
        const QJsonObject checkpoint = value.toObject();
        const QStringList metrics =
            checkpoints::describeMetrics(checkpoint.value(QStringLiteral("metrics")).toObject(), 6);
        const QJsonValue step = checkpoint.value(QStringLiteral("step"));
        QStringList children;
        for (const QJsonValue &child : checkpoint.value(QStringLiteral("children")).toArray())
            children << child.toString();
        lines << QStringLiteral("%1  %2  %3  %4%5%6")
                     .arg(step.isNull() ? QStringLiteral("-") : QString::number(step.toInteger()), -8)
                     .arg(QLocale::c().formattedDataSize(checkpoint.value(QStringLiteral("bytes")).toInteger(), 1), -10)
                     .arg(checkpoint.value(QStringLiteral("saved_at"))
                              .toString()
                              .left(19)
                              .replace(QLatin1Char('T'), QLatin1Char(' ')))
                     .arg(printableText(checkpoint.value(QStringLiteral("path")).toString()))
                     .arg(metrics.isEmpty() ? QString()
                                            : QStringLiteral("  ") + printableText(metrics.join(QLatin1Char(' '))))
                     .arg(children.isEmpty() ? QString()
                                             : QStringLiteral("  (kept: %1 started from it)")
                                                   .arg(printableText(children.join(QStringLiteral(", ")))));
    }
    return lines;
}

namespace {

// `checkpoints RUN --prune [--dry-run]`: the run's retention rule applied now.
int pruneCheckpoints(const FoundRun &found, bool dryRun, bool json, Streams streams)
{
    const QString command = QStringLiteral("checkpoints");
    const auto spec = loadRunSpec(found.workspace.runDir(found.run.id) + QStringLiteral("/spec.yaml"));
    if (!spec || spec->retention.isEmpty())
        return reportFailure(streams, command,
                             QStringLiteral("run %1 has no retention rule: its spec needs checkpoints: {keep_last: N} "
                                            "or {keep_best: {metric, mode, n}}")
                                 .arg(found.run.id));
    auto connection = found.workspace.database().connect();
    if (!connection)
        return reportFailure(streams, command, connection.error());
    auto listed = checkpoints::list(connection.value(), found.run.id);
    if (!listed)
        return reportFailure(streams, command, listed.error());
    QList<std::int64_t> steps;
    for (const CheckpointRecord &checkpoint : *listed)
        if (checkpoint.step)
            steps << *checkpoint.step;
    auto metrics = checkpoints::metricsAtSteps(connection.value(), found.run.id, steps, spec->retention.bestMetric);
    if (!metrics)
        return reportFailure(streams, command, metrics.error());
    auto forked = checkpoints::pathsChildrenStartedFrom(connection.value(), found.run.id, *listed);
    if (!forked)
        return reportFailure(streams, command, forked.error());
    const RetentionPlan plan = retention::plan(*listed, spec->retention, *metrics, *forked);
    QStringList deleted, errors;
    if (!dryRun && !plan.remove.isEmpty()) {
        const retention::Deleted done = retention::apply(plan);
        deleted = done.paths;
        errors = done.errors;
        auto writer = StoreWriter::start(found.workspace.database());
        if (!writer)
            return reportFailure(streams, command, writer.error());
        auto forgotten =
            writer.value()
                ->submit<void>([paths = done.paths, runId = found.run.id](SqliteConnection &c) -> Result<void> {
                    for (const QString &path : paths)
                        if (auto forgot = checkpoints::forget(c, runId, path); !forgot)
                            return forgot;
                    return {};
                })
                .get();
        if (!forgotten)
            return reportFailure(streams, command, forgotten.error());
    }
    if (json) {
        QJsonArray keep, remove;
        for (const CheckpointRecord &checkpoint : plan.keep)
            keep.append(checkpoint.path);
        for (const CheckpointRecord &checkpoint : plan.remove)
            remove.append(checkpoint.path);
        streams.out << QJsonDocument(QJsonObject{{QStringLiteral("run_id"), found.run.id},
                                                 {QStringLiteral("dry_run"), dryRun},
                                                 {QStringLiteral("keep"), keep},
                                                 {QStringLiteral("delete"), remove},
                                                 {QStringLiteral("bytes_freed"), qint64(plan.bytesFreed())},
                                                 {QStringLiteral("errors"), QJsonArray::fromStringList(errors)}})
                           .toJson(QJsonDocument::Indented);
    } else {
        for (const CheckpointRecord &checkpoint : plan.remove)
            streams.out << (dryRun ? "would delete " : "deleted ") << printableText(checkpoint.path) << " ("
                        << QLocale::c().formattedDataSize(checkpoint.bytes, 1) << ")\n";
        streams.out << "run " << found.run.id << ": " << plan.keep.size() << " checkpoint"
                    << (plan.keep.size() == 1 ? "" : "s") << " kept, " << plan.remove.size()
                    << (dryRun ? " would go, freeing " : " deleted, freeing ")
                    << QLocale::c().formattedDataSize(plan.bytesFreed(), 1) << '\n';
    }
    for (const QString &error : errors)
        streams.err << "trainyard checkpoints: " << error << '\n';
    return errors.isEmpty() ? kExitOk : kExitFailure;
}

} // namespace

int runCheckpoints(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    const QString command = QStringLiteral("checkpoints");
    QCommandLineParser parser;
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print the checkpoints as JSON."));
    const QCommandLineOption prune(QStringLiteral("prune"),
                                   QStringLiteral("Delete the checkpoints the run's retention rule (checkpoints: "
                                                  "{keep_last, keep_best}) does not keep."));
    const QCommandLineOption dryRun(QStringLiteral("dry-run"),
                                    QStringLiteral("With --prune: say what would be deleted, delete nothing."));
    parser.addOptions({json, prune, dryRun});
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name."));
    if (auto exit = parseSubcommandArguments(parser, command, arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
        return usageFailure(streams, parser, command, QStringLiteral("give exactly one run"));
    if (parser.isSet(dryRun) && !parser.isSet(prune))
        return usageFailure(streams, parser, command, QStringLiteral("--dry-run goes with --prune"));
    auto found = findRunForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, command, found.error());
    if (parser.isSet(prune))
        return pruneCheckpoints(found.value(), parser.isSet(dryRun), parser.isSet(json), streams);
    auto list = checkpointsJson(found->workspace, found->run.id);
    if (!list)
        return reportFailure(streams, command, list.error());
    const QString runDir = found->workspace.runDir(found->run.id);
    const auto spec = loadRunSpec(runDir + QStringLiteral("/spec.yaml"));
    const QString folder =
        checkpointFolderOf(spec ? spec->checkpointDir : QString(), spec ? spec->cwd : runDir, runDir);
    if (parser.isSet(json)) {
        streams.out << QJsonDocument(QJsonObject{{QStringLiteral("run_id"), found->run.id},
                                                 {QStringLiteral("checkpoint_dir"), folder},
                                                 {QStringLiteral("checkpoints"), *list}})
                           .toJson(QJsonDocument::Indented);
        return kExitOk;
    }
    qint64 bytes = 0;
    for (const QJsonValue &checkpoint : *list)
        bytes += checkpoint.toObject().value(QStringLiteral("bytes")).toInteger();
    streams.out << "run " << found->run.id << " (" << printableText(found->run.name) << "): " << list->size()
                << " checkpoint" << (list->size() == 1 ? "" : "s") << ", " << QLocale::c().formattedDataSize(bytes, 1)
                << ", saved in " << printableText(folder) << '\n';
    if (!list->isEmpty())
        streams.out << QStringLiteral("%1  %2  %3  %4\n")
                           .arg(QStringLiteral("STEP"), -8)
                           .arg(QStringLiteral("SIZE"), -10)
                           .arg(QStringLiteral("SAVED"), -19)
                           .arg(QStringLiteral("PATH  METRICS AT THE STEP"));
    for (const QString &line : checkpointLines(*list))
        streams.out << line << '\n';
    return kExitOk;
}

} // namespace trainyard::cli
