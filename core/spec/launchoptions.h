// LaunchOptions: the plain values of a spec that launch acts on (sharding strategy and precision, the model's shape
// and optimizer, NCCL's debugging switches), with the names specs and the command line write them in.
#pragma once

#include <QString>

#include <optional>

namespace trainyard {

enum class Precision { Fp32, Bf16Mixed, Fp16Mixed };
enum class OptimizerKind { Adam, AdamW, SgdMomentum, Sgd };
enum class ShardingStrategy { Ddp, Zero1, Zero2, Zero3, FsdpFullShard, FsdpShardGradOp, FsdpHybridShard };

struct TransformerShape {
    int layers = 0;
    int hidden = 0;
    int heads = 0;
    int vocab = 0;
    int seqLen = 0;
    int microBatch = 0;

    // Megatron's count: 12·L·h² + 13·L·h + (V + s)·h (attention and MLP weights and biases, layer norms,
    // token and position embeddings).
    double parameterCount() const;
};

struct StrategyChoice {
    ShardingStrategy strategy = ShardingStrategy::Ddp;
    Precision precision = Precision::Bf16Mixed;
    bool offloadOptimizer = false;
    bool offloadParameters = false;
};

// NCCL's and PyTorch's debugging switches, set on every rank when asked for.
struct NcclDebugOptions {
    QString level;               // NCCL_DEBUG: VERSION, WARN, INFO or TRACE; empty: not set
    QString subsystems;          // NCCL_DEBUG_SUBSYS, e.g. INIT,COLL
    int asyncErrorHandling = -1; // TORCH_NCCL_ASYNC_ERROR_HANDLING (0-3); -1: not set
    int traceBufferSize = -1;    // TORCH_NCCL_TRACE_BUFFER_SIZE; -1: not set
    bool p2pDisable = false;     // NCCL_P2P_DISABLE=1
    bool ibDisable = false;      // NCCL_IB_DISABLE=1
    QString socketIfname;        // NCCL_SOCKET_IFNAME
    bool operator==(const NcclDebugOptions &) const = default;
};

QString strategyName(ShardingStrategy strategy);
std::optional<ShardingStrategy> parseStrategy(const QString &text);
std::optional<Precision> parsePrecision(const QString &text);
std::optional<OptimizerKind> parseOptimizer(const QString &text);
QString precisionName(Precision precision);
QString optimizerName(OptimizerKind optimizer);
// "80GiB", "80 GB", "81920MiB", "8e10" (bytes).
std::optional<double> parseByteSize(const QString &text);
// "1.5e9", "7.5B", "350M", "70000000".
// The largest parameter count a plan takes (a quadrillion; the largest models are a thousandth of it): beyond it,
// byte counts stop being exact numbers.
inline constexpr double kMaxParameterCount = 1e15;
std::optional<double> parseCount(const QString &text);

} // namespace trainyard
