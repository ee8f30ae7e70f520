// RunParams: a run's typed hyper-parameters and how they reach the program: an args template ("--lr={lr}"),
// environment variables, or a generated JSON/YAML config file whose path is passed.
#pragma once

#include "result.h"

#include <QList>
#include <QMap>
#include <QPair>
#include <QString>
#include <QStringList>

#include <cstdint>

namespace trainyard {

enum class ParamType { Int, Float, Bool, String, Choice };

struct RunParam {
    QString name;
    ParamType type = ParamType::String;
    QString value;       // canonical text: 50, 0.0003, true, adam
    QStringList choices; // for Choice
};

struct ParamPassing {
    QStringList argsTemplate;            // each item appended to the command, {name} replaced
    QMap<QString, QString> envFromParam; // VARIABLE -> param name
    QString configFile;                  // file name in the run folder ("" = none); .json or .yaml
    QString configArgTemplate;           // e.g. "--config={path}"; appended when set
};

QString paramTypeName(ParamType type);

// `{checkpoint}` in param_passing.args: the path of the checkpoint the run resumes from (a restart's newest, or the
// fork's). An argument holding it is left out when the run starts from the beginning, and so is a flag just before
// a lone `{checkpoint}` ("--resume", "{checkpoint}"). resolveParams keeps the placeholder for
// applyCheckpointArguments, which each attempt applies.
inline constexpr const char *kCheckpointPlaceholder = "{checkpoint}";
inline const QMap<QString, QString> kCheckpointPlaceholderValues{
    {QStringLiteral("checkpoint"), QStringLiteral("{checkpoint}")}};
QStringList applyCheckpointArguments(const QStringList &arguments, const QString &checkpointPath);

// A run and one of its steps: where a fork starts ("RUN@STEP").
struct ResumePoint {
    QString runId;
    std::int64_t step = 0;
    bool operator==(const ResumePoint &) const = default;
};
// Reads "RUN@STEP"; the error says what is wrong with it.
Result<ResumePoint> parseResumePoint(const QString &text);

// The command's extra arguments, the extra environment, and the config file's content, for these params.
struct ResolvedParams {
    QStringList extraArguments;
    QMap<QString, QString> extraEnvironment;
    QString configPath;       // absolute, in the run folder
    QByteArray configContent; // what to write there
};
Result<ResolvedParams> resolveParams(const QList<RunParam> &params, const ParamPassing &passing, const QString &runDir);

// Replaces {name} in text with the param's value; unknown names are an error naming them.
Result<QString> substituteParams(const QString &text, const QList<RunParam> &params,
                                 const QMap<QString, QString> &extra = {});

} // namespace trainyard
