// Run housekeeping: rename, tags, notes, archive and delete, for the window and the CLI alike. Each change is one
// writer transaction that the run list's change sequence carries to every window (core/store/schema.cpp, versions
// 10 and 11). The checks are here so that both say the same thing about a bad name or tag.
#pragma once

#include "result.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace trainyard {

class StoreWriter;
class Workspace;

namespace housekeeping {

inline constexpr qsizetype kMaxRunNameLength = 200;
inline constexpr qsizetype kMaxTagLength = 64;
inline constexpr qsizetype kMaxNotesLength = 64 * 1024;

// The name trimmed, or why it cannot be one: empty, longer than kMaxRunNameLength, or holding a control character
// (a newline would break every table it is shown in).
Result<QString> checkRunName(const QString &name);
// A tag is one word: not empty, at most kMaxTagLength characters, no space, comma or control character (the filter
// language's `tag:x` could not name it otherwise).
Result<QString> checkTag(const QString &tag);
// Every tag checked; sorted, each once.
Result<QStringList> checkTags(const QStringList &tags);
// Tags as typed in one field, separated by whitespace ("baseline  resnet"), then checked: a comma is refused, not
// split on, so that "a,b" is not silently two tags.
Result<QStringList> tagsFromText(const QString &text);
Result<QString> checkNotes(const QString &notes);

// Each waits for its transaction. A run id that names no run fails naming it.
Result<void> renameRun(StoreWriter &writer, const QString &runId, const QString &name);
Result<void> setRunTags(StoreWriter &writer, const QString &runId, const QStringList &tags);
// Empty notes remove them.
Result<void> setRunNotes(StoreWriter &writer, const QString &runId, const QString &notes);
// Archived runs keep every row and file but leave the default run list (`status:archived` shows them). A run still
// queued or active cannot be archived: it would vanish while it runs. All the runs or none.
Result<void> setRunsArchived(StoreWriter &writer, const QStringList &runIds, bool archived);

struct RunRemoval {
    QString runId;
    QString name;
    QString folder;          // the run's folder in the workspace (absent for a run imported from elsewhere)
    qint64 folderBytes = 0;  // what deleting the folder frees
    bool folderKept = false; // --keep-files, or the folder did not exist
};

// What deleting these runs would remove, and the first reason it cannot: a run not found, or still queued or active
// ("cancel it first"). Reads the folders' sizes (disk work: never on the UI thread).
Result<QList<RunRemoval>> planRunRemoval(const Workspace &workspace, const QStringList &runIds, bool keepFiles);
// Deletes the runs' rows (params, tags, metrics, events, queue entries: everything keyed by them) in one transaction,
// and unless keepFiles their folders. All or nothing: a folder is first moved aside, so a failed transaction puts
// every folder back; a folder that cannot be removed after the rows are gone is named in `problem` (its rows are
// gone; the folder is left under its moved-aside name for the user to remove).
struct RemovalOutcome {
    QList<RunRemoval> removed;
    QStringList problems;
};
Result<RemovalOutcome> deleteRuns(const Workspace &workspace, StoreWriter &writer, const QStringList &runIds,
                                  bool keepFiles);

} // namespace housekeeping
} // namespace trainyard
