// trainyard sweep SPEC.yaml: queues the runs a spec's sweep makes, as children of one sweep; with --list,
// only shows them. Every value is checked against its param's type first: a bad sweep queues nothing.
#include "cli/subcommand.h"

#include "queue/runqueue.h"
#include "report/sweepreport.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "spec/runspec.h"
#include "store/storewriter.h"
#include "store/sweepstate.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QSet>

#include <cmath>

namespace trainyard::cli {

namespace {

QJsonValue numberOrNull(std::optional<double> value)
{
    return value && std::isfinite(*value) ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
}

QJsonObject importanceJson(const ImportanceReport &importance)
{
    QJsonArray params;
    for (const ParamImportance &param : importance.params)
        params.append(QJsonObject{{QStringLiteral("param"), param.param},
                                  {QStringLiteral("numeric"), param.numeric},
                                  {QStringLiteral("distinct_values"), param.distinctValues},
                                  {QStringLiteral("spearman"), numberOrNull(param.spearman)},
                                  {QStringLiteral("permutation"), param.permutation},
                                  {QStringLiteral("share"), param.share},
                                  {QStringLiteral("better"),
                                   param.better.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(param.better)}});
    return QJsonObject{
        {QStringLiteral("runs_used"), importance.runsUsed},
        {QStringLiteral("not_enough_data"),
         importance.notEnoughData.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(importance.notEnoughData)},
        {QStringLiteral("trees"), importance.trees},
        {QStringLiteral("forest_r2"), numberOrNull(importance.forestR2)},
        {QStringLiteral("chance_correlation"), importance.chanceCorrelation},
        {QStringLiteral("params"), params},
        {QStringLiteral("not_varied"), QJsonArray::fromStringList(importance.notVaried)},
        {QStringLiteral("left_out"), QJsonArray::fromStringList(importance.leftOut)}};
}

// The sweep's spec as it was queued; nullopt (with a warning) when it no longer parses.
std::optional<RunSpec> specOfSweep(SqliteConnection &connection, const QString &sweepId)
{
    auto row = sweepstate::readSweep(connection, sweepId);
    if (!row)
        return std::nullopt;
    auto spec = runqueue::parseSweepSpec(row.value());
    if (!spec)
        return std::nullopt;
    return spec.value();
}

QJsonObject earlyStoppingJson(const EarlyStoppingReport &report)
{
    QJsonArray rungs, stopped;
    for (const RungCount &rung : report.rungs)
        rungs.append(QJsonObject{{QStringLiteral("rung"), rung.rung},
                                 {QStringLiteral("step"), qint64(rung.step)},
                                 {QStringLiteral("reached"), rung.reached},
                                 {QStringLiteral("stopped_there"), rung.stoppedThere}});
    for (const StoppedEarlyRun &run : report.stopped)
        stopped.append(QJsonObject{
            {QStringLiteral("run_id"), run.runId},
            {QStringLiteral("name"), run.name},
            {QStringLiteral("rung"), run.rung},
            {QStringLiteral("rung_step"), qint64(run.rungStep)},
            {QStringLiteral("step"), qint64(run.step)},
            {QStringLiteral("value"), std::isfinite(run.value) ? QJsonValue(run.value) : QJsonValue()},
            {QStringLiteral("comparison"), run.comparison},
            {QStringLiteral("gpus"), run.gpus},
            {QStringLiteral("hours_used"), run.hoursUsed},
            {QStringLiteral("steps_done"), qint64(run.stepsDone)},
            {QStringLiteral("hours_at_full_length"),
             run.hoursAtFullLength ? QJsonValue(*run.hoursAtFullLength) : QJsonValue()},
        });
    return QJsonObject{
        {QStringLiteral("rule"), report.rule},
        {QStringLiteral("rungs"), rungs},
        {QStringLiteral("stopped"), stopped},
        {QStringLiteral("full_length"), report.fullLength ? QJsonValue(qint64(*report.fullLength)) : QJsonValue()},
        {QStringLiteral("full_length_from"), report.fullLengthFrom},
        {QStringLiteral("hours_used"), report.hoursUsed},
        {QStringLiteral("hours_saved"), report.hoursSaved},
        {QStringLiteral("gpu_hours_used"), report.gpuHoursUsed},
        {QStringLiteral("gpu_hours_saved"), report.gpuHoursSaved},
        {QStringLiteral("notes"), QJsonArray::fromStringList(report.notes)},
    };
}

// `trainyard sweep resume SWEEP`: a tpe sweep paused (its Optuna helper crashed or refused) is driven again.
int sweepResumeCommand(const QCommandLineParser &parser, const QString &workspaceBefore, Streams streams)
{
    const QString command = QStringLiteral("sweep resume");
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2)
        return usageFailure(streams, parser, QStringLiteral("sweep"),
                            QStringLiteral("give one sweep: trainyard sweep resume SWEEP"));
    auto workspace = openWorkspace(parser, workspaceBefore);
    if (!workspace)
        return reportFailure(streams, command, workspace.error());
    auto connection = workspace->database().connect();
    if (!connection)
        return reportFailure(streams, command, connection.error());
    auto sweep = runqueries::findSweep(connection.value(), positional[1]);
    if (!sweep)
        return reportFailure(streams, command, sweep.error());
    auto row = sweepstate::readSweep(connection.value(), sweep->id);
    if (!row)
        return reportFailure(streams, command, row.error());
    if (row->method != u"tpe")
        return reportFailure(streams, command,
                             QStringLiteral("sweep %1 is a %2 sweep: its runs are all queued already; there is nothing "
                                            "to resume")
                                 .arg(sweep->id, row->method));
    if (row->state != u"paused")
        return reportFailure(streams, command, QStringLiteral("sweep %1 is %2, not paused").arg(sweep->id, row->state));
    auto writer = StoreWriter::start(workspace->database());
    if (!writer)
        return reportFailure(streams, command, writer.error());
    auto resumed = writer.value()
                       ->submit<void>([id = sweep->id](SqliteConnection &c) {
                           return sweepstate::setState(c, id, QStringLiteral("active"));
                       })
                       .get();
    if (!resumed)
        return reportFailure(streams, command, resumed.error());
    streams.out << "sweep " << sweep->id << " resumed (it was paused: " << printableText(row->message)
                << "); `trainyard queue work` goes on with its trials\n";
    return kExitOk;
}

// `trainyard sweep report SWEEP`: the best run, and which params shape the metric (report/sweepreport.h).
int sweepReportCommand(const QCommandLineParser &parser, const QString &workspaceBefore, Streams streams,
                       const QString &metricKey, const QString &statistic, const QString &mode, bool json)
{
    const QString command = QStringLiteral("sweep report");
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2)
        return usageFailure(streams, parser, QStringLiteral("sweep"),
                            QStringLiteral("give one sweep: trainyard sweep report SWEEP [--metric KEY]"));
    if (!statistic.isEmpty() && statistic != u"last" && statistic != u"min" && statistic != u"max")
        return usageFailure(streams, parser, QStringLiteral("sweep"),
                            QStringLiteral("--statistic '%1' is not one of last, min, max").arg(statistic));
    if (!mode.isEmpty() && mode != u"min" && mode != u"max")
        return usageFailure(streams, parser, QStringLiteral("sweep"),
                            QStringLiteral("--mode '%1' is not min (a loss) or max (an accuracy)").arg(mode));
    const QString root = resolveWorkspaceRoot(parser, workspaceBefore);
    auto workspace = Workspace::openIfExists(root);
    if (!workspace)
        return reportFailure(streams, command, workspace.error());
    if (!workspace->has_value())
        return reportFailure(streams, command, QStringLiteral("no workspace at %1 (no sweeps yet)").arg(root));
    auto connection = workspace->value().database().connect();
    if (!connection)
        return reportFailure(streams, command, connection.error());
    auto sweep = runqueries::findSweep(connection.value(), positional[1]);
    if (!sweep)
        return reportFailure(streams, command, sweep.error());
    const std::optional<RunSpec> spec = specOfSweep(connection.value(), sweep->id);
    // A tpe sweep is ranked by its own metric unless told otherwise.
    const bool tpe = spec && spec->sweep.method == SweepSpec::Method::Tpe;
    SweepMetric metric;
    metric.key = !metricKey.isEmpty() ? metricKey
        : tpe                         ? spec->sweep.objective.metric
                                      : defaultSweepMetricKey(sweep->runs);
    metric.lowerIsBetter = mode.isEmpty() && tpe ? !spec->sweep.objective.maximize : mode != u"max";
    if (statistic.isEmpty() && metricKey.isEmpty() && tpe) {
        // Keep the objective's statistic: the trials were told that number.
        metric.statistic = spec->sweep.objective.statistic;
    }
    if (!(statistic.isEmpty() && metricKey.isEmpty() && tpe))
        metric.statistic = !statistic.isEmpty() ? statistic
            : metric.lowerIsBetter              ? QStringLiteral("min")
                                                : QStringLiteral("max");
    if (metric.key.isEmpty()) {
        QSet<QString> keys;
        for (const RunRecord &run : sweep->runs)
            for (auto it = run.metrics.keyBegin(); it != run.metrics.keyEnd(); ++it)
                keys.insert(*it);
        QStringList sorted(keys.cbegin(), keys.cend());
        sorted.sort();
        return reportFailure(
            streams, command,
            QStringLiteral("sweep %1 has no loss to rank by: give --metric KEY (its runs logged: %2)")
                .arg(sweep->id, sorted.isEmpty() ? QStringLiteral("nothing yet") : sorted.join(QStringLiteral(", "))));
    }
    auto report = sweepReport(sweep->id, sweep->runs, metric);
    if (!report)
        return reportFailure(streams, command, report.error());
    // A tpe sweep's trials: what the study was told of each, and whether the queue drives it.
    QJsonObject tpeJson;
    QString tpeText;
    if (tpe) {
        auto row = sweepstate::readSweep(connection.value(), sweep->id);
        auto trials = sweepstate::trialsOf(connection.value(), sweep->id);
        if (!row || !trials)
            return reportFailure(streams, command, !row ? row.error() : trials.error());
        QJsonArray list;
        QMap<QString, int> byState;
        for (const SweepTrial &trial : std::as_const(*trials)) {
            ++byState[trial.state];
            list.append(QJsonObject{{QStringLiteral("trial"), trial.trial},
                                    {QStringLiteral("run_id"), trial.runId},
                                    {QStringLiteral("state"), trial.state},
                                    {QStringLiteral("value"), trial.value ? QJsonValue(*trial.value) : QJsonValue()}});
        }
        tpeJson = QJsonObject{{QStringLiteral("state"), row->state},
                              {QStringLiteral("message"), row->message},
                              {QStringLiteral("trials_planned"), spec->sweep.trials},
                              {QStringLiteral("trials"), list}};
        tpeText = QStringLiteral("trials     %1 of %2 proposed: %3 complete, %4 pruned, %5 failed, %6 running; the "
                                 "sweep is %7%8\n")
                      .arg(trials->size())
                      .arg(spec->sweep.trials)
                      .arg(byState.value(QStringLiteral("complete")))
                      .arg(byState.value(QStringLiteral("pruned")))
                      .arg(byState.value(QStringLiteral("fail")))
                      .arg(byState.value(QStringLiteral("running")))
                      .arg(row->state, row->message.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(row->message));
    }
    if (spec && spec->sweep.earlyStop) {
        auto rungs = sweepstate::rungsOf(connection.value(), sweep->id);
        auto costs = sweepstate::runCosts(connection.value(), sweep->id, spec->sweep.earlyStop->metric,
                                          QDateTime::currentMSecsSinceEpoch());
        if (!rungs || !costs)
            return reportFailure(streams, command, !rungs ? rungs.error() : costs.error());
        report->earlyStopping = earlyStoppingReport(*spec->sweep.earlyStop, sweep->runs, *rungs, *costs);
    }
    const ImportanceReport &importance = report->importance;
    if (json) {
        QJsonObject best;
        if (report->best) {
            QJsonObject params;
            for (auto it = report->best->params.cbegin(); it != report->best->params.cend(); ++it)
                params.insert(it.key(), it.value());
            best = QJsonObject{{QStringLiteral("run_id"), report->best->id},
                               {QStringLiteral("name"), report->best->name},
                               {QStringLiteral("value"), report->bestValue},
                               {QStringLiteral("params"), params}};
        }
        streams.out << QJsonDocument(
                           QJsonObject{
                               {QStringLiteral("sweep_id"), sweep->id},
                               {QStringLiteral("name"), sweep->name},
                               {QStringLiteral("metric"), metric.key},
                               {QStringLiteral("statistic"), metric.statistic},
                               {QStringLiteral("mode"), metric.lowerIsBetter ? "min" : "max"},
                               {QStringLiteral("runs"), report->runs},
                               {QStringLiteral("finished"), report->finished},
                               {QStringLiteral("stopped_early"), report->stoppedEarly},
                               {QStringLiteral("tpe"), tpe ? QJsonValue(tpeJson) : QJsonValue(QJsonValue::Null)},
                               {QStringLiteral("early_stopping"),
                                report->earlyStopping ? QJsonValue(earlyStoppingJson(*report->earlyStopping))
                                                      : QJsonValue(QJsonValue::Null)},
                               {QStringLiteral("best"),
                                best.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(best)},
                               {QStringLiteral("importance"), importanceJson(importance)}})
                           .toJson(QJsonDocument::Indented);
        return kExitOk;
    }
    const QString what = QStringLiteral("%1 (%2 of each run; %3 is better)")
                             .arg(metric.key, metric.statistic,
                                  metric.lowerIsBetter ? QStringLiteral("lower") : QStringLiteral("higher"));
    streams.out << "sweep " << printableText(sweep->name) << " (" << sweep->id << "): " << report->runs << " runs, "
                << report->finished << " finished, " << report->stoppedEarly << " stopped early\n";
    streams.out << tpeText;
    if (report->best) {
        QStringList params;
        for (auto it = report->best->params.cbegin(); it != report->best->params.cend(); ++it)
            params << it.key() + QLatin1Char('=') + it.value();
        streams.out << "best       " << report->best->id << " (" << printableText(report->best->name)
                    << "): " << metric.key << " " << QString::number(report->bestValue, 'g', 6) << "  "
                    << printableText(params.join(QLatin1Char(' '))) << '\n';
    }
    streams.out << "importance for " << what << '\n';
    if (!importance.notEnoughData.isEmpty()) {
        streams.out << "  not enough data: " << importance.notEnoughData << '\n';
    } else if (importance.params.isEmpty()) {
        streams.out << "  no param varies between the runs used\n";
    } else {
        streams.out << QStringLiteral("  %1  %2  %3  %4  %5\n")
                           .arg(QStringLiteral("PARAM"), -20)
                           .arg(QStringLiteral("FOREST"), 8)
                           .arg(QStringLiteral("SHARE"), 6)
                           .arg(QStringLiteral("SPEARMAN"), 8)
                           .arg(QStringLiteral("BETTER"));
        for (const ParamImportance &param : importance.params)
            streams.out << QStringLiteral("  %1  %2  %3  %4  %5\n")
                               .arg(printableText(param.param), -20)
                               .arg(param.permutation, 8, 'f', 3)
                               .arg(QStringLiteral("%1%").arg(qRound(param.share * 100)), 6)
                               .arg(param.spearman ? QStringLiteral("%1").arg(*param.spearman, 0, 'f', 2)
                                                   : QStringLiteral("-"),
                                    8)
                               .arg(param.better.isEmpty() ? QStringLiteral("-") : printableText(param.better));
        streams.out << "  " << importance.runsUsed << " runs; a forest of " << importance.trees << " trees explains "
                    << (importance.forestR2
                            ? QStringLiteral("%1%").arg(qRound(std::max(0.0, *importance.forestR2) * 100))
                            : QStringLiteral("?"))
                    << " of the metric's variance (out of bag); |Spearman| under "
                    << QString::number(importance.chanceCorrelation, 'f', 2)
                    << " is within chance for this many runs\n";
    }
    if (!importance.notVaried.isEmpty())
        streams.out << "not varied " << printableText(importance.notVaried.join(QStringLiteral(", "))) << '\n';
    for (const QString &line : importance.leftOut)
        streams.out << "left out   " << printableText(line) << '\n';
    if (report->earlyStopping) {
        const EarlyStoppingReport &stopping = *report->earlyStopping;
        streams.out << "early stop " << printableText(stopping.rule) << '\n';
        for (const RungCount &rung : stopping.rungs)
            streams.out << QStringLiteral("  rung %1 (step %2): %3 reached, %4 stopped there\n")
                               .arg(rung.rung)
                               .arg(rung.step)
                               .arg(rung.reached)
                               .arg(rung.stoppedThere);
        streams.out << "stopped    " << stopping.stopped.size() << " run" << (stopping.stopped.size() == 1 ? "" : "s")
                    << " early\n";
        for (const StoppedEarlyRun &run : stopping.stopped)
            streams.out << "  " << run.runId << " (" << printableText(run.name) << ") at rung " << run.rung << ": "
                        << printableText(run.comparison) << '\n';
        if (!stopping.stopped.isEmpty() && stopping.fullLength)
            streams.out << QStringLiteral("saved      %1 GPU-hours, %2 run-hours: at full length (%3 steps, from %4) "
                                          "the stopped runs would have taken %5 run-hours; they took %6\n")
                               .arg(stopping.gpuHoursSaved, 0, 'f', 3)
                               .arg(stopping.hoursSaved, 0, 'f', 3)
                               .arg(*stopping.fullLength)
                               .arg(stopping.fullLengthFrom)
                               .arg(stopping.hoursSaved + stopping.hoursUsed, 0, 'f', 3)
                               .arg(stopping.hoursUsed, 0, 'f', 3);
        for (const QString &note : stopping.notes)
            streams.out << "note       " << printableText(note) << '\n';
    }
    return kExitOk;
}

} // namespace

int runSweep(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Queues the runs of a spec's 'sweep' section (grid axes, random search, seeds) as one sweep.\n"
        "They start when `trainyard queue work` (or the window) has GPUs or CPU slots for them.\n"
        "A `method: tpe` sweep queues nothing now: `trainyard queue work` asks Optuna for each trial.\n"
        "trainyard sweep report SWEEP [--metric KEY] [--mode min|max] [--statistic S] [--json]:\n"
        "  the sweep's best run, each param's importance for the metric, the runs stopped early and\n"
        "  the hours stopping saved.\n"
        "trainyard sweep resume SWEEP: drive a paused tpe sweep again (after its Optuna helper stopped)."));
    parser.addPositionalArgument(QStringLiteral("SPEC.yaml"), QStringLiteral("A run spec with a 'sweep' section."));
    const QCommandLineOption list(QStringLiteral("list"),
                                  QStringLiteral("Only print the runs, one a line; queue nothing."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("With --list: print the runs as JSON."));
    const QCommandLineOption metric(QStringLiteral("metric"),
                                    QStringLiteral("report: the metric to rank by (default: val/loss, eval/loss, "
                                                   "valid/loss or loss, the first the runs logged)."),
                                    QStringLiteral("KEY"));
    const QCommandLineOption statistic(QStringLiteral("statistic"),
                                       QStringLiteral("report: last, min or max of each run's series (default: min "
                                                      "with --mode min, max with --mode max)."),
                                       QStringLiteral("STAT"));
    const QCommandLineOption mode(QStringLiteral("mode"),
                                  QStringLiteral("report: min (lower is better, the default) or max."),
                                  QStringLiteral("MODE"));
    parser.addOption(list);
    parser.addOption(json);
    parser.addOptions({metric, statistic, mode});
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("sweep"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().value(0) == u"report")
        return sweepReportCommand(parser, workspaceBefore, streams, parser.value(metric), parser.value(statistic),
                                  parser.value(mode), parser.isSet(json));
    if (parser.positionalArguments().value(0) == u"resume")
        return sweepResumeCommand(parser, workspaceBefore, streams);
    if (parser.positionalArguments().size() != 1)
        return usageFailure(streams, parser, QStringLiteral("sweep"),
                            QStringLiteral("give one spec file, e.g. trainyard sweep --list sweep.yaml"));
    const QString path = parser.positionalArguments().first();
    auto spec = loadRunSpec(path);
    if (!spec)
        return reportFailure(streams, QStringLiteral("sweep"), spec.error());
    if (spec->sweep.isEmpty())
        return reportFailure(streams, QStringLiteral("sweep"),
                             QStringLiteral("%1 has no 'sweep' section (grid, random or seeds)").arg(path));
    const bool tpe = spec->sweep.method == SweepSpec::Method::Tpe;
    if (tpe && (parser.isSet(list) || parser.isSet(json))) {
        // Nothing to list: the trials are proposed one by one, from the ones that finished.
        QJsonArray space;
        for (const RandomAxis &axis : std::as_const(spec->sweep.space))
            space.append(axis.param);
        if (parser.isSet(json)) {
            streams.out << QJsonDocument(QJsonObject{{QStringLiteral("method"), QStringLiteral("tpe")},
                                                     {QStringLiteral("trials"), spec->sweep.trials},
                                                     {QStringLiteral("parallel"), spec->sweep.parallel},
                                                     {QStringLiteral("params"), space},
                                                     {QStringLiteral("runs"), QJsonArray()}})
                               .toJson(QJsonDocument::Indented);
        } else {
            streams.out << QStringLiteral("a tpe sweep of %1 trials over %2: Optuna proposes each trial from the "
                                          "finished ones when the queue runs, so there is nothing to list yet\n")
                               .arg(spec->sweep.trials)
                               .arg(spec->sweep.space.size());
        }
        return kExitOk;
    }
    auto points = tpe ? Result<QList<SweepPoint>>(QList<SweepPoint>{}) : expandSweep(spec->params, spec->sweep);
    if (!points)
        return reportFailure(streams, QStringLiteral("sweep"), QStringLiteral("%1: %2").arg(path, points.error()));
    if (!parser.isSet(list) && !parser.isSet(json)) {
        auto workspace = openWorkspace(parser, workspaceBefore);
        if (!workspace)
            return reportFailure(streams, QStringLiteral("sweep"), workspace.error());
        auto writer = StoreWriter::start(workspace->database());
        if (!writer)
            return reportFailure(streams, QStringLiteral("sweep"), writer.error());
        QFile specFile(path);
        const QByteArray specText = specFile.open(QIODevice::ReadOnly) ? specFile.readAll() : QByteArray();
        auto queued = runqueue::enqueueSweep(workspace.value(), *writer.value(), spec.value(), specText,
                                             QFileInfo(path).completeBaseName());
        if (!queued)
            return reportFailure(streams, QStringLiteral("sweep"), queued.error());
        if (tpe) {
            streams.out << QStringLiteral("%1: a tpe sweep of %2 trials, %3 at a time (Optuna's TPE, seed %4); "
                                          "`trainyard queue work` proposes and runs them\n")
                               .arg(queued->sweepId)
                               .arg(spec->sweep.trials)
                               .arg(spec->sweep.parallel)
                               .arg(spec->sweep.randomSeed);
            return kExitOk;
        }
        for (qsizetype i = 0; i < queued->runIds.size(); ++i)
            streams.out << QStringLiteral("queued %1  %2\n").arg(queued->runIds[i], queued->labels[i]);
        streams.out << QStringLiteral("%1: %2 runs queued; `trainyard queue work` starts them\n")
                           .arg(queued->sweepId)
                           .arg(queued->runIds.size());
        return kExitOk;
    }
    if (parser.isSet(json)) {
        QJsonArray runs;
        for (const SweepPoint &point : points.value()) {
            QJsonObject params;
            for (const RunParam &param : point.params)
                params.insert(param.name, param.value);
            runs.append(QJsonObject{{QStringLiteral("label"), point.label}, {QStringLiteral("params"), params}});
        }
        streams.out << QJsonDocument(
                           QJsonObject{{QStringLiteral("runs"), runs}, {QStringLiteral("count"), runs.size()}})
                           .toJson(QJsonDocument::Indented);
        return kExitOk;
    }
    streams.out << QStringLiteral("%1 runs\n").arg(points->size());
    for (qsizetype i = 0; i < points->size(); ++i)
        streams.out << QStringLiteral("%1  %2\n").arg(i + 1, 4).arg(points->at(i).label);
    return kExitOk;
}

} // namespace trainyard::cli
