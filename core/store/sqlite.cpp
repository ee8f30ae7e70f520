// RAII wrappers over the SQLite C API.
#include "store/sqlite.h"

#include <sqlite3.h>

#include <limits>
#include <unordered_map>

namespace trainyard {

namespace {
constexpr int kBusyTimeoutMs = 10000;
}

void SqliteConnection::Closer::operator()(sqlite3 *db) const { sqlite3_close_v2(db); }

SqliteConnection::SqliteConnection(sqlite3 *db, QString path) : m_db(db), m_path(std::move(path)) { }

struct SqliteConnection::StatementCache {
    std::unordered_map<const char *, SqliteStatement> statements;
};

SqliteConnection::SqliteConnection(SqliteConnection &&) noexcept = default;
SqliteConnection &SqliteConnection::operator=(SqliteConnection &&) noexcept = default;
SqliteConnection::~SqliteConnection() = default;

Result<SqliteStatement *> SqliteConnection::cached(const char *sql)
{
    if (!m_cache)
        m_cache = std::make_unique<StatementCache>();
    auto found = m_cache->statements.find(sql);
    if (found != m_cache->statements.end()) {
        found->second.reset();
        return &found->second;
    }
    auto statement = prepare(sql);
    if (!statement)
        return fail(statement.error());
    return &m_cache->statements.emplace(sql, std::move(statement.value())).first->second;
}

Result<SqliteConnection> SqliteConnection::open(const QString &path, Mode mode)
{
    int flags = SQLITE_OPEN_NOMUTEX;
    switch (mode) {
    case Mode::ReadOnly:
        flags |= SQLITE_OPEN_READONLY;
        break;
    case Mode::ReadWrite:
        flags |= SQLITE_OPEN_READWRITE;
        break;
    case Mode::ReadWriteCreate:
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        break;
    }
    sqlite3 *db = nullptr;
    const QByteArray encodedPath = path.toUtf8();
    const int rc = sqlite3_open_v2(encodedPath.constData(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        const QString message = db ? QString::fromUtf8(sqlite3_errmsg(db)) : QString::fromUtf8(sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return fail(QStringLiteral("cannot open database %1: %2").arg(path, message));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    return SqliteConnection(db, path);
}

Result<void> SqliteConnection::execute(const char *sql)
{
    char *message = nullptr;
    if (sqlite3_exec(m_db.get(), sql, nullptr, nullptr, &message) != SQLITE_OK) {
        QString text = QString::fromUtf8(message ? message : sqlite3_errmsg(m_db.get()));
        sqlite3_free(message);
        return fail(QStringLiteral("%1: %2").arg(m_path, text));
    }
    return {};
}

Result<SqliteStatement> SqliteConnection::prepare(const char *sql)
{
    sqlite3_stmt *statement = nullptr;
    if (sqlite3_prepare_v2(m_db.get(), sql, -1, &statement, nullptr) != SQLITE_OK) {
        return fail(QStringLiteral("%1: %2 (in \"%3\")").arg(m_path, lastError(), QString::fromUtf8(sql).simplified()));
    }
    return SqliteStatement(statement, m_db.get());
}

Result<std::int64_t> SqliteConnection::queryInt(const char *sql)
{
    auto statement = prepare(sql);
    if (!statement)
        return fail(statement.error());
    auto row = statement->step();
    if (!row)
        return fail(row.error());
    if (!row.value())
        return fail(QStringLiteral("%1: no row from \"%2\"").arg(m_path, QString::fromUtf8(sql)));
    return statement->columnInt(0);
}

Result<QStringList> SqliteConnection::queryTexts(const char *sql)
{
    auto statement = prepare(sql);
    if (!statement)
        return fail(statement.error());
    QStringList texts;
    if (auto stepped = statement->forEachRow([&] { texts << statement->columnText(0); }); !stepped)
        return fail(stepped.error());
    return texts;
}

std::int64_t SqliteConnection::lastInsertRowId() const { return sqlite3_last_insert_rowid(m_db.get()); }

int SqliteConnection::changes() const { return sqlite3_changes(m_db.get()); }

bool SqliteConnection::inTransaction() const { return sqlite3_get_autocommit(m_db.get()) == 0; }

QString SqliteConnection::lastError() const { return QString::fromUtf8(sqlite3_errmsg(m_db.get())); }

void SqliteStatement::Finalizer::operator()(sqlite3_stmt *statement) const { sqlite3_finalize(statement); }

SqliteStatement::SqliteStatement(sqlite3_stmt *statement, sqlite3 *db) : m_statement(statement), m_db(db) { }

SqliteStatement::~SqliteStatement() = default;

void SqliteStatement::bind(int position, std::int64_t value) { sqlite3_bind_int64(m_statement.get(), position, value); }
void SqliteStatement::bind(int position, double value) { sqlite3_bind_double(m_statement.get(), position, value); }
void SqliteStatement::bind(int position, const QString &value) { bind(position, value.toUtf8()); }
void SqliteStatement::bind(int position, const QByteArray &value)
{
    sqlite3_bind_text(m_statement.get(), position, value.constData(), int(value.size()), SQLITE_TRANSIENT);
}
void SqliteStatement::bindNull(int position) { sqlite3_bind_null(m_statement.get(), position); }
void SqliteStatement::bindBlob(int position, const void *data, int bytes)
{
    sqlite3_bind_blob(m_statement.get(), position, data, bytes, SQLITE_TRANSIENT);
}
const void *SqliteStatement::columnBlob(int column, int &bytes) const
{
    const void *data = sqlite3_column_blob(m_statement.get(), column);
    bytes = sqlite3_column_bytes(m_statement.get(), column);
    return data;
}

Result<bool> SqliteStatement::step()
{
    const int rc = sqlite3_step(m_statement.get());
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    const QString message = QString::fromUtf8(sqlite3_errmsg(m_db));
    sqlite3_reset(m_statement.get());
    return fail(
        QStringLiteral("%1 (in \"%2\")").arg(message, QString::fromUtf8(sqlite3_sql(m_statement.get())).simplified()));
}

Result<void> SqliteStatement::run()
{
    auto row = step();
    reset();
    if (!row)
        return fail(row.error());
    return {};
}

void SqliteStatement::reset()
{
    sqlite3_reset(m_statement.get());
    sqlite3_clear_bindings(m_statement.get());
}

bool SqliteStatement::isNull(int column) const { return sqlite3_column_type(m_statement.get(), column) == SQLITE_NULL; }
std::int64_t SqliteStatement::columnInt(int column) const { return sqlite3_column_int64(m_statement.get(), column); }
double SqliteStatement::columnDouble(int column) const { return sqlite3_column_double(m_statement.get(), column); }

double SqliteStatement::columnDoubleOrNaN(int column) const
{
    return isNull(column) ? std::numeric_limits<double>::quiet_NaN() : columnDouble(column);
}
QString SqliteStatement::columnText(int column) const
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(m_statement.get(), column));
    return text ? QString::fromUtf8(text, sqlite3_column_bytes(m_statement.get(), column)) : QString();
}

Result<std::optional<SqliteTransaction>> SqliteTransaction::snapshot(SqliteConnection &connection)
{
    if (connection.inTransaction())
        return std::optional<SqliteTransaction>();
    auto begun = begin(connection, Kind::Deferred);
    if (!begun)
        return fail(begun.error());
    return std::optional<SqliteTransaction>(std::move(begun.value()));
}

Result<SqliteTransaction> SqliteTransaction::begin(SqliteConnection &connection, Kind kind)
{
    auto begun = connection.execute(kind == Kind::Immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    if (!begun)
        return fail(begun.error());
    return SqliteTransaction(&connection);
}

SqliteTransaction::SqliteTransaction(SqliteTransaction &&other) noexcept : m_connection(other.m_connection)
{
    other.m_connection = nullptr;
}

SqliteTransaction::~SqliteTransaction()
{
    if (m_connection)
        (void)m_connection->execute("ROLLBACK");
}

Result<void> SqliteTransaction::commit()
{
    auto committed = m_connection->execute("COMMIT");
    if (committed)
        m_connection = nullptr;
    return committed;
}

} // namespace trainyard
