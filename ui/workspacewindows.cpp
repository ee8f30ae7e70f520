#include "workspacewindows.h"

#include "launch/launchhost.h"
#include "mainwindow.h"
#include "store/workspace.h"

#include <QDir>
#include <QMessageBox>

namespace trainyard {

WorkspaceWindows::WorkspaceWindows(QObject *parent) : QObject(parent)
{
    m_confirmReplace = [this](int activeRuns) {
        return QMessageBox::question(
                   m_current, tr("Open another workspace"),
                   tr("%n run(s) launched from this window are still running. Opening another workspace closes this "
                      "window and cancels them. Open it anyway?",
                      nullptr, activeRuns),
                   QMessageBox::Yes | QMessageBox::No, QMessageBox::No)
            == QMessageBox::Yes;
    };
}

WorkspaceWindows::~WorkspaceWindows() { delete m_current; }

Result<void> WorkspaceWindows::open(const QString &root)
{
    const QString absolute = QDir(root).absolutePath();
    if (m_current && absolute == QDir(m_current->workspaceRoot()).absolutePath())
        return {};
    auto workspace = Workspace::open(absolute);
    if (!workspace) {
        if (m_current)
            m_current->warn(tr("Cannot open the workspace"), workspace.error());
        return fail(workspace.error());
    }
    if (m_current) {
        if (const int active = m_current->launchHost()->activeRuns(); active > 0 && !m_confirmReplace(active))
            return fail(tr("kept %1: %n run(s) launched from it are still running", nullptr, active)
                            .arg(m_current->workspaceRoot()));
    }
    auto *window = new MainWindow(workspace.value());
    window->setAttribute(Qt::WA_DeleteOnClose);
    connect(window, &MainWindow::openWorkspaceRequested, this, [this](const QString &next) { (void)open(next); });
    MainWindow *previous = m_current;
    if (previous)
        window->setGeometry(previous->geometry());
    m_current = window;
    window->show(); // before the previous one closes: closing the last window would quit the application
    if (previous)
        previous->close(); // saves its layout; WA_DeleteOnClose deletes it
    return {};
}

} // namespace trainyard
