// ChromeTrace: a Chrome trace-event JSON file (what torch.profiler's export_chrome_trace writes, and Kineto, and
// Chrome's own tracing) parsed with simdjson and laid out for a timeline: one lane per process and thread (a CUDA
// stream is a thread of its device), events nested into rows by depth, each event's self time, the steps the
// Trainyard client marked (ProfilerStep#N), and the operators ranked by self and total time.
//
// Read: complete events (ph X), begin/end pairs (B/E), instants (i/I), and the process_name / thread_name metadata
// (M). Counters, flows and other phases are counted and left out. Times are microseconds, from the trace's first
// event. The trace's text is kept (shared, read-only) so that an event's args are shown as written.
#pragma once

#include "result.h"

#include <QList>
#include <QString>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace trainyard {

struct TraceEvent {
    double startUs = 0; // from the trace's origin (its first event)
    double durationUs = 0;
    double selfUs = 0;          // duration less the events directly nested in it
    std::int32_t name = 0;      // into ChromeTrace::names()
    std::int32_t category = -1; // into ChromeTrace::names(), -1 when none
    std::int32_t lane = 0;
    std::int32_t depth = 0;
    std::uint32_t argsOffset = 0; // the args' JSON text in the trace, empty when none
    std::uint32_t argsLength = 0;
    double endUs() const { return startUs + durationUs; }
};

struct TraceLane {
    QString process; // the process_name metadata, or the pid as written
    QString thread;  // the thread_name metadata, or "thread <tid>"
    int depthCount = 0;
    // Row d (depth d) is events()[rows[d].first, rows[d].second), sorted by start; events of a row do not nest.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> rows;
    QString label() const { return process.isEmpty() ? thread : process + QStringLiteral(" · ") + thread; }
};

struct TraceStep {
    std::int64_t step = 0;
    double startUs = 0;
    double durationUs = 0;
};

struct TraceOperator {
    QString name;
    QString category;
    std::int64_t calls = 0;
    double totalUs = 0;
    double selfUs = 0;
};

class ChromeTrace {
public:
    ChromeTrace();

    // Reads and parses a trace file; an error names the file and what is wrong (not JSON, truncated, not a trace).
    static Result<ChromeTrace> load(const QString &path);
    // Parses trace text; `what` names it in errors.
    static Result<ChromeTrace> parse(std::string text, const QString &what);

    const std::vector<TraceEvent> &events() const { return m_data->events; }
    const std::vector<TraceLane> &lanes() const { return m_data->lanes; }
    const std::vector<TraceStep> &steps() const { return m_data->steps; }
    QString name(std::int32_t index) const;
    QString args(const TraceEvent &event) const;                   // the args object's JSON text, empty when none
    double durationUs() const { return m_data->endUs; }            // from the origin to the last event's end
    double originUs() const { return m_data->originUs; }           // the first event's timestamp as written
    std::int64_t skippedEvents() const { return m_data->skipped; } // events of phases not drawn, or malformed
    std::size_t byteSize() const { return m_data->textSize; }

    // Operators (every event but the step markers) by name, the largest self time first.
    QList<TraceOperator> operators() const;
    // The index of the event of `lane`'s row `depth` under time `us` (within `slackUs`), or -1.
    std::int64_t eventAt(int lane, int depth, double us, double slackUs = 0) const;
    // The first event index of a row that ends after `us` (events of a row are sorted and do not overlap).
    std::uint32_t firstEndingAfter(int lane, int depth, double us) const;

private:
    struct Data {
        std::string text; // the trace as read (plus simdjson's padding), for args
        std::size_t textSize = 0;
        std::vector<std::string> names;
        std::vector<TraceEvent> events;
        std::vector<TraceLane> lanes;
        std::vector<TraceStep> steps;
        double originUs = 0;
        double endUs = 0;
        std::int64_t skipped = 0;
    };
    std::shared_ptr<const Data> m_data;
    friend struct ChromeTraceBuilder;
};

} // namespace trainyard
