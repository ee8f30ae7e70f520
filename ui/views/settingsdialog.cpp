// The settings dialog: a form over NotificationSettings.
#include "views/settingsdialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QSpinBox>
#include <QVBoxLayout>

namespace trainyard {

SettingsDialog::SettingsDialog(const NotificationSettings &current, QWidget *parent)
    : QDialog(parent), m_failed(new QCheckBox(tr("A run failed (with its first-failure line)"), this)),
      m_hung(new QCheckBox(tr("A run hung"), this)), m_finished(new QCheckBox(tr("A long run finished"), this)),
      m_alerts(new QCheckBox(tr("A run broke one of its alert rules (the spec's alerts:)"), this)),
      m_longRunMinutes(new QSpinBox(this))
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    m_failed->setObjectName(QStringLiteral("notifyFailed"));
    m_hung->setObjectName(QStringLiteral("notifyHung"));
    m_finished->setObjectName(QStringLiteral("notifyFinished"));
    m_alerts->setObjectName(QStringLiteral("notifyAlerts"));
    m_longRunMinutes->setObjectName(QStringLiteral("longRunMinutes"));
    m_longRunMinutes->setRange(1, 7 * 24 * 60);
    m_longRunMinutes->setSuffix(tr(" min"));
    m_failed->setChecked(current.failed);
    m_hung->setChecked(current.hung);
    m_finished->setChecked(current.finishedLong);
    m_alerts->setChecked(current.alerts);
    m_longRunMinutes->setValue(current.longRunMinutes);
    connect(m_finished, &QCheckBox::toggled, m_longRunMinutes, &QWidget::setEnabled);
    m_longRunMinutes->setEnabled(current.finishedLong);

    auto notifications = new QGroupBox(tr("Notify me when"), this);
    auto form = new QFormLayout(notifications);
    form->addRow(m_failed);
    form->addRow(m_hung);
    form->addRow(m_finished);
    form->addRow(tr("Long means at least"), m_longRunMinutes);
    form->addRow(m_alerts);
    auto where = new QLabel(tr("Notifications go to the desktop's notification service; where there is none, to the "
                               "status bar and the tray icon. A click opens the run."),
                            this);
    where->setWordWrap(true);
    auto buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto layout = new QVBoxLayout(this);
    layout->addWidget(notifications);
    layout->addWidget(where);
    layout->addWidget(buttons);
}

NotificationSettings SettingsDialog::settings() const
{
    NotificationSettings chosen;
    chosen.failed = m_failed->isChecked();
    chosen.hung = m_hung->isChecked();
    chosen.finishedLong = m_finished->isChecked();
    chosen.alerts = m_alerts->isChecked();
    chosen.longRunMinutes = m_longRunMinutes->value();
    return chosen;
}

} // namespace trainyard
