// TensorBoardIngester: reads TensorBoard event files (events.out.tfevents.*) into one run: live while a launched run
// writes them, or once for `trainyard import --tensorboard`. Resumable from the offsets it commits with the points
// (ingest_progress rows named "tfevents:<absolute path>"), so a restart of Trainyard neither loses nor doubles a point.
#pragma once

#include "ingest/tfevents.h"
#include "result.h"
#include "store/database.h"

#include <QMutex>
#include <QString>
#include <QStringList>

#include <future>
#include <map>
#include <optional>
#include <memory>

namespace trainyard {

class StoreWriter;

// The prefix of the ingest_progress rows of event files (the metrics-file ingester leaves them alone).
inline constexpr const char *kTfEventsProgressPrefix = "tfevents:";

bool isTfEventsFileName(const QString &fileName);

struct TensorBoardStats {
    std::int64_t points = 0;
    std::int64_t files = 0;
    std::int64_t damagedRecords = 0; // bad CRC, impossible length, not an Event
    QStringList damageExamples;      // the first few, "file at offset N: what"
    std::int64_t histograms = 0;     // counted and skipped
    std::int64_t images = 0;
    std::int64_t audio = 0;
    std::int64_t otherTensors = 0;
    std::int64_t hparams = 0;
    double firstWallTime = 0; // seconds since the epoch; 0 until an event had one
    double lastWallTime = 0;

    void add(const TensorBoardStats &other, int maxExamples);
};

class TensorBoardIngester {
public:
    static constexpr int kMaxExamples = 5;
    static constexpr qint64 kMaxReadBytes = 16 << 20;
    // Points read before they are handed to the writer, which commits them while the next ones are decoded.
    static constexpr std::int64_t kPointsPerCommit = 250000;

    TensorBoardIngester(QString runId, StoreWriter &writer);
    ~TensorBoardIngester();

    // A folder to read event files from. With `recursive`, files in sub-folders are read too and their keys are
    // prefixed with the sub-folder ("eval/loss" for eval/events...); the folder's own files keep their tags as keys.
    void addFolder(const QString &folder, bool recursive);
    // Loads where an earlier ingestion of this run's event files stopped.
    Result<void> resume(const Database &database);
    // Reads what is new in every event file and commits it (points, params from hparams, offsets) in one transaction.
    // With `final`, a record cut off at the end of a file is reported as damage instead of waited for.
    Result<std::int64_t> poll(bool final = false);

    TensorBoardStats stats() const;

private:
    struct FileCursor;
    struct Folder {
        QString path;
        bool recursive = false;
    };
    struct Pending;
    QList<QPair<QString, QString>> currentFiles() const; // (absolute path, key prefix)
    std::future<Result<void>> submit(Pending pending);

    QString m_runId;
    StoreWriter &m_writer;
    QList<Folder> m_folders;
    std::map<QString, std::unique_ptr<FileCursor>> m_cursors;
    TfEventDecoder m_decoder;
    std::shared_ptr<QHash<QString, std::int64_t>> m_keyIds; // touched only on the writer thread
    std::optional<Database> m_database;                     // from resume(): read again after a failed commit
    bool m_needsResume = false;
    mutable QMutex m_statsMutex;
    TensorBoardStats m_stats;
};

} // namespace trainyard
