// The memory planner against published figures (ZeRO paper, Figure 1 and Table 1) and edge cases.
#include "launch/memoryplanner.h"

#include <QTest>

#include <cmath>

using namespace trainyard;

namespace {
constexpr double kGB = 1e9; // the ZeRO paper's GB

double modelStates(const MemoryPlan &plan) { return plan.parameters + plan.gradients + plan.optimizerState; }

PlanInput zeroPaperInput(double parameters, int gpus, ShardingStrategy strategy)
{
    PlanInput input;
    input.parameters = parameters;
    input.precision = Precision::Fp16Mixed;
    input.optimizer = OptimizerKind::Adam;
    input.strategy = strategy;
    input.ranksPerNode = gpus;
    input.gpuMemoryBytes = 32 * kGB;
    return input;
}
} // namespace

class TestMemoryPlanner : public QObject {
    Q_OBJECT
private slots:
    // ZeRO paper (Rajbhandari et al., SC'20), Figure 1: Psi = 7.5B, Nd = 64, K = 12.
    void matchesZeroPaperFigure1_data()
    {
        QTest::addColumn<int>("strategy");
        QTest::addColumn<double>("gigabytes");
        QTest::newRow("baseline 120 GB") << int(ShardingStrategy::Ddp) << 120.0;
        QTest::newRow("Pos 31.4 GB") << int(ShardingStrategy::Zero1) << 31.4;
        QTest::newRow("Pos+g 16.6 GB") << int(ShardingStrategy::Zero2) << 16.6;
        QTest::newRow("Pos+g+p 1.9 GB") << int(ShardingStrategy::Zero3) << 1.9;
    }
    void matchesZeroPaperFigure1()
    {
        QFETCH(int, strategy);
        QFETCH(double, gigabytes);
        const MemoryPlan plan = planMemory(zeroPaperInput(7.5e9, 64, ShardingStrategy(strategy)));
        QCOMPARE(std::round(modelStates(plan) / kGB * 10) / 10, gigabytes);
    }

    // ZeRO paper, Table 1 (per-device model states in GB), a few cells across model sizes and Nd.
    void matchesZeroPaperTable1_data()
    {
        QTest::addColumn<double>("parameters");
        QTest::addColumn<int>("gpus");
        QTest::addColumn<int>("strategy");
        QTest::addColumn<double>("gigabytes");
        QTest::newRow("7.5B, 1 GPU, Pos") << 7.5e9 << 1 << int(ShardingStrategy::Zero1) << 120.0;
        QTest::newRow("7.5B, 4 GPUs, Pos") << 7.5e9 << 4 << int(ShardingStrategy::Zero1) << 52.5;
        QTest::newRow("7.5B, 16 GPUs, Pos+g") << 7.5e9 << 16 << int(ShardingStrategy::Zero2) << 21.56;
        QTest::newRow("7.5B, 1024 GPUs, Pos+g+p") << 7.5e9 << 1024 << int(ShardingStrategy::Zero3) << 0.12;
        QTest::newRow("128B, 64 GPUs, Pos+g+p") << 128e9 << 64 << int(ShardingStrategy::Zero3) << 32.0;
        QTest::newRow("1T, 1024 GPUs, Pos+g+p") << 1e12 << 1024 << int(ShardingStrategy::Zero3) << 15.63;
    }
    void matchesZeroPaperTable1()
    {
        QFETCH(double, parameters);
        QFETCH(int, gpus);
        QFETCH(int, strategy);
        QFETCH(double, gigabytes);
        const MemoryPlan plan = planMemory(zeroPaperInput(parameters, gpus, ShardingStrategy(strategy)));
        QCOMPARE(std::round(modelStates(plan) / kGB * 100) / 100, gigabytes);
    }

    void oneGpuMakesEveryStrategyTheSame()
    {
        const double ddp = modelStates(planMemory(zeroPaperInput(1e9, 1, ShardingStrategy::Ddp)));
        for (ShardingStrategy strategy : {ShardingStrategy::Zero1, ShardingStrategy::Zero2, ShardingStrategy::Zero3,
                                          ShardingStrategy::FsdpFullShard})
            QCOMPARE(modelStates(planMemory(zeroPaperInput(1e9, 1, strategy))), ddp);
        QCOMPARE(ddp, 16e9);
    }

    void offloadMovesStatesOffTheGpu()
    {
        PlanInput input = zeroPaperInput(7.5e9, 8, ShardingStrategy::Zero3);
        input.offloadOptimizer = true;
        MemoryPlan plan = planMemory(input);
        QCOMPARE(plan.optimizerState, 0.0);
        QCOMPARE(plan.parameters, 2 * 7.5e9 / 8);
        input.offloadParameters = true;
        plan = planMemory(input);
        QCOMPARE(plan.parameters, 0.0);
        QCOMPARE(plan.gradients, 2 * 7.5e9 / 8);
        QVERIFY(plan.overhead > 1024.0 * 1024 * 1024); // still the gathered layers and the CUDA context
    }

    void hybridShardShardsWithinANodeOnly()
    {
        PlanInput input = zeroPaperInput(7.5e9, 8, ShardingStrategy::FsdpHybridShard);
        input.nodes = 4;
        const MemoryPlan hybrid = planMemory(input);
        QCOMPARE(hybrid.worldSize, 32);
        QCOMPARE(hybrid.shardingDegree, 8);
        QCOMPARE(modelStates(hybrid), 16 * 7.5e9 / 8);
        input.strategy = ShardingStrategy::FsdpFullShard;
        QCOMPARE(modelStates(planMemory(input)), 16 * 7.5e9 / 32);
    }

    void fp32AndSgdChangeTheBytesPerParameter()
    {
        PlanInput input = zeroPaperInput(1e9, 1, ShardingStrategy::Ddp);
        input.precision = Precision::Fp32;
        QCOMPARE(modelStates(planMemory(input)), 16e9); // 4 + 4 + 8 (Adam moments)
        input.optimizer = OptimizerKind::SgdMomentum;
        QCOMPARE(modelStates(planMemory(input)), 12e9); // 4 + 4 + 4
        input.optimizer = OptimizerKind::Sgd;
        QCOMPARE(modelStates(planMemory(input)), 8e9);
        input.precision = Precision::Bf16Mixed;
        QCOMPARE(modelStates(planMemory(input)), 8e9); // 2 + 2 + 4 (fp32 master weights)
    }

    void transformerShapeGivesParametersAndActivations()
    {
        // GPT-2 small: 12 layers, 768 hidden, 12 heads, 50257 vocabulary, 1024 positions: 124M parameters.
        const TransformerShape gpt2{12, 768, 12, 50257, 1024, 8};
        QCOMPARE(std::round(gpt2.parameterCount() / 1e6), 124.0);
        PlanInput input;
        input.shape = gpt2;
        input.gpuMemoryBytes = 24.0 * 1024 * 1024 * 1024;
        const MemoryPlan plan = planMemory(input);
        QVERIFY(plan.activationsEstimated);
        // Korthikanti et al. eq. 1 per layer: s*b*h*(34 + 5*a*s/h), plus fp32 logits 4*s*b*V.
        const double perLayer = 1024.0 * 8 * 768 * (34 + 5.0 * 12 * 1024 / 768);
        QCOMPARE(plan.activationsWithoutCheckpointing, 12 * perLayer + 4.0 * 1024 * 8 * 50257);
        QCOMPARE(plan.activationsWithCheckpointing, 12 * 2.0 * 1024 * 8 * 768 + perLayer + 4.0 * 1024 * 8 * 50257);
        QVERIFY(plan.activationsWithCheckpointing < plan.activationsWithoutCheckpointing / 3);
        QCOMPARE(plan.activations, plan.activationsWithoutCheckpointing);
    }

    void verdictAndLeastShardedFit()
    {
        // 7.5B on 64 x 32 GB: DDP needs 120 GB, ZeRO-1 31.4 GB of states plus overhead: ZeRO-2 is the first to fit.
        PlanInput input = zeroPaperInput(7.5e9, 64, ShardingStrategy::Ddp);
        MemoryPlan plan = planMemory(input);
        QVERIFY(!plan.fits);
        QCOMPARE(plan.leastShardedFit, std::optional<QString>(QStringLiteral("zero2")));
        input.strategy = ShardingStrategy::Zero3;
        QVERIFY(planMemory(input).fits);
        // Nothing fits: 1T parameters on one 32 GB GPU, even with everything offloaded the gathered layers do not.
        plan = planMemory(zeroPaperInput(1e12, 1, ShardingStrategy::Ddp));
        QVERIFY(!plan.fits);
        QVERIFY(!plan.leastShardedFit.has_value());
    }

    void parsesSizesAndCounts_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<double>("bytes");
        QTest::newRow("GiB") << "80GiB" << 80.0 * 1024 * 1024 * 1024;
        QTest::newRow("GB") << "40 GB" << 40e9;
        QTest::newRow("MiB") << "24576MiB" << 24576.0 * 1024 * 1024;
        QTest::newRow("bytes") << "8e10" << 8e10;
        QTest::newRow("garbage") << "lots" << -1.0;
        QTest::newRow("negative") << "-5GB" << -1.0;
    }
    void parsesSizesAndCounts()
    {
        QFETCH(QString, text);
        QFETCH(double, bytes);
        const auto parsed = parseByteSize(text);
        QCOMPARE(parsed.value_or(-1.0), bytes);
        QCOMPARE(parseCount(QStringLiteral("7.5B")).value_or(0), 7.5e9);
        QCOMPARE(parseCount(QStringLiteral("350M")).value_or(0), 350e6);
        QVERIFY(!parseCount(QStringLiteral("many")).has_value());
    }
};

QTEST_GUILESS_MAIN(TestMemoryPlanner)
#include "tst_memoryplanner.moc"
