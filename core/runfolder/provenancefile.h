// ProvenanceFile: a run's provenance.json (and git.diff when the tree was dirty) in its folder. Capturing it (asking
// git) is launch's part, in launch/provenance.h; reading and writing the file is here, below everything that does.
#pragma once

#include "result.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace trainyard {

struct GitProvenance {
    QString repositoryRoot;
    QString commit;
    QString branch; // "HEAD" when detached
    bool dirty = false;
    QString diff; // git diff HEAD (tracked files), empty when clean

    QJsonObject toJson() const;
    static std::optional<GitProvenance> fromJson(const QJsonObject &object);
};

Result<void> saveProvenance(const GitProvenance &provenance, const QString &runDir);
std::optional<GitProvenance> loadProvenance(const QString &runDir);

} // namespace trainyard
