// Form <-> YAML with yaml-cpp's node API: the form's keys are replaced in the loaded document and the
// document is emitted again, so the keys the form does not know survive the round trip.
#include "spec/specedit.h"

#include <yaml-cpp/yaml.h>

namespace trainyard {

bool SpecForm::operator==(const SpecForm &other) const
{
    const auto sameParams = [](const QList<RunParam> &a, const QList<RunParam> &b) {
        if (a.size() != b.size())
            return false;
        for (qsizetype i = 0; i < a.size(); ++i)
            if (a[i].name != b[i].name || a[i].type != b[i].type || a[i].value != b[i].value
                || a[i].choices != b[i].choices)
                return false;
        return true;
    };
    const auto sameAxes = [](const QList<RandomAxis> &a, const QList<RandomAxis> &b) {
        if (a.size() != b.size())
            return false;
        for (qsizetype i = 0; i < a.size(); ++i)
            if (a[i].param != b[i].param || a[i].distribution != b[i].distribution || a[i].min != b[i].min
                || a[i].max != b[i].max || a[i].choices != b[i].choices || a[i].minInt != b[i].minInt
                || a[i].maxInt != b[i].maxInt)
                return false;
        return true;
    };
    const auto sameSweep = [&](const SweepSpec &a, const SweepSpec &b) {
        return a.method == b.method && a.grid == b.grid && a.samples == b.samples && a.randomSeed == b.randomSeed
            && a.seeds == b.seeds && a.seedParam == b.seedParam && sameAxes(a.random, b.random) && a.trials == b.trials
            && a.parallel == b.parallel && a.startupTrials == b.startupTrials && sameAxes(a.space, b.space)
            && a.objective == b.objective && a.earlyStop == b.earlyStop;
    };
    return sameSweep(sweep, other.sweep) && name == other.name && command == other.command && cwd == other.cwd
        && backend == other.backend && nodes == other.nodes && ranksPerNode == other.ranksPerNode && gpus == other.gpus
        && maxRestarts == other.maxRestarts && hangTimeoutS == other.hangTimeoutS && tags == other.tags
        && notes == other.notes && sameParams(params, other.params) && nccl == other.nccl;
}

SpecForm formFromSpec(const RunSpec &spec)
{
    SpecForm form;
    form.name = spec.name;
    form.command = spec.command;
    form.cwd = spec.cwd;
    form.backend = spec.backend;
    form.nodes = spec.nodes;
    form.ranksPerNode = spec.ranksPerNode;
    form.gpus = spec.gpus;
    form.maxRestarts = spec.maxRestarts;
    form.hangTimeoutS = spec.hangTimeoutS;
    form.tags = spec.tags;
    form.notes = spec.notes;
    form.params = spec.params;
    form.sweep = spec.sweep;
    form.nccl = spec.nccl;
    return form;
}

namespace {

YAML::Node stringSequence(const QStringList &items)
{
    YAML::Node sequence(YAML::NodeType::Sequence);
    sequence.SetStyle(YAML::EmitterStyle::Flow);
    for (const QString &item : items)
        sequence.push_back(item.toStdString());
    return sequence;
}

void setOrRemove(YAML::Node &map, const char *key, bool present, const YAML::Node &value)
{
    if (present)
        map[key] = value;
    else if (map[key])
        map.remove(key);
}

// A random axis (or a tpe sweep's param): {distribution, min, max} or {choice: [...]}, in flow style.
YAML::Node axisNode(const RandomAxis &axis)
{
    static const char *const kNames[] = {"uniform", "log_uniform", "int"};
    YAML::Node entry(YAML::NodeType::Map);
    entry.SetStyle(YAML::EmitterStyle::Flow);
    if (axis.distribution == RandomAxis::Distribution::Choice) {
        entry["choice"] = stringSequence(axis.choices);
    } else {
        entry["distribution"] = kNames[int(axis.distribution)];
        if (axis.distribution == RandomAxis::Distribution::Int) { // exact integers, not doubles
            entry["min"] = static_cast<long long>(axis.minInt);
            entry["max"] = static_cast<long long>(axis.maxInt);
        } else {
            entry["min"] = axis.min;
            entry["max"] = axis.max;
        }
    }
    return entry;
}

// `early_stop:` or `median_stop:`, as the spec reader takes them back.
void addEarlyStop(YAML::Node &node, const EarlyStopRule &rule)
{
    const bool asha = rule.method == EarlyStopRule::Method::Asha;
    YAML::Node entry(YAML::NodeType::Map);
    entry.SetStyle(YAML::EmitterStyle::Flow);
    entry["metric"] = rule.metric.toStdString();
    entry["mode"] = rule.maximize ? "max" : "min";
    YAML::Node rungs(YAML::NodeType::Sequence);
    for (std::int64_t rung : rule.rungs)
        rungs.push_back(static_cast<long long>(rung));
    entry["rungs"] = rungs;
    if (asha)
        entry["reduction"] = rule.reduction;
    else
        entry["min_runs"] = rule.minRuns;
    if (rule.maxStep)
        entry["max_step"] = static_cast<long long>(*rule.maxStep);
    node[asha ? "early_stop" : "median_stop"] = entry;
}

YAML::Node sweepNode(const SweepSpec &sweep)
{
    YAML::Node node(YAML::NodeType::Map);
    if (sweep.method == SweepSpec::Method::Tpe) {
        node["method"] = "tpe";
        node["trials"] = sweep.trials;
        node["parallel"] = sweep.parallel;
        node["seed"] = static_cast<unsigned long long>(sweep.randomSeed);
        node["startup_trials"] = sweep.startupTrials;
        YAML::Node params(YAML::NodeType::Map);
        for (const RandomAxis &axis : sweep.space)
            params[axis.param.toStdString()] = axisNode(axis);
        node["params"] = params;
        YAML::Node metric(YAML::NodeType::Map);
        metric.SetStyle(YAML::EmitterStyle::Flow);
        metric["key"] = sweep.objective.metric.toStdString();
        metric["mode"] = sweep.objective.maximize ? "max" : "min";
        metric["statistic"] = sweep.objective.statistic.toStdString();
        node["metric"] = metric;
        if (sweep.earlyStop)
            addEarlyStop(node, *sweep.earlyStop);
        return node;
    }
    if (!sweep.grid.isEmpty()) {
        YAML::Node grid(YAML::NodeType::Map);
        for (const auto &[name, values] : sweep.grid)
            grid[name.toStdString()] = stringSequence(values);
        node["grid"] = grid;
    }
    if (sweep.samples > 0) {
        YAML::Node random(YAML::NodeType::Map);
        random["samples"] = sweep.samples;
        random["seed"] = static_cast<unsigned long long>(sweep.randomSeed);
        YAML::Node axes(YAML::NodeType::Map);
        for (const RandomAxis &axis : sweep.random)
            axes[axis.param.toStdString()] = axisNode(axis);
        random["params"] = axes;
        node["random"] = random;
    }
    if (!sweep.seeds.isEmpty())
        node["seeds"] = stringSequence(sweep.seeds);
    if (sweep.seedParam != QLatin1String("seed"))
        node["seed_param"] = sweep.seedParam.toStdString();
    if (sweep.earlyStop)
        addEarlyStop(node, *sweep.earlyStop);
    return node;
}

Result<YAML::Node> loadSpecRoot(const QByteArray &yaml)
{
    YAML::Node root;
    try {
        // A blank text starts a new spec.
        root = yaml.trimmed().isEmpty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(yaml.toStdString());
    } catch (const YAML::Exception &error) {
        return fail(QStringLiteral("%1:%2: not valid YAML: %3")
                        .arg(error.mark.line + 1)
                        .arg(error.mark.column + 1)
                        .arg(QString::fromStdString(error.msg)));
    }
    if (!root.IsMap())
        return fail(QStringLiteral("1:1: a run spec must be a mapping"));
    return root;
}

} // namespace

Result<QByteArray> applyForm(const QByteArray &yaml, const SpecForm &form)
{
    auto loaded = loadSpecRoot(yaml);
    if (!loaded)
        return fail(loaded.error());
    YAML::Node root = loaded.value();
    setOrRemove(root, "name", !form.name.isEmpty(), YAML::Node(form.name.toStdString()));
    root["command"] = stringSequence(form.command);
    setOrRemove(root, "cwd", !form.cwd.isEmpty(), YAML::Node(form.cwd.toStdString()));
    YAML::Node resources =
        root["resources"] && root["resources"].IsMap() ? root["resources"] : YAML::Node(YAML::NodeType::Map);
    setOrRemove(root, "backend", form.backend != QLatin1String("local") && !form.backend.isEmpty(),
                YAML::Node(form.backend.toStdString()));
    setOrRemove(resources, "nodes", form.nodes != 1, YAML::Node(form.nodes));
    resources["ranks_per_node"] = form.ranksPerNode;
    YAML::Node gpus(YAML::NodeType::Sequence);
    gpus.SetStyle(YAML::EmitterStyle::Flow);
    for (int gpu : form.gpus)
        gpus.push_back(gpu);
    setOrRemove(resources, "gpus", !form.gpus.isEmpty(), gpus);
    root["resources"] = resources;
    setOrRemove(root, "max_restarts", form.maxRestarts > 0, YAML::Node(form.maxRestarts));
    setOrRemove(root, "hang_timeout_s", form.hangTimeoutS > 0, YAML::Node(form.hangTimeoutS));
    setOrRemove(root, "tags", !form.tags.isEmpty(), stringSequence(form.tags));
    setOrRemove(root, "notes", !form.notes.isEmpty(), YAML::Node(form.notes.toStdString()));
    YAML::Node params(YAML::NodeType::Map);
    for (const RunParam &param : form.params) {
        YAML::Node entry(YAML::NodeType::Map);
        entry.SetStyle(YAML::EmitterStyle::Flow);
        entry["type"] = paramTypeName(param.type).toStdString();
        entry["value"] = param.value.toStdString();
        if (param.type == ParamType::Choice)
            entry["choices"] = stringSequence(param.choices);
        params[param.name.toStdString()] = entry;
    }
    setOrRemove(root, "params", !form.params.isEmpty(), params);
    setOrRemove(root, "sweep", !form.sweep.isEmpty(), sweepNode(form.sweep));
    YAML::Node nccl = root["nccl"] && root["nccl"].IsMap() ? root["nccl"] : YAML::Node(YAML::NodeType::Map);
    setOrRemove(nccl, "debug", !form.nccl.level.isEmpty(), YAML::Node(form.nccl.level.toStdString()));
    setOrRemove(nccl, "debug_subsys", !form.nccl.subsystems.isEmpty(), YAML::Node(form.nccl.subsystems.toStdString()));
    setOrRemove(nccl, "async_error_handling", form.nccl.asyncErrorHandling >= 0,
                YAML::Node(form.nccl.asyncErrorHandling));
    setOrRemove(nccl, "trace_buffer_size", form.nccl.traceBufferSize >= 0, YAML::Node(form.nccl.traceBufferSize));
    setOrRemove(nccl, "p2p_disable", form.nccl.p2pDisable, YAML::Node(true));
    setOrRemove(nccl, "ib_disable", form.nccl.ibDisable, YAML::Node(true));
    setOrRemove(nccl, "socket_ifname", !form.nccl.socketIfname.isEmpty(),
                YAML::Node(form.nccl.socketIfname.toStdString()));
    setOrRemove(root, "nccl", nccl.size() > 0, nccl);
    YAML::Emitter out;
    out << root;
    return QByteArray(out.c_str()) + '\n';
}

QStringList changedFields(const RunSpec &parent, const RunSpec &child)
{
    QStringList changed;
    const SpecForm a = formFromSpec(parent), b = formFromSpec(child);
    if (a.name != b.name)
        changed << QStringLiteral("name");
    if (a.command != b.command)
        changed << QStringLiteral("command");
    if (a.cwd != b.cwd)
        changed << QStringLiteral("cwd");
    if (a.backend != b.backend)
        changed << QStringLiteral("backend");
    if (a.nodes != b.nodes)
        changed << QStringLiteral("resources.nodes");
    if (a.ranksPerNode != b.ranksPerNode)
        changed << QStringLiteral("resources.ranks_per_node");
    if (a.gpus != b.gpus)
        changed << QStringLiteral("resources.gpus");
    if (a.maxRestarts != b.maxRestarts)
        changed << QStringLiteral("max_restarts");
    if (a.hangTimeoutS != b.hangTimeoutS)
        changed << QStringLiteral("hang_timeout_s");
    if (a.tags != b.tags)
        changed << QStringLiteral("tags");
    if (a.notes != b.notes)
        changed << QStringLiteral("notes");
    if (parent.env != child.env)
        changed << QStringLiteral("env");
    if (parent.resumeFrom != child.resumeFrom)
        changed << QStringLiteral("resume_from");
    if (parent.strategy.strategy != child.strategy.strategy)
        changed << QStringLiteral("strategy");
    if (a.nccl != b.nccl)
        changed << QStringLiteral("nccl");
    if (parent.sweep.runCount() != child.sweep.runCount() || parent.sweep.grid != child.sweep.grid
        || parent.sweep.seeds != child.sweep.seeds)
        changed << QStringLiteral("sweep");
    QStringList names;
    for (const RunParam &p : a.params + b.params)
        if (!names.contains(p.name))
            names << p.name;
    for (const QString &name : names) {
        const auto find = [&](const QList<RunParam> &list) -> const RunParam * {
            for (const RunParam &p : list)
                if (p.name == name)
                    return &p;
            return nullptr;
        };
        const RunParam *x = find(a.params), *y = find(b.params);
        if (!x || !y || x->value != y->value || x->type != y->type)
            changed << QStringLiteral("params.") + name;
    }
    return changed;
}

namespace {

Result<void> setParamValues(YAML::Node &root, const QStringList &paramValues)
{
    YAML::Node params = root["params"];
    for (const QString &change : paramValues) {
        const qsizetype equals = change.indexOf(QLatin1Char('='));
        if (equals <= 0)
            return fail(QStringLiteral("'%1' is not NAME=VALUE").arg(change));
        const std::string key = change.left(equals).trimmed().toStdString();
        const std::string value = change.mid(equals + 1).toStdString();
        if (!params || !params.IsMap() || !params[key]) {
            QStringList names;
            if (params && params.IsMap())
                for (const auto &entry : params)
                    names << QString::fromStdString(entry.first.Scalar());
            return fail(QStringLiteral("the spec has no param '%1' (%2)")
                            .arg(QString::fromStdString(key),
                                 names.isEmpty()
                                     ? QStringLiteral("it has none")
                                     : QStringLiteral("its params: %1").arg(names.join(QStringLiteral(", ")))));
        }
        YAML::Node entry = params[key];
        if (entry.IsMap()) {
            entry["value"] = value;
            continue;
        }
        // Shorthand (`lr: 0.003`): the type its old value read as is kept, so a new value is checked against it.
        const QString old = QString::fromStdString(entry.Scalar());
        bool number = false, flag = false;
        (void)old.toLongLong(&number);
        const char *type = number                      ? "int"
            : ((void)old.toDouble(&number), number)    ? "float"
            : YAML::convert<bool>::decode(entry, flag) ? "bool"
                                                       : "string";
        YAML::Node typed(YAML::NodeType::Map);
        typed.SetStyle(YAML::EmitterStyle::Flow);
        typed["type"] = type;
        typed["value"] = value;
        params[key] = typed;
    }
    return {};
}

QByteArray specText(const YAML::Node &root)
{
    YAML::Emitter out;
    out << root;
    return QByteArray(out.c_str()) + '\n';
}

} // namespace

Result<QByteArray> withParamValues(const QByteArray &yaml, const QStringList &paramValues)
{
    auto root = loadSpecRoot(yaml);
    if (!root)
        return fail(root.error());
    if (auto set = setParamValues(root.value(), paramValues); !set)
        return fail(set.error());
    return specText(root.value());
}

Result<QByteArray> forkSpec(const QByteArray &yaml, const ResumePoint &from, const QStringList &paramValues,
                            const QString &name)
{
    auto root = loadSpecRoot(yaml);
    if (!root)
        return fail(root.error());
    if (auto set = setParamValues(root.value(), paramValues); !set)
        return fail(set.error());
    root.value()["resume_from"] = QStringLiteral("%1@%2").arg(from.runId).arg(from.step).toStdString();
    if (!name.isEmpty())
        root.value()["name"] = name.toStdString();
    return specText(root.value());
}

} // namespace trainyard
