// Trace viewer benchmark: a generated Chrome trace of 500,000 events (about 100 MB, the shape Kineto writes: CPU
// operators nested four deep on two threads, kernels on two CUDA streams, args on every event) opened by the Traces
// tab's parser and layout (ChromeTrace::load), against simdjson alone walking the same file (DOM parse and a read of
// every event's fields) in the same run; then the timeline panned across the whole trace, frames per second.
//   build/ci/tests/bench/bench_trace [EVENTS]
#include "perf/chrometrace.h"
#include "views/tracetimeline.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QTemporaryDir>

#include <simdjson.h>

#include <cstdio>
#include <string>

using namespace trainyard;

namespace {

// Writes `count` events; returns the file's size.
qint64 writeTrace(const QString &path, int count)
{
    static const char *const cpuOps[] = {"aten::linear",  "aten::addmm", "aten::matmul",
                                         "aten::mm",      "aten::relu",  "aten::layer_norm",
                                         "aten::softmax", "aten::copy_", "aten::empty",
                                         "aten::add_",    "aten::mul",   "aten::scaled_dot_product_attention"};
    static const char *const kernels[] = {
        "ampere_bf16_s16816gemm_bf16_128x128_ldg8_f2f_tn",
        "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add>",
        "void at::native::(anonymous namespace)::layer_norm_kernel<float>", "ncclDevKernel_AllReduce_Sum_bf16_RING_LL"};
    std::string text =
        "{\"schemaVersion\": 1, \"traceEvents\": [\n"
        "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": 4242, \"tid\": 0, \"args\": {\"name\": \"python3 "
        "train.py\"}},\n"
        "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": 4242, \"tid\": 4242, \"args\": {\"name\": \"main "
        "thread\"}},\n"
        "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": 4242, \"tid\": 4250, \"args\": {\"name\": "
        "\"autograd\"}},\n"
        "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": 0, \"tid\": 0, \"args\": {\"name\": \"GPU 0\"}}";
    text.reserve(std::size_t(count) * 230);
    double ts = 1796255440000000.0;
    char line[1024];
    int written = 0;
    for (int step = 0; written < count; ++step) {
        // A step: one annotation, then operators nested (depth 1..3) on two threads, and kernels on two streams.
        const double stepStart = ts;
        int inStep = 0;
        for (; inStep < 2000 && written < count; ++inStep) {
            const int tid = inStep % 8 < 6 ? 4242 : 4250;
            const bool kernel = inStep % 4 == 3;
            const char *name = kernel ? kernels[inStep % 4] : cpuOps[inStep % 12];
            const int depth = inStep % 3;
            const double dur = 40.0 / (depth + 1) + (inStep % 7);
            std::snprintf(line, sizeof line,
                          ",\n{\"ph\": \"X\", \"cat\": \"%s\", \"name\": \"%s\", \"pid\": %d, \"tid\": %s, \"ts\": "
                          "%.3f, \"dur\": %.3f, \"args\": {\"External id\": %d, "
                          "\"Sequence number\": %d, \"Input Dims\": [[32, 1024], [1024, 1024]]}}",
                          kernel ? "kernel" : "cpu_op", name, kernel ? 0 : 4242,
                          kernel ? (inStep % 8 == 3 ? "\"stream 7\"" : "\"stream 13\"")
                                 : (tid == 4242 ? "4242" : "4250"),
                          ts + depth * 2.0, dur, written, step);
            text += line;
            ++written;
            if (depth == 2)
                ts += 45;
        }
        std::snprintf(line, sizeof line,
                      ",\n{\"ph\": \"X\", \"cat\": \"user_annotation\", \"name\": \"ProfilerStep#%d\", \"pid\": "
                      "4242, \"tid\": 4242, \"ts\": %.3f, \"dur\": %.3f, \"args\": {}}",
                      step, stepStart - 1, ts - stepStart + 2);
        text += line;
        ++written;
        ts += 100;
    }
    text += "\n], \"displayTimeUnit\": \"ms\"}\n";
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text.data(), qint64(text.size())) != qint64(text.size()))
        return -1;
    return qint64(text.size());
}

// simdjson alone: the DOM parse of the file and a walk reading every event's ph, name, ts and dur.
double simdjsonAloneMs(const QString &path, std::size_t &events)
{
    QElapsedTimer timer;
    timer.start();
    simdjson::padded_string text;
    if (simdjson::padded_string::load(path.toStdString()).get(text))
        return -1;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(text).get(root))
        return -1;
    events = 0;
    double sum = 0;
    for (simdjson::dom::element event : root["traceEvents"].get_array()) {
        std::string_view ph, name;
        double tsValue = 0, dur = 0;
        const bool read = !event["ph"].get(ph) && !event["name"].get(name) && !event["ts"].get(tsValue);
        if (event["dur"].get(dur))
            dur = 0;
        sum += read ? dur + double(name.size() + ph.size()) : 0;
        ++events;
    }
    return sum > 0 ? double(timer.nsecsElapsed()) / 1e6 : -1;
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const int count = argc > 1 ? std::atoi(argv[1]) : 500000;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("rank0.json"));
    const qint64 bytes = writeTrace(path, count);
    if (bytes < 0) {
        std::fprintf(stderr, "cannot write %s\n", qPrintable(path));
        return 1;
    }
    std::printf("trace: %d events, %.1f MB (simdjson implementation: %s)\n", count, double(bytes) / 1e6,
                simdjson::get_active_implementation()->name().c_str());

    std::size_t walked = 0;
    double baselineMs = 1e300, openMs = 1e300, layoutMs = 1e300;
    ChromeTrace trace;
    for (int round = 0; round < 3; ++round) {
        baselineMs = std::min(baselineMs, simdjsonAloneMs(path, walked));
        QElapsedTimer timer;
        timer.start();
        auto loaded = ChromeTrace::load(path);
        const double loadMs = double(timer.nsecsElapsed()) / 1e6;
        if (!loaded) {
            std::fprintf(stderr, "%s\n", qPrintable(loaded.error()));
            return 1;
        }
        trace = loaded.value();
        TraceTimeline timeline;
        timeline.resize(1600, 900);
        timeline.setTraces({{QStringLiteral("rank 0"), trace}});
        QImage image(timeline.size(), QImage::Format_ARGB32_Premultiplied);
        QPainter painter(&image);
        timeline.render(&painter);
        painter.end();
        const double totalMs = double(timer.nsecsElapsed()) / 1e6;
        if (totalMs < openMs) {
            openMs = totalMs;
            layoutMs = loadMs;
        }
    }
    std::printf("| step | time |\n|---|---|\n");
    std::printf("| simdjson alone (DOM parse + read every event's fields, %zu events) | %.0f ms |\n", walked,
                baselineMs);
    std::printf("| ChromeTrace::load (parse, lanes, nesting, self times) | %.0f ms |\n", layoutMs);
    std::printf("| open: load + first frame of the timeline (1600x900) | %.0f ms |\n", openMs);

    // Panning: the view at a zoom showing 2% of the trace, moved across all of it, a frame each move.
    TraceTimeline timeline;
    timeline.resize(1600, 900);
    timeline.setTraces({{QStringLiteral("rank 0"), trace}});
    const double span = trace.durationUs() * 0.02;
    QImage image(timeline.size(), QImage::Format_ARGB32_Premultiplied);
    for (const double fraction : {0.02, 1.0}) {
        const double width = trace.durationUs() * fraction;
        const int frames = 120;
        QElapsedTimer timer;
        timer.start();
        for (int frame = 0; frame < frames; ++frame) {
            const double x0 = (trace.durationUs() - width) * frame / (frames - 1);
            timeline.setTimeRange(x0, x0 + width);
            QPainter painter(&image);
            timeline.render(&painter);
        }
        const double seconds = double(timer.nsecsElapsed()) / 1e9;
        std::printf("| pan, %s of the trace in view: %d frames | %.1f ms a frame, %.0f frames/s |\n",
                    fraction < 1 ? "2%" : "all", frames, seconds * 1000 / frames, frames / seconds);
    }
    (void)span;
    return 0;
}
