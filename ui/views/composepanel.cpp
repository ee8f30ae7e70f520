// The compose panel. The YAML text is the spec; the form edits its keys through applyForm, and a YAML edit
// refills the form once the text parses. m_syncing keeps the two from echoing each other.
#include "views/composepanel.h"
#include "models/statuscolors.h"

#include "launch/backendprofile.h"
#include "launch/memoryplanner.h"
#include "launch/rankenvironment.h"
#include "launch/speclaunch.h"
#include "views/offuithread.h"

#include <QMessageBox>

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QFontDatabase>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace trainyard {

namespace {

QString joinCommand(const QStringList &command)
{
    QStringList quoted;
    for (const QString &argument : command) {
        if (argument.isEmpty() || argument.contains(QRegularExpression(QStringLiteral("[\\s\"']"))))
            quoted << QLatin1Char('"') + QString(argument).replace(QLatin1Char('"'), QStringLiteral("\"\"\""))
                    + QLatin1Char('"');
        else
            quoted << argument;
    }
    return quoted.join(QLatin1Char(' '));
}

const QStringList kTypes = {QStringLiteral("int"), QStringLiteral("float"), QStringLiteral("bool"),
                            QStringLiteral("string"), QStringLiteral("choice")};

} // namespace

ComposePanel::ComposePanel(const QString &workspaceRoot, QWidget *parent)
    : QWidget(parent), m_workspaceRoot(workspaceRoot), m_templates(new QComboBox(this)), m_name(new QLineEdit(this)),
      m_command(new QLineEdit(this)), m_cwd(new QLineEdit(this)), m_backend(new QComboBox(this)),
      m_nodes(new QSpinBox(this)), m_ranks(new QSpinBox(this)), m_gpus(new QLineEdit(this)),
      m_restarts(new QSpinBox(this)), m_hangTimeout(new QDoubleSpinBox(this)), m_tags(new QLineEdit(this)),
      m_notes(new QLineEdit(this)), m_params(new QTableWidget(0, 4, this)), m_axes(new QTableWidget(0, 3, this)),
      m_samples(new QSpinBox(this)), m_randomSeed(new QSpinBox(this)), m_yaml(new QPlainTextEdit(this)),
      m_status(new QLabel(this)), m_diff(new QLabel(this)), m_plan(new QLabel(this)),
      m_launch(new QPushButton(tr("Launch"), this)), m_parseTimer(new QTimer(this))
{
    setUpFields();
    // Created in this order for the tab order: the params' buttons, the template button, the form, the axes' buttons.
    auto addParam = new QPushButton(tr("Add param"), this);
    auto removeParam = new QPushButton(tr("Remove param"), this);
    auto saveTemplateButton = new QPushButton(tr("Save as template…"), this);
    auto formHost = new QWidget(this);
    auto formColumn = new QVBoxLayout(formHost);
    formColumn->addLayout(buildFormRows());
    formColumn->addWidget(m_params, 1);
    formColumn->addLayout(paramButtonRow(addParam, removeParam));
    addSweepAxesEditor(formColumn);
    layOutPanel(formHost, saveTemplateButton);
    connectEdits();
    connectActions(addParam, removeParam, saveTemplateButton);
    refreshBackends();

    SpecForm start;
    start.command = {QStringLiteral("/usr/bin/python3"), QStringLiteral("train.py")};
    start.cwd = QDir::homePath();
    setForm(start);
    formEdited();
}

// The fields' ranges, placeholders, names (for tests and screen readers) and the YAML editor's font.
void ComposePanel::setUpFields()
{
    setObjectName(QStringLiteral("composePanel"));
    m_backend->setObjectName(QStringLiteral("specBackend"));
    m_backend->addItem(QStringLiteral("local"));
    m_backend->setToolTip(
        tr("local: this machine; or a cluster profile (Backends… in the Workspace menu, `trainyard backend add`)"));
    m_nodes->setObjectName(QStringLiteral("specNodes"));
    m_nodes->setRange(1, 4096);
    m_plan->setObjectName(QStringLiteral("specPlan"));
    m_plan->setWordWrap(true);
    m_plan->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_confirmLaunch = [this](const QString &warning) {
        return QMessageBox::warning(this, tr("The run will not fit"), warning + tr("\n\nLaunch anyway?"),
                                    QMessageBox::Yes | QMessageBox::No, QMessageBox::No)
            == QMessageBox::Yes;
    };
    m_ranks->setRange(1, 1024);
    m_restarts->setRange(0, 1000);
    m_hangTimeout->setRange(0, 7 * 24 * 3600);
    m_hangTimeout->setSuffix(QStringLiteral(" s"));
    m_command->setPlaceholderText(tr("/usr/bin/python3 train.py --epochs 10"));
    m_gpus->setPlaceholderText(tr("e.g. 0,1 (empty: none)"));
    m_tags->setPlaceholderText(tr("comma-separated"));
    m_params->setHorizontalHeaderLabels({tr("Param"), tr("Type"), tr("Value"), tr("Choices")});
    m_params->horizontalHeader()->setStretchLastSection(true);
    m_params->verticalHeader()->hide();
    m_axes->setObjectName(QStringLiteral("sweepAxes"));
    m_axes->setHorizontalHeaderLabels({tr("Sweep param"), tr("Kind"), tr("Values (a, b, c) or range (min, max)")});
    m_axes->horizontalHeader()->setStretchLastSection(true);
    m_axes->verticalHeader()->hide();
    m_axes->setToolTip(tr("Kinds: grid (every value), seeds (one run per seed), and for random search uniform, "
                          "log_uniform or int (min, max) or choice (values)"));
    m_samples->setRange(0, int(kMaxSweepRuns));
    m_samples->setPrefix(tr("random samples: "));
    m_randomSeed->setRange(0, std::numeric_limits<int>::max());
    m_randomSeed->setPrefix(tr("seed: "));
    m_yaml->setObjectName(QStringLiteral("specYaml"));
    m_yaml->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_yaml->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_status->setObjectName(QStringLiteral("specStatus"));
    m_status->setWordWrap(true);
    m_diff->setObjectName(QStringLiteral("specDiff"));
    m_diff->setWordWrap(true);
    m_diff->hide();
    m_parseTimer->setSingleShot(true);
    m_parseTimer->setInterval(250);
}

// The form's rows: the run's fields, then NCCL debugging (the spec's `nccl:` map, as the launch flags set it).
QFormLayout *ComposePanel::buildFormRows()
{
    auto formLayout = new QFormLayout;
    formLayout->addRow(tr("Name"), m_name);
    formLayout->addRow(tr("Command"), m_command);
    formLayout->addRow(tr("Working folder"), m_cwd);
    formLayout->addRow(tr("Backend"), m_backend);
    formLayout->addRow(tr("Nodes"), m_nodes);
    formLayout->addRow(tr("Ranks per node"), m_ranks);
    formLayout->addRow(tr("GPUs"), m_gpus);
    formLayout->addRow(tr("Max restarts"), m_restarts);
    formLayout->addRow(tr("Hang timeout"), m_hangTimeout);
    formLayout->addRow(tr("Tags"), m_tags);
    formLayout->addRow(tr("Notes"), m_notes);

    m_ncclDebug = new QComboBox(this);
    m_ncclDebug->setObjectName(QStringLiteral("ncclDebug"));
    m_ncclDebug->addItems({tr("off"), QStringLiteral("VERSION"), QStringLiteral("WARN"), QStringLiteral("INFO"),
                           QStringLiteral("TRACE")});
    m_ncclDebug->setToolTip(
        tr("NCCL_DEBUG, with each rank's output in nccl.rank<N>.log in the run folder (NCCL_DEBUG_FILE)"));
    m_ncclSubsystems = new QLineEdit(this);
    m_ncclSubsystems->setObjectName(QStringLiteral("ncclSubsystems"));
    m_ncclSubsystems->setPlaceholderText(tr("NCCL_DEBUG_SUBSYS, e.g. INIT,COLL"));
    m_ncclAsyncErrorHandling = new QComboBox(this);
    m_ncclAsyncErrorHandling->setObjectName(QStringLiteral("ncclAsyncErrorHandling"));
    m_ncclAsyncErrorHandling->addItems(
        {tr("not set"), QStringLiteral("0"), QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("3")});
    m_ncclAsyncErrorHandling->setToolTip(
        tr("TORCH_NCCL_ASYNC_ERROR_HANDLING: 0 off, 1 tear down on errors, 2 clean up only, 3 skip clean-up"));
    m_ncclTraceBufferSize = new QSpinBox(this);
    m_ncclTraceBufferSize->setObjectName(QStringLiteral("ncclTraceBufferSize"));
    m_ncclTraceBufferSize->setRange(-1, 10000000);
    m_ncclTraceBufferSize->setSpecialValueText(tr("not set"));
    m_ncclTraceBufferSize->setValue(-1);
    m_ncclTraceBufferSize->setToolTip(tr("TORCH_NCCL_TRACE_BUFFER_SIZE: collectives kept for the flight recorder"));
    m_ncclP2pDisable = new QCheckBox(QStringLiteral("NCCL_P2P_DISABLE"), this);
    m_ncclP2pDisable->setObjectName(QStringLiteral("ncclP2pDisable"));
    m_ncclIbDisable = new QCheckBox(QStringLiteral("NCCL_IB_DISABLE"), this);
    m_ncclIbDisable->setObjectName(QStringLiteral("ncclIbDisable"));
    m_ncclSocketIfname = new QLineEdit(this);
    m_ncclSocketIfname->setObjectName(QStringLiteral("ncclSocketIfname"));
    m_ncclSocketIfname->setPlaceholderText(tr("NCCL_SOCKET_IFNAME, e.g. eth0 or ^docker"));
    auto ncclLevelRow = new QHBoxLayout;
    ncclLevelRow->addWidget(m_ncclDebug);
    ncclLevelRow->addWidget(m_ncclSubsystems, 1);
    auto ncclTorchRow = new QHBoxLayout;
    ncclTorchRow->addWidget(new QLabel(tr("async errors"), this));
    ncclTorchRow->addWidget(m_ncclAsyncErrorHandling);
    ncclTorchRow->addWidget(new QLabel(tr("trace buffer"), this));
    ncclTorchRow->addWidget(m_ncclTraceBufferSize);
    ncclTorchRow->addStretch(1);
    auto ncclTransportRow = new QHBoxLayout;
    ncclTransportRow->addWidget(m_ncclP2pDisable);
    ncclTransportRow->addWidget(m_ncclIbDisable);
    ncclTransportRow->addWidget(m_ncclSocketIfname, 1);
    formLayout->addRow(tr("NCCL debug"), ncclLevelRow);
    formLayout->addRow(tr("Torch NCCL"), ncclTorchRow);
    formLayout->addRow(tr("NCCL transport"), ncclTransportRow);
    return formLayout;
}

QHBoxLayout *ComposePanel::paramButtonRow(QPushButton *addParam, QPushButton *removeParam)
{
    auto paramButtons = new QHBoxLayout;
    paramButtons->addWidget(addParam);
    paramButtons->addWidget(removeParam);
    paramButtons->addStretch();
    return paramButtons;
}

// The sweep axes table, its buttons and the random search's sample count and seed.
void ComposePanel::addSweepAxesEditor(QVBoxLayout *formColumn)
{
    auto addAxis = new QPushButton(tr("Add sweep axis"), this);
    auto removeAxis = new QPushButton(tr("Remove axis"), this);
    auto axisButtons = new QHBoxLayout;
    axisButtons->addWidget(addAxis);
    axisButtons->addWidget(removeAxis);
    axisButtons->addWidget(m_samples);
    axisButtons->addWidget(m_randomSeed);
    axisButtons->addStretch();
    formColumn->addWidget(m_axes, 1);
    formColumn->addLayout(axisButtons);
    connect(addAxis, &QPushButton::clicked, this, [this] {
        const QSignalBlocker block(m_axes);
        const int row = m_axes->rowCount();
        m_axes->insertRow(row);
        m_axes->setItem(row, 0,
                        new QTableWidgetItem(m_params->rowCount() && m_params->item(0, 0) ? m_params->item(0, 0)->text()
                                                                                          : QStringLiteral("lr")));
        m_axes->setItem(row, 1, new QTableWidgetItem(QStringLiteral("grid")));
        m_axes->setItem(row, 2, new QTableWidgetItem(QString()));
    });
    connect(removeAxis, &QPushButton::clicked, this, [this] {
        if (m_axes->currentRow() >= 0) {
            m_axes->removeRow(m_axes->currentRow());
            formEdited();
        }
    });
    connect(m_axes, &QTableWidget::itemChanged, this, &ComposePanel::formEdited);
    connect(m_samples, &QSpinBox::valueChanged, this, &ComposePanel::formEdited);
    connect(m_randomSeed, &QSpinBox::valueChanged, this, &ComposePanel::formEdited);
}

// Templates on top, the form beside the YAML, then the change summary, the memory plan, the status and Launch.
void ComposePanel::layOutPanel(QWidget *formHost, QPushButton *saveTemplateButton)
{
    m_templates->addItem(tr("Templates…"));
    m_templates->addItems(templateNames());
    auto splitter = new QSplitter(this);
    splitter->addWidget(formHost);
    splitter->addWidget(m_yaml);
    auto top = new QHBoxLayout;
    top->addWidget(m_templates);
    top->addWidget(saveTemplateButton);
    top->addStretch();
    auto bottom = new QHBoxLayout;
    bottom->addWidget(m_status, 1);
    bottom->addWidget(m_launch);
    auto layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_diff);
    layout->addWidget(m_plan);
    layout->addLayout(bottom);
}

// Every edit of the form rewrites the YAML; an edit of the YAML is parsed after a pause.
void ComposePanel::connectEdits()
{
    for (QLineEdit *edit : {m_name, m_command, m_cwd, m_gpus, m_tags, m_notes, m_ncclSubsystems, m_ncclSocketIfname})
        connect(edit, &QLineEdit::textEdited, this, &ComposePanel::formEdited);
    for (QComboBox *box : {m_ncclDebug, m_ncclAsyncErrorHandling})
        connect(box, &QComboBox::activated, this, &ComposePanel::formEdited);
    for (QCheckBox *box : {m_ncclP2pDisable, m_ncclIbDisable})
        connect(box, &QCheckBox::clicked, this, &ComposePanel::formEdited);
    connect(m_ncclTraceBufferSize, &QSpinBox::valueChanged, this, &ComposePanel::formEdited);
    connect(m_ranks, &QSpinBox::valueChanged, this, &ComposePanel::formEdited);
    connect(m_nodes, &QSpinBox::valueChanged, this, &ComposePanel::formEdited);
    connect(m_backend, &QComboBox::activated, this, &ComposePanel::formEdited);
    connect(m_restarts, &QSpinBox::valueChanged, this, &ComposePanel::formEdited);
    connect(m_hangTimeout, &QDoubleSpinBox::valueChanged, this, &ComposePanel::formEdited);
    connect(m_params, &QTableWidget::itemChanged, this, &ComposePanel::formEdited);
    connect(m_yaml, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_syncing)
            m_parseTimer->start();
    });
    connect(m_parseTimer, &QTimer::timeout, this, &ComposePanel::yamlEdited);
}

void ComposePanel::connectActions(QPushButton *addParam, QPushButton *removeParam, QPushButton *saveTemplateButton)
{
    connect(addParam, &QPushButton::clicked, this, [this] {
        const QSignalBlocker block(m_params);
        const int row = m_params->rowCount();
        m_params->insertRow(row);
        m_params->setItem(row, 0, new QTableWidgetItem(QStringLiteral("param%1").arg(row + 1)));
        m_params->setItem(row, 1, new QTableWidgetItem(QStringLiteral("string")));
        m_params->setItem(row, 2, new QTableWidgetItem(QString()));
        m_params->setItem(row, 3, new QTableWidgetItem(QString()));
        formEdited();
    });
    connect(removeParam, &QPushButton::clicked, this, [this] {
        if (m_params->currentRow() >= 0) {
            m_params->removeRow(m_params->currentRow());
            formEdited();
        }
    });
    connect(saveTemplateButton, &QPushButton::clicked, this, [this] {
        const QString name = QInputDialog::getText(this, tr("Save as template"), tr("Template name:"),
                                                   QLineEdit::Normal, m_name->text());
        if (!name.isEmpty())
            saveTemplate(name);
    });
    connect(m_templates, &QComboBox::activated, this, [this](int index) {
        if (index > 0)
            loadTemplate(m_templates->itemText(index));
        m_templates->setCurrentIndex(0);
    });
    connect(m_launch, &QPushButton::clicked, this, [this] {
        if (!m_spec)
            return;
        // A plan that does not fit is worth a second thought before GPU-hours are spent on an OOM.
        if (!m_planFits && !m_confirmLaunch(m_plan->text()))
            return;
        emit launchRequested(*m_spec, m_yaml->toPlainText().toUtf8());
    });
}

SpecForm ComposePanel::form() const
{
    SpecForm form;
    form.name = m_name->text().trimmed();
    form.command = QProcess::splitCommand(m_command->text());
    form.cwd = m_cwd->text().trimmed();
    form.backend = m_backend->currentText();
    form.nodes = m_nodes->value();
    form.ranksPerNode = m_ranks->value();
    form.gpus = parseGpuList(m_gpus->text()).value_or(QList<int>{});
    form.maxRestarts = m_restarts->value();
    form.hangTimeoutS = m_hangTimeout->value();
    for (const QString &tag : m_tags->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
        form.tags << tag.trimmed();
    form.notes = m_notes->text().trimmed();
    form.nccl.level = m_ncclDebug->currentIndex() > 0 ? m_ncclDebug->currentText() : QString();
    form.nccl.subsystems = m_ncclSubsystems->text().trimmed();
    form.nccl.asyncErrorHandling = m_ncclAsyncErrorHandling->currentIndex() - 1; // "not set" is -1
    form.nccl.traceBufferSize = m_ncclTraceBufferSize->value();
    form.nccl.p2pDisable = m_ncclP2pDisable->isChecked();
    form.nccl.ibDisable = m_ncclIbDisable->isChecked();
    form.nccl.socketIfname = m_ncclSocketIfname->text().trimmed();
    for (int row = 0; row < m_params->rowCount(); ++row) {
        const auto text = [&](int column) {
            return m_params->item(row, column) ? m_params->item(row, column)->text().trimmed() : QString();
        };
        if (text(0).isEmpty())
            continue;
        RunParam param;
        param.name = text(0);
        param.type = ParamType(std::max<qsizetype>(0, kTypes.indexOf(text(1).toLower())));
        param.value = text(2);
        for (const QString &choice : text(3).split(QLatin1Char(','), Qt::SkipEmptyParts))
            param.choices << choice.trimmed();
        form.params << param;
    }
    // Sweep axes: an axis with no values yet is left out until it has some.
    form.sweep.samples = m_samples->value();
    form.sweep.randomSeed = std::uint64_t(m_randomSeed->value());
    for (int row = 0; row < m_axes->rowCount(); ++row) {
        const auto text = [&](int column) {
            return m_axes->item(row, column) ? m_axes->item(row, column)->text().trimmed() : QString();
        };
        QStringList values;
        for (const QString &value : text(2).split(QLatin1Char(','), Qt::SkipEmptyParts))
            values << value.trimmed();
        const QString param = text(0), kind = text(1).toLower();
        if (param.isEmpty() || values.isEmpty())
            continue;
        if (kind == u"grid") {
            form.sweep.grid << qMakePair(param, values);
        } else if (kind == u"seeds") {
            form.sweep.seedParam = param;
            form.sweep.seeds = values;
        } else if (kind == u"choice") {
            form.sweep.random << RandomAxis{param, RandomAxis::Distribution::Choice, 0, 1, values};
        } else {
            const QStringList kinds{QStringLiteral("uniform"), QStringLiteral("log_uniform"), QStringLiteral("int")};
            RandomAxis axis{param, RandomAxis::Distribution(std::max<qsizetype>(0, kinds.indexOf(kind))), 0, 1, {}};
            axis.min = values.value(0).toDouble();
            axis.max = values.value(1).toDouble();
            axis.minInt = values.value(0).toLongLong();
            axis.maxInt = values.value(1).toLongLong();
            form.sweep.random << axis;
        }
    }
    if (form.sweep.random.isEmpty())
        form.sweep.samples = 0; // samples of nothing: no random search
    return form;
}

void ComposePanel::setForm(const SpecForm &form)
{
    const bool wasSyncing = m_syncing;
    m_syncing = true;
    const QSignalBlocker blockParams(m_params);
    m_name->setText(form.name);
    m_command->setText(joinCommand(form.command));
    m_cwd->setText(form.cwd);
    {
        const QSignalBlocker blockBackend(m_backend);
        const QSignalBlocker blockNodes(m_nodes);
        if (m_backend->findText(form.backend) < 0)
            m_backend->addItem(form.backend); // a profile not loaded (yet): launching names it anyway
        m_backend->setCurrentText(form.backend);
        m_nodes->setValue(form.nodes);
    }
    m_ranks->setValue(form.ranksPerNode);
    QStringList gpus;
    for (int gpu : form.gpus)
        gpus << QString::number(gpu);
    m_gpus->setText(gpus.join(QLatin1Char(',')));
    m_restarts->setValue(form.maxRestarts);
    m_hangTimeout->setValue(form.hangTimeoutS);
    m_tags->setText(form.tags.join(QStringLiteral(", ")));
    m_notes->setText(form.notes);
    m_ncclDebug->setCurrentIndex(std::max(0, m_ncclDebug->findText(form.nccl.level)));
    m_ncclSubsystems->setText(form.nccl.subsystems);
    m_ncclAsyncErrorHandling->setCurrentIndex(
        std::clamp(form.nccl.asyncErrorHandling + 1, 0, m_ncclAsyncErrorHandling->count() - 1));
    m_ncclTraceBufferSize->setValue(form.nccl.traceBufferSize);
    m_ncclP2pDisable->setChecked(form.nccl.p2pDisable);
    m_ncclIbDisable->setChecked(form.nccl.ibDisable);
    m_ncclSocketIfname->setText(form.nccl.socketIfname);
    m_params->setRowCount(int(form.params.size()));
    for (int row = 0; row < form.params.size(); ++row) {
        const RunParam &param = form.params[row];
        m_params->setItem(row, 0, new QTableWidgetItem(param.name));
        m_params->setItem(row, 1, new QTableWidgetItem(paramTypeName(param.type)));
        m_params->setItem(row, 2, new QTableWidgetItem(param.value));
        m_params->setItem(row, 3, new QTableWidgetItem(param.choices.join(QStringLiteral(", "))));
    }
    const QSignalBlocker blockAxes(m_axes);
    const QSignalBlocker blockSamples(m_samples);
    const QSignalBlocker blockSeed(m_randomSeed);
    m_axes->setRowCount(0);
    const auto addAxisRow = [this](const QString &param, const QString &kind, const QString &values) {
        const int row = m_axes->rowCount();
        m_axes->insertRow(row);
        m_axes->setItem(row, 0, new QTableWidgetItem(param));
        m_axes->setItem(row, 1, new QTableWidgetItem(kind));
        m_axes->setItem(row, 2, new QTableWidgetItem(values));
    };
    for (const auto &[param, values] : form.sweep.grid)
        addAxisRow(param, QStringLiteral("grid"), values.join(QStringLiteral(", ")));
    static const char *const kKinds[] = {"uniform", "log_uniform", "int", "choice"};
    for (const RandomAxis &axis : form.sweep.random)
        addAxisRow(axis.param, QLatin1String(kKinds[int(axis.distribution)]),
                   axis.distribution == RandomAxis::Distribution::Choice
                       ? axis.choices.join(QStringLiteral(", "))
                       : QStringLiteral("%1, %2").arg(axis.min).arg(axis.max));
    if (!form.sweep.seeds.isEmpty())
        addAxisRow(form.sweep.seedParam, QStringLiteral("seeds"), form.sweep.seeds.join(QStringLiteral(", ")));
    m_samples->setValue(form.sweep.samples);
    m_randomSeed->setValue(
        int(std::min<std::uint64_t>(form.sweep.randomSeed, std::uint64_t(std::numeric_limits<int>::max()))));
    m_syncing = wasSyncing;
}

QString ComposePanel::yaml() const { return m_yaml->toPlainText(); }

void ComposePanel::setYaml(const QString &yaml)
{
    m_yaml->setPlainText(yaml);
    m_parseTimer->stop();
    yamlEdited();
}

void ComposePanel::formEdited()
{
    if (m_syncing)
        return;
    auto yaml = applyForm(m_yaml->toPlainText().toUtf8(), form());
    if (!yaml) {
        // The YAML side does not parse: the form cannot be written into it until it does.
        m_error = tr("The YAML does not parse (%1); fix it before editing the form.").arg(yaml.error());
        m_status->setText(m_error);
        return;
    }
    m_syncing = true;
    m_yaml->setPlainText(QString::fromUtf8(yaml.value()));
    m_syncing = false;
    validate();
}

void ComposePanel::yamlEdited()
{
    validate();
    if (m_spec) {
        m_syncing = true;
        setForm(formFromSpec(*m_spec));
        m_syncing = false;
    }
}

void ComposePanel::validate()
{
    const QString base = m_cwd->text().isEmpty() ? QDir::homePath() : m_cwd->text();
    auto parsed = parseRunSpec(m_yaml->toPlainText().toUtf8(), QStringLiteral("spec"), base);
    if (!parsed) {
        m_spec.reset();
        // "spec:3:14: message" reads better here as "line 3, column 14: message".
        QString message = parsed.error();
        const QRegularExpression position(QStringLiteral("^spec:(\\d+):(\\d+): "));
        if (const auto match = position.match(message); match.hasMatch())
            message = tr("Line %1, column %2: %3")
                          .arg(match.captured(1), match.captured(2), message.mid(match.capturedLength()));
        m_error = message;
        m_status->setText(message);
        m_status->setStyleSheet(textColorStyle(errorTextColor()));
        m_launch->setEnabled(false);
        return;
    }
    m_spec = parsed.value();
    if (m_spec->backend != QLatin1String("local") && m_backend->findText(m_spec->backend) < 0) {
        const QSignalBlocker block(m_backend);
        m_backend->addItem(m_spec->backend);
    }
    m_error.clear();
    const qint64 runs = m_spec->sweep.isEmpty() ? 1 : m_spec->sweep.runCount();
    m_status->setText(runs == 1 ? tr("Valid: one run.")
                                : tr("Valid: a sweep of %1 runs (queued on Launch).").arg(runs));
    m_status->setStyleSheet(textColorStyle(goodTextColor()));
    m_launch->setEnabled(true);
    m_launch->setText(runs == 1 ? tr("Launch") : tr("Queue %1 runs").arg(runs));
    updatePlan();
    if (m_parent) {
        m_changed = changedFields(*m_parent, *m_spec);
        m_diff->setText(m_changed.isEmpty()
                            ? tr("Same as %1 so far.").arg(m_parentId)
                            : tr("Changed from %1: %2").arg(m_parentId, m_changed.join(QStringLiteral(", "))));
        m_diff->show();
    }
}

// The planner is arithmetic on a handful of numbers: cheap enough to run on every edit.
void ComposePanel::updatePlan()
{
    m_planFits = true;
    const auto input = m_spec ? planInputFor(*m_spec) : std::nullopt;
    if (!input) {
        m_plan->setText(
            tr("Memory plan: add a 'model:' section (params: 7B, or layers/hidden/heads/vocab/seq_len/micro_batch; "
               "gpu_memory: 80GiB) to see bytes per GPU under this strategy."));
        m_plan->setStyleSheet(QString());
        return;
    }
    const MemoryPlan plan = planMemory(*input);
    QString text =
        tr("Memory per GPU under %1 on %2 node(s) x %3 rank(s): %4 (params %5, grads %6, optimizer %7, activations %8, "
           "overhead %9)")
            .arg(strategyName(input->strategy))
            .arg(input->nodes)
            .arg(input->ranksPerNode)
            .arg(formatBytes(plan.total), formatBytes(plan.parameters), formatBytes(plan.gradients),
                 formatBytes(plan.optimizerState),
                 plan.activationsEstimated ? formatBytes(plan.activations) : tr("not estimated without a shape"),
                 formatBytes(plan.overhead));
    if (plan.capacity <= 0) {
        m_plan->setText(text + tr(". Give model.gpu_memory for a verdict."));
        m_plan->setStyleSheet(QString());
        return;
    }
    m_planFits = plan.fits;
    if (plan.fits) {
        text += tr(" of %1: fits.").arg(formatBytes(plan.capacity));
    } else {
        text += tr(" of %1: will NOT fit.").arg(formatBytes(plan.capacity));
        text += plan.leastShardedFit
            ? tr(" The least-sharded strategy that fits: %1.").arg(*plan.leastShardedFit)
            : tr(" No strategy fits on these GPUs: add nodes or GPUs, or shrink the micro-batch.");
    }
    m_plan->setText(text);
    m_plan->setStyleSheet(plan.fits ? textColorStyle(goodTextColor())
                                    : textColorStyle(errorTextColor()) + QStringLiteral("; font-weight: bold"));
}

QString ComposePanel::planText() const { return m_plan->text(); }

void ComposePanel::refreshBackends()
{
    const QString root = m_workspaceRoot;
    runOffUiThread(
        this,
        [root] {
            QStringList names;
            if (auto profiles = loadBackendProfiles(root)) {
                for (const BackendProfile &profile : *profiles)
                    names << profile.name;
            }
            return names;
        },
        [this](const QStringList &names) {
            const QString current = m_backend->currentText();
            const QSignalBlocker block(m_backend);
            m_backend->clear();
            m_backend->addItem(QStringLiteral("local"));
            m_backend->addItems(names);
            if (m_backend->findText(current) < 0)
                m_backend->addItem(current);
            m_backend->setCurrentText(current);
            emit backendsLoaded();
        });
}

QString ComposePanel::validationMessage() const { return m_spec ? m_status->text() : m_error; }

void ComposePanel::cloneFrom(const QString &parentRunId, const QByteArray &parentYaml)
{
    m_parentId = parentRunId;
    auto parent = parseRunSpec(parentYaml, QStringLiteral("spec"), QDir::homePath());
    if (parent)
        m_parent = parent.value();
    else
        m_parent.reset();
    setYaml(QString::fromUtf8(parentYaml));
}

QString ComposePanel::resumeFrom(const QString &parentRunId, const QByteArray &parentYaml, std::int64_t step,
                                 const QString &parentName)
{
    auto forked =
        forkSpec(parentYaml, ResumePoint{parentRunId, step}, {}, QStringLiteral("%1@%2").arg(parentName).arg(step));
    if (!forked)
        return forked.error();
    cloneFrom(parentRunId, parentYaml);
    setYaml(QString::fromUtf8(*forked));
    return {};
}

QString ComposePanel::templatesDir() const { return m_workspaceRoot + QStringLiteral("/templates"); }

QStringList ComposePanel::templateNames() const
{
    QStringList names;
    for (const QString &file : QDir(templatesDir()).entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name))
        names << file.chopped(5);
    return names;
}

bool ComposePanel::saveTemplate(const QString &name)
{
    const QString safe =
        QString(name).replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("_"));
    if (!QDir().mkpath(templatesDir()))
        return false;
    QFile file(templatesDir() + QLatin1Char('/') + safe + QStringLiteral(".yaml"));
    if (!file.open(QIODevice::WriteOnly) || file.write(m_yaml->toPlainText().toUtf8()) < 0)
        return false;
    if (m_templates->findText(safe) < 0)
        m_templates->addItem(safe);
    return true;
}

bool ComposePanel::loadTemplate(const QString &name)
{
    QFile file(templatesDir() + QLatin1Char('/') + name + QStringLiteral(".yaml"));
    if (!file.open(QIODevice::ReadOnly))
        return false;
    setYaml(QString::fromUtf8(file.readAll()));
    return true;
}

} // namespace trainyard
