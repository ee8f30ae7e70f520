// CRC32C (Castagnoli) and the TFRecord scan.
#include "ingest/tfrecord.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace trainyard {

namespace {

constexpr std::uint32_t kCastagnoliReflected = 0x82f63b78u;
constexpr std::uint32_t kMaskDelta = 0xa282ead8u;

// Slicing-by-8 tables: eight bytes per step without the instruction.
const std::array<std::array<std::uint32_t, 256>, 8> &crcTables()
{
    static const auto tables = [] {
        std::array<std::array<std::uint32_t, 256>, 8> built{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t crc = i;
            for (int bit = 0; bit < 8; ++bit)
                crc = (crc >> 1) ^ ((crc & 1) ? kCastagnoliReflected : 0);
            built[0][i] = crc;
        }
        for (std::uint32_t i = 0; i < 256; ++i)
            for (std::size_t t = 1; t < 8; ++t)
                built[t][i] = (built[t - 1][i] >> 8) ^ built[0][built[t - 1][i] & 0xff];
        return built;
    }();
    return tables;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32cWithInstruction(const void *data, std::size_t size)
{
    const auto *bytes = static_cast<const unsigned char *>(data);
    std::uint64_t crc = 0xffffffffu;
    while (size >= 8) {
        std::uint64_t word;
        std::memcpy(&word, bytes, 8);
        crc = _mm_crc32_u64(crc, word);
        bytes += 8;
        size -= 8;
    }
    auto crc32 = static_cast<std::uint32_t>(crc);
    while (size--)
        crc32 = _mm_crc32_u8(crc32, *bytes++);
    return crc32 ^ 0xffffffffu;
}

bool cpuHasSse42()
{
    static const bool has = __builtin_cpu_supports("sse4.2");
    return has;
}
#endif

std::uint32_t readLittle32(const char *bytes)
{
    std::uint32_t value;
    std::memcpy(&value, bytes, 4); // x86 and ARM Linux are little-endian, as the format is
    return value;
}

std::uint64_t readLittle64(const char *bytes)
{
    std::uint64_t value;
    std::memcpy(&value, bytes, 8);
    return value;
}

bool headerChecksOut(const char *header)
{
    return maskedCrc32c(header, 8) == readLittle32(header + 8) && readLittle64(header) <= kMaxTfRecordBytes;
}

} // namespace

std::uint32_t crc32cWithTable(const void *data, std::size_t size)
{
    const auto &tables = crcTables();
    const auto *bytes = static_cast<const unsigned char *>(data);
    std::uint32_t crc = 0xffffffffu;
    while (size >= 8) {
        std::uint32_t low;
        std::memcpy(&low, bytes, 4);
        low ^= crc;
        crc = tables[7][low & 0xff] ^ tables[6][(low >> 8) & 0xff] ^ tables[5][(low >> 16) & 0xff]
            ^ tables[4][low >> 24] ^ tables[3][bytes[4]] ^ tables[2][bytes[5]] ^ tables[1][bytes[6]]
            ^ tables[0][bytes[7]];
        bytes += 8;
        size -= 8;
    }
    while (size--)
        crc = (crc >> 8) ^ tables[0][(crc ^ *bytes++) & 0xff];
    return crc ^ 0xffffffffu;
}

std::uint32_t crc32c(const void *data, std::size_t size)
{
#if defined(__x86_64__)
    if (cpuHasSse42())
        return crc32cWithInstruction(data, size);
#endif
    return crc32cWithTable(data, size);
}

std::uint32_t maskedCrc32c(const void *data, std::size_t size)
{
    const std::uint32_t crc = crc32c(data, size);
    return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

TfRecordScan scanTfRecords(const char *data, std::size_t size, std::int64_t baseOffset, bool atEndOfFile)
{
    TfRecordScan scan;
    std::size_t at = 0;
    while (at < size) {
        if (size - at < kTfRecordHeaderBytes) {
            if (atEndOfFile) {
                scan.damage.push_back({baseOffset + std::int64_t(at),
                                       QStringLiteral("a truncated record header at the end of the file")});
                at = size;
            } else {
                scan.incompleteTail = true;
            }
            break;
        }
        const char *header = data + at;
        if (!headerChecksOut(header)) {
            // Look for the next place a header checks out; everything before it is skipped.
            std::size_t next = at + 1;
            while (next + kTfRecordHeaderBytes <= size && !headerChecksOut(data + next))
                ++next;
            const bool found = next + kTfRecordHeaderBytes <= size;
            scan.damage.push_back({baseOffset + std::int64_t(at),
                                   QStringLiteral("a record header whose length CRC does not match (%1 bytes skipped)")
                                       .arg(found ? next - at : size - at)});
            if (!found && !atEndOfFile) {
                // The rest may be a header still being written: keep the last bytes for the next read.
                at = size > kTfRecordHeaderBytes ? size - kTfRecordHeaderBytes + 1 : at;
                scan.incompleteTail = true;
                break;
            }
            at = found ? next : size;
            continue;
        }
        const std::uint64_t length = readLittle64(header);
        const std::size_t total = kTfRecordHeaderBytes + std::size_t(length) + kTfRecordFooterBytes;
        if (size - at < total) {
            if (atEndOfFile) {
                scan.damage.push_back(
                    {baseOffset + std::int64_t(at),
                     QStringLiteral("a record of %1 bytes cut off by the end of the file").arg(length)});
                at = size;
            } else {
                scan.incompleteTail = true;
            }
            break;
        }
        const char *payload = header + kTfRecordHeaderBytes;
        if (maskedCrc32c(payload, std::size_t(length)) != readLittle32(payload + length))
            scan.damage.push_back({baseOffset + std::int64_t(at),
                                   QStringLiteral("a record of %1 bytes whose data CRC does not match").arg(length)});
        else
            scan.records.push_back({baseOffset + std::int64_t(at), std::string_view(payload, std::size_t(length))});
        at += total;
    }
    scan.consumedUpTo = baseOffset + std::int64_t(at);
    return scan;
}

} // namespace trainyard
