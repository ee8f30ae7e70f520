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
    QList<GpuIdentity> identities;
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
        char name[96] = {};
        if (nvml->deviceGetName(device, name, sizeof(name)) != kNvmlSuccess)
            name[0] = '\0';
        identities.append({gpu, QString::fromUtf8(name), QString::fromLatin1(busId)});
    }
    return GpuTelemetry(std::move(nvml.value()), std::move(devices), std::move(identities));
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
        if (unsigned long long reasons = 0; m_nvml.deviceGetCurrentClocksThrottleReasons
            && m_nvml.deviceGetCurrentClocksThrottleReasons(device, &reasons) == kNvmlSuccess)
            sample.throttleReasons = reasons;
        if (m_nvml.deviceGetClockInfo(device, kNvmlClockMem, &value) == kNvmlSuccess)
            sample.memoryClockMHz = value;
        samples << sample;
    }
    return samples;
}

QStringList describeThrottleReasons(unsigned long long reasons)
{
    // nvml.h's nvmlClocksThrottleReason* bits (0x1 GPU idle and 0x2 application clocks setting are not slowdowns).
    static const QList<QPair<unsigned long long, const char *>> kReasons = {
        {0x4, "software power cap"},         {0x8, "hardware slowdown"},          {0x10, "sync boost"},
        {0x20, "software thermal slowdown"}, {0x40, "hardware thermal slowdown"}, {0x80, "hardware power brake"},
        {0x100, "display clock setting"},
    };
    QStringList words;
    for (const auto &[bit, name] : kReasons)
        if (reasons & bit)
            words << QLatin1String(name);
    return words;
}

} // namespace trainyard
