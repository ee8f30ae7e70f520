// MLflow's search filter and order_by for runs/search and experiments/search: clauses joined by AND, such as
// `metrics.loss < 0.5 and params.lr = '0.1' and tags."team" LIKE 'vis%' and attributes.status = 'FINISHED'`.
#pragma once

#include "result.h"
#include "store/trackingstore.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace trainyard {

struct MlflowIdentifier {
    enum class Kind { Metric, Param, Tag, Attribute };
    Kind kind = Kind::Attribute;
    QString key; // for attributes: status, run_name, run_id, user_id, artifact_uri, start_time, end_time, name
};

struct MlflowClause {
    MlflowIdentifier identifier;
    QString comparator; // =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN (upper case)
    QStringList texts;  // the string value(s); one unless IN / NOT IN
    double number = 0;  // the numeric value, for metrics and times
    bool numeric = false;
};

struct MlflowOrder {
    MlflowIdentifier identifier;
    bool ascending = true;
};

// A parsed filter; an empty filter matches everything. Errors are INVALID_PARAMETER_VALUE with the column.
class MlflowFilter {
public:
    static Result<MlflowFilter> parse(const QString &filter);
    bool matches(const TrackedRun &run, const QString &artifactUri) const;
    bool matches(const TrackingExperiment &experiment) const;
    const QList<MlflowClause> &clauses() const { return m_clauses; }

private:
    QList<MlflowClause> m_clauses;
};

// Parses order_by entries ("metrics.loss DESC", "attributes.start_time"); sorts runs by them, then by start time
// (newest first) and run id, as MLflow does.
Result<QList<MlflowOrder>> parseMlflowOrderBy(const QStringList &orderBy);
void sortTrackedRuns(QList<TrackedRun> &runs, const QList<MlflowOrder> &order);

// SQL LIKE on text: % any run of characters, _ one character; case-insensitive when asked (ILIKE).
bool likeMatches(const QString &text, const QString &pattern, bool caseInsensitive);

} // namespace trainyard
