// The workspace database schema: its version and the forward migrations that build it.
#pragma once

#include "result.h"

#include <cstdint>
#include <span>

namespace trainyard {
class SqliteConnection;
}

namespace trainyard::schema {

// Bumped with every migration; a database whose user_version is higher was written by a newer Trainyard.
inline constexpr int kCurrentVersion = 14;
// PRAGMA application_id of a Trainyard workspace ('TYRD'), so a foreign SQLite file is told apart.
inline constexpr std::int32_t kApplicationId = 0x54595244;

struct Migration {
    int toVersion;
    const char *sql;
    // Data conversion that SQL alone cannot do, run after `sql` in the same transaction.
    Result<void> (*convert)(SqliteConnection &connection) = nullptr;
};

// Migration i takes a database from version toVersion-1 to toVersion; a new database runs them all.
std::span<const Migration> migrations();

} // namespace trainyard::schema
