// The preflight's steps, one per (collective, size, in place or not), run by every GPU's thread in lock step
// (a std::barrier). A step first runs the collective once on known inputs and checks every output element (the
// inputs are small integers in float32, whose sums are exact), then times warm-up and timed iterations between
// two CUDA events. Every wait polls the stream and the communicator against a deadline: a GPU that fails or
// stalls records the first error, aborts its communicator and leaves; the others see the abort and do the same.
#include "gpu/ncclpreflight.h"

#include "gpu/gpuapi.h"

#include <QJsonArray>
#include <QSysInfo>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

namespace trainyard {

namespace {

using namespace gpuapi;
using Clock = std::chrono::steady_clock;

// Outputs are compared in pieces of this size, so checking a 1 GiB buffer needs 64 MiB of host memory per GPU.
constexpr std::int64_t kCheckPieceElements = (std::int64_t(64) << 20) / 4;
constexpr auto kPollInterval = std::chrono::microseconds(50);

struct Step {
    CollectiveOp op;
    std::int64_t bytes;
    std::int64_t elements; // in S
    bool inPlace;
};

// How many float32 elements each GPU sends and receives for S = elements.
struct StepShape {
    std::int64_t sendElements;
    std::int64_t receiveElements;
};
StepShape shapeOf(const Step &step, int ranks)
{
    switch (step.op) {
    case CollectiveOp::AllGather:
        return {step.elements / ranks, step.elements};
    case CollectiveOp::ReduceScatter:
        return {step.elements, step.elements / ranks};
    case CollectiveOp::AllReduce:
    case CollectiveOp::Broadcast:
        break;
    }
    return {step.elements, step.elements};
}

// Rank r's input element i.
float inputValue(int rank, std::int64_t i) { return float((rank + 1) * (1 + i % 7)); }

// What rank r's output element i must be.
float expectedValue(const Step &step, int ranks, int rank, std::int64_t i)
{
    const std::int64_t rankSum = std::int64_t(ranks) * (ranks + 1) / 2;
    switch (step.op) {
    case CollectiveOp::AllReduce:
        return float(rankSum * (1 + i % 7));
    case CollectiveOp::Broadcast:
        return inputValue(0, i); // root 0
    case CollectiveOp::AllGather: {
        const std::int64_t piece = step.elements / ranks;
        return inputValue(int(i / piece), i % piece);
    }
    case CollectiveOp::ReduceScatter: {
        const std::int64_t piece = step.elements / ranks;
        return float(rankSum * (1 + (std::int64_t(rank) * piece + i) % 7));
    }
    }
    return 0;
}

// State every GPU's thread shares.
struct Session {
    Session(int ranks, const std::vector<Step> &planned,
            const std::function<void(const PreflightMeasurement &)> &report)
        : steps(planned), progress(report), seconds(planned.size(), std::vector<double>(std::size_t(ranks), 0)),
          wrong(planned.size(), std::vector<std::int64_t>(std::size_t(ranks), 0)), barrier(ranks, Completion{this})
    { }

    // Runs once per barrier phase: after the step every GPU has finished, it becomes a measurement.
    struct Completion {
        Session *session;
        void operator()() noexcept { session->completeStep(); }
    };

    void completeStep() noexcept
    {
        const std::size_t index = nextStep++;
        if (aborted.load() || index >= steps.size())
            return;
        const Step &step = steps[index];
        PreflightMeasurement measurement;
        measurement.op = step.op;
        measurement.bytes = step.bytes;
        measurement.elements = step.elements;
        measurement.inPlace = step.inPlace;
        const int ranks = int(seconds[index].size());
        for (int rank = 0; rank < ranks; ++rank) {
            measurement.seconds = std::max(measurement.seconds, seconds[index][std::size_t(rank)]);
            measurement.wrongElements += wrong[index][std::size_t(rank)];
        }
        measurement.algorithmGBs = algorithmBandwidth(double(step.bytes), measurement.seconds) / 1e9;
        measurement.busGBs = busBandwidth(step.op, ranks, double(step.bytes), measurement.seconds) / 1e9;
        measurements.append(measurement);
        if (progress)
            progress(measurement);
    }

    void recordFailure(const QString &message)
    {
        const std::lock_guard lock(errorMutex);
        if (error.isEmpty())
            error = message;
        aborted.store(true);
    }

    const std::vector<Step> &steps;
    const std::function<void(const PreflightMeasurement &)> &progress;
    std::vector<std::vector<double>> seconds;     // [step][rank]
    std::vector<std::vector<std::int64_t>> wrong; // [step][rank]
    QList<PreflightMeasurement> measurements;
    std::size_t nextStep = 0;
    std::atomic<bool> aborted{false};
    std::mutex errorMutex;
    QString error;
    std::barrier<Completion> barrier;
};

// One GPU's thread: its device, stream, events, buffers and communicator, released in its destructor.
class RankWorker {
public:
    RankWorker(const CudaRuntimeApi &cuda, const NcclApi &nccl, Session &session, int rank, int ranks, int device,
               const NcclUniqueId &id, const PreflightOptions &options)
        : m_cuda(cuda), m_nccl(nccl), m_session(session), m_rank(rank), m_ranks(ranks), m_device(device), m_id(id),
          m_options(options)
    { }
    ~RankWorker() { release(); }

    void run()
    {
        if (auto started = start(); !started) {
            failAndLeave(started.error());
            return;
        }
        for (std::size_t index = 0; index < m_session.steps.size(); ++index) {
            if (auto stepped = runStep(index, m_session.steps[index]); !stepped) {
                failAndLeave(stepped.error());
                return;
            }
            m_session.barrier.arrive_and_wait();
            if (m_session.aborted.load()) {
                abortAndLeave();
                return;
            }
        }
        if (auto finished = finish(); !finished)
            failAndLeave(finished.error());
        else
            m_session.barrier.arrive_and_drop();
    }

private:
    QString where() const { return QStringLiteral("GPU %1 (rank %2)").arg(m_device).arg(m_rank); }

    Result<void> cudaCall(const char *call, CudaError error) const
    {
        if (error == kCudaSuccess)
            return {};
        return fail(QStringLiteral("%1: %2").arg(where(), m_cuda.describe(call, error)));
    }

    // An NCCL call on a non-blocking communicator may return "in progress": wait until it is not.
    Result<void> ncclCall(const char *call, NcclResult result, const QString &what)
    {
        if (result == kNcclInProgress)
            return waitForCommunicator(call, what);
        if (result != kNcclSuccess)
            return fail(QStringLiteral("%1, %2: %3").arg(where(), what, m_nccl.describe(call, result, m_comm)));
        return {};
    }

    Result<void> checkDeadline(const Clock::time_point deadline, const QString &what) const
    {
        if (m_session.aborted.load())
            return fail(QStringLiteral("%1 stopped: another GPU failed").arg(where()));
        if (Clock::now() > deadline)
            return fail(QStringLiteral("%1: %2 did not complete within %3 s (a hang: the communicator was aborted)")
                            .arg(where(), what)
                            .arg(m_options.timeoutSeconds));
        return {};
    }

    Clock::time_point deadline() const
    {
        return Clock::now()
            + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(m_options.timeoutSeconds));
    }

    // Calls `poll` (true: done) until it is done, fails, another GPU failed, or --timeout passes.
    template <typename Poll>
    Result<void> pollUntilDone(const QString &what, Poll poll)
    {
        const auto until = deadline();
        for (;;) {
            Result<bool> done = poll();
            if (!done)
                return fail(done.error());
            if (done.value())
                return {};
            if (auto late = checkDeadline(until, what); !late)
                return late;
            std::this_thread::sleep_for(kPollInterval);
        }
    }

    Result<void> waitForCommunicator(const char *call, const QString &what)
    {
        return pollUntilDone(what, [&]() -> Result<bool> {
            NcclResult state = kNcclSuccess;
            if (const NcclResult queried = m_nccl.commGetAsyncError(m_comm, &state); queried != kNcclSuccess)
                return fail(QStringLiteral("%1, %2: %3")
                                .arg(where(), what, m_nccl.describe("ncclCommGetAsyncError", queried, m_comm)));
            if (state != kNcclSuccess && state != kNcclInProgress)
                return fail(QStringLiteral("%1, %2: %3").arg(where(), what, m_nccl.describe(call, state, m_comm)));
            return state == kNcclSuccess;
        });
    }

    // Waits until `stream` has run everything enqueued, watching the communicator for asynchronous errors.
    Result<void> waitForStream(CudaStream stream, const QString &what)
    {
        return pollUntilDone(what, [&]() -> Result<bool> {
            const CudaError queried = m_cuda.streamQuery(stream);
            NcclResult state = kNcclSuccess;
            (void)m_nccl.commGetAsyncError(m_comm, &state);
            if (state != kNcclSuccess && state != kNcclInProgress)
                return fail(QStringLiteral("%1, %2: %3")
                                .arg(where(), what, m_nccl.describe("ncclCommGetAsyncError", state, m_comm)));
            if (queried != kCudaSuccess && queried != kCudaErrorNotReady)
                return fail(cudaCall("cudaStreamQuery", queried).error());
            return queried == kCudaSuccess;
        });
    }

    Result<void> start()
    {
        if (auto set = cudaCall("cudaSetDevice", m_cuda.setDevice(m_device)); !set)
            return set;
        const std::size_t bufferBytes = std::size_t(m_options.maxBytes);
        if (auto sent = cudaCall("cudaMalloc", m_cuda.malloc(&m_send, bufferBytes)); !sent)
            return sent;
        if (auto received = cudaCall("cudaMalloc", m_cuda.malloc(&m_receive, bufferBytes)); !received)
            return received;
        if (auto made =
                cudaCall("cudaStreamCreateWithFlags", m_cuda.streamCreateWithFlags(&m_stream, kCudaStreamNonBlocking));
            !made)
            return made;
        if (auto made = cudaCall("cudaEventCreate", m_cuda.eventCreate(&m_begin)); !made)
            return made;
        if (auto made = cudaCall("cudaEventCreate", m_cuda.eventCreate(&m_end)); !made)
            return made;
        NcclConfig214 config{sizeof(NcclConfig214), kNcclConfigMagic, kNcclConfigVersion, 0 /* non-blocking */};
        return ncclCall("ncclCommInitRankConfig", m_nccl.commInitRankConfig(&m_comm, m_ranks, m_id, m_rank, &config),
                        QStringLiteral("starting the communicator"));
    }

    NcclResult enqueue(const Step &step, const void *send, void *receive, std::int64_t count)
    {
        const std::size_t n = std::size_t(count);
        switch (step.op) {
        case CollectiveOp::AllReduce:
            return m_nccl.allReduce(send, receive, n, kNcclFloat32, kNcclSum, m_comm, m_stream);
        case CollectiveOp::AllGather:
            return m_nccl.allGather(send, receive, n, kNcclFloat32, m_comm, m_stream);
        case CollectiveOp::ReduceScatter:
            return m_nccl.reduceScatter(send, receive, n, kNcclFloat32, kNcclSum, m_comm, m_stream);
        case CollectiveOp::Broadcast:
            return m_nccl.broadcast(send, receive, n, kNcclFloat32, 0, m_comm, m_stream);
        }
        return kNcclSuccess;
    }

    // Copies host values made by `value(i)` for elements [0, count) to device memory at `target`, in pieces.
    template <typename Value>
    Result<void> fill(char *target, std::int64_t count, Value value)
    {
        std::vector<float> piece;
        for (std::int64_t first = 0; first < count; first += kCheckPieceElements) {
            const std::int64_t size = std::min(kCheckPieceElements, count - first);
            piece.resize(std::size_t(size));
            for (std::int64_t i = 0; i < size; ++i)
                piece[std::size_t(i)] = value(first + i);
            if (auto copied = cudaCall(
                    "cudaMemcpy",
                    m_cuda.memcpy(target + first * 4, piece.data(), std::size_t(size) * 4, kCudaMemcpyHostToDevice));
                !copied)
                return copied;
        }
        // A copy from pageable memory may return before its DMA lands, and the collectives' stream does not wait
        // for the legacy stream (nullptr) the copies use: wait for it here.
        return waitForStream(nullptr, QStringLiteral("copying the inputs"));
    }

    Result<std::int64_t> countWrong(const char *source, const Step &step, std::int64_t count)
    {
        std::vector<float> piece;
        std::int64_t wrong = 0;
        for (std::int64_t first = 0; first < count; first += kCheckPieceElements) {
            const std::int64_t size = std::min(kCheckPieceElements, count - first);
            piece.resize(std::size_t(size));
            if (auto copied = cudaCall(
                    "cudaMemcpy",
                    m_cuda.memcpy(piece.data(), source + first * 4, std::size_t(size) * 4, kCudaMemcpyDeviceToHost));
                !copied)
                return fail(copied.error());
            for (std::int64_t i = 0; i < size; ++i)
                wrong += piece[std::size_t(i)] != expectedValue(step, m_ranks, m_rank, first + i);
        }
        return wrong;
    }

    Result<void> runStep(std::size_t index, const Step &step)
    {
        const StepShape shape = shapeOf(step, m_ranks);
        const QString what = QStringLiteral("%1 of %2 bytes%3")
                                 .arg(collectiveName(step.op))
                                 .arg(step.bytes)
                                 .arg(step.inPlace ? QStringLiteral(" in place") : QString());
        auto *sendBuffer = static_cast<char *>(m_send);
        auto *receiveBuffer = static_cast<char *>(m_receive);
        // In place, as nccl-tests lays it out: one buffer, a rank's piece of the gathered or scattered whole.
        char *send = sendBuffer;
        char *receive = receiveBuffer;
        if (step.inPlace) {
            if (step.op == CollectiveOp::AllGather)
                send = receiveBuffer + std::int64_t(m_rank) * shape.sendElements * 4;
            else if (step.op == CollectiveOp::ReduceScatter)
                receive = sendBuffer + std::int64_t(m_rank) * shape.receiveElements * 4;
            else
                send = receive;
        }
        const std::int64_t count = step.op == CollectiveOp::AllGather ? shape.sendElements : shape.receiveElements;

        // Checked once on known inputs.
        if (auto filled = fill(send, shape.sendElements, [this](std::int64_t i) { return inputValue(m_rank, i); });
            !filled)
            return filled;
        if (auto enqueued = ncclCall("nccl collective", enqueue(step, send, receive, count), what); !enqueued)
            return enqueued;
        if (auto done = waitForStream(m_stream, what); !done)
            return done;
        auto wrong = countWrong(receive, step, shape.receiveElements);
        if (!wrong)
            return fail(wrong.error());
        m_session.wrong[index][std::size_t(m_rank)] = *wrong;

        // Then timed.
        for (int i = 0; i < m_options.warmupIterations; ++i)
            if (auto enqueued = ncclCall("nccl collective", enqueue(step, send, receive, count), what); !enqueued)
                return enqueued;
        if (auto recorded = cudaCall("cudaEventRecord", m_cuda.eventRecord(m_begin, m_stream)); !recorded)
            return recorded;
        for (int i = 0; i < m_options.iterations; ++i)
            if (auto enqueued = ncclCall("nccl collective", enqueue(step, send, receive, count), what); !enqueued)
                return enqueued;
        if (auto recorded = cudaCall("cudaEventRecord", m_cuda.eventRecord(m_end, m_stream)); !recorded)
            return recorded;
        if (auto done = waitForStream(m_stream, what); !done)
            return done;
        float milliseconds = 0;
        if (auto timed = cudaCall("cudaEventElapsedTime", m_cuda.eventElapsedTime(&milliseconds, m_begin, m_end));
            !timed)
            return timed;
        m_session.seconds[index][std::size_t(m_rank)] = double(milliseconds) / 1000.0 / m_options.iterations;
        return {};
    }

    Result<void> finish()
    {
        if (auto finalized = ncclCall("ncclCommFinalize", m_nccl.commFinalize(m_comm),
                                      QStringLiteral("finalizing the communicator"));
            !finalized)
            return finalized;
        const NcclResult destroyed = m_nccl.commDestroy(m_comm);
        m_comm = nullptr;
        if (destroyed != kNcclSuccess)
            return fail(QStringLiteral("%1: %2").arg(where(), m_nccl.describe("ncclCommDestroy", destroyed)));
        return {};
    }

    void failAndLeave(const QString &message)
    {
        m_session.recordFailure(message);
        abortAndLeave();
    }

    void abortAndLeave()
    {
        if (m_comm) {
            (void)m_nccl.commAbort(m_comm);
            m_comm = nullptr;
        }
        m_session.barrier.arrive_and_drop();
    }

    void release()
    {
        if (m_comm)
            (void)m_nccl.commAbort(m_comm);
        if (m_begin)
            (void)m_cuda.eventDestroy(m_begin);
        if (m_end)
            (void)m_cuda.eventDestroy(m_end);
        if (m_stream)
            (void)m_cuda.streamDestroy(m_stream);
        if (m_send)
            (void)m_cuda.free(m_send);
        if (m_receive)
            (void)m_cuda.free(m_receive);
    }

    const CudaRuntimeApi &m_cuda;
    const NcclApi &m_nccl;
    Session &m_session;
    const int m_rank;
    const int m_ranks;
    const int m_device;
    const NcclUniqueId m_id;
    const PreflightOptions &m_options;
    void *m_send = nullptr;
    void *m_receive = nullptr;
    CudaStream m_stream = nullptr;
    CudaEvent m_begin = nullptr;
    CudaEvent m_end = nullptr;
    NcclComm m_comm = nullptr;
};

std::vector<Step> planSteps(const PreflightOptions &options, int ranks)
{
    std::vector<Step> steps;
    for (CollectiveOp op : options.ops) {
        for (std::int64_t bytes : preflightSizes(options.minBytes, options.maxBytes)) {
            std::int64_t elements = bytes / 4;
            if (op == CollectiveOp::AllGather || op == CollectiveOp::ReduceScatter)
                elements -= elements % ranks; // one equal piece per GPU
            if (elements / (op == CollectiveOp::AllGather || op == CollectiveOp::ReduceScatter ? ranks : 1) == 0)
                continue; // too small to give each GPU an element
            for (bool inPlace : {false, true})
                steps.push_back({op, elements * 4, elements, inPlace});
        }
    }
    return steps;
}

// Names and link class from NVML, for the GPUs by PCI bus id; what is unknown says why.
void describeDevices(const CudaRuntimeApi &cuda, PreflightResult &result)
{
    QStringList busIds;
    for (int device : result.gpus) {
        char busId[64] = {};
        busIds << (cuda.deviceGetPciBusId(busId, int(sizeof(busId)), device) == kCudaSuccess
                       ? QString::fromLatin1(busId)
                       : QStringLiteral("GPU %1").arg(device));
    }
    result.deviceNames = busIds;
    auto nvml = NvmlApi::load();
    if (!nvml) {
        result.link.kind = result.gpus.size() == 1 ? GpuLinkInfo::Kind::None : GpuLinkInfo::Kind::Unknown;
        result.link.description =
            result.gpus.size() == 1 ? QStringLiteral("one GPU") : QStringLiteral("unknown (%1)").arg(nvml.error());
        return;
    }
    int minLinks = std::numeric_limits<int>::max(), nvLinkVersion = 0;
    unsigned minGeneration = std::numeric_limits<unsigned>::max(), minWidth = std::numeric_limits<unsigned>::max();
    for (qsizetype i = 0; i < busIds.size(); ++i) {
        NvmlDevice device = nullptr;
        if (nvml->deviceGetHandleByPciBusId(busIds.at(i).toLatin1().constData(), &device) != kNvmlSuccess)
            continue;
        char name[96] = {};
        if (nvml->deviceGetName(device, name, sizeof(name)) == kNvmlSuccess)
            result.deviceNames[i] = QStringLiteral("%1 (%2)").arg(QString::fromLatin1(name), busIds.at(i));
        int links = 0;
        for (unsigned link = 0; link < kNvmlMaxNvLinks; ++link) {
            int active = 0;
            unsigned version = 0;
            if (nvml->deviceGetNvLinkState(device, link, &active) == kNvmlSuccess && active) {
                ++links;
                if (nvml->deviceGetNvLinkVersion(device, link, &version) == kNvmlSuccess)
                    nvLinkVersion = std::max(nvLinkVersion, int(version));
            }
        }
        minLinks = std::min(minLinks, links);
        unsigned generation = 0, width = 0;
        if (nvml->deviceGetCurrPcieLinkGeneration(device, &generation) == kNvmlSuccess
            && nvml->deviceGetCurrPcieLinkWidth(device, &width) == kNvmlSuccess) {
            minGeneration = std::min(minGeneration, generation);
            minWidth = std::min(minWidth, width);
        }
    }
    if (result.gpus.size() == 1) {
        result.link.kind = GpuLinkInfo::Kind::None;
        result.link.description = QStringLiteral("one GPU");
    } else if (minLinks != std::numeric_limits<int>::max() && minLinks > 0) {
        result.link = nvLinkInfo(nvLinkVersion, minLinks);
    } else if (minGeneration != std::numeric_limits<unsigned>::max()) {
        result.link = pcieLinkInfo(int(minGeneration), int(minWidth));
    } else {
        result.link.kind = GpuLinkInfo::Kind::Unknown;
        result.link.description = QStringLiteral("unknown (NVML reports neither NVLink nor PCIe links for these GPUs)");
    }
}

QString sizeText(double bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB"};
    int unit = 0;
    while (bytes >= 1024 && unit < 3)
        bytes /= 1024, ++unit;
    return QStringLiteral("%1 %2").arg(QString::number(bytes, 'g', 4), QLatin1String(units[unit]));
}

} // namespace

QString linkKindName(GpuLinkInfo::Kind kind)
{
    switch (kind) {
    case GpuLinkInfo::Kind::None:
        return QStringLiteral("none");
    case GpuLinkInfo::Kind::NvLink:
        return QStringLiteral("nvlink");
    case GpuLinkInfo::Kind::Pcie:
        return QStringLiteral("pcie");
    case GpuLinkInfo::Kind::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

GpuLinkInfo nvLinkInfo(int version, int linksPerGpu)
{
    // One-way speed of one link, GB/s: NVLink 1 20, 2-4 25, 5 50 (NVIDIA's data sheets).
    const double perLink = version <= 1 ? 20.0 : version >= 5 ? 50.0 : 25.0;
    GpuLinkInfo info;
    info.kind = GpuLinkInfo::Kind::NvLink;
    info.description = QStringLiteral("NVLink %1, %2 links per GPU").arg(version).arg(linksPerGpu);
    info.expectedBusGBs = perLink * linksPerGpu;
    info.healthyFraction = 0.5;
    return info;
}

GpuLinkInfo pcieLinkInfo(int generation, int width)
{
    // Usable one-way speed of one lane, GB/s, after line coding: Gen1 0.25, Gen2 0.5, Gen3 0.985, Gen4 1.969,
    // Gen5 3.938, Gen6 7.563.
    static constexpr double kLaneGBs[] = {0, 0.25, 0.5, 0.985, 1.969, 3.938, 7.563};
    const int known = std::clamp(generation, 1, int(std::size(kLaneGBs)) - 1);
    GpuLinkInfo info;
    info.kind = GpuLinkInfo::Kind::Pcie;
    info.description = QStringLiteral("PCIe Gen%1 x%2").arg(generation).arg(width);
    info.expectedBusGBs = kLaneGBs[known] * width;
    info.healthyFraction = 0.4; // traffic that crosses the CPU's root complex reaches less than a switch gives
    return info;
}

QList<std::int64_t> preflightSizes(std::int64_t minBytes, std::int64_t maxBytes)
{
    QList<std::int64_t> sizes;
    for (std::int64_t bytes = std::max<std::int64_t>(minBytes, 1); bytes <= maxBytes; bytes *= 2)
        sizes << bytes;
    return sizes;
}

void judgePreflight(PreflightResult &result)
{
    result.healthy = false;
    if (!result.error.isEmpty()) {
        result.verdict = QStringLiteral("failed: %1").arg(result.error);
        return;
    }
    for (const PreflightMeasurement &m : result.measurements) {
        if (m.wrongElements > 0) {
            result.verdict = QStringLiteral("wrong results: %1 of %2%3 gave %4 wrong element(s) over %5 GPU(s)")
                                 .arg(collectiveName(m.op), sizeText(double(m.bytes)),
                                      m.inPlace ? QStringLiteral(" in place") : QString())
                                 .arg(m.wrongElements)
                                 .arg(result.gpus.size());
            return;
        }
    }
    if (result.measurements.isEmpty()) {
        result.verdict =
            QStringLiteral("nothing measured: no size between --min-bytes and --max-bytes gives each GPU an element");
        return;
    }
    const PreflightMeasurement *peak = &result.measurements.first();
    for (const PreflightMeasurement &m : result.measurements)
        if (m.busGBs > peak->busGBs)
            peak = &m;
    if (result.gpus.size() <= 1) {
        result.healthy = true;
        result.verdict = QStringLiteral(
            "healthy: every collective gave correct results on one GPU (no link between GPUs to measure)");
        return;
    }
    const QString peakText =
        QStringLiteral("peak bus bandwidth %1 GB/s (%2, %3)")
            .arg(QString::number(peak->busGBs, 'f', 1), collectiveName(peak->op), sizeText(double(peak->bytes)));
    if (result.link.expectedBusGBs <= 0) {
        result.healthy = true;
        result.verdict = QStringLiteral("correct results; %1; link class %2, so no expectation to compare with")
                             .arg(peakText, result.link.description);
        return;
    }
    const double threshold = result.link.expectedBusGBs * result.link.healthyFraction;
    if (peak->busGBs >= threshold) {
        result.healthy = true;
        result.verdict = QStringLiteral("healthy: correct results; %1, as expected of %2 (at least %3 GB/s)")
                             .arg(peakText, result.link.description, QString::number(threshold, 'f', 0));
    } else {
        result.verdict =
            QStringLiteral(
                "slow: %1, below the %2 GB/s expected of %3; check NCCL_P2P_DISABLE, NCCL_DEBUG=INFO's transport lines "
                "and the topology (nvidia-smi topo -m)")
                .arg(peakText, QString::number(threshold, 'f', 0), result.link.description);
    }
}

Result<PreflightResult> runNcclPreflight(const PreflightOptions &options,
                                         const std::function<void(const PreflightMeasurement &)> &progress)
{
    auto cuda = CudaRuntimeApi::load();
    if (!cuda)
        return fail(QStringLiteral("no CUDA device found: %1").arg(cuda.error()));
    int deviceCount = 0;
    if (const CudaError counted = cuda->getDeviceCount(&deviceCount); counted != kCudaSuccess || deviceCount == 0)
        return fail(QStringLiteral("no CUDA device found%1")
                        .arg(counted != kCudaSuccess
                                 ? QStringLiteral(" (%1)").arg(cuda->describe("cudaGetDeviceCount", counted))
                                 : QString()));
    auto nccl = NcclApi::load();
    if (!nccl)
        return fail(nccl.error());

    PreflightResult result;
    result.startedAt = QDateTime::currentDateTimeUtc();
    result.host = QSysInfo::machineHostName();
    result.nccl = QStringLiteral("NCCL %1 (%2)").arg(nccl->versionText(), nccl->libraryName());
    result.cudaRuntime = cuda->libraryName();
    result.gpus = options.gpus;
    if (result.gpus.isEmpty())
        for (int device = 0; device < deviceCount; ++device)
            result.gpus << device;
    for (int device : result.gpus)
        if (device < 0 || device >= deviceCount)
            return fail(QStringLiteral("GPU %1 does not exist: this machine has %2 CUDA device(s), 0 to %3")
                            .arg(device)
                            .arg(deviceCount)
                            .arg(deviceCount - 1));
    describeDevices(*cuda, result);

    const int ranks = int(result.gpus.size());
    const std::vector<Step> steps = planSteps(options, ranks);
    NcclUniqueId id{};
    if (const NcclResult made = nccl->getUniqueId(&id); made != kNcclSuccess)
        return fail(nccl->describe("ncclGetUniqueId", made));
    Session session(ranks, steps, progress);
    {
        std::vector<std::jthread> threads;
        for (int rank = 0; rank < ranks; ++rank)
            threads.emplace_back([&, rank] {
                RankWorker worker(*cuda, *nccl, session, rank, ranks, result.gpus.at(rank), id, options);
                worker.run();
            });
    }
    result.measurements = session.measurements;
    result.error = session.error;
    judgePreflight(result);
    return result;
}

QJsonObject PreflightResult::toJson() const
{
    QJsonArray rows;
    for (const PreflightMeasurement &m : measurements)
        rows.append(QJsonObject{{QStringLiteral("op"), collectiveName(m.op)},
                                {QStringLiteral("bytes"), qint64(m.bytes)},
                                {QStringLiteral("elements"), qint64(m.elements)},
                                {QStringLiteral("in_place"), m.inPlace},
                                {QStringLiteral("seconds"), m.seconds},
                                {QStringLiteral("algbw_gbs"), m.algorithmGBs},
                                {QStringLiteral("busbw_gbs"), m.busGBs},
                                {QStringLiteral("wrong"), qint64(m.wrongElements)}});
    QJsonArray gpuArray, names;
    for (int gpu : gpus)
        gpuArray.append(gpu);
    for (const QString &name : deviceNames)
        names.append(name);
    return QJsonObject{
        {QStringLiteral("started_at"), startedAt.toString(Qt::ISODateWithMs)},
        {QStringLiteral("host"), host},
        {QStringLiteral("gpus"), gpuArray},
        {QStringLiteral("devices"), names},
        {QStringLiteral("nccl"), nccl},
        {QStringLiteral("cuda_runtime"), cudaRuntime},
        {QStringLiteral("link"),
         QJsonObject{{QStringLiteral("kind"), linkKindName(link.kind)},
                     {QStringLiteral("description"), link.description},
                     {QStringLiteral("expected_busbw_gbs"), link.expectedBusGBs},
                     {QStringLiteral("healthy_fraction"), link.healthyFraction}}},
        {QStringLiteral("measurements"), rows},
        {QStringLiteral("error"), error},
        {QStringLiteral("healthy"), healthy},
        {QStringLiteral("verdict"), verdict},
    };
}

Result<PreflightResult> PreflightResult::fromJson(const QJsonObject &object)
{
    PreflightResult result;
    result.startedAt = QDateTime::fromString(object.value(QStringLiteral("started_at")).toString(), Qt::ISODateWithMs);
    if (!result.startedAt.isValid())
        return fail(QStringLiteral("a preflight result without a valid started_at"));
    result.host = object.value(QStringLiteral("host")).toString();
    for (const QJsonValue &gpu : object.value(QStringLiteral("gpus")).toArray())
        result.gpus << gpu.toInt();
    for (const QJsonValue &name : object.value(QStringLiteral("devices")).toArray())
        result.deviceNames << name.toString();
    result.nccl = object.value(QStringLiteral("nccl")).toString();
    result.cudaRuntime = object.value(QStringLiteral("cuda_runtime")).toString();
    const QJsonObject link = object.value(QStringLiteral("link")).toObject();
    const QString kind = link.value(QStringLiteral("kind")).toString();
    for (GpuLinkInfo::Kind candidate :
         {GpuLinkInfo::Kind::None, GpuLinkInfo::Kind::NvLink, GpuLinkInfo::Kind::Pcie, GpuLinkInfo::Kind::Unknown})
        if (linkKindName(candidate) == kind)
            result.link.kind = candidate;
    result.link.description = link.value(QStringLiteral("description")).toString();
    result.link.expectedBusGBs = link.value(QStringLiteral("expected_busbw_gbs")).toDouble();
    result.link.healthyFraction = link.value(QStringLiteral("healthy_fraction")).toDouble();
    for (const QJsonValue &value : object.value(QStringLiteral("measurements")).toArray()) {
        const QJsonObject row = value.toObject();
        const auto op = parseCollective(row.value(QStringLiteral("op")).toString());
        if (!op)
            return fail(QStringLiteral("a preflight measurement of an unknown collective '%1'")
                            .arg(row.value(QStringLiteral("op")).toString()));
        PreflightMeasurement m;
        m.op = *op;
        m.bytes = row.value(QStringLiteral("bytes")).toInteger();
        m.elements = row.value(QStringLiteral("elements")).toInteger();
        m.inPlace = row.value(QStringLiteral("in_place")).toBool();
        m.seconds = row.value(QStringLiteral("seconds")).toDouble();
        m.algorithmGBs = row.value(QStringLiteral("algbw_gbs")).toDouble();
        m.busGBs = row.value(QStringLiteral("busbw_gbs")).toDouble();
        m.wrongElements = row.value(QStringLiteral("wrong")).toInteger();
        result.measurements << m;
    }
    result.error = object.value(QStringLiteral("error")).toString();
    result.healthy = object.value(QStringLiteral("healthy")).toBool();
    result.verdict = object.value(QStringLiteral("verdict")).toString();
    return result;
}

} // namespace trainyard
