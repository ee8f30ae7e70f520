// Editing a run spec as a form: the fields the compose panel shows, read from a spec and written back
// into its YAML text. Writing changes only the form's keys, so what the form does not show (param passing,
// the strategy, the environment, comments aside) is kept as it was.
#pragma once

#include "result.h"
#include "spec/runspec.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

namespace trainyard {

struct SpecForm {
    QString name;
    QStringList command;
    QString cwd;
    QString backend = QStringLiteral("local"); // or a backend profile's name
    int nodes = 1;
    int ranksPerNode = 1;
    QList<int> gpus;
    int maxRestarts = 0;
    double hangTimeoutS = 0;
    QStringList tags;
    QString notes;
    QList<RunParam> params;
    SweepSpec sweep;       // its axes, edited in the form's axes table
    NcclDebugOptions nccl; // the `nccl:` switches
    bool operator==(const SpecForm &other) const;
};

SpecForm formFromSpec(const RunSpec &spec);
// The YAML text with the form's fields set (an empty or blank text starts a new spec).
Result<QByteArray> applyForm(const QByteArray &yaml, const SpecForm &form);
// The spec with each of `paramValues` (NAME=VALUE) set on a param it has, its type kept (checked when the result is
// read); the error names a param the spec does not have, with those it has.
Result<QByteArray> withParamValues(const QByteArray &yaml, const QStringList &paramValues);
// A fork of a run's spec (its resolved spec.yaml): `resume_from` set to `from`, each of `paramValues` (NAME=VALUE) set
// on a param the spec has (its type kept; checked when the result is read), and `name` when not empty. The error names
// a change that does not apply (a param the spec does not have, with those it has).
Result<QByteArray> forkSpec(const QByteArray &yaml, const ResumePoint &from, const QStringList &paramValues,
                            const QString &name = {});
// The fields (YAML keys, e.g. "params.lr", "resources.ranks_per_node") whose values differ.
QStringList changedFields(const RunSpec &parent, const RunSpec &child);

} // namespace trainyard
