#include "gpu/gputelemetry.h"

namespace trainyard {

using namespace gpuapi;

Result<GpuTelemetry> GpuTelemetry::open(const QList<int> &gpus)
{
    if (gpus.isEmpty())
        return fail(QStringLiteral("the run was given no GPUs"));
    auto nvml = NvmlApi::load();
    if (!nvml)
        return fail(nvml.error());
    auto cuda = CudaRuntimeApi::load();
    if (!cuda)
        return fail(cuda.error());
    QList<QPair<int, NvmlDevice>> devices;
    for (int gpu : gpus) {
        char busId[64] = {};
        if (const CudaError error = cuda->deviceGetPciBusId(busId, int(sizeof(busId)), gpu); error != kCudaSuccess)
            return fail(QStringLiteral("GPU %1: %2").arg(gpu).arg(cuda->describe("cudaDeviceGetPCIBusId", error)));
        NvmlDevice device = nullptr;
        if (const NvmlReturn found = nvml->deviceGetHandleByPciBusId(busId, &device); found != kNvmlSuccess)
            return fail(QStringLiteral("GPU %1 (%2): %3")
                            .arg(gpu)
                            .arg(QLatin1String(busId), nvml->describe("nvmlDeviceGetHandleByPciBusId", found)));
        devices.append({gpu, device});
    }
    return GpuTelemetry(std::move(nvml.value()), std::move(devices));
}

QList<GpuSample> GpuTelemetry::sample() const
{
    QList<GpuSample> samples;
    for (const auto &[gpu, device] : m_devices) {
        GpuSample sample;
        sample.gpu = gpu;
        NvmlUtilization utilization{};
        if (m_nvml.deviceGetUtilizationRates(device, &utilization) == kNvmlSuccess)
            sample.utilizationPercent = utilization.gpu;
        NvmlMemory memory{};
        if (m_nvml.deviceGetMemoryInfo(device, &memory) == kNvmlSuccess)
            sample.memoryUsedMiB = double(memory.used) / (1024.0 * 1024.0);
        unsigned int value = 0;
        if (m_nvml.deviceGetPowerUsage(device, &value) == kNvmlSuccess)
            sample.powerWatts = value / 1000.0; // milliwatts
        if (m_nvml.deviceGetTemperature(device, kNvmlTemperatureGpu, &value) == kNvmlSuccess)
            sample.temperatureCelsius = value;
        if (m_nvml.deviceGetClockInfo(device, kNvmlClockSm, &value) == kNvmlSuccess)
            sample.smClockMHz = value;
        if (m_nvml.deviceGetClockInfo(device, kNvmlClockMem, &value) == kNvmlSuccess)
            sample.memoryClockMHz = value;
        samples << sample;
    }
    return samples;
}

} // namespace trainyard
