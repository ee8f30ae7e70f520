// One pass over the runs launched in the range (one row each, the writer keeps their time lines), folded into
// the total, the days, the weeks and the groups at once.
#include "report/throughputreport.h"

#include "csv.h"
#include "store/sqlite.h"

#include <QHash>
#include <QJsonArray>
#include <QMap>

#include <algorithm>
#include <cmath>
#include <map>

namespace trainyard {

namespace {

enum class Outcome { Succeeded, Failed, Canceled, Lost, StoppedEarly, Unfinished };

Outcome outcomeOf(const QString &status)
{
    if (status == QLatin1String("succeeded"))
        return Outcome::Succeeded;
    if (status == QLatin1String("failed"))
        return Outcome::Failed;
    if (status == QLatin1String("canceled"))
        return Outcome::Canceled;
    if (status == QLatin1String("lost"))
        return Outcome::Lost;
    if (status == QLatin1String("stopped-early"))
        return Outcome::StoppedEarly;
    return Outcome::Unfinished;
}

struct RunRow {
    QByteArray id; // UTF-8, as SQLite holds it: matched against other tables' run ids without converting
    std::int64_t createdMs = 0;
    Outcome outcome = Outcome::Unfinished; // read once: a run is added to four sets of figures
    int gpus = 0;
    std::int64_t activeMs = 0;
    std::optional<std::int64_t> activeSinceMs;
    std::optional<std::int64_t> queuedMs;
    std::optional<std::int64_t> firstActiveMs;
    std::optional<std::int64_t> firstMetricMs;
    int restarts = 0;
    double gpuUtilizationSum = 0; // over the run's GPU telemetry samples
    std::int64_t gpuUtilizationSamples = 0;
    QString cause;
    QString group;
};

// Accumulates one set of figures; finish() turns the collected durations into statistics.
struct FiguresBuilder {
    ReportFigures figures;
    std::vector<std::int64_t> waits;
    std::vector<std::int64_t> firstSteps;
    QHash<QString, std::int64_t> causes;
    std::int64_t gpuMs = 0; // summed as integers: the same total whatever order the runs come in
    double utilizationSum = 0;
    std::int64_t utilizationSamples = 0;

    void add(const RunRow &run, std::int64_t nowMs)
    {
        ++figures.launched;
        figures.started += run.firstActiveMs.has_value();
        switch (run.outcome) {
        case Outcome::Succeeded:
            ++figures.succeeded;
            break;
        case Outcome::Failed:
            ++figures.failed, ++causes[run.cause];
            break;
        case Outcome::Canceled:
            ++figures.canceled;
            break;
        case Outcome::Lost:
            ++figures.lost;
            break;
        case Outcome::StoppedEarly:
            ++figures.stoppedEarly;
            break;
        case Outcome::Unfinished:
            ++figures.unfinished;
            break;
        }
        const std::int64_t active =
            run.activeMs + (run.activeSinceMs ? std::max<std::int64_t>(0, nowMs - *run.activeSinceMs) : 0);
        gpuMs += std::int64_t(run.gpus) * active;
        figures.restarts += run.restarts;
        if (run.queuedMs && run.firstActiveMs)
            waits.push_back(*run.firstActiveMs - *run.queuedMs);
        if (run.firstActiveMs && run.firstMetricMs)
            firstSteps.push_back(*run.firstMetricMs - *run.firstActiveMs);
        utilizationSum += run.gpuUtilizationSum;
        utilizationSamples += run.gpuUtilizationSamples;
    }

    ReportFigures finish()
    {
        figures.gpuHours = double(gpuMs) / 3.6e6;
        figures.queueWait = DurationStats::of(std::move(waits));
        figures.timeToFirstStep = DurationStats::of(std::move(firstSteps));
        if (utilizationSamples > 0)
            figures.gpuUtilizationPercent = utilizationSum / double(utilizationSamples);
        for (auto it = causes.cbegin(); it != causes.cend(); ++it)
            figures.failureCauses.append({it.key(), it.value()});
        std::sort(figures.failureCauses.begin(), figures.failureCauses.end(), [](const auto &a, const auto &b) {
            return a.second != b.second ? a.second > b.second : a.first < b.first;
        });
        return figures;
    }
};

QByteArray columnUtf8(const SqliteStatement &statement, int column)
{
    int bytes = 0;
    const auto *text = static_cast<const char *>(statement.columnBlob(column, bytes));
    return QByteArray(text, bytes);
}

QDate dayOf(std::int64_t ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).date(); }
QDate weekOf(std::int64_t ms)
{
    const QDate day = dayOf(ms);
    return day.addDays(1 - day.dayOfWeek());
}

std::int64_t rangeStartMs(const ReportQuery &query)
{
    return query.since.isValid() ? query.since.toMSecsSinceEpoch() : std::numeric_limits<std::int64_t>::min();
}
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
    case ReportGrouping::Project:
        return QStringLiteral("r.project");
    case ReportGrouping::User:
        return QStringLiteral("r.user");
    case ReportGrouping::Backend:
        return QStringLiteral("r.backend");
    case ReportGrouping::Host:
        return QStringLiteral("r.host");
    case ReportGrouping::Tag:
    case ReportGrouping::None:
        break;
    }
    return QStringLiteral("''");
}

const QString kNoTag = QStringLiteral("(no tag)");
const QString kUnnamed = QStringLiteral("(none)");

// Every run launched in the range, one row each, with its group (tags: see groupRunsByTag). The
// unary + keeps SQLite off the created_ms index: for a range holding most runs, looking each row up through the
// index took 340 ms at 100,000 runs where reading the table in order takes 40 ms (bench_report).
Result<std::vector<RunRow>> readRuns(SqliteConnection &connection, const ReportQuery &query)
{
    const QString groupExpression = groupColumn(query.by);
    // A failed run's cause is its first failure's; a run that failed before it had ranks has no exit summary.
    const QString sql =
        QStringLiteral(
            "SELECT r.id, r.created_ms, r.status, r.gpus, r.active_ms, r.active_since_ms, r.queued_ms, "
            "r.first_active_ms,"
            " r.first_metric_ms, r.restarts, r.gpu_util_sum, r.gpu_util_samples,"
            " CASE WHEN r.status = 'failed' THEN coalesce(json_extract(r.exit_summary, '$.first_failure.cause'),"
            "   CASE WHEN r.exit_summary IS NULL OR r.exit_summary = '' THEN 'launch' ELSE 'unknown' END) ELSE '' END,"
            " %1 FROM runs r WHERE +r.created_ms >= ?1 AND +r.created_ms < ?2")
            .arg(groupExpression);
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
    if (auto stepped = select->forEachRow([&] {
            RunRow run;
            run.id = columnUtf8(*select, 0);
            run.createdMs = select->columnInt(1);
            run.outcome = outcomeOf(select->columnText(2));
            run.gpus = int(select->columnInt(3));
            run.activeMs = select->columnInt(4);
            run.activeSinceMs = optionalInt(5);
            run.queuedMs = optionalInt(6);
            run.firstActiveMs = optionalInt(7);
            run.firstMetricMs = optionalInt(8);
            run.restarts = int(select->columnInt(9));
            run.gpuUtilizationSum = select->columnDouble(10);
            run.gpuUtilizationSamples = select->columnInt(11);
            run.cause = select->columnText(12);
            run.group = select->columnText(13);
            if (run.group.isEmpty() && query.by != ReportGrouping::Tag)
                run.group = kUnnamed;
            rows.push_back(std::move(run));
        });
        !stepped)
        return fail(stepped.error());
    return rows;
}

// For tag grouping: which runs carry which tag, from one pass over the tags table. A LEFT JOIN looked each
// run's tags up one by one and, with a row per tag, cost 390 ms at 100,000 runs (bench_report); ids and tags
// are matched as SQLite's UTF-8 bytes, and each distinct tag becomes a string once.
struct TagMemberships {
    QStringList tags;                                 // distinct tags; the last is "(no tag)"
    std::vector<std::pair<std::size_t, int>> entries; // (row, index into tags)
};

Result<TagMemberships> groupRunsByTag(SqliteConnection &connection, const std::vector<RunRow> &rows)
{
    QHash<QByteArray, std::size_t> rowOfRun;
    rowOfRun.reserve(qsizetype(rows.size()));
    for (std::size_t i = 0; i < rows.size(); ++i)
        rowOfRun.insert(rows[i].id, i);
    QHash<QByteArray, int> tagIndex;
    std::vector<bool> tagged(rows.size(), false);
    TagMemberships memberships;
    auto select = connection.prepare("SELECT run_id, tag FROM tags");
    if (!select)
        return fail(select.error());
    if (auto stepped = select->forEachRow([&] {
            int idBytes = 0, tagBytes = 0;
            const auto *id = static_cast<const char *>(select->columnBlob(0, idBytes));
            const auto found = rowOfRun.constFind(QByteArray::fromRawData(id, idBytes));
            if (found == rowOfRun.constEnd())
                return; // a run outside the range
            const auto *tag = static_cast<const char *>(select->columnBlob(1, tagBytes));
            auto index = tagIndex.constFind(QByteArray::fromRawData(tag, tagBytes));
            if (index == tagIndex.constEnd()) {
                index = tagIndex.insert(QByteArray(tag, tagBytes), int(memberships.tags.size()));
                memberships.tags << QString::fromUtf8(tag, tagBytes);
            }
            memberships.entries.emplace_back(*found, *index);
            tagged[*found] = true;
        });
        !stepped)
        return fail(stepped.error());
    const int noTag = int(memberships.tags.size());
    memberships.tags << kNoTag;
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (!tagged[i])
            memberships.entries.emplace_back(i, noTag);
    return memberships;
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
        {QStringLiteral("stopped_early"), qint64(figures.stoppedEarly)},
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

QString figuresCsv(const ReportFigures &f)
{
    return QStringList{QString::number(f.launched),
                       QString::number(f.started),
                       QString::number(f.succeeded),
                       QString::number(f.failed),
                       QString::number(f.canceled),
                       QString::number(f.lost),
                       QString::number(f.unfinished),
                       csvNumber(f.successRate()),
                       QString::number(f.gpuHours, 'g', 10),
                       QString::number(f.restarts),
                       csvNumber(f.queueWait.medianS),
                       csvNumber(f.queueWait.p90S),
                       csvNumber(f.timeToFirstStep.medianS),
                       csvNumber(f.timeToFirstStep.p90S),
                       csvNumber(f.gpuUtilizationPercent),
                       csvField(f.failureCauses.isEmpty() ? QString() : f.failureCauses.first().first),
                       QString::number(f.stoppedEarly)}
        .join(QLatin1Char(','));
}

const QString kFiguresHeader =
    QStringLiteral("launched,started,succeeded,failed,canceled,lost,unfinished,success_rate,gpu_hours,restarts,"
                   "queue_wait_median_s,queue_wait_p90_s,first_step_median_s,first_step_p90_s,"
                   "gpu_utilization_percent,top_failure_cause,stopped_early");

} // namespace

QString groupingName(ReportGrouping grouping)
{
    switch (grouping) {
    case ReportGrouping::None:
        return QStringLiteral("none");
    case ReportGrouping::Project:
        return QStringLiteral("project");
    case ReportGrouping::User:
        return QStringLiteral("user");
    case ReportGrouping::Tag:
        return QStringLiteral("tag");
    case ReportGrouping::Backend:
        return QStringLiteral("backend");
    case ReportGrouping::Host:
        return QStringLiteral("host");
    }
    return {};
}

std::optional<ReportGrouping> parseGrouping(const QString &text)
{
    for (ReportGrouping grouping : {ReportGrouping::None, ReportGrouping::Project, ReportGrouping::User,
                                    ReportGrouping::Tag, ReportGrouping::Backend, ReportGrouping::Host})
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
    // Selection, not a full sort: the order statistics are all that is needed.
    const std::size_t n = millis.size();
    const auto nth = [&](std::size_t index) {
        std::nth_element(millis.begin(), millis.begin() + std::ptrdiff_t(index), millis.end());
        return double(millis[index]);
    };
    const double upper = nth(n / 2);
    const double lower =
        n % 2 ? upper : double(*std::max_element(millis.begin(), millis.begin() + std::ptrdiff_t(n / 2)));
    stats.medianS = (lower + upper) / 2 / 1000.0;
    const std::size_t rank = std::max<std::size_t>(std::size_t(std::ceil(0.9 * double(n))), 1); // nearest rank, 1-based
    stats.p90S = nth(rank - 1) / 1000.0;
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
    const std::int64_t nowMs = nowMsOf(query);

    FiguresBuilder total;
    std::map<QDate, FiguresBuilder> days, weeks;
    QHash<QString, FiguresBuilder> groups;
    for (const RunRow &run : *rows) {
        total.add(run, nowMs);
        days[dayOf(run.createdMs)].add(run, nowMs);
        weeks[weekOf(run.createdMs)].add(run, nowMs);
        if (query.by != ReportGrouping::None && query.by != ReportGrouping::Tag)
            groups[run.group].add(run, nowMs);
    }
    if (query.by == ReportGrouping::Tag) {
        // A run with several tags counts once in each of them.
        auto memberships = groupRunsByTag(connection, *rows);
        if (!memberships)
            return fail(memberships.error());
        std::vector<FiguresBuilder> byTag(std::size_t(memberships->tags.size()));
        for (const auto &[row, tag] : memberships->entries)
            byTag[std::size_t(tag)].add((*rows)[row], nowMs);
        for (std::size_t tag = 0; tag < byTag.size(); ++tag)
            if (byTag[tag].figures.launched > 0)
                groups.insert(memberships->tags.at(qsizetype(tag)), std::move(byTag[tag]));
    }

    ThroughputReport report;
    report.query = query;
    report.total = total.finish();
    for (auto &[day, builder] : days)
        report.days.append({day, builder.finish()});
    for (auto &[week, builder] : weeks)
        report.weeks.append({week, builder.finish()});
    for (auto it = groups.begin(); it != groups.end(); ++it)
        report.groups.append({it.key(), it->finish()});
    std::sort(report.groups.begin(), report.groups.end(), [](const ReportGroup &a, const ReportGroup &b) {
        if (a.figures.gpuHours != b.figures.gpuHours)
            return a.figures.gpuHours > b.figures.gpuHours;
        return a.figures.launched != b.figures.launched ? a.figures.launched > b.figures.launched : a.name < b.name;
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
        {QStringLiteral("since"),
         query.since.isValid() ? QJsonValue(query.since.toString(Qt::ISODate)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("until"),
         query.until.isValid() ? QJsonValue(query.until.toString(Qt::ISODate)) : QJsonValue(QJsonValue::Null)},
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

Result<QStringList> runsBehind(SqliteConnection &connection, const ReportQuery &query, const QDate &day,
                               const QString &outcome, const QString &group)
{
    auto rows = readRuns(connection, query);
    if (!rows)
        return fail(rows.error());
    std::vector<bool> inGroup(rows->size(), group.isEmpty());
    if (!group.isEmpty() && query.by == ReportGrouping::Tag) {
        auto memberships = groupRunsByTag(connection, *rows);
        if (!memberships)
            return fail(memberships.error());
        for (const auto &[row, tag] : memberships->entries)
            if (memberships->tags.at(tag) == group)
                inGroup[row] = true;
    } else if (!group.isEmpty()) {
        for (std::size_t i = 0; i < rows->size(); ++i)
            inGroup[i] = (*rows)[i].group == group;
    }
    std::vector<std::pair<std::int64_t, QByteArray>> matches;
    for (std::size_t i = 0; i < rows->size(); ++i) {
        const RunRow &run = (*rows)[i];
        if (day.isValid() && dayOf(run.createdMs) != day)
            continue;
        if (!inGroup[i])
            continue;
        if (outcome.startsWith(QLatin1String("failed:"))) {
            if (run.outcome != Outcome::Failed || run.cause != outcome.mid(7))
                continue;
        } else if (!outcome.isEmpty() && run.outcome != outcomeOf(outcome)) {
            continue;
        }
        matches.emplace_back(run.createdMs, run.id);
    }
    std::sort(matches.begin(), matches.end(), [](const auto &a, const auto &b) {
        return a.first != b.first ? a.first > b.first : a.second > b.second;
    });
    QStringList ids;
    for (const auto &[created, id] : matches)
        ids << QString::fromUtf8(id);
    return ids;
}

} // namespace trainyard
