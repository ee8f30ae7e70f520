// The probe behind `trainyard preflight`'s first lines: each library through its loader in gpuapi.h, so the
// probe and the features it speaks for find, resolve and version-check them the same way.
#include "gpu/gpuruntime.h"

#include "gpu/gpuapi.h"

namespace trainyard {

namespace {

QString cudaVersionText(int version) { return QStringLiteral("%1.%2").arg(version / 1000).arg((version % 1000) / 10); }

} // namespace

GpuStatus probeGpus()
{
    GpuStatus status;

    // CUDA runtime: version and devices.
    if (auto cuda = CudaRuntimeApi::load(); !cuda) {
        status.cudaRuntime = cuda.error();
        status.deviceMessage = QStringLiteral("no CUDA device found: %1").arg(cuda.error());
    } else {
        int runtime = 0, driver = 0, count = 0;
        (void)cuda->runtimeGetVersion(&runtime);
        (void)cuda->driverGetVersion(&driver);
        status.cudaRuntime = QStringLiteral("CUDA runtime %1 (%2), driver supports %3")
                                 .arg(cudaVersionText(runtime), cuda->libraryName(),
                                      driver > 0 ? QStringLiteral("CUDA %1").arg(cudaVersionText(driver))
                                                 : QStringLiteral("nothing: no NVIDIA driver"));
        if (const gpuapi::CudaError error = cuda->getDeviceCount(&count); error != gpuapi::kCudaSuccess || count == 0) {
            status.deviceMessage =
                QStringLiteral("no CUDA device found%1")
                    .arg(error != gpuapi::kCudaSuccess
                             ? QStringLiteral(" (%1)").arg(cuda->describe("cudaGetDeviceCount", error))
                             : QString());
        } else {
            status.deviceCount = count;
            status.cudaAvailable = true;
        }
    }

    // NCCL: every entry point preflight calls, and version 2.14 or newer.
    if (auto nccl = NcclApi::load(); !nccl) {
        status.nccl = nccl.error();
    } else {
        status.nccl = QStringLiteral("NCCL %1 (%2)").arg(nccl->versionText(), nccl->libraryName());
        status.ncclAvailable = true;
    }

    // NVML: comes with the NVIDIA driver.
    if (auto nvml = NvmlApi::load(); !nvml) {
        status.nvml = nvml.error();
    } else {
        char version[96] = {};
        (void)nvml->systemGetDriverVersion(version, sizeof(version));
        status.nvml = QStringLiteral("NVML (%1), driver %2").arg(nvml->libraryName(), QString::fromLatin1(version));
        status.nvmlAvailable = true;
    }
    return status;
}

} // namespace trainyard
