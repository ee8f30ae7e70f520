// NewRunDialog: "New local run": a command on N ranks, with the launch options of `trainyard launch`.
#pragma once

#include "launch/runsupervisor.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace trainyard {

class NewRunDialog : public QDialog {
    Q_OBJECT
public:
    explicit NewRunDialog(QWidget *parent = nullptr);

    // The launch described by the form, or an error naming the field that is wrong.
    Result<LocalLaunch> launch() const;

    void setCommand(const QString &command);
    void setRanks(int ranks);
    void setName(const QString &name);

private:
    void validate();

    QLineEdit *m_name;
    QLineEdit *m_command;
    QLineEdit *m_workingFolder;
    QSpinBox *m_ranks;
    QLineEdit *m_gpus;
    QSpinBox *m_maxRestarts;
    QDoubleSpinBox *m_hangTimeout;
    QDoubleSpinBox *m_grace;
    QLineEdit *m_tags;
    QPlainTextEdit *m_env;
    QComboBox *m_strategy;
    QComboBox *m_ncclDebug;
    QCheckBox *m_ncclP2pDisable;
    QCheckBox *m_ncclIbDisable;
    QLabel *m_problem;
    QDialogButtonBox *m_buttons;
};

} // namespace trainyard
