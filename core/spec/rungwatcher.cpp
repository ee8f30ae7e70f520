// Rung arrivals, once each, whichever thread the point came on.
#include "spec/rungwatcher.h"

namespace trainyard {

RungWatcher::RungWatcher(QString metric, QList<std::int64_t> rungSteps)
    : m_metric(metric.toStdString()), m_rungSteps(std::move(rungSteps))
{ }

QList<RungArrival> RungWatcher::observe(std::string_view key, std::int64_t step, double value)
{
    if (key != m_metric || m_rungSteps.isEmpty())
        return {};
    std::lock_guard lock(m_mutex);
    QList<RungArrival> reached;
    while (m_next < m_rungSteps.size() && step >= m_rungSteps[m_next]) {
        reached << RungArrival{m_next, m_rungSteps[m_next], step, value};
        ++m_next;
    }
    return reached;
}

} // namespace trainyard
