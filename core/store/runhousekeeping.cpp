// Run housekeeping through the writer; deletion moves folders aside first so that a failed transaction loses nothing.
#include "store/runhousekeeping.h"

#include "controlcharacters.h"
#include "store/runqueries.h"
#include "store/runrecord.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QRegularExpression>

#include <algorithm>

namespace trainyard::housekeeping {

namespace {

// Fails naming the run when no row has this id; its status otherwise.
Result<RunStatus> statusOf(SqliteConnection &connection, const QString &runId)
{
    auto select = connection.prepare("SELECT status FROM runs WHERE id = ?");
    if (!select)
        return fail(select.error());
    select->bind(1, runId);
    auto found = select->step();
    if (!found)
        return fail(found.error());
    if (!found.value())
        return fail(QStringLiteral("no run with id %1 (deleted meanwhile?)").arg(runId));
    return runStatusFromString(select->columnText(0)).value_or(RunStatus::Lost);
}

// Why a run in this status cannot be archived or deleted yet; empty when it can.
QString stillInUse(const QString &runId, RunStatus status, const QString &what)
{
    if (isTerminal(status))
        return {};
    if (status == RunStatus::Queued)
        return QStringLiteral("run %1 is queued: cancel it first (trainyard cancel %1), then %2 it").arg(runId, what);
    return QStringLiteral("run %1 is %2: cancel it first (trainyard cancel %1), then %3 it")
        .arg(runId, toString(status), what);
}

Result<void> waitFor(std::future<Result<void>> future) { return future.get(); }

qint64 folderBytes(const QString &folder)
{
    qint64 bytes = 0;
    QDirIterator files(folder, QDir::Files | QDir::Hidden | QDir::System | QDir::NoSymLinks,
                       QDirIterator::Subdirectories);
    while (files.hasNext()) {
        files.next();
        bytes += files.fileInfo().size();
    }
    return bytes;
}

QString movedAsideName(const Workspace &workspace, const QString &runId)
{
    return workspace.runsDir() + QStringLiteral("/.deleting-") + runId;
}

} // namespace

Result<QString> checkRunName(const QString &name)
{
    const QString trimmed = name.trimmed();
    if (trimmed.isEmpty())
        return fail(QStringLiteral("a run's name cannot be empty"));
    if (trimmed.size() > kMaxRunNameLength)
        return fail(QStringLiteral("a run's name can have at most %1 characters; this one has %2")
                        .arg(kMaxRunNameLength)
                        .arg(trimmed.size()));
    if (auto plain = refuseControlCharacters(trimmed, QStringLiteral("the run's name")); !plain)
        return fail(plain.error() + QStringLiteral(" (a line break would break every table it is shown in)"));
    return trimmed;
}

Result<QString> checkTag(const QString &tag)
{
    if (tag.isEmpty())
        return fail(QStringLiteral("a tag cannot be empty"));
    if (tag.size() > kMaxTagLength)
        return fail(QStringLiteral("tag '%1…' is longer than %2 characters").arg(tag.left(20)).arg(kMaxTagLength));
    if (tag.contains(u','))
        return fail(QStringLiteral("tag '%1' holds a comma: a tag is one word; give each tag on its own").arg(tag));
    if (std::any_of(tag.cbegin(), tag.cend(), [](QChar c) { return c.isSpace(); }))
        return fail(QStringLiteral("tag '%1' holds a space: a tag is one word (use - or _ instead)").arg(tag));
    if (auto plain = refuseControlCharacters(tag, QStringLiteral("tag '%1'").arg(tag)); !plain)
        return fail(plain.error());
    return tag;
}

Result<QStringList> checkTags(const QStringList &tags)
{
    QStringList checked;
    for (const QString &tag : tags) {
        auto valid = checkTag(tag);
        if (!valid)
            return fail(valid.error());
        checked << *valid;
    }
    checked.sort();
    checked.removeDuplicates();
    return checked;
}

Result<QStringList> tagsFromText(const QString &text)
{
    static const QRegularExpression kWhitespace(QStringLiteral("\\s+"));
    return checkTags(text.split(kWhitespace, Qt::SkipEmptyParts));
}

Result<QString> checkNotes(const QString &notes)
{
    if (notes.size() > kMaxNotesLength)
        return fail(QStringLiteral("notes can have at most %1 characters; these have %2")
                        .arg(kMaxNotesLength)
                        .arg(notes.size()));
    // Line breaks and tabs are the notes' own; any other control character (ESC would drive a terminal) is refused.
    QString withoutLayout = notes;
    withoutLayout.replace(QRegularExpression(QStringLiteral("[\\r\\n\\t]")), QStringLiteral(" "));
    if (auto plain = refuseControlCharacters(withoutLayout, QStringLiteral("the notes")); !plain)
        return fail(plain.error());
    return notes;
}

Result<void> renameRun(StoreWriter &writer, const QString &runId, const QString &name)
{
    auto checked = checkRunName(name);
    if (!checked)
        return fail(checked.error());
    return waitFor(writer.submit<void>([runId, name = *checked](SqliteConnection &connection) -> Result<void> {
        if (auto status = statusOf(connection, runId); !status)
            return fail(status.error());
        auto update = connection.prepare("UPDATE runs SET name = ? WHERE id = ?");
        if (!update)
            return fail(update.error());
        update->bind(1, name);
        update->bind(2, runId);
        return update->run();
    }));
}

Result<void> setRunTags(StoreWriter &writer, const QString &runId, const QStringList &tags)
{
    auto checked = checkTags(tags);
    if (!checked)
        return fail(checked.error());
    return waitFor(writer.submit<void>([runId, tags = *checked](SqliteConnection &connection) -> Result<void> {
        if (auto status = statusOf(connection, runId); !status)
            return fail(status.error());
        auto remove = connection.prepare("DELETE FROM tags WHERE run_id = ?");
        if (!remove)
            return fail(remove.error());
        remove->bind(1, runId);
        if (auto removed = remove->run(); !removed)
            return removed;
        auto insert = connection.prepare("INSERT INTO tags (run_id, tag) VALUES (?, ?)");
        if (!insert)
            return fail(insert.error());
        for (const QString &tag : tags) {
            insert->reset();
            insert->bind(1, runId);
            insert->bind(2, tag);
            if (auto inserted = insert->run(); !inserted)
                return inserted;
        }
        return {};
    }));
}

Result<void> setRunNotes(StoreWriter &writer, const QString &runId, const QString &notes)
{
    auto checked = checkNotes(notes);
    if (!checked)
        return fail(checked.error());
    return waitFor(writer.submit<void>([runId, notes = *checked](SqliteConnection &connection) -> Result<void> {
        if (auto status = statusOf(connection, runId); !status)
            return fail(status.error());
        auto write = connection.prepare(
            notes.isEmpty() ? "DELETE FROM run_tags WHERE run_id = ?1 AND key = ?2"
                            : "INSERT OR REPLACE INTO run_tags (run_id, key, value) VALUES (?1, ?2, ?3)");
        if (!write)
            return fail(write.error());
        write->bind(1, runId);
        write->bind(2, QString::fromLatin1(kNotesTag));
        if (!notes.isEmpty())
            write->bind(3, notes);
        return write->run();
    }));
}

Result<void> setRunsArchived(StoreWriter &writer, const QStringList &runIds, bool archived)
{
    const std::int64_t nowMs = QDateTime::currentMSecsSinceEpoch();
    return waitFor(writer.submit<void>([runIds, archived, nowMs](SqliteConnection &connection) -> Result<void> {
        auto update = connection.prepare(
            "UPDATE runs SET archived_ms = CASE WHEN ?2 THEN coalesce(archived_ms, ?3) ELSE NULL END WHERE id = ?1");
        if (!update)
            return fail(update.error());
        for (const QString &runId : runIds) {
            auto status = statusOf(connection, runId);
            if (!status)
                return fail(status.error());
            if (const QString busy = stillInUse(runId, *status, QStringLiteral("archive")); archived && !busy.isEmpty())
                return fail(busy);
            update->reset();
            update->bind(1, runId);
            update->bind(2, std::int64_t(archived));
            update->bind(3, nowMs);
            if (auto updated = update->run(); !updated)
                return updated;
        }
        return {};
    }));
}

Result<QList<RunRemoval>> planRunRemoval(const Workspace &workspace, const QStringList &runIds, bool keepFiles)
{
    auto connection = workspace.database().connect();
    if (!connection)
        return fail(connection.error());
    QList<RunRemoval> plan;
    for (const QString &runId : runIds) {
        auto run = runqueries::findRun(connection.value(), runId);
        if (!run)
            return fail(run.error());
        if (const QString busy = stillInUse(run->id, run->status, QStringLiteral("delete")); !busy.isEmpty())
            return fail(busy);
        RunRemoval removal;
        removal.runId = run->id;
        removal.name = run->name;
        removal.folder = workspace.runDir(run->id);
        removal.folderKept = keepFiles || !QFileInfo(removal.folder).isDir();
        if (QFileInfo(removal.folder).isDir())
            removal.folderBytes = folderBytes(removal.folder);
        plan << removal;
    }
    return plan;
}

Result<RemovalOutcome> deleteRuns(const Workspace &workspace, StoreWriter &writer, const QStringList &runIds,
                                  bool keepFiles)
{
    auto plan = planRunRemoval(workspace, runIds, keepFiles);
    if (!plan)
        return fail(plan.error());

    // Folders out of the way first, under a name no run has: renamed back if anything below fails.
    QList<const RunRemoval *> movedAside;
    const auto putBack = [&] {
        for (const RunRemoval *removal : movedAside)
            QDir().rename(movedAsideName(workspace, removal->runId), removal->folder);
    };
    for (const RunRemoval &removal : std::as_const(*plan)) {
        if (removal.folderKept)
            continue;
        if (!QDir().rename(removal.folder, movedAsideName(workspace, removal.runId))) {
            putBack();
            return fail(QStringLiteral("cannot move %1 aside to delete it (is a file in it open, or the folder not "
                                       "writable?); nothing was deleted")
                            .arg(removal.folder));
        }
        movedAside << &removal;
    }

    QStringList ids;
    for (const RunRemoval &removal : std::as_const(*plan))
        ids << removal.runId;
    auto deleted = waitFor(writer.submit<void>([ids](SqliteConnection &connection) -> Result<void> {
        auto remove = connection.prepare("DELETE FROM runs WHERE id = ?");
        if (!remove)
            return fail(remove.error());
        for (const QString &runId : ids) {
            // Checked again inside the transaction: the run may have been queued again since the plan.
            auto status = statusOf(connection, runId);
            if (!status)
                return fail(status.error());
            if (const QString busy = stillInUse(runId, *status, QStringLiteral("delete")); !busy.isEmpty())
                return fail(busy);
            remove->reset();
            remove->bind(1, runId);
            if (auto removed = remove->run(); !removed)
                return removed;
        }
        return {};
    }));
    if (!deleted) {
        putBack();
        return fail(deleted.error() + QStringLiteral("; nothing was deleted"));
    }

    RemovalOutcome outcome;
    outcome.removed = *plan;
    for (const RunRemoval *removal : std::as_const(movedAside)) {
        const QString aside = movedAsideName(workspace, removal->runId);
        if (!QDir(aside).removeRecursively())
            outcome.problems << QStringLiteral("run %1's rows are deleted but its folder could not be removed "
                                               "entirely: remove %2 by hand")
                                    .arg(removal->runId, aside);
    }
    return outcome;
}

} // namespace trainyard::housekeeping
