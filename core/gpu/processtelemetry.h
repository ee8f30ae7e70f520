// ProcessTelemetry: CPU and memory of each rank's process tree, read from /proc. The system metrics of a
// run on a machine without NVML (and beside GPU figures on one with it).
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QMap>
#include <QPair>

#include <sys/types.h>

namespace trainyard {

struct ProcessUsage {
    double cpuPercent = 0; // of one core, over the time since the previous sample (200 = two cores busy)
    double rssBytes = 0;   // resident memory of the rank and its descendants
    int processes = 0;
};

class ProcessTelemetry {
public:
    ProcessTelemetry();
    // Samples each rank's process and its descendants (data loader workers and the like).
    QMap<int, ProcessUsage> sample(const QList<QPair<int, pid_t>> &ranks);

private:
    QHash<int, qint64> m_lastTicksByRank;
    QElapsedTimer m_clock;
    qint64 m_lastSampleNs = -1;
    long m_ticksPerSecond;
    long m_pageBytes;
};

} // namespace trainyard
