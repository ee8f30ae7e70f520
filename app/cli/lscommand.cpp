// trainyard ls [--json] [--limit N] [--filter QUERY] [--since DATE]: the runs of the workspace, newest first, streamed.
#include "cli/subcommand.h"

#include "controlcharacters.h"
#include "jsonwriter.h"
#include "launch/runrecovery.h"
#include "query/runfilter.h"
#include "store/runqueries.h"
#include "store/workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTimeZone>

#include <cstdio>
#include <optional>

namespace trainyard::cli {

QJsonValue isoTimeOrNull(const QDateTime &time)
{
    return time.isValid() ? QJsonValue(time.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue(QJsonValue::Null);
}

QString printableText(const QString &text)
{
    if (!firstControlCharacter(text))
        return text;
    QString printable;
    printable.reserve(text.size() + 8);
    for (const QChar c : text) {
        if (c.category() != QChar::Other_Control)
            printable += c;
        else if (c == u'\n')
            printable += QStringLiteral("\\n");
        else if (c == u'\t')
            printable += QStringLiteral("\\t");
        else
            printable += QStringLiteral("\\x%1").arg(c.unicode(), 2, 16, QLatin1Char('0'));
    }
    return printable;
}

QJsonObject runJson(const RunRecord &run, const QDateTime &now)
{
    const auto duration = run.durationSeconds(now);
    QJsonObject object{
        {QStringLiteral("archived_at"), isoTimeOrNull(run.archivedAt)},
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
        {QStringLiteral("disk_bytes"),
         run.diskBytes ? QJsonValue(qint64(*run.diskBytes)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("parent"),
         run.parentRunId.isEmpty() ? QJsonValue(QJsonValue::Null)
                                   : QJsonValue(QJsonObject{{QStringLiteral("run_id"), run.parentRunId},
                                                            {QStringLiteral("step"),
                                                             run.parentStep ? QJsonValue(qint64(*run.parentStep))
                                                                            : QJsonValue(QJsonValue::Null)}})},
    };
    if (!run.exitSummary.isEmpty())
        object.insert(QStringLiteral("exit_summary"), QJsonDocument::fromJson(run.exitSummary.toUtf8()).object());
    if (const QString incomplete = run.metricsIncomplete(); !incomplete.isEmpty())
        object.insert(QStringLiteral("metrics_incomplete"), incomplete);
    return object;
}

namespace {

// 2026-11-24T17:50:12.345Z, as Qt::ISODateWithMs writes a UTC time, without its formatting machinery (100,000 runs).
void writeTime(JsonWriter &json, const QDateTime &time)
{
    if (!time.isValid()) {
        json.null();
        return;
    }
    const QDateTime utc = time.toUTC();
    const QDate date = utc.date();
    const QTime clock = utc.time();
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", date.year(), date.month(), date.day(),
                  clock.hour(), clock.minute(), clock.second(), clock.msec());
    json.string(text);
}

// The same object as runJson (its keys in the same, sorted, order), written straight out.
void writeRunJson(JsonWriter &json, const RunRecord &run, const QDateTime &now)
{
    const auto duration = run.durationSeconds(now);
    json.beginObject();
    json.key("archived_at");
    writeTime(json, run.archivedAt);
    json.key("backend").string(run.backend);
    json.key("command").beginArray();
    for (const QString &argument : run.command)
        json.string(argument);
    json.endArray();
    json.key("created_at");
    writeTime(json, run.createdAt);
    json.key("cwd").string(run.cwd);
    json.key("disk_bytes");
    run.diskBytes ? json.integer(*run.diskBytes) : json.null();
    json.key("duration_s");
    duration ? json.integer(*duration) : json.null();
    json.key("ended_at");
    writeTime(json, run.endedAt);
    if (const QByteArray summary = run.exitSummary.toUtf8(); !summary.isEmpty())
        json.key("exit_summary").raw(isJsonObject(summary) ? summary : QByteArray("{}"));
    json.key("host").string(run.host);
    json.key("id").string(run.id);
    if (const QString incomplete = run.metricsIncomplete(); !incomplete.isEmpty())
        json.key("metrics_incomplete").string(incomplete);
    json.key("name").string(run.name);
    json.key("parent");
    if (run.parentRunId.isEmpty()) {
        json.null();
    } else {
        json.beginObject();
        json.key("run_id").string(run.parentRunId);
        json.key("step");
        run.parentStep ? json.integer(*run.parentStep) : json.null();
        json.endObject();
    }
    json.key("started_at");
    writeTime(json, run.startedAt);
    json.key("status").string(toString(run.status));
    json.key("tags").beginArray();
    for (const QString &tag : run.tags)
        json.string(tag);
    json.endArray();
    json.endObject();
}

// Column widths come from the first rows (then kept, so rows print as they are read); a cell wider than this is cut.
constexpr qsizetype kRowsSizingColumns = 1000;
constexpr qsizetype kMaxCellWidth = 60;

// Prints the table as rows arrive: the first kRowsSizingColumns rows are held to size the columns.
class StreamingTable {
public:
    explicit StreamingTable(QTextStream &out) : m_out(out)
    {
        m_held << QStringList{QStringLiteral("ID"),      QStringLiteral("NAME"),     QStringLiteral("STATUS"),
                              QStringLiteral("STARTED"), QStringLiteral("DURATION"), QStringLiteral("TAGS")};
    }

    void add(const RunRecord &run, const QDateTime &now)
    {
        const auto duration = run.durationSeconds(now);
        const QDateTime started = run.startedAt.isValid() ? run.startedAt : run.createdAt;
        const bool incomplete = !run.metricsIncomplete().isEmpty();
        m_incomplete += incomplete;
        QStringList row{run.id,
                        run.name,
                        toString(run.status) + (incomplete ? QStringLiteral(" (metrics incomplete)") : QString()),
                        started.isValid() ? started.toTimeZone(m_zone).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                                          : QStringLiteral("-"),
                        duration ? QStringLiteral("%1s").arg(*duration) : QStringLiteral("-"),
                        run.tags.join(QLatin1Char(','))};
        for (QString &cell : row) {
            cell = printableText(cell); // one run, one line; no escape sequence reaches the terminal
            if (cell.size() > kMaxCellWidth)
                cell = cell.left(kMaxCellWidth - 1) + QChar(0x2026);
        }
        ++m_rows;
        if (m_widths.isEmpty()) {
            m_held << row;
            if (m_held.size() > kRowsSizingColumns)
                release();
            return;
        }
        print(row);
    }

    // Prints what is held; says so when there was nothing to print.
    void finish()
    {
        if (m_rows == 0) {
            m_out << "No runs yet. Launch one with: trainyard launch --nproc-per-node N -- COMMAND ARGS...\n";
            return;
        }
        if (m_widths.isEmpty())
            release();
        if (m_incomplete > 0)
            m_out << m_incomplete << (m_incomplete == 1 ? " run has" : " runs have")
                  << " metrics not all stored: `trainyard show RUN` says how many, `trainyard repair` ingests them\n";
    }

private:
    void release()
    {
        m_widths.fill(0, m_held.first().size());
        for (const QStringList &row : std::as_const(m_held))
            for (qsizetype column = 0; column < row.size(); ++column)
                m_widths[column] = std::max(m_widths[column], row[column].size());
        for (const QStringList &row : std::as_const(m_held))
            print(row);
        m_held.clear();
        m_out.flush();
    }

    void print(const QStringList &row)
    {
        QString line;
        for (qsizetype column = 0; column < row.size(); ++column)
            line += column + 1 < row.size() ? row[column].leftJustified(m_widths[column] + 2) : row[column];
        m_out << line.trimmed() << '\n';
    }

    QTextStream &m_out;
    // The local zone, read once: toLocalTime() asks the C library, which stats /etc/localtime at every call.
    const QTimeZone m_zone = QTimeZone::systemTimeZone();
    QList<QStringList> m_held;
    QList<qsizetype> m_widths;
    qsizetype m_rows = 0;
    qsizetype m_incomplete = 0;
};

// --since: a date (YYYY-MM-DD, local midnight), an ISO 8601 time (local unless it names a zone), or an age (30m, 12h,
// 7d, 2w) back from now.
std::optional<QDateTime> parseSince(const QString &text, const QDateTime &now)
{
    static const QRegularExpression age(QStringLiteral("^(\\d+)([mhdw])$"));
    if (const auto match = age.match(text.trimmed()); match.hasMatch()) {
        const qint64 count = match.captured(1).toLongLong();
        const QChar unit = match.captured(2).at(0);
        const qint64 seconds = unit == u'm' ? 60 : unit == u'h' ? 3600 : unit == u'd' ? 86400 : 7 * 86400;
        return now.addSecs(-count * seconds);
    }
    if (const QDate date = QDate::fromString(text, Qt::ISODate); date.isValid())
        return date.startOfDay();
    if (const QDateTime time = QDateTime::fromString(text, Qt::ISODateWithMs); time.isValid())
        return time;
    return std::nullopt;
}

bool filterNeedsDetails(const RunFilter &filter)
{
    for (const RunFilter::Term &term : filter.terms())
        if (term.field == RunFilter::Field::Param || term.field == RunFilter::Field::Metric
            || term.field == RunFilter::Field::Notes)
            return true;
    return false;
}

} // namespace

int runLs(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print the runs as JSON: an array, one run a line."));
    const QCommandLineOption limitOption(QStringLiteral("limit"), QStringLiteral("Print at most N runs (the newest)."),
                                         QStringLiteral("N"));
    const QCommandLineOption filterOption(
        QStringLiteral("filter"),
        QStringLiteral("Only runs matching QUERY, in the window's filter language "
                       "(e.g. 'status:failed tag:baseline lr>=1e-3 loss.min<0.2'; docs/QUERIES.md)."),
        QStringLiteral("QUERY"));
    const QCommandLineOption sinceOption(
        QStringLiteral("since"),
        QStringLiteral("Only runs created since DATE: YYYY-MM-DD, an ISO 8601 time, or an age "
                       "such as 30m, 12h, 7d, 2w."),
        QStringLiteral("DATE"));
    parser.addOptions({jsonOption, limitOption, filterOption, sinceOption});
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("ls"), arguments, streams))
        return *exit;
    const auto usageError = [&](const QString &message) {
        return usageFailure(streams, parser, QStringLiteral("ls"), message);
    };
    if (!parser.positionalArguments().isEmpty())
        return usageError(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));

    const QDateTime now = QDateTime::currentDateTimeUtc();
    std::optional<qsizetype> limit;
    if (parser.isSet(limitOption)) {
        bool ok = false;
        const qlonglong value = parser.value(limitOption).toLongLong(&ok);
        if (!ok || value < 1)
            return usageError(
                QStringLiteral("--limit '%1' is not a positive whole number").arg(parser.value(limitOption)));
        limit = qsizetype(value);
    }
    RunFilter filter;
    if (parser.isSet(filterOption)) {
        RunFilter::ParseError error;
        auto parsed = RunFilter::tryParse(parser.value(filterOption), error);
        if (!parsed)
            return usageError(QStringLiteral("--filter: ") + error.display(parser.value(filterOption)));
        filter = std::move(*parsed);
    }
    runqueries::RunStreamOptions options;
    options.withDetails = filterNeedsDetails(filter);
    if (parser.isSet(sinceOption)) {
        const auto since = parseSince(parser.value(sinceOption), now);
        if (!since)
            return usageError(
                QStringLiteral("--since '%1' is not a date: give YYYY-MM-DD, an ISO 8601 time, or an age such "
                               "as 30m, 12h, 7d, 2w")
                    .arg(parser.value(sinceOption)));
        options.createdSinceMs = since->toMSecsSinceEpoch();
    }

    const QString root = resolveWorkspaceRoot(parser, workspaceBefore);
    // ls never creates a workspace: a folder without a database simply has no runs.
    auto workspace = Workspace::openIfExists(root);
    if (!workspace) {
        streams.err << "trainyard ls: " << workspace.error() << '\n';
        return kExitFailure;
    }

    // Rows are printed as they are read: the first appear at once, whatever the size of the workspace.
    const bool json = parser.isSet(jsonOption);
    StreamingTable table(streams.out);
    JsonWriter writer;
    qsizetype printed = 0;
    if (json)
        streams.out << '[';
    const auto onRun = [&](RunRecord &&run) {
        // A run the store calls active whose launcher and ranks are gone is shown as what it is (recovery, at the
        // next start of a Trainyard that writes, will record it so).
        if (isActive(run.status) && workspace->has_value() && isAbandoned(workspace->value(), run))
            run.status = abandonedRunStatus(workspace->value(), run);
        if (!filter.matches(run))
            return true;
        if (json) {
            writer.clear();
            writeRunJson(writer, run, now);
            streams.out << (printed ? ",\n" : "\n") << writer.buffer();
        } else {
            table.add(run, now);
        }
        ++printed;
        return !limit || printed < *limit;
    };
    if (workspace->has_value()) {
        auto connection = workspace->value().database().connect();
        if (!connection) {
            streams.err << "trainyard ls: " << connection.error() << '\n';
            return kExitFailure;
        }
        if (auto streamed = runqueries::streamRuns(connection.value(), options, onRun); !streamed) {
            streams.err << "trainyard ls: " << streamed.error() << '\n';
            return kExitFailure;
        }
    }
    if (json)
        streams.out << (printed ? "\n]\n" : "]\n");
    else
        table.finish();
    return kExitOk;
}

} // namespace trainyard::cli
