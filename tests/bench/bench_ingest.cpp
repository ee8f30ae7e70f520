// Ingestion benchmark: JSONL metric files into the store through MetricIngester, against raw SQLite
// prepared-statement inserts of the same rows into the same schema, in the same run.
//   build/ci/tests/bench/bench_ingest [LINES] [KEYS]
#include "ingest/metricingester.h"
#include "store/runrecord.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTextStream>

#include <cstdio>

using namespace trainyard;

int main(int argc, char **argv)
{
    QCoreApplication application(argc, argv);
    const int lines = argc > 1 ? std::atoi(argv[1]) : 500000;
    const int keys = argc > 2 ? std::atoi(argv[2]) : 4;
    QTemporaryDir dir;

    // The input: one rank's metrics file, as the Python client writes it.
    auto workspace = Workspace::open(dir.path() + QStringLiteral("/ours"));
    auto writer = StoreWriter::start(workspace->database());
    NewRun run;
    run.name = QStringLiteral("bench");
    const QString runId = writer.value()->createRun(run).get().value();
    const QString runDir = workspace->runDir(runId);
    QDir().mkpath(runDir);
    {
        QFile file(runDir + QStringLiteral("/metrics.rank0.jsonl"));
        file.open(QIODevice::WriteOnly);
        QByteArray buffer;
        for (int step = 0; step < lines; ++step) {
            buffer += "{\"step\":" + QByteArray::number(step)
                + ",\"ts\":" + QByteArray::number(1764000000.0 + step * 0.01, 'f', 3);
            for (int key = 0; key < keys; ++key)
                buffer += ",\"metric_" + QByteArray::number(key)
                    + "\":" + QByteArray::number(1.0 / (step + key + 1), 'g', 17);
            buffer += "}\n";
            if (buffer.size() > (1 << 20)) {
                file.write(buffer);
                buffer.clear();
            }
        }
        file.write(buffer);
    }
    const std::int64_t points = std::int64_t(lines) * keys;

    // Ours: parse + batch + insert + offsets, end to end.
    QElapsedTimer timer;
    timer.start();
    {
        MetricIngester ingester(runId, runDir, *writer.value());
        if (!ingester.poll(true) || !ingester.waitForWrites()) {
            std::fprintf(stderr, "ingestion failed\n");
            return 1;
        }
        if (ingester.stats().points != points) {
            std::fprintf(stderr, "ingested %lld points, expected %lld\n", (long long)ingester.stats().points,
                         (long long)points);
            return 1;
        }
    }
    const double oursS = timer.nsecsElapsed() / 1e9;

    // Baseline: the same rows, already parsed, inserted one row per point with one prepared statement into
    // the textbook layout (a row per point, indexed by key and step), same batch size, same database settings.
    auto baselineWorkspace = Workspace::open(dir.path() + QStringLiteral("/raw"));
    auto connection = baselineWorkspace->database().connect();
    (void)connection->execute(
        "CREATE TABLE raw_points (key_id INTEGER NOT NULL, step INTEGER NOT NULL, value REAL, ts_ms INTEGER);"
        "CREATE INDEX raw_points_by_key_step ON raw_points(key_id, step);");
    timer.restart();
    {
        auto insert = connection->prepare("INSERT INTO raw_points (key_id, step, value, ts_ms) VALUES (?, ?, ?, ?)");
        std::int64_t inBatch = 0;
        (void)connection->execute("BEGIN");
        for (int step = 0; step < lines; ++step) {
            for (int key = 0; key < keys; ++key) {
                insert->bind(1, std::int64_t(key + 1));
                insert->bind(2, std::int64_t(step));
                insert->bind(3, 1.0 / (step + key + 1));
                insert->bind(4, std::int64_t(1764000000000LL + step * 10));
                (void)insert->step();
                insert->reset();
                if (++inBatch == MetricIngester::kMaxPointsPerBatch) {
                    (void)connection->execute("COMMIT; BEGIN");
                    inBatch = 0;
                }
            }
        }
        (void)connection->execute("COMMIT");
    }
    const double rawS = timer.nsecsElapsed() / 1e9;

    std::printf("ingestion of %lld points (%d lines x %d keys) from JSONL\n", (long long)points, lines, keys);
    std::printf("%-44s %10s %14s\n", "path", "seconds", "points/s");
    std::printf("%-44s %10.3f %14.0f\n", "trainyard MetricIngester (parse+insert)", oursS, points / oursS);
    std::printf("%-44s %10.3f %14.0f\n", "raw SQLite prepared inserts (baseline)", rawS, points / rawS);
    std::printf("ratio ours/raw: %.2f\n", rawS / oursS);
    return 0;
}
