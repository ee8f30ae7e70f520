// Thin RAII owners of sqlite3 connections and statements, with errors as Result values.
#pragma once

#include "result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

#include <cstdint>
#include <memory>
#include <type_traits>

struct sqlite3;
struct sqlite3_stmt;

namespace trainyard {

class SqliteStatement;

class SqliteConnection {
public:
    enum class Mode { ReadOnly, ReadWrite, ReadWriteCreate };

    static Result<SqliteConnection> open(const QString &path, Mode mode);

    SqliteConnection(SqliteConnection &&) noexcept;
    SqliteConnection &operator=(SqliteConnection &&) noexcept;
    ~SqliteConnection();

    // Runs one or more statements that return no rows.
    Result<void> execute(const char *sql);
    Result<SqliteStatement> prepare(const char *sql);
    // A statement prepared once per connection and kept, reset and unbound, for statements run many times
    // a second (the ingestion path). `sql` must be a string literal: the cache is keyed by its address.
    // The statement is valid until the connection is destroyed; it is not reentrant.
    Result<SqliteStatement *> cached(const char *sql);
    // Reads a single integer (a PRAGMA or COUNT(*)).
    Result<std::int64_t> queryInt(const char *sql);
    // Reads the first column of every row as text (a list of ids).
    Result<QStringList> queryTexts(const char *sql);

    std::int64_t lastInsertRowId() const;
    bool inTransaction() const; // an explicit transaction is open
    int changes() const;        // rows changed by the last INSERT, UPDATE or DELETE
    QString lastError() const;
    const QString &path() const { return m_path; }
    sqlite3 *handle() const { return m_db.get(); }

private:
    struct Closer {
        void operator()(sqlite3 *db) const;
    };
    SqliteConnection(sqlite3 *db, QString path);

    struct StatementCache;

    std::unique_ptr<sqlite3, Closer> m_db;
    QString m_path;
    std::unique_ptr<StatementCache> m_cache; // after m_db: its statements are finalized before the close
};

class SqliteStatement {
public:
    SqliteStatement(SqliteStatement &&) noexcept = default;
    SqliteStatement &operator=(SqliteStatement &&) noexcept = default;
    ~SqliteStatement();

    // Binding uses 1-based positions, as SQLite does.
    void bind(int position, std::int64_t value);
    void bind(int position, double value);
    void bind(int position, const QString &value);
    void bind(int position, const QByteArray &value);
    void bindNull(int position);
    void bindBlob(int position, const void *data, int bytes); // copied
    // A blob column: pointer valid until the next step/reset; nullptr for NULL.
    const void *columnBlob(int column, int &bytes) const;

    // Steps once: true when a row is available, false when done.
    Result<bool> step();
    // Steps through every row, calling onRow() with the statement on the row (read its columns in onRow). onRow
    // returns void (every row is read), bool (false stops after this row) or Result<void> (an error stops and is
    // returned); so is a failed step.
    template <typename OnRow>
    Result<void> forEachRow(OnRow &&onRow);
    // Steps to completion of a statement that returns no rows, then resets it for reuse.
    Result<void> run();
    void reset();

    bool isNull(int column) const;
    std::int64_t columnInt(int column) const;
    double columnDouble(int column) const;
    double columnDoubleOrNaN(int column) const; // NULL as NaN: metric values store NaN as NULL
    QString columnText(int column) const;

private:
    friend class SqliteConnection;
    struct Finalizer {
        void operator()(sqlite3_stmt *statement) const;
    };
    SqliteStatement(sqlite3_stmt *statement, sqlite3 *db);

    std::unique_ptr<sqlite3_stmt, Finalizer> m_statement;
    sqlite3 *m_db = nullptr;
};

template <typename OnRow>
Result<void> SqliteStatement::forEachRow(OnRow &&onRow)
{
    using Returned = std::invoke_result_t<OnRow &>;
    while (true) {
        auto row = step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return {};
        if constexpr (std::is_void_v<Returned>) {
            onRow();
        } else if constexpr (std::is_same_v<Returned, bool>) {
            if (!onRow())
                return {};
        } else {
            if (Result<void> done = onRow(); !done)
                return done;
        }
    }
}

// RAII transaction: rolls back unless commit() succeeded.
class SqliteTransaction {
public:
    enum class Kind { Deferred, Immediate };
    static Result<SqliteTransaction> begin(SqliteConnection &connection, Kind kind);
    // One read snapshot for several statements: a deferred transaction, unless the connection is already in one
    // (which is then the snapshot, and nothing is begun).
    static Result<std::optional<SqliteTransaction>> snapshot(SqliteConnection &connection);

    SqliteTransaction(SqliteTransaction &&other) noexcept;
    SqliteTransaction &operator=(SqliteTransaction &&) = delete;
    ~SqliteTransaction();

    Result<void> commit();

private:
    explicit SqliteTransaction(SqliteConnection *connection) : m_connection(connection) { }
    SqliteConnection *m_connection;
};

} // namespace trainyard
