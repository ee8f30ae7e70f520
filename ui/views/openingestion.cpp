// The serve switch and the Import menu: core's tracking server and history importers, run off the UI thread.
#include "views/openingestion.h"
#include "store/workspaceimport.h"

#include "ingest/historyimport.h"
#include "store/storewriter.h"
#include "tracking/trackingserver.h"
#include "views/offuithread.h"

#include <QFileDialog>
#include <QPointer>
#include <QSettings>

#include <optional>
#include <QtConcurrent/QtConcurrentRun>

namespace trainyard {

struct MlflowServeSwitch::Running {
    std::unique_ptr<StoreWriter> writer;
    std::unique_ptr<TrackingService> service; // destroyed before the writer it writes through
    ~Running() { service.reset(); }
};

MlflowServeSwitch::MlflowServeSwitch(const Workspace &workspace, QObject *parent)
    : QObject(parent), m_workspace(workspace), m_action(new QAction(tr("Serve MLflow API"), this))
{
    m_action->setObjectName(QStringLiteral("serveMlflowAction"));
    m_action->setCheckable(true);
    m_action->setToolTip(
        tr("Serve this workspace through MLflow's tracking API on 127.0.0.1 while the window is open, so scripts "
           "started anywhere on this machine log into it (like `trainyard serve`)"));
    connect(m_action, &QAction::toggled, this, [this](bool on) {
        QSettings().setValue(QLatin1String(kEnabledKey), on);
        setServing(on);
    });
    if (QSettings().value(QLatin1String(kEnabledKey), false).toBool())
        m_action->setChecked(true); // starts it
}

MlflowServeSwitch::~MlflowServeSwitch() = default;

QString MlflowServeSwitch::uri() const { return m_service ? m_service->service->uri() : QString(); }

QByteArray MlflowServeSwitch::token() const { return m_service ? m_service->service->token() : QByteArray(); }

void MlflowServeSwitch::setServing(bool serving)
{
    if (!serving) {
        if (auto running = std::move(m_service)) {
            // Stopping waits for a request in progress and the last commit: not on the UI thread.
            runInBackground([last = std::move(running)] {});
            emit stopped();
        }
        return;
    }
    if (m_service || m_starting)
        return;
    m_starting = true;
    const quint16 port = quint16(QSettings().value(QLatin1String(kPortKey), kDefaultPort).toUInt());
    auto error = std::make_shared<QString>();
    runOffUiThread(
        this,
        [workspace = m_workspace, port, error]() -> std::shared_ptr<Running> {
            auto running = std::make_shared<Running>();
            auto writer = StoreWriter::start(workspace.database());
            if (!writer) {
                *error = writer.error();
                return nullptr;
            }
            running->writer = std::move(writer).value();
            auto service = TrackingService::start(workspace, *running->writer, port);
            if (!service) {
                *error = service.error();
                return nullptr;
            }
            running->service = std::move(service).value();
            return running;
        },
        [this, error](std::shared_ptr<Running> running) {
            m_starting = false;
            if (!running) {
                const QSignalBlocker blocker(m_action);
                m_action->setChecked(false);
                emit failed(*error);
                return;
            }
            if (!m_action->isChecked()) { // switched off while starting
                runInBackground([last = std::move(running)] {});
                return;
            }
            m_service = running;
            emit started(m_service->service->uri());
        });
}

HistoryImportMenu::HistoryImportMenu(const Workspace &workspace, QWidget *parent)
    : QMenu(tr("Import"), parent), m_workspace(workspace)
{
    setObjectName(QStringLiteral("importMenu"));
    addAction(tr("TensorBoard logdir…"), this,
              [this] {
                  const QString folder =
                      QFileDialog::getExistingDirectory(parentWidget(), tr("Import a TensorBoard logdir"));
                  if (!folder.isEmpty())
                      importTensorBoard(folder);
              })
        ->setToolTip(tr(
            "Every folder holding events.out.tfevents.* files becomes a run; importing again adds only what is new"));
    addAction(tr("MLflow store (mlruns)…"), this, [this] {
        const QString folder =
            QFileDialog::getExistingDirectory(parentWidget(), tr("Import an MLflow file store (mlruns)"));
        if (!folder.isEmpty())
            importMlflow(folder);
    })->setToolTip(tr("Every run of every experiment becomes a run; importing again adds nothing"));
    addAction(tr("Trainyard workspace or bundle…"), this, [this] {
        const QString file = QFileDialog::getOpenFileName(
            parentWidget(), tr("Import a Trainyard bundle, or a workspace's trainyard.db"), QString(),
            tr("Trainyard bundles and databases (*.trainyard *.db);;All files (*)"));
        if (!file.isEmpty())
            importBundle(file);
    })->setToolTip(tr("Merges the runs this workspace does not have yet (what `trainyard import` does)"));
}

void HistoryImportMenu::importBundle(const QString &source)
{
    runOffUiThread(
        this,
        [workspace = m_workspace, source]() -> QPair<QString, QString> {
            auto imported = importWorkspace(workspace, source);
            if (!imported)
                return {imported.error(), {}};
            return {QString(),
                    tr("Imported %1 run(s) from %2 (%3 already here)")
                        .arg(imported->runsImported)
                        .arg(source)
                        .arg(imported->runsAlreadyPresent)};
        },
        [this](const QPair<QString, QString> &outcome) {
            if (!outcome.first.isEmpty())
                emit importFailed(outcome.first);
            else
                emit imported(outcome.second, {});
        });
}

void HistoryImportMenu::importTensorBoard(const QString &logdir) { runImport(true, logdir); }

void HistoryImportMenu::importMlflow(const QString &storeDir) { runImport(false, storeDir); }

namespace {
// What an import hands back to the UI thread (QFuture needs a default-constructible result).
struct ImportOutcome {
    QString error;
    std::optional<HistoryImportResult> result;
};
} // namespace

void HistoryImportMenu::runImport(bool tensorboard, const QString &path)
{
    runOffUiThread(
        this,
        [workspace = m_workspace, tensorboard, path]() -> ImportOutcome {
            auto writer = StoreWriter::start(workspace.database());
            if (!writer)
                return {writer.error(), std::nullopt};
            auto imported = tensorboard ? importTensorBoardLogdir(workspace, **writer, path)
                                        : importMlflowStore(workspace, **writer, path);
            if (!imported)
                return {imported.error(), std::nullopt};
            return {QString(), std::move(imported).value()};
        },
        [this, tensorboard, path](const ImportOutcome &outcome) {
            if (!outcome.result) {
                emit importFailed(outcome.error);
                return;
            }
            const HistoryImportResult &result = *outcome.result;
            emit imported(tr("Imported %1 run(s) from %2 %3 (%4 already here, %5 new metric points)")
                              .arg(result.runsCreated)
                              .arg(tensorboard ? tr("TensorBoard logdir") : tr("MLflow store"), path)
                              .arg(result.runsAlreadyPresent)
                              .arg(result.points),
                          result.problems);
        });
}

} // namespace trainyard
