// ChartMath: the arithmetic of the metric charts, free of widgets and painting so that it is tested on its own:
// round tick steps, tick labels (numbers with k/M/G, elapsed times), and a group's line (the mean of its members per
// pixel column, with their lowest and highest value as a band).
#pragma once

#include <QString>
#include <QStringList>

#include <cstdint>
#include <vector>

namespace trainyard::chartmath {

// A round step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` ticks over `span`; 1 for an empty span.
double niceStep(double span, int ticks);
// A tick label: 4 significant digits, with k, M or G from 10,000 up ("12.5k", "3.2M").
QString formatNumber(double value);
// An axis label for a tick at `value` on an axis whose ticks are `step` apart: as many decimals as the step needs, so
// that no two ticks read alike (0.25 apart: "0.25", "0.50"); k, M, G from 10,000 up ("12.5k"); scientific notation
// on an axis whose step is under 0.001, or for ticks from 1e15 up ("1.5e-05"). A value within a billionth of a step of 0 reads "0".
QString formatTick(double value, double step);
// The decimals that write `step` (a niceStep) exactly: 0 for 5 or 10, 1 for 0.5, 2 for 0.25.
int decimalsFor(double step);
// Time since a run's start, from milliseconds: "45s", "12m05s", "3h07m".
QString formatElapsed(double ms);

// The sections metric charts are grouped in, in the order they are shown: by the key's prefix, keys without one of
// these prefixes in "" (other metrics), and the system telemetry last.
QStringList metricSections();
// The section of a key: "train/", "eval/", "perf/", "sys/", or "" for any other.
QString metricSectionOf(const QString &key);

// One bucket of a member run, placed on the chart's x axis.
struct PlacedBucket {
    double xMid = 0; // the middle of the bucket's x interval
    double sum = 0;  // of its finite values
    std::int64_t finiteCount = 0;
    double minValue = 0, maxValue = 0;
};

// One pixel column of a group's line.
struct GroupColumn {
    double meanSum = 0; // the sum of the members' means in this column
    int members = 0;    // how many members have a value in it
    double lo = 0, hi = 0;
    double mean() const { return meanSum / members; }
};

// Per pixel column of [x0, x1] (`columns` of them): each member's mean over its buckets whose middle falls in the
// column, averaged over the members that have one, and the lowest min and highest max of those buckets. Buckets
// outside [x0, x1] or without a finite value are left out; columns no member reaches have members == 0.
std::vector<GroupColumn> aggregateGroup(const std::vector<std::vector<PlacedBucket>> &members, double x0, double x1,
                                        int columns);

} // namespace trainyard::chartmath
