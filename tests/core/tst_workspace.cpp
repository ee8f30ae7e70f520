// Workspace: where the folder comes from, and what happens when it cannot be used.
#include "store/workspace.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace trainyard;

class TestWorkspace : public QObject {
    Q_OBJECT
private slots:
    void resolvesRootByPriority_data()
    {
        QTest::addColumn<QString>("commandLine");
        QTest::addColumn<QString>("trainyardHome");
        QTest::addColumn<QString>("xdgDataHome");
        QTest::addColumn<QString>("expected");
        QTest::newRow("flag wins") << "/w/flag"
                                   << "/w/home"
                                   << "/w/xdg"
                                   << "/w/flag";
        QTest::newRow("TRAINYARD_HOME next") << ""
                                             << "/w/home"
                                             << "/w/xdg"
                                             << "/w/home";
        QTest::newRow("XDG_DATA_HOME next") << ""
                                            << ""
                                            << "/w/xdg"
                                            << "/w/xdg/trainyard";
        QTest::newRow("~/.local/share last") << ""
                                             << ""
                                             << ""
                                             << "/users/ada/.local/share/trainyard";
        QTest::newRow("relative XDG ignored") << ""
                                              << ""
                                              << "rel/xdg"
                                              << "/users/ada/.local/share/trainyard";
        QTest::newRow("path cleaned") << "/w/flag/../other/"
                                      << ""
                                      << ""
                                      << "/w/other";
    }
    void resolvesRootByPriority()
    {
        QFETCH(QString, commandLine);
        QFETCH(QString, trainyardHome);
        QFETCH(QString, xdgDataHome);
        QFETCH(QString, expected);
        const Workspace::Sources sources{commandLine, trainyardHome, xdgDataHome, QStringLiteral("/users/ada")};
        QCOMPARE(Workspace::resolveRoot(sources), expected);
    }

    void relativeFlagIsMadeAbsolute()
    {
        const QString root = Workspace::resolveRoot({QStringLiteral("ws"), {}, {}, QStringLiteral("/h")});
        QCOMPARE(root, QDir::current().absoluteFilePath(QStringLiteral("ws")));
    }

    void readsEnvironment()
    {
        qputenv("TRAINYARD_HOME", "/from/env");
        QCOMPARE(Workspace::resolveRoot(Workspace::sourcesFromEnvironment({})), QStringLiteral("/from/env"));
        QCOMPARE(Workspace::resolveRoot(Workspace::sourcesFromEnvironment(QStringLiteral("/flag"))),
                 QStringLiteral("/flag"));
        qunsetenv("TRAINYARD_HOME");
    }

    void openCreatesFolderDatabaseAndRunsFolder()
    {
        QTemporaryDir dir;
        const QString root = dir.path() + QStringLiteral("/nested/ws");
        auto workspace = Workspace::open(root);
        QVERIFY2(workspace.ok(), workspace ? "" : qPrintable(workspace.error()));
        QVERIFY(QFileInfo(root + QStringLiteral("/trainyard.db")).isFile());
        QVERIFY(QFileInfo(root + QStringLiteral("/runs")).isDir());
        QCOMPARE(workspace->runDir(QStringLiteral("abc")), root + QStringLiteral("/runs/abc"));
    }

    void folderUnderAFileIsRefusedWithItsPath()
    {
        QTemporaryDir dir;
        const QString file = dir.path() + QStringLiteral("/plain-file");
        QFile(file).open(QIODevice::WriteOnly);
        const QString root = file + QStringLiteral("/ws");
        auto workspace = Workspace::open(root);
        QVERIFY(!workspace.ok());
        QVERIFY2(workspace.error().contains(root), qPrintable(workspace.error()));
        QCOMPARE(QDir(dir.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries), QStringList{"plain-file"});
    }

    void readOnlyFolderIsRefused()
    {
        if (::geteuid() == 0)
            QSKIP("root writes to read-only folders; the not-a-folder case above covers unwritable workspaces");
        QTemporaryDir dir;
        QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::ExeOwner);
        auto workspace = Workspace::open(dir.path() + QStringLiteral("/ws"));
        QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        QVERIFY(!workspace.ok());
        QVERIFY(workspace.error().contains(QStringLiteral("Permission denied")));
    }

    void openIfExistsCreatesNothing()
    {
        QTemporaryDir dir;
        const QString root = dir.path() + QStringLiteral("/absent");
        auto workspace = Workspace::openIfExists(root);
        QVERIFY(workspace.ok());
        QVERIFY(!workspace->has_value());
        QVERIFY(!QFileInfo::exists(root));
    }
};

QTEST_GUILESS_MAIN(TestWorkspace)
#include "tst_workspace.moc"
