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
    std::optional<unsigned long long> throttleReasons; // NVML's clocks throttle reasons bit mask
};

// A GPU of the run as NVML names it: written once to the run folder's gpus.json (the MFU's peak is chosen by name,
// the straggler verdict names the GPU by its PCI bus id).
struct GpuIdentity {
    int gpu = 0;
    QString name;     // "NVIDIA H100 80GB HBM3"
    QString pciBusId; // "00000000:41:00.0"
};

// The throttle reasons in a bit mask, in words ("hardware thermal slowdown", "power cap"); empty for none. The bits
// are NVML's nvmlClocksThrottleReason* constants (idle and application-clocks settings are not a slowdown).
QStringList describeThrottleReasons(unsigned long long reasons);

class GpuTelemetry {
public:
    // The run's GPUs by CUDA ordinal (what it gets in CUDA_VISIBLE_DEVICES). Each is found in NVML by its PCI
    // bus id, so CUDA's device order (fastest first, unless CUDA_DEVICE_ORDER says otherwise) cannot mix them
    // up. Fails, saying why, without NVML, without the CUDA runtime or for a GPU that does not exist.
    static Result<GpuTelemetry> open(const QList<int> &gpus);

    // One sample per GPU; a figure NVML does not give for a GPU is left out.
    QList<GpuSample> sample() const;
    const QList<GpuIdentity> &identities() const { return m_identities; }

private:
    GpuTelemetry(NvmlApi nvml, QList<QPair<int, gpuapi::NvmlDevice>> devices, QList<GpuIdentity> identities)
        : m_nvml(std::move(nvml)), m_devices(std::move(devices)), m_identities(std::move(identities))
    { }

    NvmlApi m_nvml;
    QList<QPair<int, gpuapi::NvmlDevice>> m_devices;
    QList<GpuIdentity> m_identities;
};

} // namespace trainyard
