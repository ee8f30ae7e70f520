// Loading the CUDA runtime, NCCL and NVML: every entry point resolved once, and an error that names the library
// and each missing symbol.
#include "gpu/gpuapi.h"

namespace trainyard {

namespace {

template <typename Function>
void resolveInto(const SharedLibrary &library, const char *symbol, Function &target, QStringList &missing)
{
    if (auto resolved = library.resolve<Function>(symbol))
        target = resolved.value();
    else
        missing << QLatin1String(symbol);
}

QString incomplete(const SharedLibrary &library, const QStringList &missing)
{
    return QStringLiteral("%1 lacks %2: it is older than Trainyard needs")
        .arg(library.loadedName(), missing.join(QStringLiteral(", ")));
}

} // namespace

QString ncclInstallHint()
{
    return QStringLiteral("install NCCL 2.14 or newer (libnccl2 from NVIDIA's CUDA repository, or the CUDA toolkit's "
                          "lib folder in LD_LIBRARY_PATH)");
}

const QStringList &cudaRuntimeLibraryNames()
{
    static const QStringList names = {
        QStringLiteral("libcudart.so.13"), QStringLiteral("libcudart.so.12"), QStringLiteral("libcudart.so"),
        QStringLiteral("/usr/local/cuda/lib64/libcudart.so.13"), QStringLiteral("/usr/local/cuda/lib64/libcudart.so")};
    return names;
}

const QStringList &ncclLibraryNames()
{
    static const QStringList names = {QStringLiteral("libnccl.so.2"),
                                      QStringLiteral("/usr/local/cuda/lib64/libnccl.so.2"),
                                      QStringLiteral("/usr/local/cuda/lib/libnccl.so.2")};
    return names;
}

const QStringList &nvmlLibraryNames()
{
    static const QStringList names = {QStringLiteral("libnvidia-ml.so.1")};
    return names;
}

Result<CudaRuntimeApi> CudaRuntimeApi::load()
{
    auto library = SharedLibrary::open(cudaRuntimeLibraryNames());
    if (!library)
        return fail(QStringLiteral("CUDA runtime not found (%1)").arg(library.error()));
    CudaRuntimeApi api;
    QStringList missing;
    resolveInto(*library, "cudaRuntimeGetVersion", api.runtimeGetVersion, missing);
    resolveInto(*library, "cudaDriverGetVersion", api.driverGetVersion, missing);
    resolveInto(*library, "cudaGetDeviceCount", api.getDeviceCount, missing);
    resolveInto(*library, "cudaSetDevice", api.setDevice, missing);
    resolveInto(*library, "cudaDeviceGetPCIBusId", api.deviceGetPciBusId, missing);
    resolveInto(*library, "cudaMalloc", api.malloc, missing);
    resolveInto(*library, "cudaFree", api.free, missing);
    resolveInto(*library, "cudaMemcpy", api.memcpy, missing);
    resolveInto(*library, "cudaStreamCreateWithFlags", api.streamCreateWithFlags, missing);
    resolveInto(*library, "cudaStreamDestroy", api.streamDestroy, missing);
    resolveInto(*library, "cudaStreamQuery", api.streamQuery, missing);
    resolveInto(*library, "cudaEventCreate", api.eventCreate, missing);
    resolveInto(*library, "cudaEventRecord", api.eventRecord, missing);
    resolveInto(*library, "cudaEventElapsedTime", api.eventElapsedTime, missing);
    resolveInto(*library, "cudaEventDestroy", api.eventDestroy, missing);
    resolveInto(*library, "cudaGetErrorString", api.getErrorString, missing);
    if (!missing.isEmpty())
        return fail(incomplete(*library, missing));
    api.m_library = std::make_shared<SharedLibrary>(std::move(library.value()));
    return api;
}

QString CudaRuntimeApi::describe(const char *call, CudaError error) const
{
    return QStringLiteral("%1: %2 (%3)")
        .arg(QLatin1String(call), QString::fromLatin1(getErrorString(error)))
        .arg(error);
}

Result<NcclApi> NcclApi::load()
{
    auto library = SharedLibrary::open(ncclLibraryNames());
    if (!library)
        return fail(QStringLiteral("NCCL not found: %1 (%2)").arg(ncclInstallHint(), library.error()));
    NcclApi api;
    QStringList missing;
    resolveInto(*library, "ncclGetVersion", api.getVersion, missing);
    resolveInto(*library, "ncclGetUniqueId", api.getUniqueId, missing);
    resolveInto(*library, "ncclCommInitRankConfig", api.commInitRankConfig, missing);
    resolveInto(*library, "ncclCommGetAsyncError", api.commGetAsyncError, missing);
    resolveInto(*library, "ncclCommAbort", api.commAbort, missing);
    resolveInto(*library, "ncclCommFinalize", api.commFinalize, missing);
    resolveInto(*library, "ncclCommDestroy", api.commDestroy, missing);
    resolveInto(*library, "ncclAllReduce", api.allReduce, missing);
    resolveInto(*library, "ncclAllGather", api.allGather, missing);
    resolveInto(*library, "ncclReduceScatter", api.reduceScatter, missing);
    resolveInto(*library, "ncclBroadcast", api.broadcast, missing);
    resolveInto(*library, "ncclGetErrorString", api.getErrorString, missing);
    resolveInto(*library, "ncclGetLastError", api.getLastError, missing);
    if (!missing.isEmpty())
        return fail(incomplete(*library, missing));
    if (api.getVersion(&api.m_version) != gpuapi::kNcclSuccess || api.m_version < int(gpuapi::kNcclConfigVersion))
        return fail(QStringLiteral("NCCL %1 (%2) is too old: %3")
                        .arg(api.versionText(), library->loadedName(), ncclInstallHint()));
    api.m_library = std::make_shared<SharedLibrary>(std::move(library.value()));
    return api;
}

QString NcclApi::versionText() const
{
    return QStringLiteral("%1.%2.%3").arg(m_version / 10000).arg((m_version / 100) % 100).arg(m_version % 100);
}

QString NcclApi::describe(const char *call, NcclResult result, NcclComm comm) const
{
    QString text =
        QStringLiteral("%1: %2 (%3)").arg(QLatin1String(call), QString::fromLatin1(getErrorString(result))).arg(result);
    if (const char *last = getLastError(comm); last && *last)
        text += QStringLiteral(": ") + QString::fromLocal8Bit(last);
    return text;
}

struct NvmlApi::Session {
    Session(SharedLibrary loaded, NvmlReturn (*shutdownFunction)())
        : library(std::move(loaded)), shutdown(shutdownFunction)
    { }
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;
    SharedLibrary library;
    NvmlReturn (*shutdown)() = nullptr;
    ~Session()
    {
        if (shutdown)
            (void)shutdown();
    }
};

Result<NvmlApi> NvmlApi::load()
{
    auto library = SharedLibrary::open(nvmlLibraryNames());
    if (!library)
        return fail(QStringLiteral("NVML not found: the NVIDIA driver is not installed (%1)").arg(library.error()));
    NvmlApi api;
    QStringList missing;
    resolveInto(*library, "nvmlInit_v2", api.init, missing);
    resolveInto(*library, "nvmlShutdown", api.shutdown, missing);
    resolveInto(*library, "nvmlSystemGetDriverVersion", api.systemGetDriverVersion, missing);
    resolveInto(*library, "nvmlDeviceGetHandleByPciBusId_v2", api.deviceGetHandleByPciBusId, missing);
    resolveInto(*library, "nvmlDeviceGetName", api.deviceGetName, missing);
    resolveInto(*library, "nvmlDeviceGetUtilizationRates", api.deviceGetUtilizationRates, missing);
    resolveInto(*library, "nvmlDeviceGetMemoryInfo", api.deviceGetMemoryInfo, missing);
    resolveInto(*library, "nvmlDeviceGetPowerUsage", api.deviceGetPowerUsage, missing);
    resolveInto(*library, "nvmlDeviceGetTemperature", api.deviceGetTemperature, missing);
    resolveInto(*library, "nvmlDeviceGetClockInfo", api.deviceGetClockInfo, missing);
    resolveInto(*library, "nvmlDeviceGetNvLinkState", api.deviceGetNvLinkState, missing);
    resolveInto(*library, "nvmlDeviceGetNvLinkVersion", api.deviceGetNvLinkVersion, missing);
    resolveInto(*library, "nvmlDeviceGetCurrPcieLinkGeneration", api.deviceGetCurrPcieLinkGeneration, missing);
    resolveInto(*library, "nvmlDeviceGetCurrPcieLinkWidth", api.deviceGetCurrPcieLinkWidth, missing);
    resolveInto(*library, "nvmlErrorString", api.errorString, missing);
    if (!missing.isEmpty())
        return fail(incomplete(*library, missing));
    QStringList optional; // telemetry goes without it
    resolveInto(*library, "nvmlDeviceGetCurrentClocksThrottleReasons", api.deviceGetCurrentClocksThrottleReasons,
                optional);
    if (const NvmlReturn started = api.init(); started != gpuapi::kNvmlSuccess)
        return fail(QStringLiteral("NVML (%1) could not start: %2")
                        .arg(library->loadedName(), QString::fromLatin1(api.errorString(started))));
    api.m_session = std::make_shared<Session>(std::move(library.value()), api.shutdown);
    return api;
}

const QString &NvmlApi::libraryName() const { return m_session->library.loadedName(); }

QString NvmlApi::describe(const char *call, NvmlReturn result) const
{
    return QStringLiteral("%1: %2 (%3)").arg(QLatin1String(call), QString::fromLatin1(errorString(result))).arg(result);
}

} // namespace trainyard
