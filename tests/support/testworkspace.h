// Test support: temporary workspaces seeded through the real store, and file hashes.
#pragma once

#include "store/runrecord.h"
#include "store/storewriter.h"
#include "store/workspace.h"

#include <QByteArray>
#include <QImage>
#include <QProcessEnvironment>
#include <QString>
#include <QTemporaryDir>

#include <memory>
#include <optional>
#include <vector>

namespace trainyard::test {

class TestWorkspace {
public:
    TestWorkspace();
    bool isValid() const { return m_workspace.has_value(); }
    const QString &root() const { return m_root; }
    Workspace &workspace() { return *m_workspace; }
    StoreWriter &writer() { return *m_writer; }

    // Creates a run with the given name, status and tags; started/ended times follow from the status.
    QString addRun(const QString &name, RunStatus status, const QStringList &tags = {}, const QDateTime &createdAt = {},
                   const QList<QPair<QString, QString>> &params = {});
    // Writes points of one metric key (timestamps: startMs + 1000 * step when startMs is given).
    bool addPoints(const QString &runId, const QString &key, const std::vector<std::int64_t> &steps,
                   const std::vector<double> &values, std::optional<std::int64_t> startMs = std::nullopt);

private:
    QTemporaryDir m_dir;
    QString m_root;
    std::optional<Workspace> m_workspace;
    std::unique_ptr<StoreWriter> m_writer;
};

QByteArray sha256OfFile(const QString &path);

// The documentation's screenshots come from the tests that check what they show: with TRAINYARD_DOCS_IMAGES=DIR set
// (the `docs_images` build target sets it to docs/images), `image` is saved as DIR/<name>.png. True when saved or
// not asked for.
bool saveDocsImage(const QImage &image, const QString &name);
bool docsImagesWanted();

// The trainyard binary run to completion: its exit code (-1 when it crashed or timed out) and output.
struct CommandOutcome {
    int exitCode = -1;
    QString out;
    QString err;
};
CommandOutcome runTrainyard(const QStringList &arguments, const QProcessEnvironment &environment,
                            int timeoutMs = 120000);

} // namespace trainyard::test

namespace trainyard::test {
// One TFRecord-framed TensorBoard Event holding one simple_value scalar, encoded by hand (protobuf wire format), for
// tests that need an event file without the real writers of ../shared/realclients.
QByteArray tensorboardScalarRecord(std::int64_t step, const QByteArray &tag, float value, double wallTime);
} // namespace trainyard::test
