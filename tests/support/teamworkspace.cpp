#include "support/teamworkspace.h"

#include "store/metricchunk.h"
#include "store/sqlite.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <random>

namespace trainyard::test {

std::vector<GeneratedRun> generateTeamRuns(StoreWriter &writer, int count, std::uint32_t seed, const QDateTime &start)
{
    std::mt19937 random(seed);
    const auto pick = [&](const QStringList &options) { return options.at(int(random() % options.size())); };
    const auto between = [&](std::int64_t low, std::int64_t high) {
        return low + std::int64_t(random() % std::uint64_t(high - low + 1));
    };
    const QStringList users{"alice", "bob", "carol", "dave"}, projects{"vision", "nlp", "rl"}, backends{"local", "lab"},
        hosts{"ws1", "ws2", "login1"}, tags{"baseline", "ablation", "debug"},
        causes{"cuda-oom", "nccl", "python-exception", "hang", "exit"};
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
        if (shape < 4) {        // still queued
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
            writes.push_back(writer.setExitSummary(
                run.id,
                QString::fromUtf8(QJsonDocument(QJsonObject{{QStringLiteral("status"), QStringLiteral("failed")},
                                                            {QStringLiteral("first_failure"),
                                                             QJsonObject{{QStringLiteral("cause"), run.cause},
                                                                         {QStringLiteral("rank"), 0}}}})
                                      .toJson(QJsonDocument::Compact))));
        else if (run.events.back().status != QLatin1String("failed")
                 && isTerminal(*runStatusFromString(run.events.back().status)))
            writes.push_back(writer.setExitSummary(
                run.id, QStringLiteral("{\"status\":\"%1\",\"first_failure\":null}").arg(run.events.back().status)));
        const auto addPoint = [&](const QString &key, double value, std::int64_t tsMs) {
            writes.push_back(
                writer.submit<void>([runId = run.id, key, value, tsMs](SqliteConnection &connection) -> Result<void> {
                    auto keyId = metricKeyId(connection, runId, key);
                    if (!keyId)
                        return fail(keyId.error());
                    const std::int64_t step = 0;
                    return insertMetricChunk(connection, *keyId, std::span(&step, 1), std::span(&value, 1),
                                             std::span(&tsMs, 1));
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

QString addLabDetails(StoreWriter &writer, const std::vector<GeneratedRun> &runs, int sweepRuns)
{
    const QString sweepId = QStringLiteral("sweep-lab-%1").arg(sweepRuns);
    auto written = writer.submit<void>([&runs, sweepRuns, sweepId](SqliteConnection &connection) -> Result<void> {
        // The writer runs this in one transaction of its own.
        auto addSweep =
            connection.prepare("INSERT OR IGNORE INTO sweeps (id, name, spec, created_ms) VALUES (?, 'lab', '', 0)");
        if (!addSweep)
            return fail(addSweep.error());
        addSweep->bind(1, sweepId);
        if (auto added = addSweep->run(); !added)
            return added;
        auto param = connection.prepare("INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?, ?, ?)");
        auto sweep = connection.prepare("UPDATE runs SET sweep_id = ?2 WHERE id = ?1");
        auto tag = connection.prepare("INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)");
        if (!param || !sweep || !tag)
            return fail(QStringLiteral("cannot prepare the lab details"));
        std::mt19937 random(7);
        const QStringList optimizers{"adam", "sgd", "adamw", "lion"};
        for (std::size_t i = 0; i < runs.size(); ++i) {
            const QString &id = runs[i].id;
            const QList<QPair<QString, QString>> params{
                {QStringLiteral("lr"),
                 QString::number(std::pow(10.0, -1.0 - double(random() % 4000) / 1000.0), 'g', 6)},
                {QStringLiteral("batch_size"), QString::number(16 << (random() % 6))},
                {QStringLiteral("optimizer"), optimizers.at(int(random() % 4))},
                {QStringLiteral("amp"), random() % 2 ? QStringLiteral("true") : QStringLiteral("false")},
                {QStringLiteral("layers"), QStringLiteral("[%1, %2]").arg(random() % 64).arg(random() % 64)},
            };
            for (const auto &[key, value] : params) {
                param->reset();
                param->bind(1, id);
                param->bind(2, key);
                param->bind(3, value);
                if (auto run = param->run(); !run)
                    return run;
            }
            if (int(i) < sweepRuns) {
                sweep->reset();
                sweep->bind(1, id);
                sweep->bind(2, sweepId);
                tag->reset();
                tag->bind(1, id);
                tag->bind(2, QStringLiteral("sweep:lab"));
                if (auto run = sweep->run(); !run)
                    return run;
                if (auto run = tag->run(); !run)
                    return run;
            }
        }
        // The odd rows, on the last runs (none of them in the sweep).
        if (runs.size() >= 6) {
            const std::size_t last = runs.size() - 1;
            const auto execute = [&](const QString &sql, const QString &value, const QString &id) -> Result<void> {
                auto statement = connection.prepare(sql.toUtf8().constData());
                if (!statement)
                    return fail(statement.error());
                statement->bind(1, value);
                statement->bind(2, id);
                return statement->run();
            };
            QString longName;
            for (int i = 0; longName.size() < 10000; ++i)
                longName += QStringLiteral("very-long-name-%1-").arg(i);
            if (auto done = execute(QStringLiteral("UPDATE runs SET name = ?1 WHERE id = ?2"), longName.left(10000),
                                    runs[last].id);
                !done)
                return done;
            if (auto done =
                    execute(QStringLiteral("UPDATE runs SET name = ?1 WHERE id = ?2"),
                            QStringLiteral("two\nlines \u05e9\u05dc\u05d5\u05dd \U0001F680"), runs[last - 1].id);
                !done)
                return done;
            for (int t = 0; t < 1000; ++t) {
                tag->reset();
                tag->bind(1, runs[last - 2].id);
                tag->bind(2, QStringLiteral("tag-%1").arg(t, 4, 10, QLatin1Char('0')));
                if (auto run = tag->run(); !run)
                    return run;
            }
            if (auto done = execute(
                    QStringLiteral("UPDATE runs SET status = ?1, started_ms = NULL, ended_ms = NULL WHERE id = ?2"),
                    QStringLiteral("running"), runs[last - 3].id);
                !done)
                return done;
            if (auto done = execute(
                    QStringLiteral("UPDATE runs SET status = ?1, started_ms = NULL, ended_ms = NULL WHERE id = ?2"),
                    QStringLiteral("succeeded"), runs[last - 4].id);
                !done)
                return done;
            if (auto done = execute(QStringLiteral("UPDATE runs SET exit_summary = ?1 WHERE id = ?2"),
                                    QStringLiteral("{not json"), runs[last - 5].id);
                !done)
                return done;
        }
        return {};
    });
    if (auto done = written.get(); !done) {
        qWarning("addLabDetails: %s", qPrintable(done.error()));
        return {};
    }
    return sweepId;
}

} // namespace trainyard::test
