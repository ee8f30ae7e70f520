// Compiled only where the CUDA runtime and NCCL headers are installed: checks, at compile time, that every
// declaration in gpuapi.h matches the vendor's (types with their opaque handles as void * and enums as int).
// A wrong argument type or count, constant or struct layout fails the build instead of a run on a GPU.
#include "gpu/gpuapi.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstddef>
#include <type_traits>

namespace trainyard::gpuapi {
namespace {

// A vendor type as gpuapi.h spells it.
template <typename T, typename = void>
struct Erased {
    using type = T;
};
template <typename T>
using ErasedT = typename Erased<T>::type;
template <typename T>
struct Erased<T, std::enable_if_t<std::is_enum_v<T>>> {
    using type = int;
};
template <typename T>
struct Erased<const T> {
    using type = const ErasedT<T>;
};
template <typename T>
struct Erased<T *> {
    using type = ErasedT<T> *;
};
template <>
struct Erased<cudaStream_t> {
    using type = void *;
};
template <>
struct Erased<cudaEvent_t> {
    using type = void *;
};
template <>
struct Erased<ncclComm_t> {
    using type = void *;
};
template <>
struct Erased<ncclUniqueId> {
    using type = NcclUniqueId;
};
template <>
struct Erased<ncclConfig_t> {
    using type = NcclConfig214; // its prefix: checked field by field below
};
template <typename R, typename... Arguments>
struct Erased<R (*)(Arguments...)> {
    using type = ErasedT<R> (*)(ErasedT<Arguments>...);
};

#define TRAINYARD_SAME_SIGNATURE(member, vendorFunction)                                                               \
    static_assert(std::is_same_v<decltype(member), ErasedT<decltype(&vendorFunction)>>,                                \
                  #vendorFunction " differs from gpuapi.h")
// For a C function that the C++ header overloads: the C overload, named by its vendor signature, must exist.
#define TRAINYARD_SAME_C_OVERLOAD(member, vendorFunction, vendorSignature)                                             \
    static_assert(std::is_same_v<decltype(member), ErasedT<decltype(static_cast<vendorSignature>(&vendorFunction))>>,  \
                  #vendorFunction " differs from gpuapi.h")

TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::runtimeGetVersion, ::cudaRuntimeGetVersion);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::driverGetVersion, ::cudaDriverGetVersion);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::getDeviceCount, ::cudaGetDeviceCount);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::setDevice, ::cudaSetDevice);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::deviceGetPciBusId, ::cudaDeviceGetPCIBusId);
TRAINYARD_SAME_C_OVERLOAD(CudaRuntimeApi::malloc, ::cudaMalloc, cudaError_t (*)(void **, size_t));
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::free, ::cudaFree);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::memcpy, ::cudaMemcpy);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::streamCreateWithFlags, ::cudaStreamCreateWithFlags);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::streamDestroy, ::cudaStreamDestroy);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::streamQuery, ::cudaStreamQuery);
TRAINYARD_SAME_C_OVERLOAD(CudaRuntimeApi::eventCreate, ::cudaEventCreate, cudaError_t (*)(cudaEvent_t *));
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::eventRecord, ::cudaEventRecord);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::eventElapsedTime, ::cudaEventElapsedTime);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::eventDestroy, ::cudaEventDestroy);
TRAINYARD_SAME_SIGNATURE(CudaRuntimeApi::getErrorString, ::cudaGetErrorString);

TRAINYARD_SAME_SIGNATURE(NcclApi::getVersion, ::ncclGetVersion);
TRAINYARD_SAME_SIGNATURE(NcclApi::getUniqueId, ::ncclGetUniqueId);
TRAINYARD_SAME_SIGNATURE(NcclApi::commInitRankConfig, ::ncclCommInitRankConfig);
TRAINYARD_SAME_SIGNATURE(NcclApi::commGetAsyncError, ::ncclCommGetAsyncError);
TRAINYARD_SAME_SIGNATURE(NcclApi::commAbort, ::ncclCommAbort);
TRAINYARD_SAME_SIGNATURE(NcclApi::commFinalize, ::ncclCommFinalize);
TRAINYARD_SAME_SIGNATURE(NcclApi::commDestroy, ::ncclCommDestroy);
TRAINYARD_SAME_SIGNATURE(NcclApi::allReduce, ::ncclAllReduce);
TRAINYARD_SAME_SIGNATURE(NcclApi::allGather, ::ncclAllGather);
TRAINYARD_SAME_SIGNATURE(NcclApi::reduceScatter, ::ncclReduceScatter);
TRAINYARD_SAME_SIGNATURE(NcclApi::broadcast, ::ncclBroadcast);
TRAINYARD_SAME_SIGNATURE(NcclApi::getErrorString, ::ncclGetErrorString);
TRAINYARD_SAME_SIGNATURE(NcclApi::getLastError, ::ncclGetLastError);

#undef TRAINYARD_SAME_SIGNATURE
#undef TRAINYARD_SAME_C_OVERLOAD

static_assert(kCudaSuccess == cudaSuccess && kCudaErrorNotReady == cudaErrorNotReady);
static_assert(kCudaMemcpyHostToDevice == cudaMemcpyHostToDevice && kCudaMemcpyDeviceToHost == cudaMemcpyDeviceToHost);
static_assert(kCudaStreamNonBlocking == cudaStreamNonBlocking);
static_assert(kNcclSuccess == ncclSuccess && kNcclInProgress == ncclInProgress);
static_assert(kNcclFloat32 == ncclFloat32 && kNcclSum == ncclSum);
static_assert(sizeof(NcclUniqueId) == sizeof(ncclUniqueId));
static_assert(offsetof(NcclConfig214, size) == offsetof(ncclConfig_t, size)
              && offsetof(NcclConfig214, magic) == offsetof(ncclConfig_t, magic)
              && offsetof(NcclConfig214, version) == offsetof(ncclConfig_t, version)
              && offsetof(NcclConfig214, blocking) == offsetof(ncclConfig_t, blocking));
static_assert(sizeof(NcclConfig214) <= sizeof(ncclConfig_t));
static_assert(NCCL_VERSION(2, 14, 0) == kNcclConfigVersion);

} // namespace
} // namespace trainyard::gpuapi
