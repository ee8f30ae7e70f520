// Bandwidth of collective operations, with nccl-tests' definitions (doc/PERFORMANCE.md of nccl-tests):
// algorithm bandwidth = S / t, bus bandwidth = algorithm bandwidth x a factor that makes the figure
// comparable to the hardware's link speed whatever the rank count.
#pragma once

#include <QString>

#include <optional>

namespace trainyard {

enum class CollectiveOp { AllReduce, AllGather, ReduceScatter, Broadcast };

QString collectiveName(CollectiveOp op);
std::optional<CollectiveOp> parseCollective(const QString &name);

// The bus-bandwidth factor for n ranks: all_reduce 2(n-1)/n, all_gather and reduce_scatter (n-1)/n,
// broadcast 1.
double busBandwidthFactor(CollectiveOp op, int ranks);
// bytes: S, the size nccl-tests reports (the whole buffer: for all_gather the gathered output, for
// reduce_scatter the input). Results in bytes per second.
double algorithmBandwidth(double bytes, double seconds);
double busBandwidth(CollectiveOp op, int ranks, double bytes, double seconds);

} // namespace trainyard
