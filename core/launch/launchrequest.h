// What a backend needs to start the ranks of one run on one node.
#pragma once

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

namespace trainyard {

// NCCL's and PyTorch's debugging switches, set on every rank when asked for.
struct NcclDebugOptions {
    QString level;               // NCCL_DEBUG: VERSION, WARN, INFO or TRACE; empty: not set
    QString subsystems;          // NCCL_DEBUG_SUBSYS, e.g. INIT,COLL
    int asyncErrorHandling = -1; // TORCH_NCCL_ASYNC_ERROR_HANDLING (0-3); -1: not set
    int traceBufferSize = -1;    // TORCH_NCCL_TRACE_BUFFER_SIZE; -1: not set
    bool p2pDisable = false;     // NCCL_P2P_DISABLE=1
    bool ibDisable = false;      // NCCL_IB_DISABLE=1
    QString socketIfname;        // NCCL_SOCKET_IFNAME
    bool operator==(const NcclDebugOptions &) const = default;
};

struct LaunchRequest {
    QString runId;
    QString runDir;
    QStringList command; // argv; with useShell, joined and given to /bin/sh -c
    bool useShell = false;
    QString cwd;
    int nprocPerNode = 1;
    QList<int> gpus; // CUDA_VISIBLE_DEVICES for the run; empty leaves it as inherited
    int maxRestarts = 0;
    int hangTimeoutMs = 0; // 0: no hang detection
    int graceMs = 5000;    // SIGTERM -> SIGKILL
    QMap<QString, QString> env;
    NcclDebugOptions nccl;

    // Several nodes (the Slurm agent): this node's place in the job.
    int nodeRank = 0;
    int nnodes = 1;
    QString masterAddr = QStringLiteral("127.0.0.1");
    int masterPort = 0; // 0: pick a free port on this machine
};

} // namespace trainyard
