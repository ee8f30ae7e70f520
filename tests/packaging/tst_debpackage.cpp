// The Debian package: built by CPack, valid desktop and AppStream files, installs with dpkg -i, runs from PATH.
#include <QDir>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

#include <unistd.h>

namespace {

struct Outcome {
    int exitCode = -1;
    QString output;
};

Outcome run(const QString &program, const QStringList &arguments, const QString &workingDirectory = {},
            int timeoutMs = 300000)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    if (!workingDirectory.isEmpty())
        process.setWorkingDirectory(workingDirectory);
    process.start(program, arguments);
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return {-1, QStringLiteral("%1 did not finish: %2").arg(program, process.errorString())};
    }
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromUtf8(process.readAll())};
}

} // namespace

class TestDebPackage : public QObject {
    Q_OBJECT
private slots:
    void desktopAndAppStreamFilesAreValid()
    {
        const Outcome desktop = run(QStringLiteral("desktop-file-validate"),
                                    {QStringLiteral(TRAINYARD_SOURCE_DIR "/packaging/io.trainyard.Trainyard.desktop")});
        QVERIFY2(desktop.exitCode == 0 && desktop.output.trimmed().isEmpty(), qPrintable(desktop.output));
        const Outcome metainfo =
            run(QStringLiteral("appstreamcli"),
                {QStringLiteral("validate"), QStringLiteral("--no-net"), QStringLiteral("--pedantic"),
                 QStringLiteral(TRAINYARD_SOURCE_DIR "/packaging/io.trainyard.Trainyard.metainfo.xml")});
        QVERIFY2(metainfo.exitCode == 0, qPrintable(metainfo.output));
    }

    void buildsInstallsAndRunsFromPath()
    {
        const QString buildDir = QStringLiteral(TRAINYARD_BUILD_DIR);
        const QString outputDir = buildDir + QStringLiteral("/package");
        QDir(outputDir).removeRecursively();
        const Outcome cpack =
            run(QStringLiteral("cpack"), {QStringLiteral("-G"), QStringLiteral("DEB"), QStringLiteral("-B"), outputDir},
                buildDir);
        QVERIFY2(cpack.exitCode == 0, qPrintable(cpack.output));
        const QStringList debs = QDir(outputDir).entryList({QStringLiteral("*.deb")}, QDir::Files);
        QCOMPARE(debs.size(), 1);
        const QString deb = outputDir + QLatin1Char('/') + debs.first();

        const Outcome contents = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--contents"), deb});
        QCOMPARE(contents.exitCode, 0);
        for (const char *path :
             {"./usr/bin/trainyard", "./usr/share/applications/io.trainyard.Trainyard.desktop",
              "./usr/share/metainfo/io.trainyard.Trainyard.metainfo.xml",
              "./usr/share/icons/hicolor/scalable/apps/io.trainyard.Trainyard.svg",
              "./usr/share/trainyard/python/trainyard_log.py", "./usr/share/trainyard/python/trainyard_optuna.py",
              "./usr/share/trainyard/examples/train_ddp.py"})
            QVERIFY2(contents.output.contains(QLatin1String(path)), path);
        const Outcome depends =
            run(QStringLiteral("dpkg-deb"), {QStringLiteral("--field"), deb, QStringLiteral("Depends")});
        QVERIFY2(depends.output.contains(QStringLiteral("libqt6widgets6")), qPrintable(depends.output));
        QVERIFY2(depends.output.contains(QStringLiteral("libsqlite3")), qPrintable(depends.output));

        if (::geteuid() != 0)
            QSKIP("dpkg -i needs root; CI runs as root and installs the package there");
        const Outcome install = run(QStringLiteral("dpkg"), {QStringLiteral("-i"), deb});
        QVERIFY2(install.exitCode == 0, qPrintable(install.output));
        const Outcome which = run(QStringLiteral("sh"), {QStringLiteral("-c"), QStringLiteral("command -v trainyard")});
        const Outcome version =
            run(QStringLiteral("sh"), {QStringLiteral("-c"), QStringLiteral("cd / && trainyard --version")});
        const Outcome remove = run(QStringLiteral("dpkg"), {QStringLiteral("-r"), QStringLiteral("trainyard")});
        QCOMPARE(which.output.trimmed(), QStringLiteral("/usr/bin/trainyard"));
        QCOMPARE(version.exitCode, 0);
        QVERIFY2(QRegularExpression(QStringLiteral("^trainyard \\d+\\.\\d+\\.\\d+$"))
                     .match(version.output.trimmed())
                     .hasMatch(),
                 qPrintable(version.output));
        QVERIFY2(remove.exitCode == 0, qPrintable(remove.output));
        QVERIFY(!QFileInfo::exists(QStringLiteral("/usr/bin/trainyard")));
    }
};

QTEST_GUILESS_MAIN(TestDebPackage)
#include "tst_debpackage.moc"
