// Open ingestion benchmark: the MLflow tracking API and TensorBoard import, each beside a same-run baseline.
//   build/ci/tests/bench/bench_tracking [PROBE_ROUNDS] [SECTIONS, default 12345]
// 1. The real MLflow 2.12.2 client's probe (../shared/realclients/mlflow_probe.py) against Trainyard and against a
//    no-op server on the same HTTP stack (QtHttpServer answering the minimal replies without storing anything).
// 2. runs/log-batch of 1000 metrics per request over one keep-alive libcurl connection: points/s into the store.
// 3. runs/log-metric round trips: median and p99.
// 4. metrics/get-history of 100,000 points: server side (TrackingServer::call) and over HTTP.
// 5. Event-file import against reading and decoding the same file without storing it.
#include "ingest/historyimport.h"
#include "ingest/tfevents.h"
#include "ingest/tfrecord.h"
#include "store/runrecord.h"
#include "store/storewriter.h"
#include "store/workspace.h"
#include "support/httpclient.h"
#include "support/testworkspace.h"
#include "tracking/trackingserver.h"

#include <QAbstractHttpServer>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace trainyard;

namespace {

// The baseline server: the same QtHttpServer stack, the replies the client needs, nothing parsed or stored.
class NoopServer : public QAbstractHttpServer {
public:
    using QAbstractHttpServer::QAbstractHttpServer;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        const QString path = request.url().path();
        QByteArray body = "{}";
        auto status = QHttpServerResponder::StatusCode::Ok;
        if (path.endsWith(QLatin1String("experiments/get-by-name"))) {
            body = R"({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"})";
            status = QHttpServerResponder::StatusCode::NotFound;
        } else if (path.endsWith(QLatin1String("experiments/create"))) {
            body = R"({"experiment_id": "1"})";
        } else if (path.endsWith(QLatin1String("experiments/get"))) {
            body = R"({"experiment": {"experiment_id": "1", "name": "probe", "lifecycle_stage": "active"}})";
        } else if (path.endsWith(QLatin1String("runs/create")) || path.endsWith(QLatin1String("runs/get"))) {
            body =
                R"({"run": {"info": {"run_id": "noop", "experiment_id": "1", "status": "RUNNING", "lifecycle_stage": "active"}}})";
        }
        makeResponder(request, socket).write(body, "application/json", status);
        return true;
    }
    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override { }
};

struct NoopService {
    QThread thread;
    NoopServer *server = nullptr;
    quint16 port = 0;
    NoopService()
    {
        thread.start();
        server = new NoopServer;
        server->moveToThread(&thread);
        QMetaObject::invokeMethod(
            server,
            [this] {
                auto *tcp = new QTcpServer(server);
                tcp->listen(QHostAddress::LocalHost, 0);
                server->bind(tcp);
                port = tcp->serverPort();
            },
            Qt::BlockingQueuedConnection);
    }
    ~NoopService()
    {
        QMetaObject::invokeMethod(
            server, [s = server] { delete s; }, Qt::BlockingQueuedConnection);
        thread.quit();
        thread.wait();
    }
    QString uri() const { return QStringLiteral("http://127.0.0.1:%1").arg(port); }
};

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

double percentile(std::vector<double> values, double p)
{
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[std::min(values.size() - 1, std::size_t(p * double(values.size())))];
}

// Seconds the real client's probe takes against a server, or -1 when it failed.
double probeSeconds(const QString &uri, const QByteArray &token, int round)
{
    const QString realClients = QStringLiteral(TRAINYARD_SOURCE_DIR "/../shared/realclients");
    QProcess probe;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("PYTHONPATH"), realClients + QStringLiteral("/mlflow-src"));
    environment.insert(QStringLiteral("MLFLOW_HTTP_REQUEST_MAX_RETRIES"), QStringLiteral("0"));
    environment.insert(QStringLiteral("MLFLOW_TRACKING_TOKEN"), QString::fromLatin1(token));
    probe.setProcessEnvironment(environment);
    QElapsedTimer clock;
    clock.start();
    probe.start(QStringLiteral("/usr/bin/python3"),
                {realClients + QStringLiteral("/mlflow_probe.py"), uri, QStringLiteral("--experiment"),
                 QStringLiteral("probe-%1").arg(round), QStringLiteral("--run-name"), QStringLiteral("bench")});
    if (!probe.waitForFinished(300000) || probe.exitCode() != 0) {
        std::fprintf(stderr, "probe failed: %s\n", probe.readAllStandardError().right(2000).constData());
        return -1;
    }
    return double(clock.nsecsElapsed()) / 1e9;
}

QByteArray batchBody(const QString &runId, int firstStep, int keys, int stepsPerRequest)
{
    QByteArray body = "{\"run_id\":\"" + runId.toUtf8() + "\",\"metrics\":[";
    for (int step = firstStep; step < firstStep + stepsPerRequest; ++step)
        for (int key = 0; key < keys; ++key) {
            if (step != firstStep || key)
                body += ',';
            body += "{\"key\":\"metric_" + QByteArray::number(key)
                + "\",\"value\":" + QByteArray::number(1.0 / (step + key + 1), 'g', 17) + ",\"timestamp\":"
                + QByteArray::number(1700000000000LL + step) + ",\"step\":" + QByteArray::number(step) + "}";
        }
    body += "]}";
    return body;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication application(argc, argv);
    const int probeRounds = argc > 1 ? std::atoi(argv[1]) : 3;
    const QByteArray sections = argc > 2 ? QByteArray(argv[2]) : QByteArray("12345");
    test::TestWorkspace space;
    auto started = TrackingService::start(space.workspace(), space.writer());
    if (!started) {
        std::fprintf(stderr, "%s\n", qPrintable(started.error()));
        return 1;
    }
    std::unique_ptr<TrackingService> ours = std::move(started).value();
    NoopService noop;
    std::printf("| measure | Trainyard | baseline (same run) |\n| --- | --- | --- |\n");

    // 1. The real client's probe, alternating servers.
    if (!sections.contains('1')) {
    } else if (QFile::exists(QStringLiteral(TRAINYARD_SOURCE_DIR "/../shared/realclients/mlflow_probe.py"))) {
        std::vector<double> oursSeconds, noopSeconds;
        for (int round = 0; round < probeRounds; ++round) {
            noopSeconds.push_back(probeSeconds(noop.uri(), {}, round));
            oursSeconds.push_back(probeSeconds(ours->uri(), ours->token(), round));
        }
        std::printf("| real MLflow 2.12.2 client probe (~720 requests), median of %d | %.2f s | no-op server %.2f s "
                    "(ratio %.2f) |\n",
                    probeRounds, median(oursSeconds), median(noopSeconds), median(oursSeconds) / median(noopSeconds));
    } else {
        std::printf("| real MLflow client probe | skipped: ../shared/realclients is absent | |\n");
    }

    // 2. log-batch throughput, 1000 metrics (10 keys x 100 steps) per request, one keep-alive connection.
    const auto createRun = [](test::HttpClient &client) {
        return client.post(QStringLiteral("runs/create"), R"({"experiment_id": "0"})")
            .json()[QStringLiteral("run")][QStringLiteral("info")][QStringLiteral("run_id")]
            .toString();
    };
    const int kBatches = 300,
              kKeys = qEnvironmentVariableIntValue("BENCH_KEYS") ? qEnvironmentVariableIntValue("BENCH_KEYS") : 10,
              kStepsPerBatch = 1000 / kKeys;
    const auto batchRate = [&](test::HttpClient &client, const QString &runId) {
        std::vector<QByteArray> bodies;
        for (int batch = 0; batch < kBatches; ++batch)
            bodies.push_back(batchBody(runId, batch * kStepsPerBatch, kKeys, kStepsPerBatch));
        QElapsedTimer clock;
        clock.start();
        for (const QByteArray &body : bodies)
            if (client.post(QStringLiteral("runs/log-batch"), body).status != 200)
                return -1.0;
        // Into the store: a read commits every journaled point before it answers, and is counted in the time.
        client.get(QStringLiteral("runs/get"), QStringLiteral("run_id=") + runId);
        return double(kBatches * kKeys * kStepsPerBatch) / (double(clock.nsecsElapsed()) / 1e9);
    };
    test::HttpClient oursClient(ours->uri(), ours->token());
    test::HttpClient noopClient(noop.uri(), {});
    if (sections.contains('2')) {
        const QString batchRun = createRun(oursClient);
        const double oursRate = batchRate(oursClient, batchRun);
        const double noopRate = batchRate(noopClient, QStringLiteral("noop"));
        std::printf("| log-batch, 1000 metrics a request, C++ libcurl keep-alive (%d requests) | %.0f points/s | no-op "
                    "server %.0f points/s |\n",
                    kBatches, oursRate, noopRate);
        // The same requests handled without HTTP (TrackingServer::call): what parsing and the store cost.
        TrackingServer direct(space.workspace(), space.writer(), ours->token());
        const QString directRun = createRun(oursClient);
        std::vector<QByteArray> bodies;
        for (int batch = 0; batch < kBatches; ++batch)
            bodies.push_back(batchBody(directRun, batch * kStepsPerBatch, kKeys, kStepsPerBatch));
        QElapsedTimer clock;
        clock.start();
        for (const QByteArray &body : bodies)
            direct.call(QStringLiteral("runs/log-batch"), body);
        (void)direct.commitJournaled();
        std::printf("| log-batch handled without HTTP (TrackingServer::call) | %.0f points/s | |\n",
                    double(kBatches * kKeys * kStepsPerBatch) / (double(clock.nsecsElapsed()) / 1e9));
    }

    // 3. Single log-metric round trips.
    constexpr int kSingles = 2000;
    const auto roundTrips = [&](test::HttpClient &client, const QString &runId) {
        std::vector<double> millis;
        for (int step = 0; step < kSingles; ++step) {
            const QByteArray body = "{\"run_id\":\"" + runId.toUtf8()
                + "\",\"key\":\"single\",\"value\":0.5,\"timestamp\":1,\"step\":" + QByteArray::number(step) + "}";
            QElapsedTimer clock;
            clock.start();
            client.post(QStringLiteral("runs/log-metric"), body);
            millis.push_back(double(clock.nsecsElapsed()) / 1e6);
        }
        return millis;
    };
    if (sections.contains('3')) {
        const auto oursTrips = roundTrips(oursClient, createRun(oursClient));
        const auto noopTrips = roundTrips(noopClient, QStringLiteral("noop"));
        std::printf("| log-metric round trip (%d requests) | median %.3f ms, p99 %.3f ms | no-op server median %.3f "
                    "ms, p99 %.3f ms |\n",
                    kSingles, median(oursTrips), percentile(oursTrips, 0.99), median(noopTrips),
                    percentile(noopTrips, 0.99));
    }

    // 4. get-history of 100,000 points of one key (the batch run's metric_0 has 30,000: log another 100,000).
    if (sections.contains('4')) {
        const QString historyRun = createRun(oursClient);
        for (int batch = 0; batch < 100; ++batch)
            oursClient.post(QStringLiteral("runs/log-batch"), batchBody(historyRun, batch * 1000, 1, 1000));
        TrackingServer direct(space.workspace(), space.writer(), ours->token());
        const QByteArray query = "{\"run_id\":\"" + historyRun.toUtf8() + "\",\"metric_key\":\"metric_0\"}";
        std::vector<double> serverSide, overHttp;
        qsizetype points = 0;
        for (int round = 0; round < 5; ++round) {
            QElapsedTimer clock;
            clock.start();
            const auto reply = direct.call(QStringLiteral("metrics/get-history"), query);
            serverSide.push_back(double(clock.nsecsElapsed()) / 1e6);
            clock.restart();
            const auto http = oursClient.get(QStringLiteral("metrics/get-history"),
                                             QStringLiteral("run_id=%1&metric_key=metric_0").arg(historyRun));
            overHttp.push_back(double(clock.nsecsElapsed()) / 1e6);
            points = QJsonDocument::fromJson(http.body).object()[QStringLiteral("metrics")].toArray().size();
        }
        std::printf(
            "| get-history of %lld points, median of 5 | server side %.1f ms | over HTTP with libcurl %.1f ms |\n",
            (long long)points, median(serverSide), median(overHttp));
    }
    if (!sections.contains('5'))
        return 0;

    // 5. Event-file import: 2,000,000 scalars (4 tags x 500,000 steps) in one file.
    QTemporaryDir logdir;
    QDir().mkpath(logdir.filePath(QStringLiteral("big")));
    const QString eventFile = logdir.filePath(QStringLiteral("big/events.out.tfevents.1.bench"));
    {
        QFile file(eventFile);
        file.open(QIODevice::WriteOnly);
        QByteArray buffer;
        for (int step = 0; step < 500000; ++step) {
            for (const char *tag : {"train/loss", "train/acc", "lr", "grad_norm"})
                buffer += test::tensorboardScalarRecord(step, tag, 1.0f / float(step + 1), 1700000000.0 + step * 0.01);
            if (buffer.size() > (8 << 20)) {
                file.write(buffer);
                buffer.clear();
            }
        }
        file.write(buffer);
    }
    std::vector<double> decodeRates, importRates;
    for (int round = 0; round < 3; ++round) {
        QElapsedTimer clock;
        clock.start();
        QFile file(eventFile);
        file.open(QIODevice::ReadOnly);
        const QByteArray bytes = file.readAll();
        const TfRecordScan scan = scanTfRecords(bytes.constData(), std::size_t(bytes.size()), 0, true);
        TfEventDecoder decoder;
        TfEventBatch batch;
        std::size_t scalars = 0;
        for (const TfRecord &record : scan.records) {
            (void)decoder.decode(record.data, batch);
            scalars += batch.scalars.size();
            batch.scalars.clear();
        }
        decodeRates.push_back(double(scalars) / (double(clock.nsecsElapsed()) / 1e9));

        test::TestWorkspace target;
        clock.restart();
        auto imported = importTensorBoardLogdir(target.workspace(), target.writer(), logdir.path());
        if (!imported || imported->points != 2000000) {
            std::fprintf(stderr, "import failed: %s\n", imported ? "wrong count" : qPrintable(imported.error()));
            return 1;
        }
        importRates.push_back(double(imported->points) / (double(clock.nsecsElapsed()) / 1e9));
    }
    std::printf("| event-file import, 2,000,000 scalars in one file, median of 3 | %.0f scalars/s (%.0f%% of decoding "
                "alone) | read and "
                "decode only %.0f scalars/s |\n",
                median(importRates), 100.0 * median(importRates) / median(decodeRates), median(decodeRates));
    return 0;
}
