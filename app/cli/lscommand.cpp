// trainyard ls [--json]: the runs of the workspace, newest first.
#include "cli/subcommand.h"

#include "store/runqueries.h"
#include "store/workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace trainyard::cli {

QJsonValue isoTimeOrNull(const QDateTime &time)
{
    return time.isValid() ? QJsonValue(time.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue(QJsonValue::Null);
}

QJsonObject runJson(const RunRecord &run, const QDateTime &now)
{
    const auto duration = run.durationSeconds(now);
    QJsonObject object{
        {QStringLiteral("id"), run.id},
        {QStringLiteral("name"), run.name},
        {QStringLiteral("status"), toString(run.status)},
        {QStringLiteral("created_at"), isoTimeOrNull(run.createdAt)},
        {QStringLiteral("started_at"), isoTimeOrNull(run.startedAt)},
        {QStringLiteral("ended_at"), isoTimeOrNull(run.endedAt)},
        {QStringLiteral("duration_s"), duration ? QJsonValue(double(*duration)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("command"), QJsonArray::fromStringList(run.command)},
        {QStringLiteral("cwd"), run.cwd},
        {QStringLiteral("host"), run.host},
        {QStringLiteral("backend"), run.backend},
        {QStringLiteral("tags"), QJsonArray::fromStringList(run.tags)},
    };
    if (!run.exitSummary.isEmpty())
        object.insert(QStringLiteral("exit_summary"), QJsonDocument::fromJson(run.exitSummary.toUtf8()).object());
    return object;
}

namespace {

void printTable(const QList<RunRecord> &runs, const QDateTime &now, QTextStream &out)
{
    if (runs.isEmpty()) {
        out << "No runs yet. Launch one with: trainyard launch --nproc-per-node N -- COMMAND ARGS...\n";
        return;
    }
    QList<QStringList> rows{{QStringLiteral("ID"), QStringLiteral("NAME"), QStringLiteral("STATUS"),
                             QStringLiteral("STARTED"), QStringLiteral("DURATION"), QStringLiteral("TAGS")}};
    for (const RunRecord &run : runs) {
        const auto duration = run.durationSeconds(now);
        const QDateTime started = run.startedAt.isValid() ? run.startedAt : run.createdAt;
        rows << QStringList{run.id, run.name, toString(run.status),
                            started.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                            duration ? QStringLiteral("%1s").arg(*duration) : QStringLiteral("-"),
                            run.tags.join(QLatin1Char(','))};
    }
    QList<qsizetype> widths(rows.first().size(), 0);
    for (const QStringList &row : rows) {
        for (qsizetype column = 0; column < row.size(); ++column)
            widths[column] = std::max(widths[column], row[column].size());
    }
    for (const QStringList &row : rows) {
        QString line;
        for (qsizetype column = 0; column < row.size(); ++column)
            line += column + 1 < row.size() ? row[column].leftJustified(widths[column] + 2) : row[column];
        out << line.trimmed() << '\n';
    }
}

} // namespace

int runLs(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print the runs as a JSON array."));
    parser.addOption(jsonOption);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("ls"), arguments, streams))
        return *exit;
    if (!parser.positionalArguments().isEmpty()) {
        streams.err << "trainyard ls: unexpected argument '" << parser.positionalArguments().first() << "'\n\n"
                    << subcommandHelp(parser, QStringLiteral("ls"));
        return kExitUsage;
    }

    const QString root = resolveWorkspaceRoot(parser, workspaceBefore);
    // ls never creates a workspace: a folder without a database simply has no runs.
    auto workspace = Workspace::openIfExists(root);
    if (!workspace) {
        streams.err << "trainyard ls: " << workspace.error() << '\n';
        return kExitFailure;
    }
    QList<RunRecord> runs;
    if (workspace->has_value()) {
        auto connection = workspace->value().database().connect();
        if (!connection) {
            streams.err << "trainyard ls: " << connection.error() << '\n';
            return kExitFailure;
        }
        auto listed = runqueries::listRuns(connection.value());
        if (!listed) {
            streams.err << "trainyard ls: " << listed.error() << '\n';
            return kExitFailure;
        }
        runs = std::move(listed.value());
    }

    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (parser.isSet(jsonOption)) {
        QJsonArray array;
        for (const RunRecord &run : runs)
            array.append(runJson(run, now));
        streams.out << QJsonDocument(array).toJson(QJsonDocument::Indented);
    } else {
        printTable(runs, now, streams.out);
    }
    return kExitOk;
}

} // namespace trainyard::cli
