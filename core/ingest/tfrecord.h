// TFRecord framing, as TensorBoard event files use it: uint64 length, masked CRC32C of the length, the data, masked
// CRC32C of the data (all little-endian). CRC32C with the SSE4.2 instruction where the CPU has it, else a table:
// Debian 12 ships no C library for it.
#pragma once

#include <QString>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace trainyard {

std::uint32_t crc32c(const void *data, std::size_t size);
std::uint32_t crc32cWithTable(const void *data, std::size_t size); // the fallback, also what tests compare against
// TFRecord's mask: rotate right by 15 bits and add 0xa282ead8.
std::uint32_t maskedCrc32c(const void *data, std::size_t size);

inline constexpr std::size_t kTfRecordHeaderBytes = 12; // length + its CRC
inline constexpr std::size_t kTfRecordFooterBytes = 4;  // the data's CRC
// A length beyond this is a damaged header, not a record: TensorBoard's own records are far smaller.
inline constexpr std::uint64_t kMaxTfRecordBytes = 256u << 20;

struct TfRecord {
    std::int64_t offset = 0; // of the header, in the file
    std::string_view data;   // points into the scanned buffer
};

struct TfRecordDamage {
    std::int64_t offset = 0;
    QString what;
};

struct TfRecordScan {
    std::vector<TfRecord> records;      // complete records whose CRCs check out, in file order
    std::vector<TfRecordDamage> damage; // records skipped: bad CRC, impossible length
    std::int64_t consumedUpTo = 0;      // file offset up to which everything is read (records and skipped bytes)
    bool incompleteTail = false;        // a record still being written ends the buffer: read it again later
};

// Scans `size` bytes that start at file offset `baseOffset`. A record whose length CRC fails is skipped by searching
// for the next offset where a header checks out; one whose data CRC fails is skipped whole. A record cut off by the end
// of the buffer is not damage: the scan stops before it (incompleteTail) unless `atEndOfFile` says nothing more will
// come, when it is reported as damage.
TfRecordScan scanTfRecords(const char *data, std::size_t size, std::int64_t baseOffset, bool atEndOfFile);

} // namespace trainyard
