// The MLflow-compatible tracking API over HTTP: its wire rules, errors, limits, search, history, the token, and the
// real MLflow 2.12.2 client (from ../shared/realclients) against it.
#include "store/database.h"
#include "store/metricqueries.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "store/trackingstore.h"
#include "store/workspaceimport.h"
#include "support/httpclient.h"
#include "support/testworkspace.h"
#include "tracking/metricjournal.h"
#include "tracking/mlflowfilter.h"
#include "tracking/trackingserver.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTcpServer>
#include <QtTest>

#include <cmath>

#include <sys/stat.h>

using namespace trainyard;
using namespace trainyard::test;

namespace {

QString realClientsDir() { return QStringLiteral(TRAINYARD_SOURCE_DIR "/../shared/realclients"); }

double jsonDouble(const QJsonValue &value)
{
    if (value.isString()) {
        const QString text = value.toString();
        if (text == QLatin1String("NaN"))
            return std::nan("");
        if (text == QLatin1String("Infinity"))
            return INFINITY;
        if (text == QLatin1String("-Infinity"))
            return -INFINITY;
    }
    return value.toDouble();
}

bool sameDouble(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

} // namespace

class TestTracking : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<TestWorkspace> m_space;
    std::unique_ptr<TrackingService> m_service;
    std::unique_ptr<HttpClient> m_client;

    QString createExperiment(const QString &name)
    {
        const auto reply = m_client->post(QStringLiteral("experiments/create"),
                                          QJsonDocument(QJsonObject{{QStringLiteral("name"), name}}).toJson());
        return reply.json().value(QStringLiteral("experiment_id")).toString();
    }
    QString createRun(const QString &experimentId, const QString &name = {})
    {
        QJsonObject body{{QStringLiteral("experiment_id"), experimentId},
                         {QStringLiteral("user_id"), QStringLiteral("alice")},
                         {QStringLiteral("start_time"), 1700000000000LL}};
        if (!name.isEmpty())
            body.insert(QStringLiteral("run_name"), name);
        const auto reply = m_client->post(QStringLiteral("runs/create"), QJsonDocument(body).toJson());
        return reply.json()[QStringLiteral("run")][QStringLiteral("info")][QStringLiteral("run_id")].toString();
    }
    // Reads of the store itself (not through the API) first commit what the server journaled.
    QList<MetricPoint> storedSeries(const QString &runId, const QString &key)
    {
        (void)m_service->commitJournaled();
        auto connection = m_space->workspace().database().connect();
        auto points = metricqueries::series(*connection, runId, key);
        return points ? *points : QList<MetricPoint>();
    }
    std::int64_t pointCount(const QString &runId)
    {
        (void)m_service->commitJournaled();
        auto connection = m_space->workspace().database().connect();
        return metricqueries::pointCount(*connection, runId).value();
    }

private slots:
    void init()
    {
        m_space = std::make_unique<TestWorkspace>();
        QVERIFY(m_space->isValid());
        auto service = TrackingService::start(m_space->workspace(), m_space->writer());
        QVERIFY2(service, service ? "" : qPrintable(service.error()));
        m_service = std::move(service).value();
        m_client = std::make_unique<HttpClient>(m_service->uri(), m_service->token());
    }
    void cleanup()
    {
        m_client.reset();
        m_service.reset();
        m_space.reset();
    }

    void tokenIsPrivateAndRequired()
    {
        const QString tokenPath = m_space->root() + QStringLiteral("/tracking.token");
        QVERIFY(QFile::exists(tokenPath));
        struct stat status = {};
        QCOMPARE(::stat(QFile::encodeName(tokenPath).constData(), &status), 0);
        QCOMPARE(status.st_mode & 0777, mode_t(0600));
        QCOMPARE(m_service->token().size(), 64);

        const QByteArray body = R"({"name": "sneaky"})";
        for (const QByteArray &token : {QByteArray(), QByteArray("wrong"), m_service->token().left(63) + 'x'}) {
            HttpClient intruder(m_service->uri(), token);
            const auto reply = intruder.post(QStringLiteral("experiments/create"), body);
            QCOMPARE(reply.status, 401L);
            QCOMPARE(reply.json().value(QStringLiteral("error_code")).toString(), QStringLiteral("UNAUTHENTICATED"));
            QVERIFY2(!reply.body.contains(m_service->token()), "the token never appears in an error");
        }
        auto connection = m_space->workspace().database().connect();
        QVERIFY(!trackingstore::experimentByName(*connection, QStringLiteral("sneaky"))->has_value());
        // The same token is used again by the next server of this workspace.
        auto second = TrackingService::start(m_space->workspace(), m_space->writer());
        QVERIFY(second);
        QCOMPARE((*second)->token(), m_service->token());
    }

    void experimentsAreProjects()
    {
        auto missing =
            m_client->get(QStringLiteral("experiments/get-by-name"), QStringLiteral("experiment_name=vision"));
        QCOMPARE(missing.status, 404L);
        QCOMPARE(missing.json().value(QStringLiteral("error_code")).toString(),
                 QStringLiteral("RESOURCE_DOES_NOT_EXIST"));

        const QString id = createExperiment(QStringLiteral("vision"));
        QVERIFY(!id.isEmpty() && id != QLatin1String("0"));
        auto again = m_client->post(QStringLiteral("experiments/create"), R"({"name": "vision"})");
        QCOMPARE(again.status, 400L);
        QCOMPARE(again.json().value(QStringLiteral("error_code")).toString(),
                 QStringLiteral("RESOURCE_ALREADY_EXISTS"));

        auto byName =
            m_client->get(QStringLiteral("experiments/get-by-name"), QStringLiteral("experiment_name=vision")).json();
        QCOMPARE(byName[QStringLiteral("experiment")][QStringLiteral("experiment_id")].toString(), id);
        QCOMPARE(byName[QStringLiteral("experiment")][QStringLiteral("lifecycle_stage")].toString(),
                 QStringLiteral("active"));
        auto byId = m_client->get(QStringLiteral("experiments/get"), QStringLiteral("experiment_id=") + id).json();
        QCOMPARE(byId[QStringLiteral("experiment")][QStringLiteral("name")].toString(), QStringLiteral("vision"));
        QCOMPARE(m_client->get(QStringLiteral("experiments/get"), QStringLiteral("experiment_id=999")).status, 404L);

        // A launched run's project is an experiment too, found by name.
        NewRun launched;
        launched.name = QStringLiteral("launched");
        launched.project = QStringLiteral("nlp");
        QVERIFY(m_space->writer().createRun(launched).get());
        auto search =
            m_client->post(QStringLiteral("experiments/search"), R"({"filter": "name LIKE '%l%'", "max_results": 10})")
                .json();
        QStringList names;
        for (const QJsonValue &experiment : search[QStringLiteral("experiments")].toArray())
            names << experiment[QStringLiteral("name")].toString();
        QCOMPARE(names, (QStringList{QStringLiteral("Default"), QStringLiteral("nlp")}));
    }

    void metricsRoundTripExactly()
    {
        const QString run = createRun(createExperiment(QStringLiteral("e")), QStringLiteral("round-trip"));
        QVERIFY(!run.isEmpty());
        // int64 fields as numbers or strings; NaN and infinities as strings; a step of 10^12.
        const QByteArray single =
            QStringLiteral(
                R"({"run_id": "%1", "key": "loss", "value": 0.5, "timestamp": "1700000000123", "step": "7"})")
                .arg(run)
                .toUtf8();
        auto logged = m_client->post(QStringLiteral("runs/log-metric"), single);
        QCOMPARE(logged.status, 200L);
        QCOMPARE(logged.body, QByteArray("{}"));
        const QByteArray batch = QStringLiteral(R"({"run_id": "%1", "metrics": [
            {"key": "loss", "value": "NaN", "timestamp": 1700000000200, "step": 8},
            {"key": "loss", "value": "Infinity", "timestamp": 1700000000300, "step": 9},
            {"key": "loss", "value": "-Infinity", "timestamp": 1700000000400, "step": 10},
            {"key": "loss", "value": 0.25, "timestamp": 1700000000500, "step": 1000000000000},
            {"key": "acc", "value": 3, "timestamp": 1700000000600}],
            "params": [{"key": "lr", "value": "0.001"}], "tags": [{"key": "team", "value": "vision"}]})")
                                     .arg(run)
                                     .toUtf8();
        QCOMPARE(m_client->post(QStringLiteral("runs/log-batch"), batch).status, 200L);

        const QList<MetricPoint> stored = storedSeries(run, QStringLiteral("loss"));
        QCOMPARE(stored.size(), 5);
        QCOMPARE(stored[0].value, 0.5);
        QCOMPARE(stored[0].tsMs.value_or(0), 1700000000123LL);
        QVERIFY(std::isnan(stored[1].value));
        QCOMPARE(stored[2].value, INFINITY);
        QCOMPARE(stored[3].value, -INFINITY);
        QCOMPARE(stored[4].step, 1000000000000LL);

        auto history = m_client
                           ->get(QStringLiteral("metrics/get-history"),
                                 QStringLiteral("run_uuid=%1&run_id=%1&metric_key=loss&max_results=25000").arg(run))
                           .json();
        const QJsonArray metrics = history[QStringLiteral("metrics")].toArray();
        QCOMPARE(metrics.size(), 5);
        QCOMPARE(metrics[1][QStringLiteral("value")].toString(), QStringLiteral("NaN"));
        QCOMPARE(metrics[2][QStringLiteral("value")].toString(), QStringLiteral("Infinity"));
        QCOMPARE(metrics[3][QStringLiteral("value")].toString(), QStringLiteral("-Infinity"));
        QCOMPARE(metrics[0][QStringLiteral("timestamp")].toInteger(), 1700000000123LL);
        QCOMPARE(metrics[4][QStringLiteral("step")].toInteger(), 1000000000000LL);

        // Pages follow next_page_token to the end, every point once.
        auto page = m_client
                        ->get(QStringLiteral("metrics/get-history"),
                              QStringLiteral("run_id=%1&metric_key=loss&max_results=2").arg(run))
                        .json();
        QCOMPARE(page[QStringLiteral("metrics")].toArray().size(), 2);
        const QString token = page[QStringLiteral("next_page_token")].toString();
        QVERIFY(!token.isEmpty());
        auto rest = m_client
                        ->get(QStringLiteral("metrics/get-history"),
                              QStringLiteral("run_id=%1&metric_key=loss&max_results=10&page_token=%2").arg(run, token))
                        .json();
        QCOMPARE(rest[QStringLiteral("metrics")].toArray().size(), 3);
        QVERIFY(!rest.contains(QStringLiteral("next_page_token")));

        auto got = m_client->get(QStringLiteral("runs/get"), QStringLiteral("run_id=") + run)
                       .json()[QStringLiteral("run")]
                       .toObject();
        QCOMPARE(got[QStringLiteral("info")][QStringLiteral("run_name")].toString(), QStringLiteral("round-trip"));
        QCOMPARE(got[QStringLiteral("info")][QStringLiteral("status")].toString(), QStringLiteral("RUNNING"));
        QCOMPARE(got[QStringLiteral("info")][QStringLiteral("start_time")].toInteger(), 1700000000000LL);
        QVERIFY(got[QStringLiteral("info")][QStringLiteral("artifact_uri")].toString().startsWith(
            QStringLiteral("file://")));
        QJsonObject latest;
        for (const QJsonValue &metric : got[QStringLiteral("data")][QStringLiteral("metrics")].toArray())
            latest.insert(metric[QStringLiteral("key")].toString(), metric.toObject());
        QCOMPARE(latest[QStringLiteral("loss")][QStringLiteral("step")].toInteger(), 1000000000000LL);
        QCOMPARE(latest[QStringLiteral("loss")][QStringLiteral("value")].toDouble(), 0.25);
        QCOMPARE(latest[QStringLiteral("acc")][QStringLiteral("value")].toDouble(), 3.0);
        QCOMPARE(latest[QStringLiteral("acc")][QStringLiteral("step")].toInteger(), 0LL);

        // The run is a Trainyard run: params, tags (plain ones mirrored) and the project.
        QVERIFY(m_service->commitJournaled());
        auto connection = m_space->workspace().database().connect();
        auto record = runqueries::findRun(*connection, run);
        QVERIFY(record);
        QCOMPARE(record->backend, QStringLiteral("mlflow"));
        QCOMPARE(record->params.value(QStringLiteral("lr")), QStringLiteral("0.001"));
        QVERIFY(record->tags.contains(QStringLiteral("team=vision")));
        QCOMPARE(record->metrics.value(QStringLiteral("loss")).count, 5);
    }

    void paramsAreWriteOnce()
    {
        const QString run = createRun(QStringLiteral("0"));
        const auto param = [&](const QString &value) {
            return m_client->post(QStringLiteral("runs/log-parameter"),
                                  QStringLiteral(R"({"run_id": "%1", "run_uuid": "%1", "key": "lr", "value": "%2"})")
                                      .arg(run, value)
                                      .toUtf8());
        };
        QCOMPARE(param(QStringLiteral("0.1")).status, 200L);
        QCOMPARE(param(QStringLiteral("0.1")).status, 200L);
        const auto changed = param(QStringLiteral("0.2"));
        QCOMPARE(changed.status, 400L);
        QCOMPARE(changed.json().value(QStringLiteral("error_code")).toString(),
                 QStringLiteral("INVALID_PARAMETER_VALUE"));
        QVERIFY(changed.json().value(QStringLiteral("message")).toString().contains(QStringLiteral("'0.1'")));
        // A batch with a changed param stores none of its metrics.
        const auto batch = m_client->post(QStringLiteral("runs/log-batch"),
                                          QStringLiteral(R"({"run_id": "%1",
            "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 1}], "params": [{"key": "lr", "value": "0.3"}]})")
                                              .arg(run)
                                              .toUtf8());
        QCOMPARE(batch.status, 400L);
        QCOMPARE(pointCount(run), 0);
        auto connection = m_space->workspace().database().connect();
        QCOMPARE(runqueries::findRun(*connection, run)->params.value(QStringLiteral("lr")), QStringLiteral("0.1"));
    }

    void batchLimitsRefuseWholeRequests_data()
    {
        QTest::addColumn<int>("metrics");
        QTest::addColumn<int>("params");
        QTest::addColumn<int>("tags");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("1000 metrics") << 1000 << 0 << 0 << true;
        QTest::newRow("1001 metrics") << 1001 << 0 << 0 << false;
        QTest::newRow("100 params") << 0 << 100 << 0 << true;
        QTest::newRow("101 params") << 0 << 101 << 0 << false;
        QTest::newRow("101 tags") << 0 << 0 << 101 << false;
        QTest::newRow("901 metrics, 100 params") << 901 << 100 << 0 << false;
    }
    void batchLimitsRefuseWholeRequests()
    {
        QFETCH(int, metrics);
        QFETCH(int, params);
        QFETCH(int, tags);
        QFETCH(bool, accepted);
        const QString run = createRun(QStringLiteral("0"));
        QJsonArray metricItems, paramItems, tagItems;
        for (int i = 0; i < metrics; ++i)
            metricItems.append(QJsonObject{{QStringLiteral("key"), QStringLiteral("m")},
                                           {QStringLiteral("value"), i},
                                           {QStringLiteral("timestamp"), 1},
                                           {QStringLiteral("step"), i}});
        for (int i = 0; i < params; ++i)
            paramItems.append(QJsonObject{{QStringLiteral("key"), QStringLiteral("p%1").arg(i)},
                                          {QStringLiteral("value"), QStringLiteral("v")}});
        for (int i = 0; i < tags; ++i)
            tagItems.append(QJsonObject{{QStringLiteral("key"), QStringLiteral("t%1").arg(i)},
                                        {QStringLiteral("value"), QStringLiteral("v")}});
        const QJsonObject body{{QStringLiteral("run_id"), run},
                               {QStringLiteral("metrics"), metricItems},
                               {QStringLiteral("params"), paramItems},
                               {QStringLiteral("tags"), tagItems}};
        const auto reply = m_client->post(QStringLiteral("runs/log-batch"), QJsonDocument(body).toJson());
        QCOMPARE(reply.status, accepted ? 200L : 400L);
        if (!accepted) {
            QCOMPARE(reply.json().value(QStringLiteral("error_code")).toString(),
                     QStringLiteral("INVALID_PARAMETER_VALUE"));
            QVERIFY(reply.json().value(QStringLiteral("message")).toString().contains(QStringLiteral("at most")));
        }
        QCOMPARE(pointCount(run), accepted ? metrics : 0);
    }

    void oversizeRequestRefused()
    {
        const QString run = createRun(QStringLiteral("0"));
        const QByteArray body = QStringLiteral(R"({"run_id": "%1", "tags": [{"key": "big", "value": "%2"}]})")
                                    .arg(run, QString(1100000, QLatin1Char('x')))
                                    .toUtf8();
        const auto reply = m_client->post(QStringLiteral("runs/log-batch"), body);
        QCOMPARE(reply.status, 400L);
        QCOMPARE(reply.json().value(QStringLiteral("error_code")).toString(),
                 QStringLiteral("INVALID_PARAMETER_VALUE"));
    }

    void badInputGetsMlflowErrors_data()
    {
        QTest::addColumn<QString>("endpoint");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<long>("status");
        QTest::addColumn<QString>("code");
        QTest::newRow("malformed JSON") << "runs/log-metric" << QByteArray("{\"run_id\": ") << 400L
                                        << "MALFORMED_REQUEST";
        QTest::newRow("not an object") << "runs/log-metric" << QByteArray("[1, 2]") << 400L << "MALFORMED_REQUEST";
        QTest::newRow("unknown run") << "runs/log-metric"
                                     << QByteArray(
                                            R"({"run_id": "nope", "key": "k", "value": 1, "timestamp": 1, "step": 0})")
                                     << 404L << "RESOURCE_DOES_NOT_EXIST";
        QTest::newRow("value a word") << "runs/log-metric"
                                      << QByteArray(R"({"run_id": "RUN", "key": "k", "value": "high", "timestamp": 1})")
                                      << 400L << "INVALID_PARAMETER_VALUE";
        QTest::newRow("step a float") << "runs/log-metric"
                                      << QByteArray(R"({"run_id": "RUN", "key": "k", "value": 1, "step": 1.5})") << 400L
                                      << "INVALID_PARAMETER_VALUE";
        QTest::newRow("no key") << "runs/log-metric" << QByteArray(R"({"run_id": "RUN", "value": 1})") << 400L
                                << "INVALID_PARAMETER_VALUE";
        QTest::newRow("key escapes") << "runs/log-metric"
                                     << QByteArray(R"({"run_id": "RUN", "key": "../x", "value": 1})") << 400L
                                     << "INVALID_PARAMETER_VALUE";
        QTest::newRow("metrics not a list") << "runs/log-batch" << QByteArray(R"({"run_id": "RUN", "metrics": [1]})")
                                            << 400L << "INVALID_PARAMETER_VALUE";
        QTest::newRow("no run id") << "runs/set-tag" << QByteArray(R"({"key": "a", "value": "b"})") << 400L
                                   << "INVALID_PARAMETER_VALUE";
        QTest::newRow("unknown experiment")
            << "runs/create" << QByteArray(R"({"experiment_id": "42"})") << 404L << "RESOURCE_DOES_NOT_EXIST";
        QTest::newRow("bad status") << "runs/update" << QByteArray(R"({"run_id": "RUN", "status": "DONE"})") << 400L
                                    << "INVALID_PARAMETER_VALUE";
        QTest::newRow("unknown endpoint") << "runs/delete" << QByteArray("{}") << 404L << "ENDPOINT_NOT_FOUND";
        QTest::newRow("bad filter") << "runs/search"
                                    << QByteArray(R"({"experiment_ids": ["0"], "filter": "metrics.loss LIKE 'x'"})")
                                    << 400L << "INVALID_PARAMETER_VALUE";
        QTest::newRow("missing tag") << "runs/delete-tag" << QByteArray(R"({"run_id": "RUN", "key": "never"})") << 404L
                                     << "RESOURCE_DOES_NOT_EXIST";
    }
    void badInputGetsMlflowErrors()
    {
        QFETCH(QString, endpoint);
        QFETCH(QByteArray, body);
        QFETCH(long, status);
        QFETCH(QString, code);
        const QString run = createRun(QStringLiteral("0"));
        const auto reply = m_client->post(endpoint, QByteArray(body).replace("RUN", run.toUtf8()));
        QCOMPARE(reply.status, status);
        QCOMPARE(reply.json().value(QStringLiteral("error_code")).toString(), code);
        QVERIFY(!reply.json().value(QStringLiteral("message")).toString().isEmpty());
        QCOMPARE(pointCount(run), 0);
        // The server keeps serving.
        QCOMPARE(m_client->get(QStringLiteral("runs/get"), QStringLiteral("run_id=") + run).status, 200L);
    }

    void statusFollowsUpdateOnlyForApiRuns()
    {
        const QString apiRun = createRun(QStringLiteral("0"));
        auto finished =
            m_client->post(QStringLiteral("runs/update"),
                           QStringLiteral(R"({"run_id": "%1", "status": "FINISHED", "end_time": 1700000009000})")
                               .arg(apiRun)
                               .toUtf8());
        QCOMPARE(finished.status, 200L);
        QCOMPARE(finished.json()[QStringLiteral("run_info")][QStringLiteral("status")].toString(),
                 QStringLiteral("FINISHED"));
        QCOMPARE(finished.json()[QStringLiteral("run_info")][QStringLiteral("end_time")].toInteger(), 1700000009000LL);
        const QString killed = createRun(QStringLiteral("0"));
        m_client->post(QStringLiteral("runs/update"),
                       QStringLiteral(R"({"run_id": "%1", "status": "KILLED"})").arg(killed).toUtf8());
        const QString failed = createRun(QStringLiteral("0"));
        m_client->post(QStringLiteral("runs/update"),
                       QStringLiteral(R"({"run_id": "%1", "status": "FAILED"})").arg(failed).toUtf8());
        // A launched run's status belongs to its supervisor.
        const QString launched = m_space->addRun(QStringLiteral("launched"), RunStatus::Running);
        m_client->post(QStringLiteral("runs/update"),
                       QStringLiteral(R"({"run_id": "%1", "status": "FINISHED"})").arg(launched).toUtf8());

        auto connection = m_space->workspace().database().connect();
        QCOMPARE(toString(runqueries::findRun(*connection, apiRun)->status), toString(RunStatus::Succeeded));
        QCOMPARE(toString(runqueries::findRun(*connection, killed)->status), toString(RunStatus::Canceled));
        QCOMPARE(toString(runqueries::findRun(*connection, failed)->status), toString(RunStatus::Failed));
        QCOMPARE(toString(runqueries::findRun(*connection, launched)->status), toString(RunStatus::Running));
    }

    void tagsSystemKeptApartPlainMirrored()
    {
        const QString run = createRun(QStringLiteral("0"));
        const auto tag = [&](const QString &key, const QString &value) {
            return m_client->post(
                QStringLiteral("runs/set-tag"),
                QStringLiteral(R"({"run_id": "%1", "key": "%2", "value": "%3"})").arg(run, key, value).toUtf8());
        };
        QCOMPARE(tag(QStringLiteral("mlflow.user"), QStringLiteral("alice")).status, 200L);
        QCOMPARE(tag(QStringLiteral("team"), QStringLiteral("vision")).status, 200L);
        QCOMPARE(tag(QStringLiteral("team"), QStringLiteral("nlp")).status, 200L);
        QCOMPARE(tag(QStringLiteral("mlflow.runName"), QStringLiteral("renamed")).status, 200L);
        auto connection = m_space->workspace().database().connect();
        auto record = runqueries::findRun(*connection, run);
        QCOMPARE(record->tags, QStringList{QStringLiteral("team=nlp")});
        QCOMPARE(record->name, QStringLiteral("renamed"));
        auto tracked = trackingstore::findTrackedRun(*connection, run);
        QVERIFY(tracked->value().tags.contains(KeyValue{QStringLiteral("mlflow.user"), QStringLiteral("alice")}));
        QCOMPARE(m_client
                     ->post(QStringLiteral("runs/delete-tag"),
                            QStringLiteral(R"({"run_id": "%1", "key": "team"})").arg(run).toUtf8())
                     .status,
                 200L);
        QVERIFY(runqueries::findRun(*connection, run)->tags.isEmpty());
    }

    void searchRunsWithMlflowFilters_data()
    {
        QTest::addColumn<QString>("filter");
        QTest::addColumn<QStringList>("names");
        QTest::newRow("all") << "" << QStringList{"c", "b", "a"};
        QTest::newRow("metric <") << "metrics.loss < 0.5" << QStringList{"c", "b"};
        QTest::newRow("metric >=") << "metrics.loss >= 0.2" << QStringList{"b", "a"};
        QTest::newRow("param =") << "params.lr = '0.1'" << QStringList{"a"};
        QTest::newRow("param !=") << "params.lr != '0.1'" << QStringList{"c", "b"};
        QTest::newRow("tag LIKE") << "tags.team LIKE 'vis%'" << QStringList{"b", "a"};
        QTest::newRow("tag ILIKE quoted key") << "tags.`team` ILIKE 'VIS%'" << QStringList{"b", "a"};
        QTest::newRow("status") << "attributes.status = 'FINISHED'" << QStringList{"a"};
        QTest::newRow("and") << "metrics.loss < 0.5 and tags.team = 'vision'" << QStringList{"b"};
        QTest::newRow("run_name") << "attributes.run_name = 'c'" << QStringList{"c"};
    }
    void searchRunsWithMlflowFilters()
    {
        QFETCH(QString, filter);
        QFETCH(QStringList, names);
        const QString experiment = createExperiment(QStringLiteral("search"));
        const double losses[] = {0.9, 0.3, 0.1};
        const char *lrs[] = {"0.1", "0.01", "0.001"};
        const char *teams[] = {"vision", "vision", "nlp"};
        QStringList ids;
        for (int i = 0; i < 3; ++i) {
            QJsonObject body{{QStringLiteral("experiment_id"), experiment},
                             {QStringLiteral("run_name"), QString(QChar('a' + i))},
                             {QStringLiteral("start_time"), 1700000000000LL + i * 1000}};
            const QString run = m_client->post(QStringLiteral("runs/create"), QJsonDocument(body).toJson())
                                    .json()[QStringLiteral("run")][QStringLiteral("info")][QStringLiteral("run_id")]
                                    .toString();
            ids << run;
            m_client->post(QStringLiteral("runs/log-batch"),
                           QStringLiteral(R"({"run_id": "%1", "metrics": [{"key": "loss", "value": %2,
                "timestamp": 1, "step": 1}], "params": [{"key": "lr", "value": "%3"}], "tags": [{"key": "team", "value": "%4"}]})")
                               .arg(run)
                               .arg(losses[i])
                               .arg(QLatin1String(lrs[i]), QLatin1String(teams[i]))
                               .toUtf8());
        }
        m_client->post(QStringLiteral("runs/update"),
                       QStringLiteral(R"({"run_id": "%1", "status": "FINISHED"})").arg(ids[0]).toUtf8());
        const QJsonObject request{{QStringLiteral("experiment_ids"), QJsonArray{experiment}},
                                  {QStringLiteral("filter"), filter}};
        const auto reply = m_client->post(QStringLiteral("runs/search"), QJsonDocument(request).toJson());
        QCOMPARE(reply.status, 200L);
        QStringList found;
        for (const QJsonValue &run : reply.json()[QStringLiteral("runs")].toArray())
            found << run[QStringLiteral("info")][QStringLiteral("run_name")].toString();
        QCOMPARE(found, names);
    }

    void searchOrdersAndPages()
    {
        const QString experiment = createExperiment(QStringLiteral("pages"));
        for (int i = 0; i < 5; ++i) {
            const QString run = createRun(experiment, QStringLiteral("r%1").arg(i));
            m_client->post(QStringLiteral("runs/log-metric"),
                           QStringLiteral(R"({"run_id": "%1", "key": "acc", "value": %2, "timestamp": 1, "step": 0})")
                               .arg(run)
                               .arg((i * 3) % 5)
                               .toUtf8());
        }
        QStringList names;
        QString token;
        do {
            QJsonObject request{{QStringLiteral("experiment_ids"), QJsonArray{experiment}},
                                {QStringLiteral("max_results"), 2},
                                {QStringLiteral("order_by"), QJsonArray{QStringLiteral("metrics.acc DESC")}}};
            if (!token.isEmpty())
                request.insert(QStringLiteral("page_token"), token);
            const QJsonObject page =
                m_client->post(QStringLiteral("runs/search"), QJsonDocument(request).toJson()).json();
            QVERIFY(page[QStringLiteral("runs")].toArray().size() <= 2);
            for (const QJsonValue &run : page[QStringLiteral("runs")].toArray())
                names << run[QStringLiteral("info")][QStringLiteral("run_name")].toString();
            token = page[QStringLiteral("next_page_token")].toString();
        } while (!token.isEmpty());
        // acc: r0 0, r1 3, r2 1, r3 4, r4 2
        QCOMPARE(names, (QStringList{"r3", "r1", "r4", "r2", "r0"}));
    }

    void bulkIntervalSamplesKeepingEnds()
    {
        const QString experiment = createExperiment(QStringLiteral("bulk"));
        QStringList runs;
        for (int r = 0; r < 2; ++r) {
            const QString run = createRun(experiment);
            runs << run;
            QJsonArray metrics;
            for (int step = 0; step < 1000; ++step)
                metrics.append(QJsonObject{{QStringLiteral("key"), QStringLiteral("loss")},
                                           {QStringLiteral("value"), step * 0.5},
                                           {QStringLiteral("timestamp"), 5},
                                           {QStringLiteral("step"), step}});
            QCOMPARE(m_client
                         ->post(QStringLiteral("runs/log-batch"),
                                QJsonDocument(
                                    QJsonObject{{QStringLiteral("run_id"), run}, {QStringLiteral("metrics"), metrics}})
                                    .toJson())
                         .status,
                     200L);
        }
        const auto reply = m_client->get(
            QStringLiteral("metrics/get-history-bulk-interval"),
            QStringLiteral("run_ids=%1&run_ids=%2&metric_key=loss&start_step=100&end_step=599&max_results=50")
                .arg(runs[0], runs[1]));
        QCOMPARE(reply.status, 200L);
        const QJsonArray metrics = reply.json()[QStringLiteral("metrics")].toArray();
        QCOMPARE(metrics.size(), 100);
        QCOMPARE(metrics.first()[QStringLiteral("step")].toInteger(), 100);
        QCOMPARE(metrics[49][QStringLiteral("step")].toInteger(), 599);
        QCOMPARE(metrics[49][QStringLiteral("run_id")].toString(), runs[0]);
        QCOMPARE(metrics[50][QStringLiteral("run_id")].toString(), runs[1]);
        for (const QJsonValue &metric : metrics)
            QCOMPARE(metric[QStringLiteral("value")].toDouble(), metric[QStringLiteral("step")].toInteger() * 0.5);
    }

    // Points answered but not yet committed survive their server: a journal left behind (its server gone) is committed
    // by the next server before it listens, a record cut short is left out, and the journal is removed.
    void journalLeftBehindIsCommittedByTheNextServer()
    {
        const QString run = createRun(QStringLiteral("0"));
        m_client.reset();
        m_service.reset();
        QString journalPath;
        {
            auto journal = MetricJournal::create(m_space->root());
            QVERIFY(journal);
            std::vector<TrackedMetric> first{{QStringLiteral("loss"), 0.5, 1000, 1},
                                             {QStringLiteral("loss"), std::nan(""), 1001, 2}};
            std::vector<TrackedMetric> second{{QStringLiteral("acc"), 0.75, 1002, 2}};
            QVERIFY((*journal)->append(run, first));
            auto size = (*journal)->append(run, second);
            QVERIFY(size);
            journalPath = m_space->root() + QStringLiteral("/tracking/") + (*journal)->name();
            // A third record whose write did not finish.
            QFile file(journalPath);
            QVERIFY(file.open(QIODevice::Append));
            file.write(QByteArray("\x40\x00\x00\x00partial", 11));
        } // the server is gone: its lock is released, nothing was committed
        QVERIFY(QFile::exists(journalPath));
        auto next = TrackingService::start(m_space->workspace(), m_space->writer());
        QVERIFY(next);
        m_service = std::move(next).value();
        QVERIFY(!QFile::exists(journalPath));
        const QList<MetricPoint> loss = storedSeries(run, QStringLiteral("loss"));
        QCOMPARE(loss.size(), 2);
        QCOMPARE(loss[0].value, 0.5);
        QVERIFY(std::isnan(loss[1].value));
        QCOMPARE(storedSeries(run, QStringLiteral("acc")).size(), 1);
    }

    // A journal whose server still runs is left alone by other servers of the workspace.
    void liveServersJournalIsNotTaken()
    {
        const QString run = createRun(QStringLiteral("0"));
        QCOMPARE(m_client
                     ->post(QStringLiteral("runs/log-metric"),
                            QStringLiteral(R"({"run_id": "%1", "key": "k", "value": 1, "timestamp": 1, "step": 0})")
                                .arg(run)
                                .toUtf8())
                     .status,
                 200L);
        auto second = TrackingService::start(m_space->workspace(), m_space->writer());
        QVERIFY(second);
        QCOMPARE(pointCount(run), 1); // committed once, by its own server
    }

    // Merging a workspace (trainyard import) brings the MLflow side along: key-value tags and the projects' experiments.
    void workspaceImportKeepsTagsAndExperiments()
    {
        const QString run = createRun(createExperiment(QStringLiteral("merged-exp")), QStringLiteral("merged"));
        QCOMPARE(
            m_client
                ->post(QStringLiteral("runs/set-tag"),
                       QStringLiteral(R"({"run_id": "%1", "key": "mlflow.user", "value": "bob"})").arg(run).toUtf8())
                .status,
            200L);
        QVERIFY(m_service->commitJournaled());
        TestWorkspace other;
        auto imported = importWorkspace(other.workspace(), m_space->root());
        QVERIFY2(imported, imported ? "" : qPrintable(imported.error()));
        QCOMPARE(imported->runsImported, 1);
        auto connection = other.workspace().database().connect();
        QVERIFY(trackingstore::experimentByName(*connection, QStringLiteral("merged-exp"))->has_value());
        auto tracked = trackingstore::findTrackedRun(*connection, run);
        QVERIFY(tracked->has_value());
        QVERIFY(tracked->value().tags.contains(KeyValue{QStringLiteral("mlflow.user"), QStringLiteral("bob")}));
        QCOMPARE(tracked->value().name, QStringLiteral("merged"));
    }

    void busyPortNamed()
    {
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        auto refused = TrackingService::start(m_space->workspace(), m_space->writer(), squatter.serverPort());
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QString::number(squatter.serverPort())), qPrintable(refused.error()));
    }

    void filterParserNamesTheColumn()
    {
        auto bad = MlflowFilter::parse(QStringLiteral("metrics.loss < 0.5 or params.lr = '1'"));
        QVERIFY(!bad);
        QVERIFY2(bad.error().contains(QStringLiteral("column 20")), qPrintable(bad.error()));
        QVERIFY(!MlflowFilter::parse(QStringLiteral("params.lr = 0.1"))); // text must be quoted
        QVERIFY(!MlflowFilter::parse(QStringLiteral("metrics.loss < 'low'")));
        QVERIFY(!MlflowFilter::parse(QStringLiteral("colour.x = 'a'")));
        QVERIFY(MlflowFilter::parse(QStringLiteral("attributes.run_id IN ('a', 'b') AND tags.\"my tag\" = 'x'")));
        QVERIFY(likeMatches(QStringLiteral("vision-large"), QStringLiteral("vis%la_ge"), false));
        QVERIFY(!likeMatches(QStringLiteral("Vision"), QStringLiteral("vis%"), false));
    }

    // The real MLflow 2.12.2 client logs a run through every path, with NaN, infinities and a step of 10^12, reads it back
    // through mlflow.get_run and MlflowClient().get_metric_history; every point it sent is stored as sent.
    void realMlflowClientRoundTrip()
    {
        if (!QFile::exists(realClientsDir() + QStringLiteral("/mlflow_probe.py")))
            QSKIP("../shared/realclients is absent: the real MLflow client test needs it (see docs/MLFLOW.md)");
        QTemporaryDir scratch;
        const QString expectPath = scratch.filePath(QStringLiteral("expect.json"));
        QProcess probe;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("PYTHONPATH"), realClientsDir() + QStringLiteral("/mlflow-src"));
        environment.insert(QStringLiteral("MLFLOW_HTTP_REQUEST_MAX_RETRIES"), QStringLiteral("0"));
        environment.insert(QStringLiteral("MLFLOW_TRACKING_TOKEN"), QString::fromLatin1(m_service->token()));
        probe.setProcessEnvironment(environment);
        probe.start(QStringLiteral("/usr/bin/python3"),
                    {realClientsDir() + QStringLiteral("/mlflow_probe.py"), m_service->uri(),
                     QStringLiteral("--experiment"), QStringLiteral("probe-exp"), QStringLiteral("--run-name"),
                     QStringLiteral("probe-run"), QStringLiteral("--edge-cases"), QStringLiteral("--readback"),
                     QStringLiteral("--expect-json"), expectPath});
        QVERIFY(probe.waitForFinished(120000));
        QVERIFY2(probe.exitCode() == 0, probe.readAllStandardError().right(3000).constData());
        QFile expectFile(expectPath);
        QVERIFY(expectFile.open(QIODevice::ReadOnly));
        const QJsonObject expect = QJsonDocument::fromJson(expectFile.readAll()).object();
        const QString runId = expect[QStringLiteral("run_id")].toString();

        auto connection = m_space->workspace().database().connect();
        auto record = runqueries::findRun(*connection, runId);
        QVERIFY(record);
        QCOMPARE(toString(record->status), toString(RunStatus::Succeeded));
        QCOMPARE(record->name, QStringLiteral("probe-run"));
        QCOMPARE(record->params.value(QStringLiteral("lr")), QStringLiteral("0.001"));
        QVERIFY(record->tags.contains(QStringLiteral("team=probe")));
        QMap<QString, QList<MetricPoint>> stored;
        const QJsonArray sent = expect[QStringLiteral("metrics")].toArray();
        QMap<QString, int> used;
        for (const QJsonValue &entry : sent) {
            const QJsonArray point = entry.toArray();
            const QString key = point[0].toString();
            if (!stored.contains(key))
                stored[key] = storedSeries(runId, key);
            // Points of one key come back in step order; the probe sends each key's steps in increasing order.
            const int index = used[key]++;
            QVERIFY2(index < stored[key].size(), qPrintable(key));
            const MetricPoint &got = stored[key][index];
            QCOMPARE(got.step, point[1].toInteger());
            QVERIFY2(sameDouble(got.value, jsonDouble(point[2])),
                     qPrintable(QStringLiteral("%1@%2").arg(key).arg(got.step)));
            if (!point[3].isNull())
                QCOMPARE(got.tsMs.value_or(0), point[3].toInteger());
        }
        for (auto it = stored.constBegin(); it != stored.constEnd(); ++it)
            QCOMPARE(it->size(), used[it.key()]);
        auto tracked = trackingstore::findTrackedRun(*connection, runId);
        QCOMPARE(QString::number(tracked->value().experimentId), expect[QStringLiteral("experiment_id")].toString());
    }
};

QTEST_GUILESS_MAIN(TestTracking)
#include "tst_tracking.moc"
