// Reading run specs with yaml-cpp. Every node is checked for its type before use, so a wrong type is a
// message with its position, never an exception escaping.
#include "spec/runspec.h"

#include "controlcharacters.h"
#include "runfolder/runfolder.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <QSet>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <optional>

namespace trainyard {

QString environmentNameProblem(const QString &name)
{
    if (name.isEmpty())
        return QStringLiteral("an environment variable needs a name");
    if (name.contains(QLatin1Char('=')))
        return QStringLiteral("environment variable name '%1' contains '=' (the name ends at the first '=')").arg(name);
    if (const auto at = firstControlCharacter(name))
        return QStringLiteral("environment variable name '%1' contains a control character (position %2)")
            .arg(name.simplified())
            .arg(*at + 1);
    return {};
}

QString environmentValueProblem(const QString &value)
{
    if (value.contains(QChar(0)))
        return QStringLiteral("an environment variable's value cannot hold a NUL character (position %1)")
            .arg(value.indexOf(QChar(0)) + 1);
    return {};
}

std::optional<int> durationMs(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0 || seconds > kMaxDurationS)
        return std::nullopt;
    return int(std::llround(seconds * 1000));
}

namespace {

const QStringList kTopLevelKeys = {QStringLiteral("name"),
                                   QStringLiteral("command"),
                                   QStringLiteral("shell"),
                                   QStringLiteral("cwd"),
                                   QStringLiteral("env"),
                                   QStringLiteral("params"),
                                   QStringLiteral("resources"),
                                   QStringLiteral("backend"),
                                   QStringLiteral("strategy"),
                                   QStringLiteral("nccl"),
                                   QStringLiteral("param_passing"),
                                   QStringLiteral("max_restarts"),
                                   QStringLiteral("hang_timeout_s"),
                                   QStringLiteral("grace_s"),
                                   QStringLiteral("tags"),
                                   QStringLiteral("notes"),
                                   QStringLiteral("sweep"),
                                   QStringLiteral("slurm"),
                                   QStringLiteral("model"),
                                   QStringLiteral("project"),
                                   QStringLiteral("tensorboard"),
                                   QStringLiteral("alerts"),
                                   QStringLiteral("checkpoints"),
                                   QStringLiteral("resume_from")};
const QStringList kAlertKeys = {QStringLiteral("metric"), QStringLiteral("when"),       QStringLiteral("below"),
                                QStringLiteral("above"),  QStringLiteral("after_step"), QStringLiteral("action")};
const QStringList kSlurmKeys = {QStringLiteral("partition"),      QStringLiteral("account"),
                                QStringLiteral("time_limit_min"), QStringLiteral("cpus_per_task"),
                                QStringLiteral("gpus_per_node"),  QStringLiteral("sbatch")};
const QStringList kModelKeys = {QStringLiteral("params"),      QStringLiteral("layers"),
                                QStringLiteral("hidden"),      QStringLiteral("heads"),
                                QStringLiteral("vocab"),       QStringLiteral("seq_len"),
                                QStringLiteral("micro_batch"), QStringLiteral("optimizer"),
                                QStringLiteral("gpu_memory"),  QStringLiteral("activation_checkpointing"),
                                QStringLiteral("peak_tflops")};
const QStringList kSweepKeys = {
    QStringLiteral("grid"),       QStringLiteral("random"), QStringLiteral("seeds"),
    QStringLiteral("seed_param"), QStringLiteral("method"), QStringLiteral("trials"),
    QStringLiteral("parallel"),   QStringLiteral("seed"),   QStringLiteral("startup_trials"),
    QStringLiteral("params"),     QStringLiteral("metric"), QStringLiteral("early_stop"),
    QStringLiteral("median_stop")};
const QStringList kTpeOnlyKeys = {QStringLiteral("trials"), QStringLiteral("parallel"),
                                  QStringLiteral("seed"),   QStringLiteral("startup_trials"),
                                  QStringLiteral("params"), QStringLiteral("metric")};
const QStringList kEnumerateOnlyKeys = {QStringLiteral("grid"), QStringLiteral("random"), QStringLiteral("seeds"),
                                        QStringLiteral("seed_param")};
const QStringList kEarlyStopKeys = {QStringLiteral("metric"), QStringLiteral("mode"), QStringLiteral("rungs"),
                                    QStringLiteral("reduction"), QStringLiteral("max_step")};
const QStringList kMedianStopKeys = {QStringLiteral("metric"), QStringLiteral("mode"), QStringLiteral("rungs"),
                                     QStringLiteral("min_runs"), QStringLiteral("max_step")};
const QStringList kObjectiveKeys = {QStringLiteral("key"), QStringLiteral("mode"), QStringLiteral("statistic")};
const QStringList kRandomKeys = {QStringLiteral("samples"), QStringLiteral("seed"), QStringLiteral("params")};
const QStringList kRandomAxisKeys = {QStringLiteral("distribution"), QStringLiteral("min"), QStringLiteral("max"),
                                     QStringLiteral("choice")};
const QStringList kResourceKeys = {QStringLiteral("nodes"), QStringLiteral("ranks_per_node"), QStringLiteral("gpus")};
const QStringList kParamKeys = {QStringLiteral("type"), QStringLiteral("value"), QStringLiteral("choices")};
const QStringList kPassingKeys = {QStringLiteral("args"), QStringLiteral("env"), QStringLiteral("config_file")};
const QStringList kConfigFileKeys = {QStringLiteral("path"), QStringLiteral("arg")};
const QStringList kNcclKeys = {QStringLiteral("debug"),
                               QStringLiteral("debug_subsys"),
                               QStringLiteral("async_error_handling"),
                               QStringLiteral("trace_buffer_size"),
                               QStringLiteral("p2p_disable"),
                               QStringLiteral("ib_disable"),
                               QStringLiteral("socket_ifname")};
const QStringList kStrategyKeys = {QStringLiteral("name"), QStringLiteral("precision"), QStringLiteral("offload")};

class SpecReader {
public:
    SpecReader(QString source) : m_source(std::move(source)) { }

    Error at(const YAML::Node &node, const QString &message) const
    {
        const YAML::Mark mark = node.Mark();
        return fail(QStringLiteral("%1:%2:%3: %4").arg(m_source).arg(mark.line + 1).arg(mark.column + 1).arg(message));
    }

    Result<QString> scalar(const YAML::Node &node, const QString &what) const
    {
        if (!node.IsScalar())
            return at(node, QStringLiteral("%1 must be a string").arg(what));
        return QString::fromStdString(node.Scalar());
    }

    Result<QString> string(const YAML::Node &node, const QString &what) const { return scalar(node, what); }

    Result<bool> boolean(const YAML::Node &node, const QString &what) const
    {
        bool value = false;
        if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
            return at(node, QStringLiteral("%1 must be true or false").arg(what));
        return value;
    }

    Result<int> integer(const YAML::Node &node, const QString &what, int minimum) const
    {
        bool ok = false;
        const int value = node.IsScalar() ? QString::fromStdString(node.Scalar()).toInt(&ok) : 0;
        if (!ok)
            return at(node, QStringLiteral("%1 must be an integer").arg(what));
        if (value < minimum)
            return at(node, QStringLiteral("%1 must be at least %2 (got %3)").arg(what).arg(minimum).arg(value));
        return value;
    }

    Result<double> seconds(const YAML::Node &node, const QString &what) const
    {
        bool ok = false;
        const double value = node.IsScalar() ? QString::fromStdString(node.Scalar()).toDouble(&ok) : 0;
        if (!ok || !std::isfinite(value))
            return at(node, QStringLiteral("%1 must be a number of seconds").arg(what));
        if (value < 0)
            return at(node, QStringLiteral("%1 must not be negative (got %2)").arg(what).arg(value));
        if (!durationMs(value))
            return at(node,
                      QStringLiteral("%1 must be at most %2 seconds (a week; got %3)")
                          .arg(what)
                          .arg(kMaxDurationS)
                          .arg(value));
        return value;
    }

    Result<QStringList> stringList(const YAML::Node &node, const QString &what) const
    {
        if (!node.IsSequence())
            return at(node, QStringLiteral("%1 must be a list of strings").arg(what));
        QStringList items;
        for (const YAML::Node &item : node) {
            auto text = scalar(item, QStringLiteral("every item of %1").arg(what));
            if (!text)
                return fail(text.error());
            items << text.value();
        }
        return items;
    }

    Result<QList<QPair<QString, QString>>> stringMap(const YAML::Node &node, const QString &what) const
    {
        if (!node.IsMap())
            return at(node, QStringLiteral("%1 must be a mapping of names to values").arg(what));
        QList<QPair<QString, QString>> entries;
        for (const auto &entry : node) {
            auto key = scalar(entry.first, QStringLiteral("a name in %1").arg(what));
            if (!key)
                return fail(key.error());
            auto value = scalar(entry.second, QStringLiteral("%1.%2").arg(what, key.value()));
            if (!value)
                return fail(value.error());
            entries << qMakePair(key.value(), value.value());
        }
        return entries;
    }

    // An optional key: when `node` is there, `target` takes what `read` (a reader above, such as &SpecReader::string,
    // given `what` and its further arguments) makes of it; when it is not, `target` keeps its default.
    template <typename T, typename Value, typename... Extra>
    Result<void> optional(const YAML::Node &node, T &target,
                          Result<Value> (SpecReader::*read)(const YAML::Node &, const QString &, Extra...) const,
                          const QString &what, Extra... extra) const
    {
        if (!node)
            return {};
        auto value = (this->*read)(node, what, extra...);
        if (!value)
            return fail(value.error());
        target = std::move(value.value());
        return {};
    }

    Result<void> onlyKnownKeys(const YAML::Node &map, const QStringList &known, const QString &where) const
    {
        for (const auto &entry : map) {
            const QString key = QString::fromStdString(entry.first.Scalar());
            if (!known.contains(key))
                return at(entry.first,
                          QStringLiteral("unknown key '%1'%2 (known: %3)")
                              .arg(key, where.isEmpty() ? QString() : QStringLiteral(" in ") + where,
                                   known.join(QStringLiteral(", "))));
        }
        return {};
    }

private:
    QString m_source;
};

} // namespace

namespace {

// The first byte that is not part of valid UTF-8, as 1-based line and column; nullopt when the text is valid.
std::optional<std::pair<int, int>> firstInvalidUtf8(const QByteArray &text)
{
    int line = 1;
    int column = 1;
    const auto *bytes = reinterpret_cast<const unsigned char *>(text.constData());
    const qsizetype size = text.size();
    for (qsizetype i = 0; i < size;) {
        const unsigned char lead = bytes[i];
        int length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
        if (length == 0 || i + length > size)
            return std::pair{line, column};
        std::uint32_t codePoint = length == 1 ? lead : lead & (0x7f >> length);
        for (int k = 1; k < length; ++k) {
            if ((bytes[i + k] & 0xc0) != 0x80)
                return std::pair{line, column};
            codePoint = (codePoint << 6) | (bytes[i + k] & 0x3f);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
        constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (codePoint < kSmallest[length] || (codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff)
            return std::pair{line, column};
        if (lead == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
        i += length;
    }
    return std::nullopt;
}

// A key given twice in one mapping, anywhere in the document (yaml-cpp keeps one of them silently). Aliases make the
// document a graph that may loop (`a: &x [*x]`, found by fuzz_runspec) or grow exponentially: the walk stops with an
// error past kMaxSpecDepth levels or kMaxSpecNodes nodes, far beyond any real spec.
constexpr int kMaxSpecDepth = 32;
constexpr int kMaxSpecNodes = 100000;

std::optional<QString> findDuplicateKey(const YAML::Node &node, const QString &sourceName, int depth, int &nodesLeft)
{
    if (depth > kMaxSpecDepth || --nodesLeft < 0)
        return QStringLiteral(
                   "%1:%2:%3: the spec nests deeper than %4 levels or holds more than %5 values (an alias that refers "
                   "to itself?)")
            .arg(sourceName)
            .arg(node.Mark().line + 1)
            .arg(node.Mark().column + 1)
            .arg(kMaxSpecDepth)
            .arg(kMaxSpecNodes);
    if (node.IsMap()) {
        QSet<QString> seen;
        for (const auto &entry : node) {
            if (entry.first.IsScalar()) {
                const QString key = QString::fromStdString(entry.first.Scalar());
                if (seen.contains(key))
                    return QStringLiteral("%1:%2:%3: '%4' is given twice in the same mapping")
                        .arg(sourceName)
                        .arg(entry.first.Mark().line + 1)
                        .arg(entry.first.Mark().column + 1)
                        .arg(key);
                seen.insert(key);
            }
            if (auto inner = findDuplicateKey(entry.second, sourceName, depth + 1, nodesLeft))
                return inner;
        }
    } else if (node.IsSequence()) {
        for (const auto &element : node) {
            if (auto inner = findDuplicateKey(element, sourceName, depth + 1, nodesLeft))
                return inner;
        }
    }
    return std::nullopt;
}

// The first failure among reads made in order, or success. Every read has run, but a spec that fails is dropped
// whole, so what the later ones wrote does not matter.
Result<void> firstFailure(std::initializer_list<Result<void>> results)
{
    for (const Result<void> &result : results)
        if (!result)
            return result;
    return {};
}

// `command:`: the program and its arguments, each one a C string (no NUL).
Result<void> readCommand(const SpecReader &reader, YAML::Node root, const QString &sourceName, RunSpec &spec)
{
    const YAML::Node command = root["command"];
    if (!command)
        return fail(QStringLiteral("%1:1:1: missing 'command' (a list: program and arguments)").arg(sourceName));
    auto commandList = reader.stringList(command, QStringLiteral("'command'"));
    if (!commandList)
        return fail(commandList.error());
    if (commandList->isEmpty())
        return reader.at(command, QStringLiteral("'command' must name a program"));
    // A NUL ends a C string: the program would get less than the run records (issue 15).
    for (qsizetype i = 0; i < commandList->size(); ++i) {
        if (commandList->at(i).contains(QChar(0)))
            return reader.at(
                command[std::size_t(i)],
                QStringLiteral("'command' element %1 holds a NUL byte, which no program can receive").arg(i + 1));
    }
    spec.command = commandList.value();
    return {};
}

// `env:`: variables every rank gets, each name and value one execve can pass.
Result<void> readEnv(const SpecReader &reader, const YAML::Node &env, RunSpec &spec)
{
    auto entries = reader.stringMap(env, QStringLiteral("'env'"));
    if (!entries)
        return fail(entries.error());
    for (const auto &[key, value] : entries.value()) {
        if (const QString problem = environmentNameProblem(key); !problem.isEmpty())
            return reader.at(env, QStringLiteral("'env': %1").arg(problem));
        if (const QString problem = environmentValueProblem(value); !problem.isEmpty())
            return reader.at(env[key.toStdString()], QStringLiteral("'env.%1': %2").arg(key, problem));
        spec.env.insert(key, value);
    }
    return {};
}

// `resources:`: nodes, ranks per node and this machine's GPUs (one rank per GPU).
Result<void> readResources(const SpecReader &reader, const YAML::Node &resources, RunSpec &spec)
{
    if (!resources.IsMap())
        return reader.at(resources, QStringLiteral("'resources' must be a mapping (nodes, ranks_per_node, gpus)"));
    if (auto known = reader.onlyKnownKeys(resources, kResourceKeys, QStringLiteral("'resources'")); !known)
        return fail(known.error());
    if (auto read = firstFailure({reader.optional(resources["nodes"], spec.nodes, &SpecReader::integer,
                                                  QStringLiteral("'resources.nodes'"), 1),
                                  reader.optional(resources["ranks_per_node"], spec.ranksPerNode, &SpecReader::integer,
                                                  QStringLiteral("'resources.ranks_per_node'"), 1)});
        !read)
        return read;
    if (const YAML::Node gpus = resources["gpus"]) {
        if (!gpus.IsSequence())
            return reader.at(gpus, QStringLiteral("'resources.gpus' must be a list of GPU indices, e.g. [0, 2]"));
        for (const YAML::Node &gpu : gpus) {
            auto index = reader.integer(gpu, QStringLiteral("every GPU in 'resources.gpus'"), 0);
            if (!index)
                return fail(index.error());
            if (spec.gpus.contains(index.value()))
                return reader.at(gpu, QStringLiteral("GPU %1 is listed twice in 'resources.gpus'").arg(index.value()));
            spec.gpus << index.value();
        }
        if (!spec.gpus.isEmpty() && !resources["ranks_per_node"])
            spec.ranksPerNode = int(spec.gpus.size());
        if (!spec.gpus.isEmpty() && spec.gpus.size() != spec.ranksPerNode)
            return reader.at(gpus,
                             QStringLiteral("%1 GPUs for %2 ranks per node; give one rank per GPU")
                                 .arg(spec.gpus.size())
                                 .arg(spec.ranksPerNode));
    }
    return {};
}

// `strategy:`: a name (strategy: zero2) or a mapping (name, precision, offload).
Result<void> readStrategy(const SpecReader &reader, const YAML::Node &strategy, RunSpec &spec)
{
    // Either a name (strategy: zero2) or a mapping (name, precision, offload).
    const YAML::Node nameNode = strategy.IsMap() ? strategy["name"] : strategy;
    if (strategy.IsMap()) {
        if (auto known = reader.onlyKnownKeys(strategy, kStrategyKeys, QStringLiteral("'strategy'")); !known)
            return fail(known.error());
        if (!nameNode)
            return reader.at(strategy, QStringLiteral("'strategy' needs a 'name'"));
    }
    auto name = reader.string(nameNode, QStringLiteral("'strategy'"));
    if (!name)
        return fail(name.error());
    const auto parsed = parseStrategy(name.value());
    if (!parsed)
        return reader.at(nameNode,
                         QStringLiteral("strategy '%1' is not one of ddp, zero1, zero2, zero3, fsdp-full-shard, "
                                        "fsdp-shard-grad-op, fsdp-hybrid-shard")
                             .arg(name.value()));
    spec.strategy.strategy = *parsed;
    if (strategy.IsMap()) {
        if (const YAML::Node precision = strategy["precision"]) {
            auto text = reader.string(precision, QStringLiteral("'strategy.precision'"));
            if (!text)
                return fail(text.error());
            const auto value = parsePrecision(text.value());
            if (!value)
                return reader.at(
                    precision,
                    QStringLiteral("precision '%1' is not one of fp32, bf16-mixed, fp16-mixed").arg(text.value()));
            spec.strategy.precision = *value;
        }
        if (const YAML::Node offload = strategy["offload"]) {
            auto text = reader.string(offload, QStringLiteral("'strategy.offload'"));
            if (!text)
                return fail(text.error());
            if (!QStringList{"none", "optimizer", "params", "both"}.contains(text.value()))
                return reader.at(
                    offload,
                    QStringLiteral("offload '%1' is not one of none, optimizer, params, both").arg(text.value()));
            spec.strategy.offloadOptimizer =
                text.value() == QLatin1String("optimizer") || text.value() == QLatin1String("both");
            spec.strategy.offloadParameters =
                text.value() == QLatin1String("params") || text.value() == QLatin1String("both");
        }
    }
    return {};
}

// `nccl:`: NCCL's and PyTorch's debugging switches.
Result<void> readNccl(const SpecReader &reader, const YAML::Node &nccl, RunSpec &spec)
{
    if (!nccl.IsMap())
        return reader.at(nccl,
                         QStringLiteral("'nccl' must be a mapping (debug, debug_subsys, async_error_handling, ...)"));
    if (auto known = reader.onlyKnownKeys(nccl, kNcclKeys, QStringLiteral("'nccl'")); !known)
        return fail(known.error());
    if (auto read =
            reader.optional(nccl["debug"], spec.nccl.level, &SpecReader::string, QStringLiteral("'nccl.debug'"));
        !read)
        return read;
    spec.nccl.level = spec.nccl.level.toUpper();
    if (!spec.nccl.level.isEmpty() && !QStringList{"VERSION", "WARN", "INFO", "TRACE"}.contains(spec.nccl.level))
        return reader.at(nccl["debug"], QStringLiteral("'nccl.debug' must be one of VERSION, WARN, INFO, TRACE"));
    if (auto read =
            firstFailure({reader.optional(nccl["debug_subsys"], spec.nccl.subsystems, &SpecReader::string,
                                          QStringLiteral("'nccl.debug_subsys'")),
                          reader.optional(nccl["async_error_handling"], spec.nccl.asyncErrorHandling,
                                          &SpecReader::integer, QStringLiteral("'nccl.async_error_handling'"), 0),
                          reader.optional(nccl["trace_buffer_size"], spec.nccl.traceBufferSize, &SpecReader::integer,
                                          QStringLiteral("'nccl.trace_buffer_size'"), 0),
                          reader.optional(nccl["p2p_disable"], spec.nccl.p2pDisable, &SpecReader::boolean,
                                          QStringLiteral("'nccl.p2p_disable'")),
                          reader.optional(nccl["ib_disable"], spec.nccl.ibDisable, &SpecReader::boolean,
                                          QStringLiteral("'nccl.ib_disable'")),
                          reader.optional(nccl["socket_ifname"], spec.nccl.socketIfname, &SpecReader::string,
                                          QStringLiteral("'nccl.socket_ifname'"))});
        !read)
        return read;
    return {};
}

// One entry of `params:`: `name: value` (typed as the value reads) or `name: {type, value, choices}`.
Result<RunParam> readParam(const SpecReader &reader, const YAML::Node &keyNode, const YAML::Node &entryNode)
{
    RunParam param;
    auto name = reader.scalar(keyNode, QStringLiteral("a param name"));
    if (!name)
        return fail(name.error());
    param.name = name.value();
    const QString where = QStringLiteral("'params.%1").arg(param.name);
    // Initialized once: assigning to a YAML::Node would overwrite the node it refers to.
    const YAML::Node valueNode = entryNode.IsMap() ? entryNode["value"] : entryNode;
    if (entryNode.IsMap()) {
        if (auto known = reader.onlyKnownKeys(entryNode, kParamKeys, where + QLatin1Char('\'')); !known)
            return fail(known.error());
        const YAML::Node typeNode = entryNode["type"];
        if (!typeNode)
            return reader.at(entryNode,
                             QStringLiteral("%1' needs a 'type' (int, float, bool, string, choice)").arg(where));
        if (!valueNode)
            return reader.at(entryNode, QStringLiteral("%1' needs a 'value'").arg(where));
        const QString type = QString::fromStdString(typeNode.Scalar());
        const QStringList types{"int", "float", "bool", "string", "choice"};
        if (!typeNode.IsScalar() || !types.contains(type))
            return reader.at(typeNode,
                             QStringLiteral("%1.type' must be one of int, float, bool, string, choice").arg(where));
        param.type = ParamType(types.indexOf(type));
        if (param.type == ParamType::Choice) {
            auto choices = entryNode["choices"]
                ? reader.stringList(entryNode["choices"], where + QStringLiteral(".choices'"))
                : Result<QStringList>(fail(QString()));
            if (!choices || choices->isEmpty())
                return reader.at(entryNode, QStringLiteral("%1' is a choice: give its 'choices' as a list").arg(where));
            param.choices = choices.value();
        }
    }
    if (!valueNode.IsScalar())
        return reader.at(valueNode, QStringLiteral("%1' must be a single value").arg(where));
    param.value = QString::fromStdString(valueNode.Scalar());
    bool ok = true;
    bool flag = false;
    if (!entryNode.IsMap()) {
        // Shorthand: the type the value reads as.
        (void)param.value.toLongLong(&ok);
        if (ok)
            param.type = ParamType::Int;
        else if ((void)param.value.toDouble(&ok), ok)
            param.type = ParamType::Float;
        else if (YAML::convert<bool>::decode(valueNode, flag))
            param.type = ParamType::Bool;
        else
            param.type = ParamType::String;
        ok = true;
    }
    switch (param.type) {
    case ParamType::Int:
        (void)param.value.toLongLong(&ok);
        break;
    case ParamType::Float:
        ok = std::isfinite(param.value.toDouble(&ok)) && ok;
        break;
    case ParamType::Bool:
        ok = YAML::convert<bool>::decode(valueNode, flag);
        param.value = flag ? QStringLiteral("true") : QStringLiteral("false");
        break;
    case ParamType::Choice:
        ok = param.choices.contains(param.value);
        break;
    case ParamType::String:
        break;
    }
    if (!ok) {
        return reader.at(valueNode,
                         param.type == ParamType::Choice
                             ? QStringLiteral("%1' is '%2', not one of its choices (%3)")
                                   .arg(where, param.value, param.choices.join(QStringLiteral(", ")))
                             : QStringLiteral("%1' must be of type %2 (got '%3')")
                                   .arg(where, paramTypeName(param.type), param.value));
    }
    return param;
}

// `params:`: typed params; a plain `name: value` gets the type its value reads as.
Result<void> readParams(const SpecReader &reader, const YAML::Node &params, RunSpec &spec)
{
    if (!params.IsMap())
        return reader.at(params,
                         QStringLiteral("'params' must be a mapping of names to values or to {type, value, choices}"));
    for (const auto &entry : params) {
        auto param = readParam(reader, entry.first, entry.second);
        if (!param)
            return fail(param.error());
        spec.params << param.value();
    }
    return {};
}

// `sweep.grid`: param names to lists of values, every combination a run.
Result<void> readGrid(const SpecReader &reader, const YAML::Node &grid, SweepSpec &sweep)
{
    if (!grid.IsMap())
        return reader.at(grid, QStringLiteral("'sweep.grid' must map param names to lists of values"));
    for (const auto &axis : grid) {
        auto name = reader.scalar(axis.first, QStringLiteral("a param name in 'sweep.grid'"));
        if (!name)
            return fail(name.error());
        auto values = reader.stringList(axis.second, QStringLiteral("'sweep.grid.%1'").arg(name.value()));
        if (!values)
            return fail(values.error());
        if (values->isEmpty())
            return reader.at(axis.second, QStringLiteral("'sweep.grid.%1' needs at least one value").arg(name.value()));
        sweep.grid << qMakePair(name.value(), values.value());
    }
    return {};
}

// One entry of `sweep.random.params` (or a tpe sweep's `sweep.params`): {distribution, min, max} or {choice: [...]}.
Result<RandomAxis> readRandomAxis(const SpecReader &reader, const YAML::Node &keyNode, const YAML::Node &entryNode,
                                  const QString &section = QStringLiteral("sweep.random.params"))
{
    RandomAxis axis;
    auto name = reader.scalar(keyNode, QStringLiteral("a param name in '%1'").arg(section));
    if (!name)
        return fail(name.error());
    axis.param = name.value();
    const QString where = QStringLiteral("'%1.%2").arg(section, axis.param);
    if (!entryNode.IsMap())
        return reader.at(entryNode,
                         QStringLiteral("%1' must be {distribution, min, max} or {choice: [...]}").arg(where));
    if (auto known = reader.onlyKnownKeys(entryNode, kRandomAxisKeys, where + QLatin1Char('\'')); !known)
        return fail(known.error());
    if (const YAML::Node choice = entryNode["choice"]) {
        auto choices = reader.stringList(choice, where + QStringLiteral(".choice'"));
        if (!choices)
            return fail(choices.error());
        if (choices->isEmpty())
            return reader.at(choice, QStringLiteral("%1.choice' needs at least one value").arg(where));
        axis.distribution = RandomAxis::Distribution::Choice;
        axis.choices = choices.value();
    } else {
        const YAML::Node distribution = entryNode["distribution"];
        const QStringList names{"uniform", "log_uniform", "int"};
        if (!distribution || !distribution.IsScalar() || !names.contains(QString::fromStdString(distribution.Scalar())))
            return reader.at(
                distribution ? distribution : entryNode,
                QStringLiteral("%1.distribution' must be one of uniform, log_uniform, int (or give 'choice')")
                    .arg(where));
        axis.distribution = RandomAxis::Distribution(names.indexOf(QString::fromStdString(distribution.Scalar())));
        for (const char *bound : {"min", "max"}) {
            const YAML::Node node = entryNode[bound];
            bool ok = false;
            const QString text = node && node.IsScalar() ? QString::fromStdString(node.Scalar()) : QString();
            const double value = text.toDouble(&ok);
            if (!ok || !std::isfinite(value))
                return reader.at(node ? node : entryNode,
                                 QStringLiteral("%1.%2' must be a number").arg(where, QLatin1String(bound)));
            (bound[1] == 'i' ? axis.min : axis.max) = value;
            if (axis.distribution == RandomAxis::Distribution::Int) {
                // Exact, to the ends of the 64-bit range; 1e3 is a whole number too.
                bool whole = false;
                qint64 integer = text.toLongLong(&whole);
                if (!whole && value == std::trunc(value) && std::abs(value) <= 9007199254740992.0) {
                    integer = qint64(value);
                    whole = true;
                }
                if (!whole)
                    return reader.at(node,
                                     QStringLiteral("%1.%2' must be a whole number from -2^63 to 2^63-1 "
                                                    "for an int distribution (got %3)")
                                         .arg(where, QLatin1String(bound), text));
                (bound[1] == 'i' ? axis.minInt : axis.maxInt) = integer;
            }
        }
        if (axis.distribution == RandomAxis::Distribution::Int && !(axis.minInt < axis.maxInt))
            return reader.at(
                entryNode["max"],
                QStringLiteral("%1': max (%2) must be above min (%3)").arg(where).arg(axis.maxInt).arg(axis.minInt));
        if (!(axis.min < axis.max))
            return reader.at(
                entryNode["max"],
                QStringLiteral("%1': max (%2) must be above min (%3)").arg(where).arg(axis.max).arg(axis.min));
        if (axis.distribution == RandomAxis::Distribution::LogUniform && axis.min <= 0)
            return reader.at(
                entryNode["min"],
                QStringLiteral("%1': a log_uniform min must be above 0 (got %2)").arg(where).arg(axis.min));
    }
    return axis;
}

// `sweep.random`: how many runs to draw, the seed, and each param's distribution.
Result<void> readRandom(const SpecReader &reader, const YAML::Node &random, SweepSpec &sweep)
{
    if (!random.IsMap())
        return reader.at(random, QStringLiteral("'sweep.random' must be a mapping (samples, seed, params)"));
    if (auto known = reader.onlyKnownKeys(random, kRandomKeys, QStringLiteral("'sweep.random'")); !known)
        return fail(known.error());
    if (!random["samples"])
        return reader.at(random, QStringLiteral("'sweep.random' needs 'samples' (how many runs to draw)"));
    if (auto read = reader.optional(random["samples"], sweep.samples, &SpecReader::integer,
                                    QStringLiteral("'sweep.random.samples'"), 1);
        !read)
        return read;
    int seed = 0;
    if (auto read =
            reader.optional(random["seed"], seed, &SpecReader::integer, QStringLiteral("'sweep.random.seed'"), 0);
        !read)
        return read;
    sweep.randomSeed = std::uint64_t(seed);
    const YAML::Node axes = random["params"];
    if (!axes || !axes.IsMap() || axes.size() == 0)
        return reader.at(axes ? axes : random,
                         QStringLiteral("'sweep.random.params' must map param names to "
                                        "{distribution, min, max} or {choice: [...]}"));
    for (const auto &entry : axes) {
        auto axis = readRandomAxis(reader, entry.first, entry.second);
        if (!axis)
            return fail(axis.error());
        sweep.random << axis.value();
    }
    return {};
}

// "min" or "max" at `node` (a sweep's `mode:`).
Result<bool> readMaximize(const SpecReader &reader, const YAML::Node &node, const QString &where)
{
    const QString mode = node && node.IsScalar() ? QString::fromStdString(node.Scalar()) : QString();
    if (mode != u"min" && mode != u"max")
        return reader.at(node, QStringLiteral("%1 must be min or max (got '%2')").arg(where, mode));
    return mode == u"max";
}

// `sweep.early_stop` (ASHA) or `sweep.median_stop`: the metric, its mode, the rungs (steps) and the method's knob.
Result<EarlyStopRule> readEarlyStop(const SpecReader &reader, const YAML::Node &node, EarlyStopRule::Method method)
{
    const bool asha = method == EarlyStopRule::Method::Asha;
    const QString where = asha ? QStringLiteral("'sweep.early_stop") : QStringLiteral("'sweep.median_stop");
    if (!node.IsMap())
        return reader.at(node,
                         asha ? QStringLiteral("%1' must be a mapping (metric, mode, rungs, reduction)").arg(where)
                              : QStringLiteral("%1' must be a mapping (metric, mode, rungs, min_runs)").arg(where));
    if (auto known = reader.onlyKnownKeys(node, asha ? kEarlyStopKeys : kMedianStopKeys, where + QLatin1Char('\''));
        !known)
        return fail(known.error());
    EarlyStopRule rule;
    rule.method = method;
    if (!node["metric"])
        return reader.at(node,
                         QStringLiteral("%1' needs 'metric' (the key the rungs judge, e.g. val/loss)").arg(where));
    auto metric = reader.scalar(node["metric"], where + QStringLiteral(".metric'"));
    if (!metric)
        return fail(metric.error());
    rule.metric = metric.value();
    if (!node["mode"])
        return reader.at(node, QStringLiteral("%1' needs 'mode' (min or max: which way is better)").arg(where));
    auto maximize = readMaximize(reader, node["mode"], where + QStringLiteral(".mode'"));
    if (!maximize)
        return fail(maximize.error());
    rule.maximize = maximize.value();
    const YAML::Node rungs = node["rungs"];
    if (!rungs || !rungs.IsSequence() || rungs.size() == 0)
        return reader.at(rungs ? rungs : node,
                         QStringLiteral("%1.rungs' must be a list of steps, e.g. [100, 300, 900]").arg(where));
    for (const auto &rungNode : rungs) {
        bool ok = false;
        const qint64 step = rungNode.IsScalar() ? QString::fromStdString(rungNode.Scalar()).toLongLong(&ok) : 0;
        if (!ok || step < 1)
            return reader.at(rungNode,
                             QStringLiteral("%1.rungs' must hold whole steps of 1 or more (got '%2')")
                                 .arg(where,
                                      rungNode.IsScalar() ? QString::fromStdString(rungNode.Scalar())
                                                          : QStringLiteral("a list or mapping")));
        if (!rule.rungs.isEmpty() && step <= rule.rungs.last())
            return reader.at(
                rungNode,
                QStringLiteral("%1.rungs' must increase: %2 follows %3").arg(where).arg(step).arg(rule.rungs.last()));
        rule.rungs << step;
    }
    if (auto read = reader.optional(
            node[asha ? "reduction" : "min_runs"], asha ? rule.reduction : rule.minRuns, &SpecReader::integer,
            where + (asha ? QStringLiteral(".reduction'") : QStringLiteral(".min_runs'")), asha ? 2 : 1);
        !read)
        return fail(read.error());
    if (const YAML::Node maxStep = node["max_step"]) {
        bool ok = false;
        const qint64 step = maxStep.IsScalar() ? QString::fromStdString(maxStep.Scalar()).toLongLong(&ok) : 0;
        if (!ok || step < 1)
            return reader.at(maxStep, QStringLiteral("%1.max_step' must be a whole step of 1 or more").arg(where));
        // A rung at or past the run's last step never judges anything: the runs end before they reach it.
        if (rule.rungs.last() >= step)
            return reader.at(rungs,
                             QStringLiteral("%1.rungs': rung %2 is not below max_step %3, the run's length: "
                                            "no run would ever be judged there")
                                 .arg(where)
                                 .arg(rule.rungs.last())
                                 .arg(step));
        rule.maxStep = step;
    }
    return rule;
}

// A tpe sweep's `metric: {key, mode, statistic}`: what the trials are ranked by.
Result<SweepObjective> readObjective(const SpecReader &reader, const YAML::Node &node)
{
    if (!node.IsMap())
        return reader.at(node, QStringLiteral("'sweep.metric' must be a mapping: {key: val/loss, mode: min}"));
    if (auto known = reader.onlyKnownKeys(node, kObjectiveKeys, QStringLiteral("'sweep.metric'")); !known)
        return fail(known.error());
    SweepObjective objective;
    if (!node["key"])
        return reader.at(node, QStringLiteral("'sweep.metric' needs 'key' (the metric the trials are ranked by)"));
    auto key = reader.scalar(node["key"], QStringLiteral("'sweep.metric.key'"));
    if (!key)
        return fail(key.error());
    objective.metric = key.value();
    if (!node["mode"])
        return reader.at(node, QStringLiteral("'sweep.metric' needs 'mode' (min or max)"));
    auto maximize = readMaximize(reader, node["mode"], QStringLiteral("'sweep.metric.mode'"));
    if (!maximize)
        return fail(maximize.error());
    objective.maximize = maximize.value();
    if (const YAML::Node statistic = node["statistic"]) {
        const QString text = statistic.IsScalar() ? QString::fromStdString(statistic.Scalar()) : QString();
        if (text != u"last" && text != u"min" && text != u"max")
            return reader.at(statistic,
                             QStringLiteral("'sweep.metric.statistic' must be last, min or max (got '%1')").arg(text));
        objective.statistic = text;
    }
    return objective;
}

// `sweep.method: tpe`: trials, parallel, seed, startup_trials, params (distributions), metric.
Result<void> readTpeSweep(const SpecReader &reader, const YAML::Node &sweep, SweepSpec &spec)
{
    spec.method = SweepSpec::Method::Tpe;
    for (const QString &key : kEnumerateOnlyKeys)
        if (const YAML::Node node = sweep[key.toStdString()])
            return reader.at(node,
                             QStringLiteral("'sweep.%1' is for grid and random sweeps; a tpe sweep takes "
                                            "'sweep.params' (each param's distribution)")
                                 .arg(key));
    if (!sweep["trials"])
        return reader.at(sweep, QStringLiteral("a tpe sweep needs 'sweep.trials' (how many runs in all)"));
    if (auto read =
            reader.optional(sweep["trials"], spec.trials, &SpecReader::integer, QStringLiteral("'sweep.trials'"), 1);
        !read)
        return read;
    if (spec.trials > kMaxSweepRuns)
        return reader.at(
            sweep["trials"],
            QStringLiteral("'sweep.trials' is %1; at most %2 in one sweep").arg(spec.trials).arg(kMaxSweepRuns));
    if (auto read = reader.optional(sweep["parallel"], spec.parallel, &SpecReader::integer,
                                    QStringLiteral("'sweep.parallel'"), 1);
        !read)
        return read;
    if (auto read = reader.optional(sweep["startup_trials"], spec.startupTrials, &SpecReader::integer,
                                    QStringLiteral("'sweep.startup_trials'"), 0);
        !read)
        return read;
    int seed = 0;
    if (auto read = reader.optional(sweep["seed"], seed, &SpecReader::integer, QStringLiteral("'sweep.seed'"), 0);
        !read)
        return read;
    spec.randomSeed = std::uint64_t(seed);
    const YAML::Node axes = sweep["params"];
    if (!axes || !axes.IsMap() || axes.size() == 0)
        return reader.at(axes ? axes : sweep,
                         QStringLiteral("a tpe sweep needs 'sweep.params': param names to "
                                        "{distribution, min, max} or {choice: [...]}"));
    for (const auto &entry : axes) {
        auto axis = readRandomAxis(reader, entry.first, entry.second, QStringLiteral("sweep.params"));
        if (!axis)
            return fail(axis.error());
        spec.space << axis.value();
    }
    if (!sweep["metric"])
        return reader.at(sweep, QStringLiteral("a tpe sweep needs 'sweep.metric': {key: val/loss, mode: min}"));
    auto objective = readObjective(reader, sweep["metric"]);
    if (!objective)
        return fail(objective.error());
    spec.objective = objective.value();
    return {};
}

// `sweep:`: grid, random draws, seeds (or method: tpe and its trials); early stopping. Every run an enumerated sweep
// makes is checked against the params' types now, so a bad sweep never launches anything. Needs the params read first.
Result<void> readSweep(const SpecReader &reader, const YAML::Node &sweep, RunSpec &spec)
{
    if (!sweep.IsMap())
        return reader.at(sweep, QStringLiteral("'sweep' must be a mapping (grid, random, seeds, seed_param)"));
    if (auto known = reader.onlyKnownKeys(sweep, kSweepKeys, QStringLiteral("'sweep'")); !known)
        return fail(known.error());
    if (sweep["early_stop"] && sweep["median_stop"])
        return reader.at(sweep["median_stop"],
                         QStringLiteral("'sweep' has both 'early_stop' (ASHA) and 'median_stop': choose one"));
    for (const auto &[key, method] : {std::pair{"early_stop", EarlyStopRule::Method::Asha},
                                      std::pair{"median_stop", EarlyStopRule::Method::Median}}) {
        if (const YAML::Node node = sweep[key]) {
            auto rule = readEarlyStop(reader, node, method);
            if (!rule)
                return fail(rule.error());
            spec.sweep.earlyStop = rule.value();
        }
    }
    if (const YAML::Node method = sweep["method"]) {
        const QString name = method.IsScalar() ? QString::fromStdString(method.Scalar()) : QString();
        if (name == u"tpe") {
            if (auto read = readTpeSweep(reader, sweep, spec.sweep); !read)
                return read;
            for (const RandomAxis &axis : std::as_const(spec.sweep.space)) {
                // The params a trial sets are checked against the spec's own types as a grid's values are.
                QList<RunParam> params = spec.params;
                const QString probe = axis.distribution == RandomAxis::Distribution::Choice ? axis.choices.first()
                    : axis.distribution == RandomAxis::Distribution::Int ? QString::number(axis.minInt)
                                                                         : QString::number(axis.min, 'g', 17);
                SweepSpec single;
                single.grid << qMakePair(axis.param, QStringList{probe});
                if (auto expanded = expandSweep(params, single); !expanded)
                    return reader.at(sweep["params"], expanded.error());
            }
            return {};
        }
        if (name != u"grid" && name != u"random")
            return reader.at(method,
                             QStringLiteral("'sweep.method' must be tpe (or leave it out for grid and random "
                                            "sweeps; got '%1')")
                                 .arg(name));
    }
    for (const QString &key : kTpeOnlyKeys)
        if (const YAML::Node node = sweep[key.toStdString()])
            return reader.at(node, QStringLiteral("'sweep.%1' is for 'method: tpe' sweeps").arg(key));
    if (const YAML::Node grid = sweep["grid"]) {
        if (auto read = readGrid(reader, grid, spec.sweep); !read)
            return read;
    }
    if (const YAML::Node random = sweep["random"]) {
        if (auto read = readRandom(reader, random, spec.sweep); !read)
            return read;
    }
    if (const YAML::Node seeds = sweep["seeds"]) {
        if (seeds.IsSequence()) {
            auto list = reader.stringList(seeds, QStringLiteral("'sweep.seeds'"));
            if (!list)
                return fail(list.error());
            spec.sweep.seeds = list.value();
        } else {
            auto count = reader.integer(seeds, QStringLiteral("'sweep.seeds' (a count, or a list of seeds)"), 1);
            if (!count)
                return fail(count.error());
            for (int i = 0; i < count.value(); ++i)
                spec.sweep.seeds << QString::number(i);
        }
    }
    if (auto read = reader.optional(sweep["seed_param"], spec.sweep.seedParam, &SpecReader::string,
                                    QStringLiteral("'sweep.seed_param'"));
        !read)
        return read;
    if (spec.sweep.runCount() > kMaxSweepRuns)
        return reader.at(sweep,
                         QStringLiteral("the sweep makes %1 runs; at most %2 in one sweep")
                             .arg(spec.sweep.runCount())
                             .arg(kMaxSweepRuns));
    // Every value is checked against its param's type now, so a bad sweep never launches anything.
    if (auto expanded = expandSweep(spec.params, spec.sweep); !expanded)
        return reader.at(sweep, expanded.error());
    return {};
}

// `param_passing:`: how params reach the program (args, env, a config file). Needs the params read first.
Result<void> readParamPassing(const SpecReader &reader, const YAML::Node &passing, RunSpec &spec)
{
    if (!passing.IsMap())
        return reader.at(passing, QStringLiteral("'param_passing' must be a mapping (args, env, config_file)"));
    if (auto known = reader.onlyKnownKeys(passing, kPassingKeys, QStringLiteral("'param_passing'")); !known)
        return fail(known.error());
    if (auto read = reader.optional(passing["args"], spec.paramPassing.argsTemplate, &SpecReader::stringList,
                                    QStringLiteral("'param_passing.args'"));
        !read)
        return read;
    for (const QString &argument : spec.paramPassing.argsTemplate) {
        if (auto substituted = substituteParams(argument, spec.params, kCheckpointPlaceholderValues); !substituted)
            return reader.at(passing["args"], QStringLiteral("'param_passing.args': %1").arg(substituted.error()));
    }
    if (const YAML::Node env = passing["env"]) {
        auto entries = reader.stringMap(env, QStringLiteral("'param_passing.env'"));
        if (!entries)
            return fail(entries.error());
        for (const auto &[variable, param] : entries.value()) {
            if (const QString problem = environmentNameProblem(variable); !problem.isEmpty())
                return reader.at(env, QStringLiteral("'param_passing.env': %1").arg(problem));
            const QString &wanted = param; // clang 14 cannot capture a structured binding
            if (!std::any_of(spec.params.begin(), spec.params.end(),
                             [&](const RunParam &p) { return p.name == wanted; }))
                return reader.at(env,
                                 QStringLiteral("'param_passing.env': %1 takes param '%2', which does not exist")
                                     .arg(variable, param));
            spec.paramPassing.envFromParam.insert(variable, param);
        }
    }
    if (const YAML::Node config = passing["config_file"]) {
        if (!config.IsMap())
            return reader.at(config, QStringLiteral("'param_passing.config_file' must be a mapping (path, arg)"));
        if (auto known = reader.onlyKnownKeys(config, kConfigFileKeys, QStringLiteral("'param_passing.config_file'"));
            !known)
            return fail(known.error());
        if (auto read =
                firstFailure({reader.optional(config["path"], spec.paramPassing.configFile, &SpecReader::string,
                                              QStringLiteral("'param_passing.config_file.path'")),
                              reader.optional(config["arg"], spec.paramPassing.configArgTemplate, &SpecReader::string,
                                              QStringLiteral("'param_passing.config_file.arg'"))});
            !read)
            return read;
        const QString &file = spec.paramPassing.configFile;
        if (file.isEmpty() || file.contains(QLatin1Char('/'))
            || !(file.endsWith(QLatin1String(".json")) || file.endsWith(QLatin1String(".yaml"))))
            return reader.at(config,
                             QStringLiteral("'param_passing.config_file.path' must be a file name ending in .json "
                                            "or .yaml (it is written in the run folder)"));
        if (reservedRunFileNames().contains(file))
            return reader.at(
                config["path"],
                QStringLiteral("'param_passing.config_file.path' cannot be '%1': Trainyard writes that file in the run "
                               "folder (reserved: %2)")
                    .arg(file, reservedRunFileNames().join(QStringLiteral(", "))));
    }
    return {};
}

// `slurm:`: the job settings over the backend profile's, each of which reaches the job script.
Result<void> readSlurm(const SpecReader &reader, const YAML::Node &slurm, RunSpec &spec)
{
    if (!slurm.IsMap())
        return reader.at(slurm,
                         QStringLiteral("'slurm' must be a mapping (partition, account, time_limit_min, "
                                        "cpus_per_task, gpus_per_node, sbatch)"));
    if (auto known = reader.onlyKnownKeys(slurm, kSlurmKeys, QStringLiteral("'slurm'")); !known)
        return fail(known.error());
    if (auto read = firstFailure({reader.optional(slurm["partition"], spec.slurm.partition, &SpecReader::string,
                                                  QStringLiteral("'slurm.partition'")),
                                  reader.optional(slurm["account"], spec.slurm.account, &SpecReader::string,
                                                  QStringLiteral("'slurm.account'")),
                                  reader.optional(slurm["time_limit_min"], spec.slurm.timeLimitMinutes,
                                                  &SpecReader::integer, QStringLiteral("'slurm.time_limit_min'"), 1),
                                  reader.optional(slurm["cpus_per_task"], spec.slurm.cpusPerTask, &SpecReader::integer,
                                                  QStringLiteral("'slurm.cpus_per_task'"), 1),
                                  reader.optional(slurm["gpus_per_node"], spec.slurm.gpusPerNode, &SpecReader::integer,
                                                  QStringLiteral("'slurm.gpus_per_node'"), 0),
                                  reader.optional(slurm["sbatch"], spec.slurm.sbatchOptions, &SpecReader::stringList,
                                                  QStringLiteral("'slurm.sbatch'"))});
        !read)
        return read;
    // These reach the job script and the job description: a newline would be a line of the script of its own.
    for (const auto &[key, value] :
         {std::pair{"partition", spec.slurm.partition}, std::pair{"account", spec.slurm.account}})
        if (auto clean = refuseControlCharacters(value, QStringLiteral("'slurm.%1'").arg(QLatin1String(key))); !clean)
            return reader.at(slurm[key], clean.error());
    QJsonObject scratch;
    for (const QString &option : spec.slurm.sbatchOptions) {
        if (auto clean = refuseControlCharacters(option, QStringLiteral("'slurm.sbatch' option")); !clean)
            return reader.at(slurm["sbatch"], clean.error());
        if (auto applied = applySbatchOption(option, scratch); !applied)
            return reader.at(slurm["sbatch"], applied.error());
    }
    return {};
}

// `alerts:`: a list of rules, each a metric and one condition (when: nan, below: X or above: X), from a step on, with
// an action (notify, the default, or stop).
Result<void> readAlerts(const SpecReader &reader, const YAML::Node &alerts, RunSpec &spec)
{
    if (!alerts.IsSequence())
        return reader.at(alerts,
                         QStringLiteral("'alerts' must be a list of rules, e.g. [{metric: train/loss, when: nan}]"));
    int index = 0;
    for (const YAML::Node &node : alerts) {
        const QString where = QStringLiteral("'alerts[%1]'").arg(index);
        const auto field = [index](const char *name) {
            return QStringLiteral("'alerts[%1].%2'").arg(index).arg(QLatin1String(name));
        };
        ++index;
        if (!node.IsMap())
            return reader.at(node,
                             QStringLiteral("%1 must be a mapping such as {metric: val/acc, below: 0.1}").arg(where));
        if (auto known = reader.onlyKnownKeys(node, kAlertKeys, where); !known)
            return fail(known.error());
        AlertRule rule;
        if (!node["metric"])
            return reader.at(node, QStringLiteral("%1 needs 'metric' (the key it watches)").arg(where));
        auto metric = reader.string(node["metric"], field("metric"));
        if (!metric)
            return fail(metric.error());
        rule.metric = metric->trimmed();
        if (rule.metric.isEmpty())
            return reader.at(node["metric"], QStringLiteral("%1 cannot be empty").arg(field("metric")));
        const int conditions = int(bool(node["when"])) + int(bool(node["below"])) + int(bool(node["above"]));
        if (conditions != 1)
            return reader.at(node,
                             QStringLiteral("%1 needs exactly one of 'when: nan', 'below: X' or 'above: X' (has %2)")
                                 .arg(where)
                                 .arg(conditions));
        if (const YAML::Node when = node["when"]) {
            auto text = reader.string(when, field("when"));
            if (!text)
                return fail(text.error());
            if (text->toLower() != u"nan")
                return reader.at(when,
                                 QStringLiteral("%1 must be 'nan' (NaN or infinite); for a threshold use "
                                                "'below: X' or 'above: X'")
                                     .arg(field("when")));
            rule.condition = AlertRule::Condition::NotFinite;
        } else {
            const YAML::Node bound = node["below"] ? node["below"] : node["above"];
            rule.condition = node["below"] ? AlertRule::Condition::Below : AlertRule::Condition::Above;
            bool ok = false;
            rule.threshold = bound.IsScalar() ? QString::fromStdString(bound.Scalar()).toDouble(&ok) : 0;
            if (!ok || !std::isfinite(rule.threshold))
                return reader.at(bound,
                                 QStringLiteral("%1 must be a number").arg(field(node["below"] ? "below" : "above")));
        }
        if (const YAML::Node after = node["after_step"]) {
            bool ok = false;
            rule.afterStep = after.IsScalar() ? QString::fromStdString(after.Scalar()).toLongLong(&ok) : 0;
            if (!ok || rule.afterStep < 0)
                return reader.at(after,
                                 QStringLiteral("%1 must be a step, a whole number from 0").arg(field("after_step")));
        }
        if (const YAML::Node action = node["action"]) {
            auto text = reader.string(action, field("action"));
            if (!text)
                return fail(text.error());
            if (*text == u"stop")
                rule.action = AlertRule::Action::Stop;
            else if (*text != u"notify")
                return reader.at(
                    action, QStringLiteral("%1 must be 'notify' or 'stop' (got '%2')").arg(field("action"), *text));
        }
        spec.alerts << rule;
    }
    return {};
}

// `checkpoints:`: where the ranks save them, and which are kept (issue 19).
Result<void> readCheckpoints(const SpecReader &reader, const YAML::Node &checkpoints, RunSpec &spec)
{
    if (!checkpoints.IsMap())
        return reader.at(checkpoints, QStringLiteral("'checkpoints' must be a mapping (dir, keep_last, keep_best)"));
    if (auto known = reader.onlyKnownKeys(
            checkpoints, {QStringLiteral("dir"), QStringLiteral("keep_last"), QStringLiteral("keep_best")},
            QStringLiteral("'checkpoints'"));
        !known)
        return fail(known.error());
    if (auto read = reader.optional(checkpoints["dir"], spec.checkpointDir, &SpecReader::string,
                                    QStringLiteral("'checkpoints.dir'"));
        !read)
        return read;
    if (checkpoints["dir"] && spec.checkpointDir.trimmed().isEmpty())
        return reader.at(checkpoints["dir"], QStringLiteral("'checkpoints.dir' must name a folder"));
    CheckpointRetention &retention = spec.retention;
    if (const YAML::Node keepLast = checkpoints["keep_last"]) {
        int value = 0;
        if (auto read =
                reader.optional(keepLast, value, &SpecReader::integer, QStringLiteral("'checkpoints.keep_last'"), 0);
            !read)
            return read;
        retention.keepLast = value;
    }
    if (const YAML::Node best = checkpoints["keep_best"]) {
        if (!best.IsMap())
            return reader.at(best, QStringLiteral("'checkpoints.keep_best' must be a mapping (metric, mode, n)"));
        if (auto known =
                reader.onlyKnownKeys(best, {QStringLiteral("metric"), QStringLiteral("mode"), QStringLiteral("n")},
                                     QStringLiteral("'checkpoints.keep_best'"));
            !known)
            return fail(known.error());
        QString mode = QStringLiteral("min");
        retention.keepBest = 1;
        if (auto read = firstFailure({reader.optional(best["metric"], retention.bestMetric, &SpecReader::string,
                                                      QStringLiteral("'checkpoints.keep_best.metric'")),
                                      reader.optional(best["mode"], mode, &SpecReader::string,
                                                      QStringLiteral("'checkpoints.keep_best.mode'")),
                                      reader.optional(best["n"], retention.keepBest, &SpecReader::integer,
                                                      QStringLiteral("'checkpoints.keep_best.n'"), 1)});
            !read)
            return read;
        if (retention.bestMetric.trimmed().isEmpty())
            return reader.at(best,
                             QStringLiteral("'checkpoints.keep_best' needs the metric to rank by (metric: val/loss)"));
        if (mode != QLatin1String("min") && mode != QLatin1String("max"))
            return reader.at(best["mode"],
                             QStringLiteral("'checkpoints.keep_best.mode' must be min or max, not '%1'").arg(mode));
        retention.bestIsMin = mode == QLatin1String("min");
    }
    // A rule that keeps nothing would delete every checkpoint as soon as the next one is complete.
    if (retention.keepLast && *retention.keepLast == 0 && retention.bestMetric.isEmpty())
        return reader.at(
            checkpoints["keep_last"],
            QStringLiteral("'checkpoints.keep_last: 0' without keep_best keeps no checkpoint: each would "
                           "be deleted as soon as the next is complete (keep at least 1, or add keep_best)"));
    return {};
}

// `resume_from: RUN@STEP` or `{run: RUN, step: STEP}`: the run starts from that run's checkpoint at that step, as its
// child (issue 19). Whether the checkpoint exists is checked at launch, against the workspace.
Result<void> readResumeFrom(const SpecReader &reader, const YAML::Node &node, RunSpec &spec)
{
    QString run, step;
    if (node.IsScalar()) {
        const QString text = QString::fromStdString(node.Scalar());
        const qsizetype at = text.lastIndexOf(QLatin1Char('@'));
        run = text.left(at);
        step = at < 0 ? QString() : text.mid(at + 1);
    } else if (node.IsMap()) {
        if (auto known = reader.onlyKnownKeys(node, {QStringLiteral("run"), QStringLiteral("step")},
                                              QStringLiteral("'resume_from'"));
            !known)
            return fail(known.error());
        if (auto read = firstFailure(
                {reader.optional(node["run"], run, &SpecReader::string, QStringLiteral("'resume_from.run'")),
                 reader.optional(node["step"], step, &SpecReader::string, QStringLiteral("'resume_from.step'"))});
            !read)
            return read;
    }
    auto parsed = parseResumePoint(run + QLatin1Char('@') + step);
    if (!parsed)
        return reader.at(node, QStringLiteral("'resume_from' %1").arg(parsed.error()));
    spec.resumeFrom = parsed.value();
    return {};
}

// `model:`: what the memory planner needs beyond the strategy and resources.
Result<void> readModel(const SpecReader &reader, const YAML::Node &model, RunSpec &spec)
{
    if (!model.IsMap())
        return reader.at(model,
                         QStringLiteral("'model' must be a mapping (params, or "
                                        "layers/hidden/heads/vocab/seq_len/micro_batch; optimizer, gpu_memory)"));
    if (auto known = reader.onlyKnownKeys(model, kModelKeys, QStringLiteral("'model'")); !known)
        return fail(known.error());
    if (const YAML::Node params = model["params"]) {
        auto text = reader.string(params, QStringLiteral("'model.params'"));
        if (!text)
            return fail(text.error());
        const auto count = parseCount(*text);
        if (!count || *count <= 0)
            return reader.at(params,
                             QStringLiteral("'model.params' must be a parameter count such as 7.5e9, 7B or 350M"));
        spec.model.parameters = *count;
    }
    if (model["layers"] || model["hidden"] || model["heads"] || model["vocab"] || model["seq_len"]
        || model["micro_batch"]) {
        TransformerShape shape;
        if (auto read = firstFailure(
                {reader.optional(model["layers"], shape.layers, &SpecReader::integer, QStringLiteral("'model.layers'"),
                                 1),
                 reader.optional(model["hidden"], shape.hidden, &SpecReader::integer, QStringLiteral("'model.hidden'"),
                                 1),
                 reader.optional(model["heads"], shape.heads, &SpecReader::integer, QStringLiteral("'model.heads'"), 1),
                 reader.optional(model["vocab"], shape.vocab, &SpecReader::integer, QStringLiteral("'model.vocab'"), 1),
                 reader.optional(model["seq_len"], shape.seqLen, &SpecReader::integer,
                                 QStringLiteral("'model.seq_len'"), 1),
                 reader.optional(model["micro_batch"], shape.microBatch, &SpecReader::integer,
                                 QStringLiteral("'model.micro_batch'"), 1)});
            !read)
            return read;
        if (!shape.layers || !shape.hidden || !shape.heads || !shape.vocab || !shape.seqLen || !shape.microBatch)
            return reader.at(
                model,
                QStringLiteral(
                    "a transformer shape needs all of layers, hidden, heads, vocab, seq_len and micro_batch"));
        if (spec.model.parameters)
            return reader.at(model, QStringLiteral("give either 'model.params' or a transformer shape, not both"));
        spec.model.shape = shape;
    }
    if (const YAML::Node optimizer = model["optimizer"]) {
        auto text = reader.string(optimizer, QStringLiteral("'model.optimizer'"));
        if (!text)
            return fail(text.error());
        const auto kind = parseOptimizer(*text);
        if (!kind)
            return reader.at(optimizer, QStringLiteral("'model.optimizer' must be adam, adamw, sgd-momentum or sgd"));
        spec.model.optimizer = *kind;
    }
    if (const YAML::Node memory = model["gpu_memory"]) {
        auto text = reader.string(memory, QStringLiteral("'model.gpu_memory'"));
        if (!text)
            return fail(text.error());
        const auto bytes = parseByteSize(*text);
        if (!bytes || *bytes <= 0)
            return reader.at(memory, QStringLiteral("'model.gpu_memory' must be a size such as 80GiB"));
        spec.model.gpuMemoryBytes = *bytes;
    }
    if (auto read = reader.optional(model["activation_checkpointing"], spec.model.activationCheckpointing,
                                    &SpecReader::boolean, QStringLiteral("'model.activation_checkpointing'"));
        !read)
        return read;
    if (const YAML::Node peak = model["peak_tflops"]) {
        auto text = reader.string(peak, QStringLiteral("'model.peak_tflops'"));
        if (!text)
            return fail(text.error());
        bool ok = false;
        const double value = text->toDouble(&ok);
        if (!ok || !(value > 0) || value > 1e6)
            return reader.at(peak, QStringLiteral("'model.peak_tflops' must be a GPU's peak in TFLOPS, such as 989.5"));
        spec.model.peakTflops = value;
    }
    if (spec.model.isEmpty())
        return reader.at(model, QStringLiteral("'model' needs 'params' or a transformer shape"));
    return {};
}

// What the backend can run: one node and no `slurm:` for the local one, no local GPU indices on a cluster.
Result<void> checkBackendFits(const SpecReader &reader, YAML::Node root, const RunSpec &spec)
{
    const bool local = spec.backend == QLatin1String("local");
    if (local && spec.nodes != 1)
        return reader.at(
            root["resources"]["nodes"],
            QStringLiteral("%1 nodes need a cluster backend (backend: PROFILE); the local backend runs on one node")
                .arg(spec.nodes));
    if (local && root["slurm"])
        return reader.at(
            root["slurm"],
            QStringLiteral(
                "'slurm' settings need a Slurm backend: set 'backend' to a profile name (trainyard backend ls)"));
    if (!local && !spec.gpus.isEmpty())
        return reader.at(
            root["resources"]["gpus"],
            QStringLiteral("'resources.gpus' picks GPUs of this machine; on a cluster ask for 'slurm.gpus_per_node'"));
    return {};
}

} // namespace

Result<RunSpec> parseRunSpec(const QByteArray &yaml, const QString &sourceName, const QString &baseDir)
{
    if (const auto invalid = firstInvalidUtf8(yaml))
        return fail(QStringLiteral("%1:%2:%3: not UTF-8 text (a run spec is UTF-8)")
                        .arg(sourceName)
                        .arg(invalid->first)
                        .arg(invalid->second));
    YAML::Node root;
    try {
        root = YAML::Load(yaml.toStdString());
    } catch (const YAML::Exception &error) {
        return fail(QStringLiteral("%1:%2:%3: not valid YAML: %4")
                        .arg(sourceName)
                        .arg(error.mark.line + 1)
                        .arg(error.mark.column + 1)
                        .arg(QString::fromStdString(error.msg)));
    }
    const SpecReader reader(sourceName);
    if (!root.IsMap())
        return fail(QStringLiteral("%1:1:1: a run spec must be a mapping with at least 'command'").arg(sourceName));
    int nodesLeft = kMaxSpecNodes;
    if (const auto duplicate = findDuplicateKey(root, sourceName, 0, nodesLeft))
        return fail(*duplicate);
    if (auto known = reader.onlyKnownKeys(root, kTopLevelKeys, {}); !known)
        return fail(known.error());

    RunSpec spec;
    if (auto read = readCommand(reader, root, sourceName, spec); !read)
        return fail(read.error());
    if (auto read = firstFailure(
            {reader.optional(root["name"], spec.name, &SpecReader::string, QStringLiteral("'name'")),
             reader.optional(root["project"], spec.project, &SpecReader::string, QStringLiteral("'project'")),
             reader.optional(root["shell"], spec.shell, &SpecReader::boolean, QStringLiteral("'shell'")),
             reader.optional(root["cwd"], spec.cwd, &SpecReader::string, QStringLiteral("'cwd'")),
             reader.optional(root["notes"], spec.notes, &SpecReader::string, QStringLiteral("'notes'")),
             reader.optional(root["backend"], spec.backend, &SpecReader::string, QStringLiteral("'backend'")),
             reader.optional(root["max_restarts"], spec.maxRestarts, &SpecReader::integer,
                             QStringLiteral("'max_restarts'"), 0),
             reader.optional(root["hang_timeout_s"], spec.hangTimeoutS, &SpecReader::seconds,
                             QStringLiteral("'hang_timeout_s'")),
             reader.optional(root["grace_s"], spec.graceS, &SpecReader::seconds, QStringLiteral("'grace_s'")),
             reader.optional(root["tags"], spec.tags, &SpecReader::stringList, QStringLiteral("'tags'")),
             reader.optional(root["tensorboard"], spec.tensorboardDirs, &SpecReader::stringList,
                             QStringLiteral("'tensorboard'"))});
        !read)
        return fail(read.error());
    using SectionReader = Result<void> (*)(const SpecReader &, const YAML::Node &, RunSpec &);
    // In this order: the sweep and the param passing check against the params.
    const std::pair<const char *, SectionReader> sections[] = {{"env", readEnv},
                                                               {"resources", readResources},
                                                               {"strategy", readStrategy},
                                                               {"nccl", readNccl},
                                                               {"params", readParams},
                                                               {"sweep", readSweep},
                                                               {"param_passing", readParamPassing},
                                                               {"slurm", readSlurm},
                                                               {"model", readModel},
                                                               {"alerts", readAlerts},
                                                               {"checkpoints", readCheckpoints},
                                                               {"resume_from", readResumeFrom}};
    for (const auto &[key, read] : sections) {
        if (const YAML::Node node = root[key]) {
            if (auto done = read(reader, node, spec); !done)
                return fail(done.error());
        }
    }
    if (auto fits = checkBackendFits(reader, root, spec); !fits)
        return fail(fits.error());
    spec.cwd = QDir::cleanPath(QDir(baseDir).absoluteFilePath(spec.cwd.isEmpty() ? QStringLiteral(".") : spec.cwd));
    return spec;
}

Result<RunSpec> loadRunSpec(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read run spec %1: %2").arg(path, file.errorString()));
    return parseRunSpec(file.readAll(), path, QFileInfo(path).absolutePath());
}

} // namespace trainyard
