// nccl-tests' bandwidth definitions.
#include "gpu/bandwidth.h"

namespace trainyard {

QString collectiveName(CollectiveOp op)
{
    switch (op) {
    case CollectiveOp::AllReduce:
        return QStringLiteral("all_reduce");
    case CollectiveOp::AllGather:
        return QStringLiteral("all_gather");
    case CollectiveOp::ReduceScatter:
        return QStringLiteral("reduce_scatter");
    case CollectiveOp::Broadcast:
        return QStringLiteral("broadcast");
    }
    return {};
}

std::optional<CollectiveOp> parseCollective(const QString &name)
{
    for (CollectiveOp op :
         {CollectiveOp::AllReduce, CollectiveOp::AllGather, CollectiveOp::ReduceScatter, CollectiveOp::Broadcast}) {
        if (name == collectiveName(op))
            return op;
    }
    return std::nullopt;
}

double busBandwidthFactor(CollectiveOp op, int ranks)
{
    const double n = ranks;
    switch (op) {
    case CollectiveOp::AllReduce:
        return 2.0 * (n - 1) / n;
    case CollectiveOp::AllGather:
    case CollectiveOp::ReduceScatter:
        return (n - 1) / n;
    case CollectiveOp::Broadcast:
        return 1.0;
    }
    return 1.0;
}

double algorithmBandwidth(double bytes, double seconds) { return seconds > 0 ? bytes / seconds : 0; }

double busBandwidth(CollectiveOp op, int ranks, double bytes, double seconds)
{
    return algorithmBandwidth(bytes, seconds) * busBandwidthFactor(op, ranks);
}

} // namespace trainyard
