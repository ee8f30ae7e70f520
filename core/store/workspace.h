// Workspace: the folder that holds a Trainyard database and its run directories.
#pragma once

#include "result.h"
#include "store/database.h"

#include <QString>

#include <optional>

namespace trainyard {

class Workspace {
public:
    // Where the folder may come from, highest priority first. Empty strings mean "not given".
    struct Sources {
        QString commandLineDir; // --workspace DIR
        QString trainyardHome;  // $TRAINYARD_HOME
        QString xdgDataHome;    // $XDG_DATA_HOME
        QString home;           // $HOME
    };

    static Sources sourcesFromEnvironment(const QString &commandLineDir);
    // --workspace, else TRAINYARD_HOME, else $XDG_DATA_HOME/trainyard, else ~/.local/share/trainyard.
    static QString resolveRoot(const Sources &sources);

    // Creates the folder when needed, checks that it is writable, opens (and upgrades) its database.
    static Result<Workspace> open(const QString &root);
    // For read-only commands: opens the database only when the workspace already exists, never creating
    // anything; std::nullopt when there is no workspace yet.
    static Result<std::optional<Workspace>> openIfExists(const QString &root);

    static QString databasePathFor(const QString &root);

    const QString &root() const { return m_root; }
    QString runsDir() const;
    QString runDir(const QString &runId) const;
    const Database &database() const { return m_database; }

private:
    Workspace(QString root, Database database) : m_root(std::move(root)), m_database(std::move(database)) { }

    QString m_root;
    Database m_database;
};

} // namespace trainyard
