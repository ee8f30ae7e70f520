// trainyard backend add|ls|test|rm: the cluster profiles of a workspace (<workspace>/backends.yaml).
#include "cli/subcommand.h"

#include "launch/backendprofile.h"
#include "launch/slurmclient.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>

#include <cstdio>

namespace trainyard::cli {

namespace {

QJsonObject profileJson(const BackendProfile &profile)
{
    QJsonObject env;
    for (auto it = profile.jobEnvironment.constBegin(); it != profile.jobEnvironment.constEnd(); ++it)
        env.insert(it.key(), it.value());
    return QJsonObject{
        {QStringLiteral("name"), profile.name},
        {QStringLiteral("kind"), profile.kind},
        {QStringLiteral("url"), profile.url},
        {QStringLiteral("user"), profile.user},
        {QStringLiteral("token_file"), profile.tokenFile},
        {QStringLiteral("partition"), profile.job.partition},
        {QStringLiteral("account"), profile.job.account},
        {QStringLiteral("time_limit_min"), profile.job.timeLimitMinutes},
        {QStringLiteral("cpus_per_task"), profile.job.cpusPerTask},
        {QStringLiteral("gpus_per_node"), profile.job.gpusPerNode},
        {QStringLiteral("sbatch"), QJsonArray::fromStringList(profile.job.sbatchOptions)},
        {QStringLiteral("trainyard"), profile.trainyardPath},
        {QStringLiteral("env"), env},
        {QStringLiteral("poll_s"), profile.pollIntervalMs / 1000.0},
    };
}

} // namespace

int runBackend(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Cluster profiles runs launch on (`backend: NAME` in a spec, `launch --backend NAME`).\n"
                       "  trainyard backend add NAME --url URL --user USER (--token-file FILE | --token-stdin) [job "
                       "defaults] [--replace]\n"
                       "  trainyard backend ls [--json]\n"
                       "  trainyard backend test NAME     (reaches slurmrestd with the profile's token)\n"
                       "  trainyard backend rm NAME"));
    const QCommandLineOption url(QStringLiteral("url"), QStringLiteral("slurmrestd address, e.g. http://login1:6820."),
                                 QStringLiteral("URL"));
    const QCommandLineOption user(QStringLiteral("user"), QStringLiteral("Cluster user the token belongs to."),
                                  QStringLiteral("USER"));
    const QCommandLineOption tokenFile(
        QStringLiteral("token-file"),
        QStringLiteral("File holding the JWT (mode 0600; `scontrol token` output is fine)."), QStringLiteral("FILE"));
    const QCommandLineOption tokenStdin(
        QStringLiteral("token-stdin"),
        QStringLiteral("Read the JWT from standard input and keep it in <workspace>/tokens/NAME.token (mode 0600)."));
    const QCommandLineOption partition(QStringLiteral("partition"), QStringLiteral("Default partition."),
                                       QStringLiteral("P"));
    const QCommandLineOption account(QStringLiteral("account"), QStringLiteral("Default account."),
                                     QStringLiteral("A"));
    const QCommandLineOption timeLimit(QStringLiteral("time-limit"), QStringLiteral("Default time limit in minutes."),
                                       QStringLiteral("MIN"));
    const QCommandLineOption cpus(QStringLiteral("cpus-per-task"),
                                  QStringLiteral("CPUs per node (one agent task per node)."), QStringLiteral("N"));
    const QCommandLineOption gpusPerNode(QStringLiteral("gpus-per-node"), QStringLiteral("GPUs per node."),
                                         QStringLiteral("N"));
    const QCommandLineOption sbatch(QStringLiteral("sbatch"),
                                    QStringLiteral("Extra #SBATCH option, e.g. --qos=high (repeatable)."),
                                    QStringLiteral("OPT"));
    const QCommandLineOption trainyard(QStringLiteral("trainyard"),
                                       QStringLiteral("trainyard's path on the nodes (default: this executable's)."),
                                       QStringLiteral("PATH"));
    const QCommandLineOption env(
        QStringLiteral("env"),
        QStringLiteral("Job environment variable (repeatable); PATH defaults to /usr/local/bin:/usr/bin:/bin."),
        QStringLiteral("K=V"));
    const QCommandLineOption poll(QStringLiteral("poll"),
                                  QStringLiteral("Seconds between job state polls (default 2)."), QStringLiteral("S"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("ls: print JSON."));
    const QCommandLineOption replace(
        QStringLiteral("replace"),
        QStringLiteral("add: replace a profile of the same name (without it, an existing name is refused)."));
    for (const QCommandLineOption &option : {url, user, tokenFile, tokenStdin, partition, account, timeLimit, cpus,
                                             gpusPerNode, sbatch, trainyard, env, poll, json, replace})
        parser.addOption(option);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("backend"), arguments, streams))
        return *exit;
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usageFailure(streams, parser, QStringLiteral("backend"),
                            QStringLiteral("give an action: add, ls, test or rm"));
    const QString action = positional.first();
    const QString root = resolveWorkspaceRoot(parser, workspaceBefore);
    const auto failWith = [&](const QString &message) {
        return reportFailure(streams, QStringLiteral("backend ") + action, message);
    };

    if (action == QLatin1String("ls")) {
        auto profiles = loadBackendProfiles(root);
        if (!profiles)
            return failWith(profiles.error());
        if (parser.isSet(json)) {
            QJsonArray list;
            for (const BackendProfile &profile : *profiles)
                list.append(profileJson(profile));
            streams.out << QJsonDocument(list).toJson();
            return kExitOk;
        }
        if (profiles->isEmpty())
            streams.out << "no backend profiles in " << root
                        << " (only 'local'); add one with `trainyard backend add`\n";
        for (const BackendProfile &profile : *profiles) {
            streams.out << profile.name << "  " << profile.kind << "  " << profile.url << "  user " << profile.user;
            if (!profile.job.partition.isEmpty())
                streams.out << "  partition " << profile.job.partition;
            streams.out << "  token " << profile.tokenFile << '\n';
        }
        return kExitOk;
    }
    if (positional.size() != 2)
        return usageFailure(streams, parser, QStringLiteral("backend"),
                            QStringLiteral("`backend %1` takes one profile NAME").arg(action));
    const QString name = positional.at(1);

    if (action == QLatin1String("rm")) {
        if (auto removed = removeBackendProfile(root, name); !removed)
            return failWith(removed.error());
        streams.out << "removed backend " << name << '\n';
        return kExitOk;
    }
    if (action == QLatin1String("test")) {
        auto profile = findBackendProfile(root, name);
        if (!profile)
            return failWith(profile.error());
        auto token = readBackendToken(*profile);
        if (!token)
            return failWith(token.error());
        auto pinged = SlurmClient(profile->endpoint(*token)).ping();
        if (!pinged)
            return failWith(QStringLiteral("backend '%1': %2").arg(name, pinged.error()));
        streams.out << name << ": " << *pinged << "; token accepted for user " << profile->user << '\n';
        return kExitOk;
    }
    if (action != QLatin1String("add"))
        return usageFailure(streams, parser, QStringLiteral("backend"),
                            QStringLiteral("unknown action '%1': add, ls, test or rm").arg(action));

    BackendProfile profile;
    profile.name = name;
    profile.url = parser.value(url);
    profile.user = parser.value(user);
    if (parser.isSet(tokenFile) == parser.isSet(tokenStdin))
        return usageFailure(streams, parser, QStringLiteral("backend"),
                            QStringLiteral("give the token with exactly one of --token-file FILE or --token-stdin"));
    profile.tokenFile =
        parser.isSet(tokenFile) ? QFileInfo(parser.value(tokenFile)).absoluteFilePath() : storedTokenPath(root, name);
    profile.job.partition = parser.value(partition);
    profile.job.account = parser.value(account);
    profile.job.sbatchOptions = parser.values(sbatch);
    profile.trainyardPath = parser.value(trainyard);
    for (const auto &[option, target] :
         {std::pair{timeLimit, &profile.job.timeLimitMinutes}, std::pair{cpus, &profile.job.cpusPerTask},
          std::pair{gpusPerNode, &profile.job.gpusPerNode}}) {
        if (!parser.isSet(option))
            continue;
        bool ok = false;
        *target = parser.value(option).toInt(&ok);
        if (!ok || *target < 0)
            return usageFailure(streams, parser, QStringLiteral("backend"),
                                QStringLiteral("--%1 '%2' is not a whole number of 0 or more")
                                    .arg(option.names().first(), parser.value(option)));
    }
    if (parser.isSet(poll)) {
        bool ok = false;
        const double seconds = parser.value(poll).toDouble(&ok);
        if (!ok || seconds < 0.1 || seconds > 3600)
            return usageFailure(
                streams, parser, QStringLiteral("backend"),
                QStringLiteral("--poll '%1' is not a number of seconds from 0.1 to 3600").arg(parser.value(poll)));
        profile.pollIntervalMs = int(seconds * 1000);
    }
    for (const QString &pair : parser.values(env)) {
        const qsizetype equals = pair.indexOf(QLatin1Char('='));
        if (equals <= 0)
            return usageFailure(streams, parser, QStringLiteral("backend"),
                                QStringLiteral("--env '%1' is not KEY=VALUE").arg(pair));
        profile.jobEnvironment.insert(pair.left(equals), pair.mid(equals + 1));
    }
    if (auto valid = validateBackendProfile(profile); !valid)
        return failWith(valid.error());
    if (!parser.isSet(replace)) { // a typo must not silently replace a working profile
        auto existing = loadBackendProfiles(root);
        if (!existing)
            return failWith(existing.error());
        for (const BackendProfile &other : existing.value())
            if (other.name == name)
                return failWith(
                    QStringLiteral(
                        "backend '%1' already exists (%2 as %3); give --replace to replace it, or remove it first with "
                        "`trainyard backend rm %1`")
                        .arg(name, other.url, other.user));
    }
    // Everything is checked before anything is written: a bad option leaves no token file behind.
    if (parser.isSet(tokenStdin)) {
        QTextStream in(stdin);
        const QByteArray token = in.readAll().trimmed().toUtf8();
        if (token.isEmpty())
            return failWith(QStringLiteral("no token on standard input"));
        if (auto written = writeTokenFile(profile.tokenFile, token); !written)
            return failWith(written.error());
    } else if (auto token = readBackendToken(profile); !token) {
        return failWith(token.error());
    }
    if (auto saved = upsertBackendProfile(root, profile); !saved)
        return failWith(saved.error());
    streams.out << "backend " << name << ": " << profile.url << " as " << profile.user << " (saved in "
                << backendProfilesPath(root) << "); check it with `trainyard backend test " << name << "`\n";
    return kExitOk;
}

} // namespace trainyard::cli
