#include "csv.h"

namespace trainyard {

QString csvField(const QString &text, CsvQuote quote)
{
    if (quote == CsvQuote::WhenNeeded && !text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"'))
        && !text.contains(QLatin1Char('\n')) && !text.contains(QLatin1Char('\r')))
        return text;
    return QLatin1Char('"') + QString(text).replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
}

} // namespace trainyard
