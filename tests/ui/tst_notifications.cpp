// Notifications (issue 17, point 5), on a real D-Bus session bus (ctest runs this under dbus-run-session): a stand-in
// for the desktop's notification daemon takes org.freedesktop.Notifications on a connection of its own, as
// GNOME's or dunst would, and records what it is sent. Covered: which run changes notify (and the settings that turn
// each off), delivery and a click opening the run, the window's fallback when no service answers, and
// `trainyard launch --notify`.
#include "desktopnotifier.h"
#include "mainwindow.h"
#include "models/runnotifications.h"
#include "models/runtablemodel.h"
#include "support/testworkspace.h"
#include "views/runpage.h"

#include <QCheckBox>
#include <QDBusConnection>
#include <QDialog>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSpinBox>
#include <QDBusConnectionInterface>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTabWidget>
#include <QTest>
#include <QThread>

#include <mutex>

using namespace trainyard;

// What a notification daemon does with Notify and how it reports a click: the protocol's server side.
class NotificationServer : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")
public:
    struct Received {
        QString appName;
        QString summary;
        QString body;
        QStringList actions;
        uint id = 0;
    };
    QList<Received> received() const
    {
        std::lock_guard lock(m_mutex);
        return m_received;
    }

public slots:
    uint Notify(const QString &appName, uint, const QString &, const QString &summary, const QString &body,
                const QStringList &actions, const QVariantMap &, int)
    {
        std::lock_guard lock(m_mutex);
        m_received << Received{appName, summary, body, actions, uint(m_received.size() + 1)};
        return uint(m_received.size());
    }
    QStringList GetCapabilities() { return {QStringLiteral("actions"), QStringLiteral("body")}; }
    void click(uint id) { emit ActionInvoked(id, QStringLiteral("default")); }

signals:
    void ActionInvoked(uint id, const QString &actionKey);

private:
    mutable std::mutex m_mutex;
    QList<Received> m_received;
};

namespace {
constexpr auto kConnectionName = "notification-daemon";

RunListChange listOf(const QList<RunRecord> &runs, bool complete = false)
{
    RunListChange change;
    change.upserted = runs;
    change.complete = complete;
    return change;
}

RunRecord runWith(const QString &id, RunStatus status, const QString &exitSummary = {}, qint64 ranSeconds = 60)
{
    RunRecord run;
    run.id = id;
    run.name = QStringLiteral("run-") + id;
    run.status = status;
    run.createdAt = QDateTime::currentDateTimeUtc().addSecs(-3600);
    run.startedAt = QDateTime::currentDateTimeUtc().addSecs(-ranSeconds);
    if (isTerminal(status))
        run.endedAt = QDateTime::currentDateTimeUtc();
    run.exitSummary = exitSummary;
    return run;
}

const QString kFailure = QStringLiteral(
    R"({"first_failure": {"rank": 1, "cause": "python-exception", "message": "ValueError: loss is NaN at step 4"}})");
const QString kHang =
    QStringLiteral(R"({"first_failure": {"rank": 0, "cause": "hang", "message": "no output for 30 s: rank 0"}})");
} // namespace

class TestNotifications : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY2(QDBusConnection::sessionBus().isConnected(), "run under dbus-run-session (as ctest does)");
        QVERIFY(m_configDir.isValid());
        qputenv("XDG_CONFIG_HOME", m_configDir.path().toUtf8());
        QCoreApplication::setOrganizationName(QStringLiteral("TrainyardTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_notifications"));
        m_server = new NotificationServer;
        QDBusConnection daemon = QDBusConnection::connectToBus(QDBusConnection::SessionBus, kConnectionName);
        QVERIFY(daemon.registerObject(QLatin1String(DesktopNotifier::kPath), m_server,
                                      QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals));
        QVERIFY(daemon.registerService(QLatin1String(DesktopNotifier::kService)));
    }

    void cleanupTestCase()
    {
        QDBusConnection::disconnectFromBus(kConnectionName);
        delete m_server;
    }

    // Which changes notify: only what happens while the window watches, each kind as the settings allow.
    void failuresHangsLongRunsAndAlertsNotifyAsSet()
    {
        RunNotificationDetector detector;
        NotificationSettings settings;
        // The first list only says what is known, even of failed runs.
        QVERIFY(
            detector
                .update(listOf({runWith("a", RunStatus::Running), runWith("old", RunStatus::Failed, kFailure)}, true),
                        settings)
                .isEmpty());
        QList<RunNotification> said = detector.update(listOf({runWith("a", RunStatus::Failed, kFailure)}), settings);
        QCOMPARE(said.size(), 1);
        QVERIFY(said.first().kind == RunNotification::Kind::Failed);
        QCOMPARE(said.first().title, QStringLiteral("Run failed: run-a"));
        QCOMPARE(said.first().body, QStringLiteral("rank 1, python-exception: ValueError: loss is NaN at step 4"));
        QVERIFY(detector.update(listOf({runWith("a", RunStatus::Failed, kFailure)}), settings).isEmpty()); // once

        QVERIFY(detector.update(listOf({runWith("h", RunStatus::Running)}), settings).isEmpty());
        said = detector.update(listOf({runWith("h", RunStatus::Failed, kHang)}), settings);
        QCOMPARE(said.size(), 1);
        QVERIFY(said.first().kind == RunNotification::Kind::Hung);

        // Finished: only after running at least the threshold.
        QVERIFY(detector.update(listOf({runWith("s", RunStatus::Running), runWith("l", RunStatus::Running)}), settings)
                    .isEmpty());
        QVERIFY(detector.update(listOf({runWith("s", RunStatus::Succeeded, {}, 5 * 60)}), settings).isEmpty());
        said = detector.update(listOf({runWith("l", RunStatus::Succeeded, {}, 12 * 60)}), settings);
        QCOMPARE(said.size(), 1);
        QVERIFY(said.first().kind == RunNotification::Kind::FinishedLong);
        QCOMPARE(said.first().body, QStringLiteral("succeeded after 12 min"));

        // A new alert of a run; a second update with the same alerts says nothing more.
        RunRecord alerting = runWith("x", RunStatus::Running);
        QVERIFY(detector.update(listOf({alerting}), settings).isEmpty());
        alerting.alerts = QStringLiteral(R"([{"message": "alert: acc is NaN or infinite: nan at step 20"}])");
        said = detector.update(listOf({alerting}), settings);
        QCOMPARE(said.size(), 1);
        QCOMPARE(said.first().body, QStringLiteral("alert: acc is NaN or infinite: nan at step 20"));
        QVERIFY(detector.update(listOf({alerting}), settings).isEmpty());

        // Each kind off: nothing.
        settings.failed = settings.hung = settings.finishedLong = settings.alerts = false;
        QVERIFY(detector.update(listOf({runWith("b", RunStatus::Running), runWith("c", RunStatus::Running)}), settings)
                    .isEmpty());
        QVERIFY(detector
                    .update(listOf({runWith("b", RunStatus::Failed, kFailure),
                                    runWith("c", RunStatus::Succeeded, {}, 3600)}),
                            settings)
                    .isEmpty());
        // A run that appears ended, created before the window watched (an import), tells nothing.
        NotificationSettings on;
        QVERIFY(detector.update(listOf({runWith("imported", RunStatus::Failed, kFailure)}), on).isEmpty());
    }

    void deliveredToTheServiceAndAClickReported()
    {
        const qsizetype before = m_server->received().size();
        DesktopNotifier notifier;
        QSignalSpy delivered(&notifier, &DesktopNotifier::delivered);
        QSignalSpy activated(&notifier, &DesktopNotifier::activated);
        notifier.notify(QStringLiteral("Run failed: x"), QStringLiteral("rank 0: boom"), QStringLiteral("run-x"));
        QTRY_COMPARE_WITH_TIMEOUT(delivered.count(), 1, 10000);
        const NotificationServer::Received got = m_server->received().last();
        QCOMPARE(m_server->received().size(), before + 1);
        QCOMPARE(got.appName, QStringLiteral("Trainyard"));
        QCOMPARE(got.summary, QStringLiteral("Run failed: x"));
        QCOMPARE(got.body, QStringLiteral("rank 0: boom"));
        QVERIFY(got.actions.contains(QStringLiteral("default")));
        QMetaObject::invokeMethod(m_server, "click", Q_ARG(uint, got.id));
        QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, 10000);
        QCOMPARE(activated.first().first().toString(), QStringLiteral("run-x"));
        // (DesktopNotifier::notifyAndWait, which blocks, is checked from its own process: launchNotifyTellsTheDesktop.)
    }

    // The window: a run that fails while it watches is notified with its first-failure line; a click opens its page.
    // Without a service, the status bar says it.
    void windowNotifiesAFailureAndAClickOpensTheRun()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("diverging"), RunStatus::Running);
        MainWindow window(workspace.workspace());
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), 1, 30000);
        QTRY_VERIFY(!window.isLoadingRuns());
        const qsizetype before = m_server->received().size();
        QVERIFY(workspace.writer()
                    .recordEnd(runId, RunStatus::Failed, QDateTime::currentDateTimeUtc(), {}, kFailure)
                    .get());
        QTRY_COMPARE_WITH_TIMEOUT(m_server->received().size(), before + 1, 10000);
        const NotificationServer::Received got = m_server->received().last();
        QCOMPARE(got.summary, QStringLiteral("Run failed: diverging"));
        QCOMPARE(got.body, QStringLiteral("rank 1, python-exception: ValueError: loss is NaN at step 4"));
        QMetaObject::invokeMethod(m_server, "click", Q_ARG(uint, got.id));
        QTRY_VERIFY_WITH_TIMEOUT(
            qobject_cast<RunPage *>(window.findChild<QTabWidget *>(QStringLiteral("tabs"))->currentWidget()), 10000);
        QCOMPARE(
            qobject_cast<RunPage *>(window.findChild<QTabWidget *>(QStringLiteral("tabs"))->currentWidget())->runId(),
            runId);

        // Settings off: the next failure is not sent.
        NotificationSettings quiet = window.notificationSettings();
        quiet.failed = false;
        window.setNotificationSettings(quiet);
        const QString second = workspace.addRun(QStringLiteral("second"), RunStatus::Running);
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), 2, 10000);
        QSignalSpy raised(&window, &MainWindow::notificationRaised);
        QVERIFY(workspace.writer()
                    .recordEnd(second, RunStatus::Failed, QDateTime::currentDateTimeUtc(), {}, kFailure)
                    .get());
        QTRY_VERIFY_WITH_TIMEOUT(
            window.runsModel()->runAt(window.runsModel()->rowOfRun(second)).status == RunStatus::Failed, 10000);
        QCOMPARE(raised.count(), 0);
        window.setNotificationSettings(NotificationSettings{});

        // No service on the bus: the status bar says it.
        QDBusConnection daemon(kConnectionName);
        QVERIFY(daemon.unregisterService(QLatin1String(DesktopNotifier::kService)));
        auto reRegister = qScopeGuard([&] { daemon.registerService(QLatin1String(DesktopNotifier::kService)); });
        const QString third = workspace.addRun(QStringLiteral("third"), RunStatus::Running);
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), 3, 10000);
        QVERIFY(workspace.writer()
                    .recordEnd(third, RunStatus::Failed, QDateTime::currentDateTimeUtc(), {}, kFailure)
                    .get());
        QTRY_VERIFY_WITH_TIMEOUT(window.statusBar()->currentMessage().startsWith(QStringLiteral("Run failed: third")),
                                 10000);
    }

    // File > Settings… turns each kind on or off; the choice is kept.
    void settingsDialogTurnsNotificationsOff()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        MainWindow window(workspace.workspace());
        QCOMPARE(window.action(QStringLiteral("settings"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_Comma));
        window.action(QStringLiteral("settings"))->trigger();
        QDialog *dialog = nullptr;
        QTRY_VERIFY((dialog = window.findChild<QDialog *>(QStringLiteral("settingsDialog"))));
        dialog->findChild<QCheckBox *>(QStringLiteral("notifyHung"))->setChecked(false);
        dialog->findChild<QSpinBox *>(QStringLiteral("longRunMinutes"))->setValue(45);
        dialog->accept();
        QVERIFY(!window.notificationSettings().hung);
        QCOMPARE(window.notificationSettings().longRunMinutes, 45);
        QVERIFY(window.notificationSettings().failed);
        const NotificationSettings kept = NotificationSettings::load();
        QVERIFY(!kept.hung);
        QCOMPARE(kept.longRunMinutes, 45);
        window.setNotificationSettings(NotificationSettings{});
    }

    // The run page says which alert rules the run broke, and that a stop rule ended it.
    void runPageShowsAlertsAndTheStoppingRule()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("alerting"), RunStatus::Running);
        const QString stopped = QStringLiteral("alert: loss below 0.5: 0.49 at step 51 (the run is stopped)");
        const QString nan = QStringLiteral("alert: acc is NaN or infinite: nan at step 20");
        const auto json = [](const QJsonObject &object) {
            return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
        };
        QVERIFY(workspace.writer().recordAlert(runId, json({{QStringLiteral("message"), nan}})).get());
        QVERIFY(workspace.writer().recordAlert(runId, json({{QStringLiteral("message"), stopped}})).get());
        const QJsonObject summary{
            {QStringLiteral("stopped_by_alert"), QJsonObject{{QStringLiteral("message"), stopped}}}};
        QVERIFY(workspace.writer()
                    .recordEnd(runId, RunStatus::Canceled, QDateTime::currentDateTimeUtc(), {}, json(summary))
                    .get());
        RunPage page(workspace.workspace().database().path(), runId, workspace.workspace().runDir(runId));
        page.show();
        QTRY_VERIFY_WITH_TIMEOUT(page.failureText().startsWith(QStringLiteral("Stopped by its alert rule")), 10000);
        QVERIFY(page.failureText().contains(QStringLiteral("loss below 0.5")));
        QCOMPARE(page.alertsText(),
                 QStringLiteral("alert: acc is NaN or infinite: nan at step 20\n"
                                "alert: loss below 0.5: 0.49 at step 51 (the run is stopped)"));
    }

    // `trainyard launch --notify`: the run's end reaches the desktop.
    void launchNotifyTellsTheDesktop()
    {
        QTemporaryDir home;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("TRAINYARD_HOME"), home.filePath(QStringLiteral("workspace")));
        const qsizetype before = m_server->received().size();
        const test::CommandOutcome outcome = test::runTrainyard(
            {"launch", "--quiet", "--notify", "--name", "notified", "--", "/bin/sh", "-c", "exit 3"}, environment);
        QCOMPARE(outcome.exitCode, 1);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->received().size(), before + 1, 10000);
        QCOMPARE(m_server->received().last().summary, QStringLiteral("Run failed: notified"));
        QVERIFY2(m_server->received().last().body.contains(QStringLiteral("3")),
                 qPrintable(m_server->received().last().body));
    }

private:
    QTemporaryDir m_configDir;
    NotificationServer *m_server = nullptr;
};

QTEST_MAIN(TestNotifications)
#include "tst_notifications.moc"
