// NCCL preflight: are this machine's GPUs and the links between them healthy before a long run? Collectives over
// the chosen local GPUs (one thread and one non-blocking communicator per GPU), every result checked against the
// values it must hold, timed as nccl-tests times them, a hang turned into an error by a deadline and
// ncclCommAbort, and a verdict against the class of link NVML reports. See docs/GPU.md.
#pragma once

#include "gpu/bandwidth.h"
#include "result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <functional>

namespace trainyard {

struct PreflightOptions {
    QList<int> gpus; // CUDA device ordinals (as CUDA_VISIBLE_DEVICES shows them); empty: every device
    QList<CollectiveOp> ops = {CollectiveOp::AllReduce, CollectiveOp::AllGather, CollectiveOp::ReduceScatter,
                               CollectiveOp::Broadcast};
    std::int64_t minBytes = 8;
    std::int64_t maxBytes = std::int64_t(1) << 30;
    int iterations = 20;        // timed, per size
    int warmupIterations = 5;   // untimed, per size
    double timeoutSeconds = 30; // for any one wait: communicator start, one size's check or timing, finalize
};

// One row of the table: one collective at one size, in place or out of place.
struct PreflightMeasurement {
    CollectiveOp op = CollectiveOp::AllReduce;
    std::int64_t bytes = 0;    // S as nccl-tests reports it (the whole buffer)
    std::int64_t elements = 0; // float32 elements in S
    bool inPlace = false;
    double seconds = 0; // one iteration, the slowest GPU's
    double algorithmGBs = 0;
    double busGBs = 0;
    std::int64_t wrongElements = 0; // over every GPU's output
};

// The class of link between the GPUs, from NVML.
struct GpuLinkInfo {
    enum class Kind { None, NvLink, Pcie, Unknown };
    Kind kind = Kind::Unknown;
    QString description; // "NVLink 4, 18 links per GPU", "PCIe Gen4 x16", "one GPU", "unknown (NVML not found ...)"
    double expectedBusGBs = 0;  // what the link carries one way, per GPU; 0 where unknown or one GPU
    double healthyFraction = 0; // the verdict's threshold: at least this share of expectedBusGBs
};
QString linkKindName(GpuLinkInfo::Kind kind);
// Expected bus bandwidth per GPU: NVLink links x their one-way speed; PCIe lanes x the generation's lane speed.
GpuLinkInfo nvLinkInfo(int version, int linksPerGpu);
GpuLinkInfo pcieLinkInfo(int generation, int width);

struct PreflightResult {
    QDateTime startedAt;
    QString host;
    QList<int> gpus;
    QStringList deviceNames; // one per GPU: NVML's name, else the PCI bus id
    QString nccl;            // "NCCL 2.28.9 (libnccl.so.2)"
    QString cudaRuntime;
    GpuLinkInfo link;
    QList<PreflightMeasurement> measurements;
    QString error; // a hang or a failed call, naming the GPU, the collective and the size; empty when all ran
    bool healthy = false;
    QString verdict; // one line

    QJsonObject toJson() const;
    static Result<PreflightResult> fromJson(const QJsonObject &object);
};

// The sizes nccl-tests walks: minBytes, doubling, up to maxBytes.
QList<std::int64_t> preflightSizes(std::int64_t minBytes, std::int64_t maxBytes);

// Sets healthy and verdict from the error, the checked results and the peak bus bandwidth against the link.
void judgePreflight(PreflightResult &result);

// Runs the collectives. Fails without a result when there is nothing to measure: no CUDA runtime or device
// ("no CUDA device found ..."), no usable NCCL, or a GPU that does not exist. A hang or a failed collective is a
// result with `error` set. `progress` is called (from a worker thread) as each measurement completes.
Result<PreflightResult> runNcclPreflight(const PreflightOptions &options,
                                         const std::function<void(const PreflightMeasurement &)> &progress = {});

} // namespace trainyard
