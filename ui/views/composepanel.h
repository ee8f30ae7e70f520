// ComposePanel: a run spec as a form and as YAML side by side, kept in sync both ways and checked as
// you type; templates saved in the workspace; "clone with changes" from any run, showing what differs
// from the parent; one Launch button (a spec with a sweep queues its runs).
#pragma once

#include "spec/runspec.h"
#include "spec/specedit.h"

#include <QWidget>

#include <functional>
#include <optional>

class QDoubleSpinBox;
class QFormLayout;
class QHBoxLayout;
class QVBoxLayout;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace trainyard {

class ComposePanel : public QWidget {
    Q_OBJECT
public:
    ComposePanel(const QString &workspaceRoot, QWidget *parent = nullptr);

    SpecForm form() const;
    void setForm(const SpecForm &form);
    QString yaml() const;
    void setYaml(const QString &yaml); // as if typed: the form follows once it parses
    // Starts from a run's spec ("clone with changes"): differences from it are shown as you edit.
    void cloneFrom(const QString &parentRunId, const QByteArray &parentYaml);
    // "Resume from here…": the run's spec with `resume_from: RUN@STEP` set, as a clone of it (change the params, then
    // Launch: the new run is its child). Returns why the spec cannot be forked, empty when it was.
    QString resumeFrom(const QString &parentRunId, const QByteArray &parentYaml, std::int64_t step,
                       const QString &parentName);

    // The spec as it stands, or the error (with its line and column) when it does not parse.
    const std::optional<RunSpec> &spec() const { return m_spec; }
    QString validationMessage() const;
    QStringList changedFromParent() const { return m_changed; }

    QStringList templateNames() const;
    bool saveTemplate(const QString &name);
    bool loadTemplate(const QString &name);

    QPlainTextEdit *yamlEdit() const { return m_yaml; }
    QTableWidget *paramsTable() const { return m_params; }
    // Sweep axes: param, kind (grid, uniform, log_uniform, int, choice, seeds), values ("a, b, c" or "min, max").
    QTableWidget *axesTable() const { return m_axes; }
    QSpinBox *samplesBox() const { return m_samples; }
    QPushButton *launchButton() const { return m_launch; }
    QComboBox *backendBox() const { return m_backend; }
    QSpinBox *nodesBox() const { return m_nodes; }
    QSpinBox *ranksBox() const { return m_ranks; }
    // The memory plan of the spec's `model:` section under its strategy and resources, live; empty without one.
    QString planText() const;
    bool planFits() const { return m_planFits; }
    // Asked before launching a run whose plan does not fit (default: a warning dialog); true launches anyway.
    void setLaunchConfirmation(std::function<bool(const QString &warning)> confirm)
    {
        m_confirmLaunch = std::move(confirm);
    }
    // Reloads the backend choices (local and the workspace's profiles) off the UI thread.
    void refreshBackends();

signals:
    void backendsLoaded();

    void launchRequested(const trainyard::RunSpec &spec, const QByteArray &yaml);

private:
    // The constructor's parts.
    void setUpFields();
    QFormLayout *buildFormRows();
    QHBoxLayout *paramButtonRow(QPushButton *addParam, QPushButton *removeParam);
    void addSweepAxesEditor(QVBoxLayout *formColumn);
    void layOutPanel(QWidget *formHost, QPushButton *saveTemplateButton);
    void connectEdits();
    void connectActions(QPushButton *addParam, QPushButton *removeParam, QPushButton *saveTemplateButton);

    void formEdited();
    void yamlEdited();
    void validate();
    void updatePlan();
    QString templatesDir() const;

    QString m_workspaceRoot;
    bool m_syncing = false;
    std::optional<RunSpec> m_spec;
    QString m_error;
    std::optional<RunSpec> m_parent;
    QString m_parentId;
    QStringList m_changed;

    QComboBox *m_templates;
    QLineEdit *m_name;
    QLineEdit *m_command;
    QLineEdit *m_cwd;
    QComboBox *m_backend;
    QSpinBox *m_nodes;
    QSpinBox *m_ranks;
    QLineEdit *m_gpus;
    QSpinBox *m_restarts;
    QDoubleSpinBox *m_hangTimeout;
    QLineEdit *m_tags;
    QLineEdit *m_notes;
    // The spec's `nccl:` switches (docs/USER_GUIDE.md, launch options).
    QComboBox *m_ncclDebug = nullptr;
    QLineEdit *m_ncclSubsystems = nullptr;
    QComboBox *m_ncclAsyncErrorHandling = nullptr;
    QSpinBox *m_ncclTraceBufferSize = nullptr;
    QCheckBox *m_ncclP2pDisable = nullptr;
    QCheckBox *m_ncclIbDisable = nullptr;
    QLineEdit *m_ncclSocketIfname = nullptr;
    QTableWidget *m_params;
    QTableWidget *m_axes;
    QSpinBox *m_samples;
    QSpinBox *m_randomSeed;
    QPlainTextEdit *m_yaml;
    QLabel *m_status;
    QLabel *m_diff;
    QLabel *m_plan;
    bool m_planFits = true;
    std::function<bool(const QString &)> m_confirmLaunch;
    QPushButton *m_launch;
    QTimer *m_parseTimer;
};

} // namespace trainyard
