// Opening a workspace database safely: every refusal happens before anything is written.
#include "store/database.h"

#include "store/schema.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QStorageInfo>
#include <QStringList>
#include <QThread>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include <unistd.h>

namespace trainyard {

namespace {

// Less free space than this (SQLite's -shm file takes 32 KiB, a WAL page 4 KiB) and a failed read is a full disk.
constexpr qint64 kFullDiskBytes = 256 * 1024;
// How long opening a workspace keeps trying to switch it to WAL mode while other processes hold it.
constexpr qint64 kWalSwitchPatienceMs = 10000;

constexpr char kSqliteHeader[] = "SQLite format 3"; // followed by a NUL: 16 bytes in all
constexpr qint64 kSqliteHeaderBytes = 16;

Result<void> checkHeader(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read workspace database %1: %2").arg(path, file.errorString()));
    if (file.size() == 0)
        return {}; // SQLite treats an empty file as an empty database
    const QByteArray header = file.read(kSqliteHeaderBytes);
    if (header.size() < kSqliteHeaderBytes || !header.startsWith(kSqliteHeader) || header.at(15) != '\0') {
        return fail(QStringLiteral("%1 is not an SQLite database, so it is not a Trainyard workspace database; "
                                   "it was left untouched. Move it away or choose another workspace with --workspace.")
                        .arg(path));
    }
    return {};
}

struct FileFacts {
    std::int64_t userVersion = 0;
    std::int64_t applicationId = 0;
    QStringList tables;
};

Result<FileFacts> readFacts(SqliteConnection &connection)
{
    // One snapshot: read apart, another process's first migration could commit in between, and its tables would be
    // seen without its application id (a new workspace taken for another program's database). Inside a transaction
    // (a migration re-reading under the write lock) that one is the snapshot.
    auto snapshot = SqliteTransaction::snapshot(connection);
    if (!snapshot)
        return fail(snapshot.error());
    FileFacts facts;
    auto version = connection.queryInt("PRAGMA user_version");
    if (!version)
        return fail(version.error());
    facts.userVersion = version.value();
    auto applicationId = connection.queryInt("PRAGMA application_id");
    if (!applicationId)
        return fail(applicationId.error());
    facts.applicationId = applicationId.value();
    auto tables = connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    if (!tables)
        return fail(tables.error());
    if (auto stepped = tables->forEachRow([&] { facts.tables << tables->columnText(0); }); !stepped)
        return fail(stepped.error());
    return facts;
}

// Decides whether the file may be used; nothing here writes.
Result<void> judge(const QString &path, const FileFacts &facts)
{
    const bool isNew = facts.userVersion == 0 && facts.applicationId == 0 && facts.tables.isEmpty();
    if (isNew)
        return {};
    if (facts.applicationId != schema::kApplicationId) {
        return fail(
            QStringLiteral("%1 is an SQLite database but not a Trainyard workspace (application id %2, tables: %3); "
                           "it was left untouched. Choose another workspace with --workspace.")
                .arg(path)
                .arg(facts.applicationId)
                .arg(facts.tables.isEmpty() ? QStringLiteral("none") : facts.tables.join(QStringLiteral(", "))));
    }
    if (facts.userVersion > schema::kCurrentVersion) {
        return fail(
            QStringLiteral("%1 was written by a newer Trainyard (schema version %2); this Trainyard understands "
                           "schema versions up to %3. It was left untouched: upgrade Trainyard to open it.")
                .arg(path)
                .arg(facts.userVersion)
                .arg(schema::kCurrentVersion));
    }
    return {};
}

Result<void> configure(SqliteConnection &connection)
{
    // A 64 MiB page cache per connection (SQLite's default is 2 MiB): chart queries re-read the same
    // chunks while a user pans, and going back to the file for each cost more than the query itself.
    return connection.execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;");
}

// Brings the schema to kCurrentVersion inside one IMMEDIATE transaction, re-reading the version under the
// write lock so two processes opening the same new workspace do not both migrate it.
Result<int> migrate(SqliteConnection &connection)
{
    auto transaction = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Immediate);
    if (!transaction)
        return fail(transaction.error());
    auto facts = readFacts(connection);
    if (!facts)
        return fail(facts.error());
    if (auto verdict = judge(connection.path(), facts.value()); !verdict)
        return fail(verdict.error());
    const int fromVersion = int(facts->userVersion);
    if (fromVersion == schema::kCurrentVersion)
        return fromVersion;
    for (const schema::Migration &migration : schema::migrations()) {
        if (migration.toVersion <= fromVersion)
            continue;
        auto applied = connection.execute(migration.sql);
        if (applied && migration.convert)
            applied = migration.convert(connection);
        if (!applied) {
            return fail(QStringLiteral("upgrading %1 from schema version %2 to %3 failed, nothing was changed: %4")
                            .arg(connection.path())
                            .arg(fromVersion)
                            .arg(migration.toVersion)
                            .arg(applied.error()));
        }
    }
    const QByteArray stamp = QStringLiteral("PRAGMA user_version = %1; PRAGMA application_id = %2;")
                                 .arg(schema::kCurrentVersion)
                                 .arg(schema::kApplicationId)
                                 .toUtf8();
    if (auto stamped = connection.execute(stamp.constData()); !stamped)
        return fail(stamped.error());
    if (auto committed = transaction->commit(); !committed)
        return fail(committed.error());
    return schema::kCurrentVersion;
}

} // namespace

Result<void> Database::inspect(const QString &path)
{
    if (!QFileInfo::exists(path))
        return {};
    if (auto header = checkHeader(path); !header)
        return header;
    auto connection = SqliteConnection::open(path, SqliteConnection::Mode::ReadOnly);
    if (!connection)
        return fail(connection.error());
    auto facts = readFacts(connection.value());
    if (!facts) {
        // Opening a WAL database creates its -shm and -wal files: on a full disk that is an I/O error, which says
        // nothing of the file itself. A full disk is named as such.
        const QStorageInfo volume(QFileInfo(path).absolutePath());
        if (volume.isValid() && volume.bytesAvailable() < kFullDiskBytes)
            return fail(QStringLiteral(
                            "cannot read %1: the disk holding it (%2) is full (%3 bytes free); free some space and try "
                            "again. The database was left untouched (%4).")
                            .arg(path, volume.rootPath())
                            .arg(volume.bytesAvailable())
                            .arg(facts.error()));
        // A WAL database whose folder cannot be written (a read-only file system, a folder without write permission)
        // cannot be opened either: its -shm file cannot be made. Named as such, with the file (issue 15).
        const QString folder = QFileInfo(path).absolutePath();
        if (volume.isValid() && volume.isReadOnly())
            return fail(
                QStringLiteral(
                    "cannot open %1: the file system holding it (%2) is mounted read-only, and SQLite needs to "
                    "write its -shm and -wal files next to it; remount it read-write or copy the workspace. The "
                    "database was left untouched (%3).")
                    .arg(path, volume.rootPath(), facts.error()));
        if (::access(QFile::encodeName(folder).constData(), W_OK) != 0)
            return fail(
                QStringLiteral(
                    "cannot open %1: its folder %2 cannot be written (%3), and SQLite needs to write its -shm and "
                    "-wal files there. The database was left untouched (%4).")
                    .arg(path, folder, QString::fromLocal8Bit(std::strerror(errno)), facts.error()));
        return fail(
            QStringLiteral("%1 is damaged and cannot be read (%2); it was left untouched.").arg(path, facts.error()));
    }
    return judge(path, facts.value());
}

Result<Database> Database::open(const QString &path)
{
    // Every check that can refuse the file runs on a read-only connection first.
    if (auto verdict = inspect(path); !verdict)
        return fail(verdict.error());
    auto connection = SqliteConnection::open(path, SqliteConnection::Mode::ReadWriteCreate);
    if (!connection)
        return fail(connection.error());
    if (auto configured = configure(connection.value()); !configured)
        return fail(configured.error());
    // Migrate before switching to WAL: changing the journal mode rewrites the header, and a migration that
    // fails must leave an older database byte-for-byte as it was.
    auto version = migrate(connection.value());
    if (!version)
        return fail(version.error());
    // Switching to WAL takes the file's exclusive lock, which SQLite does not wait for: while other processes open
    // the same new workspace (four first launches at once) it is tried again for a while.
    QElapsedTimer switching;
    switching.start();
    for (int attempt = 0;; ++attempt) {
        auto walMode = connection->prepare("PRAGMA journal_mode = WAL");
        if (!walMode)
            return fail(walMode.error());
        auto row = walMode->step();
        if (row && row.value() && walMode->columnText(0) == QLatin1String("wal"))
            break;
        const QString error =
            row ? QStringLiteral("the journal mode stayed '%1'").arg(walMode->columnText(0)) : row.error();
        if (switching.elapsed() > kWalSwitchPatienceMs)
            return fail(QStringLiteral("cannot switch %1 to WAL mode: %2").arg(path, error));
        QThread::msleep(10 + 10 * std::min(attempt, 10));
    }
    return Database(path, version.value());
}

Result<SqliteConnection> Database::connect() const
{
    auto connection = SqliteConnection::open(m_path, SqliteConnection::Mode::ReadWrite);
    if (!connection)
        return connection;
    if (auto configured = configure(connection.value()); !configured)
        return fail(configured.error());
    return connection;
}

} // namespace trainyard
