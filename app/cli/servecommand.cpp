// trainyard serve: the workspace as an MLflow tracking server on 127.0.0.1, for scripts started anywhere on this machine.
#include "cli/subcommand.h"
#include "cli/terminationsignals.h"

#include "store/storewriter.h"
#include "tracking/trackingserver.h"

#include <QCoreApplication>

namespace trainyard::cli {

int runServe(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Serve the workspace through MLflow's REST tracking API on 127.0.0.1, so that a script that logs with MLflow\n"
        "(mlflow, Lightning's MLFlowLogger, Hugging Face's report_to=\"mlflow\", Accelerate) logs into Trainyard "
        "runs.\n"
        "Set the two variables it prints in the script's environment. Every request needs the workspace's token.\n"
        "Stops on Ctrl-C or SIGTERM with everything committed. See docs/MLFLOW.md."));
    parser.addOption(QCommandLineOption(QStringLiteral("port"),
                                        QStringLiteral("The port (default 5000, MLflow's; 0: any free port)."),
                                        QStringLiteral("P"), QStringLiteral("5000")));
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("serve"), arguments, streams))
        return *exit;
    if (!parser.positionalArguments().isEmpty())
        return usageFailure(streams, parser, QStringLiteral("serve"),
                            QStringLiteral("unexpected argument ") + parser.positionalArguments().first());
    bool ok = false;
    const uint port = parser.value(QStringLiteral("port")).toUInt(&ok);
    if (!ok || port > 65535)
        return usageFailure(streams, parser, QStringLiteral("serve"),
                            QStringLiteral("--port takes a number from 0 to 65535, not ")
                                + parser.value(QStringLiteral("port")));
    auto workspace = openWorkspace(parser, workspaceBefore);
    if (!workspace)
        return reportFailure(streams, QStringLiteral("serve"), workspace.error());
    auto writer = StoreWriter::start(workspace->database());
    if (!writer)
        return reportFailure(streams, QStringLiteral("serve"), writer.error());
    auto service = TrackingService::start(*workspace, **writer, quint16(port));
    if (!service)
        return reportFailure(streams, QStringLiteral("serve"), service.error());

    streams.out << "trainyard serve: MLflow tracking API for workspace " << workspace->root() << "\n"
                << "  export MLFLOW_TRACKING_URI=" << (*service)->uri() << "\n"
                << "  export MLFLOW_TRACKING_TOKEN=" << QString::fromLatin1((*service)->token()) << "\n"
                << "Ctrl-C stops it.\n";
    streams.out.flush();

    TerminationSignals termination;
    int received = 0;
    QObject::connect(&termination, &TerminationSignals::received, [&](int signalNumber) {
        received = signalNumber;
        QCoreApplication::quit();
    });
    QCoreApplication::exec();
    service->reset();   // finishes the request in progress, then stops accepting
    (*writer)->flush(); // everything answered is committed
    streams.out << "trainyard serve: stopped (signal " << received << "), everything committed\n";
    return kExitOk;
}

} // namespace trainyard::cli
