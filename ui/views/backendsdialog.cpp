// Profiles are small, but their file and the cluster are still read and written on worker threads.
#include "views/backendsdialog.h"
#include "models/statuscolors.h"

#include "launch/slurmclient.h"
#include "views/offuithread.h"

#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <functional>

namespace trainyard {

namespace {

struct Answer {
    QString text;
    bool good = false;
};

} // namespace

BackendEditor::BackendEditor(const BackendProfile &profile, QWidget *parent)
    : QDialog(parent), m_original(profile), m_name(new QLineEdit(profile.name, this)),
      m_url(new QLineEdit(profile.url, this)), m_user(new QLineEdit(profile.user, this)),
      m_tokenFile(new QLineEdit(profile.tokenFile, this)), m_token(new QLineEdit(this)),
      m_partition(new QLineEdit(profile.job.partition, this)), m_account(new QLineEdit(profile.job.account, this)),
      m_trainyard(new QLineEdit(profile.trainyardPath, this)), m_timeLimit(new QSpinBox(this)),
      m_cpus(new QSpinBox(this)), m_gpus(new QSpinBox(this)),
      m_sbatch(new QPlainTextEdit(profile.job.sbatchOptions.join(QLatin1Char('\n')), this)),
      m_env(new QPlainTextEdit(this))
{
    setWindowTitle(profile.name.isEmpty() ? tr("New backend profile") : tr("Backend profile %1").arg(profile.name));
    m_url->setPlaceholderText(QStringLiteral("http://login1:6820"));
    m_tokenFile->setPlaceholderText(tr("/home/you/.config/slurm.token (mode 0600), or paste the token below"));
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("paste a JWT (`scontrol token`) to keep it in the workspace, mode 0600"));
    m_trainyard->setPlaceholderText(tr("trainyard on the nodes (default: this executable)"));
    m_timeLimit->setRange(0, 365 * 24 * 60);
    m_timeLimit->setSpecialValueText(tr("partition default"));
    m_timeLimit->setSuffix(tr(" min"));
    m_timeLimit->setValue(profile.job.timeLimitMinutes);
    m_cpus->setRange(0, 4096);
    m_cpus->setSpecialValueText(tr("Slurm default"));
    m_cpus->setValue(profile.job.cpusPerTask);
    m_gpus->setRange(0, 64);
    m_gpus->setValue(profile.job.gpusPerNode);
    m_sbatch->setPlaceholderText(tr("one option per line, e.g. --qos=high"));
    QStringList env;
    for (auto it = profile.jobEnvironment.constBegin(); it != profile.jobEnvironment.constEnd(); ++it)
        env << it.key() + QLatin1Char('=') + it.value();
    m_env->setPlainText(env.join(QLatin1Char('\n')));
    m_env->setPlaceholderText(tr("KEY=VALUE per line; PATH defaults to /usr/local/bin:/usr/bin:/bin"));

    auto form = new QFormLayout;
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("slurmrestd URL"), m_url);
    form->addRow(tr("User"), m_user);
    form->addRow(tr("Token file"), m_tokenFile);
    form->addRow(tr("Or paste token"), m_token);
    form->addRow(tr("Partition"), m_partition);
    form->addRow(tr("Account"), m_account);
    form->addRow(tr("Time limit"), m_timeLimit);
    form->addRow(tr("CPUs per node"), m_cpus);
    form->addRow(tr("GPUs per node"), m_gpus);
    form->addRow(tr("Extra #SBATCH"), m_sbatch);
    form->addRow(tr("Job environment"), m_env);
    form->addRow(tr("trainyard path"), m_trainyard);
    auto buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    auto problemLabel = new QLabel(this);
    problemLabel->setStyleSheet(textColorStyle(errorTextColor()));
    problemLabel->setWordWrap(true);
    connect(buttons, &QDialogButtonBox::accepted, this, [this, problemLabel] {
        // The workspace root only matters for a pasted token's path; validation needs an absolute one.
        const QString problemText = problem(QStringLiteral("/workspace"));
        problemLabel->setText(problemText);
        if (problemText.isEmpty())
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(problemLabel);
    layout->addWidget(buttons);
}

BackendProfile BackendEditor::profile() const
{
    BackendProfile profile = m_original;
    profile.name = m_name->text().trimmed();
    profile.url = m_url->text().trimmed();
    profile.user = m_user->text().trimmed();
    profile.tokenFile = m_tokenFile->text().trimmed();
    profile.job.partition = m_partition->text().trimmed();
    profile.job.account = m_account->text().trimmed();
    profile.job.timeLimitMinutes = m_timeLimit->value();
    profile.job.cpusPerTask = m_cpus->value();
    profile.job.gpusPerNode = m_gpus->value();
    profile.job.sbatchOptions = m_sbatch->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (QString &option : profile.job.sbatchOptions)
        option = option.trimmed();
    profile.jobEnvironment.clear();
    for (const QString &line : m_env->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        const qsizetype equals = line.indexOf(QLatin1Char('='));
        if (equals > 0)
            profile.jobEnvironment.insert(line.left(equals).trimmed(), line.mid(equals + 1));
    }
    profile.trainyardPath = m_trainyard->text().trimmed();
    return profile;
}

QByteArray BackendEditor::pastedToken() const { return m_token->text().trimmed().toUtf8(); }

QString BackendEditor::problem(const QString &workspaceRoot) const
{
    BackendProfile candidate = profile();
    if (!pastedToken().isEmpty())
        candidate.tokenFile = storedTokenPath(workspaceRoot, candidate.name);
    if (candidate.tokenFile.isEmpty())
        return tr("Give a token file or paste a token.");
    for (const QString &line : m_env->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        if (line.indexOf(QLatin1Char('=')) <= 0)
            return tr("Job environment line '%1' is not KEY=VALUE.").arg(line);
    }
    const auto valid = validateBackendProfile(candidate);
    return valid ? QString() : valid.error();
}

BackendsDialog::BackendsDialog(const QString &workspaceRoot, QWidget *parent)
    : QDialog(parent), m_workspaceRoot(workspaceRoot), m_table(new QTableWidget(0, 5, this)), m_status(new QLabel(this))
{
    setWindowTitle(tr("Backends"));
    setObjectName(QStringLiteral("backendsDialog"));
    resize(820, 360);
    m_table->setHorizontalHeaderLabels({tr("Name"), tr("slurmrestd"), tr("User"), tr("Partition"), tr("Token file")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_status->setObjectName(QStringLiteral("backendStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto add = new QPushButton(tr("Add…"), this);
    auto edit = new QPushButton(tr("Edit…"), this);
    auto removeButton = new QPushButton(tr("Remove"), this);
    auto testButton = new QPushButton(tr("Test"), this);
    testButton->setToolTip(tr("Reach slurmrestd with the profile's token"));
    auto close = new QPushButton(tr("Close"), this);
    const auto selectedName = [this] {
        const int row = m_table->currentRow();
        return row >= 0 && row < m_profiles.size() ? m_profiles.at(row).name : QString();
    };
    connect(add, &QPushButton::clicked, this, [this] {
        BackendEditor editor(BackendProfile{}, this);
        if (editor.exec() == QDialog::Accepted)
            save(editor.profile(), editor.pastedToken());
    });
    connect(edit, &QPushButton::clicked, this, [this] { editRow(m_table->currentRow()); });
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { editRow(row); });
    connect(removeButton, &QPushButton::clicked, this, [this, selectedName] {
        const QString name = selectedName();
        if (!name.isEmpty()
            && QMessageBox::question(this, tr("Remove backend"),
                                     tr("Remove the profile %1 (and a token kept in the workspace)?").arg(name))
                == QMessageBox::Yes)
            remove(name);
    });
    connect(testButton, &QPushButton::clicked, this, [this, selectedName] {
        if (const QString name = selectedName(); !name.isEmpty())
            test(name);
    });
    connect(close, &QPushButton::clicked, this, &QDialog::accept);
    auto buttons = new QHBoxLayout;
    for (QPushButton *button : {add, edit, removeButton, testButton})
        buttons->addWidget(button);
    buttons->addStretch();
    buttons->addWidget(close);
    auto layout = new QVBoxLayout(this);
    layout->addWidget(
        new QLabel(tr("Runs whose spec says `backend: NAME` (or `trainyard launch --backend NAME`) go to that cluster. "
                      "Profiles live in %1.")
                       .arg(backendProfilesPath(workspaceRoot)),
                   this));
    layout->addWidget(m_table, 1);
    layout->addWidget(m_status);
    layout->addLayout(buttons);
    reload();
}

QString BackendsDialog::statusText() const { return m_status->text(); }

void BackendsDialog::showStatus(const QString &text, bool good)
{
    m_status->setText(text);
    m_status->setStyleSheet(good ? textColorStyle(goodTextColor()) : textColorStyle(errorTextColor()));
    emit statusChanged(text);
}

void BackendsDialog::reload()
{
    const QString root = m_workspaceRoot;
    runOffUiThread(
        this, [root] { return loadBackendProfiles(root); },
        [this](const Result<QList<BackendProfile>> &loaded) {
            if (!loaded) {
                showStatus(loaded.error(), false);
                m_profiles.clear();
            } else {
                m_profiles = *loaded;
            }
            m_table->setRowCount(int(m_profiles.size()));
            for (int row = 0; row < m_profiles.size(); ++row) {
                const BackendProfile &profile = m_profiles.at(row);
                const QStringList cells{profile.name, profile.url, profile.user, profile.job.partition,
                                        profile.tokenFile};
                for (int column = 0; column < cells.size(); ++column)
                    m_table->setItem(row, column, new QTableWidgetItem(cells.at(column)));
            }
            emit profilesLoaded();
        });
}

void BackendsDialog::editRow(int row)
{
    if (row < 0 || row >= m_profiles.size())
        return;
    BackendEditor editor(m_profiles.at(row), this);
    if (editor.exec() == QDialog::Accepted)
        save(editor.profile(), editor.pastedToken(), m_profiles.at(row).name);
}

void BackendsDialog::save(const BackendProfile &edited, const QByteArray &pastedToken, const QString &replacing)
{
    const QString root = m_workspaceRoot;
    runOffUiThread(
        this,
        [root, edited, pastedToken, replacing]() -> Answer {
            BackendProfile profile = edited;
            if (!pastedToken.isEmpty())
                profile.tokenFile = storedTokenPath(root, profile.name);
            if (auto valid = validateBackendProfile(profile); !valid)
                return {valid.error(), false};
            if (!pastedToken.isEmpty()) {
                if (auto written = writeTokenFile(profile.tokenFile, pastedToken); !written)
                    return {written.error(), false};
            }
            if (!replacing.isEmpty() && replacing != profile.name) {
                if (auto removed = removeBackendProfile(root, replacing); !removed)
                    return {removed.error(), false};
            }
            if (auto saved = upsertBackendProfile(root, profile); !saved)
                return {saved.error(), false};
            return {tr("Saved %1. Test it to check the token.").arg(profile.name), true};
        },
        [this](const Answer &answer) {
            showStatus(answer.text, answer.good);
            reload();
        });
}

void BackendsDialog::remove(const QString &name)
{
    const QString root = m_workspaceRoot;
    runOffUiThread(
        this,
        [root, name]() -> Answer {
            auto removed = removeBackendProfile(root, name);
            return removed ? Answer{tr("Removed %1.").arg(name), true} : Answer{removed.error(), false};
        },
        [this](const Answer &answer) {
            showStatus(answer.text, answer.good);
            reload();
        });
}

void BackendsDialog::test(const QString &name)
{
    showStatus(tr("Testing %1…").arg(name), true);
    const QString root = m_workspaceRoot;
    runOffUiThread(
        this,
        [root, name]() -> Answer {
            auto profile = findBackendProfile(root, name);
            if (!profile)
                return {profile.error(), false};
            auto token = readBackendToken(*profile);
            if (!token)
                return {token.error(), false};
            auto pinged = SlurmClient(profile->endpoint(*token)).ping();
            if (!pinged)
                return {pinged.error(), false};
            return {tr("%1: %2; token accepted for user %3.").arg(name, *pinged, profile->user), true};
        },
        [this](const Answer &answer) { showStatus(answer.text, answer.good); });
}

} // namespace trainyard
