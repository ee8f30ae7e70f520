// The filter language: a hand-written tokenizer, because its error messages must point at a column
// (a regular expression or a generic parser would say "no match" for the whole query).
#include "query/runfilter.h"

#include <algorithm>
#include <cmath>

namespace trainyard {

namespace {

struct Token {
    QString text;
    int position = 0;
    bool quoted = false;
};

bool isOperatorChar(QChar c) { return c == u':' || c == u'~' || c == u'=' || c == u'<' || c == u'>' || c == u'!'; }

std::optional<double> toNumber(const QString &text)
{
    bool ok = false;
    const double value = text.toDouble(&ok);
    if (ok)
        return value;
    if (text.compare(QStringLiteral("true"), Qt::CaseInsensitive) == 0)
        return 1.0;
    if (text.compare(QStringLiteral("false"), Qt::CaseInsensitive) == 0)
        return 0.0;
    return std::nullopt;
}

bool compareNumbers(double actual, RunFilter::Op op, double wanted)
{
    if (std::isnan(actual))
        return false;
    switch (op) {
    case RunFilter::Op::Equal:
        return actual == wanted;
    case RunFilter::Op::NotEqual:
        return actual != wanted;
    case RunFilter::Op::Less:
        return actual < wanted;
    case RunFilter::Op::LessEqual:
        return actual <= wanted;
    case RunFilter::Op::Greater:
        return actual > wanted;
    case RunFilter::Op::GreaterEqual:
        return actual >= wanted;
    case RunFilter::Op::Contains:
        return false;
    }
    return false;
}

bool compareText(const QString &actual, RunFilter::Op op, const QString &wanted)
{
    switch (op) {
    case RunFilter::Op::Equal:
        return actual.compare(wanted, Qt::CaseInsensitive) == 0;
    case RunFilter::Op::NotEqual:
        return actual.compare(wanted, Qt::CaseInsensitive) != 0;
    case RunFilter::Op::Contains:
        return actual.contains(wanted, Qt::CaseInsensitive);
    default:
        return false;
    }
}

} // namespace

QString RunFilter::ParseError::display(const QString &query) const
{
    return QStringLiteral("%1\n  %2\n  %3%4")
        .arg(message, query, QString(position, u' '), QString(std::max(1, length), u'^'));
}

std::optional<RunFilter> RunFilter::tryParse(const QString &query, ParseError &error)
{
    bool ok = false;
    RunFilter filter = parse(query, &error, &ok);
    if (!ok)
        return std::nullopt;
    return filter;
}

RunFilter RunFilter::parse(const QString &query, ParseError *errorOut, bool *okOut)
{
    RunFilter filter;
    ParseError error;
    const auto failWith = [&](int position, int length, QString message) {
        error = {position, length, std::move(message)};
        if (errorOut)
            *errorOut = error;
        if (okOut)
            *okOut = false;
        return RunFilter{};
    };

    int i = 0;
    const int n = int(query.size());
    // Reads the quoted text starting at the quote at i (\" for a quote inside), leaving i past the closing
    // quote; nullopt when the quote is never closed.
    const auto readQuoted = [&]() -> std::optional<QString> {
        ++i;
        QString text;
        while (i < n && query[i] != u'"') {
            if (query[i] == u'\\' && i + 1 < n)
                ++i;
            text += query[i++];
        }
        if (i >= n)
            return std::nullopt;
        ++i;
        return text;
    };
    while (i < n) {
        while (i < n && query[i].isSpace())
            ++i;
        if (i >= n)
            break;
        Term term;
        term.position = i;
        if (query[i] == u'-' || (query[i] == u'!' && i + 1 < n && query[i + 1] != u'=')) {
            term.negated = true;
            ++i;
            if (i >= n || query[i].isSpace())
                return failWith(i - 1, 1,
                                QStringLiteral("column %1: '%2' must be followed by a term to exclude, e.g. -tag:debug")
                                    .arg(i)
                                    .arg(query[i - 1]));
        }
        // The field (or a bare word): up to an operator, a space or a quote.
        const int fieldStart = i;
        if (query[i] == u'"') { // a quoted bare word: "two words"
            auto text = readQuoted();
            if (!text)
                return failWith(fieldStart, n - fieldStart,
                                QStringLiteral("column %1: the quote opened here is never closed").arg(fieldStart + 1));
            term.field = Field::Text;
            term.value = *text;
            filter.m_terms << term;
            continue;
        }
        while (i < n && !query[i].isSpace() && !isOperatorChar(query[i]) && query[i] != u'"')
            ++i;
        const QString field = query.mid(fieldStart, i - fieldStart);
        if (i >= n || query[i].isSpace()) { // a bare word: matches name or id
            term.field = Field::Text;
            term.op = Op::Contains;
            term.value = field;
            filter.m_terms << term;
            continue;
        }
        if (query[i] == u'"')
            return failWith(
                i, 1,
                QStringLiteral("column %1: a quote cannot start inside a word; put a space or an operator before it")
                    .arg(i + 1));
        // The operator.
        const int opStart = i;
        while (i < n && isOperatorChar(query[i]))
            ++i;
        const QString opToken = query.mid(opStart, i - opStart);
        static const QList<QPair<QString, Op>> kOps = {
            {QStringLiteral(":"), Op::Equal},         {QStringLiteral("="), Op::Equal},
            {QStringLiteral("=="), Op::Equal},        {QStringLiteral("!="), Op::NotEqual},
            {QStringLiteral("~"), Op::Contains},      {QStringLiteral("<"), Op::Less},
            {QStringLiteral("<="), Op::LessEqual},    {QStringLiteral(">"), Op::Greater},
            {QStringLiteral(">="), Op::GreaterEqual},
        };
        bool knownOp = false;
        for (const auto &[text, op] : kOps) {
            if (text == opToken) {
                term.op = op;
                knownOp = true;
            }
        }
        if (!knownOp)
            return failWith(opStart, int(opToken.size()),
                            QStringLiteral("column %1: unknown operator '%2' (use : = != ~ < <= > >=)")
                                .arg(opStart + 1)
                                .arg(opToken));
        if (field.isEmpty())
            return failWith(
                opStart, int(opToken.size()),
                QStringLiteral("column %1: '%2' needs a field before it, e.g. lr%2...").arg(opStart + 1).arg(opToken));
        // The value: a quoted string or up to the next space.
        const int valueStart = i;
        if (i < n && query[i] == u'"') {
            auto text = readQuoted();
            if (!text)
                return failWith(valueStart, n - valueStart,
                                QStringLiteral("column %1: the quote opened here is never closed").arg(valueStart + 1));
            term.value = *text;
        } else {
            while (i < n && !query[i].isSpace())
                ++i;
            term.value = query.mid(valueStart, i - valueStart);
            if (term.value.isEmpty())
                return failWith(
                    opStart, int(opToken.size()),
                    QStringLiteral("column %1: expected a value after '%2%3'").arg(opStart + 1).arg(field, opToken));
        }
        term.number = toNumber(term.value);

        const QString lower = field.toLower();
        const bool ordering =
            term.op == Op::Less || term.op == Op::LessEqual || term.op == Op::Greater || term.op == Op::GreaterEqual;
        if (lower == u"status" || lower == u"tag" || lower == u"name" || lower == u"id" || lower == u"host"
            || lower == u"backend" || lower == u"notes") {
            term.field = lower == u"status" ? Field::Status
                : lower == u"tag"           ? Field::Tag
                : lower == u"name"          ? Field::Name
                : lower == u"id"            ? Field::Id
                : lower == u"host"          ? Field::Host
                : lower == u"notes"         ? Field::Notes
                                            : Field::Backend;
            if (ordering)
                return failWith(
                    opStart, int(opToken.size()),
                    QStringLiteral(
                        "column %1: '%2' cannot be compared with '%3'; use : (is), != (is not) or ~ (contains)")
                        .arg(opStart + 1)
                        .arg(field, opToken));
            if (term.field == Field::Status && term.op != Op::Contains) {
                int offset = valueStart;
                for (const QString &part : term.value.split(u',')) {
                    if (part.compare(QLatin1String("archived"), Qt::CaseInsensitive) == 0) {
                        term.archived = true;
                        offset += int(part.size()) + 1;
                        continue;
                    }
                    auto status = runStatusFromString(part.toLower());
                    if (!status)
                        return failWith(
                            offset, int(part.size()),
                            QStringLiteral("column %1: unknown status '%2' (queued, starting, running, restarting, "
                                           "succeeded, failed, canceled, lost, stopped-early, archived)")
                                .arg(offset + 1)
                                .arg(part));
                    term.statuses << *status;
                    offset += int(part.size()) + 1;
                }
            }
        } else {
            // A metric statistic (key.min, key.max, key.last, key.count) or else a param.
            static const QList<QPair<QString, MetricStat>> kStats = {{QStringLiteral(".last"), MetricStat::Last},
                                                                     {QStringLiteral(".min"), MetricStat::Min},
                                                                     {QStringLiteral(".max"), MetricStat::Max},
                                                                     {QStringLiteral(".count"), MetricStat::Count}};
            term.field = Field::Param;
            term.key = field;
            for (const auto &[suffix, stat] : kStats) {
                if (field.size() > suffix.size() && field.endsWith(suffix)) {
                    term.field = Field::Metric;
                    term.key = field.chopped(suffix.size());
                    term.stat = stat;
                }
            }
            if (term.field == Field::Metric && term.op == Op::Contains)
                return failWith(
                    opStart, 1,
                    QStringLiteral("column %1: a metric is a number: compare it with = != < <= > >=").arg(opStart + 1));
            if ((term.field == Field::Metric || ordering) && !term.number)
                return failWith(valueStart, int(term.value.size()),
                                QStringLiteral("column %1: expected a number after '%2%3', got '%4'")
                                    .arg(valueStart + 1)
                                    .arg(field, opToken, term.value));
        }
        filter.m_terms << term;
    }
    if (okOut)
        *okOut = true;
    return filter;
}

bool RunFilter::includesArchived() const
{
    return std::any_of(m_terms.cbegin(), m_terms.cend(), [](const Term &term) {
        return term.field == Field::Status && term.archived && term.op == Op::Equal && !term.negated;
    });
}

bool RunFilter::matches(const RunRecord &run) const
{
    if (run.isArchived() && !includesArchived())
        return false;
    for (const Term &term : m_terms) {
        bool holds = false;
        switch (term.field) {
        case Field::Text:
            holds =
                run.name.contains(term.value, Qt::CaseInsensitive) || run.id.contains(term.value, Qt::CaseInsensitive);
            break;
        case Field::Status:
            if (term.op == Op::Contains)
                holds = toString(run.status).contains(term.value, Qt::CaseInsensitive);
            else // archived is a flag beside the status: status:failed,archived is either
                holds = (term.statuses.contains(run.status) || (term.archived && run.isArchived()))
                    == (term.op == Op::Equal);
            break;
        case Field::Tag:
            if (term.op == Op::NotEqual) {
                holds = !run.tags.contains(term.value, Qt::CaseInsensitive);
            } else {
                for (const QString &tag : run.tags)
                    holds = holds || compareText(tag, term.op, term.value);
            }
            break;
        case Field::Name:
            holds = compareText(run.name, term.op, term.value);
            break;
        case Field::Id:
            holds = term.op == Op::Equal ? run.id.startsWith(term.value, Qt::CaseInsensitive)
                                         : compareText(run.id, term.op, term.value);
            break;
        case Field::Host:
            holds = compareText(run.host, term.op, term.value);
            break;
        case Field::Backend:
            holds = compareText(run.backend, term.op, term.value);
            break;
        case Field::Notes:
            holds = compareText(run.notes(), term.op, term.value);
            break;
        case Field::Param: {
            auto found = run.params.constFind(term.key);
            if (found == run.params.constEnd())
                break; // a run without the param matches no comparison on it
            const auto actual = toNumber(found.value());
            if (term.op == Op::Contains)
                holds = found.value().contains(term.value, Qt::CaseInsensitive);
            else if (actual && term.number)
                holds = compareNumbers(*actual, term.op, *term.number);
            else
                holds = compareText(found.value(), term.op, term.value);
            break;
        }
        case Field::Metric: {
            auto found = run.metrics.constFind(term.key);
            if (found == run.metrics.constEnd())
                break;
            const double actual = term.stat == MetricStat::Last ? found->last
                : term.stat == MetricStat::Min                  ? found->min
                : term.stat == MetricStat::Max                  ? found->max
                                                                : double(found->count);
            holds = compareNumbers(actual, term.op, *term.number);
            break;
        }
        }
        if (holds == term.negated)
            return false;
    }
    return true;
}

} // namespace trainyard
