// Database: validates, creates and migrates a workspace's SQLite file, and hands out connections.
#pragma once

#include "result.h"
#include "store/sqlite.h"

#include <QString>

namespace trainyard {

class Database {
public:
    // Opens the database at path, creating it when absent and upgrading an older schema in one
    // transaction. Refuses, leaving the file byte-for-byte untouched: a file that is not SQLite, a
    // corrupt one, a foreign SQLite database, and one written by a newer Trainyard.
    static Result<Database> open(const QString &path);

    // Checks the file without creating or changing anything; absent files are fine.
    static Result<void> inspect(const QString &path);

    // A new connection (WAL, foreign keys, busy timeout). Each thread uses its own.
    Result<SqliteConnection> connect() const;

    const QString &path() const { return m_path; }
    int schemaVersion() const { return m_schemaVersion; }

private:
    Database(QString path, int schemaVersion) : m_path(std::move(path)), m_schemaVersion(schemaVersion) { }

    QString m_path;
    int m_schemaVersion;
};

} // namespace trainyard
