// CompareView: the selected runs (1 to 200) compared: a grid of charts, one per metric key (search box,
// pinned keys first), each run one colour everywhere; x by step, wall time or time since start; EMA
// smoothing; log y; grouping by a param or the tags; and the runs' params side by side below.
#pragma once

#include "store/runrecord.h"
#include "views/envelopechart.h"

#include <QFuture>
#include <QHash>
#include <QPointer>
#include <QSet>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
class QScrollArea;
class QToolButton;
class QLineEdit;
class QSlider;
class QTableView;
class QTimer;

class QTabWidget;

namespace trainyard {

class SweepView;

class EnvelopeLoader;
class ParamDiffModel;

class CompareView : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxRuns = 200;

    explicit CompareView(const QString &databasePath, QWidget *parent = nullptr);
    ~CompareView() override;

    // The runs to compare, in selection order (beyond kMaxRuns are left out, with a note). Called again
    // with fresher records of the same runs, it extends the charts of live runs.
    void setRuns(const QList<RunRecord> &runs);
    QStringList runIds() const;
    QHash<QString, QColor> runColors() const { return m_colors; }

    QList<EnvelopeChart *> visibleCharts() const; // in grid order
    EnvelopeChart *chart(const QString &key) const { return m_charts.value(key); }
    QStringList chartKeys() const { return m_charts.keys(); } // every key charted, shown or not
    ParamDiffModel *diffModel() const { return m_diffModel; }
    QTableView *diffView() const { return m_diffView; }
    bool isLoading() const;

    void setKeyFilter(const QString &text);
    void setPinned(const QString &key, bool pinned);
    void setXAxisMode(XAxisMode mode);
    void setSmoothing(double weight);
    void setLogY(bool logY);
    // Steps marked on every chart's step axis (the run page: the run's checkpoints). A forked run's fork step is
    // marked too, so that its curve is seen to start there.
    void setStepMarkers(const QList<double> &steps);
    // "Discarded tails": each restarted run's superseded points (what a failed attempt logged past the checkpoint the
    // next attempt resumed from) drawn faint beside the series the run followed. Off by default; the box shows only
    // when a run has such points.
    void setShowSuperseded(bool show);
    bool showsSuperseded() const { return m_showSuperseded; }
    QCheckBox *supersededBox() const { return m_supersededBox; }
    // "" (none), "tags", or "param:NAME".
    void setGroupBy(const QString &spec);
    QStringList groupByChoices() const;

    // The params table as CSV, written off the UI thread whole or not at all; the result (and a chart's export) is
    // shown above the charts. Returns the error message's future (empty when written).
    QFuture<QString> exportParamsCsv(const QString &path);
    QString exportStatus() const;

    // Charts sit in sections by key prefix (chartmath::metricSections): "sys/" starts collapsed. A key search shows
    // what it finds in a collapsed section too.
    void setSectionCollapsed(const QString &section, bool collapsed);
    bool isSectionCollapsed(const QString &section) const { return m_collapsedSections.contains(section); }
    // How many charts a row holds at the current width (the grid reflows, never scrolls sideways).
    int chartColumns() const { return m_columns; }
    // The params table below the charts (the run page, showing one run, has no use for it).
    void setParamsVisible(bool visible);

    // The Analysis tab beside Params: parameter importance, scatter and parallel coordinates of the compared runs.
    SweepView *analysis() const { return m_analysis; }
    void showAnalysis();

signals:
    void runColorsChanged(const QHash<QString, QColor> &colors);
    void runActivated(const QString &runId); // a run clicked in the Analysis tab's scatter plot: open it
    void loadingFinished();

private:
    void showExportResult(const QString &path, const QString &error);
    // setRuns's parts.
    bool assignColors(const QList<RunRecord> &runs);
    void fillGroupByChoices();
    void removeChartsOtherThan(const QSet<QString> &keys);
    EnvelopeChart *createChart(const QString &key);
    QList<ChartSeries> seriesFor(EnvelopeChart *chart, const QString &key);
    void loadNewPoints(EnvelopeChart *chart, const QString &key, const QString &runId, const MetricEnvelope &held,
                       std::int64_t added);

    void rebuildGrid();
    int columnCount() const;
    QToolButton *sectionHeader(const QString &section);
    bool eventFilter(QObject *watched, QEvent *event) override;
    void loadRange(EnvelopeChart *chart);
    void requestWhole(const QString &key, const QString &runId);
    void onLoaded(quint64 ticket, const QString &key, const QString &runId, const MetricEnvelope &envelope, int kind);
    QString groupOf(const RunRecord &run) const;
    void applyGroups();
    void repaintLoadedCharts();
    std::optional<std::pair<std::int64_t, std::int64_t>> stepRangeFor(const QString &key, const ChartSeries &series,
                                                                      double x0, double x1) const;

    QString m_databasePath;
    EnvelopeLoader *m_loader;
    QList<RunRecord> m_runs;
    QHash<QString, QColor> m_colors;
    QHash<QString, EnvelopeChart *> m_charts; // by metric key
    QList<double> m_stepMarkers;
    QList<double> m_forkMarkers; // the fork steps of the runs shown
    bool m_showSuperseded = false;
    void applyStepMarkers();
    QHash<QString, MetricEnvelope> m_overviews; // whole-series envelopes, by key + run (for time axes)
    QHash<QString, int> m_requestedPixels;      // by key + run: the resolution of what the chart holds
    QHash<QString, std::int64_t> m_knownCounts; // by key + run: points when last loaded (live runs)
    QHash<QString, quint64> m_wholeTickets;     // by key + run: the pending whole-series request
    QSet<EnvelopeChart *> m_chartsToRepaint;    // removed from here before a chart is deleted
    QTimer *m_repaintTimer = nullptr;
    QSet<QString> m_pinned;
    QString m_keyFilter;
    QString m_groupBy;
    XAxisMode m_mode = XAxisMode::Step;
    double m_smoothing = 0;
    bool m_logY = false;

    QLineEdit *m_search;
    QComboBox *m_xAxis;
    QSlider *m_smoothingSlider;
    QCheckBox *m_logYBox;
    QCheckBox *m_supersededBox;
    QComboBox *m_groupByBox;
    QLabel *m_note;
    QLabel *m_exportStatus; // how the last export went
    QWidget *m_gridHost;
    QGridLayout *m_grid;
    QScrollArea *m_scroll;
    QWidget *m_paramsPane = nullptr;
    SweepView *m_analysis = nullptr; // the Analysis tab: the sweep views over the compared runs
    QTabWidget *m_bottomTabs = nullptr;
    int m_columns = 1;        // the grid's columns now
    int m_fittingColumns = 1; // how many fit the width (m_columns is fewer when no section fills them)
    QHash<QString, QToolButton *> m_sectionHeaders;
    QSet<QString> m_collapsedSections{QStringLiteral("sys/")};
    ParamDiffModel *m_diffModel;
    QTableView *m_diffView;
    QCheckBox *m_onlyDifferences;
};

} // namespace trainyard
