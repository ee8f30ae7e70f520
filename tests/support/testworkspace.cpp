// Seeds workspaces for tests through the same writer the app uses.
#include "support/testworkspace.h"

#include "ingest/tfrecord.h"

#include "store/metricchunk.h"

#include <QProcess>
#include "store/sqlite.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTest>

namespace trainyard::test {

TestWorkspace::TestWorkspace() : m_root(m_dir.path() + QStringLiteral("/workspace"))
{
    auto workspace = Workspace::open(m_root);
    if (!workspace) {
        qWarning("cannot open test workspace: %s", qPrintable(workspace.error()));
        return;
    }
    m_workspace.emplace(std::move(workspace.value()));
    auto writer = StoreWriter::start(m_workspace->database());
    if (!writer) {
        qWarning("cannot start writer: %s", qPrintable(writer.error()));
        m_workspace.reset();
        return;
    }
    m_writer = std::move(writer.value());
}

QString TestWorkspace::addRun(const QString &name, RunStatus status, const QStringList &tags,
                              const QDateTime &createdAt, const QList<QPair<QString, QString>> &params)
{
    NewRun run;
    run.params = params;
    run.name = name;
    run.command = {QStringLiteral("/usr/bin/python3"), QStringLiteral("train.py"), QStringLiteral("--lr=0.1")};
    run.cwd = QStringLiteral("/tmp");
    run.host = QStringLiteral("testhost");
    run.tags = tags;
    run.createdAt = createdAt.isValid() ? createdAt : QDateTime::currentDateTimeUtc();
    auto created = m_writer->createRun(run).get();
    if (!created) {
        qWarning("cannot create run: %s", qPrintable(created.error()));
        return {};
    }
    const QString id = created.value();
    if (status != RunStatus::Queued) {
        const QDateTime startedAt = run.createdAt.addSecs(5);
        (void)m_writer->recordStatus(id, RunStatus::Starting, run.createdAt.addSecs(1)).get();
        if (status != RunStatus::Starting)
            (void)m_writer->recordStatus(id, RunStatus::Running, startedAt).get();
        if (isTerminal(status))
            (void)m_writer->recordStatus(id, status, startedAt.addSecs(95)).get();
        else if (status == RunStatus::Restarting)
            (void)m_writer->recordStatus(id, status, startedAt.addSecs(30)).get();
    }
    return id;
}

QByteArray sha256OfFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&file);
    return hash.result().toHex();
}

bool TestWorkspace::addPoints(const QString &runId, const QString &key, const std::vector<std::int64_t> &steps,
                              const std::vector<double> &values, std::optional<std::int64_t> startMs)
{
    auto connection = m_workspace->database().connect();
    if (!connection)
        return false;
    auto transaction = SqliteTransaction::begin(connection.value(), SqliteTransaction::Kind::Immediate);
    auto keyId = metricKeyId(connection.value(), runId, key);
    if (!transaction || !keyId)
        return false;
    for (std::size_t start = 0; start < steps.size(); start += 8192) {
        const std::size_t size = std::min<std::size_t>(8192, steps.size() - start);
        std::vector<std::int64_t> timestamps(size, kNoTimestamp);
        if (startMs)
            for (std::size_t i = 0; i < size; ++i)
                timestamps[i] = *startMs + 1000 * steps[start + i];
        if (!insertMetricChunk(connection.value(), keyId.value(), std::span(steps).subspan(start, size),
                               std::span(values).subspan(start, size), timestamps))
            return false;
    }
    return transaction->commit().ok();
}

CommandOutcome runTrainyard(const QStringList &arguments, const QProcessEnvironment &environment, int timeoutMs)
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(TRAINYARD_BINARY), arguments);
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return {-1, QString::fromUtf8(process.readAllStandardOutput()), QStringLiteral("timed out")};
    }
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromUtf8(process.readAllStandardOutput()), QString::fromUtf8(process.readAllStandardError())};
}

} // namespace trainyard::test

namespace trainyard::test {

namespace {
void appendVarint(QByteArray &out, std::uint64_t value)
{
    while (value >= 0x80) {
        out.append(char((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.append(char(value));
}
} // namespace

QByteArray tensorboardScalarRecord(std::int64_t step, const QByteArray &tag, float value, double wallTime)
{
    QByteArray summaryValue;
    summaryValue.append(char(0x0a)); // Value.tag = 1, length-delimited
    appendVarint(summaryValue, std::uint64_t(tag.size()));
    summaryValue.append(tag);
    summaryValue.append(char(0x15)); // Value.simple_value = 2, fixed32
    summaryValue.append(reinterpret_cast<const char *>(&value), 4);
    QByteArray summary;
    summary.append(char(0x0a)); // Summary.value = 1
    appendVarint(summary, std::uint64_t(summaryValue.size()));
    summary.append(summaryValue);
    QByteArray event;
    event.append(char(0x09)); // Event.wall_time = 1, fixed64
    event.append(reinterpret_cast<const char *>(&wallTime), 8);
    event.append(char(0x10)); // Event.step = 2, varint
    appendVarint(event, std::uint64_t(step));
    event.append(char(0x2a)); // Event.summary = 5
    appendVarint(event, std::uint64_t(summary.size()));
    event.append(summary);

    QByteArray record;
    const std::uint64_t length = std::uint64_t(event.size());
    record.append(reinterpret_cast<const char *>(&length), 8);
    const std::uint32_t lengthCrc = maskedCrc32c(record.constData(), 8);
    record.append(reinterpret_cast<const char *>(&lengthCrc), 4);
    record.append(event);
    const std::uint32_t dataCrc = maskedCrc32c(event.constData(), std::size_t(event.size()));
    record.append(reinterpret_cast<const char *>(&dataCrc), 4);
    return record;
}

bool docsImagesWanted() { return !qEnvironmentVariable("TRAINYARD_DOCS_IMAGES").isEmpty(); }

bool saveDocsImage(const QImage &image, const QString &name)
{
    const QString folder = qEnvironmentVariable("TRAINYARD_DOCS_IMAGES");
    if (folder.isEmpty())
        return true;
    return !image.isNull() && image.save(folder + QLatin1Char('/') + name + QStringLiteral(".png"));
}

} // namespace trainyard::test
