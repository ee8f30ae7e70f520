#include "views/tracesview.h"

#include "perf/perfsummary.h"
#include "views/tracetimeline.h"

#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace trainyard {

namespace {

constexpr int kOperatorRows = 200;

// "1 step", "5 steps": Qt's %n needs a translation loaded to pluralize.
QString counted(qint64 count, const char *one, const char *many)
{
    return QString::number(count) + QLatin1Char(' ') + QObject::tr(count == 1 ? one : many);
}

QString sessionLabel(const ProfileSession &session)
{
    const QString when =
        QDateTime::fromMSecsSinceEpoch(session.request.requestedMs).toString(QStringLiteral("HH:mm:ss"));
    QStringList ranks;
    int done = 0, failed = 0;
    qint64 firstStep = -1, lastStep = -1;
    for (const RankProfile &rank : session.ranks) {
        ranks << QString::number(rank.rank);
        done += rank.state == RankProfile::State::Done;
        failed += rank.state == RankProfile::State::Failed;
        if (rank.state == RankProfile::State::Done) {
            firstStep = firstStep < 0 ? qint64(rank.firstStep) : std::min(firstStep, qint64(rank.firstStep));
            lastStep = std::max(lastStep, qint64(rank.lastStep));
        }
    }
    QString label = when + QStringLiteral(" · ") + counted(session.request.steps, "step", "steps");
    if (firstStep >= 0)
        label += QObject::tr(" (%1–%2)").arg(firstStep).arg(lastStep);
    label += QObject::tr(" · ranks %1").arg(ranks.isEmpty() ? QObject::tr("all") : ranks.join(QLatin1Char(',')));
    if (done + failed < session.ranks.size() || session.ranks.isEmpty())
        label += QObject::tr(" · waiting");
    else if (failed > 0)
        label += QObject::tr(" · %1 failed").arg(failed);
    return label;
}

// A number shown with fixed decimals ("1.000") that sorts as a number.
class NumberItem : public QTableWidgetItem {
public:
    NumberItem(double value, int decimals) : QTableWidgetItem(QString::number(value, 'f', decimals)), m_value(value)
    {
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem &other) const override
    {
        const auto *number = dynamic_cast<const NumberItem *>(&other);
        return number ? m_value < number->m_value : QTableWidgetItem::operator<(other);
    }

private:
    double m_value;
};

QTableWidgetItem *numberItem(double value, int decimals) { return new NumberItem(value, decimals); }

} // namespace

TracesView::TracesView(const QString &runDir, QWidget *parent)
    : QWidget(parent), m_runDir(runDir), m_sessionList(new QComboBox(this)), m_steps(new QSpinBox(this)),
      m_ranks(new QLineEdit(this)), m_profile(new QPushButton(this)), m_status(new QLabel(this)),
      m_operatorRank(new QComboBox(this)), m_operators(new QTableWidget(this)), m_timeline(new TraceTimeline(this)),
      m_refreshTimer(new QTimer(this))
{
    setObjectName(QStringLiteral("runTraces"));
    m_steps->setRange(1, profiling::kMaxSteps);
    m_steps->setValue(5);
    m_steps->setObjectName(QStringLiteral("profileSteps"));
    m_ranks->setPlaceholderText(tr("all ranks"));
    m_ranks->setToolTip(tr("The ranks to profile, like 0,2,5-7; empty: every rank"));
    m_ranks->setMaximumWidth(110);
    m_profile->setObjectName(QStringLiteral("profileButton"));
    m_profile->setIcon(QIcon::fromTheme(QStringLiteral("media-record")));
    connect(m_steps, &QSpinBox::valueChanged, this, &TracesView::updateProfileButton);
    connect(m_profile, &QPushButton::clicked, this, [this] { requestProfile(m_steps->value(), m_ranks->text()); });
    m_sessionList->setObjectName(QStringLiteral("profileSessions"));
    m_sessionList->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_sessionList, &QComboBox::currentIndexChanged, this, &TracesView::openSelectedSession);
    m_status->setObjectName(QStringLiteral("tracesStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto requestRow = new QHBoxLayout;
    requestRow->addWidget(m_profile);
    requestRow->addWidget(new QLabel(tr("steps:"), this));
    requestRow->addWidget(m_steps);
    requestRow->addWidget(new QLabel(tr("ranks:"), this));
    requestRow->addWidget(m_ranks);
    requestRow->addStretch(1);
    auto sessionRow = new QHBoxLayout;
    sessionRow->addWidget(new QLabel(tr("Profile:"), this));
    sessionRow->addWidget(m_sessionList, 1);
    sessionRow->addWidget(new QLabel(tr("operators of"), this));
    sessionRow->addWidget(m_operatorRank);
    m_operatorRank->setObjectName(QStringLiteral("operatorRank"));
    connect(m_operatorRank, &QComboBox::currentIndexChanged, this, &TracesView::showOperators);

    m_operators->setObjectName(QStringLiteral("traceOperators"));
    m_operators->setColumnCount(5);
    m_operators->setHorizontalHeaderLabels(
        {tr("Operator"), tr("Category"), tr("Calls"), tr("Self (ms)"), tr("Total (ms)")});
    m_operators->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_operators->verticalHeader()->hide();
    m_operators->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_operators->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_operators->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_operators->setSortingEnabled(true);
    m_operators->setToolTip(tr("Click a column to rank the operators by self time (their own) or total time "
                               "(with what they call)"));

    m_timeline->setObjectName(QStringLiteral("traceTimeline"));
    auto scroll = new QScrollArea(this);
    scroll->setWidget(m_timeline);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto hint = new QLabel(tr("Wheel: zoom · drag: pan · double-click: everything · hover: an event's details"), this);
    hint->setForegroundRole(QPalette::PlaceholderText);
    auto timelinePane = new QWidget(this);
    auto timelineLayout = new QVBoxLayout(timelinePane);
    timelineLayout->setContentsMargins(0, 0, 0, 0);
    timelineLayout->addWidget(scroll, 1);
    timelineLayout->addWidget(hint);

    auto splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_operators);
    splitter->addWidget(timelinePane);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);

    auto layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(requestRow);
    layout->addLayout(sessionRow);
    layout->addWidget(m_status);
    layout->addWidget(splitter, 1);

    m_refreshTimer->setInterval(kRefreshMs);
    connect(m_refreshTimer, &QTimer::timeout, this, &TracesView::refresh);
    updateProfileButton();
    m_status->setText(tr("No profile yet. While the run is running, \"Profile next steps\" asks its ranks for a "
                         "torch.profiler trace (as `trainyard profile RUN` does)."));
    refresh();
}

void TracesView::setRun(const RunRecord &run)
{
    const bool wasRunning = m_run.status == RunStatus::Running;
    m_run = run;
    updateProfileButton();
    // Look for answers while the run runs (a `trainyard profile` from a terminal shows up here too).
    if (run.status == RunStatus::Running && !m_refreshTimer->isActive())
        m_refreshTimer->start();
    if (wasRunning && run.status != RunStatus::Running)
        refresh(); // answers written as the ranks exited
}

void TracesView::updateProfileButton()
{
    m_profile->setText(tr("Profile next %1").arg(counted(m_steps->value(), "step", "steps")));
    const bool running = m_run.status == RunStatus::Running;
    m_profile->setEnabled(running);
    m_profile->setToolTip(running ? tr("Wrap the next steps of the chosen ranks in torch.profiler; the run goes on")
                                  : tr("A profile is taken from a running run"));
}

void TracesView::refresh()
{
    runOffUiThread(
        this,
        [runDir = m_runDir]() -> std::pair<QList<ProfileSession>, QString> {
            auto sessions = profiling::sessions(runDir);
            if (!sessions)
                return {{}, sessions.error()};
            return {sessions.value(), QString()};
        },
        [this](const std::pair<QList<ProfileSession>, QString> &read) { showSessions(read.first, read.second); },
        &m_sessionsRead);
}

void TracesView::showSessions(const QList<ProfileSession> &sessions, const QString &error)
{
    if (!error.isEmpty()) {
        m_status->setText(tr("Cannot read the run's profiles: %1").arg(error));
        return;
    }
    const QString selected = m_sessionList->currentData().toString();
    const bool newest = m_sessionList->currentIndex() <= 0;
    m_sessions = sessions;
    {
        const QSignalBlocker blocker(m_sessionList);
        m_sessionList->clear();
        for (const ProfileSession &session : sessions)
            m_sessionList->addItem(sessionLabel(session), session.request.id);
        // The newest stays chosen while the user has not picked an older one.
        const int index = newest ? 0 : m_sessionList->findData(selected);
        m_sessionList->setCurrentIndex(std::max(0, index));
    }
    bool pending = false;
    for (const ProfileSession &session : sessions)
        pending = pending || !session.allAnswered();
    if (!pending && m_run.status != RunStatus::Running)
        m_refreshTimer->stop();
    if (m_requestPending && !sessions.isEmpty() && sessions.front().allAnswered())
        m_requestPending = false;
    openSelectedSession();
}

void TracesView::requestProfile(int steps, const QString &ranks)
{
    const RunRecord run = m_run;
    m_profile->setEnabled(false);
    m_status->setText(tr("Asking the ranks…"));
    runOffUiThread(
        this,
        [run, runDir = m_runDir, steps, ranks]() -> QString {
            const int rankCount = perf::contextFor(runDir).rankCount; // 0: not known (no spec)
            auto chosen = profiling::parseRankList(ranks, rankCount);
            if (!chosen)
                return tr("Not asked: %1").arg(chosen.error());
            auto request = profiling::request(run, runDir, rankCount, steps, chosen.value(), std::chrono::seconds(120));
            if (!request)
                return tr("Not asked: %1").arg(request.error());
            return QString();
        },
        [this, steps](const QString &error) {
            updateProfileButton();
            if (!error.isEmpty()) {
                m_status->setText(error);
                return;
            }
            m_requestPending = true;
            m_requestMessage = tr("Asked for %1; each rank starts at its next step boundary and writes its trace "
                                  "when done.")
                                   .arg(counted(steps, "step", "steps"));
            m_status->setText(m_requestMessage);
            m_sessionList->setCurrentIndex(-1); // the new request is the newest: show it when it is read
            if (!m_refreshTimer->isActive())
                m_refreshTimer->start();
            refresh();
        });
}

void TracesView::openSelectedSession()
{
    const int index = m_sessionList->currentIndex();
    if (index < 0 || index >= m_sessions.size())
        return;
    const ProfileSession session = m_sessions[index];
    const QList<int> traced = session.tracedRanks();
    QStringList problems;
    for (const RankProfile &rank : session.ranks) {
        if (rank.state == RankProfile::State::Failed)
            problems << tr("rank %1: %2").arg(rank.rank).arg(rank.error);
        else if (!rank.answered())
            problems << tr("rank %1: %2")
                            .arg(rank.rank)
                            .arg(rank.state == RankProfile::State::Profiling ? tr("profiling…")
                                                                             : tr("waiting for its next step"));
    }
    if (session.request.id == m_openedSession && traced == m_openedRanks) {
        if (!m_loading && !problems.isEmpty()) {
            QStringList lines;
            if (m_requestPending && index == 0)
                lines << m_requestMessage;
            m_status->setText((lines + problems).join(QLatin1Char('\n')));
        }
        return; // already shown
    }
    m_openedSession = session.request.id;
    m_openedRanks = traced;
    if (traced.isEmpty()) {
        QStringList lines;
        if (m_requestPending && index == 0)
            lines << m_requestMessage;
        if (!problems.isEmpty())
            lines << problems;
        else
            lines << (session.allAnswered() ? tr("No trace in this profile.") : tr("Waiting for the ranks' answers…"));
        m_status->setText(lines.join(QLatin1Char('\n')));
        m_timeline->setTraces({});
        m_operators->setRowCount(0);
        return;
    }
    m_loading = true;
    m_status->setText(tr("Reading %1…").arg(counted(traced.size(), "trace", "traces")));
    QList<std::pair<int, QString>> files;
    for (const RankProfile &rank : session.ranks)
        if (rank.state == RankProfile::State::Done)
            files.append({rank.rank, rank.tracePath});
    runOffUiThread(
        this,
        [files]() -> std::pair<QList<TimelineTrace>, QStringList> {
            QList<TimelineTrace> traces;
            QStringList errors;
            for (const auto &[rank, path] : files) {
                auto trace = ChromeTrace::load(path);
                if (trace)
                    traces.append({QObject::tr("rank %1").arg(rank), trace.value()});
                else
                    errors << trace.error();
            }
            return {traces, errors};
        },
        [this, problems](const std::pair<QList<TimelineTrace>, QStringList> &loaded) {
            m_loading = false;
            m_traces = loaded.first;
            m_timeline->setTraces(m_traces);
            {
                const QSignalBlocker blocker(m_operatorRank);
                m_operatorRank->clear();
                for (const TimelineTrace &trace : m_traces)
                    m_operatorRank->addItem(trace.label);
            }
            showOperators();
            QStringList lines = problems + loaded.second;
            if (lines.isEmpty()) {
                lines << tr("%1 traced").arg(counted(m_traces.size(), "rank", "ranks"));
                if (const auto step = m_timeline->alignedStep())
                    lines.last() += tr(", aligned at the start of step %1").arg(*step);
                if (!m_traces.isEmpty() && m_traces.front().trace.skippedEvents() > 0)
                    lines.last() += tr(" (%1 of other kinds not drawn)")
                                        .arg(counted(m_traces.front().trace.skippedEvents(), "event", "events"));
            }
            m_status->setText(lines.join(QLatin1Char('\n')));
            emit tracesShown();
        },
        &m_tracesRead);
}

void TracesView::showOperators()
{
    const int index = m_operatorRank->currentIndex();
    m_operators->setSortingEnabled(false);
    m_operators->setRowCount(0);
    if (index < 0 || index >= m_traces.size())
        return;
    const QList<TraceOperator> operators = m_traces[index].trace.operators();
    const int rows = int(std::min<qsizetype>(operators.size(), kOperatorRows));
    m_operators->setRowCount(rows);
    for (int row = 0; row < rows; ++row) {
        const TraceOperator &op = operators[row];
        m_operators->setItem(row, 0, new QTableWidgetItem(op.name));
        m_operators->setItem(row, 1, new QTableWidgetItem(op.category));
        m_operators->setItem(row, 2, numberItem(double(op.calls), 0));
        m_operators->setItem(row, 3, numberItem(op.selfUs / 1000, 3));
        m_operators->setItem(row, 4, numberItem(op.totalUs / 1000, 3));
    }
    m_operators->setSortingEnabled(true);
    m_operators->sortByColumn(3, Qt::DescendingOrder);
}

QStringList TracesView::sessionLabels() const
{
    QStringList labels;
    for (int i = 0; i < m_sessionList->count(); ++i)
        labels << m_sessionList->itemText(i);
    return labels;
}

QString TracesView::statusText() const { return m_status->text(); }

QStringList TracesView::operatorNames(int count) const
{
    QStringList names;
    for (int row = 0; row < std::min(count, m_operators->rowCount()); ++row)
        names << m_operators->item(row, 0)->text();
    return names;
}

int TracesView::operatorRank() const
{
    const int index = m_operatorRank->currentIndex();
    if (index < 0 || index >= m_traces.size())
        return -1;
    return m_traces[index].label.mid(5).toInt();
}

} // namespace trainyard
