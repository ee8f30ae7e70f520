// trainyard profile RUN: asks a live run's ranks for a torch.profiler trace of their next N steps
// (core/perf/profilerequest.h), waits for their answers and says where each rank's Chrome trace is, or why a rank
// gave none.
#include "cli/subcommand.h"

#include "launch/runrecovery.h"
#include "perf/profilerequest.h"
#include "perf/perfsummary.h"
#include "store/metricqueries.h"
#include "store/runqueries.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonArray>
#include <QLocale>
#include <QThread>

namespace trainyard::cli {

namespace {

// The ranks that wrote step timing (perf/rank<N>/...): they run the Trainyard client and end their steps through it.
QSet<int> ranksWithStepTiming(const Workspace &workspace, const QString &runId)
{
    QSet<int> ranks;
    auto connection = workspace.database().connect();
    if (!connection)
        return ranks;
    auto keys = metricqueries::keySummaries(connection.value(), runId);
    if (!keys)
        return ranks;
    for (const MetricKeySummary &key : keys.value()) {
        if (!key.key.startsWith(QLatin1String("perf/rank")))
            continue;
        const QString rest = key.key.mid(9);
        bool ok = false;
        const int rank = rest.left(rest.indexOf(QLatin1Char('/'))).toInt(&ok);
        if (ok)
            ranks.insert(rank);
    }
    return ranks;
}

} // namespace

int runProfile(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    const QString command = QStringLiteral("profile");
    QCommandLineParser parser;
    const QCommandLineOption stepsOption(QStringLiteral("steps"),
                                         QStringLiteral("Profile this many steps on each chosen rank (default 5)."),
                                         QStringLiteral("N"), QStringLiteral("5"));
    const QCommandLineOption ranksOption(QStringLiteral("ranks"),
                                         QStringLiteral("The ranks to profile, like 0,2,5-7 (default: every rank)."),
                                         QStringLiteral("LIST"));
    const QCommandLineOption timeoutOption(
        QStringLiteral("timeout"),
        QStringLiteral("Wait at most this many seconds for the traces (default 120); ranks take the request up "
                       "only within it."),
        QStringLiteral("SECONDS"), QStringLiteral("120"));
    const QCommandLineOption noWait(QStringLiteral("no-wait"),
                                    QStringLiteral("Ask and return at once; the traces appear in the run folder."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print the request and its answers as JSON."));
    parser.addOptions({stepsOption, ranksOption, timeoutOption, noWait, json});
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run id, unique id prefix, or name."));
    if (auto exit = parseSubcommandArguments(parser, command, arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
        return usageFailure(streams, parser, command, QStringLiteral("give exactly one run"));
    bool stepsOk = false, timeoutOk = false;
    const int steps = parser.value(stepsOption).toInt(&stepsOk);
    const int timeoutSeconds = parser.value(timeoutOption).toInt(&timeoutOk);
    if (!stepsOk || steps < 1 || steps > profiling::kMaxSteps)
        return usageFailure(streams, parser, command,
                            QStringLiteral("--steps must be a whole number from 1 to %1, not '%2'")
                                .arg(profiling::kMaxSteps)
                                .arg(parser.value(stepsOption)));
    if (!timeoutOk || timeoutSeconds < 1 || timeoutSeconds > 24 * 3600)
        return usageFailure(streams, parser, command,
                            QStringLiteral("--timeout must be a number of seconds from 1 to 86400, not '%1'")
                                .arg(parser.value(timeoutOption)));

    auto found = findRunForCommand(parser, workspaceBefore);
    if (!found)
        return reportFailure(streams, command, found.error());
    RunRecord run = found->run;
    if (isAbandoned(found->workspace, run))
        run.status = abandonedRunStatus(found->workspace, run);
    const QString runDir = found->workspace.runDir(run.id);
    const int rankCount = perf::contextFor(runDir).rankCount; // 0: not known (no spec)
    auto ranks = profiling::parseRankList(parser.value(ranksOption), rankCount);
    if (!ranks)
        return usageFailure(streams, parser, command, QStringLiteral("--ranks: ") + ranks.error());
    const std::chrono::seconds timeout(timeoutSeconds);
    auto request = profiling::request(run, runDir, rankCount, steps, ranks.value(), timeout);
    if (!request)
        return reportFailure(streams, command, request.error());

    // Wait for every chosen rank's answer, the run's end, or the timeout.
    ProfileSession session;
    session.request = request.value();
    QElapsedTimer waited;
    waited.start();
    QString endedAs;
    while (!parser.isSet(noWait)) {
        auto read = profiling::readSession(runDir, request->id);
        if (!read)
            return reportFailure(streams, command, read.error());
        session = read.value();
        if (session.allAnswered() || waited.elapsed() >= timeout.count() * 1000)
            break;
        auto connection = found->workspace.database().connect();
        if (connection) {
            auto now = runqueries::findRun(connection.value(), run.id);
            if (now && isTerminal(now->status)) {
                // Answers written as the ranks exited are read once more.
                QThread::msleep(300);
                if (auto last = profiling::readSession(runDir, request->id))
                    session = last.value();
                if (!session.allAnswered())
                    endedAs = toString(now->status);
                break;
            }
        }
        QThread::msleep(200);
    }

    // What each rank gave, or why it gave nothing.
    const QSet<int> timed = ranksWithStepTiming(found->workspace, run.id);
    QJsonArray results;
    int failures = 0;
    QStringList lines;
    for (const RankProfile &rank : session.ranks) {
        QJsonObject result{{QStringLiteral("rank"), rank.rank}, {QStringLiteral("state"), rank.stateName()}};
        QString line = QStringLiteral("rank %1: ").arg(rank.rank);
        if (rank.state == RankProfile::State::Done) {
            result.insert(QStringLiteral("trace"), rank.tracePath);
            result.insert(QStringLiteral("first_step"), qint64(rank.firstStep));
            result.insert(QStringLiteral("last_step"), qint64(rank.lastStep));
            result.insert(QStringLiteral("bytes"), qint64(rank.bytes));
            result.insert(QStringLiteral("activities"), QJsonArray::fromStringList(rank.activities));
            line += QStringLiteral("%1 (steps %2-%3, %4%5)")
                        .arg(rank.tracePath)
                        .arg(rank.firstStep)
                        .arg(rank.lastStep)
                        .arg(QLocale::c().formattedDataSize(rank.bytes, 1),
                             rank.endedEarly ? QStringLiteral(", the script ended before all steps") : QString());
        } else {
            QString why;
            if (rank.state == RankProfile::State::Failed)
                why = rank.error;
            else if (parser.isSet(noWait))
                why = QStringLiteral("asked; its trace will be %1/rank%2.json").arg(session.folder).arg(rank.rank);
            else if (rank.state == RankProfile::State::Profiling)
                why = endedAs.isEmpty() ? QStringLiteral("still profiling after %1 s").arg(timeoutSeconds)
                                        : QStringLiteral("the run ended (%1) while it was profiling").arg(endedAs);
            else if (!endedAs.isEmpty() && timed.contains(rank.rank))
                why =
                    QStringLiteral("the run ended (%1) before rank %2 took up the request").arg(endedAs).arg(rank.rank);
            else
                why = profiling::silentRankMessage(rank.rank, timed.contains(rank.rank),
                                                   std::chrono::seconds(waited.elapsed() / 1000));
            if (!parser.isSet(noWait))
                ++failures;
            result.insert(QStringLiteral("error"), why);
            line += why;
        }
        results.append(result);
        lines.append(line);
    }

    if (parser.isSet(json)) {
        QJsonArray chosen;
        for (int rank : request->ranks)
            chosen.append(rank);
        QJsonObject object{
            {QStringLiteral("request"), request->id},
            {QStringLiteral("run_id"), run.id},
            {QStringLiteral("steps"), steps},
            {QStringLiteral("ranks"), chosen},
            {QStringLiteral("folder"),
             session.folder.isEmpty() ? runDir + QStringLiteral("/profile/") + request->id : session.folder},
            {QStringLiteral("waited_s"), double(waited.elapsed()) / 1000},
            {QStringLiteral("results"), results}};
        streams.out << QJsonDocument(object).toJson(QJsonDocument::Indented);
    } else {
        streams.out << "profile " << request->id << " of run " << run.id << ": " << steps << " step"
                    << (steps == 1 ? "" : "s") << " on "
                    << (parser.value(ranksOption).trimmed().isEmpty() || request->ranks.isEmpty()
                            ? QStringLiteral("every rank")
                            : QStringLiteral("rank%1 %2")
                                  .arg(request->ranks.size() == 1 ? QString() : QStringLiteral("s"),
                                       parser.value(ranksOption).trimmed()))
                    << '\n';
        for (const QString &line : lines)
            streams.out << "  " << line << '\n';
        if (!parser.isSet(noWait) && failures == 0 && !session.ranks.isEmpty())
            streams.out << "open them on the run page's Traces tab, or in chrome://tracing or Perfetto\n";
    }
    if (failures > 0) {
        streams.err << "trainyard profile: " << failures << " of " << session.ranks.size()
                    << " rank(s) gave no trace (see above)\n";
        return kExitFailure;
    }
    if (session.ranks.isEmpty() && !parser.isSet(noWait))
        return reportFailure(
            streams, command,
            QStringLiteral("no rank answered within %1 s; does the script import trainyard_log?").arg(timeoutSeconds));
    return kExitOk;
}

} // namespace trainyard::cli
