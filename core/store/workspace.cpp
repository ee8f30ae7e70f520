// Resolving and opening a workspace folder.
#include "store/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QProcessEnvironment>

#include <filesystem>
#include <system_error>

#include <unistd.h>

namespace trainyard {

namespace {
constexpr auto kDatabaseFileName = "trainyard.db";
constexpr auto kRunsFolderName = "runs";

Result<void> ensureWritableFolder(const QString &path, const char *what)
{
    std::error_code error;
    std::filesystem::create_directories(std::filesystem::path(path.toStdString()), error);
    if (error)
        return fail(QStringLiteral("cannot create %1 %2: %3")
                        .arg(QLatin1String(what), path, QString::fromStdString(error.message())));
    if (!QFileInfo(path).isDir())
        return fail(QStringLiteral("%1 %2 is not a folder").arg(QLatin1String(what), path));
    if (::access(QFile::encodeName(path).constData(), W_OK | X_OK) != 0)
        return fail(QStringLiteral("%1 %2 is not writable: %3")
                        .arg(QLatin1String(what), path, QString::fromLocal8Bit(strerror(errno))));
    return {};
}
} // namespace

Workspace::Sources Workspace::sourcesFromEnvironment(const QString &commandLineDir)
{
    const QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    return Sources{commandLineDir, environment.value(QStringLiteral("TRAINYARD_HOME")),
                   environment.value(QStringLiteral("XDG_DATA_HOME")), environment.value(QStringLiteral("HOME"))};
}

QString Workspace::resolveRoot(const Sources &sources)
{
    QString root;
    if (!sources.commandLineDir.isEmpty())
        root = sources.commandLineDir;
    else if (!sources.trainyardHome.isEmpty())
        root = sources.trainyardHome;
    // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    else if (!sources.xdgDataHome.isEmpty() && QDir::isAbsolutePath(sources.xdgDataHome))
        root = sources.xdgDataHome + QStringLiteral("/trainyard");
    else
        root = sources.home + QStringLiteral("/.local/share/trainyard");
    return QDir::cleanPath(QDir::current().absoluteFilePath(root));
}

QString Workspace::databasePathFor(const QString &root)
{
    return root + QLatin1Char('/') + QLatin1String(kDatabaseFileName);
}

Result<Workspace> Workspace::open(const QString &root)
{
    // Refuse a bad database before creating anything beside it.
    const QString databasePath = databasePathFor(root);
    if (auto verdict = Database::inspect(databasePath); !verdict)
        return fail(verdict.error());
    if (auto folder = ensureWritableFolder(root, "workspace folder"); !folder)
        return fail(folder.error());
    if (auto runs = ensureWritableFolder(root + QLatin1Char('/') + QLatin1String(kRunsFolderName), "runs folder");
        !runs)
        return fail(runs.error());
    auto database = Database::open(databasePath);
    if (!database)
        return fail(database.error());
    return Workspace(root, std::move(database.value()));
}

Result<std::optional<Workspace>> Workspace::openIfExists(const QString &root)
{
    if (!QFileInfo::exists(databasePathFor(root)))
        return std::optional<Workspace>();
    auto workspace = open(root);
    if (!workspace)
        return fail(workspace.error());
    return std::optional<Workspace>(std::move(workspace.value()));
}

QString Workspace::runsDir() const { return m_root + QLatin1Char('/') + QLatin1String(kRunsFolderName); }

QString Workspace::runDir(const QString &runId) const { return runsDir() + QLatin1Char('/') + runId; }

} // namespace trainyard
