// RungWatcher: notices when a run of a sweep with early stopping first reaches each rung of the rule, from the points
// of the rule's metric as they are ingested (the metrics files' ingester and the MLflow API's server call it from
// their own threads). The queue judges each arrival against the sweep's other runs (queue/earlystopping).
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace trainyard {

// A run reached rung `rung` (0-based) of its sweep's rule: the first point of the metric at or past the rung's step.
struct RungArrival {
    int rung = 0;
    std::int64_t rungStep = 0; // the rung's step, as the rule gives it
    std::int64_t step = 0;     // the step of the point judged
    double value = 0;          // NaN or infinite as logged
    bool operator==(const RungArrival &) const = default;
};

class RungWatcher {
public:
    RungWatcher(QString metric, QList<std::int64_t> rungSteps);
    bool isEmpty() const { return m_rungSteps.isEmpty(); }
    // The rungs this point reaches for the first time, in order (a point past several rungs reaches each of them).
    // Cheap for other keys: every point passes here.
    QList<RungArrival> observe(std::string_view key, std::int64_t step, double value);

private:
    std::string m_metric;
    QList<std::int64_t> m_rungSteps;
    int m_next = 0;     // the first rung not reached yet
    std::mutex m_mutex; // guards m_next
};

} // namespace trainyard

Q_DECLARE_METATYPE(trainyard::RungArrival)
