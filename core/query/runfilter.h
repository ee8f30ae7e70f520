// RunFilter: the query language of the runs table's filter box, e.g.
//   status:failed tag:baseline lr>=1e-3 loss.min<0.2 name~resnet -tag:debug
// Terms are separated by spaces and all must hold. See docs/QUERIES.md for the whole language.
#pragma once

#include "store/runrecord.h"

#include <QList>
#include <QString>

#include <optional>

namespace trainyard {

class RunFilter {
public:
    enum class Op { Equal, NotEqual, Contains, Less, LessEqual, Greater, GreaterEqual };
    enum class Field { Text, Status, Tag, Name, Id, Host, Backend, Notes, Param, Metric };
    enum class MetricStat { Last, Min, Max, Count };

    struct Term {
        bool negated = false;
        Field field = Field::Text;
        QString key; // the param or metric key
        MetricStat stat = MetricStat::Last;
        Op op = Op::Contains;
        QString value;
        std::optional<double> number; // the value as a number, when it is one
        QList<RunStatus> statuses;    // status:a,b
        bool archived = false;        // status:archived (alone or in a list): archived runs match
        int position = 0;             // where the term starts in the query (0-based)
    };

    struct ParseError {
        int position = 0; // 0-based column of the offending token
        int length = 1;
        QString message;                             // names the token and what was expected
        QString display(const QString &query) const; // the message, the query, and a caret line under the token
    };

    // An empty or blank query matches every run.
    static RunFilter parse(const QString &query, ParseError *error = nullptr, bool *ok = nullptr);
    static std::optional<RunFilter> tryParse(const QString &query, ParseError &error);

    // Archived runs match only a query that asks for them (status:archived): the default list leaves them out.
    bool matches(const RunRecord &run) const;
    // True when a term asks for archived runs (status:archived, not negated).
    bool includesArchived() const;
    bool isEmpty() const { return m_terms.isEmpty(); }
    const QList<Term> &terms() const { return m_terms; }

private:
    QList<Term> m_terms;
};

} // namespace trainyard
