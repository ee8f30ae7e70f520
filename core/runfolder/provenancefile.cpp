#include "runfolder/provenancefile.h"

#include "atomicfile.h"
#include "runfolder/runfolder.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>

namespace trainyard {

QJsonObject GitProvenance::toJson() const
{
    return QJsonObject{{QStringLiteral("repository"), repositoryRoot},
                       {QStringLiteral("commit"), commit},
                       {QStringLiteral("branch"), branch},
                       {QStringLiteral("dirty"), dirty}};
}

std::optional<GitProvenance> GitProvenance::fromJson(const QJsonObject &object)
{
    if (!object.contains(QStringLiteral("commit")))
        return std::nullopt;
    GitProvenance provenance;
    provenance.repositoryRoot = object.value(QStringLiteral("repository")).toString();
    provenance.commit = object.value(QStringLiteral("commit")).toString();
    provenance.branch = object.value(QStringLiteral("branch")).toString();
    provenance.dirty = object.value(QStringLiteral("dirty")).toBool();
    return provenance;
}

Result<void> saveProvenance(const GitProvenance &provenance, const QString &runDir)
{
    const QDir dir(runDir);
    if (auto written = writeFileAtomically(dir.filePath(QLatin1String(kProvenanceFileName)),
                                           QJsonDocument(provenance.toJson()).toJson());
        !written)
        return written;
    if (provenance.dirty)
        return writeFileAtomically(dir.filePath(QLatin1String(kGitDiffFileName)), provenance.diff.toUtf8());
    return {};
}

std::optional<GitProvenance> loadProvenance(const QString &runDir)
{
    const QDir dir(runDir);
    QFile file(dir.filePath(QLatin1String(kProvenanceFileName)));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    auto provenance = GitProvenance::fromJson(QJsonDocument::fromJson(file.readAll()).object());
    if (provenance && provenance->dirty) {
        QFile diff(dir.filePath(QLatin1String(kGitDiffFileName)));
        if (diff.open(QIODevice::ReadOnly))
            provenance->diff = QString::fromUtf8(diff.readAll());
    }
    return provenance;
}

} // namespace trainyard
