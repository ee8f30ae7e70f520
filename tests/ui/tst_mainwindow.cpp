// MainWindow (offscreen): empty state, runs arriving live from another writer, remembered layout.
#include "mainwindow.h"
#include "workspacewindows.h"
#include "models/runfilterproxy.h"
#include "models/runtablemodel.h"
#include "support/httpclient.h"
#include "store/runlistwatcher.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"
#include "support/teamworkspace.h"
#include "support/testworkspace.h"
#include "views/openingestion.h"
#include "views/compareview.h"
#include "views/envelopechart.h"
#include "views/runactions.h"
#include "views/runpage.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QElapsedTimer>
#include <QThread>
#include <QHeaderView>
#include <QScrollBar>
#include <QStyle>
#include <QToolButton>
#include <QInputDialog>
#include <QPushButton>
#include <QMenuBar>
#include <QTabWidget>
#include <QMessageBox>
#include <QPointer>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QScopeGuard>
#include <QTest>

#include <atomic>
#include <cmath>

#include <sqlite3.h>
#include <optional>
#include <thread>
#include <vector>

using namespace trainyard;

namespace {

// WCAG's relative luminance and contrast ratio (1 to 21; 4.5 is the least for body text).
double luminance(QColor color)
{
    const auto channel = [](double value) {
        value /= 255.0;
        return value <= 0.03928 ? value / 12.92 : std::pow((value + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(color.red()) + 0.7152 * channel(color.green()) + 0.0722 * channel(color.blue());
}

double contrast(QColor a, QColor b)
{
    const double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

// In a region of a grabbed widget: the background (its most frequent colour) and the contrast of the pixel that stands
// out most from it: the text drawn there, as the user sees it.
double textContrastIn(const QImage &image, const QRect &region)
{
    QHash<QRgb, int> counts;
    for (int y = region.top(); y <= region.bottom(); ++y)
        for (int x = region.left(); x <= region.right(); ++x)
            ++counts[image.pixel(x, y)];
    QRgb background = 0;
    int most = -1;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        if (it.value() > most) {
            most = it.value();
            background = it.key();
        }
    double best = 1;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        best = std::max(best, contrast(QColor(it.key()), QColor(background)));
    return best;
}

// A dark desktop with a custom (orange) accent, as a user may set one.
QPalette darkPaletteWithAccent()
{
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    dark.setColor(QPalette::WindowText, QColor(0xe0, 0xe0, 0xe0));
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    dark.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
    dark.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
    dark.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
    dark.setColor(QPalette::ButtonText, QColor(0xe0, 0xe0, 0xe0));
    dark.setColor(QPalette::PlaceholderText, QColor(0x9e, 0x9e, 0x9e));
    dark.setColor(QPalette::Highlight, QColor(0xff, 0x6f, 0x00));
    dark.setColor(QPalette::HighlightedText, Qt::black);
    return dark;
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        // Keep the test's QSettings away from the user's.
        QVERIFY(m_configDir.isValid());
        qputenv("XDG_CONFIG_HOME", m_configDir.path().toUtf8());
        QCoreApplication::setOrganizationName(QStringLiteral("TrainyardTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_mainwindow"));
    }

    void emptyWorkspaceSaysHowToLaunch()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        MainWindow window(workspace.workspace());
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.isShowingEmptyState());
        auto *label = window.findChild<QLabel *>(QStringLiteral("emptyState"));
        QVERIFY(label && label->isVisible());
        // Loading first (the first read is under way), then empty, with how to launch a run.
        QTRY_VERIFY_WITH_TIMEOUT(label->text().contains(QStringLiteral("trainyard launch")), 30000);
        QVERIFY(!window.isLoadingRuns());
        QVERIFY(window.windowTitle().contains(workspace.root()));
    }

    void runsWrittenElsewhereAppearLive()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        MainWindow window(workspace.workspace());
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        workspace.addRun(QStringLiteral("resnet-baseline"), RunStatus::Succeeded, {QStringLiteral("baseline")});
        workspace.addRun(QStringLiteral("resnet-amp"), RunStatus::Running);
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), 2, 30000);
        QVERIFY(!window.isShowingEmptyState());
        QVERIFY(window.runsView()->isVisible());
        // Newest first by default.
        QCOMPARE(window.runsView()->model()->index(0, RunTableModel::NameColumn).data().toString(),
                 QStringLiteral("resnet-amp"));
        QCOMPARE(window.runsView()->model()->index(1, RunTableModel::StatusColumn).data().toString(),
                 QStringLiteral("succeeded"));
    }

    // Export CSV… writes the table as shown, whole, off the UI thread; an unwritable path gets the writer's message.
    void exportRunsCsvReportsFailure()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        workspace.addRun(QStringLiteral("resnet-baseline"), RunStatus::Succeeded);
        MainWindow window(workspace.workspace());
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), 1, 30000);
        QTRY_VERIFY(!window.filteredRuns()->isUpdating());
        QTemporaryDir out;
        const QString good = out.filePath(QStringLiteral("runs.csv"));
        QCOMPARE(window.exportRunsCsv(good).result(), QString());
        QFile csv(good);
        QVERIFY(csv.open(QIODevice::ReadOnly) && csv.readAll().contains("resnet-baseline"));
        QTRY_COMPARE(window.statusBar()->currentMessage(), QStringLiteral("Exported 1 run(s) to %1").arg(good));

        const QString unwritable = out.filePath(QStringLiteral("runs.csv/runs.csv")); // its parent is a file
        const QString error = window.exportRunsCsv(unwritable).result();
        QVERIFY2(error.contains(unwritable), qPrintable(error));
        QTRY_COMPARE(window.statusBar()->currentMessage(), QStringLiteral("Cannot export runs: %1").arg(error));
    }

    // The menu bar follows the desktop's conventions: File, Run, View, Help, with the standard shortcuts.
    void menusAndShortcuts()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        MainWindow window(workspace.workspace());
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QStringList menus;
        for (QAction *menu : window.menuBar()->actions())
            menus << menu->text().remove(QLatin1Char('&'));
        QCOMPARE(menus, (QStringList{"File", "Run", "View", "Help"}));
        const QList<QPair<const char *, QKeySequence>> shortcuts = {{"openWorkspace", QKeySequence::Open},
                                                                    {"quit", QKeySequence::Quit},
                                                                    {"filter", QKeySequence::Find},
                                                                    {"newRun", QKeySequence::New},
                                                                    {"fullScreen", QKeySequence::FullScreen},
                                                                    {"compare", QKeySequence(Qt::CTRL | Qt::Key_D)},
                                                                    {"viewTab1", QKeySequence(Qt::CTRL | Qt::Key_2)}};
        for (const auto &[name, keys] : shortcuts) {
            QAction *action = window.action(QLatin1String(name));
            QVERIFY2(action, name);
            QCOMPARE(action->shortcut(), QKeySequence(keys));
        }
        for (const char *name : {"newWorkspace", "exportRuns", "exportBundle", "settings", "compose", "clone",
                                 "resumeRun", "cancelRun", "rename", "editTags", "editNotes", "archive", "deleteRuns",
                                 "throughput", "preflight", "userGuide", "shortcuts", "about"})
            QVERIFY2(window.action(QLatin1String(name)), name);
        // View > Queue shows the queue; Ctrl+F brings back the runs and the filter box.
        window.action(QStringLiteral("viewTab1"))->trigger();
        QCOMPARE(window.findChild<QTabWidget *>(QStringLiteral("tabs"))->currentIndex(), 1); // the Queue tab
        window.activateWindow();
        window.action(QStringLiteral("filter"))->trigger();
        QCOMPARE(window.findChild<QTabWidget *>(QStringLiteral("tabs"))->currentIndex(), 0);
        QTRY_VERIFY(window.filterEdit()->hasFocus());
        // Help: About names the version, Qt's and SQLite's; the shortcuts list has every one of them.
        const QString about = MainWindow::aboutText();
        QVERIFY2(about.contains(QString::fromLatin1(qVersion()))
                     && about.contains(QString::fromLatin1(sqlite3_libversion())),
                 qPrintable(about));
        const QString keys = window.shortcutsText();
        for (const QKeySequence &sequence : {QKeySequence(QKeySequence::Open), QKeySequence(Qt::CTRL | Qt::Key_D)})
            QVERIFY2(keys.contains(sequence.toString(QKeySequence::NativeText)), qPrintable(keys));
        QVERIFY(!MainWindow::userGuidePath().isEmpty()); // the sources' docs/USER_GUIDE.md in a build tree
    }

    // Run > Rename (F2), Edit tags, Archive, Delete and the run page's notes: each asks as a desktop application
    // does, writes through the writer, and a second window on the same workspace sees it live. Bad input is said in
    // a warning and changes nothing.
    void runHousekeepingFromTheRunMenu()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString kept = workspace.addRun(QStringLiteral("kept"), RunStatus::Succeeded);
        const QString doomed = workspace.addRun(QStringLiteral("doomed"), RunStatus::Failed);
        const QString running = workspace.addRun(QStringLiteral("running"), RunStatus::Running);
        const QString folder = workspace.workspace().runDir(doomed);
        QVERIFY(QDir().mkpath(folder));
        QFile log(folder + QStringLiteral("/rank0.log"));
        QVERIFY(log.open(QIODevice::WriteOnly));
        log.write(QByteArray(3 * 1024 * 1024, 'x'));
        log.close();

        MainWindow window(workspace.workspace());
        MainWindow other(workspace.workspace());
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTRY_COMPARE_WITH_TIMEOUT(window.filteredRuns()->rowCount(), 3, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(other.filteredRuns()->rowCount(), 3, 30000);
        const auto select = [&](const QString &runId) {
            window.runsView()->clearSelection();
            for (int row = 0; row < window.filteredRuns()->rowCount(); ++row)
                if (window.filteredRuns()->index(row, 0).data(RunTableModel::RunIdRole).toString() == runId)
                    window.runsView()->selectRow(row);
            return window.targetRunIds() == QStringList{runId};
        };
        const auto runIn = [](MainWindow &in, const QString &runId) {
            const int row = in.runsModel()->rowOfRun(runId);
            return row < 0 ? RunRecord{} : in.runsModel()->runAt(row);
        };
        const auto answer = [&](const char *dialogName, const QString &text) {
            QInputDialog *dialog = nullptr;
            QTRY_VERIFY((dialog = window.findChild<QInputDialog *>(QLatin1String(dialogName))));
            dialog->setTextValue(text);
            dialog->accept();
            QTRY_VERIFY(!window.findChild<QInputDialog *>(QLatin1String(dialogName)));
        };
        // The text of the warning box the window opened (empty when none opened), closed after reading.
        const auto warning = [&]() -> QString {
            QMessageBox *box = nullptr;
            (void)QTest::qWaitFor([&] { return (box = window.findChild<QMessageBox *>(QStringLiteral("warningBox"))); },
                                  10000);
            if (!box)
                return {};
            const QString text = box->text();
            delete box;
            return text;
        };

        QCOMPARE(window.action(QStringLiteral("rename"))->shortcut(), QKeySequence(Qt::Key_F2));
        QCOMPARE(window.action(QStringLiteral("deleteRuns"))->shortcut(), QKeySequence(QKeySequence::Delete));
        QVERIFY(select(kept));
        window.action(QStringLiteral("rename"))->trigger();
        answer("renameDialog", QStringLiteral("kept: lr 3e-4"));
        QTRY_COMPARE_WITH_TIMEOUT(runIn(other, kept).name, QStringLiteral("kept: lr 3e-4"), 10000);
        window.action(QStringLiteral("rename"))->trigger();
        answer("renameDialog", QString(10000, u'n'));
        QVERIFY(warning().contains(QStringLiteral("at most 200 characters")));
        QCOMPARE(runIn(window, kept).name, QStringLiteral("kept: lr 3e-4"));

        window.action(QStringLiteral("editTags"))->trigger();
        answer("tagsDialog", QStringLiteral("baseline  resnet"));
        QTRY_COMPARE_WITH_TIMEOUT(runIn(other, kept).tags, QStringList({"baseline", "resnet"}), 10000);
        window.action(QStringLiteral("editTags"))->trigger();
        answer("tagsDialog", QStringLiteral("a,b"));
        QVERIFY(warning().contains(QStringLiteral("comma")));
        QCOMPARE(runIn(window, kept).tags, QStringList({"baseline", "resnet"}));

        // Notes on the run page; the other window's filter finds them.
        RunPage *page = window.openRunPage(kept);
        page->setNotesText(QStringLiteral("best so far; try warmup 500"));
        page->saveNotes();
        QTRY_COMPARE_WITH_TIMEOUT(runIn(other, kept).notes(), QStringLiteral("best so far; try warmup 500"), 10000);
        QVERIFY(other.filteredRuns()->setQuery(QStringLiteral("notes~warmup")));
        QTRY_COMPARE(other.filteredRuns()->rowCount(), 1);
        QVERIFY(other.filteredRuns()->setQuery(QString()));
        window.action(QStringLiteral("viewTab0"))->trigger();

        // Archive leaves the default list of both windows; status:archived shows it.
        QVERIFY(select(kept));
        window.action(QStringLiteral("archive"))->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(other.filteredRuns()->rowCount(), 2, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(window.filteredRuns()->rowCount(), 2, 10000);
        QVERIFY(other.filteredRuns()->setQuery(QStringLiteral("status:archived")));
        QTRY_COMPARE(other.filteredRuns()->rowCount(), 1);

        // Delete asks once, saying what it frees; the other window drops the run and its open page says so.
        RunPage *otherPage = other.openRunPage(doomed);
        QVERIFY(select(doomed));
        window.action(QStringLiteral("deleteRuns"))->trigger();
        QMessageBox *confirm = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((confirm = window.findChild<QMessageBox *>(QStringLiteral("confirmDelete"))), 10000);
        QVERIFY2(confirm->text().contains(QStringLiteral("3.0 MiB")), qPrintable(confirm->text()));
        QVERIFY(QFileInfo::exists(folder)); // nothing goes before the answer
        confirm->findChild<QPushButton *>(QStringLiteral("confirmDeleteButton"))->click();
        QTRY_COMPARE_WITH_TIMEOUT(runIn(other, doomed).id, QString(), 10000);
        QVERIFY(!QFileInfo::exists(folder));
        QTRY_VERIFY_WITH_TIMEOUT(otherPage->isRunRemoved(), 10000);
        QVERIFY(window.statusBar()->currentMessage().contains(QStringLiteral("3.0 MiB freed")));

        // A running run is refused with the reason; it stays.
        QVERIFY(select(running));
        window.action(QStringLiteral("deleteRuns"))->trigger();
        QVERIFY(warning().contains(QStringLiteral("cancel it first")));
        QCOMPARE(runIn(window, running).id, running);
    }

    // A workspace deleted while its window is open: a housekeeping action says the workspace is gone (it is not
    // created again, empty, behind the user's back) and the window stays up.
    void aWorkspaceThatVanishesIsSaidToBeGone()
    {
        QTemporaryDir scratch;
        const QString root = scratch.filePath(QStringLiteral("vanishing"));
        QString runId;
        {
            auto workspace = Workspace::open(root);
            QVERIFY(workspace.ok());
            auto writer = StoreWriter::start(workspace->database());
            NewRun run;
            run.name = QStringLiteral("soon-gone");
            run.initialStatus = RunStatus::Succeeded;
            runId = writer.value()->createRun(run).get().value();
        }
        auto workspace = Workspace::open(root);
        MainWindow window(workspace.value());
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), 1, 30000);
        QVERIFY(QDir(root).removeRecursively());
        QSignalSpy failed(window.runActions(), &RunActions::failed);
        (void)window.runActions()->rename(runId, QStringLiteral("renamed"));
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 10000);
        QVERIFY2(failed.first().at(1).toString().contains(QStringLiteral("is gone")),
                 qPrintable(failed.first().at(1).toString()));
        QVERIFY(!QFileInfo::exists(root));            // not made again
        QVERIFY(window.runsModel()->rowCount() == 1); // what was shown stays shown
    }

    // Looks (issue 17, point 6): under a dark palette with a custom accent, every status in the runs table, a selected
    // row and a chart's text stand out from their background by a contrast of 4.5 or more, measured on the pixels
    // grabbed; the light palette likewise. The default size fits a 1366x768 screen with every column and the toolbar
    // in view, and the main actions have icons.
    void readableInLightAndDarkPalettesAndFitsALaptopScreen()
    {
        const QPalette original = QApplication::palette();
        const QString originalStyle = QApplication::style()->name();
        auto restore = qScopeGuard([&] {
            QApplication::setStyle(originalStyle);
            QApplication::setPalette(original);
        });
        QApplication::setStyle(QStringLiteral("Fusion"));
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QList<RunStatus> statuses = {RunStatus::Queued,     RunStatus::Starting,  RunStatus::Running,
                                           RunStatus::Restarting, RunStatus::Succeeded, RunStatus::Failed,
                                           RunStatus::Canceled,   RunStatus::Lost};
        for (RunStatus status : statuses)
            workspace.addRun(QStringLiteral("run-") + toString(status), status);
        const QString charted = workspace.addRun(QStringLiteral("charted"), RunStatus::Succeeded);
        QVERIFY(workspace.addPoints(charted, QStringLiteral("loss"), {0, 1, 2, 3}, {2.0, 1.5, 1.2, 1.0}));

        for (const bool dark : {false, true}) {
            QApplication::setPalette(dark ? darkPaletteWithAccent() : QApplication::style()->standardPalette());
            MainWindow window(workspace.workspace());
            window.resize(MainWindow::defaultSize(QSize(1366, 768 - 64))); // less a panel and a title bar
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            QTRY_COMPARE_WITH_TIMEOUT(window.filteredRuns()->rowCount(), int(statuses.size()) + 1, 30000);
            QTRY_VERIFY(!window.filteredRuns()->isUpdating());
            QTableView *table = window.runsView();
            table->selectRow(0);
            QApplication::processEvents();
            const QImage image = table->viewport()->grab().toImage();
            for (int row = 0; row < window.filteredRuns()->rowCount(); ++row) {
                const QModelIndex index = window.filteredRuns()->index(row, RunTableModel::StatusColumn);
                const double measured = textContrastIn(image, table->visualRect(index).adjusted(1, 1, -1, -1));
                // A selected row is drawn in the palette's own selection colours: as readable as those are.
                const QPalette &palette = QApplication::palette();
                const double wanted = row == 0
                    ? std::min(4.5,
                               contrast(palette.color(QPalette::Highlight), palette.color(QPalette::HighlightedText))
                                   - 0.05)
                    : 4.5;
                QVERIFY2(
                    measured >= wanted,
                    qPrintable(QStringLiteral("%1 palette, status '%2'%3: contrast %4")
                                   .arg(dark ? "dark" : "light", index.data().toString(), row == 0 ? " (selected)" : "")
                                   .arg(measured, 0, 'f', 2)));
            }
            // Every column in view at the default size, and the whole toolbar (no overflow arrow).
            QCOMPARE(table->horizontalScrollBar()->maximum(), 0);
            const auto overflow = window.findChild<QToolButton *>(QStringLiteral("qt_toolbar_ext_button"));
            QVERIFY(!overflow || !overflow->isVisible());
            for (const char *name : {"newRun", "cancelRun", "compose", "compare", "deleteRuns"})
                QVERIFY2(!window.action(QLatin1String(name))->icon().isNull(), name);

            // A chart's title and ticks, in the palette.
            CompareView *compare = window.openCompare({charted});
            EnvelopeChart *chart = nullptr;
            QTRY_VERIFY_WITH_TIMEOUT((chart = compare->chart(QStringLiteral("loss"))) && !chart->series().isEmpty()
                                         && !chart->series().first().envelope.buckets.empty(),
                                     30000);
            QApplication::processEvents();
            const QImage chartImage = chart->grab().toImage();
            const double chartContrast = textContrastIn(chartImage, chartImage.rect());
            QVERIFY2(chartContrast >= 4.5, qPrintable(QString::number(chartContrast)));
            QCOMPARE(QColor(chartImage.pixel(chartImage.width() - 3, chartImage.height() / 2)),
                     QApplication::palette().color(QPalette::Base)); // the chart's background is the palette's
            if (dark)                                                // docs/images/dark-palette.png
                QVERIFY(test::saveDocsImage(window.grab().toImage(), QStringLiteral("dark-palette")));
        }
    }

    // File > Open workspace… replaces the window with the other workspace's, in the running application; a folder
    // that cannot be a workspace leaves the window as it was and says why.
    void switchingWorkspaceWithoutRestart()
    {
        test::TestWorkspace first;
        test::TestWorkspace second;
        QVERIFY(first.isValid() && second.isValid());
        first.addRun(QStringLiteral("in-first"), RunStatus::Succeeded);
        second.addRun(QStringLiteral("in-second"), RunStatus::Succeeded);
        WorkspaceWindows windows;
        QVERIFY(windows.open(first.workspace().root()).ok());
        QPointer<MainWindow> firstWindow = windows.current();
        QTRY_COMPARE_WITH_TIMEOUT(firstWindow->runsModel()->rowCount(), 1, 30000);

        emit firstWindow->openWorkspaceRequested(second.workspace().root());
        QTRY_VERIFY(firstWindow.isNull()); // closed and deleted
        MainWindow *secondWindow = windows.current();
        QCOMPARE(secondWindow->workspaceRoot(), second.workspace().root());
        QVERIFY(secondWindow->isVisible());
        QTRY_COMPARE_WITH_TIMEOUT(secondWindow->runsModel()->rowCount(), 1, 30000);
        QCOMPARE(secondWindow->runsModel()->runAt(0).name, QStringLiteral("in-second"));
        QCOMPARE(MainWindow::recentWorkspaces().mid(0, 2),
                 (QStringList{second.workspace().root(), first.workspace().root()}));

        QTemporaryDir scratch;
        QFile notAFolder(scratch.filePath(QStringLiteral("plain-file")));
        QVERIFY(notAFolder.open(QIODevice::WriteOnly));
        notAFolder.close();
        const auto refused = windows.open(notAFolder.fileName());
        QVERIFY(!refused.ok());
        QVERIFY2(refused.error().contains(notAFolder.fileName()), qPrintable(refused.error()));
        QCOMPARE(windows.current(), secondWindow);
        QTRY_VERIFY(secondWindow->findChild<QMessageBox *>(QStringLiteral("warningBox")));
    }

    // File > Export > Workspace bundle… and Import > Trainyard workspace or bundle…: the runs of one workspace reach
    // another's window; a bundle that exists already is not overwritten.
    void bundleExportedFromOneWindowImportedInAnother()
    {
        test::TestWorkspace source;
        test::TestWorkspace target;
        QVERIFY(source.isValid() && target.isValid());
        source.addRun(QStringLiteral("from-alice"), RunStatus::Succeeded);
        target.addRun(QStringLiteral("already-here"), RunStatus::Succeeded);
        QTemporaryDir scratch;
        const QString bundle = scratch.filePath(QStringLiteral("alice.trainyard"));
        MainWindow exporting(source.workspace());
        QVERIFY(exporting.action(QStringLiteral("exportBundle")));
        QCOMPARE(exporting.exportWorkspaceBundle(bundle).result(), QString());
        QVERIFY(QFileInfo(bundle).size() > 0);
        const QString again = exporting.exportWorkspaceBundle(bundle).result();
        QVERIFY2(!again.isEmpty(), "an existing bundle is not overwritten");

        MainWindow importing(target.workspace());
        QTRY_COMPARE_WITH_TIMEOUT(importing.runsModel()->rowCount(), 1, 30000);
        QSignalSpy imported(importing.importMenu(), &HistoryImportMenu::imported);
        importing.importMenu()->importBundle(bundle);
        QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, 30000);
        QVERIFY2(imported.first().first().toString().contains(QStringLiteral("Imported 1 run(s)")),
                 qPrintable(imported.first().first().toString()));
        QTRY_COMPARE_WITH_TIMEOUT(importing.runsModel()->rowCount(), 2, 30000);
    }

    // Import > TensorBoard logdir: the folder's runs appear in the table, the import running off the UI thread.
    void importMenuBringsInATensorBoardLogdir()
    {
        test::TestWorkspace workspace;
        MainWindow window(workspace.workspace());
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.findChild<QObject *>(QStringLiteral("importButton")));
        QTemporaryDir logdir;
        for (const char *run : {"baseline", "wider"}) {
            QVERIFY(QDir().mkpath(logdir.filePath(QLatin1String(run))));
            QFile file(logdir.filePath(QLatin1String(run) + QStringLiteral("/events.out.tfevents.1.host")));
            QVERIFY(file.open(QIODevice::WriteOnly));
            for (int step = 0; step < 50; ++step)
                file.write(test::tensorboardScalarRecord(step, "loss", 1.0f / float(step + 1), 1700000000.0 + step));
        }
        QSignalSpy imported(window.importMenu(), &HistoryImportMenu::imported);
        QSignalSpy failed(window.importMenu(), &HistoryImportMenu::importFailed);
        window.importMenu()->importTensorBoard(logdir.path());
        QTRY_VERIFY_WITH_TIMEOUT(imported.count() + failed.count() == 1, 30000);
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
        QVERIFY(imported.first().first().toString().contains(QStringLiteral("Imported 2 run(s)")));
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), 2, 30000);
        QStringList names;
        for (int row = 0; row < 2; ++row)
            names << window.runsModel()->index(row, RunTableModel::NameColumn).data().toString();
        names.sort();
        QCOMPARE(names, (QStringList{QStringLiteral("baseline"), QStringLiteral("wider")}));

        window.importMenu()->importMlflow(logdir.path()); // not an mlruns folder
        QVERIFY(failed.wait(10000));
        QVERIFY(failed.last().first().toString().contains(QStringLiteral("baseline/meta.yaml: missing")));
    }

    // The serve switch (off by default) serves the workspace while the window is open, and stops.
    void serveSwitchServesTheWorkspace()
    {
        QSettings().setValue(QLatin1String(MlflowServeSwitch::kPortKey), 0);
        test::TestWorkspace workspace;
        MainWindow window(workspace.workspace());
        MlflowServeSwitch *serve = window.serveSwitch();
        QVERIFY(!serve->action()->isChecked());
        QVERIFY(!serve->isServing());
        QSignalSpy started(serve, &MlflowServeSwitch::started);
        serve->action()->trigger();
        QVERIFY(started.wait(10000));
        QVERIFY(serve->isServing());
        test::HttpClient client(serve->uri(), serve->token());
        const auto created = client.post(QStringLiteral("experiments/create"), R"({"name": "from-the-window"})");
        QCOMPARE(created.status, 200L);
        auto *label = window.findChild<QLabel *>(QStringLiteral("servingLabel"));
        QVERIFY(label && label->text().contains(serve->uri()));
        QVERIFY(QSettings().value(QLatin1String(MlflowServeSwitch::kEnabledKey)).toBool());
        QSignalSpy stopped(serve, &MlflowServeSwitch::stopped);
        serve->action()->trigger();
        QCOMPARE(stopped.count(), 1);
        QVERIFY(!serve->isServing());
        QVERIFY(!QSettings().value(QLatin1String(MlflowServeSwitch::kEnabledKey)).toBool());
    }

    // Before the first list has arrived the runs page says it is loading (with how many runs it found), never that the
    // workspace is empty; a list read before the window connected to the watcher is not lost (the window's constructor
    // and event loop are held back here while the watcher reads).
    void loadingNotEmptyAndNoListLost()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        constexpr int kRuns = 3000;
        test::generateTeamRuns(workspace.writer(), kRuns, 7, QDateTime(QDate(2026, 10, 1), QTime(0, 0), Qt::UTC));
        {
            MainWindow window(workspace.workspace());
            QVERIFY(window.isLoadingRuns());
            QVERIFY(window.isShowingEmptyState());
            auto *label = window.findChild<QLabel *>(QStringLiteral("emptyState"));
            QVERIFY(label->text().contains(QStringLiteral("Loading runs")));
            QVERIFY(!label->text().contains(QStringLiteral("No runs")));
            QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), kRuns, 30000);
            QVERIFY(!window.isShowingEmptyState());
            QVERIFY(!window.isLoadingRuns());
        }
        // The reverse: a watcher that is done long before the window's event loop runs.
        RunListWatcher early(workspace.workspace().database().path());
        QSignalSpy changes(&early, &RunListWatcher::runsChanged);
        early.start();
        QTRY_VERIFY_WITH_TIMEOUT(early.hasRuns(), 30000);
        // The newest screenful first (not complete), then the whole list (3,000 runs: one chunk, complete).
        QCOMPARE(changes.size(), 2);
        QVERIFY(!changes.first().first().value<RunListChange>().complete);
        QCOMPARE(changes.first().first().value<RunListChange>().upserted.size(), RunListWatcher::kFirstPageRuns);
        QVERIFY(changes.last().first().value<RunListChange>().complete);
        QCOMPARE(changes.last().first().value<RunListChange>().upserted.size(), kRuns);
        QVERIFY(changes.last().first().value<RunListChange>().removed.isEmpty());
        MainWindow window(workspace.workspace());
        QThread::msleep(3000); // the window's watcher reads while nothing on this thread runs
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), kRuns, 30000);
        QVERIFY(!window.isShowingEmptyState());
    }

    // A lab-sized workspace, 100,000 runs with params, a 10,000-run sweep and odd rows (tests/support/teamworkspace.h;
    // or TRAINYARD_BIG_WORKSPACE, a folder made by `bench_runs 100000 DIR`), opened while two threads keep the CPU busy:
    // rows appear and the empty state never says the workspace is empty; the whole list arrives, a filter applies
    // (off the UI thread at this size) and a run's status change reaches its row.
    void hundredThousandRunsOpenUnderCpuLoad()
    {
        std::optional<test::TestWorkspace> generated;
        std::optional<Workspace> opened;
        if (const QString root = qEnvironmentVariable("TRAINYARD_BIG_WORKSPACE"); !root.isEmpty()) {
            auto workspace = Workspace::open(root);
            QVERIFY(workspace);
            opened = std::move(workspace.value());
        } else {
            generated.emplace();
            QVERIFY(generated->isValid());
            const auto runs = test::generateTeamRuns(generated->writer(), 100000, 42,
                                                     QDateTime(QDate(2026, 10, 5), QTime(0, 0), Qt::UTC));
            QVERIFY(!test::addLabDetails(generated->writer(), runs, 10000).isEmpty());
        }
        const Workspace &workspace = opened ? *opened : generated->workspace();
        auto connection = workspace.database().connect();
        const int total = int(connection->queryInt("SELECT count(*) FROM runs").value());
        const int failed = int(connection->queryInt("SELECT count(*) FROM runs WHERE status = 'failed'").value());

        std::atomic<bool> busy = true;
        std::vector<std::thread> load;
        for (int i = 0; i < 2; ++i)
            load.emplace_back([&busy] {
                volatile std::uint64_t spin = 0;
                while (busy.load(std::memory_order_relaxed))
                    spin = spin + 1;
            });
        const auto stopLoad = qScopeGuard([&] {
            busy = false;
            for (auto &thread : load)
                thread.join();
        });

        QElapsedTimer clock;
        clock.start();
        MainWindow window(workspace);
        window.show();
        auto *emptyState = window.findChild<QLabel *>(QStringLiteral("emptyState"));
        QVERIFY(!emptyState->text().contains(QStringLiteral("No runs")));
        QTRY_VERIFY_WITH_TIMEOUT(window.filteredRuns()->rowCount() > 0, 60000);
        qInfo("first rows after %lld ms under load", (long long)clock.elapsed());
        QVERIFY(!window.isShowingEmptyState());
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), total, 120000);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isLoadingRuns(), 30000);
        QVERIFY(!window.isShowingEmptyState());
        qInfo("all %d runs after %lld ms under load", total, (long long)clock.elapsed());

        window.filterEdit()->setText(QStringLiteral("status:failed"));
        QTRY_VERIFY_WITH_TIMEOUT(!window.filteredRuns()->isUpdating(), 60000);
        QCOMPARE(window.filteredRuns()->rowCount(), failed);

        // One run fails now: the watcher reads that run alone, and the filtered table gains its row.
        const QString runId = window.runsModel()->runAt(window.runsModel()->rowCount() - 1).id;
        auto writer = StoreWriter::start(workspace.database());
        QVERIFY(writer);
        QVERIFY(writer.value()
                    ->submit<void>([runId](SqliteConnection &db) {
                        auto update =
                            db.prepare("UPDATE runs SET status = 'failed' WHERE id = ? AND status <> 'failed'");
                        if (!update)
                            return Result<void>(fail(update.error()));
                        update->bind(1, runId);
                        return update->run();
                    })
                    .get());
        const int expected = int(connection->queryInt("SELECT count(*) FROM runs WHERE status = 'failed'").value());
        QTRY_COMPARE_WITH_TIMEOUT(window.filteredRuns()->rowCount(), expected, 30000);
    }

    void remembersGeometryAndColumnWidths()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        workspace.addRun(QStringLiteral("one"), RunStatus::Succeeded);
        {
            MainWindow window(workspace.workspace());
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            window.resize(913, 577);
            window.runsView()->horizontalHeader()->resizeSection(RunTableModel::NameColumn, 333);
            window.close();
        }
        MainWindow reopened(workspace.workspace());
        reopened.show();
        QVERIFY(QTest::qWaitForWindowExposed(&reopened));
        QCOMPARE(reopened.size(), QSize(913, 577));
        QCOMPARE(reopened.runsView()->horizontalHeader()->sectionSize(RunTableModel::NameColumn), 333);
    }

private:
    QTemporaryDir m_configDir;
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
