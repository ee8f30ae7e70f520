// MainWindow (offscreen): empty state, runs arriving live from another writer, remembered layout.
#include "mainwindow.h"
#include "models/runtablemodel.h"
#include "support/testworkspace.h"

#include <QApplication>
#include <QHeaderView>
#include <QLabel>
#include <QSettings>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace trainyard;

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
        QVERIFY(label->text().contains(QStringLiteral("trainyard launch")));
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
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), 2, 5000);
        QVERIFY(!window.isShowingEmptyState());
        QVERIFY(window.runsView()->isVisible());
        // Newest first by default.
        QCOMPARE(window.runsView()->model()->index(0, RunTableModel::NameColumn).data().toString(), QStringLiteral("resnet-amp"));
        QCOMPARE(window.runsView()->model()->index(1, RunTableModel::StatusColumn).data().toString(), QStringLiteral("succeeded"));
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
