// Envelope queries: any step range of a series as at most one bucket per pixel, each exact (count, min,
// max, first, last, sum over the points in its step interval), answered from the metric pyramid, or the
// points themselves when the range holds fewer points than pixels.
#pragma once

#include "store/metricbins.h"

#include <QString>

#include <cstdint>
#include <optional>
#include <vector>

namespace trainyard {

class SqliteConnection;

struct EnvelopeRequest {
    std::optional<std::int64_t> fromStep; // the series' first step when unset
    std::optional<std::int64_t> toStep;   // the series' last step when unset (inclusive)
    int pixels = 2000;
};

struct EnvelopeBucket {
    std::int64_t loStep = 0; // the step interval the bucket covers: every point of the series whose
    std::int64_t hiStep = 0; // step is in [loStep, hiStep] is in this bucket's summary, and no other
    BinSummary summary;
};

struct MetricEnvelope {
    std::int64_t fromStep = 0; // the range answered (the request's, or the series' own)
    std::int64_t toStep = -1;
    std::int64_t seriesFirstStep = 0;
    std::int64_t seriesLastStep = -1;
    bool fullResolution = false;         // one bucket per step: the range holds no more points than pixels
    int level = -1;                      // the pyramid level read, -1 when computed from the points
    std::vector<EnvelopeBucket> buckets; // ascending, disjoint intervals
    bool empty() const { return buckets.empty(); }
};

namespace metricqueries {

// The envelope of one key's series over a step range. An unknown key gives an empty envelope.
Result<MetricEnvelope> envelope(SqliteConnection &connection, const QString &runId, const QString &key,
                                const EnvelopeRequest &request);
Result<MetricEnvelope> envelope(SqliteConnection &connection, std::int64_t keyId, const EnvelopeRequest &request);

// The pixel (0..pixels-1) a step falls in when [fromStep, toStep] is spread over `pixels`.
int pixelOfStep(std::int64_t step, std::int64_t fromStep, std::int64_t toStep, int pixels);

} // namespace metricqueries
} // namespace trainyard
