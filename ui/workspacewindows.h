// WorkspaceWindows: the window of the open workspace, replaced by another workspace's window when the user opens one
// (File > Open workspace…, New workspace…, Recent workspaces), in the running application, without a restart.
#pragma once

#include "result.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <memory>

namespace trainyard {

class MainWindow;

class WorkspaceWindows : public QObject {
    Q_OBJECT
public:
    explicit WorkspaceWindows(QObject *parent = nullptr);
    ~WorkspaceWindows() override;

    // Opens the workspace at `root` (creating it in an empty folder) in a new window, which replaces the current one.
    // When it cannot be opened, the current window stays and says why; so it does when the user keeps it because
    // runs launched from it are still active (closing it cancels them).
    Result<void> open(const QString &root);
    MainWindow *current() const { return m_current; }

    // Asked before a window with active runs is replaced (how many); true replaces it. A dialog by default.
    void setConfirmReplace(std::function<bool(int activeRuns)> confirm) { m_confirmReplace = std::move(confirm); }

private:
    QPointer<MainWindow> m_current;
    std::function<bool(int)> m_confirmReplace;
};

} // namespace trainyard
