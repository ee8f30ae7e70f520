// GpuRuntime: the CUDA runtime, NCCL and NVML, loaded at run time and checked for version, so one binary
// runs on a laptop without a GPU and uses every GPU of a workstation. Each probe says plainly what is missing.
#pragma once

#include <QString>

namespace trainyard {

struct GpuStatus {
    QString cudaRuntime;   // "CUDA runtime 13.0 (libcudart.so.13)" or why it is missing
    QString nccl;          // "NCCL 2.28.3 (libnccl.so.2)" or why it is missing
    QString nvml;          // "NVML (libnvidia-ml.so.1), driver 580.65" or why it is missing
    int deviceCount = 0;   // 0 with deviceMessage when there is none
    QString deviceMessage; // "no CUDA device found: ..." when deviceCount is 0
    bool cudaAvailable = false;
    bool ncclAvailable = false;
    bool nvmlAvailable = false;
};

// Loads what it can, resolving every entry point Trainyard uses once; never fails as a whole.
GpuStatus probeGpus();

} // namespace trainyard
