// ThroughputReport: how fast a team turns GPU time into results, from the recorded state changes of its runs
// (the time line the writer keeps per run), over a date range, by day and week, and by project, user, tag,
// backend or host. Definitions: docs/REPORT.md.
#pragma once

#include "result.h"

#include <QDate>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>
#include <vector>

namespace trainyard {

class SqliteConnection;

enum class ReportGrouping { None, Project, User, Tag, Backend, Host };
QString groupingName(ReportGrouping grouping);
std::optional<ReportGrouping> parseGrouping(const QString &text);

struct ReportQuery {
    QDateTime since; // runs launched at or after (invalid: from the first run)
    QDateTime until; // runs launched before (invalid: up to now)
    ReportGrouping by = ReportGrouping::None;
    QDateTime now; // for the active time of runs still running (invalid: the current time)
};

// Median (the mean of the two middle values for an even count) and 90th percentile (nearest rank), seconds.
struct DurationStats {
    std::int64_t count = 0;
    std::optional<double> medianS;
    std::optional<double> p90S;
    static DurationStats of(std::vector<std::int64_t> millis);
};

struct ReportFigures {
    std::int64_t launched = 0;
    std::int64_t started = 0; // became active (ranks started) at least once
    std::int64_t succeeded = 0;
    std::int64_t failed = 0;
    std::int64_t canceled = 0;
    std::int64_t stoppedEarly = 0; // ended by a sweep's early-stopping rule: neither a success nor a failure
    std::int64_t lost = 0;
    std::int64_t unfinished = 0; // queued or active at `now`
    double gpuHours = 0;
    std::int64_t restarts = 0;
    DurationStats queueWait;                           // first queued -> first active
    DurationStats timeToFirstStep;                     // first active -> first training metric point
    std::optional<double> gpuUtilizationPercent;       // mean over GPU telemetry samples, where telemetry exists
    QList<QPair<QString, std::int64_t>> failureCauses; // most frequent first

    // succeeded / (succeeded + failed + lost); canceled runs are a choice, not a failure. nullopt before any ended.
    std::optional<double> successRate() const;
};

struct ReportPeriod {
    QDate start; // the day, or the Monday of the ISO week (UTC)
    ReportFigures figures;
};

struct ReportGroup {
    QString name;
    ReportFigures figures;
};

struct ThroughputReport {
    ReportQuery query;
    ReportFigures total;
    QList<ReportPeriod> days; // every day of the range with a launched run, oldest first
    QList<ReportPeriod> weeks;
    QList<ReportGroup> groups; // by the query's grouping, most GPU-hours first; empty for None

    QJsonObject toJson() const;
    // One row per group (the first, "all", is the total): the figures of the group table.
    QString groupsCsv() const;
    // One row per day: outcomes, GPU-hours, queue wait and time to first step.
    QString daysCsv() const;
};

Result<ThroughputReport> computeThroughputReport(SqliteConnection &connection, const ReportQuery &query);

// The runs behind one bar: launched on `day` (invalid: any day of the range), with `outcome` (a run status
// name, "unfinished", "failed:CAUSE", or empty for any) and in `group` (empty for any). Newest first.
Result<QStringList> runsBehind(SqliteConnection &connection, const ReportQuery &query, const QDate &day,
                               const QString &outcome, const QString &group);

} // namespace trainyard
