// Provenance: where a run's code came from. When its working folder is in a git repository: the commit, the
// branch, whether the tree was dirty, and the uncommitted diff, saved in the run folder.
#pragma once

#include "result.h"
#include "runfolder/provenancefile.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace trainyard {

// std::nullopt when folder is not inside a git work tree (or git is missing); an error when git fails there.
Result<std::optional<GitProvenance>> captureGitProvenance(const QString &folder);

// Who and what a run is for, as the throughput review groups it: the OS user running Trainyard, and the
// name of the git repository a folder is in (the folder's own name outside one).
QString currentUserName();
QString projectNameFor(const QString &folder);

} // namespace trainyard
