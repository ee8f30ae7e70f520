// trainyard: opens the window when given no command, otherwise runs the command-line sub-command.
#include "cli/subcommand.h"
#include "mainwindow.h"
#include "workspacewindows.h"
#include "store/workspace.h"
#include "version.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QIcon>
#include <QMessageBox>

#include <cstdio>
#include <optional>
#include <variant>

namespace {

using namespace trainyard;

struct Invocation {
    QString workspaceDir;
    bool help = false;
    bool version = false;
    QString subcommand; // empty: open the window
    QStringList subcommandArguments;
};

QStringList argumentsOf(int argc, char **argv)
{
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    return arguments;
}

// Parses the options before the sub-command; returns the error text on a bad command line.
std::variant<Invocation, QString> parseInvocation(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsPositionalArguments);
    parser.addOption(cli::workspaceOption());
    parser.addOption(QCommandLineOption({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show help.")));
    parser.addOption(
        QCommandLineOption({QStringLiteral("v"), QStringLiteral("version")}, QStringLiteral("Show the version.")));
    if (!parser.parse(arguments))
        return parser.errorText();
    Invocation invocation;
    invocation.workspaceDir = parser.value(QStringLiteral("workspace"));
    invocation.help = parser.isSet(QStringLiteral("help"));
    invocation.version = parser.isSet(QStringLiteral("version"));
    QStringList positional = parser.positionalArguments();
    if (!positional.isEmpty()) {
        invocation.subcommand = positional.takeFirst();
        invocation.subcommandArguments = positional;
    }
    return invocation;
}

int usageError(const QString &message)
{
    QTextStream err(stderr);
    err << "trainyard: " << message << "\n\n" << cli::usageText();
    return cli::kExitUsage;
}

void setApplicationIdentity()
{
    QCoreApplication::setOrganizationName(QStringLiteral("Trainyard"));
    QCoreApplication::setApplicationName(QStringLiteral("trainyard"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(kVersion));
}

int runWindow(int argc, char **argv, const QString &workspaceDir)
{
    QApplication application(argc, argv);
    setApplicationIdentity();
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/trainyard.svg")));
    QApplication::setDesktopFileName(QStringLiteral("io.trainyard.Trainyard"));

    const QString root = Workspace::resolveRoot(Workspace::sourcesFromEnvironment(workspaceDir));
    // The window of the workspace; File > Open workspace… replaces it with another workspace's, without a restart.
    WorkspaceWindows windows;
    if (auto opened = windows.open(root); !opened) {
        QTextStream(stderr) << "trainyard: " << opened.error() << '\n';
        if (QGuiApplication::platformName() != QLatin1String("offscreen"))
            QMessageBox::critical(nullptr, QObject::tr("Trainyard cannot open its workspace"), opened.error());
        return cli::kExitFailure;
    }
    return QApplication::exec();
}

} // namespace

int main(int argc, char **argv)
{
    // Qt's own GUI options (-platform, -style...) are for the window; strip them only in GUI mode, so
    // decide the mode from our own options first, without Qt's.
    QStringList arguments = argumentsOf(argc, argv);
    const auto parsed = parseInvocation(arguments);
    if (std::holds_alternative<QString>(parsed))
        return usageError(std::get<QString>(parsed));
    const Invocation &invocation = std::get<Invocation>(parsed);

    if (invocation.version) {
        QTextStream(stdout) << "trainyard " << kVersion << '\n';
        return cli::kExitOk;
    }
    if (invocation.help) {
        QTextStream(stdout) << cli::usageText();
        return cli::kExitOk;
    }
    if (invocation.subcommand.isEmpty())
        return runWindow(argc, argv, invocation.workspaceDir);

    const cli::Subcommand *subcommand = cli::findSubcommand(invocation.subcommand);
    if (!subcommand)
        return usageError(QStringLiteral("unknown command '%1'").arg(invocation.subcommand));

    QCoreApplication application(argc, argv);
    setApplicationIdentity();
    QTextStream out(stdout);
    QTextStream err(stderr);
    const int exitCode =
        subcommand->run(invocation.subcommandArguments, invocation.workspaceDir, cli::Streams{out, err});
    out.flush();
    err.flush();
    return exitCode;
}
