// One pass over the runs launched in the range (one row each, the writer keeps their time lines), folded into
// the total, the days, the weeks and the groups at once.
#include "report/throughputreport.h"

#include "store/sqlite.h"

#include <QHash>
#include <QJsonArray>
#include <QMap>

#include <algorithm>
#include <cmath>
#include <map>

namespace trainyard {

namespace {

struct RunRow {
    QString id;
    std::int64_t createdMs = 0;
    QString status;
    int gpus = 0;
    std::int64_t activeMs = 0;
    std::optional<std::int64_t> activeSinceMs;
    std::optional<std::int64_t> queuedMs;
    std::optional<std::int64_t> firstActiveMs;
    std::optional<std::int64_t> firstMetricMs;
    int restarts = 0;
    QString cause;
    QString group;
};

// Accumulates one set of figures; finish() turns the collected durations into statistics.
struct FiguresBuilder {
    ReportFigures figures;
    std::vector<std::int64_t> waits;
    std::vector<std::int64_t> firstSteps;
    std::map<QString, std::int64_t> causes;
    double utilizationSum = 0;
    std::int64_t utilizationSamples = 0;

    void add(const RunRow &run, std::int64_t nowMs, const std::pair<double, std::int64_t> *utilization)
    {
        ++figures.launched;
        figures.started += run.firstActiveMs.has_value();
        if (run.status == QLatin1String("succeeded"))
            ++figures.succeeded;
        else if (run.status == QLatin1String("failed"))
            ++figures.failed, ++causes[run.cause];
        else if (run.status == QLatin1String("canceled"))
            ++figures.canceled;
        else if (run.status == QLatin1String("lost"))
            ++figures.lost;
        else
            ++figures.unfinished;
        const std::int64_t active = run.activeMs + (run.activeSinceMs ? std::max<std::int64_t>(0, nowMs - *run.activeSinceMs) : 0);
        figures.gpuHours += double(run.gpus) * double(active) / 3.6e6;
        figures.restarts += run.restarts;
        if (run.queuedMs && run.firstActiveMs)
            waits.push_back(*run.firstActiveMs - *run.queuedMs);
        if (run.firstActiveMs && run.firstMetricMs)
            firstSteps.push_back(*run.firstMetricMs - *run.firstActiveMs);
        if (utilization) {
            utilizationSum += utilization->first;
            utilizationSamples += utilization->second;
        }
    }

    ReportFigures finish()
    {
        figures.queueWait = DurationStats::of(std::move(waits));
        figures.timeToFirstStep = DurationStats::of(std::move(firstSteps));
        if (utilizationSamples > 0)
            figures.gpuUtilizationPercent = utilizationSum / double(utilizationSamples);
        for (const auto &[cause, count] : causes)
            figures.failureCauses.append({cause, count});
        std::stable_sort(figures.failureCauses.begin(), figures.failureCauses.end(),
                         [](const auto &a, const auto &b) { return a.second > b.second; });
        return figures;
    }
};

QDate dayOf(std::int64_t ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).date(); }
QDate weekOf(std::int64_t ms)
{
    const QDate day = dayOf(ms);
    return day.addDays(1 - day.dayOfWeek());
}

std::int64_t rangeStartMs(const ReportQuery &query) { return query.since.isValid() ? query.since.toMSecsSinceEpoch() : std::numeric_limits<std::int64_t>::min(); }
std::int64_t rangeEndMs(const ReportQuery &query)
{
    return query.until.isValid() ? query.until.toMSecsSinceEpoch() : std::numeric_limits<std::int64_t>::max();
}
std::int64_t nowMsOf(const ReportQuery &query)
{
    return (query.now.isValid() ? query.now : QDateTime::currentDateTimeUtc()).toMSecsSinceEpoch();
}

QString groupColumn(ReportGrouping grouping)
{
    switch (grouping) {
    case ReportGrouping::Project: return QStringLiteral("r.project");
    case ReportGrouping::User: return QStringLiteral("r.user");
    case ReportGrouping::Backend: return QStringLiteral("r.backend");
    case ReportGrouping::Host: return QStringLiteral("r.host");
    case ReportGrouping::Tag:
    case ReportGrouping::None: break;
    }
    return QStringLiteral("''");
}

const QString kNoTag = QStringLiteral("(no tag)");
const QString kUnnamed = QStringLiteral("(none)");

// Every run launched in the range, with its group (for tags, one row per tag; "(no tag)" without one).
Result<std::vector<RunRow>> readRuns(SqliteConnection &connection, const ReportQuery &query)
{
    const QString groupExpression = query.by == ReportGrouping::Tag ? QStringLiteral("coalesce(t.tag, '')") : groupColumn(query.by);
    // A LEFT JOIN keeps runs as the outer loop, so a run's tag rows come one after another.
    const QString join = query.by == ReportGrouping::Tag ? QStringLiteral(" LEFT JOIN tags t ON t.run_id = r.id") : QString();
    // A failed run's cause is its first failure's; a run that failed before it had ranks has no exit summary.
    const QString sql = QStringLiteral(
        "SELECT r.id, r.created_ms, r.status, r.gpus, r.active_ms, r.active_since_ms, r.queued_ms, r.first_active_ms,"
        " r.first_metric_ms, r.restarts,"
        " CASE WHEN r.status = 'failed' THEN coalesce(json_extract(r.exit_summary, '$.first_failure.cause'),"
        "   CASE WHEN r.exit_summary IS NULL OR r.exit_summary = '' THEN 'launch' ELSE 'unknown' END) ELSE '' END,"
        " %1 FROM runs r%2 WHERE r.created_ms >= ?1 AND r.created_ms < ?2")
                            .arg(groupExpression, join);
    auto select = connection.prepare(sql.toUtf8().constData());
    if (!select)
        return fail(select.error());
    select->bind(1, rangeStartMs(query));
    select->bind(2, rangeEndMs(query));
    const auto optionalInt = [&](int column) -> std::optional<std::int64_t> {
        if (select->isNull(column))
            return std::nullopt;
        return select->columnInt(column);
    };
    std::vector<RunRow> rows;
    for (;;) {
        auto row = select->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            break;
        RunRow run;
        run.id = select->columnText(0);
        run.createdMs = select->columnInt(1);
        run.status = select->columnText(2);
        run.gpus = int(select->columnInt(3));
        run.activeMs = select->columnInt(4);
        run.activeSinceMs = optionalInt(5);
        run.queuedMs = optionalInt(6);
        run.firstActiveMs = optionalInt(7);
        run.firstMetricMs = optionalInt(8);
        run.restarts = int(select->columnInt(9));
        run.cause = select->columnText(10);
        run.group = select->columnText(11);
        if (run.group.isEmpty())
            run.group = query.by == ReportGrouping::Tag ? kNoTag : kUnnamed;
        rows.push_back(std::move(run));
    }
    return rows;
}

// Mean GPU utilisation samples per run, from the whole-run summaries of GPU telemetry keys (NVML's
// sys/gpu<N>/utilization...): (sum, count) over the top level of each key's pyramid.
Result<QHash<QString, std::pair<double, std::int64_t>>> readGpuUtilization(SqliteConnection &connection, const ReportQuery &query)
{
    auto select = connection.prepare(
        "SELECT k.run_id, sum(b.total), sum(b.finite_n) FROM metric_keys k JOIN runs r ON r.id = k.run_id"
        " JOIN metric_bins b ON b.key_id = k.id AND b.level = (SELECT max(level) FROM metric_bins WHERE key_id = k.id)"
        " WHERE k.key LIKE 'sys/gpu%/util%' AND r.created_ms >= ?1 AND r.created_ms < ?2 GROUP BY k.run_id");
    if (!select)
        return fail(select.error());
    select->bind(1, rangeStartMs(query));
    select->bind(2, rangeEndMs(query));
    QHash<QString, std::pair<double, std::int64_t>> utilization;
    for (;;) {
        auto row = select->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            break;
        if (select->columnInt(2) > 0)
            utilization.insert(select->columnText(0), {select->columnDouble(1), select->columnInt(2)});
    }
    return utilization;
}

QJsonValue optionalNumber(const std::optional<double> &value)
{
    return value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
}

QJsonObject statsJson(const DurationStats &stats)
{
    return QJsonObject{{QStringLiteral("count"), qint64(stats.count)},
                       {QStringLiteral("median_s"), optionalNumber(stats.medianS)},
                       {QStringLiteral("p90_s"), optionalNumber(stats.p90S)}};
}

QJsonObject figuresJson(const ReportFigures &figures)
{
    QJsonArray causes;
    for (const auto &[cause, count] : figures.failureCauses)
        causes.append(QJsonObject{{QStringLiteral("cause"), cause}, {QStringLiteral("runs"), qint64(count)}});
    return QJsonObject{
        {QStringLiteral("launched"), qint64(figures.launched)},
        {QStringLiteral("started"), qint64(figures.started)},
        {QStringLiteral("succeeded"), qint64(figures.succeeded)},
        {QStringLiteral("failed"), qint64(figures.failed)},
        {QStringLiteral("canceled"), qint64(figures.canceled)},
        {QStringLiteral("lost"), qint64(figures.lost)},
        {QStringLiteral("unfinished"), qint64(figures.unfinished)},
        {QStringLiteral("success_rate"), optionalNumber(figures.successRate())},
        {QStringLiteral("gpu_hours"), figures.gpuHours},
        {QStringLiteral("restarts"), qint64(figures.restarts)},
        {QStringLiteral("queue_wait"), statsJson(figures.queueWait)},
        {QStringLiteral("time_to_first_step"), statsJson(figures.timeToFirstStep)},
        {QStringLiteral("gpu_utilization_percent"), optionalNumber(figures.gpuUtilizationPercent)},
        {QStringLiteral("failure_causes"), causes},
    };
}

QString csvNumber(const std::optional<double> &value) { return value ? QString::number(*value, 'g', 10) : QString(); }

QString csvField(const QString &text)
{
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) && !text.contains(QLatin1Char('\n')))
        return text;
    return QLatin1Char('"') + QString(text).replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
}

QString figuresCsv(const ReportFigures &f)
{
    return QStringList{QString::number(f.launched), QString::number(f.started), QString::number(f.succeeded), QString::number(f.failed),
                       QString::number(f.canceled), QString::number(f.lost), QString::number(f.unfinished), csvNumber(f.successRate()),
                       QString::number(f.gpuHours, 'g', 10), QString::number(f.restarts), csvNumber(f.queueWait.medianS),
                       csvNumber(f.queueWait.p90S), csvNumber(f.timeToFirstStep.medianS), csvNumber(f.timeToFirstStep.p90S),
                       csvNumber(f.gpuUtilizationPercent), csvField(f.failureCauses.isEmpty() ? QString() : f.failureCauses.first().first)}
        .join(QLatin1Char(','));
}

const QString kFiguresHeader = QStringLiteral("launched,started,succeeded,failed,canceled,lost,unfinished,success_rate,gpu_hours,restarts,"
                                              "queue_wait_median_s,queue_wait_p90_s,first_step_median_s,first_step_p90_s,"
                                              "gpu_utilization_percent,top_failure_cause");

} // namespace

QString groupingName(ReportGrouping grouping)
{
    switch (grouping) {
    case ReportGrouping::None: return QStringLiteral("none");
    case ReportGrouping::Project: return QStringLiteral("project");
    case ReportGrouping::User: return QStringLiteral("user");
    case ReportGrouping::Tag: return QStringLiteral("tag");
    case ReportGrouping::Backend: return QStringLiteral("backend");
    case ReportGrouping::Host: return QStringLiteral("host");
    }
    return {};
}

std::optional<ReportGrouping> parseGrouping(const QString &text)
{
    for (ReportGrouping grouping : {ReportGrouping::None, ReportGrouping::Project, ReportGrouping::User, ReportGrouping::Tag,
                                    ReportGrouping::Backend, ReportGrouping::Host})
        if (groupingName(grouping) == text)
            return grouping;
    return std::nullopt;
}

DurationStats DurationStats::of(std::vector<std::int64_t> millis)
{
    DurationStats stats;
    stats.count = std::int64_t(millis.size());
    if (millis.empty())
        return stats;
    std::sort(millis.begin(), millis.end());
    const std::size_t n = millis.size();
    stats.medianS = (n % 2 ? double(millis[n / 2]) : (double(millis[n / 2 - 1]) + double(millis[n / 2])) / 2) / 1000.0;
    const std::size_t rank = std::size_t(std::ceil(0.9 * double(n))); // nearest rank, 1-based
    stats.p90S = double(millis[std::max<std::size_t>(rank, 1) - 1]) / 1000.0;
    return stats;
}

std::optional<double> ReportFigures::successRate() const
{
    const std::int64_t ended = succeeded + failed + lost;
    return ended > 0 ? std::optional<double>(double(succeeded) / double(ended)) : std::nullopt;
}

Result<ThroughputReport> computeThroughputReport(SqliteConnection &connection, const ReportQuery &query)
{
    auto rows = readRuns(connection, query);
    if (!rows)
        return fail(rows.error());
    auto utilization = readGpuUtilization(connection, query);
    if (!utilization)
        return fail(utilization.error());
    const std::int64_t nowMs = nowMsOf(query);

    FiguresBuilder total;
    std::map<QDate, FiguresBuilder> days, weeks;
    std::map<QString, FiguresBuilder> groups;
    QString previousId;
    for (const RunRow &run : *rows) {
        const auto found = utilization->constFind(run.id);
        const std::pair<double, std::int64_t> *samples = found == utilization->constEnd() ? nullptr : &found.value();
        // With tags a run comes once per tag: it counts once in the total and the periods, once in each tag.
        if (run.id != previousId) {
            total.add(run, nowMs, samples);
            days[dayOf(run.createdMs)].add(run, nowMs, samples);
            weeks[weekOf(run.createdMs)].add(run, nowMs, samples);
            previousId = run.id;
        }
        if (query.by != ReportGrouping::None)
            groups[run.group].add(run, nowMs, samples);
    }

    ThroughputReport report;
    report.query = query;
    report.total = total.finish();
    for (auto &[day, builder] : days)
        report.days.append({day, builder.finish()});
    for (auto &[week, builder] : weeks)
        report.weeks.append({week, builder.finish()});
    for (auto &[name, builder] : groups)
        report.groups.append({name, builder.finish()});
    std::stable_sort(report.groups.begin(), report.groups.end(), [](const ReportGroup &a, const ReportGroup &b) {
        return a.figures.gpuHours != b.figures.gpuHours ? a.figures.gpuHours > b.figures.gpuHours : a.figures.launched > b.figures.launched;
    });
    return report;
}

QJsonObject ThroughputReport::toJson() const
{
    QJsonArray dayArray, weekArray, groupArray;
    for (const ReportPeriod &day : days) {
        QJsonObject object = figuresJson(day.figures);
        object.insert(QStringLiteral("day"), day.start.toString(Qt::ISODate));
        dayArray.append(object);
    }
    for (const ReportPeriod &week : weeks) {
        QJsonObject object = figuresJson(week.figures);
        object.insert(QStringLiteral("week_of"), week.start.toString(Qt::ISODate));
        weekArray.append(object);
    }
    for (const ReportGroup &group : groups) {
        QJsonObject object = figuresJson(group.figures);
        object.insert(QStringLiteral("group"), group.name);
        groupArray.append(object);
    }
    return QJsonObject{
        {QStringLiteral("since"), query.since.isValid() ? QJsonValue(query.since.toString(Qt::ISODate)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("until"), query.until.isValid() ? QJsonValue(query.until.toString(Qt::ISODate)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("by"), groupingName(query.by)},
        {QStringLiteral("total"), figuresJson(total)},
        {QStringLiteral("days"), dayArray},
        {QStringLiteral("weeks"), weekArray},
        {QStringLiteral("groups"), groupArray},
    };
}

QString ThroughputReport::groupsCsv() const
{
    QString csv = QStringLiteral("group,") + kFiguresHeader + QLatin1Char('\n');
    csv += QStringLiteral("all,") + figuresCsv(total) + QLatin1Char('\n');
    for (const ReportGroup &group : groups)
        csv += csvField(group.name) + QLatin1Char(',') + figuresCsv(group.figures) + QLatin1Char('\n');
    return csv;
}

QString ThroughputReport::daysCsv() const
{
    QString csv = QStringLiteral("day,") + kFiguresHeader + QLatin1Char('\n');
    for (const ReportPeriod &day : days)
        csv += day.start.toString(Qt::ISODate) + QLatin1Char(',') + figuresCsv(day.figures) + QLatin1Char('\n');
    return csv;
}

Result<QStringList> runsBehind(SqliteConnection &connection, const ReportQuery &query, const QDate &day, const QString &outcome,
                               const QString &group)
{
    auto rows = readRuns(connection, query);
    if (!rows)
        return fail(rows.error());
    std::vector<std::pair<std::int64_t, QString>> matches;
    QString previousId;
    for (const RunRow &run : *rows) {
        if (day.isValid() && dayOf(run.createdMs) != day)
            continue;
        if (!group.isEmpty() && run.group != group)
            continue;
        const bool unfinished = run.status != QLatin1String("succeeded") && run.status != QLatin1String("failed")
                             && run.status != QLatin1String("canceled") && run.status != QLatin1String("lost");
        if (outcome.startsWith(QLatin1String("failed:"))) {
            if (run.status != QLatin1String("failed") || run.cause != outcome.mid(7))
                continue;
        } else if (!outcome.isEmpty() && !(outcome == QLatin1String("unfinished") ? unfinished : run.status == outcome)) {
            continue;
        }
        if (run.id == previousId)
            continue;
        previousId = run.id;
        matches.emplace_back(run.createdMs, run.id);
    }
    std::sort(matches.begin(), matches.end(), [](const auto &a, const auto &b) { return a.first != b.first ? a.first > b.first : a.second > b.second; });
    QStringList ids;
    for (const auto &[created, id] : matches)
        ids << id;
    return ids;
}

} // namespace trainyard
