// Run housekeeping from the window: dialogs on the UI thread, writes on the pool through a writer of their own.
#include "views/runactions.h"

#include "store/storewriter.h"
#include "store/workspace.h"
#include "views/offuithread.h"

#include <QCheckBox>
#include <QInputDialog>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>

#include <type_traits>

namespace trainyard {

namespace {

// The workspace as it is on disk: never created again (a workspace deleted while its window is open is said to be
// gone, not silently replaced by an empty one).
Result<Workspace> existingWorkspace(const QString &root)
{
    auto workspace = Workspace::openIfExists(root);
    if (!workspace)
        return fail(workspace.error());
    if (!workspace->has_value())
        return fail(QObject::tr("the workspace at %1 is gone (moved or deleted while this window was open)").arg(root));
    return std::move(workspace->value());
}

QString dataSize(qint64 bytes) { return QLocale().formattedDataSize(bytes, 1); }

struct PlannedRemoval {
    QString error;
    QList<housekeeping::RunRemoval> plan;
};

} // namespace

RunActions::RunActions(const QString &workspaceRoot, QWidget *dialogParent)
    : QObject(dialogParent), m_workspaceRoot(workspaceRoot), m_dialogParent(dialogParent)
{ }

// What a write hands back to the UI thread: the error, or the message to say (empty: the caller's).
struct WriteOutcome {
    QString error;
    QString message;
};

template <typename Write>
QFuture<QString> RunActions::write(const QString &title, const QString &doneMessage, Write work)
{
    const QString root = m_workspaceRoot;
    QFuture<WriteOutcome> written = runOffUiThread(
        this,
        [root, work = std::move(work)]() -> WriteOutcome {
            auto workspace = existingWorkspace(root);
            if (!workspace)
                return {workspace.error(), {}};
            auto writer = StoreWriter::start(workspace->database());
            if (!writer)
                return {writer.error(), {}};
            auto result = work(workspace.value(), *writer.value());
            if (!result)
                return {result.error(), {}};
            if constexpr (std::is_same_v<decltype(result), Result<QString>>)
                return {{}, *result}; // a message only the write can say (what a deletion freed)
            else
                return {};
        },
        [this, title, doneMessage](const WriteOutcome &outcome) {
            if (outcome.error.isEmpty())
                emit done(outcome.message.isEmpty() ? doneMessage : outcome.message);
            else
                emit failed(title, outcome.error);
        });
    return written.then([](const WriteOutcome &outcome) { return outcome.error; });
}

QFuture<QString> RunActions::rename(const QString &runId, const QString &name)
{
    return write(
        tr("Rename"), tr("Run %1 renamed to %2").arg(runId, name.trimmed()),
        [runId, name](const Workspace &, StoreWriter &writer) { return housekeeping::renameRun(writer, runId, name); });
}

QFuture<QString> RunActions::setTags(const QString &runId, const QString &tagsText)
{
    return write(tr("Edit tags"), tr("Tags of run %1 saved").arg(runId),
                 [runId, tagsText](const Workspace &, StoreWriter &writer) -> Result<void> {
                     auto tags = housekeeping::tagsFromText(tagsText);
                     if (!tags)
                         return fail(tags.error());
                     return housekeeping::setRunTags(writer, runId, *tags);
                 });
}

QFuture<QString> RunActions::setNotes(const QString &runId, const QString &notes)
{
    return write(tr("Notes"), tr("Notes of run %1 saved").arg(runId),
                 [runId, notes](const Workspace &, StoreWriter &writer) {
                     return housekeeping::setRunNotes(writer, runId, notes);
                 });
}

QFuture<QString> RunActions::setArchived(const QStringList &runIds, bool archived)
{
    const QString message = archived
        ? tr("%n run(s) archived: the filter status:archived shows them", "", runIds.size())
        : tr("%n run(s) back in the list", "", runIds.size());
    return write(archived ? tr("Archive") : tr("Unarchive"), message,
                 [runIds, archived](const Workspace &, StoreWriter &writer) {
                     return housekeeping::setRunsArchived(writer, runIds, archived);
                 });
}

QFuture<QString> RunActions::remove(const QStringList &runIds, bool keepFiles)
{
    return write(tr("Delete"), {},
                 [runIds, keepFiles](const Workspace &workspace, StoreWriter &writer) -> Result<QString> {
                     auto outcome = housekeeping::deleteRuns(workspace, writer, runIds, keepFiles);
                     if (!outcome)
                         return fail(outcome.error());
                     if (!outcome->problems.isEmpty())
                         return fail(outcome->problems.join(QLatin1Char('\n')));
                     qint64 freed = 0;
                     for (const housekeeping::RunRemoval &removal : std::as_const(outcome->removed))
                         freed += removal.folderKept ? 0 : removal.folderBytes;
                     return tr("%n run(s) deleted, %1 freed", "", int(runIds.size())).arg(dataSize(freed));
                 });
}

QString RunActions::deleteQuestion(const QList<housekeeping::RunRemoval> &plan)
{
    qint64 bytes = 0;
    int folders = 0;
    for (const housekeeping::RunRemoval &removal : plan) {
        if (!removal.folderKept) {
            bytes += removal.folderBytes;
            ++folders;
        }
    }
    QString question = plan.size() == 1 ? tr("Delete run %1 (%2)?").arg(plan.first().name, plan.first().runId)
                                        : tr("Delete %n runs?", "", int(plan.size()));
    if (folders > 0)
        question += QLatin1Char(' ')
            + tr("Their rows and %n folder(s) (logs, metrics files, spec) go; this frees %1.", "", folders)
                  .arg(dataSize(bytes));
    else
        question += QLatin1Char(' ') + tr("Their rows go; they have no folder in this workspace.");
    return question + QLatin1Char(' ') + tr("This cannot be undone.");
}

// A one-line question, opened without blocking; `onAnswer` gets the text when the user accepts.
void RunActions::askText(const QString &objectName, const QString &title, const QString &label, const QString &value,
                         const std::function<void(const QString &)> &onAnswer)
{
    auto dialog = new QInputDialog(m_dialogParent);
    dialog->setObjectName(objectName);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(title);
    dialog->setLabelText(label);
    dialog->setTextValue(value);
    connect(dialog, &QInputDialog::textValueSelected, this, onAnswer);
    dialog->open();
}

void RunActions::askRename(const RunRecord &run)
{
    const QString runId = run.id;
    askText(QStringLiteral("renameDialog"), tr("Rename run"), tr("New name of run %1:").arg(run.id), run.name,
            [this, runId](const QString &name) {
                // Checked here too, so that a bad name is said at once and nothing is written.
                if (auto checked = housekeeping::checkRunName(name); !checked)
                    emit failed(tr("Rename"), checked.error());
                else
                    (void)rename(runId, *checked);
            });
}

void RunActions::askTags(const RunRecord &run)
{
    const QString runId = run.id;
    askText(QStringLiteral("tagsDialog"), tr("Edit tags"),
            tr("Tags of run %1, separated by spaces (one word each):").arg(run.id), run.tags.join(QLatin1Char(' ')),
            [this, runId](const QString &text) {
                if (auto checked = housekeeping::tagsFromText(text); !checked)
                    emit failed(tr("Edit tags"), checked.error());
                else
                    (void)setTags(runId, text);
            });
}

void RunActions::askDelete(const QList<RunRecord> &runs)
{
    if (runs.isEmpty())
        return;
    QStringList ids;
    for (const RunRecord &run : runs)
        ids << run.id;
    const QString root = m_workspaceRoot;
    runOffUiThread(
        this,
        [root, ids]() -> PlannedRemoval {
            auto workspace = existingWorkspace(root);
            if (!workspace)
                return {workspace.error(), {}};
            auto plan = housekeeping::planRunRemoval(workspace.value(), ids, false);
            return plan ? PlannedRemoval{{}, *plan} : PlannedRemoval{plan.error(), {}};
        },
        [this, ids](const PlannedRemoval &planned) {
            if (!planned.error.isEmpty()) {
                emit failed(tr("Delete"), planned.error + tr("; nothing was deleted"));
                return;
            }
            auto box = new QMessageBox(QMessageBox::Warning, tr("Delete runs"), deleteQuestion(planned.plan),
                                       QMessageBox::Cancel, m_dialogParent);
            box->setObjectName(QStringLiteral("confirmDelete"));
            box->setAttribute(Qt::WA_DeleteOnClose);
            QPushButton *confirm = box->addButton(tr("Delete"), QMessageBox::DestructiveRole);
            confirm->setObjectName(QStringLiteral("confirmDeleteButton"));
            box->setDefaultButton(QMessageBox::Cancel);
            auto keep = new QCheckBox(tr("Keep the run folders (logs and spec) on disk"), box);
            keep->setObjectName(QStringLiteral("keepFiles"));
            box->setCheckBox(keep);
            connect(box, &QMessageBox::buttonClicked, this, [this, ids, confirm, keep](QAbstractButton *button) {
                if (button == confirm)
                    (void)remove(ids, keep->isChecked());
            });
            box->open();
        });
}

} // namespace trainyard
