// BackendProfile: a named cluster a workspace launches runs on (today: Slurm through slurmrestd), kept in
// <workspace>/backends.yaml. The token itself stays in a separate file of mode 0600, never in the profile.
#pragma once

#include "launch/slurmclient.h"
#include "launch/slurmjob.h"
#include "result.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

namespace trainyard {

struct BackendProfile {
    QString name; // what `backend:` in a spec and `--backend` name
    QString kind = QStringLiteral("slurm");
    QString url;           // slurmrestd, e.g. http://login1:6820
    QString user;          // the cluster user the token belongs to
    QString tokenFile;     // absolute path; mode 0600
    SlurmJobSettings job;  // partition, account, time limit, CPUs and GPUs per node, extra #SBATCH options
    QString trainyardPath; // trainyard on the nodes; empty: this executable's path (a shared install)
    QMap<QString, QString> jobEnvironment; // the job's environment (slurmrestd passes none); PATH has a default
    int pollIntervalMs = 2000;

    SlurmEndpoint endpoint(const QByteArray &token) const;
};

inline constexpr const char *kBackendProfilesFileName = "backends.yaml";
QString backendProfilesPath(const QString &workspaceRoot);
// Where `backend add --token-stdin` keeps a token: <workspace>/tokens/<name>.token.
QString storedTokenPath(const QString &workspaceRoot, const QString &profileName);

// Every profile of the workspace (none when the file does not exist). Errors name the file and line.
Result<QList<BackendProfile>> loadBackendProfiles(const QString &workspaceRoot);
Result<BackendProfile> findBackendProfile(const QString &workspaceRoot, const QString &name);
// Checks one profile: a usable name, an http(s) URL, a user, a token file, supported #SBATCH options.
Result<void> validateBackendProfile(const BackendProfile &profile);
// Writes the whole list (atomically), replacing the file.
Result<void> saveBackendProfiles(const QString &workspaceRoot, const QList<BackendProfile> &profiles);
// Adds or replaces the profile of that name.
Result<void> upsertBackendProfile(const QString &workspaceRoot, const BackendProfile &profile);
Result<void> removeBackendProfile(const QString &workspaceRoot, const QString &name);

// The token, trimmed. Refuses a file others can read ("chmod 600 FILE") or an empty one.
Result<QByteArray> readBackendToken(const BackendProfile &profile);
// Writes a token file of mode 0600 (created that way, never wider for a moment).
Result<void> writeTokenFile(const QString &path, const QByteArray &token);

} // namespace trainyard
