#include "perf/chrometrace.h"

#include <QFile>
#include <QFileInfo>

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>
#include <unordered_map>

namespace trainyard {

namespace {

std::string_view trimToken(std::string_view token)
{
    while (!token.empty()
           && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' || token.back() == '\t'))
        token.remove_suffix(1);
    if (token.size() >= 2 && token.front() == '"' && token.back() == '"')
        token = token.substr(1, token.size() - 2);
    return token;
}

QString fromView(std::string_view view) { return QString::fromUtf8(view.data(), qsizetype(view.size())); }

struct RawEvent {
    double ts = 0;
    double dur = 0;
    std::int32_t name = -1;
    std::int32_t category = -1;
    std::int32_t lane = -1;
    std::uint32_t argsOffset = 0;
    std::uint32_t argsLength = 0;
    char ph = 0;
};

struct LaneKey {
    std::string_view pid;
    std::string_view tid;
};

struct MetadataEvent {
    std::int32_t name = -1;
    LaneKey key;
    std::uint32_t argsOffset = 0;
    std::uint32_t argsLength = 0;
};

} // namespace

// Builds a ChromeTrace's data; a friend, so that the data stays immutable once shared.
struct ChromeTraceBuilder {
    static Result<ChromeTrace> build(std::string text, const QString &what);
};

ChromeTrace::ChromeTrace() : m_data(std::make_shared<Data>()) { }

Result<ChromeTrace> ChromeTrace::load(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read the trace %1: %2").arg(path, file.errorString()));
    const qint64 size = file.size();
    if (size == 0)
        return fail(QStringLiteral("the trace %1 is empty").arg(path));
    if (size > qint64(std::numeric_limits<std::uint32_t>::max()) - qint64(simdjson::SIMDJSON_PADDING))
        return fail(QStringLiteral("the trace %1 is larger than 4 GiB, which the viewer does not open").arg(path));
    std::string text;
    text.resize(std::size_t(size) + simdjson::SIMDJSON_PADDING);
    if (file.read(text.data(), size) != size)
        return fail(QStringLiteral("cannot read the trace %1: %2").arg(path, file.errorString()));
    text.resize(std::size_t(size));
    return ChromeTraceBuilder::build(std::move(text), path);
}

Result<ChromeTrace> ChromeTrace::parse(std::string text, const QString &what)
{
    return ChromeTraceBuilder::build(std::move(text), what);
}

Result<ChromeTrace> ChromeTraceBuilder::build(std::string text, const QString &what)
{
    using namespace simdjson;
    const std::size_t size = text.size();
    if (size > std::numeric_limits<std::uint32_t>::max() - SIMDJSON_PADDING)
        return fail(QStringLiteral("the trace %1 is larger than 4 GiB, which the viewer does not open").arg(what));
    text.reserve(size + SIMDJSON_PADDING);
    text.append(SIMDJSON_PADDING, '\0');
    const char *const begin = text.data();

    // A file cut short (a profiler that was killed while writing, a copy that stopped) is said as such.
    std::size_t last = size;
    while (last > 0 && std::isspace(static_cast<unsigned char>(begin[last - 1])))
        --last;
    if (last == 0)
        return fail(QStringLiteral("the trace %1 is empty").arg(what));
    const auto truncated = [&] {
        return fail(QStringLiteral("the trace %1 is truncated: it ends at byte %2 before its list of events is "
                                   "closed (was it still being written?)")
                        .arg(what)
                        .arg(size));
    };
    std::size_t first = 0;
    while (first < last && std::isspace(static_cast<unsigned char>(begin[first])))
        ++first;
    if (begin[first] != '[' && begin[first] != '{')
        return fail(
            QStringLiteral("%1 is not a Chrome trace: it holds neither a list of events nor an object with "
                           "traceEvents (it starts with '%2')")
                .arg(what, QString::fromUtf8(begin + first, qsizetype(std::min<std::size_t>(12, last - first)))));
    if (begin[last - 1] != ']' && begin[last - 1] != '}')
        return truncated();

    ondemand::parser parser;
    ondemand::document document;
    const auto invalid = [&](error_code error) -> Result<ChromeTrace> {
        if (error == INCOMPLETE_ARRAY_OR_OBJECT)
            return truncated();
        const char *at = nullptr;
        const qint64 offset = document.current_location().get(at) == SUCCESS ? qint64(at - begin) : -1;
        return fail(QStringLiteral("the trace %1 is not valid JSON: %2%3")
                        .arg(what, QString::fromUtf8(error_message(error)),
                             offset >= 0 ? QStringLiteral(" (at byte %1)").arg(offset) : QString()));
    };
    if (auto error = parser.iterate(padded_string_view(begin, size, text.size())).get(document))
        return invalid(error);

    ondemand::array events;
    ondemand::json_type type;
    if (auto error = document.type().get(type))
        return invalid(error);
    if (type == ondemand::json_type::array) {
        if (auto error = document.get_array().get(events))
            return invalid(error);
    } else if (type == ondemand::json_type::object) {
        ondemand::value traceEvents;
        const auto error = document.find_field_unordered("traceEvents").get(traceEvents);
        if (error == NO_SUCH_FIELD)
            return fail(QStringLiteral("%1 is not a Chrome trace: its object has no traceEvents list").arg(what));
        if (error)
            return invalid(error);
        if (auto arrayError = traceEvents.get_array().get(events))
            return arrayError == INCORRECT_TYPE
                ? fail(QStringLiteral("%1 is not a Chrome trace: traceEvents is not a list").arg(what))
                : invalid(arrayError);
    } else {
        return fail(QStringLiteral("%1 is not a Chrome trace: expected a list of events or an object with "
                                   "traceEvents")
                        .arg(what));
    }

    ChromeTrace trace;
    auto data = std::make_shared<ChromeTrace::Data>();
    std::unordered_map<std::string_view, std::int32_t> nameIndex; // views into the parser's strings
    const auto intern = [&](std::string_view name) {
        auto [it, inserted] = nameIndex.try_emplace(name, std::int32_t(data->names.size()));
        if (inserted)
            data->names.emplace_back(name);
        return it->second;
    };
    std::vector<LaneKey> laneKeys;
    std::unordered_map<std::string, std::int32_t> laneIndex;
    std::int32_t lastLane = -1;
    const auto laneOf = [&](std::string_view pid, std::string_view tid) {
        if (lastLane >= 0 && laneKeys[std::size_t(lastLane)].pid == pid && laneKeys[std::size_t(lastLane)].tid == tid)
            return lastLane;
        std::string key;
        key.reserve(pid.size() + tid.size() + 1);
        key.append(pid).push_back('\x1f');
        key.append(tid);
        auto [it, inserted] = laneIndex.try_emplace(std::move(key), std::int32_t(laneKeys.size()));
        if (inserted)
            laneKeys.push_back({pid, tid});
        lastLane = it->second;
        return lastLane;
    };

    std::vector<RawEvent> raw;
    std::vector<MetadataEvent> metadata;
    std::unordered_map<std::int32_t, std::vector<RawEvent>> openBegins; // lane -> B events not yet ended
    std::int64_t skipped = 0;
    for (auto element : events) {
        ondemand::object object;
        if (auto error = element.get_object().get(object)) {
            if (error != INCORRECT_TYPE)
                return invalid(error);
            ++skipped; // a list item that is not an event object
            continue;
        }
        RawEvent event;
        bool hasTs = false;
        std::string_view pid, tid;
        for (auto field : object) {
            std::string_view key;
            if (auto error = field.unescaped_key().get(key))
                return invalid(error);
            ondemand::value value = field.value();
            // On-demand parsing checks only what is read: a field of ours that is not even a JSON value fails here.
            ondemand::json_type valueType;
            if (auto error = value.type().get(valueType))
                return invalid(error);
            if (key == "ph") {
                std::string_view ph;
                if (value.get_string().get(ph) == SUCCESS && !ph.empty())
                    event.ph = ph.front();
            } else if (key == "name") {
                std::string_view name;
                if (value.get_string().get(name) == SUCCESS)
                    event.name = intern(name);
            } else if (key == "ts" || key == "dur") {
                double number = 0;
                auto error = value.get_double().get(number);
                if (error == INCORRECT_TYPE)
                    error = value.get_double_in_string().get(number);
                if (error == SUCCESS && std::isfinite(number)) {
                    (key == "ts" ? event.ts : event.dur) = number;
                    hasTs = hasTs || key == "ts";
                }
            } else if (key == "pid") {
                pid = trimToken(value.raw_json_token());
            } else if (key == "tid") {
                tid = trimToken(value.raw_json_token());
            } else if (key == "cat") {
                std::string_view category;
                if (value.get_string().get(category) == SUCCESS && !category.empty())
                    event.category = intern(category);
            } else if (key == "args") {
                ondemand::object args;
                std::string_view json;
                if (value.get_object().get(args) == SUCCESS && args.raw_json().get(json) == SUCCESS
                    && json.size() > 2) {
                    event.argsOffset = std::uint32_t(json.data() - begin);
                    event.argsLength = std::uint32_t(json.size());
                }
            }
        }
        if (event.ph == 'M') {
            metadata.push_back({event.name, {pid, tid}, event.argsOffset, event.argsLength});
            continue;
        }
        const bool complete = event.ph == 'X';
        const bool instant = event.ph == 'i' || event.ph == 'I' || event.ph == 'n';
        const bool beginOrEnd = event.ph == 'B' || event.ph == 'E';
        if (!hasTs || (!complete && !instant && !beginOrEnd) || event.dur < 0) {
            ++skipped;
            continue;
        }
        event.lane = laneOf(pid, tid);
        if (event.ph == 'B') {
            openBegins[event.lane].push_back(event);
            continue;
        }
        if (event.ph == 'E') {
            auto &open = openBegins[event.lane];
            if (open.empty()) {
                ++skipped;
                continue;
            }
            RawEvent opened = open.back();
            open.pop_back();
            opened.dur = std::max(0.0, event.ts - opened.ts);
            if (opened.argsLength == 0) {
                opened.argsOffset = event.argsOffset;
                opened.argsLength = event.argsLength;
            }
            event = opened;
        }
        if (event.name < 0)
            event.name = intern("(unnamed)");
        if (instant)
            event.dur = 0;
        raw.push_back(event);
    }
    for (const auto &[lane, open] : openBegins)
        skipped += std::int64_t(open.size()); // begun, never ended

    // Lanes that hold an event (a begin never ended leaves none), named by the process_name / thread_name metadata
    // where the trace has it.
    std::vector<std::int32_t> laneRemap(laneKeys.size(), -1);
    for (const RawEvent &event : raw)
        laneRemap[std::size_t(event.lane)] = 0;
    std::vector<LaneKey> keptKeys;
    for (std::size_t lane = 0; lane < laneKeys.size(); ++lane)
        if (laneRemap[lane] == 0) {
            laneRemap[lane] = std::int32_t(keptKeys.size());
            keptKeys.push_back(laneKeys[lane]);
        }
    for (RawEvent &event : raw)
        event.lane = laneRemap[std::size_t(event.lane)];
    laneKeys = std::move(keptKeys);
    data->lanes.resize(laneKeys.size());
    for (std::size_t lane = 0; lane < laneKeys.size(); ++lane) {
        data->lanes[lane].process = fromView(laneKeys[lane].pid);
        data->lanes[lane].thread = QStringLiteral("thread ") + fromView(laneKeys[lane].tid);
    }
    ondemand::parser metadataParser;
    for (const MetadataEvent &event : metadata) {
        if (event.name < 0 || event.argsLength == 0)
            continue;
        const std::string &kind = data->names[std::size_t(event.name)];
        if (kind != "process_name" && kind != "thread_name")
            continue;
        const padded_string args(std::string_view(begin + event.argsOffset, event.argsLength));
        std::string_view label;
        ondemand::document argsDocument;
        if (metadataParser.iterate(args).get(argsDocument) != SUCCESS
            || argsDocument.find_field_unordered("name").get_string().get(label) != SUCCESS)
            continue;
        const QString text = fromView(label);
        for (std::size_t lane = 0; lane < laneKeys.size(); ++lane) {
            if (laneKeys[lane].pid != event.key.pid)
                continue;
            if (kind == "process_name")
                data->lanes[lane].process = text;
            else if (laneKeys[lane].tid == event.key.tid)
                data->lanes[lane].thread = text;
        }
    }

    // Times from the first event; events nested into rows per lane: sorted by start (the longer first when two
    // start together), each one's depth is how many open events contain it, and its self time is its duration
    // less its direct children's.
    double origin = raw.empty() ? 0 : raw.front().ts;
    for (const RawEvent &event : raw)
        origin = std::min(origin, event.ts);
    std::vector<std::uint32_t> order(raw.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        const RawEvent &x = raw[a], &y = raw[b];
        if (x.lane != y.lane)
            return x.lane < y.lane;
        if (x.ts != y.ts)
            return x.ts < y.ts;
        return x.dur > y.dur;
    });
    std::vector<TraceEvent> laid(raw.size());
    std::vector<std::uint32_t> stack;
    double end = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const RawEvent &source = raw[order[i]];
        TraceEvent &event = laid[i];
        if (i == 0 || raw[order[i - 1]].lane != source.lane)
            stack.clear();
        event.startUs = source.ts - origin;
        event.durationUs = source.dur;
        event.selfUs = source.dur;
        event.name = source.name;
        event.category = source.category;
        event.lane = source.lane;
        event.argsOffset = source.argsOffset;
        event.argsLength = source.argsLength;
        while (!stack.empty() && laid[stack.back()].endUs() <= event.startUs)
            stack.pop_back();
        event.depth = std::int32_t(stack.size());
        if (!stack.empty())
            laid[stack.back()].selfUs -= std::min(event.durationUs, laid[stack.back()].endUs() - event.startUs);
        stack.push_back(std::uint32_t(i));
        end = std::max(end, event.endUs());
    }
    for (TraceEvent &event : laid)
        event.selfUs = std::max(0.0, event.selfUs);
    std::stable_sort(laid.begin(), laid.end(), [](const TraceEvent &a, const TraceEvent &b) {
        if (a.lane != b.lane)
            return a.lane < b.lane;
        if (a.depth != b.depth)
            return a.depth < b.depth;
        return a.startUs < b.startUs;
    });
    for (std::uint32_t i = 0; i < laid.size();) {
        TraceLane &lane = data->lanes[std::size_t(laid[i].lane)];
        const std::int32_t depth = laid[i].depth;
        std::uint32_t j = i;
        while (j < laid.size() && laid[j].lane == laid[i].lane && laid[j].depth == depth)
            ++j;
        lane.rows.resize(std::size_t(depth) + 1, {i, i});
        lane.rows[std::size_t(depth)] = {i, j};
        lane.depthCount = depth + 1;
        i = j;
    }

    // The steps the Trainyard client marked (ProfilerStep#<step>), the first of each number.
    std::vector<bool> isStepName(data->names.size());
    for (std::size_t index = 0; index < data->names.size(); ++index)
        isStepName[index] = data->names[index].rfind("ProfilerStep#", 0) == 0;
    for (const TraceEvent &event : laid) {
        if (!isStepName[std::size_t(event.name)])
            continue;
        bool ok = false;
        const qint64 step = QString::fromStdString(data->names[std::size_t(event.name)]).mid(13).toLongLong(&ok);
        if (ok
            && std::none_of(data->steps.begin(), data->steps.end(), [&](const TraceStep &s) { return s.step == step; }))
            data->steps.push_back({step, event.startUs, event.durationUs});
    }
    std::sort(data->steps.begin(), data->steps.end(),
              [](const TraceStep &a, const TraceStep &b) { return a.startUs < b.startUs; });

    data->events = std::move(laid);
    data->originUs = origin;
    data->endUs = end;
    data->skipped = skipped;
    data->textSize = size;
    data->text = std::move(text);
    trace.m_data = std::move(data);
    return trace;
}

QString ChromeTrace::name(std::int32_t index) const
{
    if (index < 0 || std::size_t(index) >= m_data->names.size())
        return {};
    return QString::fromStdString(m_data->names[std::size_t(index)]);
}

QString ChromeTrace::args(const TraceEvent &event) const
{
    if (event.argsLength == 0)
        return {};
    return QString::fromUtf8(m_data->text.data() + event.argsOffset, qsizetype(event.argsLength));
}

QList<TraceOperator> ChromeTrace::operators() const
{
    struct Totals {
        std::int64_t calls = 0;
        double total = 0;
        double self = 0;
        std::int32_t category = -1;
    };
    std::vector<Totals> byName(m_data->names.size());
    for (const TraceEvent &event : m_data->events) {
        Totals &totals = byName[std::size_t(event.name)];
        ++totals.calls;
        totals.total += event.durationUs;
        totals.self += event.selfUs;
        if (totals.category < 0)
            totals.category = event.category;
    }
    QList<TraceOperator> operators;
    for (std::size_t index = 0; index < byName.size(); ++index) {
        if (byName[index].calls == 0 || m_data->names[index].rfind("ProfilerStep#", 0) == 0)
            continue;
        operators.append({name(std::int32_t(index)), name(byName[index].category), byName[index].calls,
                          byName[index].total, byName[index].self});
    }
    std::sort(operators.begin(), operators.end(), [](const TraceOperator &a, const TraceOperator &b) {
        return a.selfUs != b.selfUs ? a.selfUs > b.selfUs : a.name < b.name;
    });
    return operators;
}

std::uint32_t ChromeTrace::firstEndingAfter(int lane, int depth, double us) const
{
    const TraceLane &row = m_data->lanes[std::size_t(lane)];
    const auto [first, last] = row.rows[std::size_t(depth)];
    const auto &events = m_data->events;
    // Events of a row do not nest, so their ends grow with their starts.
    return std::uint32_t(std::partition_point(events.begin() + first, events.begin() + last,
                                              [us](const TraceEvent &e) { return e.endUs() < us; })
                         - events.begin());
}

std::int64_t ChromeTrace::eventAt(int lane, int depth, double us, double slackUs) const
{
    if (lane < 0 || std::size_t(lane) >= m_data->lanes.size() || depth < 0
        || depth >= m_data->lanes[std::size_t(lane)].depthCount)
        return -1;
    const auto last = m_data->lanes[std::size_t(lane)].rows[std::size_t(depth)].second;
    std::int64_t best = -1;
    double bestDistance = slackUs;
    for (std::uint32_t i = firstEndingAfter(lane, depth, us - slackUs); i < last; ++i) {
        const TraceEvent &event = m_data->events[i];
        if (event.startUs > us + slackUs)
            break;
        const double distance = us < event.startUs ? event.startUs - us : us > event.endUs() ? us - event.endUs() : 0;
        if (distance <= bestDistance) {
            best = i;
            bestDistance = distance;
            if (distance == 0)
                break;
        }
    }
    return best;
}

} // namespace trainyard
