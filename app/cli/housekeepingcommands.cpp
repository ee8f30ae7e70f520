// trainyard rename, tag, notes, archive and rm: run housekeeping from a terminal, through the same checks and writer
// operations as the window's Run menu (core/store/runhousekeeping.h).
#include "cli/subcommand.h"

#include "jsonwriter.h"
#include "store/runhousekeeping.h"
#include "store/runqueries.h"
#include "store/storewriter.h"

#include <QFile>
#include <QLocale>

namespace trainyard::cli {

namespace {

QString dataSize(qint64 bytes) { return QLocale::c().formattedDataSize(bytes, 1); }

} // namespace

int runRename(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    const QString command = QStringLiteral("rename");
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name."));
    parser.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("The new name."));
    if (auto exit = parseSubcommandArguments(parser, command, arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 2)
        return usageFailure(streams, parser, command, QStringLiteral("give a run and its new name"));
    // The name is checked before anything is opened: a bad one changes nothing.
    auto name = housekeeping::checkRunName(parser.positionalArguments().at(1));
    if (!name)
        return reportFailure(streams, command, name.error());
    auto found = findRunForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, command, found.error());
    auto writer = StoreWriter::start(found->workspace.database());
    if (!writer)
        return reportFailure(streams, command, writer.error());
    if (auto renamed = housekeeping::renameRun(*writer.value(), found->run.id, *name); !renamed)
        return reportFailure(streams, command, renamed.error());
    streams.out << "run " << found->run.id << " renamed: " << printableText(found->run.name) << " -> "
                << printableText(*name) << '\n';
    return kExitOk;
}

int runTag(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    const QString command = QStringLiteral("tag");
    QCommandLineParser parser;
    const QCommandLineOption add(QStringLiteral("add"), QStringLiteral("Add TAG (repeatable)."), QStringLiteral("TAG"));
    const QCommandLineOption remove(QStringLiteral("remove"), QStringLiteral("Remove TAG (repeatable)."),
                                    QStringLiteral("TAG"));
    const QCommandLineOption clear(QStringLiteral("clear"), QStringLiteral("Remove every tag first."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print the run's tags as a JSON array."));
    parser.addOptions({add, remove, clear, json});
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name."));
    if (auto exit = parseSubcommandArguments(parser, command, arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
        return usageFailure(streams, parser, command, QStringLiteral("give exactly one run"));
    auto added = housekeeping::checkTags(parser.values(add));
    if (!added)
        return reportFailure(streams, command, added.error());
    auto found = findRunForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, command, found.error());
    QStringList tags = parser.isSet(clear) ? QStringList() : found->run.tags;
    for (const QString &tag : parser.values(remove))
        tags.removeAll(tag);
    tags << *added;
    tags.sort();
    tags.removeDuplicates();
    if (parser.isSet(add) || parser.isSet(remove) || parser.isSet(clear)) {
        auto writer = StoreWriter::start(found->workspace.database());
        if (!writer)
            return reportFailure(streams, command, writer.error());
        if (auto set = housekeeping::setRunTags(*writer.value(), found->run.id, tags); !set)
            return reportFailure(streams, command, set.error());
    }
    if (parser.isSet(json)) {
        JsonWriter out;
        out.beginArray();
        for (const QString &tag : std::as_const(tags))
            out.string(tag);
        streams.out << out.endArray().buffer() << '\n';
    } else {
        streams.out << (tags.isEmpty() ? QStringLiteral("(no tags)") : printableText(tags.join(u' '))) << '\n';
    }
    return kExitOk;
}

int runNotes(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    const QString command = QStringLiteral("notes");
    QCommandLineParser parser;
    const QCommandLineOption file(QStringLiteral("file"), QStringLiteral("Read the notes from PATH ('-': stdin)."),
                                  QStringLiteral("PATH"));
    const QCommandLineOption clear(QStringLiteral("clear"), QStringLiteral("Remove the run's notes."));
    parser.addOptions({file, clear});
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name."));
    parser.addPositionalArgument(
        QStringLiteral("TEXT"), QStringLiteral("The new notes (replacing the old); without it, the notes are printed."),
        QStringLiteral("[TEXT]"));
    if (auto exit = parseSubcommandArguments(parser, command, arguments, streams))
        return *exit;
    const QStringList positional = parser.positionalArguments();
    const int sources = int(positional.size() == 2) + int(parser.isSet(file)) + int(parser.isSet(clear));
    if (positional.isEmpty() || positional.size() > 2 || sources > 1)
        return usageFailure(streams, parser, command,
                            QStringLiteral("give a run and at most one of TEXT, --file or --clear"));
    std::optional<QString> notes;
    if (positional.size() == 2)
        notes = positional.at(1);
    else if (parser.isSet(clear))
        notes = QString();
    else if (parser.isSet(file)) {
        QFile input;
        const QString path = parser.value(file);
        const bool opened = path == u"-" ? input.open(stdin, QIODevice::ReadOnly)
                                         : (input.setFileName(path), input.open(QIODevice::ReadOnly));
        if (!opened)
            return reportFailure(streams, command, QStringLiteral("cannot read %1: %2").arg(path, input.errorString()));
        notes = QString::fromUtf8(input.readAll());
    }
    if (notes) {
        auto checked = housekeeping::checkNotes(*notes);
        if (!checked)
            return reportFailure(streams, command, checked.error());
    }
    auto found = findRunForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, command, found.error());
    if (!notes) {
        streams.out << found->run.notes();
        if (!found->run.notes().endsWith(u'\n') && !found->run.notes().isEmpty())
            streams.out << '\n';
        return kExitOk;
    }
    auto writer = StoreWriter::start(found->workspace.database());
    if (!writer)
        return reportFailure(streams, command, writer.error());
    if (auto set = housekeeping::setRunNotes(*writer.value(), found->run.id, *notes); !set)
        return reportFailure(streams, command, set.error());
    streams.out << "run " << found->run.id << (notes->isEmpty() ? ": notes removed\n" : ": notes saved\n");
    return kExitOk;
}

int runArchive(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    const QString command = QStringLiteral("archive");
    QCommandLineParser parser;
    const QCommandLineOption undo(QStringLiteral("undo"), QStringLiteral("Bring archived runs back to the list."));
    parser.addOption(undo);
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run ids, unique id prefixes, or names."),
                                 QStringLiteral("RUN..."));
    if (auto exit = parseSubcommandArguments(parser, command, arguments, streams))
        return *exit;
    if (parser.positionalArguments().isEmpty())
        return usageFailure(streams, parser, command, QStringLiteral("give at least one run"));
    auto found = findRunsForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, command, found.error());
    const QStringList ids = found->ids();
    auto writer = StoreWriter::start(found->workspace.database());
    if (!writer)
        return reportFailure(streams, command, writer.error());
    const bool archiving = !parser.isSet(undo);
    if (auto set = housekeeping::setRunsArchived(*writer.value(), ids, archiving); !set)
        return reportFailure(streams, command, set.error() + QStringLiteral("; nothing was changed"));
    for (const QString &id : std::as_const(ids))
        streams.out << "run " << id << (archiving ? " archived" : " back in the list") << '\n';
    if (archiving)
        streams.out << "(hidden from `trainyard ls` and the window's list; --filter status:archived shows them)\n";
    return kExitOk;
}

int runRm(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    const QString command = QStringLiteral("rm");
    QCommandLineParser parser;
    const QCommandLineOption keepFiles(QStringLiteral("keep-files"),
                                       QStringLiteral("Delete the runs' rows only; keep their folders (logs, specs)."));
    const QCommandLineOption dryRun(QStringLiteral("dry-run"),
                                    QStringLiteral("Say what would be deleted and freed; delete nothing."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print what was deleted as JSON."));
    parser.addOptions({keepFiles, dryRun, json});
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run ids, unique id prefixes, or names."),
                                 QStringLiteral("RUN..."));
    if (auto exit = parseSubcommandArguments(parser, command, arguments, streams))
        return *exit;
    if (parser.positionalArguments().isEmpty())
        return usageFailure(streams, parser, command, QStringLiteral("give at least one run"));
    auto found = findRunsForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, command, found.error());
    const QStringList ids = found->ids();

    housekeeping::RemovalOutcome outcome;
    if (parser.isSet(dryRun)) {
        auto plan = housekeeping::planRunRemoval(found->workspace, ids, parser.isSet(keepFiles));
        if (!plan)
            return reportFailure(streams, command, plan.error() + QStringLiteral("; nothing would be deleted"));
        outcome.removed = *plan;
    } else {
        auto writer = StoreWriter::start(found->workspace.database());
        if (!writer)
            return reportFailure(streams, command, writer.error());
        auto deleted = housekeeping::deleteRuns(found->workspace, *writer.value(), ids, parser.isSet(keepFiles));
        if (!deleted)
            return reportFailure(streams, command, deleted.error());
        outcome = std::move(*deleted);
    }
    qint64 freed = 0;
    for (const housekeeping::RunRemoval &removal : std::as_const(outcome.removed))
        freed += removal.folderKept ? 0 : removal.folderBytes;

    if (parser.isSet(json)) {
        JsonWriter out;
        out.beginObject().key("dry_run").boolean(parser.isSet(dryRun)).key("runs").beginArray();
        for (const housekeeping::RunRemoval &removal : std::as_const(outcome.removed)) {
            out.beginObject()
                .key("id")
                .string(removal.runId)
                .key("name")
                .string(removal.name)
                .key("folder")
                .string(removal.folder)
                .key("folder_kept")
                .boolean(removal.folderKept)
                .key("bytes_freed")
                .integer(removal.folderKept ? 0 : removal.folderBytes)
                .endObject();
        }
        out.endArray().key("bytes_freed").integer(freed).key("problems").beginArray();
        for (const QString &problem : std::as_const(outcome.problems))
            out.string(problem);
        streams.out << out.endArray().endObject().buffer() << '\n';
    } else {
        const char *verb = parser.isSet(dryRun) ? "would delete" : "deleted";
        for (const housekeeping::RunRemoval &removal : std::as_const(outcome.removed)) {
            streams.out << verb << " run " << removal.runId << " (" << printableText(removal.name) << ")";
            if (removal.folderKept)
                streams.out << "; kept " << removal.folder << '\n';
            else
                streams.out << " and its folder, " << dataSize(removal.folderBytes) << '\n';
        }
        streams.out << (parser.isSet(dryRun) ? "would free " : "freed ") << dataSize(freed) << '\n';
    }
    for (const QString &problem : std::as_const(outcome.problems))
        streams.err << "trainyard rm: " << problem << '\n';
    return outcome.problems.isEmpty() ? kExitOk : kExitFailure;
}

} // namespace trainyard::cli
