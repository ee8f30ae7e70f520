// CheckpointWatcher: finds a run's checkpoints (issue 19) in two places, polled by the run's ingestion thread:
//   - what the ranks' clients say (trainyard_log.checkpoint(path, step, **metrics) appends a line to
//     <run folder>/checkpoints.rank<N>.jsonl), recorded once the path exists and is whole;
//   - what appears at the top of the run's checkpoint folder ($TRAINYARD_CHECKPOINT_DIR), or of artifacts/checkpoints/
//     (an MLflow artifact logged under a checkpoint folder): a file or folder is a
//     checkpoint once it is whole: its size and time have not changed for the settle interval, a zip written by
//     torch.save has its end record, and a Hugging Face Trainer folder (checkpoint-N/) has its trainer_state.json.
// The step comes from the client, or from the name: step_1200.pt, checkpoint-1200/ (Hugging Face Trainer),
// epoch=3-step=1200.ckpt (Lightning), model_1200.pt. Hidden names and names ending .tmp, .partial or .incomplete are
// never checkpoints (a save under way).
#pragma once

#include "store/checkpoints.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

namespace trainyard {

class CheckpointWatcher {
public:
    static constexpr std::int64_t kDefaultSettleMs = 2000;
    // Folders under the run's artifacts/ whose entries are checkpoints too (source "mlflow"): what a script logs with
    // mlflow.log_artifact(path, "checkpoints") lands there, the run's artifact_uri being its artifacts/ folder.
    static constexpr const char *kArtifactCheckpointFolders[] = {"checkpoints", "checkpoint", "ckpt", "ckpts"};

    CheckpointWatcher(QString runId, QString runDir, QString checkpointDir, std::int64_t settleMs = kDefaultSettleMs);

    struct Changes {
        QList<CheckpointRecord> found; // new, or changed since they were recorded (a last.ckpt saved again)
        QStringList removed;           // recorded paths that are gone
        bool isEmpty() const { return found.isEmpty() && removed.isEmpty(); }
    };
    // What changed since the last poll. `final`: the ranks have exited, so nothing is being written any more and
    // nothing waits for the settle interval (a file cut short still fails its completeness check).
    Changes poll(std::int64_t nowMs, bool final = false);

    const QString &checkpointDir() const { return m_checkpointDir; }

    // The step a checkpoint's name holds, if any.
    static std::optional<std::int64_t> stepFromName(const QString &name);
    // False for names of saves under way or of things that are not checkpoints (hidden files).
    static bool isCandidateName(const QString &name);
    // The checks a checkpoint passes once it is whole, whatever its age: a torch.save zip has its end-of-central-
    // directory record; a Hugging Face Trainer folder has trainer_state.json (written last) and no save under way.
    static bool looksWhole(const QString &path);

private:
    struct Sighting {
        std::int64_t bytes = -1;
        std::int64_t modifiedMs = -1;
        std::int64_t unchangedSinceMs = 0;
        bool recorded = false;
        std::int64_t recordedBytes = -1;
        std::int64_t recordedModifiedMs = -1;
    };
    struct Declared {
        CheckpointRecord record;
        bool recorded = false;
    };
    void readClientFiles();

    QString m_runId;
    QString m_runDir;
    QString m_checkpointDir;
    std::int64_t m_settleMs;
    QHash<QString, Sighting> m_sightings;   // folder entries by absolute path
    QHash<QString, qint64> m_clientOffsets; // client file -> bytes read
    QHash<QString, Declared> m_declared;    // client-declared checkpoints by absolute path
};

} // namespace trainyard
