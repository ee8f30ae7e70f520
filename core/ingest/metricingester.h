// MetricIngester: tails one run's metrics.rank<N>.jsonl files (or rank 0's log when the run writes none)
// into the store, resumable from the offsets it commits with the points.
#pragma once

#include "ingest/metricparser.h"
#include "result.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QMutex>
#include <QString>

#include <functional>
#include <string_view>
#include <QStringList>

#include <atomic>
#include <future>
#include <deque>
#include <map>
#include <memory>
#include <optional>

namespace trainyard {

class Database;
class StoreWriter;

struct IngestStats {
    std::int64_t points = 0;         // well-formed points stored (and queued)
    std::int64_t malformedLines = 0; // lines that could not be parsed
    QStringList malformedExamples;   // the first few, "file:line: error: text"
    std::int64_t latestStep = -1;    // rank 0's newest step and its values, for status lines
    QList<QPair<QString, double>> latestValues;
};

// Between two attempts of a restarted run, the supervisor appends this line to each rank's metrics file: the points the
// file held before it, past the step the new attempt resumes from, are superseded (store/supersededpoints.h). `attempt`
// is the new attempt (0-based); `step` is null when it starts from the beginning; `at_ms` is when it was written.
inline constexpr std::string_view kResumeMarkerPrefix = "{\"trainyard_resume\":";
QByteArray resumeMarkerLine(int attempt, std::optional<std::int64_t> resumeStep, std::int64_t atMs);
// Whether a key of the run came from rank `rank`'s metrics file: rank N > 0's keys are rank<N>/... (and its step
// timing, perf/rank<N>/...); rank 0's are the others, system metrics (sys/) aside.
bool metricKeyOfRank(const QString &key, int rank);

class MetricIngester {
public:
    static constexpr std::int64_t kMaxPointsPerBatch = 200000;
    static constexpr int kMaxExamples = 5;
    static constexpr qint64 kMaxReadBytes = 16 << 20;

    MetricIngester(QString runId, QString runDir, StoreWriter &writer);
    ~MetricIngester();

    // Loads where an earlier ingestion of this run stopped (a crashed Trainyard, a restart of the app).
    Result<void> resume(const Database &database);
    // Reads what is new in every file and queues it; with `final`, also a last line that has no newline
    // (the run is over, nothing more will come). Returns the number of points queued.
    Result<std::int64_t> poll(bool final = false);
    // Waits until everything queued has committed; the first write error, if any.
    Result<void> waitForWrites();
    // After a failed write: waits for the writes in flight, forgets everything not committed (cursors, key ids, stats)
    // and loads the committed progress again, so that the next poll reads again from there. Nothing is lost or doubled:
    // points and the offsets they came from commit in one transaction.
    Result<void> rewind(const Database &database);
    // Parses as poll does (stats() counts the points) but writes nothing.
    void setCountOnly(bool countOnly) { m_countOnly = countOnly; }
    // Called with every point parsed, in file order (a run's alert rules watch them); the key is valid during the call.
    using PointObserver = std::function<void(std::string_view key, std::int64_t step, double value)>;
    void setPointObserver(PointObserver observer) { m_observer = std::move(observer); }
    // The points the run's files hold in all: those committed, plus those past the committed progress (parsed, not
    // written). `fallback` when the committed progress cannot be read.
    static std::int64_t pointsInFiles(const QString &runId, const QString &runDir, StoreWriter &writer,
                                      const Database &database, std::int64_t fallback);

    // Thread-safe snapshot.
    IngestStats stats() const;

private:
    struct FileCursor {
        QString name;
        int rank = 0;
        bool isLog = false;
        bool isSystem = false; // system.jsonl: never rank 0's latest step for status lines
        std::int64_t offset = 0;
        std::int64_t lineNumber = 0;
        std::int64_t points = 0;
        std::int64_t malformed = 0;
        QStringList examples;
    };

public:
    struct Batch; // points parsed from the files, waiting to be written (defined in the .cpp)

private:
    Result<std::int64_t> ingestFile(FileCursor &cursor, bool final);
    void parseLine(FileCursor &cursor, std::string_view line, std::size_t capacity, Batch &batch);
    void countMalformed(FileCursor &cursor, const QString &example);
    void readResumeMarker(FileCursor &cursor, std::string_view line, Batch &batch);
    Result<void> submit(std::unique_ptr<Batch> batch);
    std::unique_ptr<Batch> newBatch();
    QStringList currentFiles(bool &metricsMode) const;

    QString m_runId;
    QString m_runDir;
    StoreWriter &m_writer;
    JsonMetricParser m_jsonParser;
    ParsedMetricLine m_line;
    std::string m_error;
    std::map<QString, FileCursor> m_cursors;
    QHash<QString, std::int64_t> m_queuedOffsets; // per file: the offset the last batch handed to the writer ends at
    std::deque<std::future<Result<void>>> m_inFlight;
    std::shared_ptr<QHash<QString, std::int64_t>> m_keyIds; // touched only on the writer thread
    std::shared_ptr<std::atomic<bool>> m_writeFailed = std::make_shared<std::atomic<bool>>(false);
    std::unique_ptr<Batch> m_batch;
    mutable QMutex m_statsMutex;
    IngestStats m_stats;
    bool m_metricsMode = false;
    bool m_countOnly = false;
    PointObserver m_observer;
};

} // namespace trainyard
