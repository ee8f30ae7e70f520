// SlurmJobSettings: a run's Slurm job resources and policy, as a backend profile gives them and a spec's `slurm:`
// section overrides them; plain values that launch turns into a job (launch/slurmjob.h).
#pragma once

#include "result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace trainyard {

// The job's resources and policy: a backend profile's defaults, overridden by a spec's `slurm:` section.
struct SlurmJobSettings {
    QString partition;
    QString account;
    int timeLimitMinutes = 0; // 0: the partition's default
    int cpusPerTask = 0;      // per node (one agent task per node); 0: Slurm's default
    int gpusPerNode = 0;
    QStringList sbatchOptions; // extra `#SBATCH` options, e.g. --qos=high (see kSupportedSbatchOptions)
};

// The profile's job settings with a spec's `slurm:` values over them (its sbatch options appended).
SlurmJobSettings mergeSlurmSettings(const SlurmJobSettings &profile, const SlurmJobSettings &spec);

// The extra #SBATCH options Trainyard can pass through slurmrestd (which ignores #SBATCH lines in a script).
QStringList supportedSbatchOptions();
// Sets the job-description field an option like "--comment=text" or "--mem=64G" stands for; an option
// outside the supported set, or a bad value, is an error naming it.
Result<void> applySbatchOption(const QString &option, QJsonObject &job);

} // namespace trainyard
