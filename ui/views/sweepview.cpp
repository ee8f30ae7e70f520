// The sweep table. Rows are rebuilt when the sweep, the metric or the runs change; a sweep has at most
// 10,000 runs and its table is small next to what the runs table keeps incremental. A hidden view only marks
// itself stale and rebuilds when shown.
#include "views/sweepview.h"

#include "queue/runqueue.h"
#include "report/sweepreport.h"
#include "spec/runspec.h"
#include "store/sqlite.h"
#include "store/sweepstate.h"
#include "views/parallelcoordinates.h"
#include "views/sweepscatter.h"

#include <QComboBox>
#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QAbstractTableModel>
#include <QFont>
#include <QPainter>
#include <QStyledItemDelegate>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

#include <QSet>
#include <QShowEvent>

#include <algorithm>
#include <functional>
#include <optional>
#include <cmath>

namespace trainyard {

// The sweep's rows as a plain table model: 10,000 runs are one reset, not 80,000 QStandardItems built on the UI thread.
class SweepTableModel : public QAbstractTableModel {
public:
    using QAbstractTableModel::QAbstractTableModel;

    void setContent(QStringList headers, const QStringList &params, const QList<RunRecord> &runs,
                    const QString &bestRunId, const std::function<double(const RunRecord &)> &valueOf,
                    const QHash<QString, QString> *rungs)
    {
        beginResetModel();
        m_headers = std::move(headers);
        m_rows.clear();
        m_rows.reserve(runs.size());
        for (const RunRecord &run : runs) {
            Row row{run.id == bestRunId, {}};
            row.cells << (row.best ? QStringLiteral("★ ") + run.id : run.id) << run.name << toString(run.status);
            if (rungs)
                row.cells << rungs->value(run.id, QStringLiteral("—"));
            for (const QString &param : params)
                row.cells << run.params.value(param);
            const double value = valueOf(run);
            row.cells << (std::isnan(value) ? QStringLiteral("—") : QString::number(value, 'g', 6));
            m_rows << std::move(row);
        }
        endResetModel();
    }

    int rowCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : int(m_rows.size()); }
    int columnCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : int(m_headers.size());
    }
    QVariant data(const QModelIndex &index, int role) const override
    {
        if (!index.isValid() || index.row() >= m_rows.size() || index.column() >= m_rows[index.row()].cells.size())
            return {};
        const Row &row = m_rows[index.row()];
        if (role == Qt::DisplayRole)
            return row.cells[index.column()];
        if (role == Qt::FontRole && row.best) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    }
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override
    {
        if (orientation == Qt::Horizontal && role == Qt::DisplayRole && section >= 0 && section < m_headers.size())
            return m_headers[section];
        return {};
    }

private:
    struct Row {
        bool best = false;
        QStringList cells;
    };
    QStringList m_headers;
    QList<Row> m_rows;
};

// The importance table's Share column: a bar of the cell's width times its share (Qt::UserRole), behind the text.
class ShareBarDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        const double share = index.data(Qt::UserRole).toDouble();
        if (share > 0) {
            QRect bar = option.rect.adjusted(1, 3, -1, -3);
            bar.setWidth(std::max(1, int(std::lround(bar.width() * share))));
            QColor color = option.palette.color(QPalette::Highlight);
            color.setAlpha(90);
            painter->fillRect(bar, color);
        }
        QStyledItemDelegate::paint(painter, option, index);
    }
};

SweepView::SweepView(QWidget *parent)
    : QWidget(parent), m_sweeps(new QComboBox(this)), m_keys(new QComboBox(this)), m_statistics(new QComboBox(this)),
      m_direction(new QComboBox(this)), m_summary(new QLabel(this)), m_model(new SweepTableModel(this)),
      m_table(new QTableView(this)), m_scatter(new SweepScatter(this)), m_parallel(new ParallelCoordinates(this)),
      m_scatterX(new QComboBox(this)), m_scatterY(new QComboBox(this)), m_importanceNote(new QLabel(this)),
      m_importance(new QTableWidget(this))
{
    setObjectName(QStringLiteral("sweepView"));
    m_statistics->addItems({QStringLiteral("min"), QStringLiteral("last"), QStringLiteral("max")});
    m_direction->addItem(tr("lower is better"), true);
    m_direction->addItem(tr("higher is better"), false);
    m_table->setModel(m_model);
    m_table->verticalHeader()->hide();
    m_table->setWordWrap(false); // one line a run: ids and rungs are elided, never wrapped to half a row
    m_table->setSortingEnabled(false);
    m_table->horizontalHeader()->setStretchLastSection(true);
    auto bar = new QHBoxLayout;
    m_sweepChooser = new QWidget(this);
    auto chooser = new QHBoxLayout(m_sweepChooser);
    chooser->setContentsMargins(0, 0, 0, 0);
    chooser->addWidget(new QLabel(tr("Sweep:"), m_sweepChooser));
    chooser->addWidget(m_sweeps, 1);
    bar->addWidget(m_sweepChooser, 1);
    bar->addWidget(new QLabel(tr("Rank by:"), this));
    bar->addWidget(m_keys, 1);
    bar->addWidget(m_statistics);
    bar->addWidget(m_direction);
    // Below the ranking: which params shape the metric, two ways (docs/USER_GUIDE.md, "Which params matter").
    m_importance->setObjectName(QStringLiteral("paramImportance"));
    m_importance->setColumnCount(5);
    m_importance->setHorizontalHeaderLabels(
        {tr("Param"), tr("Forest importance"), tr("Share"), tr("Spearman ρ"), tr("Better")});
    m_importance->horizontalHeaderItem(1)->setToolTip(
        tr("Permutation importance from a random forest fitted to the finished runs: how much its out-of-bag error "
           "grows when the param is shuffled, as a fraction of the metric's variance"));
    m_importance->horizontalHeaderItem(3)->setToolTip(
        tr("Rank correlation between the param and the metric: monotone effects and their sign"));
    m_importance->verticalHeader()->hide();
    m_importance->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_importance->horizontalHeader()->setStretchLastSection(true);
    m_importance->setSelectionMode(QAbstractItemView::NoSelection);
    m_importance->setItemDelegateForColumn(2, new ShareBarDelegate(m_importance));
    m_importanceNote->setObjectName(QStringLiteral("paramImportanceNote"));
    m_importanceNote->setWordWrap(true);
    auto importancePane = new QWidget(this);
    auto importanceLayout = new QVBoxLayout(importancePane);
    importanceLayout->setContentsMargins(0, 0, 0, 0);
    importanceLayout->addWidget(m_importanceNote);
    importanceLayout->addWidget(m_importance, 1);
    // The scatter plot: x a param, y the metric or another param (the metric then as colour).
    auto scatterPane = new QWidget(this);
    auto scatterLayout = new QVBoxLayout(scatterPane);
    scatterLayout->setContentsMargins(0, 0, 0, 0);
    auto scatterBar = new QHBoxLayout;
    m_scatterX->setObjectName(QStringLiteral("scatterX"));
    m_scatterY->setObjectName(QStringLiteral("scatterY"));
    scatterBar->addWidget(new QLabel(tr("X:"), scatterPane));
    scatterBar->addWidget(m_scatterX, 1);
    scatterBar->addWidget(new QLabel(tr("Y:"), scatterPane));
    scatterBar->addWidget(m_scatterY, 1);
    scatterBar->addStretch(1);
    scatterLayout->addLayout(scatterBar);
    scatterLayout->addWidget(m_scatter, 1);
    connect(m_scatterX, &QComboBox::activated, this,
            [this] { setScatterParams(m_scatterX->currentText(), m_scatterY->currentData().toString()); });
    connect(m_scatterY, &QComboBox::activated, this,
            [this] { setScatterParams(m_scatterX->currentText(), m_scatterY->currentData().toString()); });
    connect(m_scatter, &SweepScatter::runActivated, this, &SweepView::runActivated);
    auto analysis = new QTabWidget(this);
    analysis->setObjectName(QStringLiteral("sweepAnalysis"));
    analysis->addTab(importancePane, tr("Which params matter"));
    analysis->addTab(scatterPane, tr("Scatter"));
    analysis->addTab(m_parallel, tr("Parallel coordinates"));
    connect(m_parallel, &ParallelCoordinates::brushChanged, this, &SweepView::runsBrushed);
    auto splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_table);
    splitter->addWidget(analysis);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({600, 400}); // the first layout too: the size hints alone left the ranking two rows high
    auto layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_summary);
    layout->addWidget(splitter, 1);
    connect(m_sweeps, &QComboBox::activated, this,
            [this](int index) { setSweep(m_sweeps->itemData(index).toString()); });
    const auto metricChanged = [this] {
        setMetric(m_keys->currentText(), m_statistics->currentText(), m_direction->currentData().toBool());
    };
    connect(m_keys, &QComboBox::activated, this, metricChanged);
    connect(m_statistics, &QComboBox::activated, this, metricChanged);
    connect(m_direction, &QComboBox::activated, this, metricChanged);
}

void SweepView::setDatabasePath(const QString &path) { m_databasePath = path; }

// The Rung column, read again when the sweep or one of its runs' status changed: the rule from the sweep's spec, each
// run's highest rung from sweep_rungs. The table is rebuilt with it when it arrives.
void SweepView::refreshRungs(const QList<RunRecord> &runs)
{
    QString signature = m_sweepId;
    for (const RunRecord &run : runs)
        signature += QLatin1Char(';') + run.id + QLatin1Char(':') + toString(run.status);
    if (signature == m_rungSignature || m_databasePath.isEmpty() || m_sweepId.isEmpty())
        return;
    m_rungSignature = signature;
    m_rungsPending = true;
    QHash<QString, bool> stopped;
    for (const RunRecord &run : runs)
        stopped.insert(run.id, run.status == RunStatus::StoppedEarly);
    runOffUiThread(
        this,
        [path = m_databasePath, sweepId = m_sweepId,
         stopped]() -> std::pair<QString, std::optional<QHash<QString, QString>>> {
            auto connection = SqliteConnection::open(path, SqliteConnection::Mode::ReadOnly);
            if (!connection)
                return {};
            auto sweep = sweepstate::readSweep(*connection, sweepId);
            if (!sweep)
                return {};
            auto spec = runqueue::parseSweepSpec(sweep.value());
            QString search;
            if (spec && sweep->method == u"tpe") {
                auto trials = sweepstate::trialsOf(*connection, sweepId);
                search =
                    QObject::tr("Bayesian search (Optuna TPE): %1 of %2 trials proposed; %3%4")
                        .arg(trials ? trials->size() : 0)
                        .arg(spec->sweep.trials)
                        .arg(sweep->state == u"active" ? QObject::tr("the queue proposes the next ones") : sweep->state)
                        .arg(sweep->message.isEmpty() ? QString()
                                                      : QObject::tr(": %1 (trainyard sweep resume %2 goes on)")
                                                            .arg(sweep->message, sweep->name));
            }
            if (!spec || !spec->sweep.earlyStop)
                return {search, std::nullopt};
            auto rungs = sweepstate::rungsOf(*connection, sweepId);
            if (!rungs)
                return {search, std::nullopt};
            const EarlyStopRule &rule = *spec->sweep.earlyStop;
            QHash<QString, int> highest;
            for (const SweepRungValue &value : std::as_const(*rungs))
                highest[value.runId] = std::max(highest.value(value.runId, -1), value.rung);
            QHash<QString, QString> text;
            for (auto it = highest.cbegin(); it != highest.cend(); ++it) {
                const QString reached = QStringLiteral("%1/%2 (step %3)")
                                            .arg(it.value() + 1)
                                            .arg(rule.rungs.size())
                                            .arg(rule.rungs.value(it.value()));
                text.insert(it.key(), stopped.value(it.key()) ? QObject::tr("stopped at %1").arg(reached) : reached);
            }
            return {search, text};
        },
        [this](const std::pair<QString, std::optional<QHash<QString, QString>>> &result) {
            m_rungsPending = false;
            const bool had = m_hasRungs;
            const QHash<QString, QString> before = m_rungText;
            const QString searchBefore = m_searchText;
            m_searchText = result.first;
            m_hasRungs = result.second.has_value();
            m_rungText = result.second.value_or(QHash<QString, QString>());
            if (had != m_hasRungs || before != m_rungText || searchBefore != m_searchText)
                rebuild();
        },
        &m_rungJob);
}

void SweepView::setRuns(const QList<RunRecord> &runs)
{
    QList<RunRef> refs;
    for (const RunRecord &run : runs)
        refs << std::make_shared<const RunRecord>(run);
    setRuns(refs);
}

void SweepView::setSelection(const QList<RunRecord> &runs)
{
    m_selectionMode = true;
    m_sweepChooser->hide();
    m_sweepId.clear();
    m_runs.clear();
    for (const RunRecord &run : runs)
        m_runs << std::make_shared<const RunRecord>(run);
    rebuild();
}

void SweepView::setRuns(const QList<RunRef> &runs)
{
    m_runs.clear();
    // The sweeps, newest first, named by their runs' sweep tag; only sweep runs are kept.
    QStringList ids;
    QSet<QString> seen;
    QMap<QString, QString> names;
    for (const RunRef &ref : runs) {
        const RunRecord &run = *ref;
        if (run.sweepId.isEmpty())
            continue;
        m_runs << ref;
        if (seen.contains(run.sweepId))
            continue;
        seen.insert(run.sweepId);
        ids << run.sweepId;
        for (const QString &tag : run.tags)
            if (tag.startsWith(QLatin1String("sweep:")))
                names.insert(run.sweepId, tag.mid(6));
    }
    std::sort(ids.begin(), ids.end(), std::greater<>());
    if (ids != m_sweepIds) {
        m_sweepIds = ids;
        const QSignalBlocker block(m_sweeps);
        m_sweeps->clear();
        for (const QString &id : ids)
            m_sweeps->addItem(QStringLiteral("%1 (%2)").arg(names.value(id, id), id), id);
    }
    if (m_sweepId.isEmpty() && !ids.isEmpty())
        m_sweepId = ids.first();
    m_sweeps->setCurrentIndex(std::max(0, m_sweeps->findData(m_sweepId)));
    rebuild();
}

void SweepView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_stale)
        rebuild();
}

void SweepView::setSweep(const QString &sweepId)
{
    m_sweepId = sweepId;
    m_sweeps->setCurrentIndex(std::max(0, m_sweeps->findData(sweepId)));
    rebuild();
}

void SweepView::setMetric(const QString &key, const QString &statistic, bool lowerIsBetter)
{
    m_key = key;
    m_statistic = statistic;
    m_lowerIsBetter = lowerIsBetter;
    rebuild();
}

void SweepView::rebuild()
{
    if (window()->isVisible()
        && !isVisible()) { // a hidden tab is rebuilt when shown: an unseen live sweep costs nothing
        m_stale = true;
        return;
    }
    m_stale = false;
    QList<RunRecord> runs;
    QSet<QString> keySet;
    for (const RunRef &ref : std::as_const(m_runs)) {
        const RunRecord &run = *ref;
        if (!m_selectionMode && (run.sweepId != m_sweepId || m_sweepId.isEmpty()))
            continue;
        runs << run;
        for (auto it = run.metrics.keyBegin(); it != run.metrics.keyEnd(); ++it)
            keySet.insert(*it);
    }
    QStringList keys(keySet.cbegin(), keySet.cend());
    keys.sort();
    // Only the params that differ between the sweep's runs (a run without the param differs too): the others say
    // nothing about the ranking. One pass: each key's first value, and whether any run disagrees with it.
    QHash<QString, std::optional<QString>> firstValue; // nullopt: some run lacks the key
    QSet<QString> varying;
    for (const RunRecord &run : std::as_const(runs))
        for (auto it = run.params.cbegin(); it != run.params.cend(); ++it) {
            auto found = firstValue.constFind(it.key());
            if (found == firstValue.constEnd())
                firstValue.insert(it.key(), it.value());
            else if (*found != it.value())
                varying.insert(it.key());
        }
    for (auto it = firstValue.cbegin(); it != firstValue.cend(); ++it)
        if (!varying.contains(it.key()))
            for (const RunRecord &run : std::as_const(runs))
                if (!run.params.contains(it.key())) {
                    varying.insert(it.key());
                    break;
                }
    QStringList params(varying.cbegin(), varying.cend());
    params.sort();
    if (m_key.isEmpty() || !keys.contains(m_key))
        m_key = keys.contains(QStringLiteral("loss")) ? QStringLiteral("loss") : keys.value(0);
    {
        const QSignalBlocker block(m_keys);
        m_keys->clear();
        m_keys->addItems(keys);
        m_keys->setCurrentText(m_key);
    }
    m_statistics->setCurrentText(m_statistic);
    m_direction->setCurrentIndex(m_lowerIsBetter ? 0 : 1);

    const auto valueOf = [this](const RunRecord &run) {
        const auto found = run.metrics.constFind(m_key);
        if (found == run.metrics.constEnd())
            return std::numeric_limits<double>::quiet_NaN();
        return m_statistic == u"last" ? found->last : m_statistic == u"max" ? found->max : found->min;
    };
    // Best first; runs without a value last.
    std::stable_sort(runs.begin(), runs.end(), [&](const RunRecord &a, const RunRecord &b) {
        const double x = valueOf(a), y = valueOf(b);
        if (std::isnan(x) != std::isnan(y))
            return std::isnan(y);
        return m_lowerIsBetter ? x < y : x > y;
    });
    m_bestRunId.clear();
    for (const RunRecord &run : std::as_const(runs))
        if (run.status == RunStatus::Succeeded && !std::isnan(valueOf(run))) {
            m_bestRunId = run.id;
            break;
        }

    QStringList headers{tr("Run"), tr("Name"), tr("Status")};
    if (m_hasRungs)
        headers << tr("Rung");
    headers += params;
    headers << QStringLiteral("%1 (%2)").arg(m_key, m_statistic);
    m_model->setContent(std::move(headers), params, runs, m_bestRunId, valueOf, m_hasRungs ? &m_rungText : nullptr);
    if (m_hasRungs) // wide enough for "stopped at 2/3 (step 3000)" without measuring every row
        m_table->setColumnWidth(
            3, m_table->fontMetrics().horizontalAdvance(QStringLiteral("stopped at 2/3 (step 3000)")) + 16);
    refreshRungs(runs);
    m_summary->setText(runs.isEmpty()
                           ? (m_selectionMode ? tr("No runs selected.")
                                              : tr("No sweeps in this workspace yet: queue one with trainyard sweep "
                                                   "or the compose panel."))
                           : tr("%1 runs; best (★): %2%3")
                                 .arg(runs.size())
                                 .arg(m_bestRunId.isEmpty() ? tr("none finished yet") : m_bestRunId)
                                 .arg(m_searchText.isEmpty() ? QString() : QStringLiteral("\n") + m_searchText));
    refreshImportance(runs);
    // The scatter's choices: the params that vary; its x stays the user's choice while it still varies.
    m_shownRuns = runs;
    if (!params.contains(m_scatterXParam))
        m_scatterXParam = params.value(0);
    if (!m_scatterYParam.isEmpty() && (!params.contains(m_scatterYParam) || m_scatterYParam == m_scatterXParam))
        m_scatterYParam.clear();
    {
        const QSignalBlocker blockX(m_scatterX), blockY(m_scatterY);
        m_scatterX->clear();
        m_scatterX->addItems(params);
        m_scatterX->setCurrentText(m_scatterXParam);
        m_scatterY->clear();
        m_scatterY->addItem(tr("%1 (the metric)").arg(m_key), QString());
        for (const QString &param : params)
            m_scatterY->addItem(tr("%1 (coloured by %2)").arg(param, m_key), param);
        m_scatterY->setCurrentIndex(std::max(0, m_scatterY->findData(m_scatterYParam)));
    }
    refreshScatter();
}

void SweepView::setScatterParams(const QString &xParam, const QString &yParam)
{
    m_scatterXParam = xParam;
    m_scatterYParam = yParam == xParam ? QString() : yParam;
    m_scatterX->setCurrentText(m_scatterXParam);
    m_scatterY->setCurrentIndex(std::max(0, m_scatterY->findData(m_scatterYParam)));
    refreshScatter();
}

void SweepView::refreshScatter()
{
    m_scatter->setData(m_shownRuns, m_key, m_statistic, m_lowerIsBetter, m_scatterXParam, m_scatterYParam);
    QStringList params;
    for (int i = 0; i < m_scatterX->count(); ++i)
        params << m_scatterX->itemText(i);
    m_parallel->setData(m_shownRuns, params, m_key, m_statistic, m_lowerIsBetter);
}

QString SweepView::importanceText() const { return m_importanceNote->text(); }

void SweepView::refreshImportance(const QList<RunRecord> &runs)
{
    // Recomputed only when what it rests on changed: a live sweep's table is rebuilt at every new point.
    SweepMetric metric{m_key, m_statistic, m_lowerIsBetter};
    QString signature = m_sweepId + QLatin1Char('|') + m_key + QLatin1Char('|') + m_statistic
        + (m_lowerIsBetter ? QStringLiteral("|min") : QStringLiteral("|max"));
    for (const RunRecord &run : runs)
        if (run.status == RunStatus::Succeeded)
            signature +=
                QLatin1Char('|') + run.id + QLatin1Char('=') + QString::number(sweepMetricValue(run, metric), 'g', 17);
    if (signature == m_importanceSignature)
        return;
    m_importanceSignature = signature;
    if (runs.isEmpty() || m_key.isEmpty()) {
        m_importance->setRowCount(0);
        m_importanceNote->setText(QString());
        return;
    }
    m_importancePending = true;
    m_importanceNote->setText(tr("Parameter importance for %1: computing…").arg(m_key));
    runOffUiThread(
        this,
        [sweepId = m_sweepId, runs, metric]() -> std::pair<QString, std::optional<SweepReport>> {
            auto report = sweepReport(sweepId, runs, metric);
            if (!report)
                return {report.error(), std::nullopt};
            return {QString(), std::move(report).value()};
        },
        [this](const std::pair<QString, std::optional<SweepReport>> &result) {
            m_importancePending = false;
            m_importance->setRowCount(0);
            if (!result.second) {
                m_importanceNote->setText(result.first);
                return;
            }
            const SweepReport &report = *result.second;
            const ImportanceReport &importance = report.importance;
            QString note = tr("<b>Parameter importance for %1</b> (%2 of each run, %3 is better): ")
                               .arg(report.metric.key.toHtmlEscaped(), report.metric.statistic,
                                    report.metric.lowerIsBetter ? tr("lower") : tr("higher"));
            if (!importance.notEnoughData.isEmpty())
                note += tr("not enough data: %1.").arg(importance.notEnoughData);
            else if (importance.params.isEmpty())
                note += tr("no param varies between the finished runs.");
            else
                note += tr("%1 finished runs; the forest explains %2% of the metric's variance; |ρ| under %3 is "
                           "within chance for this many runs.")
                            .arg(importance.runsUsed)
                            .arg(qRound(std::max(0.0, importance.forestR2.value_or(0)) * 100))
                            .arg(importance.chanceCorrelation, 0, 'f', 2);
            if (!importance.notVaried.isEmpty())
                note += tr(" Not varied: %1.").arg(importance.notVaried.join(QStringLiteral(", ")).toHtmlEscaped());
            if (!importance.leftOut.isEmpty())
                note += tr(" Left out: %1.").arg(importance.leftOut.size());
            m_importanceNote->setText(note);
            m_importanceNote->setToolTip(importance.leftOut.join(QLatin1Char('\n')));
            m_importance->setRowCount(int(importance.params.size()));
            for (int row = 0; row < importance.params.size(); ++row) {
                const ParamImportance &param = importance.params[row];
                const QStringList cells{param.param, QString::number(param.permutation, 'f', 3),
                                        QStringLiteral("%1%").arg(qRound(param.share * 100)),
                                        param.spearman ? QString::number(*param.spearman, 'f', 2) : tr("— (a choice)"),
                                        param.better.isEmpty() ? tr("no clear direction") : param.better};
                for (int column = 0; column < cells.size(); ++column) {
                    auto item = new QTableWidgetItem(cells[column]);
                    if (column == 2) // the share as a bar behind its number (ShareBarDelegate)
                        item->setData(Qt::UserRole, std::clamp(param.share, 0.0, 1.0));
                    if (column >= 1 && column <= 3)
                        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
                    m_importance->setItem(row, column, item);
                }
            }
            m_importance->resizeColumnsToContents();
            m_importance->setVisible(m_importance->rowCount() > 0); // else the note says why there is nothing
        },
        &m_importanceRead);
}

} // namespace trainyard
