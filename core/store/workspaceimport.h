// Team view: an export bundle of a workspace (one consistent SQLite file) and the import of another workspace
// or bundle into this one. Runs are identified by their ids: importing twice adds nothing the second time,
// and the source is never written to.
#pragma once

#include "result.h"

#include <QString>

#include <cstdint>

namespace trainyard {

class Workspace;

// A consistent snapshot of the workspace's database in one file (SQLite's VACUUM INTO), taken while others
// may be writing. Refuses to overwrite an existing file.
Result<void> exportBundle(const Workspace &workspace, const QString &bundlePath);

struct ImportSummary {
    std::int64_t runsImported = 0;
    std::int64_t runsAlreadyPresent = 0; // same id here already: left as they are
    std::int64_t events = 0;
    std::int64_t metricChunks = 0;
    std::int64_t sweeps = 0;
};

// Merges the runs of `source` (a workspace folder, its trainyard.db, or a bundle) that this workspace does not
// have: their rows, tags, params, state changes, sweeps and metrics (logs stay in the source's run folders).
// The source is read from a private copy (upgraded there when older) and merged in one transaction on a
// connection of its own: ATTACH cannot run inside the StoreWriter's batches, and an import is a command of its
// own (`trainyard import`), so it is this process's one writer while it runs.
Result<ImportSummary> importWorkspace(const Workspace &workspace, const QString &source);

} // namespace trainyard
