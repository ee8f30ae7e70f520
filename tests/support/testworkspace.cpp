// Seeds workspaces for tests through the same writer the app uses.
#include "support/testworkspace.h"

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

QString TestWorkspace::addRun(const QString &name, RunStatus status, const QStringList &tags, const QDateTime &createdAt)
{
    NewRun run;
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

} // namespace trainyard::test
