// CSV fields as RFC 4180 writes them, for every CSV Trainyard exports (runs table, charts, params, reports, metrics).
#pragma once

#include <QString>

namespace trainyard {

enum class CsvQuote {
    WhenNeeded, // only a field holding a comma, a quote or a line break is quoted
    Always,     // every field quoted (names and labels, which a spreadsheet must not read as numbers)
};

// `text` as one CSV field: quoted per `quote`, a quote inside doubled.
QString csvField(const QString &text, CsvQuote quote = CsvQuote::WhenNeeded);

} // namespace trainyard
