// GpuPeaks: the dense tensor-core peak of current datacenter and workstation GPUs, by the name NVML reports, for MFU.
// Each entry carries the document its figures come from. Dense means without structured sparsity: datasheets that
// lead with the sparse figure are halved, as their footnotes say. For GeForce and RTX cards the figures are with FP32
// accumulate, which is what mixed-precision training uses (with FP16 accumulate those cards are twice as fast).
#pragma once

#include <QList>
#include <QString>

#include <optional>

namespace trainyard {

enum class PeakPrecision { Bf16, Fp16, Tf32 };

struct GpuPeak {
    QString model;              // "H100 SXM5"
    std::optional<double> bf16; // TFLOPS, dense; none where the GPU has no BF16 tensor cores
    std::optional<double> fp16; // TFLOPS, dense
    std::optional<double> tf32; // TFLOPS, dense
    QString source;             // the document the figures come from

    std::optional<double> at(PeakPrecision precision) const;
};

namespace gpupeaks {

// The table, in the order names are matched (the more specific first: "H100 PCIe" before "H100").
const QList<GpuPeak> &table();
// The entry for an NVML name ("NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB", "NVIDIA GeForce RTX 4090"), or
// nullopt when the GPU is not in the table.
std::optional<GpuPeak> find(const QString &nvmlName);
// "bf16" (default), "fp16", "tf32"; nullopt for anything else.
std::optional<PeakPrecision> precisionFromString(const QString &text);
QString toString(PeakPrecision precision);

} // namespace gpupeaks
} // namespace trainyard
