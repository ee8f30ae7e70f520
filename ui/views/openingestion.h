// The window's open ingestion: a switch that serves the workspace through the MLflow tracking API while the window is
// open (off by default, remembered), and the Import menu for TensorBoard logdirs and MLflow stores. Both do their work
// off the UI thread and report back with queued signals.
#pragma once

#include "store/workspace.h"

#include <QAction>
#include <QMenu>
#include <QObject>

#include <memory>

namespace trainyard {

class StoreWriter;
class TrackingService;

class MlflowServeSwitch : public QObject {
    Q_OBJECT
public:
    static constexpr auto kEnabledKey = "tracking/serveFromWindow";
    static constexpr auto kPortKey = "tracking/port";
    static constexpr int kDefaultPort = 5000;

    MlflowServeSwitch(const Workspace &workspace, QObject *parent = nullptr);
    ~MlflowServeSwitch() override;

    QAction *action() const { return m_action; }
    bool isServing() const { return m_service != nullptr; }
    QString uri() const;
    QByteArray token() const;
    // Starts or stops serving; the outcome arrives as started / failed / stopped.
    void setServing(bool serving);

signals:
    void started(const QString &uri);
    void failed(const QString &message);
    void stopped();

private:
    struct Running;
    Workspace m_workspace;
    QAction *m_action;
    std::shared_ptr<Running> m_service;
    bool m_starting = false;
};

class HistoryImportMenu : public QMenu {
    Q_OBJECT
public:
    HistoryImportMenu(const Workspace &workspace, QWidget *parent = nullptr);
    // Imports without asking for the folder (the menu's actions ask); tests call these.
    void importTensorBoard(const QString &logdir);
    void importMlflow(const QString &storeDir);
    // Another workspace's runs: a bundle (`trainyard export`), a workspace folder or its trainyard.db.
    void importBundle(const QString &source);

signals:
    void imported(const QString &summary, const QStringList &problems);
    void importFailed(const QString &message);

private:
    void runImport(bool tensorboard, const QString &path);
    Workspace m_workspace;
};

} // namespace trainyard
