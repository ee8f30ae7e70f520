// trainyard plan: will the model fit? Bytes per GPU for each term under a strategy, and what fits.
#include "cli/subcommand.h"

#include "launch/memoryplanner.h"

#include <QJsonDocument>

namespace trainyard::cli {

namespace { } // namespace

int runPlan(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    Q_UNUSED(workspaceBefore) // planning touches no workspace; --workspace is accepted like everywhere
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Per-GPU memory of a training run: parameters, gradients, optimizer state, activations, overhead.\n"
        "Give --params, or a transformer shape (--layers --hidden --heads --vocab --seq-len --micro-batch)."));
    const QCommandLineOption params(QStringLiteral("params"), QStringLiteral("Parameter count, e.g. 7.5e9 or 350M."),
                                    QStringLiteral("N"));
    const QCommandLineOption layers(QStringLiteral("layers"), QStringLiteral("Transformer layers."),
                                    QStringLiteral("L"));
    const QCommandLineOption hidden(QStringLiteral("hidden"), QStringLiteral("Hidden size."), QStringLiteral("H"));
    const QCommandLineOption heads(QStringLiteral("heads"), QStringLiteral("Attention heads."), QStringLiteral("A"));
    const QCommandLineOption vocab(QStringLiteral("vocab"), QStringLiteral("Vocabulary size."), QStringLiteral("V"));
    const QCommandLineOption seqLen(QStringLiteral("seq-len"), QStringLiteral("Sequence length."), QStringLiteral("S"));
    const QCommandLineOption microBatch(QStringLiteral("micro-batch"), QStringLiteral("Micro-batch size per GPU."),
                                        QStringLiteral("B"));
    const QCommandLineOption nodes(QStringLiteral("nodes"), QStringLiteral("Nodes (default 1)."), QStringLiteral("N"),
                                   QStringLiteral("1"));
    const QCommandLineOption nproc(QStringLiteral("nproc-per-node"),
                                   QStringLiteral("Ranks (GPUs) per node (default 1)."), QStringLiteral("N"),
                                   QStringLiteral("1"));
    const QCommandLineOption strategy(
        QStringLiteral("strategy"),
        QStringLiteral(
            "ddp, zero1, zero2, zero3, fsdp-full-shard, fsdp-shard-grad-op, fsdp-hybrid-shard (default ddp)."),
        QStringLiteral("S"), QStringLiteral("ddp"));
    const QCommandLineOption precision(QStringLiteral("precision"),
                                       QStringLiteral("fp32, bf16-mixed or fp16-mixed (default bf16-mixed)."),
                                       QStringLiteral("P"), QStringLiteral("bf16-mixed"));
    const QCommandLineOption optimizer(QStringLiteral("optimizer"),
                                       QStringLiteral("adam, adamw, sgd-momentum or sgd (default adam)."),
                                       QStringLiteral("O"), QStringLiteral("adam"));
    const QCommandLineOption offload(QStringLiteral("offload"),
                                     QStringLiteral("CPU offload: optimizer, params or both."), QStringLiteral("WHAT"));
    const QCommandLineOption checkpointing(QStringLiteral("activation-checkpointing"),
                                           QStringLiteral("Recompute activations in the backward pass."));
    const QCommandLineOption gpuMemory(QStringLiteral("gpu-memory"),
                                       QStringLiteral("Memory of one GPU, e.g. 80GiB (required)."),
                                       QStringLiteral("SIZE"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print the plan as JSON."));
    for (const QCommandLineOption &option : {params, layers, hidden, heads, vocab, seqLen, microBatch, nodes, nproc,
                                             strategy, precision, optimizer, offload, checkpointing, gpuMemory, json})
        parser.addOption(option);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("plan"), arguments, streams))
        return *exit;
    if (!parser.positionalArguments().isEmpty())
        return usageFailure(streams, parser, QStringLiteral("plan"),
                            QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));

    PlanInput input;
    const QList<QCommandLineOption> shapeOptions{layers, hidden, heads, vocab, seqLen, microBatch};
    int shapeGiven = 0;
    for (const QCommandLineOption &option : shapeOptions)
        shapeGiven += parser.isSet(option);
    if (parser.isSet(params) == (shapeGiven > 0))
        return usageFailure(streams, parser, QStringLiteral("plan"),
                            QStringLiteral("give either --params or a transformer shape (--layers --hidden --heads "
                                           "--vocab --seq-len --micro-batch)"));
    if (parser.isSet(params)) {
        input.parameters = parseCount(parser.value(params));
        if (!input.parameters)
            return usageFailure(streams, parser, QStringLiteral("plan"),
                                QStringLiteral("--params '%1' is not a count such as 7.5e9 or 350M (from 1 to 1e15)")
                                    .arg(parser.value(params)));
    } else {
        TransformerShape shape;
        const QList<std::pair<QCommandLineOption, int *>> fields{
            {layers, &shape.layers}, {hidden, &shape.hidden}, {heads, &shape.heads},
            {vocab, &shape.vocab},   {seqLen, &shape.seqLen}, {microBatch, &shape.microBatch}};
        for (const auto &[option, target] : fields) {
            bool ok = false;
            *target = parser.value(option).toInt(&ok);
            if (!parser.isSet(option))
                return usageFailure(streams, parser, QStringLiteral("plan"),
                                    QStringLiteral("a transformer shape needs --%1 too").arg(option.names().first()));
            if (!ok || *target < 1)
                return usageFailure(streams, parser, QStringLiteral("plan"),
                                    QStringLiteral("--%1 '%2' is not a positive integer")
                                        .arg(option.names().first(), parser.value(option)));
        }
        if (shape.hidden % shape.heads != 0)
            return usageFailure(
                streams, parser, QStringLiteral("plan"),
                QStringLiteral("--hidden %1 is not a multiple of --heads %2").arg(shape.hidden).arg(shape.heads));
        input.shape = shape;
    }
    for (const auto &[option, target] : {std::pair{nodes, &input.nodes}, std::pair{nproc, &input.ranksPerNode}}) {
        bool ok = false;
        *target = parser.value(option).toInt(&ok);
        if (!ok || *target < 1)
            return usageFailure(streams, parser, QStringLiteral("plan"),
                                QStringLiteral("--%1 '%2' is not a positive integer")
                                    .arg(option.names().first(), parser.value(option)));
    }
    const auto chosenStrategy = parseStrategy(parser.value(strategy));
    if (!chosenStrategy)
        return usageFailure(streams, parser, QStringLiteral("plan"),
                            QStringLiteral("--strategy '%1' is not one of ddp, zero1, zero2, zero3, fsdp-full-shard, "
                                           "fsdp-shard-grad-op, fsdp-hybrid-shard")
                                .arg(parser.value(strategy)));
    input.strategy = *chosenStrategy;
    const auto chosenPrecision = parsePrecision(parser.value(precision));
    if (!chosenPrecision)
        return usageFailure(
            streams, parser, QStringLiteral("plan"),
            QStringLiteral("--precision '%1' is not one of fp32, bf16-mixed, fp16-mixed").arg(parser.value(precision)));
    input.precision = *chosenPrecision;
    const auto chosenOptimizer = parseOptimizer(parser.value(optimizer));
    if (!chosenOptimizer)
        return usageFailure(streams, parser, QStringLiteral("plan"),
                            QStringLiteral("--optimizer '%1' is not one of adam, adamw, sgd-momentum, sgd")
                                .arg(parser.value(optimizer)));
    input.optimizer = *chosenOptimizer;
    if (parser.isSet(offload)) {
        const QString what = parser.value(offload);
        if (what != QLatin1String("optimizer") && what != QLatin1String("params") && what != QLatin1String("both"))
            return usageFailure(streams, parser, QStringLiteral("plan"),
                                QStringLiteral("--offload '%1' is not one of optimizer, params, both").arg(what));
        input.offloadOptimizer = what != QLatin1String("params");
        input.offloadParameters = what != QLatin1String("optimizer");
        const bool shardsParameters = input.strategy == ShardingStrategy::Zero3
            || input.strategy == ShardingStrategy::FsdpFullShard || input.strategy == ShardingStrategy::FsdpHybridShard;
        if (input.offloadParameters && !shardsParameters)
            return usageFailure(
                streams, parser, QStringLiteral("plan"),
                QStringLiteral(
                    "--offload %1 needs a strategy that shards parameters (zero3 or fsdp-full-shard/hybrid-shard)")
                    .arg(what));
    }
    input.activationCheckpointing = parser.isSet(checkpointing);
    if (!parser.isSet(gpuMemory))
        return usageFailure(streams, parser, QStringLiteral("plan"),
                            QStringLiteral("give --gpu-memory, e.g. --gpu-memory 80GiB"));
    const auto capacity = parseByteSize(parser.value(gpuMemory));
    if (!capacity)
        return usageFailure(streams, parser, QStringLiteral("plan"),
                            QStringLiteral("--gpu-memory '%1' is not a size such as 80GiB, 40GB or 24576MiB")
                                .arg(parser.value(gpuMemory)));
    input.gpuMemoryBytes = *capacity;

    const MemoryPlan plan = planMemory(input);
    if (parser.isSet(json)) {
        streams.out << QJsonDocument(plan.toJson(input)).toJson(QJsonDocument::Indented);
        return kExitOk;
    }
    streams.out << QStringLiteral("%1 parameters, %2 on %3 GPU(s) (%4 x %5), %6, %7\n")
                       .arg(plan.parameterCount, 0, 'g', 4)
                       .arg(strategyName(input.strategy))
                       .arg(plan.worldSize)
                       .arg(input.nodes)
                       .arg(input.ranksPerNode)
                       .arg(precisionName(input.precision), optimizerName(input.optimizer));
    const auto row = [&](const char *label, double bytes) {
        streams.out << QStringLiteral("  %1 %2\n").arg(QLatin1String(label), -18).arg(formatBytes(bytes), 12);
    };
    row("parameters", plan.parameters);
    row("gradients", plan.gradients);
    row("optimizer state", plan.optimizerState);
    if (plan.activationsEstimated)
        row(input.activationCheckpointing ? "activations (ckpt)" : "activations", plan.activations);
    else
        streams.out << "  activations        not estimated (give a transformer shape)\n";
    row("overhead", plan.overhead);
    row("total", plan.total);
    row("GPU memory", plan.capacity);
    streams.out << (plan.fits ? "fits" : "does NOT fit");
    if (plan.leastShardedFit)
        streams.out << "; least-sharded strategy that fits: " << *plan.leastShardedFit << '\n';
    else
        streams.out << "; no strategy fits on " << plan.worldSize << " GPU(s) of " << formatBytes(plan.capacity)
                    << '\n';
    return kExitOk;
}

} // namespace trainyard::cli
