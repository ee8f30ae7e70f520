// SharedLibrary: a dlopen handle owned by RAII, with symbols resolved once and errors that say what is missing.
#pragma once

#include "result.h"

#include <QString>
#include <QStringList>

namespace trainyard {

class SharedLibrary {
public:
    // Tries each name in turn (sonames first); the error lists what was tried and why each failed.
    static Result<SharedLibrary> open(const QStringList &names);

    SharedLibrary(SharedLibrary &&other) noexcept;
    SharedLibrary &operator=(SharedLibrary &&other) noexcept;
    ~SharedLibrary();

    const QString &loadedName() const { return m_name; }

    template <typename Function>
    Result<Function> resolve(const char *symbol) const
    {
        void *address = lookup(symbol);
        if (!address)
            return fail(QStringLiteral("%1 has no symbol %2").arg(m_name, QLatin1String(symbol)));
        return reinterpret_cast<Function>(address);
    }

private:
    SharedLibrary(void *handle, QString name) : m_handle(handle), m_name(std::move(name)) { }
    void *lookup(const char *symbol) const;

    void *m_handle = nullptr;
    QString m_name;
};

} // namespace trainyard
