// The entry points of the CUDA runtime, NCCL and NVML that Trainyard calls, each resolved once when its library
// is loaded. They are declared with the C types of the vendors' headers, which the build does not need; where
// those headers are installed, gpuapiheadercheck.cpp checks every declaration here against them at compile time.
#pragma once

#include "gpu/sharedlibrary.h"
#include "result.h"

#include <QString>
#include <QStringList>

#include <cstddef>
#include <memory>

namespace trainyard {

namespace gpuapi {
using CudaError = int;     // cudaError_t
using CudaStream = void *; // cudaStream_t
using CudaEvent = void *;  // cudaEvent_t
inline constexpr CudaError kCudaSuccess = 0;
inline constexpr CudaError kCudaErrorNotReady = 600;
inline constexpr int kCudaMemcpyHostToDevice = 1;
inline constexpr int kCudaMemcpyDeviceToHost = 2;
inline constexpr unsigned kCudaStreamNonBlocking = 1;

using NcclResult = int;  // ncclResult_t
using NcclComm = void *; // ncclComm_t
inline constexpr NcclResult kNcclSuccess = 0;
inline constexpr NcclResult kNcclInProgress = 7;
inline constexpr int kNcclFloat32 = 7; // ncclFloat32
inline constexpr int kNcclSum = 0;     // ncclSum
struct NcclUniqueId {
    char internal[128];
};
// ncclConfig_t as NCCL 2.14 (the first with non-blocking communicators) defined it. NCCL reads the caller's
// `size` and `version` and gives the fields it added later their defaults, so newer NCCL accepts it.
struct NcclConfig214 {
    std::size_t size;
    unsigned int magic;
    unsigned int version;
    int blocking;
};
inline constexpr unsigned int kNcclConfigMagic = 0xcafebeef;
inline constexpr unsigned int kNcclConfigVersion = 21400;

using NvmlReturn = int;    // nvmlReturn_t
using NvmlDevice = void *; // nvmlDevice_t
inline constexpr NvmlReturn kNvmlSuccess = 0;
inline constexpr int kNvmlTemperatureGpu = 0;   // NVML_TEMPERATURE_GPU
inline constexpr int kNvmlClockSm = 1;          // NVML_CLOCK_SM
inline constexpr int kNvmlClockMem = 2;         // NVML_CLOCK_MEM
inline constexpr unsigned kNvmlMaxNvLinks = 18; // NVML_NVLINK_MAX_LINKS
struct NvmlUtilization {
    unsigned int gpu;
    unsigned int memory;
};
struct NvmlMemory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};
} // namespace gpuapi

// How to get NCCL, for the messages that say it is missing or too old.
QString ncclInstallHint();

// Where each library is looked for, sonames first.
const QStringList &cudaRuntimeLibraryNames();
const QStringList &ncclLibraryNames();
const QStringList &nvmlLibraryNames();

struct CudaRuntimeApi {
    using CudaError = gpuapi::CudaError;
    using CudaStream = gpuapi::CudaStream;
    using CudaEvent = gpuapi::CudaEvent;

    CudaError (*runtimeGetVersion)(int *) = nullptr;
    CudaError (*driverGetVersion)(int *) = nullptr; // 0 when no NVIDIA driver is loaded
    CudaError (*getDeviceCount)(int *) = nullptr;
    CudaError (*setDevice)(int) = nullptr;
    CudaError (*deviceGetPciBusId)(char *, int, int) = nullptr;
    CudaError (*malloc)(void **, std::size_t) = nullptr;
    CudaError (*free)(void *) = nullptr;
    CudaError (*memcpy)(void *, const void *, std::size_t, int) = nullptr;
    CudaError (*streamCreateWithFlags)(CudaStream *, unsigned int) = nullptr;
    CudaError (*streamDestroy)(CudaStream) = nullptr;
    CudaError (*streamQuery)(CudaStream) = nullptr;
    CudaError (*eventCreate)(CudaEvent *) = nullptr;
    CudaError (*eventRecord)(CudaEvent, CudaStream) = nullptr;
    CudaError (*eventElapsedTime)(float *, CudaEvent, CudaEvent) = nullptr;
    CudaError (*eventDestroy)(CudaEvent) = nullptr;
    const char *(*getErrorString)(CudaError) = nullptr;

    // Loads the runtime and resolves every entry point above; the error names the library and what is missing.
    static Result<CudaRuntimeApi> load();
    // "cudaMalloc: out of memory (2)"
    QString describe(const char *call, CudaError error) const;
    const QString &libraryName() const { return m_library->loadedName(); }

private:
    std::shared_ptr<SharedLibrary> m_library; // shared: the API is a value that threads copy
};

struct NcclApi {
    using NcclResult = gpuapi::NcclResult;
    using NcclComm = gpuapi::NcclComm;
    using CudaStream = gpuapi::CudaStream;

    NcclResult (*getVersion)(int *) = nullptr;
    NcclResult (*getUniqueId)(gpuapi::NcclUniqueId *) = nullptr;
    NcclResult (*commInitRankConfig)(NcclComm *, int, gpuapi::NcclUniqueId, int, gpuapi::NcclConfig214 *) = nullptr;
    NcclResult (*commGetAsyncError)(NcclComm, NcclResult *) = nullptr;
    NcclResult (*commAbort)(NcclComm) = nullptr;
    NcclResult (*commFinalize)(NcclComm) = nullptr;
    NcclResult (*commDestroy)(NcclComm) = nullptr;
    NcclResult (*allReduce)(const void *, void *, std::size_t, int, int, NcclComm, CudaStream) = nullptr;
    NcclResult (*allGather)(const void *, void *, std::size_t, int, NcclComm, CudaStream) = nullptr;
    NcclResult (*reduceScatter)(const void *, void *, std::size_t, int, int, NcclComm, CudaStream) = nullptr;
    NcclResult (*broadcast)(const void *, void *, std::size_t, int, int, NcclComm, CudaStream) = nullptr;
    const char *(*getErrorString)(NcclResult) = nullptr;
    const char *(*getLastError)(NcclComm) = nullptr;

    static Result<NcclApi> load();
    // "ncclAllReduce: unhandled system error (2): <NCCL's last error>"
    QString describe(const char *call, NcclResult result, NcclComm comm = nullptr) const;
    const QString &libraryName() const { return m_library->loadedName(); }
    int versionCode() const { return m_version; } // 22809 for 2.28.9
    QString versionText() const;

private:
    std::shared_ptr<SharedLibrary> m_library;
    int m_version = 0;
};

struct NvmlApi {
    using NvmlReturn = gpuapi::NvmlReturn;
    using NvmlDevice = gpuapi::NvmlDevice;

    NvmlReturn (*init)() = nullptr;
    NvmlReturn (*shutdown)() = nullptr;
    NvmlReturn (*systemGetDriverVersion)(char *, unsigned int) = nullptr;
    NvmlReturn (*deviceGetHandleByPciBusId)(const char *, NvmlDevice *) = nullptr;
    NvmlReturn (*deviceGetName)(NvmlDevice, char *, unsigned int) = nullptr;
    NvmlReturn (*deviceGetUtilizationRates)(NvmlDevice, gpuapi::NvmlUtilization *) = nullptr;
    NvmlReturn (*deviceGetMemoryInfo)(NvmlDevice, gpuapi::NvmlMemory *) = nullptr;
    NvmlReturn (*deviceGetPowerUsage)(NvmlDevice, unsigned int *) = nullptr; // milliwatts
    NvmlReturn (*deviceGetTemperature)(NvmlDevice, int, unsigned int *) = nullptr;
    NvmlReturn (*deviceGetClockInfo)(NvmlDevice, int, unsigned int *) = nullptr;
    // Optional (nullptr when the driver's NVML lacks it): the reasons the clocks are held down, a bit mask.
    NvmlReturn (*deviceGetCurrentClocksThrottleReasons)(NvmlDevice, unsigned long long *) = nullptr;
    NvmlReturn (*deviceGetNvLinkState)(NvmlDevice, unsigned int, int *) = nullptr;
    NvmlReturn (*deviceGetNvLinkVersion)(NvmlDevice, unsigned int, unsigned int *) = nullptr;
    NvmlReturn (*deviceGetCurrPcieLinkGeneration)(NvmlDevice, unsigned int *) = nullptr;
    NvmlReturn (*deviceGetCurrPcieLinkWidth)(NvmlDevice, unsigned int *) = nullptr;
    const char *(*errorString)(NvmlReturn) = nullptr;

    // Loads NVML and calls nvmlInit; the session ends (nvmlShutdown) when the last copy is destroyed.
    static Result<NvmlApi> load();
    QString describe(const char *call, NvmlReturn result) const;
    const QString &libraryName() const;

private:
    struct Session;
    std::shared_ptr<Session> m_session;
};

} // namespace trainyard
