// Run housekeeping in the store: rename, tags, notes, archive and delete through the writer, the checks on what a
// user types, and that each change reaches a run-list reader by the change sequence (what other windows follow).
#include "query/runfilter.h"
#include "store/runhousekeeping.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "support/testworkspace.h"

#include <QDir>
#include <QFile>
#include <QtTest>

using namespace trainyard;

namespace {

std::int64_t queryInt(const QString &path, const char *sql)
{
    auto connection = SqliteConnection::open(path, SqliteConnection::Mode::ReadOnly);
    auto value = connection->queryInt(sql);
    return value ? *value : -1;
}

RunRecord readRun(test::TestWorkspace &workspace, const QString &runId)
{
    auto connection = workspace.workspace().database().connect();
    auto run = runqueries::findRun(connection.value(), runId);
    return run ? *run : RunRecord{};
}

// The runs a reader that last read at `since` is told changed, and those it is told were removed.
RunListChange changesSince(test::TestWorkspace &workspace, std::int64_t since)
{
    auto connection = workspace.workspace().database().connect();
    auto change = runqueries::readRunListChanges(connection.value(), since);
    return change ? *change : RunListChange{};
}

std::int64_t runListSequence(test::TestWorkspace &workspace)
{
    auto connection = workspace.workspace().database().connect();
    return runqueries::changeSequence(connection.value(), ChangeSequence::RunList).value();
}

void writeFile(const QString &path, qsizetype bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(bytes, 'x'));
}

} // namespace

class HousekeepingTest : public QObject {
    Q_OBJECT

private slots:
    void namesAreCheckedWithAMessageThatSaysWhy()
    {
        QCOMPARE(housekeeping::checkRunName(QStringLiteral("  resnet-lr3  ")).value(), QStringLiteral("resnet-lr3"));
        auto empty = housekeeping::checkRunName(QStringLiteral("   "));
        QVERIFY(!empty);
        QVERIFY2(empty.error().contains(QStringLiteral("cannot be empty")), qPrintable(empty.error()));
        auto huge = housekeeping::checkRunName(QString(10000, u'a'));
        QVERIFY(!huge);
        QVERIFY2(huge.error().contains(QStringLiteral("at most 200")) && huge.error().contains(QStringLiteral("10000")),
                 qPrintable(huge.error()));
        auto newline = housekeeping::checkRunName(QStringLiteral("two\nlines"));
        QVERIFY(!newline);
        QVERIFY2(newline.error().contains(QStringLiteral("control character")), qPrintable(newline.error()));
    }

    void tagsAreSingleWords()
    {
        QCOMPARE(housekeeping::tagsFromText(QStringLiteral(" resnet  baseline resnet ")).value(),
                 QStringList({QStringLiteral("baseline"), QStringLiteral("resnet")}));
        auto comma = housekeeping::tagsFromText(QStringLiteral("baseline a,b"));
        QVERIFY(!comma);
        QVERIFY2(comma.error().contains(QStringLiteral("'a,b'")) && comma.error().contains(QStringLiteral("comma")),
                 qPrintable(comma.error()));
        auto space = housekeeping::checkTags({QStringLiteral("two words")});
        QVERIFY(!space);
        QVERIFY2(space.error().contains(QStringLiteral("space")), qPrintable(space.error()));
        QVERIFY(!housekeeping::checkTag(QString()));
        QVERIFY(!housekeeping::checkTag(QString(65, u't')));
        QVERIFY(housekeeping::tagsFromText(QString()).value().isEmpty()); // no tags at all is allowed
    }

    // Each change is one transaction that bumps the run list's sequence: a reader (another window) that last read
    // before it is given the run again, with the change.
    void renameTagsAndNotesReachAListReader()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString id = workspace.addRun(QStringLiteral("first"), RunStatus::Succeeded, {QStringLiteral("old")});
        const QString other = workspace.addRun(QStringLiteral("other"), RunStatus::Succeeded);

        std::int64_t since = runListSequence(workspace);
        QVERIFY(housekeeping::renameRun(workspace.writer(), id, QStringLiteral("  renamed ")));
        RunListChange change = changesSince(workspace, since);
        QCOMPARE(change.upserted.size(), 1);
        QCOMPARE(change.upserted.first().name, QStringLiteral("renamed"));

        since = change.sequence;
        QVERIFY(housekeeping::setRunTags(workspace.writer(), id, {QStringLiteral("b"), QStringLiteral("a")}));
        change = changesSince(workspace, since);
        QCOMPARE(change.upserted.size(), 1);
        QCOMPARE(change.upserted.first().tags, QStringList({QStringLiteral("a"), QStringLiteral("b")}));

        since = change.sequence;
        QVERIFY(housekeeping::setRunNotes(workspace.writer(), id, QStringLiteral("lr too high:\nloss spikes at 300")));
        change = changesSince(workspace, since);
        QCOMPARE(change.upserted.size(), 1);
        QCOMPARE(change.upserted.first().notes(), QStringLiteral("lr too high:\nloss spikes at 300"));
        // The filter language finds them: notes~text.
        const RunFilter spikes = RunFilter::parse(QStringLiteral("notes~SPIKES"));
        QVERIFY(spikes.matches(readRun(workspace, id)));
        QVERIFY(!spikes.matches(readRun(workspace, other)));

        QVERIFY(housekeeping::setRunNotes(workspace.writer(), id, QString()));
        QCOMPARE(readRun(workspace, id).notes(), QString());

        // Bad input changes nothing.
        QVERIFY(!housekeeping::renameRun(workspace.writer(), id, QString()));
        QVERIFY(!housekeeping::setRunTags(workspace.writer(), id, {QStringLiteral("a,b")}));
        auto gone = housekeeping::renameRun(workspace.writer(), QStringLiteral("20000101-000000-000000"), "x");
        QVERIFY(!gone);
        QVERIFY2(gone.error().contains(QStringLiteral("no run with id")), qPrintable(gone.error()));
        const RunRecord after = readRun(workspace, id);
        QCOMPARE(after.name, QStringLiteral("renamed"));
        QCOMPARE(after.tags, QStringList({QStringLiteral("a"), QStringLiteral("b")}));
    }

    void archivedRunsLeaveTheDefaultListOnly()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString done = workspace.addRun(QStringLiteral("done"), RunStatus::Failed);
        const QString running = workspace.addRun(QStringLiteral("running"), RunStatus::Running);

        auto refused = housekeeping::setRunsArchived(workspace.writer(), {done, running}, true);
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("cancel it first")), qPrintable(refused.error()));
        QVERIFY(!readRun(workspace, done).isArchived()); // all or none

        const std::int64_t since = runListSequence(workspace);
        QVERIFY(housekeeping::setRunsArchived(workspace.writer(), {done}, true));
        QCOMPARE(changesSince(workspace, since).upserted.size(), 1);
        const RunRecord archived = readRun(workspace, done);
        QVERIFY(archived.isArchived());
        QVERIFY(archived.status == RunStatus::Failed); // archived is beside the status, not instead of it

        QVERIFY(!RunFilter().matches(archived));
        QVERIFY(!RunFilter::parse(QStringLiteral("status:failed")).matches(archived));
        QVERIFY(RunFilter::parse(QStringLiteral("status:archived")).matches(archived));
        QVERIFY(RunFilter::parse(QStringLiteral("status:failed,archived")).matches(archived));
        QVERIFY(!RunFilter::parse(QStringLiteral("status:archived")).matches(readRun(workspace, running)));
        QVERIFY(RunFilter().matches(readRun(workspace, running)));

        QVERIFY(housekeeping::setRunsArchived(workspace.writer(), {done}, false));
        QVERIFY(RunFilter().matches(readRun(workspace, done)));
    }

    void deleteRemovesRowsAndFolderAndSaysWhatItFreed()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString doomed = workspace.addRun(QStringLiteral("doomed"), RunStatus::Succeeded, {QStringLiteral("t")},
                                                {}, {{QStringLiteral("lr"), QStringLiteral("0.1")}});
        const QString kept = workspace.addRun(QStringLiteral("kept"), RunStatus::Succeeded);
        QVERIFY(workspace.addPoints(doomed, QStringLiteral("loss"), {0, 1, 2}, {3, 2, 1}));
        QVERIFY(workspace.addPoints(kept, QStringLiteral("loss"), {0}, {1}));
        const QString folder = workspace.workspace().runDir(doomed);
        writeFile(folder + QStringLiteral("/rank0.log"), 1000);
        writeFile(folder + QStringLiteral("/artifacts/model.pt"), 4000);
        const QString path = workspace.workspace().database().path();

        auto plan = housekeeping::planRunRemoval(workspace.workspace(), {doomed}, false);
        QVERIFY(plan);
        QCOMPARE(plan->size(), 1);
        QCOMPARE(plan->first().folderBytes, qint64(5000));
        QVERIFY(QDir(folder).exists()); // planning deletes nothing

        const std::int64_t since = runListSequence(workspace);
        auto outcome = housekeeping::deleteRuns(workspace.workspace(), workspace.writer(), {doomed}, false);
        QVERIFY2(outcome, outcome ? "" : qPrintable(outcome.error()));
        QVERIFY(outcome->problems.isEmpty());
        QCOMPARE(outcome->removed.first().folderBytes, qint64(5000));
        QVERIFY(!QDir(folder).exists());
        QCOMPARE(QDir(workspace.workspace().runsDir())
                     .entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden)
                     .filter(QStringLiteral(".deleting")),
                 QStringList());
        QCOMPARE(changesSince(workspace, since).removed, QStringList({doomed})); // other windows drop it
        // Everything keyed by the run went with it; the other run kept all of its own.
        QCOMPARE(queryInt(path, "SELECT count(*) FROM runs"), std::int64_t(1));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM params"), std::int64_t(0));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM tags"), std::int64_t(0));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM events WHERE run_id NOT IN (SELECT id FROM runs)"),
                 std::int64_t(0));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM metric_keys"), std::int64_t(1));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM metric_chunks WHERE key_id NOT IN (SELECT id FROM metric_keys)"),
                 std::int64_t(0));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM metric_bins WHERE key_id NOT IN (SELECT id FROM metric_keys)"),
                 std::int64_t(0));
        QCOMPARE(readRun(workspace, kept).metrics.value(QStringLiteral("loss")).count, std::int64_t(1));
    }

    void deleteKeepsFilesWhenAskedAndRefusesActiveRuns()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString ended = workspace.addRun(QStringLiteral("ended"), RunStatus::Canceled);
        const QString running = workspace.addRun(QStringLiteral("running"), RunStatus::Running);
        const QString queued = workspace.addRun(QStringLiteral("queued"), RunStatus::Queued);
        writeFile(workspace.workspace().runDir(ended) + QStringLiteral("/rank0.log"), 10);
        writeFile(workspace.workspace().runDir(running) + QStringLiteral("/rank0.log"), 10);

        for (const QString &busy : {running, queued}) {
            auto refused = housekeeping::deleteRuns(workspace.workspace(), workspace.writer(), {ended, busy}, false);
            QVERIFY(!refused);
            QVERIFY2(refused.error().contains(busy) && refused.error().contains(QStringLiteral("cancel it first")),
                     qPrintable(refused.error()));
        }
        // Nothing of either went.
        QVERIFY(QDir(workspace.workspace().runDir(ended)).exists());
        QCOMPARE(readRun(workspace, ended).name, QStringLiteral("ended"));

        auto outcome = housekeeping::deleteRuns(workspace.workspace(), workspace.writer(), {ended}, true);
        QVERIFY(outcome);
        QVERIFY(outcome->removed.first().folderKept);
        QVERIFY(QFile::exists(workspace.workspace().runDir(ended) + QStringLiteral("/rank0.log")));
        QCOMPARE(readRun(workspace, ended).id, QString());
    }

    // A folder that cannot be moved aside stops the deletion before any row goes, and puts back the folders already
    // moved: nothing is lost or half-deleted.
    void aFolderThatCannotMoveDeletesNothing()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString first = workspace.addRun(QStringLiteral("first"), RunStatus::Succeeded);
        const QString second = workspace.addRun(QStringLiteral("second"), RunStatus::Succeeded);
        writeFile(workspace.workspace().runDir(first) + QStringLiteral("/rank0.log"), 10);
        writeFile(workspace.workspace().runDir(second) + QStringLiteral("/rank0.log"), 10);
        // A non-empty folder where the second run's folder would be moved: rename(2) refuses to replace it.
        writeFile(workspace.workspace().runsDir() + QStringLiteral("/.deleting-") + second + QStringLiteral("/x"), 1);

        auto outcome = housekeeping::deleteRuns(workspace.workspace(), workspace.writer(), {first, second}, false);
        QVERIFY(!outcome);
        QVERIFY2(outcome.error().contains(QStringLiteral("nothing was deleted")), qPrintable(outcome.error()));
        QVERIFY(QFile::exists(workspace.workspace().runDir(first) + QStringLiteral("/rank0.log")));
        QVERIFY(QFile::exists(workspace.workspace().runDir(second) + QStringLiteral("/rank0.log")));
        QCOMPARE(readRun(workspace, first).id, first);
        QCOMPARE(readRun(workspace, second).id, second);
    }
};

QTEST_GUILESS_MAIN(HousekeepingTest)
#include "tst_housekeeping.moc"
