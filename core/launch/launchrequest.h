// What a backend needs to start the ranks of one run on one node.
#pragma once

#include "spec/launchoptions.h"

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

namespace trainyard {

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
    // Where the ranks save checkpoints ($TRAINYARD_CHECKPOINT_DIR); empty: <runDir>/checkpoints.
    QString checkpointDir;

    // Several nodes (the Slurm agent): this node's place in the job.
    int nodeRank = 0;
    int nnodes = 1;
    QString masterAddr = QStringLiteral("127.0.0.1");
    int masterPort = 0; // 0: pick a free port on this machine
};

} // namespace trainyard
