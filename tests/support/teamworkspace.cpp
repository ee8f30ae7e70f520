#include "support/teamworkspace.h"

#include "store/metricchunk.h"
#include "store/sqlite.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <random>

namespace trainyard::test {

std::vector<GeneratedRun> generateTeamRuns(StoreWriter &writer, int count, std::uint32_t seed, const QDateTime &start)
{
    std::mt19937 random(seed);
    const auto pick = [&](const QStringList &options) { return options.at(int(random() % options.size())); };
    const auto between = [&](std::int64_t low, std::int64_t high) { return low + std::int64_t(random() % std::uint64_t(high - low + 1)); };
    const QStringList users{"alice", "bob", "carol", "dave"}, projects{"vision", "nlp", "rl"}, backends{"local", "lab"},
        hosts{"ws1", "ws2", "login1"}, tags{"baseline", "ablation", "debug"}, causes{"cuda-oom", "nccl", "python-exception", "hang", "exit"};
    const std::int64_t startMs = start.toMSecsSinceEpoch();
    std::vector<GeneratedRun> runs;
    runs.reserve(std::size_t(count));
    for (int i = 0; i < count; ++i) {
        GeneratedRun run;
        run.createdMs = startMs + between(0, 28LL * 24 * 3600 * 1000 - 1);
        run.user = pick(users);
        run.project = pick(projects);
        run.backend = pick(backends);
        run.host = pick(hosts);
        for (const QString &tag : tags)
            if (random() % 3 == 0)
                run.tags << tag;
        run.gpus = QList<int>{0, 1, 2, 4, 8}.at(int(random() % 5));
        std::int64_t t = run.createdMs;
        run.events.push_back({QStringLiteral("queued"), t});
        const int shape = int(random() % 100);
        if (shape < 4) { // still queued
        } else if (shape < 8) { // failed before any rank started (a refused submission)
            run.events.push_back({QStringLiteral("failed"), t += between(100, 5000)});
        } else if (shape < 11) { // canceled while queued
            run.events.push_back({QStringLiteral("canceled"), t += between(1000, 600000)});
        } else {
            t += between(0, 3600 * 1000); // queue wait
            run.events.push_back({QStringLiteral("starting"), t});
            run.events.push_back({QStringLiteral("running"), t += between(200, 20000)});
            if (random() % 5)
                run.firstMetricMs = t + between(1000, 600000);
            const int restarts = random() % 6 == 0 ? int(between(1, 3)) : 0;
            for (int r = 0; r < restarts; ++r) {
                run.events.push_back({QStringLiteral("restarting"), t += between(60000, 3600000)});
                run.events.push_back({QStringLiteral("running"), t += between(1000, 30000)});
            }
            const int end = int(random() % 100);
            t += between(60000, 6 * 3600000LL);
            if (end < 55) {
                run.events.push_back({QStringLiteral("succeeded"), t});
            } else if (end < 80) {
                run.events.push_back({QStringLiteral("failed"), t});
                run.cause = pick(causes);
            } else if (end < 88) {
                run.events.push_back({QStringLiteral("canceled"), t});
            } else if (end < 92) {
                run.events.push_back({QStringLiteral("lost"), t});
            } // else still running
            if (run.gpus > 0 && random() % 4 == 0)
                run.gpuUtilization = double(between(0, 100));
        }
        runs.push_back(std::move(run));
    }

    // Written through the real writer, in bulk: creation, every state change, exit summaries, metric points.
    std::vector<std::future<Result<QString>>> created;
    created.reserve(runs.size());
    for (GeneratedRun &run : runs) {
        NewRun row;
        row.name = QStringLiteral("gen");
        row.command = {QStringLiteral("python3"), QStringLiteral("train.py")};
        row.cwd = QStringLiteral("/work");
        row.host = run.host;
        row.backend = run.backend;
        row.tags = run.tags;
        row.user = run.user;
        row.project = run.project;
        row.gpus = run.gpus;
        row.initialStatus = RunStatus::Queued;
        row.createdAt = QDateTime::fromMSecsSinceEpoch(run.createdMs, Qt::UTC);
        created.push_back(writer.createRun(row));
    }
    for (std::size_t i = 0; i < runs.size(); ++i)
        runs[i].id = created[i].get().value();
    std::vector<std::future<Result<void>>> writes;
    for (const GeneratedRun &run : runs) {
        for (std::size_t e = 1; e < run.events.size(); ++e)
            writes.push_back(writer.recordStatus(run.id, *runStatusFromString(run.events[e].status),
                                                 QDateTime::fromMSecsSinceEpoch(run.events[e].atMs, Qt::UTC)));
        if (!run.cause.isEmpty())
            writes.push_back(writer.setExitSummary(run.id, QString::fromUtf8(QJsonDocument(QJsonObject{
                {QStringLiteral("status"), QStringLiteral("failed")},
                {QStringLiteral("first_failure"), QJsonObject{{QStringLiteral("cause"), run.cause}, {QStringLiteral("rank"), 0}}}}).toJson(QJsonDocument::Compact))));
        else if (run.events.back().status != QLatin1String("failed") && isTerminal(*runStatusFromString(run.events.back().status)))
            writes.push_back(writer.setExitSummary(run.id, QStringLiteral("{\"status\":\"%1\",\"first_failure\":null}").arg(run.events.back().status)));
        const auto addPoint = [&](const QString &key, double value, std::int64_t tsMs) {
            writes.push_back(writer.submit<void>([runId = run.id, key, value, tsMs](SqliteConnection &connection) -> Result<void> {
                auto keyId = metricKeyId(connection, runId, key);
                if (!keyId)
                    return fail(keyId.error());
                const std::int64_t step = 0;
                return insertMetricChunk(connection, *keyId, std::span(&step, 1), std::span(&value, 1), std::span(&tsMs, 1));
            }));
        };
        if (run.firstMetricMs)
            addPoint(QStringLiteral("loss"), 1.0, *run.firstMetricMs);
        if (run.gpuUtilization)
            addPoint(QStringLiteral("sys/gpu0/utilization_percent"), *run.gpuUtilization, run.events[2].atMs + 1000);
    }
    for (auto &write : writes)
        (void)write.get();
    return runs;
}

} // namespace trainyard::test
