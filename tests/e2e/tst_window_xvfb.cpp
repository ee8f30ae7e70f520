// The real trainyard binary in a real X server (xvfb-run): its window is drawn, not blank, and shows the runs table.
#include "models/runtablemodel.h"
#include "support/testworkspace.h"

#include <QGuiApplication>
#include <QImage>
#include <QProcess>
#include <QScreen>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace trainyard;

namespace {

// Pixels of exactly this colour: the status swatches are solid fills, so their colour survives exactly.
int countPixels(const QImage &image, QRgb colour)
{
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        const auto *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x)
            count += (line[x] & 0xffffff) == (colour & 0xffffff);
    }
    return count;
}

int countDistinctColours(const QImage &image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 2) {
        const auto *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
        for (int x = 0; x < image.width(); x += 2)
            colours.insert(line[x] & 0xffffff);
    }
    return int(colours.size());
}

QString windowTree()
{
    QProcess xwininfo;
    xwininfo.start(QStringLiteral("xwininfo"), {QStringLiteral("-root"), QStringLiteral("-tree")});
    xwininfo.waitForFinished(5000);
    return QString::fromUtf8(xwininfo.readAllStandardOutput());
}

} // namespace

class TestWindowXvfb : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY2(QGuiApplication::platformName() == QLatin1String("xcb"),
                 "this test needs a real X server: run it through xvfb-run, as ctest does");
    }

    void realWindowShowsRunsTable()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QDateTime t0 = QDateTime::currentDateTimeUtc().addSecs(-7200);
        workspace.addRun(QStringLiteral("resnet50-baseline"), RunStatus::Succeeded, {QStringLiteral("baseline")}, t0);
        workspace.addRun(QStringLiteral("resnet50-lr3e-3"), RunStatus::Failed, {QStringLiteral("sweep")},
                         t0.addSecs(600));
        workspace.addRun(QStringLiteral("vit-small-fsdp"), RunStatus::Running, {QStringLiteral("fsdp")},
                         t0.addSecs(1800));
        workspace.writer().flush();

        QTemporaryDir config;
        QProcess trainyard;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("XDG_CONFIG_HOME"), config.path());
        environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
        trainyard.setProcessEnvironment(environment);
        trainyard.setProcessChannelMode(QProcess::ForwardedChannels);
        trainyard.start(QStringLiteral(TRAINYARD_BINARY), {QStringLiteral("--workspace"), workspace.root()});
        QVERIFY(trainyard.waitForStarted());

        // The X server lists a top-level window with Trainyard's title.
        QTRY_VERIFY_WITH_TIMEOUT(windowTree().contains(QStringLiteral("Trainyard — ") + workspace.root()), 20000);

        // Grab the X screen from outside the app and wait until the table with its status swatches is drawn.
        QScreen *screen = QGuiApplication::primaryScreen();
        QImage grabbed;
        const QRgb succeeded = RunTableModel::statusColor(RunStatus::Succeeded).rgb();
        const QRgb failed = RunTableModel::statusColor(RunStatus::Failed).rgb();
        const QRgb running = RunTableModel::statusColor(RunStatus::Running).rgb();
        constexpr int kSwatchPixels = 64; // at least an 8x8 solid block per status
        QTRY_VERIFY_WITH_TIMEOUT((grabbed = screen->grabWindow(0).toImage().convertToFormat(QImage::Format_RGB32),
                                  countPixels(grabbed, succeeded) >= kSwatchPixels
                                      && countPixels(grabbed, failed) >= kSwatchPixels
                                      && countPixels(grabbed, running) >= kSwatchPixels),
                                 20000);
        QVERIFY2(countDistinctColours(grabbed) > 20, "the window looks blank");
        // Not the empty-state page: the swatches only exist in the runs table.

        QVERIFY(test::saveDocsImage(grabbed.copy(0, 0, 1240, 680), QStringLiteral("main-window")));

        trainyard.terminate();
        QVERIFY(trainyard.waitForFinished(10000));
    }
};

QTEST_MAIN(TestWindowXvfb)
#include "tst_window_xvfb.moc"
