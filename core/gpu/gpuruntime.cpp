// Entry points are declared here with the C types of the CUDA, NCCL and NVML headers they come from, so the
// build needs none of those headers.
#include "gpu/gpuruntime.h"

#include "gpu/gpuapi.h"

namespace trainyard {

namespace {

using CudaError = int;
using NcclResult = int;
using NvmlReturn = int;

constexpr int kMinimumNcclCode = 21400; // 2.14: non-blocking communicators and ncclCommGetAsyncError

QString cudaVersionText(int version) { return QStringLiteral("%1.%2").arg(version / 1000).arg((version % 1000) / 10); }

} // namespace

QString ncclInstallHint()
{
    return QStringLiteral("install NCCL 2.14 or newer (libnccl2 from NVIDIA's CUDA repository, or the CUDA toolkit's "
                          "lib folder in LD_LIBRARY_PATH)");
}

GpuStatus probeGpus()
{
    GpuStatus status;

    // CUDA runtime: version and devices.
    if (auto cudart = SharedLibrary::open(cudaRuntimeLibraryNames()); !cudart) {
        status.cudaRuntime = QStringLiteral("CUDA runtime not found (%1)").arg(cudart.error());
        status.deviceMessage = QStringLiteral("no CUDA device found: the CUDA runtime (libcudart) is not installed");
    } else {
        auto runtimeVersion = cudart->resolve<CudaError (*)(int *)>("cudaRuntimeGetVersion");
        auto driverVersion = cudart->resolve<CudaError (*)(int *)>("cudaDriverGetVersion");
        auto deviceCount = cudart->resolve<CudaError (*)(int *)>("cudaGetDeviceCount");
        auto errorString = cudart->resolve<const char *(*)(CudaError)>("cudaGetErrorString");
        if (!runtimeVersion || !driverVersion || !deviceCount || !errorString) {
            status.cudaRuntime = QStringLiteral("CUDA runtime %1 is incomplete").arg(cudart->loadedName());
            status.deviceMessage = QStringLiteral("no CUDA device found: %1").arg(status.cudaRuntime);
        } else {
            int runtime = 0, driver = 0, count = 0;
            (void)runtimeVersion.value()(&runtime);
            (void)driverVersion.value()(&driver);
            status.cudaRuntime = QStringLiteral("CUDA runtime %1 (%2), driver supports %3")
                                     .arg(cudaVersionText(runtime), cudart->loadedName(),
                                          driver > 0 ? QStringLiteral("CUDA %1").arg(cudaVersionText(driver)) : QStringLiteral("nothing: no NVIDIA driver"));
            const CudaError error = deviceCount.value()(&count);
            if (error != 0 || count == 0) {
                status.deviceMessage = QStringLiteral("no CUDA device found%1")
                                           .arg(error != 0 ? QStringLiteral(" (cudaGetDeviceCount: %1)").arg(QString::fromLatin1(errorString.value()(error)))
                                                           : QString());
            } else {
                status.deviceCount = count;
                status.cudaAvailable = true;
            }
        }
    }

    // NCCL: version.
    if (auto nccl = SharedLibrary::open(ncclLibraryNames()); !nccl) {
        status.nccl = QStringLiteral("NCCL not found: %1 (%2)").arg(ncclInstallHint(), nccl.error());
    } else if (auto getVersion = nccl->resolve<NcclResult (*)(int *)>("ncclGetVersion"); !getVersion) {
        status.nccl = getVersion.error();
    } else {
        int code = 0;
        (void)getVersion.value()(&code);
        const QString version = QStringLiteral("%1.%2.%3").arg(code / 10000).arg((code / 100) % 100).arg(code % 100);
        if (code < kMinimumNcclCode) {
            status.nccl = QStringLiteral("NCCL %1 (%2) is too old: %3").arg(version, nccl->loadedName(), ncclInstallHint());
        } else {
            status.nccl = QStringLiteral("NCCL %1 (%2)").arg(version, nccl->loadedName());
            status.ncclAvailable = true;
        }
    }

    // NVML: comes with the NVIDIA driver.
    if (auto nvml = SharedLibrary::open(nvmlLibraryNames()); !nvml) {
        status.nvml = QStringLiteral("NVML not found: the NVIDIA driver is not installed (%1)").arg(nvml.error());
    } else {
        auto init = nvml->resolve<NvmlReturn (*)()>("nvmlInit_v2");
        auto shutdown = nvml->resolve<NvmlReturn (*)()>("nvmlShutdown");
        auto driverVersion = nvml->resolve<NvmlReturn (*)(char *, unsigned)>("nvmlSystemGetDriverVersion");
        if (!init || !shutdown || !driverVersion) {
            status.nvml = QStringLiteral("NVML %1 is incomplete").arg(nvml->loadedName());
        } else if (init.value()() != 0) {
            status.nvml = QStringLiteral("NVML (%1) could not start: no NVIDIA driver is loaded").arg(nvml->loadedName());
        } else {
            char version[96] = {};
            (void)driverVersion.value()(version, sizeof(version));
            status.nvml = QStringLiteral("NVML (%1), driver %2").arg(nvml->loadedName(), QString::fromLatin1(version));
            status.nvmlAvailable = true;
            (void)shutdown.value()();
        }
    }
    return status;
}

} // namespace trainyard
