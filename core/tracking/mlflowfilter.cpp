// MLflow's search filter: a tokenizer, one reader per clause part, and evaluation against stored runs.
#include "tracking/mlflowfilter.h"

#include "tracking/mlflowjson.h"

#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

namespace trainyard {

namespace {

Error invalid(const QString &message) { return failWithCode(mlflowcode::kInvalidParameterValue, message); }

// Reads one clause after another from the filter text; `m_at` is the position of the next character.
class FilterReader {
public:
    explicit FilterReader(const QString &text) : m_text(text) { }

    void skipSpace()
    {
        while (m_at < m_text.size() && m_text[m_at].isSpace())
            ++m_at;
    }
    bool atEnd()
    {
        skipSpace();
        return m_at >= m_text.size();
    }
    qsizetype position() const { return m_at + 1; }

    // A bare word: letters, digits, '_', '.', '-', '/', ':'.
    QString word()
    {
        skipSpace();
        const qsizetype start = m_at;
        while (m_at < m_text.size()) {
            const QChar c = m_text[m_at];
            if (!(c.isLetterOrNumber() || c == QLatin1Char('_') || c == QLatin1Char('.') || c == QLatin1Char('-')
                  || c == QLatin1Char('/') || c == QLatin1Char(':')))
                break;
            ++m_at;
        }
        return m_text.mid(start, m_at - start);
    }

    // Text in single quotes, double quotes or backticks; nullopt when the next character is no quote.
    Result<std::optional<QString>> quoted()
    {
        skipSpace();
        if (m_at >= m_text.size())
            return std::optional<QString>();
        const QChar quote = m_text[m_at];
        if (quote != QLatin1Char('\'') && quote != QLatin1Char('"') && quote != QLatin1Char('`'))
            return std::optional<QString>();
        const qsizetype start = ++m_at;
        while (m_at < m_text.size() && m_text[m_at] != quote)
            ++m_at;
        if (m_at >= m_text.size())
            return invalid(
                QStringLiteral("Invalid filter: unterminated %1 starting at column %2").arg(quote).arg(start));
        return std::optional<QString>(m_text.mid(start, m_at++ - start));
    }

    bool consume(QChar c)
    {
        skipSpace();
        if (m_at < m_text.size() && m_text[m_at] == c) {
            ++m_at;
            return true;
        }
        return false;
    }

    QString comparator()
    {
        skipSpace();
        static const char *const kSymbols[] = {"!=", "<=", ">=", "<>", "=", "<", ">"};
        for (const char *symbol : kSymbols) {
            if (m_text.mid(m_at, qsizetype(std::strlen(symbol))) == QLatin1String(symbol)) {
                m_at += qsizetype(std::strlen(symbol));
                return QString::fromLatin1(symbol) == QLatin1String("<>") ? QStringLiteral("!=")
                                                                          : QString::fromLatin1(symbol);
            }
        }
        const qsizetype before = m_at;
        QString first = word().toUpper();
        if (first == QLatin1String("NOT")) {
            if (word().toUpper() == QLatin1String("IN"))
                return QStringLiteral("NOT IN");
            m_at = before;
            return {};
        }
        if (first == QLatin1String("LIKE") || first == QLatin1String("ILIKE") || first == QLatin1String("IN"))
            return first;
        m_at = before;
        return {};
    }

private:
    const QString &m_text;
    qsizetype m_at = 0;
};

Result<MlflowIdentifier> identifierFrom(FilterReader &reader)
{
    const qsizetype column = reader.position();
    QString prefix = reader.word();
    QString key;
    if (prefix.isEmpty())
        return invalid(
            QStringLiteral("Invalid filter at column %1: expected an identifier such as metrics.loss").arg(column));
    const qsizetype dot = prefix.indexOf(QLatin1Char('.'));
    if (dot >= 0) {
        key = prefix.mid(dot + 1);
        prefix = prefix.left(dot);
        if (key.isEmpty()) { // metrics."my key" or metrics.`my key`
            auto quotedKey = reader.quoted();
            if (!quotedKey)
                return fail(quotedKey.error());
            if (!quotedKey->has_value())
                return invalid(
                    QStringLiteral("Invalid filter at column %1: '%2.' needs a key").arg(column).arg(prefix));
            key = **quotedKey;
        }
    } else {
        key = prefix; // a bare attribute name: status, run_name, ...
        prefix = QStringLiteral("attributes");
    }
    MlflowIdentifier identifier;
    identifier.key = key;
    const QString type = prefix.toLower();
    if (type == QLatin1String("metrics") || type == QLatin1String("metric"))
        identifier.kind = MlflowIdentifier::Kind::Metric;
    else if (type == QLatin1String("params") || type == QLatin1String("param") || type == QLatin1String("parameters"))
        identifier.kind = MlflowIdentifier::Kind::Param;
    else if (type == QLatin1String("tags") || type == QLatin1String("tag"))
        identifier.kind = MlflowIdentifier::Kind::Tag;
    else if (type == QLatin1String("attributes") || type == QLatin1String("attribute") || type == QLatin1String("attr")
             || type == QLatin1String("run"))
        identifier.kind = MlflowIdentifier::Kind::Attribute;
    else
        return invalid(QStringLiteral("Invalid entity type '%1' at column %2. Valid values are "
                                      "['metric', 'parameter', 'tag', 'attribute']")
                           .arg(prefix)
                           .arg(column));
    if (identifier.kind == MlflowIdentifier::Kind::Attribute) {
        static const QStringList kAttributes{
            QStringLiteral("status"),        QStringLiteral("run_name"),       QStringLiteral("run_id"),
            QStringLiteral("user_id"),       QStringLiteral("artifact_uri"),   QStringLiteral("start_time"),
            QStringLiteral("end_time"),      QStringLiteral("created"),        QStringLiteral("name"),
            QStringLiteral("experiment_id"), QStringLiteral("lifecycle_stage")};
        identifier.key = identifier.key.toLower();
        if (identifier.key == QLatin1String("created"))
            identifier.key = QStringLiteral("start_time");
        if (!kAttributes.contains(identifier.key))
            return invalid(QStringLiteral("Invalid attribute key '%1' at column %2. Valid keys are %3")
                               .arg(key)
                               .arg(column)
                               .arg(kAttributes.join(QStringLiteral(", "))));
    }
    return identifier;
}

bool isNumericAttribute(const QString &key)
{
    return key == QLatin1String("start_time") || key == QLatin1String("end_time");
}

Result<MlflowClause> clauseFrom(FilterReader &reader)
{
    auto identifier = identifierFrom(reader);
    if (!identifier)
        return fail(identifier.error());
    MlflowClause clause;
    clause.identifier = *identifier;
    const qsizetype column = reader.position();
    clause.comparator = reader.comparator();
    if (clause.comparator.isEmpty())
        return invalid(
            QStringLiteral("Invalid filter at column %1: expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN)")
                .arg(column));
    const bool numericSide = identifier->kind == MlflowIdentifier::Kind::Metric
        || (identifier->kind == MlflowIdentifier::Kind::Attribute && isNumericAttribute(identifier->key));
    const bool ordering =
        clause.comparator.startsWith(QLatin1Char('<')) || clause.comparator.startsWith(QLatin1Char('>'));
    if (numericSide
        && (clause.comparator == QLatin1String("LIKE") || clause.comparator == QLatin1String("ILIKE")
            || clause.comparator.endsWith(QLatin1String("IN"))))
        return invalid(
            QStringLiteral("Invalid comparator '%1' for %2 at column %3: only =, !=, <, <=, >, >= compare numbers")
                .arg(clause.comparator, identifier->key)
                .arg(column));
    if (!numericSide && ordering)
        return invalid(
            QStringLiteral("Invalid comparator '%1' for '%2' at column %3: only =, !=, LIKE, ILIKE (and IN for run_id) "
                           "compare text")
                .arg(clause.comparator, identifier->key)
                .arg(column));
    if (clause.comparator.endsWith(QLatin1String("IN"))) {
        if (!reader.consume(QLatin1Char('(')))
            return invalid(
                QStringLiteral("Invalid filter at column %1: IN needs a list in parentheses").arg(reader.position()));
        do {
            auto value = reader.quoted();
            if (!value)
                return fail(value.error());
            if (!value->has_value())
                return invalid(
                    QStringLiteral("Invalid filter at column %1: expected a quoted string").arg(reader.position()));
            clause.texts.append(**value);
        } while (reader.consume(QLatin1Char(',')));
        if (!reader.consume(QLatin1Char(')')))
            return invalid(QStringLiteral("Invalid filter at column %1: expected ')'").arg(reader.position()));
        return clause;
    }
    const qsizetype valueColumn = reader.position();
    auto value = reader.quoted();
    if (!value)
        return fail(value.error());
    QString text = value->has_value() ? **value : reader.word();
    if (text.isEmpty() && !value->has_value())
        return invalid(QStringLiteral("Invalid filter at column %1: expected a value").arg(valueColumn));
    if (numericSide) {
        bool ok = false;
        clause.number = text.toDouble(&ok);
        if (!ok)
            return invalid(QStringLiteral("Invalid filter at column %1: expected a number for %2, got '%3'")
                               .arg(valueColumn)
                               .arg(identifier->key, text));
        clause.numeric = true;
    } else if (!value->has_value()) {
        return invalid(QStringLiteral("Invalid filter at column %1: the value for '%2' must be a quoted string, got %3")
                           .arg(valueColumn)
                           .arg(identifier->key, text));
    }
    clause.texts = {text};
    return clause;
}

bool compareNumber(double left, const MlflowClause &clause)
{
    if (std::isnan(left))
        return clause.comparator == QLatin1String("!=");
    const QString &op = clause.comparator;
    if (op == QLatin1String("="))
        return left == clause.number;
    if (op == QLatin1String("!="))
        return left != clause.number;
    if (op == QLatin1String("<"))
        return left < clause.number;
    if (op == QLatin1String("<="))
        return left <= clause.number;
    if (op == QLatin1String(">"))
        return left > clause.number;
    return left >= clause.number;
}

bool compareText(const QString &left, const MlflowClause &clause)
{
    const QString &op = clause.comparator;
    if (op == QLatin1String("="))
        return left == clause.texts.value(0);
    if (op == QLatin1String("!="))
        return left != clause.texts.value(0);
    if (op == QLatin1String("LIKE"))
        return likeMatches(left, clause.texts.value(0), false);
    if (op == QLatin1String("ILIKE"))
        return likeMatches(left, clause.texts.value(0), true);
    if (op == QLatin1String("IN"))
        return clause.texts.contains(left);
    return !clause.texts.contains(left); // NOT IN
}

std::optional<QString> pairValue(const QList<KeyValue> &pairs, const QString &key)
{
    for (const KeyValue &pair : pairs)
        if (pair.key == key)
            return pair.value;
    return std::nullopt;
}

std::optional<double> metricValue(const TrackedRun &run, const QString &key)
{
    for (const TrackedMetric &metric : run.metrics)
        if (metric.key == key)
            return metric.value;
    return std::nullopt;
}

std::optional<QString> attributeText(const TrackedRun &run, const QString &key, const QString &artifactUri)
{
    if (key == QLatin1String("status"))
        return QString::fromLatin1(mlflowjson::mlflowStatus(run.status));
    if (key == QLatin1String("run_name") || key == QLatin1String("name"))
        return run.name;
    if (key == QLatin1String("run_id"))
        return run.id;
    if (key == QLatin1String("user_id"))
        return run.user;
    if (key == QLatin1String("artifact_uri"))
        return artifactUri;
    if (key == QLatin1String("experiment_id"))
        return QString::number(run.experimentId);
    if (key == QLatin1String("lifecycle_stage"))
        return QStringLiteral("active");
    return std::nullopt;
}

std::optional<double> attributeNumber(const TrackedRun &run, const QString &key)
{
    if (key == QLatin1String("start_time"))
        return double(run.startMs);
    if (key == QLatin1String("end_time") && run.endMs)
        return double(*run.endMs);
    return std::nullopt;
}

} // namespace

bool likeMatches(const QString &text, const QString &pattern, bool caseInsensitive)
{
    QString expression;
    for (const QChar c : pattern) {
        if (c == QLatin1Char('%'))
            expression += QStringLiteral(".*");
        else if (c == QLatin1Char('_'))
            expression += QLatin1Char('.');
        else
            expression += QRegularExpression::escape(QString(c));
    }
    QRegularExpression regex(
        QRegularExpression::anchoredPattern(expression),
        (caseInsensitive ? QRegularExpression::CaseInsensitiveOption : QRegularExpression::NoPatternOption)
            | QRegularExpression::DotMatchesEverythingOption);
    return regex.match(text).hasMatch();
}

Result<MlflowFilter> MlflowFilter::parse(const QString &filter)
{
    MlflowFilter parsed;
    FilterReader reader(filter);
    while (!reader.atEnd()) {
        if (!parsed.m_clauses.isEmpty()) {
            const qsizetype column = reader.position();
            if (reader.word().toUpper() != QLatin1String("AND"))
                return invalid(
                    QStringLiteral("Invalid filter at column %1: clauses are joined by AND (OR is not supported)")
                        .arg(column));
        }
        auto clause = clauseFrom(reader);
        if (!clause)
            return fail(clause.error());
        parsed.m_clauses.append(*clause);
    }
    return parsed;
}

bool MlflowFilter::matches(const TrackedRun &run, const QString &artifactUri) const
{
    for (const MlflowClause &clause : m_clauses) {
        const MlflowIdentifier &id = clause.identifier;
        switch (id.kind) {
        case MlflowIdentifier::Kind::Metric: {
            const auto value = metricValue(run, id.key);
            if (!value || !compareNumber(*value, clause))
                return false;
            break;
        }
        case MlflowIdentifier::Kind::Param:
        case MlflowIdentifier::Kind::Tag: {
            const auto value = pairValue(id.kind == MlflowIdentifier::Kind::Param ? run.params : run.tags, id.key);
            if (!value || !compareText(*value, clause))
                return false;
            break;
        }
        case MlflowIdentifier::Kind::Attribute:
            if (clause.numeric) {
                const auto value = attributeNumber(run, id.key);
                if (!value || !compareNumber(*value, clause))
                    return false;
            } else {
                const auto value = attributeText(run, id.key, artifactUri);
                if (!value || !compareText(*value, clause))
                    return false;
            }
            break;
        }
    }
    return true;
}

bool MlflowFilter::matches(const TrackingExperiment &experiment) const
{
    for (const MlflowClause &clause : m_clauses) {
        std::optional<QString> value;
        if (clause.identifier.kind == MlflowIdentifier::Kind::Tag)
            value = pairValue(experiment.tags, clause.identifier.key);
        else if (clause.identifier.kind == MlflowIdentifier::Kind::Attribute
                 && clause.identifier.key == QLatin1String("name"))
            value = experiment.name;
        if (clause.numeric) {
            const double time = clause.identifier.key == QLatin1String("start_time") ? double(experiment.createdMs)
                                                                                     : double(experiment.updatedMs);
            if (!compareNumber(time, clause))
                return false;
            continue;
        }
        if (!value || !compareText(*value, clause))
            return false;
    }
    return true;
}

Result<QList<MlflowOrder>> parseMlflowOrderBy(const QStringList &orderBy)
{
    QList<MlflowOrder> order;
    for (const QString &entry : orderBy) {
        FilterReader reader(entry);
        auto identifier = identifierFrom(reader);
        if (!identifier)
            return fail(identifier.error());
        MlflowOrder item{*identifier, true};
        const QString direction = reader.word().toUpper();
        if (direction == QLatin1String("DESC"))
            item.ascending = false;
        else if (!direction.isEmpty() && direction != QLatin1String("ASC"))
            return invalid(
                QStringLiteral("Invalid order_by clause '%1': the direction must be ASC or DESC").arg(entry));
        if (!reader.atEnd())
            return invalid(QStringLiteral("Invalid order_by clause '%1'").arg(entry));
        order.append(item);
    }
    return order;
}

void sortTrackedRuns(QList<TrackedRun> &runs, const QList<MlflowOrder> &order)
{
    // Compares two runs by one order item; runs lacking the value go last, whatever the direction.
    const auto compare = [](const TrackedRun &a, const TrackedRun &b, const MlflowOrder &item) -> int {
        const MlflowIdentifier &id = item.identifier;
        std::optional<double> numberA, numberB;
        std::optional<QString> textA, textB;
        if (id.kind == MlflowIdentifier::Kind::Metric) {
            numberA = metricValue(a, id.key);
            numberB = metricValue(b, id.key);
        } else if (id.kind == MlflowIdentifier::Kind::Attribute && isNumericAttribute(id.key)) {
            numberA = attributeNumber(a, id.key);
            numberB = attributeNumber(b, id.key);
        } else if (id.kind == MlflowIdentifier::Kind::Attribute) {
            textA = attributeText(a, id.key, {});
            textB = attributeText(b, id.key, {});
        } else {
            const bool param = id.kind == MlflowIdentifier::Kind::Param;
            textA = pairValue(param ? a.params : a.tags, id.key);
            textB = pairValue(param ? b.params : b.tags, id.key);
        }
        const bool hasA = numberA || textA, hasB = numberB || textB;
        if (hasA != hasB)
            return hasA ? -1 : 1;
        if (!hasA)
            return 0;
        int result = 0;
        if (numberA)
            result = *numberA < *numberB ? -1 : (*numberA > *numberB ? 1 : 0);
        else
            result = QString::compare(*textA, *textB);
        return item.ascending ? result : -result;
    };
    std::stable_sort(runs.begin(), runs.end(), [&](const TrackedRun &a, const TrackedRun &b) {
        for (const MlflowOrder &item : order)
            if (const int result = compare(a, b, item))
                return result < 0;
        if (a.startMs != b.startMs)
            return a.startMs > b.startMs;
        return a.id < b.id;
    });
}

} // namespace trainyard
