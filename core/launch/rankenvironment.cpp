// The rank environment contract (see ARCHITECTURE.md): any script that works under torchrun works here.
#include "launch/rankenvironment.h"

#include "launch/launchrequest.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStringList>

namespace trainyard {

std::optional<QList<int>> parseGpuList(const QString &text)
{
    QList<int> gpus;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int gpu = part.trimmed().toInt(&ok);
        if (!ok || gpu < 0 || gpus.contains(gpu))
            return std::nullopt;
        gpus << gpu;
    }
    return gpus;
}

int globalRank(const LaunchRequest &request, int localRank)
{
    return request.nodeRank * request.nprocPerNode + localRank;
}

int worldSize(const LaunchRequest &request) { return request.nnodes * request.nprocPerNode; }

QString pythonClientDir()
{
    // TRAINYARD_PYTHON_DIR first (a copy shared across a cluster's nodes), then the installed package's, then the
    // sources' the binary was built from.
    QStringList candidates = {qEnvironmentVariable("TRAINYARD_PYTHON_DIR")};
    if (QCoreApplication::instance())
        candidates << QCoreApplication::applicationDirPath() + QStringLiteral("/../share/trainyard/python");
    candidates << QStringLiteral(TRAINYARD_SOURCE_DIR "/resources/python");
    for (const QString &candidate : std::as_const(candidates)) {
        if (!candidate.isEmpty() && QFileInfo::exists(candidate + QStringLiteral("/trainyard_log.py")))
            return QDir::cleanPath(QFileInfo(candidate).absoluteFilePath());
    }
    return {};
}

QProcessEnvironment rankEnvironment(const QProcessEnvironment &parent, const LaunchRequest &request,
                                    const RankPlacement &placement)
{
    QProcessEnvironment environment = parent;
    for (auto it = request.env.constBegin(); it != request.env.constEnd(); ++it)
        environment.insert(it.key(), it.value());
    // torchrun sets OMP_NUM_THREADS=1 so N ranks do not oversubscribe the cores; output is unbuffered so
    // logs, live metrics from stdout and hang detection see lines when they are printed.
    if (!environment.contains(QStringLiteral("OMP_NUM_THREADS")))
        environment.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
    if (!environment.contains(QStringLiteral("PYTHONUNBUFFERED")))
        environment.insert(QStringLiteral("PYTHONUNBUFFERED"), QStringLiteral("1"));

    const int rank = globalRank(request, placement.localRank);
    const auto set = [&](const char *name, const QString &value) { environment.insert(QLatin1String(name), value); };
    const auto setInt = [&](const char *name, int value) { set(name, QString::number(value)); };
    set("MASTER_ADDR", request.masterAddr);
    setInt("MASTER_PORT", placement.masterPort);
    setInt("RANK", rank);
    setInt("LOCAL_RANK", placement.localRank);
    setInt("WORLD_SIZE", worldSize(request));
    setInt("LOCAL_WORLD_SIZE", request.nprocPerNode);
    setInt("GROUP_RANK", request.nodeRank);
    setInt("GROUP_WORLD_SIZE", request.nnodes);
    setInt("ROLE_RANK", rank);
    setInt("ROLE_WORLD_SIZE", worldSize(request));
    set("ROLE_NAME", QStringLiteral("default"));
    setInt("NODE_RANK", request.nodeRank);
    set("TORCHELASTIC_RUN_ID", request.runId);
    setInt("TORCHELASTIC_RESTART_COUNT", placement.restartCount);
    setInt("TORCHELASTIC_MAX_RESTARTS", request.maxRestarts);
    set("TORCHELASTIC_USE_AGENT_STORE", QStringLiteral("False"));
    set("TRAINYARD_RUN_ID", request.runId);
    set("TRAINYARD_RUN_DIR", request.runDir);
    set("TRAINYARD_METRICS_FILE", request.runDir + QLatin1Char('/') + metricsFileName(rank));
    set("TRAINYARD_CHECKPOINT_DIR",
        request.checkpointDir.isEmpty() ? request.runDir + QStringLiteral("/checkpoints") : request.checkpointDir);
    // `import trainyard_log` works in every rank without path set-up: the client's folder comes after whatever
    // PYTHONPATH the user set, so a copy of their own wins.
    static const QString clientDir = pythonClientDir();
    if (!clientDir.isEmpty()) {
        QStringList path = environment.value(QStringLiteral("PYTHONPATH")).split(QLatin1Char(':'), Qt::SkipEmptyParts);
        if (!path.contains(clientDir))
            path << clientDir;
        set("PYTHONPATH", path.join(QLatin1Char(':')));
    }
    // NCCL debugging: per-rank debug files in the run folder, shown beside the rank logs.
    const NcclDebugOptions &nccl = request.nccl;
    if (!nccl.level.isEmpty()) {
        set("NCCL_DEBUG", nccl.level);
        set("NCCL_DEBUG_FILE", request.runDir + QLatin1Char('/') + ncclDebugFileName(rank, placement.restartCount));
    }
    if (!nccl.subsystems.isEmpty())
        set("NCCL_DEBUG_SUBSYS", nccl.subsystems);
    if (nccl.asyncErrorHandling >= 0)
        setInt("TORCH_NCCL_ASYNC_ERROR_HANDLING", nccl.asyncErrorHandling);
    if (nccl.traceBufferSize >= 0)
        setInt("TORCH_NCCL_TRACE_BUFFER_SIZE", nccl.traceBufferSize);
    if (nccl.p2pDisable)
        set("NCCL_P2P_DISABLE", QStringLiteral("1"));
    if (nccl.ibDisable)
        set("NCCL_IB_DISABLE", QStringLiteral("1"));
    if (!nccl.socketIfname.isEmpty())
        set("NCCL_SOCKET_IFNAME", nccl.socketIfname);
    if (!request.gpus.isEmpty()) {
        QStringList devices;
        for (int gpu : request.gpus)
            devices << QString::number(gpu);
        set("CUDA_VISIBLE_DEVICES", devices.join(QLatin1Char(',')));
    }
    return environment;
}

} // namespace trainyard
