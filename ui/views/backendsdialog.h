// BackendsDialog: the workspace's cluster profiles (backends.yaml): list, add, edit, remove, and test one
// against its slurmrestd. Every file and network access runs off the UI thread.
#pragma once

#include "launch/backendprofile.h"

#include <QDialog>

#include <optional>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QTableWidget;

namespace trainyard {

// The form of one profile. A pasted token is kept in <workspace>/tokens/NAME.token (mode 0600) on save.
class BackendEditor : public QDialog {
    Q_OBJECT
public:
    explicit BackendEditor(const BackendProfile &profile, QWidget *parent = nullptr);

    BackendProfile profile() const;
    QByteArray pastedToken() const;
    // Empty when the form is complete; else what to fix.
    QString problem(const QString &workspaceRoot) const;

    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *urlEdit() const { return m_url; }
    QLineEdit *userEdit() const { return m_user; }
    QLineEdit *tokenFileEdit() const { return m_tokenFile; }
    QLineEdit *tokenEdit() const { return m_token; }
    QLineEdit *partitionEdit() const { return m_partition; }
    QPlainTextEdit *sbatchEdit() const { return m_sbatch; }

private:
    BackendProfile m_original;
    QLineEdit *m_name, *m_url, *m_user, *m_tokenFile, *m_token, *m_partition, *m_account, *m_trainyard;
    QSpinBox *m_timeLimit, *m_cpus, *m_gpus;
    QPlainTextEdit *m_sbatch, *m_env;
};

class BackendsDialog : public QDialog {
    Q_OBJECT
public:
    explicit BackendsDialog(const QString &workspaceRoot, QWidget *parent = nullptr);

    QTableWidget *table() const { return m_table; }
    QString statusText() const;
    const QList<BackendProfile> &profiles() const { return m_profiles; }

    void reload();
    // Writes the profile (and a pasted token) and reloads; `replacing` names the profile it was edited from.
    void save(const BackendProfile &profile, const QByteArray &pastedToken, const QString &replacing = {});
    void remove(const QString &name);
    // Pings the profile's slurmrestd with its token; the answer lands in the status line.
    void test(const QString &name);

signals:
    void profilesLoaded();
    void statusChanged(const QString &text);

private:
    void showStatus(const QString &text, bool good);
    void editRow(int row);

    QString m_workspaceRoot;
    QList<BackendProfile> m_profiles;
    QTableWidget *m_table;
    QLabel *m_status;
};

} // namespace trainyard
