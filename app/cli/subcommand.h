// The sub-commands of the trainyard executable and the shared pieces of their command lines.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <QTextStream>

#include "result.h"
#include "store/runrecord.h"
#include "store/workspace.h"

#include <functional>
#include <optional>

namespace trainyard::cli {

// Exit codes of every sub-command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1; // the command could not do its work (message on stderr)
inline constexpr int kExitUsage = 2;   // the command line was wrong (usage on stderr)
inline constexpr int kExitNoGpu = 3;   // a GPU feature on a machine without a CUDA device, or without NCCL

struct Streams {
    QTextStream &out;
    QTextStream &err;
};

struct Subcommand {
    QString name;
    QString summary;
    // Receives the arguments after the sub-command name and the --workspace given before it (may be empty).
    std::function<int(const QStringList &arguments, const QString &workspaceBefore, Streams streams)> run;
};

const QList<Subcommand> &subcommands();
const Subcommand *findSubcommand(const QString &name);

QCommandLineOption workspaceOption();

// Parses a sub-command's arguments. On --help prints help to out and returns kExitOk; on a bad option
// prints the error and usage to err and returns kExitUsage; otherwise returns nullopt to go on.
std::optional<int> parseSubcommandArguments(QCommandLineParser &parser, const QString &name,
                                            const QStringList &arguments, Streams streams);

// The parser's help text with "Usage: trainyard NAME [options]" as its first line.
QString subcommandHelp(const QCommandLineParser &parser, const QString &name);

// The workspace folder: --workspace after the sub-command, else before it, else TRAINYARD_HOME / XDG.
QString resolveWorkspaceRoot(const QCommandLineParser &parser, const QString &workspaceBefore);

// The general usage text: global options and the list of sub-commands.
QString usageText();

int runLs(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runLaunch(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runShow(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runLogs(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runMetrics(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runCancel(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runRename(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runTag(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runNotes(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runArchive(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runRm(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runCheckpoints(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runProfile(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runRepair(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runPlan(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runPreflight(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runQueue(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runSweep(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runBackend(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runAgent(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runReport(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runExport(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runImport(const QStringList &arguments, const QString &workspaceBefore, Streams streams);
int runServe(const QStringList &arguments, const QString &workspaceBefore, Streams streams);

// Opens (creating if needed) the workspace for a command that writes.
Result<Workspace> openWorkspace(const QCommandLineParser &parser, const QString &workspaceBefore);
// Finds the run named by the first positional argument in an existing workspace.
struct FoundRun {
    Workspace workspace;
    RunRecord run;
};
Result<FoundRun> findRunForCommand(const QCommandLineParser &parser, const QString &workspaceBefore);
// Every run the positional arguments name (each as findRunForCommand finds one; a run named twice counted once).
struct FoundRuns {
    Workspace workspace;
    QList<RunRecord> runs;
    QStringList ids() const;
};
Result<FoundRuns> findRunsForCommand(const QCommandLineParser &parser, const QString &workspaceBefore);
// The runs `names` name, each as `show` finds one (a run named twice counted once), in the workspace the command
// reads: it must exist already (a read never creates one).
Result<FoundRuns> findRunsNamed(const QCommandLineParser &parser, const QString &workspaceBefore,
                                const QStringList &names);
// The fields of a run that `ls --json` and `show --json` share.
QJsonObject runJson(const RunRecord &run, const QDateTime &now);
// Text as a terminal should get it from a run's name, tags or other stored values: control characters (a newline,
// ESC starting an escape sequence) written as \n, \t or \xNN, so that a name can neither break a table's line nor
// drive the terminal.
QString printableText(const QString &text);
QJsonValue isoTimeOrNull(const QDateTime &time);

// A run's checkpoints as `checkpoints --json` and `show --json` give them (step, path, bytes, saved_at, source, rank,
// metrics at the step), and as lines for the text output.
Result<QJsonArray> checkpointsJson(const Workspace &workspace, const QString &runId);
QStringList checkpointLines(const QJsonArray &checkpoints);

// Prints "trainyard NAME: message" on err and returns kExitFailure.
int reportFailure(Streams streams, const QString &command, const QString &message);
// A command line that is wrong: "trainyard COMMAND: MESSAGE", a blank line and the command's usage on stderr; returns
// kExitUsage.
int usageFailure(Streams streams, const QCommandLineParser &parser, const QString &command, const QString &message);

} // namespace trainyard::cli
