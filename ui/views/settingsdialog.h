// File > Settings…: which notifications the window sends (a run failed, hung, finished after a long run, broke an
// alert rule) and what counts as a long run.
#pragma once

#include "models/runnotifications.h"

#include <QDialog>

class QCheckBox;
class QSpinBox;

namespace trainyard {

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(const NotificationSettings &current, QWidget *parent = nullptr);
    NotificationSettings settings() const;

private:
    QCheckBox *m_failed;
    QCheckBox *m_hung;
    QCheckBox *m_finished;
    QCheckBox *m_alerts;
    QSpinBox *m_longRunMinutes;
};

} // namespace trainyard
