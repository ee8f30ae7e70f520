// Param resolution. Values are kept as canonical text, checked against their type when the spec is read.
#include "spec/runparams.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <yaml-cpp/yaml.h>

namespace trainyard {

QString paramTypeName(ParamType type)
{
    switch (type) {
    case ParamType::Int:
        return QStringLiteral("int");
    case ParamType::Float:
        return QStringLiteral("float");
    case ParamType::Bool:
        return QStringLiteral("bool");
    case ParamType::String:
        return QStringLiteral("string");
    case ParamType::Choice:
        return QStringLiteral("choice");
    }
    return {};
}

Result<QString> substituteParams(const QString &text, const QList<RunParam> &params,
                                 const QMap<QString, QString> &extra)
{
    static const QRegularExpression placeholder(QStringLiteral("\\{([A-Za-z_][A-Za-z0-9_.-]*)\\}"));
    QString result;
    qsizetype last = 0;
    auto matches = placeholder.globalMatch(text);
    while (matches.hasNext()) {
        const auto match = matches.next();
        const QString name = match.captured(1);
        QString value;
        if (extra.contains(name)) {
            value = extra.value(name);
        } else {
            const auto found =
                std::find_if(params.begin(), params.end(), [&](const RunParam &param) { return param.name == name; });
            if (found == params.end())
                return fail(QStringLiteral("'{%1}' in \"%2\" names no param").arg(name, text));
            value = found->value;
        }
        result += text.mid(last, match.capturedStart() - last) + value;
        last = match.capturedEnd();
    }
    return result + text.mid(last);
}

QStringList applyCheckpointArguments(const QStringList &arguments, const QString &checkpointPath)
{
    const QLatin1String placeholder(kCheckpointPlaceholder);
    QStringList applied;
    for (const QString &argument : arguments) {
        if (!argument.contains(placeholder)) {
            applied << argument;
            continue;
        }
        if (!checkpointPath.isEmpty()) {
            applied << QString(argument).replace(placeholder, checkpointPath);
            continue;
        }
        // Not resuming: the argument goes, and with a lone placeholder the flag it is the value of.
        if (argument == placeholder && !applied.isEmpty() && applied.last().startsWith(QLatin1Char('-'))
            && !applied.last().contains(QLatin1Char('=')))
            applied.removeLast();
    }
    return applied;
}

Result<ResumePoint> parseResumePoint(const QString &text)
{
    const qsizetype at = text.lastIndexOf(QLatin1Char('@'));
    if (at <= 0 || at == text.size() - 1)
        return fail(
            QStringLiteral("'%1' is not RUN@STEP (a run id, '@', and the step of one of its checkpoints)").arg(text));
    bool ok = false;
    const qlonglong step = text.mid(at + 1).toLongLong(&ok);
    if (!ok || step < 0)
        return fail(QStringLiteral("'%1': '%2' is not a step (a whole number, 0 or more)").arg(text, text.mid(at + 1)));
    return ResumePoint{text.left(at), step};
}

namespace {

QJsonValue jsonValue(const RunParam &param)
{
    switch (param.type) {
    case ParamType::Int:
        return param.value.toLongLong();
    case ParamType::Float:
        return param.value.toDouble();
    case ParamType::Bool:
        return param.value == QLatin1String("true");
    default:
        return param.value;
    }
}

} // namespace

Result<ResolvedParams> resolveParams(const QList<RunParam> &params, const ParamPassing &passing, const QString &runDir)
{
    ResolvedParams resolved;
    for (const QString &item : passing.argsTemplate) {
        auto argument = substituteParams(item, params, kCheckpointPlaceholderValues);
        if (!argument)
            return fail(QStringLiteral("args: %1").arg(argument.error()));
        resolved.extraArguments << argument.value();
    }
    for (auto it = passing.envFromParam.constBegin(); it != passing.envFromParam.constEnd(); ++it) {
        const auto found =
            std::find_if(params.begin(), params.end(), [&](const RunParam &param) { return param.name == it.value(); });
        if (found == params.end())
            return fail(QStringLiteral("env: %1 takes param '%2', which does not exist").arg(it.key(), it.value()));
        resolved.extraEnvironment.insert(it.key(), found->value);
    }
    if (!passing.configFile.isEmpty()) {
        resolved.configPath = runDir + QLatin1Char('/') + passing.configFile;
        if (passing.configFile.endsWith(QLatin1String(".json"))) {
            QJsonObject object;
            for (const RunParam &param : params)
                object.insert(param.name, jsonValue(param));
            resolved.configContent = QJsonDocument(object).toJson(QJsonDocument::Indented);
        } else {
            YAML::Emitter out;
            out << YAML::BeginMap;
            for (const RunParam &param : params) {
                out << YAML::Key << param.name.toStdString() << YAML::Value;
                if (param.type == ParamType::String || param.type == ParamType::Choice)
                    out << YAML::DoubleQuoted << param.value.toStdString();
                else
                    out << param.value.toStdString();
            }
            out << YAML::EndMap;
            resolved.configContent = QByteArray(out.c_str()) + '\n';
        }
        if (!passing.configArgTemplate.isEmpty()) {
            auto argument =
                substituteParams(passing.configArgTemplate, params, {{QStringLiteral("path"), resolved.configPath}});
            if (!argument)
                return fail(QStringLiteral("config_file.arg: %1").arg(argument.error()));
            resolved.extraArguments << argument.value();
        }
    }
    return resolved;
}

} // namespace trainyard
