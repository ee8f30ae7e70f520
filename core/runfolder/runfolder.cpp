#include "runfolder/runfolder.h"

#include <QRegularExpression>

namespace trainyard {

QString agentOutcomeFileName(int nodeRank) { return QStringLiteral("agent.node%1.json").arg(nodeRank); }

QStringList reservedRunFileNames()
{
    // meta.yaml: an MLflow run folder's, which `trainyard import` reads.
    return {QLatin1String(kSpecFileName),
            QStringLiteral("meta.yaml"),
            QLatin1String(kProvenanceFileName),
            QLatin1String(kSupervisorRecordFileName),
            QLatin1String(kDeepSpeedConfigFileName),
            QLatin1String(kSlurmJobFileName),
            QLatin1String(kAgentRequestFileName)};
}

QString metricsFileName(int globalRank) { return QStringLiteral("metrics.rank%1.jsonl").arg(globalRank); }

QString ncclDebugFileName(int globalRank, int attempt)
{
    return attempt == 0 ? QStringLiteral("nccl.rank%1.log").arg(globalRank)
                        : QStringLiteral("nccl.rank%1.attempt%2.log").arg(globalRank).arg(attempt);
}

QString rankLogFileName(int globalRank, int attempt)
{
    return attempt == 0 ? QStringLiteral("rank%1.log").arg(globalRank)
                        : QStringLiteral("rank%1.attempt%2.log").arg(globalRank).arg(attempt);
}

std::optional<RankLogName> parseRankLogFileName(const QString &name)
{
    static const QRegularExpression pattern(QStringLiteral("^(nccl\\.)?rank(\\d+)(?:\\.attempt(\\d+))?\\.log$"));
    const auto match = pattern.match(name);
    if (!match.hasMatch())
        return std::nullopt;
    return RankLogName{match.captured(2).toInt(), match.captured(3).toInt(), !match.captured(1).isEmpty()};
}

} // namespace trainyard
