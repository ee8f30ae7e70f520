// The form validates as you type and only enables Launch when the launch it describes is valid.
#include "views/newrundialog.h"
#include "models/statuscolors.h"

#include "launch/rankenvironment.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace trainyard {

NewRunDialog::NewRunDialog(QWidget *parent)
    : QDialog(parent), m_name(new QLineEdit(this)), m_command(new QLineEdit(this)),
      m_workingFolder(new QLineEdit(QDir::currentPath(), this)), m_ranks(new QSpinBox(this)),
      m_gpus(new QLineEdit(this)), m_maxRestarts(new QSpinBox(this)), m_hangTimeout(new QDoubleSpinBox(this)),
      m_grace(new QDoubleSpinBox(this)), m_tags(new QLineEdit(this)), m_env(new QPlainTextEdit(this)),
      m_strategy(new QComboBox(this)), m_ncclDebug(new QComboBox(this)),
      m_ncclP2pDisable(new QCheckBox(tr("NCCL_P2P_DISABLE"), this)),
      m_ncclIbDisable(new QCheckBox(tr("NCCL_IB_DISABLE"), this)), m_problem(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("New local run"));
    setObjectName(QStringLiteral("newRunDialog"));
    m_command->setPlaceholderText(
        tr("/usr/bin/python3 train.py --lr 3e-4   (quote arguments with spaces in \"double quotes\")"));
    m_name->setPlaceholderText(tr("(the run id)"));
    m_gpus->setObjectName(QStringLiteral("gpus"));
    m_ranks->setRange(1, 1024);
    m_gpus->setPlaceholderText(tr("e.g. 0,2 (empty: CPU ranks or inherited CUDA_VISIBLE_DEVICES)"));
    m_maxRestarts->setRange(0, 100);
    m_hangTimeout->setRange(0, 7 * 24 * 3600);
    m_hangTimeout->setSpecialValueText(tr("off"));
    m_hangTimeout->setSuffix(tr(" s"));
    m_grace->setRange(0, 3600);
    m_grace->setValue(5);
    m_grace->setSuffix(tr(" s"));
    m_tags->setPlaceholderText(tr("comma-separated"));
    m_env->setPlaceholderText(tr("KEY=VALUE, one per line"));
    m_env->setMaximumHeight(80);
    m_strategy->setObjectName(QStringLiteral("strategy"));
    for (ShardingStrategy strategy :
         {ShardingStrategy::Ddp, ShardingStrategy::Zero1, ShardingStrategy::Zero2, ShardingStrategy::Zero3,
          ShardingStrategy::FsdpFullShard, ShardingStrategy::FsdpShardGradOp, ShardingStrategy::FsdpHybridShard})
        m_strategy->addItem(strategyName(strategy), int(strategy));
    m_ncclDebug->setObjectName(QStringLiteral("ncclDebug"));
    m_ncclDebug->addItems({tr("off"), QStringLiteral("VERSION"), QStringLiteral("WARN"), QStringLiteral("INFO"),
                           QStringLiteral("TRACE")});
    m_problem->setStyleSheet(textColorStyle(errorTextColor()));
    m_problem->setWordWrap(true);

    auto form = new QFormLayout;
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Command"), m_command);
    form->addRow(tr("Working folder"), m_workingFolder);
    form->addRow(tr("Ranks"), m_ranks);
    form->addRow(tr("GPUs"), m_gpus);
    form->addRow(tr("Max restarts"), m_maxRestarts);
    form->addRow(tr("Hang timeout"), m_hangTimeout);
    form->addRow(tr("Grace period"), m_grace);
    form->addRow(tr("Tags"), m_tags);
    form->addRow(tr("Environment"), m_env);
    form->addRow(tr("Strategy"), m_strategy);
    auto ncclRow = new QHBoxLayout;
    ncclRow->addWidget(m_ncclDebug);
    ncclRow->addWidget(m_ncclP2pDisable);
    ncclRow->addWidget(m_ncclIbDisable);
    ncclRow->addStretch(1);
    form->addRow(tr("NCCL debug"), ncclRow);
    QPushButton *launchButton = m_buttons->addButton(tr("Launch"), QDialogButtonBox::AcceptRole);
    launchButton->setObjectName(QStringLiteral("launchButton"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(m_buttons);

    for (QLineEdit *edit : {m_name, m_command, m_workingFolder, m_gpus, m_tags})
        connect(edit, &QLineEdit::textChanged, this, &NewRunDialog::validate);
    connect(m_env, &QPlainTextEdit::textChanged, this, &NewRunDialog::validate);
    connect(m_ranks, &QSpinBox::valueChanged, this, &NewRunDialog::validate);
    validate();
    resize(640, sizeHint().height());
}

void NewRunDialog::setCommand(const QString &command) { m_command->setText(command); }
void NewRunDialog::setRanks(int ranks) { m_ranks->setValue(ranks); }
void NewRunDialog::setName(const QString &name) { m_name->setText(name); }

Result<LocalLaunch> NewRunDialog::launch() const
{
    LocalLaunch launch;
    LaunchRequest &request = launch.request;
    request.command = QProcess::splitCommand(m_command->text());
    if (request.command.isEmpty())
        return fail(tr("Command: give the program to run and its arguments"));
    request.cwd = m_workingFolder->text().trimmed();
    if (!QFileInfo(request.cwd).isDir())
        return fail(tr("Working folder: %1 does not exist").arg(request.cwd));
    const auto gpus = parseGpuList(m_gpus->text());
    if (!gpus)
        return fail(tr("GPUs: '%1' is not a list of distinct GPU indices such as 0,2").arg(m_gpus->text()));
    request.gpus = *gpus;
    request.nprocPerNode = m_ranks->value();
    if (!request.gpus.isEmpty() && request.gpus.size() != request.nprocPerNode)
        return fail(tr("Ranks: %1 ranks for %2 GPUs; give one rank per GPU")
                        .arg(request.nprocPerNode)
                        .arg(request.gpus.size()));
    request.maxRestarts = m_maxRestarts->value();
    request.hangTimeoutMs = int(m_hangTimeout->value() * 1000);
    request.graceMs = int(m_grace->value() * 1000);
    const QStringList envLines = m_env->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (qsizetype i = 0; i < envLines.size(); ++i) {
        const QString line = envLines[i].trimmed();
        const qsizetype equals = line.indexOf(QLatin1Char('='));
        if (equals <= 0)
            return fail(tr("Environment, line %1: '%2' is not KEY=VALUE").arg(i + 1).arg(line));
        request.env.insert(line.left(equals), line.mid(equals + 1));
    }
    launch.strategy.strategy = ShardingStrategy(m_strategy->currentData().toInt());
    if (m_ncclDebug->currentIndex() > 0)
        request.nccl.level = m_ncclDebug->currentText();
    request.nccl.p2pDisable = m_ncclP2pDisable->isChecked();
    request.nccl.ibDisable = m_ncclIbDisable->isChecked();
    launch.name = m_name->text().trimmed();
    for (const QString &tag : m_tags->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
        launch.tags << tag.trimmed();
    return launch;
}

void NewRunDialog::validate()
{
    const auto described = launch();
    m_problem->setText(described ? QString() : described.error());
    for (QAbstractButton *button : m_buttons->buttons()) {
        if (m_buttons->buttonRole(button) == QDialogButtonBox::AcceptRole)
            button->setEnabled(described.ok());
    }
}

} // namespace trainyard
