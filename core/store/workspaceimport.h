// Team view: an export bundle of a workspace (one consistent SQLite file) and the import of another workspace
// or bundle into this one. Runs are identified by their ids: importing twice adds nothing the second time,
// and the source is never written to.
#pragma once

#include "result.h"

#include <QString>
#include <QStringList>

#include <cstdint>

namespace trainyard {

class Workspace;

// What an export carried, or left out.
struct ExportSummary {
    std::int64_t artifacts = 0; // files under the runs' artifacts/ folders carried in the bundle
    std::int64_t artifactBytes = 0;
    std::int64_t leftOut = 0; // artifacts not carried (--no-artifacts, or over SQLite's 1 GB value limit)
    std::int64_t leftOutBytes = 0;
    QStringList tooLarge; // those over the limit, by path
};

// A consistent snapshot of the workspace's database in one file (SQLite's VACUUM INTO), taken while others
// may be writing, with the runs' artifacts (files under each run folder's artifacts/) in a bundle_artifacts table
// unless `withArtifacts` is false. Refuses to overwrite an existing file; a failure leaves no file.
Result<ExportSummary> exportBundle(const Workspace &workspace, const QString &bundlePath, bool withArtifacts = true);

struct ImportSummary {
    std::int64_t runsImported = 0;
    std::int64_t runsAlreadyPresent = 0; // same id here already: left as they are
    std::int64_t events = 0;
    std::int64_t metricChunks = 0;
    std::int64_t sweeps = 0;
    std::int64_t artifacts = 0; // artifact files a bundle carried, written into the imported runs' folders
};

// Merges the runs of `source` (a workspace folder, its trainyard.db, or a bundle) that this workspace does not
// have: their rows, tags, params, state changes, sweeps and metrics (logs stay in the source's run folders).
// The source is read from a private copy (upgraded there when older) and merged in one transaction on a
// connection of its own: ATTACH cannot run inside the StoreWriter's batches, and an import is a command of its
// own (`trainyard import`), so it is this process's one writer while it runs.
Result<ImportSummary> importWorkspace(const Workspace &workspace, const QString &source);

} // namespace trainyard
