// TensorBoard event files and MLflow stores coming in: CRC32C, the TFRecord scan, every scalar encoding from the real
// writers (../shared/realclients/samples/tb, with the values they stored), live tailing with exact resume, damaged
// records, and `import --tensorboard` / `import --mlflow` (idempotent; a broken store writes nothing).
#include "ingest/historyimport.h"
#include "ingest/tensorboardingester.h"
#include "ingest/tfrecord.h"
#include "store/database.h"
#include "store/metricqueries.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "support/testworkspace.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QtTest>

#include <cmath>

using namespace trainyard;
using namespace trainyard::test;

namespace {

QString realClientsDir() { return QStringLiteral(TRAINYARD_SOURCE_DIR "/../shared/realclients"); }
QString samplesDir() { return realClientsDir() + QStringLiteral("/samples/tb"); }

double expectedValue(const QJsonValue &value)
{
    if (value.isString()) {
        const QString text = value.toString();
        return text == QLatin1String("NaN") ? std::nan("") : text == QLatin1String("Infinity") ? INFINITY : -INFINITY;
    }
    return value.toDouble();
}

QByteArray record(const QByteArray &data)
{
    QByteArray out;
    const quint64 length = quint64(data.size());
    out.append(reinterpret_cast<const char *>(&length), 8);
    const quint32 lengthCrc = maskedCrc32c(out.constData(), 8);
    out.append(reinterpret_cast<const char *>(&lengthCrc), 4);
    out.append(data);
    const quint32 dataCrc = maskedCrc32c(data.constData(), std::size_t(data.size()));
    out.append(reinterpret_cast<const char *>(&dataCrc), 4);
    return out;
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeAll(const QString &path, const QByteArray &bytes, bool append = false)
{
    QFile file(path);
    if (!file.open(append ? QIODevice::Append : QIODevice::WriteOnly))
        return false;
    return file.write(bytes) == bytes.size();
}

} // namespace

class TestTensorBoard : public QObject {
    Q_OBJECT

private:
    QList<MetricPoint> series(TestWorkspace &space, const QString &runId, const QString &key)
    {
        auto connection = space.workspace().database().connect();
        auto points = metricqueries::series(*connection, runId, key);
        return points ? *points : QList<MetricPoint>();
    }
    std::int64_t pointCount(TestWorkspace &space, const QString &runId)
    {
        auto connection = space.workspace().database().connect();
        return metricqueries::pointCount(*connection, runId).value();
    }
    QString sampleFile(const QString &variant)
    {
        const QStringList files = QDir(samplesDir() + QLatin1Char('/') + variant)
                                      .entryList({QStringLiteral("events.out.tfevents.*")}, QDir::Files);
        return files.isEmpty() ? QString()
                               : samplesDir() + QLatin1Char('/') + variant + QLatin1Char('/') + files.first();
    }

private slots:
    void crc32cKnownValues()
    {
        QCOMPARE(crc32c("123456789", 9), 0xe3069283u);
        QCOMPARE(crc32cWithTable("123456789", 9), 0xe3069283u);
        QCOMPARE(maskedCrc32c("123456789", 9), 0xc78ab0e5u);
        QCOMPARE(crc32c("", 0), 0u);
        // The instruction and the table agree on every length and alignment.
        QByteArray random(4099, Qt::Uninitialized);
        for (char &byte : random)
            byte = char(QRandomGenerator::global()->bounded(256));
        for (int start = 0; start < 9; ++start)
            for (int length : {0, 1, 7, 8, 9, 63, 64, 65, 4090})
                QCOMPARE(crc32c(random.constData() + start, std::size_t(length)),
                         crc32cWithTable(random.constData() + start, std::size_t(length)));
    }

    void scanWaitsForAnIncompleteRecordAndSkipsDamage()
    {
        const QByteArray stream = record("first") + record("second") + record("third");
        // Cut in the middle of the third record: two records, the third waited for.
        TfRecordScan partial = scanTfRecords(stream.constData(), std::size_t(stream.size() - 3), 100, false);
        QCOMPARE(partial.records.size(), std::size_t(2));
        QVERIFY(partial.incompleteTail);
        QVERIFY(partial.damage.empty());
        QCOMPARE(partial.consumedUpTo, 100 + 2 * (16 + 5) + 1 /* "second" is one byte longer */);
        // The same cut at the end of a file that is complete: damage, reported at its offset.
        TfRecordScan atEnd = scanTfRecords(stream.constData(), std::size_t(stream.size() - 3), 100, true);
        QCOMPARE(atEnd.damage.size(), std::size_t(1));
        QCOMPARE(atEnd.damage.front().offset, partial.consumedUpTo);
        // A flipped data byte: that record skipped, the next one read.
        QByteArray flipped = stream;
        flipped[12 + 2] = 'X';
        TfRecordScan damaged = scanTfRecords(flipped.constData(), std::size_t(flipped.size()), 0, true);
        QCOMPARE(damaged.records.size(), std::size_t(2));
        QCOMPARE(damaged.records[0].data, std::string_view("second"));
        QCOMPARE(damaged.damage.front().offset, 0);
        QVERIFY(damaged.damage.front().what.contains(QStringLiteral("data CRC")));
        // A damaged length: the scan finds the next header that checks out.
        QByteArray badLength = stream;
        badLength[0] = char(0x7f);
        TfRecordScan resynced = scanTfRecords(badLength.constData(), std::size_t(badLength.size()), 0, true);
        QCOMPARE(resynced.records.size(), std::size_t(2));
        QCOMPARE(resynced.records[0].data, std::string_view("second"));
        QVERIFY(resynced.damage.front().what.contains(QStringLiteral("length CRC")));
    }

    // Every variant the real writers produce (simple_value, float_val, double_val, empty shape, 4-byte tensor_content),
    // imported with every value equal to what the writer stored (32-bit floats as stored), NaN, infinities and a step
    // of 10^12 included; hparams as params; importing again doubles nothing.
    void realWritersEveryEncodingImportedExactly()
    {
        if (!QFile::exists(samplesDir() + QStringLiteral("/expected.json")))
            QSKIP("../shared/realclients is absent: the real TensorBoard writers' samples are there "
                  "(docs/TENSORBOARD.md)");
        TestWorkspace space;
        QTemporaryDir logdir;
        QVERIFY(QProcess::execute(QStringLiteral("cp"),
                                  {QStringLiteral("-r"), samplesDir() + QStringLiteral("/."), logdir.path()})
                == 0);
        auto imported = importTensorBoardLogdir(space.workspace(), space.writer(), logdir.path());
        QVERIFY2(imported, imported ? "" : qPrintable(imported.error()));
        QCOMPARE(imported->runsCreated, 9);
        QVERIFY2(imported->problems.isEmpty(), qPrintable(imported->problems.join(QLatin1Char('\n'))));

        const QJsonObject expected =
            QJsonDocument::fromJson(readAll(logdir.filePath(QStringLiteral("expected.json")))).object();
        auto connection = space.workspace().database().connect();
        std::int64_t compared = 0;
        for (const QJsonValue &variantValue : expected[QStringLiteral("variants")].toArray()) {
            const QJsonObject variant = variantValue.toObject();
            auto run = runqueries::findRun(*connection, variant[QStringLiteral("logdir_rel")].toString());
            QVERIFY2(run, qPrintable(variant[QStringLiteral("variant")].toString()));
            QCOMPARE(run->backend, QStringLiteral("tensorboard"));
            QCOMPARE(toString(run->status), QStringLiteral("succeeded"));
            const QJsonObject scalars = variant[QStringLiteral("scalars")].toObject();
            for (auto key = scalars.constBegin(); key != scalars.constEnd(); ++key) {
                const QJsonArray rows = key->toArray();
                const QList<MetricPoint> stored = series(space, run->id, key.key());
                QCOMPARE(stored.size(), rows.size());
                for (qsizetype i = 0; i < rows.size(); ++i) {
                    const QJsonArray row = rows[i].toArray();
                    QCOMPARE(stored[i].step, row[0].toInteger());
                    const double want = expectedValue(row[2]); // value_stored
                    QVERIFY2((std::isnan(want) && std::isnan(stored[i].value)) || stored[i].value == want,
                             qPrintable(QStringLiteral("%1 %2 step %3: %4 != %5")
                                            .arg(variant[QStringLiteral("variant")].toString(), key.key())
                                            .arg(stored[i].step)
                                            .arg(stored[i].value)
                                            .arg(want)));
                    if (!row[3].isNull())
                        QCOMPARE(stored[i].tsMs.value_or(0), std::llround(row[3].toDouble() * 1000.0));
                    ++compared;
                }
            }
            const QJsonValue hparams = variant[QStringLiteral("hparams")];
            if (hparams.isObject()) {
                auto hparamRun = runqueries::findRun(*connection, hparams[QStringLiteral("logdir_rel")].toString());
                QVERIFY(hparamRun);
                QCOMPARE(hparamRun->params.value(QStringLiteral("optimizer")), QStringLiteral("adam"));
                QCOMPARE(hparamRun->params.value(QStringLiteral("lr")).toDouble(), 0.001);
                QCOMPARE(hparamRun->params.value(QStringLiteral("batch_size")).toDouble(), 64.0);
                QCOMPARE(series(space, hparamRun->id, QStringLiteral("hparam/accuracy")).value(0).value, 0.875);
            }
        }
        QCOMPARE(compared, 6 * 2007);

        auto again = importTensorBoardLogdir(space.workspace(), space.writer(), logdir.path());
        QVERIFY(again);
        QCOMPARE(again->runsCreated, 0);
        QCOMPARE(again->runsAlreadyPresent, 9);
        QCOMPARE(again->points, 0);
        auto total = runqueries::listRuns(*connection);
        QCOMPARE(total->size(), 9);
    }

    // A file still being written: a record cut off is waited for; the rest arrives later; a new ingester resuming from
    // the committed offsets continues without losing or doubling a point.
    void fileAppendedWhileTailedResumesExactly()
    {
        if (sampleFile(QStringLiteral("torch_simple")).isEmpty())
            QSKIP("../shared/realclients is absent: the real TensorBoard writers' samples are there");
        const QByteArray whole = readAll(sampleFile(QStringLiteral("torch_simple")));
        TestWorkspace space;
        const QString runId = space.addRun(QStringLiteral("tailed"), RunStatus::Running);
        QTemporaryDir folder;
        const QString path = folder.filePath(QStringLiteral("tb/events.out.tfevents.1.host"));
        QVERIFY(QDir().mkpath(folder.filePath(QStringLiteral("tb"))));
        const qsizetype cut1 = whole.size() / 3 + 5, cut2 = 2 * whole.size() / 3 + 7;
        QVERIFY(writeAll(path, whole.left(cut1)));
        {
            TensorBoardIngester ingester(runId, space.writer());
            ingester.addFolder(folder.path(), true);
            QVERIFY(ingester.resume(space.workspace().database()));
            auto first = ingester.poll();
            QVERIFY(first);
            QVERIFY(*first > 0);
            QCOMPARE(ingester.stats().damagedRecords, 0);
            QVERIFY(writeAll(path, whole.mid(cut1, cut2 - cut1), true));
            QVERIFY(ingester.poll());
        }
        // Trainyard restarted: a new ingester resumes from the committed offsets.
        QVERIFY(writeAll(path, whole.mid(cut2), true));
        TensorBoardIngester resumed(runId, space.writer());
        resumed.addFolder(folder.path(), true);
        QVERIFY(resumed.resume(space.workspace().database()));
        QVERIFY(resumed.poll(true));
        QCOMPARE(resumed.stats().damagedRecords, 0);
        // A file in a sub-folder: its keys carry the sub-folder.
        const QList<MetricPoint> loss = series(space, runId, QStringLiteral("tb/train/loss"));
        QCOMPARE(loss.size(), 1000);
        for (int step = 0; step < 1000; ++step)
            QCOMPARE(loss[step].step, step);
        QCOMPARE(pointCount(space, runId), 2007);
    }

    void damagedRecordCountedWithFileAndOffsetAndSkipped()
    {
        if (sampleFile(QStringLiteral("tbx_simple")).isEmpty())
            QSKIP("../shared/realclients is absent: the real TensorBoard writers' samples are there");
        QByteArray bytes = readAll(sampleFile(QStringLiteral("tbx_simple")));
        // The third record: skip two records by their lengths, then flip a byte of its data.
        qsizetype offset = 0;
        for (int i = 0; i < 2; ++i) {
            quint64 length = 0;
            std::memcpy(&length, bytes.constData() + offset, 8);
            offset += qsizetype(16 + length);
        }
        bytes[offset + 14] = char(bytes[offset + 14] ^ 0x55);
        QTemporaryDir logdir;
        QVERIFY(QDir().mkpath(logdir.filePath(QStringLiteral("run1"))));
        QVERIFY(writeAll(logdir.filePath(QStringLiteral("run1/events.out.tfevents.2.host")), bytes));
        TestWorkspace space;
        auto imported = importTensorBoardLogdir(space.workspace(), space.writer(), logdir.path());
        QVERIFY(imported);
        QCOMPARE(imported->damagedRecords, 1);
        QCOMPARE(imported->problems.size(), 1);
        QVERIFY2(
            imported->problems.first().contains(QStringLiteral("events.out.tfevents.2.host at offset %1").arg(offset)),
            qPrintable(imported->problems.first()));
        QCOMPARE(imported->points, 2006); // every scalar but the damaged one
    }

    // A file larger than one read (16 MiB): records cut by a read's end are read again whole, none lost or doubled, and
    // the points are committed in several transactions while the rest is decoded.
    void fileLargerThanOneReadImportsEveryRecord()
    {
        QTemporaryDir logdir;
        QVERIFY(QDir().mkpath(logdir.filePath(QStringLiteral("big"))));
        QFile file(logdir.filePath(QStringLiteral("big/events.out.tfevents.4.host")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        constexpr int kSteps = 200000;
        QByteArray buffer;
        for (int step = 0; step < kSteps; ++step) {
            buffer += test::tensorboardScalarRecord(step, "a/fairly/long/tag/name/for/loss", float(step),
                                                    1700000000.0 + step);
            buffer += test::tensorboardScalarRecord(step, "a/fairly/long/tag/name/for/acc", float(-step),
                                                    1700000000.0 + step);
        }
        QVERIFY(buffer.size() > TensorBoardIngester::kMaxReadBytes);
        file.write(buffer);
        file.close();
        TestWorkspace space;
        auto imported = importTensorBoardLogdir(space.workspace(), space.writer(), logdir.path());
        QVERIFY(imported);
        QCOMPARE(imported->points, 2 * kSteps);
        QCOMPARE(imported->damagedRecords, 0);
        const QList<MetricPoint> loss =
            series(space, imported->runIds.first(), QStringLiteral("a/fairly/long/tag/name/for/loss"));
        QCOMPARE(loss.size(), kSteps);
        for (int step = 0; step < kSteps; step += 997)
            QCOMPARE(loss[step].value, double(step));
        QCOMPARE(loss.last().step, kSteps - 1);
    }

    void notAnEventFileIsRefusedByName()
    {
        QTemporaryDir logdir;
        QVERIFY(writeAll(logdir.filePath(QStringLiteral("events.out.tfevents.3.host")),
                         "this is a text file, not TFRecord\n"));
        TestWorkspace space;
        auto imported = importTensorBoardLogdir(space.workspace(), space.writer(), logdir.path());
        QVERIFY(!imported);
        QVERIFY2(imported.error().contains(QStringLiteral("events.out.tfevents.3.host: not a TensorBoard event file")),
                 qPrintable(imported.error()));
        auto connection = space.workspace().database().connect();
        QVERIFY(runqueries::listRuns(*connection)->isEmpty());
        QVERIFY(
            !importTensorBoardLogdir(space.workspace(), space.writer(), logdir.filePath(QStringLiteral("missing"))));
        QTemporaryDir empty;
        auto nothing = importTensorBoardLogdir(space.workspace(), space.writer(), empty.path());
        QVERIFY(!nothing);
        QVERIFY(nothing.error().contains(QStringLiteral("no TensorBoard event files")));
    }

    // An mlruns/ folder written by the real MLflow 2.12.2 client (file store) imports with every point; twice adds nothing;
    // a run folder without meta.yaml makes the whole import fail naming it, with nothing written.
    void mlflowFileStoreImportsWithEveryPoint()
    {
        if (!QFile::exists(realClientsDir() + QStringLiteral("/mlflow_probe.py")))
            QSKIP("../shared/realclients is absent: the real MLflow client writes the store this test imports");
        QTemporaryDir scratch;
        const QString store = scratch.filePath(QStringLiteral("mlruns"));
        const QString expectPath = scratch.filePath(QStringLiteral("expect.json"));
        QProcess probe;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("PYTHONPATH"), realClientsDir() + QStringLiteral("/mlflow-src"));
        probe.setProcessEnvironment(environment);
        probe.start(QStringLiteral("/usr/bin/python3"),
                    {realClientsDir() + QStringLiteral("/mlflow_probe.py"), QStringLiteral("file://") + store,
                     QStringLiteral("--experiment"), QStringLiteral("lab"), QStringLiteral("--edge-cases"),
                     QStringLiteral("--expect-json"), expectPath});
        QVERIFY(probe.waitForFinished(180000));
        QVERIFY2(probe.exitCode() == 0, probe.readAllStandardError().right(2000).constData());
        const QJsonObject expect = QJsonDocument::fromJson(readAll(expectPath)).object();

        TestWorkspace space;
        auto imported = importMlflowStore(space.workspace(), space.writer(), store);
        QVERIFY2(imported, imported ? "" : qPrintable(imported.error()));
        QCOMPARE(imported->runsCreated, 1);
        auto connection = space.workspace().database().connect();
        auto run = runqueries::findRun(*connection, imported->runIds.first());
        QVERIFY(run);
        QCOMPARE(run->name, QStringLiteral("probe-run"));
        QCOMPARE(toString(run->status), QStringLiteral("succeeded"));
        QCOMPARE(run->params.value(QStringLiteral("lr")), QStringLiteral("0.001"));
        QVERIFY(run->tags.contains(QStringLiteral("team=probe")));
        const QJsonArray sent = expect[QStringLiteral("metrics")].toArray();
        QCOMPARE(pointCount(space, run->id), sent.size());
        QMap<QString, QList<MetricPoint>> stored;
        QMap<QString, int> used;
        for (const QJsonValue &entry : sent) {
            const QJsonArray point = entry.toArray();
            const QString key = point[0].toString();
            if (!stored.contains(key))
                stored[key] = series(space, run->id, key);
            const MetricPoint &got = stored[key][used[key]++];
            QCOMPARE(got.step, point[1].toInteger());
            const double want = expectedValue(point[2]);
            QVERIFY((std::isnan(want) && std::isnan(got.value)) || got.value == want);
        }

        auto again = importMlflowStore(space.workspace(), space.writer(), store);
        QVERIFY(again);
        QCOMPARE(again->runsCreated, 0);
        QCOMPARE(again->runsAlreadyPresent, 1);
        QCOMPARE(pointCount(space, run->id), sent.size());

        // A broken store: a run folder without its meta.yaml.
        QVERIFY(QDir().mkpath(store + QStringLiteral("/0/deadbeef/metrics")));
        TestWorkspace fresh;
        auto broken = importMlflowStore(fresh.workspace(), fresh.writer(), store);
        QVERIFY(!broken);
        QVERIFY2(broken.error().contains(QStringLiteral("deadbeef/meta.yaml: missing")), qPrintable(broken.error()));
        auto freshConnection = fresh.workspace().database().connect();
        QVERIFY(runqueries::listRuns(*freshConnection)->isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestTensorBoard)
#include "tst_tensorboard.moc"
