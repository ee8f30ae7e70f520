// Control characters (CR, LF, NUL, ESC, DEL, ...) in values that reach an HTTP header, a shell script or a terminal
// are refused where they enter: a newline in a Slurm partition would be a line of the job script, a CR LF in a user
// name a header of its own.
#pragma once

#include "result.h"

#include <QString>

#include <optional>

namespace trainyard {

// The index of the first control character (Unicode category Cc: C0, DEL, C1) in text, if any.
inline std::optional<qsizetype> firstControlCharacter(const QString &text)
{
    for (qsizetype i = 0; i < text.size(); ++i)
        if (text.at(i).category() == QChar::Other_Control)
            return i;
    return std::nullopt;
}

// Fails, naming `what`, the character and where it is, when text holds a control character.
inline Result<void> refuseControlCharacters(const QString &text, const QString &what)
{
    if (const auto at = firstControlCharacter(text))
        return fail(QStringLiteral(
                        "%1 contains a control character (U+%2 at position %3); such characters are not allowed here")
                        .arg(what)
                        .arg(text.at(*at).unicode(), 4, 16, QLatin1Char('0'))
                        .arg(*at + 1));
    return {};
}

} // namespace trainyard
