// GpuTelemetry: NVML samples of the GPUs a run uses (utilisation, memory used, power, temperature, clocks), taken
// once a second by the run's supervisor and written beside the ranks' /proc figures in system.jsonl.
#pragma once

#include "gpu/gpuapi.h"
#include "result.h"

#include <QList>
#include <QPair>

namespace trainyard {

struct GpuSample {
    int gpu = 0; // the CUDA ordinal the run was given
    std::optional<double> utilizationPercent;
    std::optional<double> memoryUsedMiB;
    std::optional<double> powerWatts;
    std::optional<double> temperatureCelsius;
    std::optional<double> smClockMHz;
    std::optional<double> memoryClockMHz;
};

class GpuTelemetry {
public:
    // The run's GPUs by CUDA ordinal (what it gets in CUDA_VISIBLE_DEVICES). Each is found in NVML by its PCI
    // bus id, so CUDA's device order (fastest first, unless CUDA_DEVICE_ORDER says otherwise) cannot mix them
    // up. Fails, saying why, without NVML, without the CUDA runtime or for a GPU that does not exist.
    static Result<GpuTelemetry> open(const QList<int> &gpus);

    // One sample per GPU; a figure NVML does not give for a GPU is left out.
    QList<GpuSample> sample() const;

private:
    GpuTelemetry(NvmlApi nvml, QList<QPair<int, gpuapi::NvmlDevice>> devices)
        : m_nvml(std::move(nvml)), m_devices(std::move(devices))
    { }

    NvmlApi m_nvml;
    QList<QPair<int, gpuapi::NvmlDevice>> m_devices;
};

} // namespace trainyard
