// A spec's and a backend profile's Slurm job settings, and the #SBATCH options Trainyard can pass to slurmrestd.
#include "spec/slurmsettings.h"

#include <QRegularExpression>

namespace trainyard {

namespace {

// "64G" -> 65536 (MiB, Slurm's unit for memory); K, M, G, T suffixes, M when none.
std::optional<qint64> parseSlurmMemoryMiB(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^(\\d+)([KMGT]?)B?$"),
                                            QRegularExpression::CaseInsensitiveOption);
    const auto match = pattern.match(text.trimmed());
    if (!match.hasMatch())
        return std::nullopt;
    const qint64 value = match.captured(1).toLongLong();
    switch (match.captured(2).toUpper().isEmpty() ? QChar('M').unicode()
                                                  : match.captured(2).toUpper().at(0).unicode()) {
    case 'K':
        return (value + 1023) / 1024;
    case 'G':
        return value * 1024;
    case 'T':
        return value * 1024 * 1024;
    default:
        return value;
    }
}

struct SbatchOption {
    QString name;  // without the leading --
    QString field; // job-description field
    enum class Kind { Text, Integer, MemoryMiB, Flag, NegatedFlag } kind;
};

const QList<SbatchOption> &sbatchOptionTable()
{
    using Kind = SbatchOption::Kind;
    static const QList<SbatchOption> table = {
        {QStringLiteral("qos"), QStringLiteral("qos"), Kind::Text},
        {QStringLiteral("constraint"), QStringLiteral("constraints"), Kind::Text},
        {QStringLiteral("reservation"), QStringLiteral("reservation"), Kind::Text},
        {QStringLiteral("comment"), QStringLiteral("comment"), Kind::Text},
        {QStringLiteral("wckey"), QStringLiteral("wckey"), Kind::Text},
        {QStringLiteral("licenses"), QStringLiteral("licenses"), Kind::Text},
        {QStringLiteral("dependency"), QStringLiteral("dependency"), Kind::Text},
        {QStringLiteral("mail-user"), QStringLiteral("mail_user"), Kind::Text},
        {QStringLiteral("mail-type"), QStringLiteral("mail_type"), Kind::Text},
        {QStringLiteral("gres"), QStringLiteral("gres"), Kind::Text},
        {QStringLiteral("signal"), QStringLiteral("signal"), Kind::Text},
        {QStringLiteral("nice"), QStringLiteral("nice"), Kind::Integer},
        {QStringLiteral("cpus-per-gpu"), QStringLiteral("cpus_per_gpu"), Kind::Integer},
        {QStringLiteral("mem"), QStringLiteral("memory_per_node"), Kind::MemoryMiB},
        {QStringLiteral("mem-per-cpu"), QStringLiteral("memory_per_cpu"), Kind::MemoryMiB},
        {QStringLiteral("mem-per-gpu"), QStringLiteral("memory_per_gpu"), Kind::MemoryMiB},
        {QStringLiteral("requeue"), QStringLiteral("requeue"), Kind::Flag},
        {QStringLiteral("no-requeue"), QStringLiteral("requeue"), Kind::NegatedFlag},
    };
    return table;
}

QString quoted(const QString &text) { return QLatin1Char('\'') + text + QLatin1Char('\''); }

} // namespace

SlurmJobSettings mergeSlurmSettings(const SlurmJobSettings &profile, const SlurmJobSettings &spec)
{
    SlurmJobSettings merged = profile;
    if (!spec.partition.isEmpty())
        merged.partition = spec.partition;
    if (!spec.account.isEmpty())
        merged.account = spec.account;
    if (spec.timeLimitMinutes > 0)
        merged.timeLimitMinutes = spec.timeLimitMinutes;
    if (spec.cpusPerTask > 0)
        merged.cpusPerTask = spec.cpusPerTask;
    if (spec.gpusPerNode > 0)
        merged.gpusPerNode = spec.gpusPerNode;
    merged.sbatchOptions += spec.sbatchOptions;
    return merged;
}

QStringList supportedSbatchOptions()
{
    QStringList names;
    for (const SbatchOption &option : sbatchOptionTable())
        names << QStringLiteral("--") + option.name;
    return names;
}

Result<void> applySbatchOption(const QString &optionText, QJsonObject &job)
{
    QString text = optionText.trimmed();
    if (text.startsWith(QLatin1String("#SBATCH")))
        text = text.mid(7).trimmed();
    if (!text.startsWith(QLatin1String("--")))
        return fail(
            QStringLiteral("sbatch option %1 must be written --name=value (e.g. --qos=high)").arg(quoted(optionText)));
    const qsizetype equals = text.indexOf(QLatin1Char('='));
    const QString name = text.mid(2, equals < 0 ? -1 : equals - 2);
    const QString value = equals < 0 ? QString() : text.mid(equals + 1);
    for (const SbatchOption &option : sbatchOptionTable()) {
        if (option.name != name)
            continue;
        using Kind = SbatchOption::Kind;
        const bool flag = option.kind == Kind::Flag || option.kind == Kind::NegatedFlag;
        if (flag != (equals < 0) || (!flag && value.isEmpty()))
            return fail(flag ? QStringLiteral("sbatch option --%1 takes no value").arg(name)
                             : QStringLiteral("sbatch option --%1 needs a value: --%1=VALUE").arg(name));
        switch (option.kind) {
        case Kind::Text:
            job.insert(option.field, value);
            break;
        case Kind::Integer: {
            bool ok = false;
            const int number = value.toInt(&ok);
            if (!ok)
                return fail(QStringLiteral("sbatch option --%1: '%2' is not a whole number").arg(name, value));
            job.insert(option.field, number);
            break;
        }
        case Kind::MemoryMiB: {
            const auto mib = parseSlurmMemoryMiB(value);
            if (!mib)
                return fail(QStringLiteral("sbatch option --%1: '%2' is not a memory size such as 64G or 4096M")
                                .arg(name, value));
            job.insert(option.field, *mib);
            break;
        }
        case Kind::Flag:
            job.insert(option.field, true);
            break;
        case Kind::NegatedFlag:
            job.insert(option.field, false);
            break;
        }
        return {};
    }
    return fail(QStringLiteral("sbatch option --%1 is not one Trainyard can pass through slurmrestd; supported: %2")
                    .arg(name, supportedSbatchOptions().join(QStringLiteral(", "))));
}

} // namespace trainyard
