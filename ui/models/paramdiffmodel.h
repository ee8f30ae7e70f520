// ParamDiffModel: the params of the compared runs side by side (runs as columns, params as rows), rows
// whose values differ highlighted, and an "only differences" switch.
#pragma once

#include "store/runrecord.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QHash>

namespace trainyard {

class ParamDiffModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Role { DiffersRole = Qt::UserRole + 1 };
    explicit ParamDiffModel(QObject *parent = nullptr);

    // New runs or new values: a changed set of runs or rows resets the model; new values in the same
    // cells are dataChanged.
    void setRuns(const QList<RunRecord> &runs);
    void setRunColors(const QHash<QString, QColor> &colors);
    void setOnlyDifferences(bool only);
    bool onlyDifferences() const { return m_onlyDifferences; }
    QString paramAt(int row) const { return m_rows.at(row); }
    QByteArray toCsv() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QStringList rowsFor(const QList<RunRecord> &runs) const;
    bool differs(const QString &param) const;

    QList<RunRecord> m_runs;
    QStringList m_rows;
    QHash<QString, QColor> m_colors;
    bool m_onlyDifferences = false;
};

} // namespace trainyard
