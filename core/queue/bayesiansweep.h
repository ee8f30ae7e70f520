// Bayesian search (issue 20, point 3): a `method: tpe` sweep's trials, proposed one by one by Optuna's TPE sampler
// from the trials that finished. Optuna (Debian's python3-optuna) runs as a helper process per sweep
// (resources/python/trainyard_optuna.py), spoken to in JSON lines; its study lives in the workspace
// (sweeps/<id>/optuna.db), so a restarted queue goes on with the same study. The queue's scheduler pumps the active
// sweeps on every tick: a trial whose run ended is told (complete with its metric, pruned when early stopping ended it,
// failed otherwise), then new trials are asked for while fewer than `parallel` are queued or running. A helper that
// crashes or answers an error pauses its sweep with the message; the runs already queued stay queued.
#pragma once

#include "result.h"
#include "spec/runspec.h"

#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QString>

#include <functional>
#include <map>
#include <memory>

namespace trainyard {

class SqliteConnection;
class StoreWriter;
class Workspace;

namespace optunahelper {
// The Python that runs the helper: $TRAINYARD_OPTUNA_PYTHON, else /usr/bin/python3 (Debian's, with python3-optuna).
QString python();
// The helper script: $TRAINYARD_OPTUNA_HELPER, else trainyard_optuna.py next to the ranks' Python client.
QString script();
// Whether Optuna can be imported by the helper's Python; the error names the package to install.
Result<QString> checkAvailable();
} // namespace optunahelper

class BayesianSweeps : public QObject {
    Q_OBJECT
public:
    BayesianSweeps(const Workspace &workspace, StoreWriter &writer, SqliteConnection &connection,
                   QObject *parent = nullptr);
    ~BayesianSweeps() override;

    // One step for every active tpe sweep; true while any of them still has trials to propose or to hear back from
    // (the queue is not idle then).
    bool pump();

signals:
    void trialQueued(const QString &sweepId, int trial, const QString &runId, const QString &label);
    void trialTold(const QString &sweepId, int trial, const QString &state);
    void sweepPaused(const QString &sweepId, const QString &message);
    void sweepDone(const QString &sweepId);

private:
    struct Driver;
    void startDriver(const QString &sweepId);
    void pumpDriver(Driver &driver);
    void send(Driver &driver, const QJsonObject &request, std::function<void(const QJsonObject &)> onReply);
    void onOutput(const QString &sweepId);
    void pause(const QString &sweepId, const QString &message);
    void retire(const QString &sweepId, bool kill);
    void enqueueTrial(Driver &driver, int trial, const QJsonObject &params);

    const Workspace &m_workspace;
    StoreWriter &m_writer;
    SqliteConnection &m_connection;
    std::map<QString, std::unique_ptr<Driver>> m_drivers;
};

} // namespace trainyard
