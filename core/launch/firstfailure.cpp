// Failure classification: the patterns PyTorch, CUDA and NCCL print when they fail.
#include "launch/firstfailure.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <csignal>
#include <cstring>

namespace trainyard {

QString signalName(int signal)
{
    const char *description = strsignal(signal);
    static const QHash<int, QString> names = {
        {SIGHUP, QStringLiteral("SIGHUP")},   {SIGINT, QStringLiteral("SIGINT")},
        {SIGQUIT, QStringLiteral("SIGQUIT")}, {SIGILL, QStringLiteral("SIGILL")},
        {SIGABRT, QStringLiteral("SIGABRT")}, {SIGBUS, QStringLiteral("SIGBUS")},
        {SIGFPE, QStringLiteral("SIGFPE")},   {SIGKILL, QStringLiteral("SIGKILL")},
        {SIGSEGV, QStringLiteral("SIGSEGV")}, {SIGPIPE, QStringLiteral("SIGPIPE")},
        {SIGTERM, QStringLiteral("SIGTERM")}, {SIGUSR1, QStringLiteral("SIGUSR1")},
        {SIGUSR2, QStringLiteral("SIGUSR2")},
    };
    const QString name = names.value(signal, QStringLiteral("signal %1").arg(signal));
    return description ? QStringLiteral("%1, %2").arg(name, QString::fromLocal8Bit(description)) : name;
}

namespace {

// The last line of a Python traceback: "ValueError: bad thing" or "torch.cuda.OutOfMemoryError: ...".
const QRegularExpression &pythonExceptionLine()
{
    static const QRegularExpression pattern(
        QStringLiteral("^((?:[A-Za-z_][A-Za-z0-9_]*\\.)*[A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Exit|Interrupt|"
                       "Warning|Failure))(?::\\s*(.*))?$"));
    return pattern;
}

QString stripLogPrefix(const QString &line)
{
    // Lines of rank<N>.log start with the receive time: "2026-11-24T18:03:03.123Z ".
    static const QRegularExpression prefix(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z "));
    const auto match = prefix.match(line);
    return match.hasMatch() ? line.mid(match.capturedLength()) : line;
}

bool containsAny(const QString &text, std::initializer_list<const char *> needles)
{
    for (const char *needle : needles) {
        if (text.contains(QLatin1String(needle), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace

FirstFailure classifyFailure(int rank, std::optional<int> exitCode, std::optional<int> signal,
                             const QStringList &logTail, bool oomKillerFired)
{
    FirstFailure failure;
    failure.rank = rank;
    failure.exitCode = exitCode;
    failure.signal = signal;
    failure.at = QDateTime::currentDateTimeUtc();

    QStringList lines;
    for (const QString &line : logTail)
        lines << stripLogPrefix(line).trimmed();
    const QString tail = lines.join(QLatin1Char('\n'));

    // The last exception line of the last traceback.
    QString exceptionType;
    QString exceptionMessage;
    const qsizetype traceback = lines.lastIndexOf(QStringLiteral("Traceback (most recent call last):"));
    if (traceback >= 0) {
        for (qsizetype i = lines.size() - 1; i > traceback; --i) {
            const auto match = pythonExceptionLine().match(lines[i]);
            if (match.hasMatch()) {
                exceptionType = match.captured(1);
                exceptionMessage = match.captured(2);
                break;
            }
        }
    }
    const auto endedBy = [&] {
        if (signal)
            return QStringLiteral("killed by %1").arg(signalName(*signal));
        return QStringLiteral("exit code %1").arg(exitCode.value_or(-1));
    };

    if (containsAny(tail,
                    {"CUDA out of memory", "OutOfMemoryError", "CUBLAS_STATUS_ALLOC_FAILED",
                     "cudaErrorMemoryAllocation", "out of memory; tried to allocate"})) {
        failure.cause = QStringLiteral("cuda-oom");
        QString detail = exceptionMessage;
        if (detail.isEmpty()) {
            for (qsizetype i = lines.size() - 1; i >= 0; --i) {
                if (containsAny(lines[i], {"out of memory", "ALLOC_FAILED"})) {
                    detail = lines[i];
                    break;
                }
            }
        }
        failure.message =
            QStringLiteral("CUDA out of memory on rank %1 (%2): %3").arg(rank).arg(endedBy(), detail.left(300));
    } else if (containsAny(tail,
                           {"NCCL error", "ncclInternalError", "ncclSystemError", "ncclUnhandledCudaError",
                            "ncclRemoteError", "ncclInvalidUsage", "Watchdog caught collective operation timeout",
                            "NCCL communicator was aborted", "NCCL timeout", "ProcessGroupNCCL"})) {
        failure.cause = QStringLiteral("nccl");
        QString detail;
        for (qsizetype i = lines.size() - 1; i >= 0; --i) {
            if (containsAny(lines[i], {"NCCL", "Watchdog"})) {
                detail = lines[i];
                break;
            }
        }
        const bool timeout = containsAny(tail, {"timeout", "timed out"});
        failure.message = QStringLiteral("NCCL %1 on rank %2 (%3): %4")
                              .arg(timeout ? QStringLiteral("timeout") : QStringLiteral("error"))
                              .arg(rank)
                              .arg(endedBy(), detail.left(300));
    } else if (!exceptionType.isEmpty()) {
        failure.cause = QStringLiteral("python-exception");
        failure.message = QStringLiteral("%1: %2 (rank %3, %4)")
                              .arg(exceptionType, exceptionMessage.left(300))
                              .arg(rank)
                              .arg(endedBy());
    } else if (signal && *signal == SIGKILL) {
        failure.cause = oomKillerFired ? QStringLiteral("oom-killer") : QStringLiteral("signal");
        failure.message = oomKillerFired
            ? QStringLiteral(
                  "rank %1 was killed by SIGKILL from the kernel's OOM killer (the cgroup's oom_kill count rose): "
                  "the machine ran out of host memory")
                  .arg(rank)
            : QStringLiteral(
                  "rank %1 was killed by SIGKILL from outside Trainyard; the kernel's OOM killer does this when "
                  "host memory runs out (check dmesg)")
                  .arg(rank);
    } else if (signal) {
        failure.cause = QStringLiteral("signal");
        failure.message = QStringLiteral("rank %1 was killed by %2").arg(rank).arg(signalName(*signal));
    } else {
        failure.cause = QStringLiteral("exit");
        QString lastLine;
        for (qsizetype i = lines.size() - 1; i >= 0 && lastLine.isEmpty(); --i)
            lastLine = lines[i];
        failure.message =
            QStringLiteral("rank %1 exited with code %2%3")
                .arg(rank)
                .arg(exitCode.value_or(-1))
                .arg(lastLine.isEmpty() ? QString() : QStringLiteral("; last output: ") + lastLine.left(200));
    }
    return failure;
}

QJsonObject FirstFailure::toJson() const
{
    QJsonArray silent;
    for (int silentRank : silentRanks)
        silent.append(silentRank);
    QJsonObject object{
        {QStringLiteral("rank"), rank},
        {QStringLiteral("attempt"), attempt},
        {QStringLiteral("exit_code"), exitCode ? QJsonValue(*exitCode) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("signal"), signal ? QJsonValue(*signal) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("cause"), cause},
        {QStringLiteral("message"), message},
        {QStringLiteral("at"), at.toUTC().toString(Qt::ISODateWithMs)},
    };
    if (!silentRanks.isEmpty())
        object.insert(QStringLiteral("silent_ranks"), silent);
    return object;
}

FirstFailure FirstFailure::fromJson(const QJsonObject &object)
{
    FirstFailure failure;
    failure.rank = object.value(QStringLiteral("rank")).toInt(-1);
    failure.attempt = object.value(QStringLiteral("attempt")).toInt();
    if (object.value(QStringLiteral("exit_code")).isDouble())
        failure.exitCode = object.value(QStringLiteral("exit_code")).toInt();
    if (object.value(QStringLiteral("signal")).isDouble())
        failure.signal = object.value(QStringLiteral("signal")).toInt();
    failure.cause = object.value(QStringLiteral("cause")).toString();
    failure.message = object.value(QStringLiteral("message")).toString();
    failure.at = QDateTime::fromString(object.value(QStringLiteral("at")).toString(), Qt::ISODateWithMs);
    for (const QJsonValue &value : object.value(QStringLiteral("silent_ranks")).toArray())
        failure.silentRanks << value.toInt();
    return failure;
}

} // namespace trainyard
