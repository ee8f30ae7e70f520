// backends.yaml: a mapping from profile name to its settings, read and written with yaml-cpp.
#include "launch/backendprofile.h"

#include "atomicfile.h"
#include "controlcharacters.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QUrl>

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trainyard {

namespace {

QString qs(const YAML::Node &node) { return QString::fromStdString(node.as<std::string>()); }

QString where(const QString &path, const YAML::Node &node)
{
    const YAML::Mark mark = node.Mark();
    return mark.line >= 0 ? QStringLiteral("%1:%2:%3").arg(path).arg(mark.line + 1).arg(mark.column + 1) : path;
}

const QStringList kProfileKeys = {
    QStringLiteral("kind"),           QStringLiteral("url"),           QStringLiteral("user"),
    QStringLiteral("token_file"),     QStringLiteral("partition"),     QStringLiteral("account"),
    QStringLiteral("time_limit_min"), QStringLiteral("cpus_per_task"), QStringLiteral("gpus_per_node"),
    QStringLiteral("sbatch"),         QStringLiteral("trainyard"),     QStringLiteral("env"),
    QStringLiteral("poll_s"),
};

Result<BackendProfile> readProfile(const QString &path, const QString &name, const YAML::Node &node)
{
    if (!node.IsMap())
        return fail(QStringLiteral("%1: profile '%2' must be a mapping (url, user, token_file, ...)")
                        .arg(where(path, node), name));
    BackendProfile profile;
    profile.name = name;
    try {
        for (const auto &entry : node) {
            const QString key = qs(entry.first);
            if (!kProfileKeys.contains(key))
                return fail(QStringLiteral("%1: unknown key '%2' in profile '%3' (known: %4)")
                                .arg(where(path, entry.first), key, name, kProfileKeys.join(QStringLiteral(", "))));
        }
        const auto text = [&](const char *key, QString &into) {
            if (node[key])
                into = qs(node[key]);
        };
        const auto integer = [&](const char *key, int &into) {
            if (node[key])
                into = node[key].as<int>();
        };
        text("kind", profile.kind);
        text("url", profile.url);
        text("user", profile.user);
        text("token_file", profile.tokenFile);
        text("partition", profile.job.partition);
        text("account", profile.job.account);
        integer("time_limit_min", profile.job.timeLimitMinutes);
        integer("cpus_per_task", profile.job.cpusPerTask);
        integer("gpus_per_node", profile.job.gpusPerNode);
        text("trainyard", profile.trainyardPath);
        if (const YAML::Node sbatch = node["sbatch"]) {
            if (!sbatch.IsSequence())
                return fail(QStringLiteral("%1: 'sbatch' must be a list of options such as --qos=high")
                                .arg(where(path, sbatch)));
            for (const auto &option : sbatch)
                profile.job.sbatchOptions << qs(option);
        }
        if (const YAML::Node env = node["env"]) {
            if (!env.IsMap())
                return fail(QStringLiteral("%1: 'env' must be a mapping of variable to value").arg(where(path, env)));
            for (const auto &entry : env)
                profile.jobEnvironment.insert(qs(entry.first), qs(entry.second));
        }
        if (const YAML::Node poll = node["poll_s"])
            profile.pollIntervalMs = int(poll.as<double>() * 1000);
    } catch (const YAML::Exception &error) {
        return fail(QStringLiteral("%1:%2:%3: profile '%4': %5")
                        .arg(path)
                        .arg(error.mark.line + 1)
                        .arg(error.mark.column + 1)
                        .arg(name, QString::fromStdString(error.msg)));
    }
    if (auto valid = validateBackendProfile(profile); !valid)
        return fail(QStringLiteral("%1: %2").arg(where(path, node), valid.error()));
    return profile;
}

} // namespace

SlurmEndpoint BackendProfile::endpoint(const QByteArray &token) const
{
    SlurmEndpoint endpoint;
    endpoint.baseUrl = url;
    endpoint.user = user;
    endpoint.token = token;
    return endpoint;
}

QString backendProfilesPath(const QString &workspaceRoot)
{
    return QDir(workspaceRoot).filePath(QLatin1String(kBackendProfilesFileName));
}

QString storedTokenPath(const QString &workspaceRoot, const QString &profileName)
{
    return QDir(workspaceRoot).filePath(QStringLiteral("tokens/%1.token").arg(profileName));
}

Result<void> validateBackendProfile(const BackendProfile &profile)
{
    static const QRegularExpression namePattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"));
    if (!namePattern.match(profile.name).hasMatch())
        return fail(QStringLiteral("profile name '%1' must be letters, digits, '.', '_' or '-' (at most 64)")
                        .arg(profile.name));
    if (profile.name == QLatin1String("local"))
        return fail(QStringLiteral("'local' is this machine's backend; pick another profile name"));
    if (profile.kind != QLatin1String("slurm"))
        return fail(
            QStringLiteral("profile '%1': kind '%2' is not known (known: slurm)").arg(profile.name, profile.kind));
    const QUrl url(profile.url, QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))
        || url.host().isEmpty())
        return fail(QStringLiteral("profile '%1': url '%2' is not an http(s) address such as http://login1:6820")
                        .arg(profile.name, profile.url));
    if (!url.password().isEmpty()) // it would be sent, and shown by `backend ls`; the token is the credential
        return fail(
            QStringLiteral(
                "profile '%1': url '%2' carries a password; give the address alone (the token is the credential)")
                .arg(profile.name, url.toDisplayString(QUrl::RemovePassword)));
    if (profile.user.isEmpty())
        return fail(QStringLiteral("profile '%1': 'user' (the cluster user the token belongs to) is missing")
                        .arg(profile.name));
    if (profile.tokenFile.isEmpty() || !QFileInfo(profile.tokenFile).isAbsolute())
        return fail(QStringLiteral("profile '%1': 'token_file' must be an absolute path (got '%2')")
                        .arg(profile.name, profile.tokenFile));
    if (profile.job.timeLimitMinutes < 0 || profile.job.cpusPerTask < 0 || profile.job.gpusPerNode < 0)
        return fail(QStringLiteral("profile '%1': time_limit_min, cpus_per_task and gpus_per_node must not be negative")
                        .arg(profile.name));
    if (profile.pollIntervalMs < 100)
        return fail(QStringLiteral("profile '%1': poll_s must be at least 0.1").arg(profile.name));
    // Every field reaches slurmrestd's headers, the job description or the job script.
    QList<QPair<QString, QString>> fields{{QStringLiteral("'url'"), profile.url},
                                          {QStringLiteral("'user'"), profile.user},
                                          {QStringLiteral("'token_file'"), profile.tokenFile},
                                          {QStringLiteral("'trainyard_path'"), profile.trainyardPath},
                                          {QStringLiteral("'partition'"), profile.job.partition},
                                          {QStringLiteral("'account'"), profile.job.account}};
    for (const QString &option : profile.job.sbatchOptions)
        fields.append({QStringLiteral("sbatch option '%1'").arg(option.simplified()), option});
    for (auto it = profile.jobEnvironment.constBegin(); it != profile.jobEnvironment.constEnd(); ++it)
        fields.append({QStringLiteral("'env' %1").arg(it.key().simplified()), it.key() + it.value()});
    for (const auto &[what, value] : fields)
        if (auto clean = refuseControlCharacters(value, what); !clean)
            return fail(QStringLiteral("profile '%1': %2").arg(profile.name, clean.error()));
    QJsonObject scratch;
    for (const QString &option : profile.job.sbatchOptions) {
        if (auto applied = applySbatchOption(option, scratch); !applied)
            return fail(QStringLiteral("profile '%1': %2").arg(profile.name, applied.error()));
    }
    return {};
}

Result<QList<BackendProfile>> loadBackendProfiles(const QString &workspaceRoot)
{
    const QString path = backendProfilesPath(workspaceRoot);
    if (!QFileInfo::exists(path))
        return QList<BackendProfile>{};
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    YAML::Node root;
    try {
        root = YAML::Load(file.readAll().toStdString());
    } catch (const YAML::Exception &error) {
        return fail(QStringLiteral("%1:%2:%3: %4")
                        .arg(path)
                        .arg(error.mark.line + 1)
                        .arg(error.mark.column + 1)
                        .arg(QString::fromStdString(error.msg)));
    }
    QList<BackendProfile> profiles;
    if (!root || root.IsNull())
        return profiles;
    if (!root.IsMap())
        return fail(QStringLiteral("%1: must be a mapping from profile name to its settings").arg(where(path, root)));
    for (const auto &entry : root) {
        auto profile = readProfile(path, QString::fromStdString(entry.first.as<std::string>()), entry.second);
        if (!profile)
            return fail(profile.error());
        profiles << std::move(profile).value();
    }
    return profiles;
}

Result<BackendProfile> findBackendProfile(const QString &workspaceRoot, const QString &name)
{
    auto profiles = loadBackendProfiles(workspaceRoot);
    if (!profiles)
        return fail(profiles.error());
    QStringList names;
    for (const BackendProfile &profile : *profiles) {
        if (profile.name == name)
            return profile;
        names << profile.name;
    }
    return fail(QStringLiteral("backend '%1' is not defined in %2 (%3); add it with `trainyard backend add %1 --url "
                               "URL --user USER --token-file FILE`")
                    .arg(name, backendProfilesPath(workspaceRoot),
                         names.isEmpty() ? QStringLiteral("no profiles yet")
                                         : QStringLiteral("profiles: ") + names.join(QStringLiteral(", "))));
}

Result<void> saveBackendProfiles(const QString &workspaceRoot, const QList<BackendProfile> &profiles)
{
    YAML::Emitter out;
    out << YAML::Comment(
        "Trainyard backend profiles (trainyard backend add|ls|test|rm). Tokens live in their own 0600 files.");
    out << YAML::BeginMap;
    for (const BackendProfile &profile : profiles) {
        if (auto valid = validateBackendProfile(profile); !valid)
            return fail(valid.error());
        const auto put = [&out](const char *key, const QString &value) {
            if (!value.isEmpty())
                out << YAML::Key << key << YAML::Value << value.toStdString();
        };
        const auto putInt = [&out](const char *key, int value) {
            if (value > 0)
                out << YAML::Key << key << YAML::Value << value;
        };
        out << YAML::Key << profile.name.toStdString() << YAML::Value << YAML::BeginMap;
        put("kind", profile.kind);
        put("url", profile.url);
        put("user", profile.user);
        put("token_file", profile.tokenFile);
        put("partition", profile.job.partition);
        put("account", profile.job.account);
        putInt("time_limit_min", profile.job.timeLimitMinutes);
        putInt("cpus_per_task", profile.job.cpusPerTask);
        putInt("gpus_per_node", profile.job.gpusPerNode);
        if (!profile.job.sbatchOptions.isEmpty()) {
            out << YAML::Key << "sbatch" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (const QString &option : profile.job.sbatchOptions)
                out << option.toStdString();
            out << YAML::EndSeq;
        }
        put("trainyard", profile.trainyardPath);
        if (!profile.jobEnvironment.isEmpty()) {
            out << YAML::Key << "env" << YAML::Value << YAML::BeginMap;
            for (auto it = profile.jobEnvironment.constBegin(); it != profile.jobEnvironment.constEnd(); ++it)
                out << YAML::Key << it.key().toStdString() << YAML::Value << it.value().toStdString();
            out << YAML::EndMap;
        }
        if (profile.pollIntervalMs != BackendProfile().pollIntervalMs)
            out << YAML::Key << "poll_s" << YAML::Value << profile.pollIntervalMs / 1000.0;
        out << YAML::EndMap;
    }
    out << YAML::EndMap;
    if (!QDir().mkpath(workspaceRoot))
        return fail(QStringLiteral("cannot create workspace folder %1").arg(workspaceRoot));
    return writeFileAtomically(backendProfilesPath(workspaceRoot), QByteArray(out.c_str()) + '\n');
}

Result<void> upsertBackendProfile(const QString &workspaceRoot, const BackendProfile &profile)
{
    if (auto valid = validateBackendProfile(profile); !valid)
        return fail(valid.error());
    auto profiles = loadBackendProfiles(workspaceRoot);
    if (!profiles)
        return fail(profiles.error());
    bool replaced = false;
    for (BackendProfile &existing : *profiles) {
        if (existing.name == profile.name) {
            existing = profile;
            replaced = true;
        }
    }
    if (!replaced)
        profiles->append(profile);
    return saveBackendProfiles(workspaceRoot, *profiles);
}

Result<void> removeBackendProfile(const QString &workspaceRoot, const QString &name)
{
    auto profiles = loadBackendProfiles(workspaceRoot);
    if (!profiles)
        return fail(profiles.error());
    const qsizetype before = profiles->size();
    profiles->removeIf([&](const BackendProfile &profile) { return profile.name == name; });
    if (profiles->size() == before)
        return fail(QStringLiteral("backend '%1' is not defined in %2").arg(name, backendProfilesPath(workspaceRoot)));
    if (auto saved = saveBackendProfiles(workspaceRoot, *profiles); !saved)
        return saved;
    QFile::remove(storedTokenPath(workspaceRoot, name));
    return {};
}

Result<QByteArray> readBackendToken(const BackendProfile &profile)
{
    const QByteArray path = QFile::encodeName(profile.tokenFile);
    struct stat info { };
    if (::stat(path.constData(), &info) != 0)
        return fail(QStringLiteral("backend '%1': cannot read token file %2: %3")
                        .arg(profile.name, profile.tokenFile, QString::fromLocal8Bit(std::strerror(errno))));
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return fail(QStringLiteral("backend '%1': token file %2 can be read by others (mode %3); run `chmod 600 %2`")
                        .arg(profile.name, profile.tokenFile, QString::number(info.st_mode & 0777, 8)));
    QFile file(profile.tokenFile);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("backend '%1': cannot read token file %2: %3")
                        .arg(profile.name, profile.tokenFile, file.errorString()));
    QByteArray token = file.readAll().trimmed();
    if (token.startsWith("SLURM_JWT="))
        token = token.mid(10); // as `scontrol token` prints it
    if (token.isEmpty())
        return fail(QStringLiteral("backend '%1': token file %2 is empty").arg(profile.name, profile.tokenFile));
    if (token.contains('\n') || token.contains('\r'))
        return fail(QStringLiteral("backend '%1': token file %2 holds more than one line")
                        .arg(profile.name, profile.tokenFile));
    return token;
}

Result<void> writeTokenFile(const QString &path, const QByteArray &token)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return fail(QStringLiteral("cannot create folder %1").arg(QFileInfo(path).absolutePath()));
    const QByteArray temporary = QFile::encodeName(path + QStringLiteral(".new"));
    const int fd = ::open(temporary.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(
            QStringLiteral("cannot write token file %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    ::fchmod(fd, 0600); // whatever the umask or an older file said
    const QByteArray content = token.trimmed() + '\n';
    const bool written = ::write(fd, content.constData(), size_t(content.size())) == content.size() && ::fsync(fd) == 0;
    ::close(fd);
    if (!written || ::rename(temporary.constData(), QFile::encodeName(path).constData()) != 0) {
        ::unlink(temporary.constData());
        return fail(
            QStringLiteral("cannot write token file %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    }
    return {};
}

} // namespace trainyard
