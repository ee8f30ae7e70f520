// The tpe sweeps' drivers: one helper process each, one request in flight at a time.
#include "queue/bayesiansweep.h"

#include "launch/rankenvironment.h"
#include "launch/speclaunch.h"
#include "logging.h"
#include "queue/runqueue.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/sweepstate.h"
#include "store/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTimer>

#include <cmath>

namespace trainyard {

namespace optunahelper {

QString python()
{
    const QString configured = qEnvironmentVariable("TRAINYARD_OPTUNA_PYTHON");
    if (!configured.isEmpty())
        return configured;
    return QFileInfo::exists(QStringLiteral("/usr/bin/python3")) ? QStringLiteral("/usr/bin/python3")
                                                                 : QStringLiteral("python3");
}

QString script()
{
    const QString configured = qEnvironmentVariable("TRAINYARD_OPTUNA_HELPER");
    if (!configured.isEmpty())
        return configured;
    const QString folder = pythonClientDir();
    return folder.isEmpty() ? QString() : folder + QStringLiteral("/trainyard_optuna.py");
}

Result<QString> checkAvailable()
{
    const QString helper = script();
    if (helper.isEmpty() || !QFileInfo::exists(helper))
        return fail(QStringLiteral("a tpe sweep needs Trainyard's Optuna helper (trainyard_optuna.py), which is not "
                                   "installed next to trainyard_log.py"));
    QProcess check;
    check.start(python(), {helper, QStringLiteral("--check")});
    if (!check.waitForStarted(10000))
        return fail(QStringLiteral("a tpe sweep runs Optuna with %1, which cannot be started (%2)")
                        .arg(python(), check.errorString()));
    check.waitForFinished(60000);
    const QJsonObject answer = QJsonDocument::fromJson(check.readAllStandardOutput().trimmed()).object();
    if (check.exitStatus() == QProcess::NormalExit && check.exitCode() == 0 && answer.value("ok").toBool())
        return answer.value(QStringLiteral("optuna")).toString();
    const QString why = answer.contains(QStringLiteral("error"))
        ? answer.value(QStringLiteral("error")).toString()
        : QString::fromUtf8(check.readAllStandardError()).trimmed().right(400);
    return fail(QStringLiteral("a tpe sweep needs Optuna, which %1 cannot import: %2").arg(python(), why));
}

} // namespace optunahelper

struct BayesianSweeps::Driver {
    QString sweepId;
    QString name;
    RunSpec spec;
    std::unique_ptr<QProcess> helper;
    QByteArray buffer;
    std::function<void(const QJsonObject &)> onReply; // the request in flight, if any
    bool open = false;
    bool closing = false;
};

BayesianSweeps::BayesianSweeps(const Workspace &workspace, StoreWriter &writer, SqliteConnection &connection,
                               QObject *parent)
    : QObject(parent), m_workspace(workspace), m_writer(writer), m_connection(connection)
{ }

BayesianSweeps::~BayesianSweeps()
{
    for (auto &[sweepId, driver] : m_drivers) {
        driver->closing = true;
        driver->helper->disconnect(this);
        driver->helper->closeWriteChannel(); // the helper ends at the end of its input
        if (!driver->helper->waitForFinished(5000))
            driver->helper->kill();
    }
}

bool BayesianSweeps::pump()
{
    auto active = sweepstate::activeTpeSweeps(m_connection);
    if (!active) {
        qCWarning(lcQueue, "tpe sweeps: %s", qPrintable(active.error()));
        return false;
    }
    for (const QString &sweepId : active.value()) {
        auto found = m_drivers.find(sweepId);
        if (found == m_drivers.end()) {
            startDriver(sweepId);
            continue;
        }
        pumpDriver(*found->second);
    }
    return !active->isEmpty();
}

// Forgets a sweep's driver. Its helper is deleted later, never here: this may run inside one of its signals. A
// helper that is done is let go at the end of its input; one being paused is killed.
void BayesianSweeps::retire(const QString &sweepId, bool kill)
{
    auto found = m_drivers.find(sweepId);
    if (found == m_drivers.end())
        return;
    std::unique_ptr<Driver> driver = std::move(found->second);
    m_drivers.erase(found);
    QProcess *helper = driver->helper.release();
    helper->disconnect(this);
    if (helper->state() == QProcess::NotRunning) {
        helper->deleteLater();
        return;
    }
    connect(helper, &QProcess::finished, helper, &QObject::deleteLater);
    if (kill) {
        helper->kill();
    } else {
        helper->closeWriteChannel();
        QTimer::singleShot(5000, helper, &QProcess::kill);
    }
}

void BayesianSweeps::pause(const QString &sweepId, const QString &message)
{
    qCWarning(lcQueue, "sweep %s paused: %s", qPrintable(sweepId), qPrintable(message));
    (void)m_writer
        .submit<void>([sweepId, message](SqliteConnection &connection) {
            return sweepstate::setState(connection, sweepId, QStringLiteral("paused"), message);
        })
        .get();
    retire(sweepId, true);
    emit sweepPaused(sweepId, message);
}

void BayesianSweeps::startDriver(const QString &sweepId)
{
    auto row = sweepstate::readSweep(m_connection, sweepId);
    if (!row)
        return pause(sweepId, row.error());
    auto spec = runqueue::parseSweepSpec(row.value());
    if (!spec)
        return pause(sweepId, spec.error());
    if (spec->sweep.method != SweepSpec::Method::Tpe)
        return pause(sweepId, QStringLiteral("its spec is no longer a tpe sweep"));
    auto trials = sweepstate::trialsOf(m_connection, sweepId);
    if (!trials)
        return pause(sweepId, trials.error());

    auto driver = std::make_unique<Driver>();
    driver->sweepId = sweepId;
    driver->name = row->name;
    driver->spec = spec.value();
    driver->helper = std::make_unique<QProcess>();
    QProcess *helper = driver->helper.get();
    connect(helper, &QProcess::readyReadStandardOutput, this, [this, sweepId] { onOutput(sweepId); });
    connect(helper, &QProcess::finished, this, [this, sweepId, helper](int exitCode, QProcess::ExitStatus status) {
        auto found = m_drivers.find(sweepId);
        if (found == m_drivers.end() || found->second->closing)
            return;
        // A Python traceback ends with what went wrong: that line is the message; the rest goes to the log.
        const QString output = QString::fromUtf8(helper->readAllStandardError()).trimmed();
        if (!output.isEmpty())
            qCWarning(lcQueue, "sweep %s: the Optuna helper said:\n%s", qPrintable(sweepId), qPrintable(output));
        QString tail = output.section(QLatin1Char('\n'), -1).trimmed().right(600);
        tail.remove(QRegularExpression(QStringLiteral("\x1b\\[[0-9;]*m")));
        pause(sweepId,
              QStringLiteral("the Optuna helper stopped (%1): %2")
                  .arg(status == QProcess::CrashExit ? QStringLiteral("crashed")
                                                     : QStringLiteral("exit code %1").arg(exitCode),
                       tail.isEmpty() ? QStringLiteral("it said nothing") : tail));
    });
    connect(helper, &QProcess::errorOccurred, this, [this, sweepId, helper](QProcess::ProcessError error) {
        if (error != QProcess::FailedToStart)
            return;
        pause(sweepId,
              QStringLiteral("the Optuna helper could not start (%1 %2: %3)")
                  .arg(optunahelper::python(), optunahelper::script(), helper->errorString()));
    });
    Driver &kept = *driver;
    m_drivers.emplace(sweepId, std::move(driver));

    const QString folder = QDir(m_workspace.root()).filePath(QStringLiteral("sweeps/") + sweepId);
    QDir().mkpath(folder);
    QJsonArray space;
    for (const RandomAxis &axis : std::as_const(kept.spec.sweep.space)) {
        static const char *const kinds[] = {"uniform", "log_uniform", "int", "choice"};
        QJsonObject entry{{QStringLiteral("param"), axis.param},
                          {QStringLiteral("distribution"), QLatin1String(kinds[int(axis.distribution)])}};
        if (axis.distribution == RandomAxis::Distribution::Choice) {
            entry.insert(QStringLiteral("choices"), QJsonArray::fromStringList(axis.choices));
        } else if (axis.distribution == RandomAxis::Distribution::Int) {
            entry.insert(QStringLiteral("min"), axis.minInt);
            entry.insert(QStringLiteral("max"), axis.maxInt);
        } else {
            entry.insert(QStringLiteral("min"), axis.min);
            entry.insert(QStringLiteral("max"), axis.max);
        }
        space.append(entry);
    }
    QJsonArray known;
    for (const SweepTrial &trial : std::as_const(trials.value()))
        known.append(trial.trial);
    const QJsonObject open{
        {QStringLiteral("op"), QStringLiteral("open")},
        {QStringLiteral("storage"), QStringLiteral("sqlite:///") + QDir(folder).absoluteFilePath("optuna.db")},
        {QStringLiteral("study"), sweepId},
        {QStringLiteral("direction"),
         kept.spec.sweep.objective.maximize ? QStringLiteral("maximize") : QStringLiteral("minimize")},
        {QStringLiteral("seed"), qint64(kept.spec.sweep.randomSeed)},
        {QStringLiteral("startup_trials"), kept.spec.sweep.startupTrials},
        {QStringLiteral("space"), space},
        {QStringLiteral("known"), known},
    };
    helper->start(optunahelper::python(), {optunahelper::script()});
    send(kept, open, [this, sweepId](const QJsonObject &) {
        if (auto found = m_drivers.find(sweepId); found != m_drivers.end())
            found->second->open = true;
    });
}

void BayesianSweeps::send(Driver &driver, const QJsonObject &request, std::function<void(const QJsonObject &)> onReply)
{
    driver.onReply = std::move(onReply);
    driver.helper->write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
}

void BayesianSweeps::onOutput(const QString &sweepId)
{
    auto found = m_drivers.find(sweepId);
    if (found == m_drivers.end())
        return;
    Driver &driver = *found->second;
    driver.buffer += driver.helper->readAllStandardOutput();
    qsizetype newline;
    while ((newline = driver.buffer.indexOf('\n')) >= 0) {
        const QByteArray line = driver.buffer.left(newline).trimmed();
        driver.buffer.remove(0, newline + 1);
        if (line.isEmpty())
            continue;
        QJsonParseError error;
        const QJsonObject reply = QJsonDocument::fromJson(line, &error).object();
        if (error.error != QJsonParseError::NoError || !reply.contains(QStringLiteral("ok")))
            return pause(sweepId,
                         QStringLiteral("the Optuna helper answered something that is not its protocol: %1")
                             .arg(QString::fromUtf8(line.left(300))));
        if (!reply.value(QStringLiteral("ok")).toBool())
            return pause(
                sweepId,
                QStringLiteral("the Optuna helper refused: %1").arg(reply.value(QStringLiteral("error")).toString()));
        auto onReply = std::move(driver.onReply);
        driver.onReply = nullptr;
        if (onReply)
            onReply(reply); // may pause (and so destroy) the driver: nothing of it is touched after
        return;
    }
}

// One request at a time: tell what ended, else ask for a trial when one may start, else finish the sweep.
void BayesianSweeps::pumpDriver(Driver &driver)
{
    if (!driver.open || driver.onReply)
        return;
    const QString sweepId = driver.sweepId;
    auto trials = sweepstate::trialsOf(m_connection, sweepId);
    if (!trials)
        return pause(sweepId, trials.error());
    int inFlight = 0;
    for (const SweepTrial &trial : std::as_const(trials.value())) {
        if (trial.state != u"running")
            continue;
        auto run = runqueries::findRun(m_connection, trial.runId);
        if (!run) {
            // Its run was deleted: the study hears it failed.
            send(driver,
                 QJsonObject{{QStringLiteral("op"), QStringLiteral("tell")},
                             {QStringLiteral("trial"), trial.trial},
                             {QStringLiteral("state"), QStringLiteral("fail")}},
                 [this, sweepId, number = trial.trial](const QJsonObject &) {
                     (void)m_writer
                         .submit<void>([=](SqliteConnection &connection) {
                             return sweepstate::setTrialResult(connection, sweepId, number, QStringLiteral("fail"),
                                                               std::nullopt);
                         })
                         .get();
                     emit trialTold(sweepId, number, QStringLiteral("fail"));
                 });
            return;
        }
        if (!isTerminal(run->status)) {
            ++inFlight;
            continue;
        }
        // Ended: complete with its metric, pruned where its rule stopped it, failed otherwise.
        const SweepObjective &objective = driver.spec.sweep.objective;
        QString state = QStringLiteral("fail");
        std::optional<double> value;
        QJsonObject tell{{QStringLiteral("op"), QStringLiteral("tell")}, {QStringLiteral("trial"), trial.trial}};
        if (run->status == RunStatus::Succeeded && run->metrics.contains(objective.metric)) {
            const RunMetricSummary summary = run->metrics.value(objective.metric);
            const double number = objective.statistic == u"last" ? summary.last
                : objective.statistic == u"max"                  ? summary.max
                                                                 : summary.min;
            if (std::isfinite(number)) {
                state = QStringLiteral("complete");
                value = number;
                tell.insert(QStringLiteral("value"), number);
            }
        } else if (run->status == RunStatus::StoppedEarly) {
            state = QStringLiteral("pruned");
            const QJsonObject stopped = QJsonDocument::fromJson(run->exitSummary.toUtf8())
                                            .object()
                                            .value(QStringLiteral("stopped_early"))
                                            .toObject();
            const QJsonValue at = stopped.value(QStringLiteral("value"));
            if (at.isDouble() && stopped.value(QStringLiteral("comparison")).toString().startsWith(objective.metric)) {
                value = at.toDouble();
                tell.insert(QStringLiteral("value"), at.toDouble());
                tell.insert(QStringLiteral("step"), stopped.value(QStringLiteral("step")).toInteger());
            }
        }
        tell.insert(QStringLiteral("state"), state);
        send(driver, tell, [this, sweepId, number = trial.trial, state, value](const QJsonObject &) {
            (void)m_writer
                .submit<void>([=](SqliteConnection &connection) {
                    return sweepstate::setTrialResult(connection, sweepId, number, state, value);
                })
                .get();
            emit trialTold(sweepId, number, state);
        });
        return;
    }
    if (trials->size() >= driver.spec.sweep.trials) {
        if (inFlight == 0) {
            (void)m_writer
                .submit<void>([sweepId](SqliteConnection &connection) {
                    return sweepstate::setState(connection, sweepId, QStringLiteral("done"));
                })
                .get();
            retire(sweepId, false);
            emit sweepDone(sweepId);
        }
        return;
    }
    if (inFlight >= driver.spec.sweep.parallel)
        return;
    send(driver, QJsonObject{{QStringLiteral("op"), QStringLiteral("ask")}}, [this, sweepId](const QJsonObject &reply) {
        auto found = m_drivers.find(sweepId);
        if (found == m_drivers.end())
            return;
        enqueueTrial(*found->second, reply.value(QStringLiteral("trial")).toInt(),
                     reply.value(QStringLiteral("params")).toObject());
    });
}

// Queues the run of a trial: the sweep's spec with the trial's params, named NAME-<trial + 1>.
void BayesianSweeps::enqueueTrial(Driver &driver, int trial, const QJsonObject &params)
{
    SweepSpec single;
    for (const RandomAxis &axis : std::as_const(driver.spec.sweep.space))
        single.grid << qMakePair(axis.param, QStringList{params.value(axis.param).toString()});
    auto points = expandSweep(driver.spec.params, single);
    if (!points)
        return pause(driver.sweepId,
                     QStringLiteral("trial %1's params do not fit the spec: %2").arg(trial).arg(points.error()));
    LocalLaunch launch = localLaunchFor(driver.spec);
    const int width = std::max(2, int(QString::number(driver.spec.sweep.trials).size()));
    launch.name = QStringLiteral("%1-%2").arg(driver.name).arg(trial + 1, width, 10, QLatin1Char('0'));
    launch.typedParams = points->first().params;
    launch.params.clear();
    for (const RunParam &param : std::as_const(launch.typedParams))
        launch.params << qMakePair(param.name, param.value);
    launch.tags << QStringLiteral("sweep:") + driver.name;
    auto runId = runqueue::enqueue(m_workspace, m_writer, launch, driver.sweepId);
    if (!runId)
        return pause(driver.sweepId, QStringLiteral("trial %1 could not be queued: %2").arg(trial).arg(runId.error()));
    const QString sweepId = driver.sweepId;
    auto recorded = m_writer
                        .submit<void>([=, id = runId.value()](SqliteConnection &connection) {
                            return sweepstate::recordTrial(connection, sweepId, trial, id);
                        })
                        .get();
    if (!recorded)
        return pause(sweepId, recorded.error());
    emit trialQueued(sweepId, trial, runId.value(), points->first().label);
}

} // namespace trainyard
