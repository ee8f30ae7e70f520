// trainyard report: the throughput review of a workspace over a date range, by day, week and group.
#include "cli/subcommand.h"

#include "report/throughputreport.h"

#include <QJsonDocument>

namespace trainyard::cli {

namespace {

// "2026-11-01" (midnight UTC) or an ISO date-time.
std::optional<QDateTime> parseReportTime(const QString &text)
{
    const QDate date = QDate::fromString(text, Qt::ISODate);
    if (date.isValid())
        return QDateTime(date, QTime(0, 0), Qt::UTC);
    QDateTime time = QDateTime::fromString(text, Qt::ISODate);
    if (!time.isValid())
        return std::nullopt;
    return time.toUTC();
}

QString formatSeconds(const std::optional<double> &seconds)
{
    if (!seconds)
        return QStringLiteral("-");
    const double s = *seconds;
    if (std::abs(s) < 120)
        return QString::number(s, 'f', s < 10 ? 2 : 1) + QStringLiteral(" s");
    if (std::abs(s) < 7200)
        return QString::number(s / 60, 'f', 1) + QStringLiteral(" min");
    return QString::number(s / 3600, 'f', 1) + QStringLiteral(" h");
}

QString figuresLine(const ReportFigures &f)
{
    return QStringLiteral("%1 launched, %2 started, %3 succeeded, %4 failed, %5 canceled, %6 lost, %7 unfinished, "
                          "%11 stopped early; success rate %8; %9 GPU-hours; %10 restarts")
        .arg(f.launched)
        .arg(f.started)
        .arg(f.succeeded)
        .arg(f.failed)
        .arg(f.canceled)
        .arg(f.lost)
        .arg(f.unfinished)
        .arg(f.successRate() ? QString::number(*f.successRate() * 100, 'f', 1) + QLatin1Char('%') : QStringLiteral("-"))
        .arg(QString::number(f.gpuHours, 'f', 1))
        .arg(f.restarts)
        .arg(f.stoppedEarly);
}

} // namespace

int runReport(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("How fast the runs of this workspace turn GPU time into results: "
                                                    "outcomes per day and week, GPU-hours, success rate,\n"
                                                    "failure causes, queue wait, time to first metric step, restarts; "
                                                    "from the recorded state changes (docs/REPORT.md)."));
    const QCommandLineOption since(QStringLiteral("since"),
                                   QStringLiteral("Runs launched on or after DATE (YYYY-MM-DD, UTC, or an ISO time)."),
                                   QStringLiteral("DATE"));
    const QCommandLineOption until(QStringLiteral("until"), QStringLiteral("Runs launched before DATE."),
                                   QStringLiteral("DATE"));
    const QCommandLineOption by(QStringLiteral("by"), QStringLiteral("Group by project, user, tag, backend or host."),
                                QStringLiteral("WHAT"));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Everything as JSON: total, days, weeks, groups."));
    const QCommandLineOption csv(QStringLiteral("csv"),
                                 QStringLiteral("The group table as CSV (one row per day without --by)."));
    for (const QCommandLineOption &option : {since, until, by, json, csv})
        parser.addOption(option);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("report"), arguments, streams))
        return *exit;
    if (!parser.positionalArguments().isEmpty())
        return usageFailure(streams, parser, QStringLiteral("report"),
                            QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    if (parser.isSet(json) && parser.isSet(csv))
        return usageFailure(streams, parser, QStringLiteral("report"),
                            QStringLiteral("give --json or --csv, not both"));
    ReportQuery query;
    for (const auto &[option, target] : {std::pair{since, &query.since}, std::pair{until, &query.until}}) {
        if (!parser.isSet(option))
            continue;
        const auto time = parseReportTime(parser.value(option));
        if (!time)
            return usageFailure(streams, parser, QStringLiteral("report"),
                                QStringLiteral("--%1 '%2' is not a date (YYYY-MM-DD) or ISO time")
                                    .arg(option.names().first(), parser.value(option)));
        *target = *time;
    }
    if (query.since.isValid() && query.until.isValid() && query.since >= query.until)
        return usageFailure(streams, parser, QStringLiteral("report"),
                            QStringLiteral("--since must be before --until"));
    if (parser.isSet(by)) {
        const auto grouping = parseGrouping(parser.value(by));
        if (!grouping || *grouping == ReportGrouping::None)
            return usageFailure(
                streams, parser, QStringLiteral("report"),
                QStringLiteral("--by '%1' is not one of project, user, tag, backend, host").arg(parser.value(by)));
        query.by = *grouping;
    }
    query.now = QDateTime::currentDateTimeUtc();

    const QString root = resolveWorkspaceRoot(parser, workspaceBefore);
    auto existing = Workspace::openIfExists(root);
    if (!existing)
        return reportFailure(streams, QStringLiteral("report"), existing.error());
    ThroughputReport report;
    report.query = query;
    if (existing->has_value()) {
        auto connection = (**existing).database().connect();
        if (!connection)
            return reportFailure(streams, QStringLiteral("report"), connection.error());
        auto computed = computeThroughputReport(*connection, query);
        if (!computed)
            return reportFailure(streams, QStringLiteral("report"), computed.error());
        report = std::move(computed).value();
    }
    if (parser.isSet(json)) {
        streams.out << QJsonDocument(report.toJson()).toJson();
        return kExitOk;
    }
    if (parser.isSet(csv)) {
        streams.out << (query.by == ReportGrouping::None ? report.daysCsv() : report.groupsCsv());
        return kExitOk;
    }
    const ReportFigures &total = report.total;
    streams.out << "Runs launched "
                << (query.since.isValid() ? query.since.toString(Qt::ISODate) : QStringLiteral("from the first"))
                << " until " << (query.until.isValid() ? query.until.toString(Qt::ISODate) : QStringLiteral("now"))
                << " in " << root << '\n';
    streams.out << "  " << figuresLine(total) << '\n';
    streams.out << "  queue wait: median " << formatSeconds(total.queueWait.medianS) << ", p90 "
                << formatSeconds(total.queueWait.p90S) << " (" << total.queueWait.count << " runs)\n";
    streams.out << "  time to first metric step: median " << formatSeconds(total.timeToFirstStep.medianS) << ", p90 "
                << formatSeconds(total.timeToFirstStep.p90S) << " (" << total.timeToFirstStep.count << " runs)\n";
    streams.out << "  GPU utilisation: "
                << (total.gpuUtilizationPercent
                        ? QString::number(*total.gpuUtilizationPercent, 'f', 1) + QLatin1Char('%')
                        : QStringLiteral("no GPU telemetry in these runs"))
                << '\n';
    QStringList causes;
    for (const auto &[cause, count] : total.failureCauses)
        causes << QStringLiteral("%1 %2").arg(cause).arg(count);
    streams.out << "  failure causes: "
                << (causes.isEmpty() ? QStringLiteral("none") : causes.join(QStringLiteral(", "))) << "\n\n";
    streams.out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7\n")
                       .arg(QStringLiteral("day"), -10)
                       .arg(QStringLiteral("launched"), 9)
                       .arg(QStringLiteral("succeeded"), 10)
                       .arg(QStringLiteral("failed"), 7)
                       .arg(QStringLiteral("canceled"), 9)
                       .arg(QStringLiteral("GPU-h"), 9)
                       .arg(QStringLiteral("wait p90"), 10);
    for (const ReportPeriod &day : report.days)
        streams.out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7\n")
                           .arg(day.start.toString(Qt::ISODate), -10)
                           .arg(day.figures.launched, 9)
                           .arg(day.figures.succeeded, 10)
                           .arg(day.figures.failed, 7)
                           .arg(day.figures.canceled, 9)
                           .arg(QString::number(day.figures.gpuHours, 'f', 1), 9)
                           .arg(formatSeconds(day.figures.queueWait.p90S), 10);
    if (!report.groups.isEmpty()) {
        streams.out << "\nby " << groupingName(query.by) << ":\n";
        for (const ReportGroup &group : report.groups)
            streams.out << "  " << group.name << ": " << figuresLine(group.figures) << '\n';
    }
    return kExitOk;
}

} // namespace trainyard::cli
