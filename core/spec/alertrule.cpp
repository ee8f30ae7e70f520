// Alert rules: what breaks one, and how it is said.
#include "spec/alertrule.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace trainyard {

bool AlertRule::isBrokenBy(std::int64_t step, double value) const
{
    if (step < afterStep)
        return false;
    switch (condition) {
    case Condition::NotFinite:
        return !std::isfinite(value);
    case Condition::Below:
        return value < threshold; // NaN compares false: a NaN is `when: nan`'s to catch
    case Condition::Above:
        return value > threshold;
    }
    return false;
}

QString AlertRule::describe() const
{
    QString text = metric;
    switch (condition) {
    case Condition::NotFinite:
        text += QStringLiteral(" is NaN or infinite");
        break;
    case Condition::Below:
        text += QStringLiteral(" below %1").arg(threshold, 0, 'g', 6);
        break;
    case Condition::Above:
        text += QStringLiteral(" above %1").arg(threshold, 0, 'g', 6);
        break;
    }
    if (afterStep > 0)
        text += QStringLiteral(" after step %1").arg(afterStep);
    return text;
}

QString FiredAlert::message() const
{
    return QStringLiteral("alert: %1: %2 at step %3%4")
        .arg(rule.describe(), QString::number(value, 'g', 6))
        .arg(step)
        .arg(rule.action == AlertRule::Action::Stop ? QStringLiteral(" (the run is stopped)") : QString());
}

AlertEvaluator::AlertEvaluator(QList<AlertRule> rules) : m_rules(std::move(rules)), m_fired(std::size_t(m_rules.size()))
{
    for (const AlertRule &rule : std::as_const(m_rules))
        m_keys.push_back(rule.metric.toStdString());
}

QString FiredAlert::toJson(const QDateTime &at) const
{
    const QJsonObject object{
        {QStringLiteral("at"), at.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("metric"), rule.metric},
        {QStringLiteral("rule"), rule.describe()},
        {QStringLiteral("step"), qint64(step)},
        // NaN and infinity are not JSON numbers: said as text
        {QStringLiteral("value"), std::isfinite(value) ? QJsonValue(value) : QJsonValue(QString::number(value))},
        {QStringLiteral("action"), toString(rule.action)},
        {QStringLiteral("message"), message()}};
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

QList<FiredAlert> AlertEvaluator::observe(std::string_view key, std::int64_t step, double value)
{
    QList<FiredAlert> fired;
    for (std::size_t i = 0; i < m_keys.size(); ++i) {
        const AlertRule &rule = m_rules.at(qsizetype(i));
        if (m_keys[i] != key || !rule.isBrokenBy(step, value))
            continue;
        std::lock_guard lock(m_mutex);
        if (m_fired[i])
            continue;
        m_fired[i] = true;
        fired << FiredAlert{rule, step, value};
    }
    return fired;
}

QString toString(AlertRule::Action action)
{
    return action == AlertRule::Action::Stop ? QStringLiteral("stop") : QStringLiteral("notify");
}

} // namespace trainyard
