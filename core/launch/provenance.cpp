// Asks git itself (the program), with a time limit, rather than reading .git by hand.
#include "launch/provenance.h"

#include "atomicfile.h"

#include <QFile>
#include <QJsonDocument>
#include <QProcess>

#include <QDir>
#include <QFileInfo>

#include <pwd.h>
#include <unistd.h>

namespace trainyard {

QString currentUserName()
{
    if (const passwd *entry = ::getpwuid(::geteuid()); entry && entry->pw_name)
        return QString::fromLocal8Bit(entry->pw_name);
    return qEnvironmentVariable("USER", QStringLiteral("uid%1").arg(::geteuid()));
}

QString projectNameFor(const QString &folder)
{
    // Walking up to a .git entry is what git does, without starting a process per run (a sweep queues thousands).
    QDir dir(QFileInfo(folder).absoluteFilePath());
    for (QDir probe = dir;;) {
        if (QFileInfo::exists(probe.filePath(QStringLiteral(".git"))))
            return probe.dirName();
        if (!probe.cdUp())
            break;
    }
    return dir.dirName().isEmpty() ? QStringLiteral("/") : dir.dirName();
}

namespace {

constexpr int kGitTimeoutMs = 10000;

struct GitOutput {
    int exitCode = -1;
    QString out;
};

GitOutput git(const QString &folder, const QStringList &arguments)
{
    QProcess process;
    process.setWorkingDirectory(folder);
    process.start(QStringLiteral("git"), arguments);
    if (!process.waitForStarted(kGitTimeoutMs) || !process.waitForFinished(kGitTimeoutMs)) {
        process.kill();
        process.waitForFinished();
        return {};
    }
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromUtf8(process.readAllStandardOutput())};
}

} // namespace

Result<std::optional<GitProvenance>> captureGitProvenance(const QString &folder)
{
    const GitOutput inside = git(folder, {QStringLiteral("rev-parse"), QStringLiteral("--is-inside-work-tree")});
    if (inside.exitCode != 0 || inside.out.trimmed() != QLatin1String("true"))
        return std::optional<GitProvenance>(); // not a repository, or no git: nothing to record
    GitProvenance provenance;
    const GitOutput root = git(folder, {QStringLiteral("rev-parse"), QStringLiteral("--show-toplevel")});
    const GitOutput commit = git(folder, {QStringLiteral("rev-parse"), QStringLiteral("HEAD")});
    if (commit.exitCode != 0)
        return std::optional<GitProvenance>(); // a repository without a commit yet
    const GitOutput branch =
        git(folder, {QStringLiteral("rev-parse"), QStringLiteral("--abbrev-ref"), QStringLiteral("HEAD")});
    const GitOutput status = git(folder, {QStringLiteral("status"), QStringLiteral("--porcelain")});
    if (root.exitCode != 0 || branch.exitCode != 0 || status.exitCode != 0)
        return fail(QStringLiteral("git failed in %1 while recording the run's provenance").arg(folder));
    provenance.repositoryRoot = root.out.trimmed();
    provenance.commit = commit.out.trimmed();
    provenance.branch = branch.out.trimmed();
    provenance.dirty = !status.out.trimmed().isEmpty();
    if (provenance.dirty) {
        const GitOutput diff = git(folder, {QStringLiteral("diff"), QStringLiteral("HEAD")});
        if (diff.exitCode != 0)
            return fail(QStringLiteral("git diff failed in %1").arg(folder));
        provenance.diff = diff.out;
    }
    return std::optional<GitProvenance>(provenance);
}

} // namespace trainyard
