#include "perf/profilerequest.h"

#include "atomicfile.h"
#include "store/runrecord.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>

namespace trainyard {

namespace {

QString profileRoot(const QString &runDir) { return runDir + QStringLiteral("/profile"); }

RankProfile::State stateFromName(const QString &name)
{
    if (name == QLatin1String("done"))
        return RankProfile::State::Done;
    if (name == QLatin1String("failed"))
        return RankProfile::State::Failed;
    return RankProfile::State::Profiling;
}

Result<QJsonObject> readJsonObject(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return fail(QStringLiteral("%1 is not a JSON object: %2").arg(path, error.errorString()));
    return document.object();
}

ProfileRequest requestFromJson(const QJsonObject &object)
{
    ProfileRequest request;
    request.id = object.value(QStringLiteral("id")).toString();
    request.steps = object.value(QStringLiteral("steps")).toInt();
    for (const QJsonValue &rank : object.value(QStringLiteral("ranks")).toArray())
        request.ranks.append(rank.toInt());
    request.requestedMs = object.value(QStringLiteral("requested_ms")).toInteger();
    request.expiresMs = object.value(QStringLiteral("expires_ms")).toInteger();
    return request;
}

QJsonObject requestToJson(const ProfileRequest &request)
{
    QJsonObject object{{QStringLiteral("id"), request.id},
                       {QStringLiteral("steps"), request.steps},
                       {QStringLiteral("requested_ms"), qint64(request.requestedMs)},
                       {QStringLiteral("expires_ms"), qint64(request.expiresMs)}};
    if (request.ranks.isEmpty()) {
        object.insert(QStringLiteral("ranks"), QJsonValue::Null);
    } else {
        QJsonArray ranks;
        for (int rank : request.ranks)
            ranks.append(rank);
        object.insert(QStringLiteral("ranks"), ranks);
    }
    return object;
}

} // namespace

QString RankProfile::stateName() const
{
    switch (state) {
    case State::Waiting:
        return QStringLiteral("waiting");
    case State::Profiling:
        return QStringLiteral("profiling");
    case State::Done:
        return QStringLiteral("done");
    case State::Failed:
        return QStringLiteral("failed");
    }
    return {};
}

bool ProfileSession::allAnswered() const
{
    return !ranks.isEmpty()
        && std::all_of(ranks.begin(), ranks.end(), [](const RankProfile &r) { return r.answered(); });
}

QList<int> ProfileSession::tracedRanks() const
{
    QList<int> traced;
    for (const RankProfile &rank : ranks)
        if (rank.state == RankProfile::State::Done)
            traced.append(rank.rank);
    return traced;
}

namespace profiling {

Result<QList<int>> parseRankList(const QString &text, int rankCount)
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty() || trimmed == QLatin1String("all"))
        return QList<int>{};
    static const QRegularExpression item(QStringLiteral("^(\\d{1,6})(?:-(\\d{1,6}))?$"));
    QList<int> ranks;
    for (const QString &part : trimmed.split(QLatin1Char(','))) {
        const auto match = item.match(part.trimmed());
        if (!match.hasMatch())
            return fail(QStringLiteral("'%1' is not a rank or a range of ranks (write them like 0,2,5-7)").arg(part));
        const int first = match.captured(1).toInt();
        const int last = match.captured(2).isEmpty() ? first : match.captured(2).toInt();
        if (last < first)
            return fail(QStringLiteral("the range '%1' runs backwards").arg(part.trimmed()));
        for (int rank = first; rank <= last; ++rank) {
            if (rankCount > 0 && rank >= rankCount)
                return fail(QStringLiteral("rank %1 is not a rank of this run (it has %2: 0-%3)")
                                .arg(rank)
                                .arg(rankCount)
                                .arg(rankCount - 1));
            if (!ranks.contains(rank))
                ranks.append(rank);
        }
    }
    std::sort(ranks.begin(), ranks.end());
    return ranks;
}

Result<ProfileRequest> request(const RunRecord &run, const QString &runDir, int rankCount, int steps,
                               const QList<int> &ranks, std::chrono::seconds answerWithin)
{
    if (run.status != RunStatus::Running)
        return fail(QStringLiteral("run %1 is %2, not running: a profile is taken from a live run")
                        .arg(run.name.isEmpty() ? run.id : run.name, toString(run.status)));
    if (steps < 1 || steps > kMaxSteps)
        return fail(QStringLiteral("--steps must be from 1 to %1, not %2").arg(kMaxSteps).arg(steps));
    for (int rank : ranks)
        if (rank < 0 || (rankCount > 0 && rank >= rankCount))
            return fail(QStringLiteral("rank %1 is not a rank of this run (it has %2)").arg(rank).arg(rankCount));
    if (!QFileInfo(runDir).isDir())
        return fail(QStringLiteral("the run's folder %1 does not exist").arg(runDir));
    const QString root = profileRoot(runDir);
    if (!QDir().mkpath(root))
        return fail(QStringLiteral("cannot create %1").arg(root));

    ProfileRequest request;
    request.requestedMs = QDateTime::currentMSecsSinceEpoch();
    request.id = QStringLiteral("p%1").arg(request.requestedMs);
    // Two requests in the same millisecond get distinct folders.
    while (QFileInfo::exists(root + QLatin1Char('/') + request.id))
        request.id = QStringLiteral("p%1").arg(++request.requestedMs);
    request.steps = steps;
    request.ranks = ranks;
    // "Every rank" is written as the run's ranks when it is known, so that whoever waits knows whom to wait for.
    if (request.ranks.isEmpty())
        for (int rank = 0; rank < rankCount; ++rank)
            request.ranks.append(rank);
    request.expiresMs = request.requestedMs + std::chrono::milliseconds(answerWithin).count();
    // The folder first: it is what sessions() lists, and a rank's answers go into it.
    if (!QDir().mkpath(root + QLatin1Char('/') + request.id))
        return fail(QStringLiteral("cannot create %1/%2").arg(root, request.id));
    const QJsonObject object = requestToJson(request);
    if (auto written = writeFileAtomically(root + QLatin1Char('/') + request.id + QStringLiteral("/request.json"),
                                           QJsonDocument(object).toJson(QJsonDocument::Compact));
        !written)
        return fail(written.error());
    if (auto written = writeFileAtomically(root + QStringLiteral("/request.json"),
                                           QJsonDocument(object).toJson(QJsonDocument::Compact));
        !written)
        return fail(written.error());
    return request;
}

Result<ProfileSession> readSession(const QString &runDir, const QString &requestId)
{
    ProfileSession session;
    session.folder = profileRoot(runDir) + QLatin1Char('/') + requestId;
    auto requestObject = readJsonObject(session.folder + QStringLiteral("/request.json"));
    if (!requestObject)
        return fail(requestObject.error());
    session.request = requestFromJson(requestObject.value());
    for (int rank : session.request.ranks) {
        RankProfile waiting;
        waiting.rank = rank;
        session.ranks.append(waiting);
    }

    static const QRegularExpression statusName(QStringLiteral("^rank(\\d+)\\.status\\.json$"));
    const QDir folder(session.folder);
    for (const QString &name : folder.entryList({QStringLiteral("rank*.status.json")}, QDir::Files, QDir::Name)) {
        const auto match = statusName.match(name);
        if (!match.hasMatch())
            continue;
        auto object = readJsonObject(folder.filePath(name));
        if (!object)
            return fail(object.error());
        RankProfile answer;
        answer.rank = match.captured(1).toInt();
        answer.state = stateFromName(object->value(QStringLiteral("state")).toString());
        answer.error = object->value(QStringLiteral("error")).toString();
        answer.firstStep = object->value(QStringLiteral("first_step")).toInteger(-1);
        answer.lastStep = object->value(QStringLiteral("last_step")).toInteger(-1);
        answer.bytes = object->value(QStringLiteral("bytes")).toInteger();
        answer.endedEarly = object->value(QStringLiteral("ended_early")).toBool();
        for (const QJsonValue &activity : object->value(QStringLiteral("activities")).toArray())
            answer.activities.append(activity.toString());
        const QString trace = object->value(QStringLiteral("trace")).toString();
        if (answer.state == RankProfile::State::Done) {
            // The rank names a file of its folder; anything else is not followed.
            if (trace.isEmpty() || trace.contains(QLatin1Char('/')) || !folder.exists(trace)) {
                answer.state = RankProfile::State::Failed;
                answer.error = QStringLiteral("its status names a trace that is not in %1").arg(session.folder);
            } else {
                answer.tracePath = folder.filePath(trace);
            }
        }
        auto existing = std::find_if(session.ranks.begin(), session.ranks.end(),
                                     [&](const RankProfile &r) { return r.rank == answer.rank; });
        if (existing != session.ranks.end())
            *existing = answer;
        else
            session.ranks.append(answer);
    }
    std::sort(session.ranks.begin(), session.ranks.end(),
              [](const RankProfile &a, const RankProfile &b) { return a.rank < b.rank; });
    return session;
}

Result<QList<ProfileSession>> sessions(const QString &runDir)
{
    QList<ProfileSession> found;
    const QDir root(profileRoot(runDir));
    if (!root.exists())
        return found;
    static const QRegularExpression idPattern(QStringLiteral("^p\\d+$"));
    QStringList ids = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    ids.removeIf([](const QString &id) { return !idPattern.match(id).hasMatch(); });
    // Newest first: ids are the request's epoch milliseconds.
    std::sort(ids.begin(), ids.end(),
              [](const QString &a, const QString &b) { return a.mid(1).toLongLong() > b.mid(1).toLongLong(); });
    for (const QString &id : ids) {
        auto session = readSession(runDir, id);
        if (!session)
            return fail(session.error());
        found.append(session.value());
    }
    return found;
}

QString silentRankMessage(int rank, bool rankWroteStepTiming, std::chrono::seconds waited)
{
    if (!rankWroteStepTiming)
        return QStringLiteral("rank %1 has no Trainyard client; add `import trainyard_log` to the script (and call "
                              "trainyard_log.log() or trainyard_log.step() once a step)")
            .arg(rank);
    return QStringLiteral("rank %1 did not take up the request within %2 s: it has not ended a step since (is it "
                          "stuck? `trainyard show` tells)")
        .arg(rank)
        .arg(waited.count());
}

} // namespace profiling
} // namespace trainyard
