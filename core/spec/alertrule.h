// Alert rules: a run spec's `alerts:`, checked against every metric point as it is ingested.
//   alerts:
//     - {metric: train/loss, when: nan}                                       # NaN or infinite: notify
//     - {metric: val/acc, below: 0.1, after_step: 1000, action: stop}        # cancel the run, naming the rule
#pragma once

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard {

struct AlertRule {
    enum class Condition { NotFinite, Below, Above };
    enum class Action { Notify, Stop };

    QString metric;
    Condition condition = Condition::NotFinite;
    double threshold = 0;
    std::int64_t afterStep = 0; // points at earlier steps are not checked (a loss is high at step 0)
    Action action = Action::Notify;

    // Whether a point of the rule's metric breaks it.
    bool isBrokenBy(std::int64_t step, double value) const;
    // "val/acc below 0.1 after step 1000"
    QString describe() const;
    bool operator==(const AlertRule &) const = default;
};

// One rule broken: what the run's alerts record and a notification says.
struct FiredAlert {
    AlertRule rule;
    std::int64_t step = 0;
    double value = 0;
    // "alert: val/acc below 0.1 after step 1000: 0.05 at step 1200 (the run is stopped)"
    QString message() const;
    // {at, metric, rule, step, value, action, message}: one entry of a run's stored alerts.
    QString toJson(const QDateTime &at) const;
};

// The rules of one run, each firing once: the first point that breaks it, whichever way the point came (the metrics
// files' ingester and the MLflow API's server call it from their own threads).
class AlertEvaluator {
public:
    explicit AlertEvaluator(QList<AlertRule> rules = {});
    bool isEmpty() const { return m_rules.isEmpty(); }
    // The rules this point breaks for the first time. Cheap for a key no rule watches (every point passes here).
    QList<FiredAlert> observe(std::string_view key, std::int64_t step, double value);

private:
    QList<AlertRule> m_rules;
    std::vector<std::string> m_keys; // each rule's metric, as the parser hands keys over
    std::vector<bool> m_fired;
    std::mutex m_mutex; // guards m_fired
};

QString toString(AlertRule::Action action);

} // namespace trainyard

Q_DECLARE_METATYPE(trainyard::FiredAlert)
