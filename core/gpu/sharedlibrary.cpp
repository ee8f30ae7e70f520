// dlopen and dlsym: the only place in Trainyard that loads code at run time.
#include "gpu/sharedlibrary.h"

#include <QFile>

#include <dlfcn.h>

namespace trainyard {

Result<SharedLibrary> SharedLibrary::open(const QStringList &names)
{
    QStringList reasons;
    for (const QString &name : names) {
        void *handle = ::dlopen(QFile::encodeName(name).constData(), RTLD_NOW | RTLD_LOCAL);
        if (handle)
            return SharedLibrary(handle, name);
        const char *reason = ::dlerror();
        reasons << (reason ? QString::fromLocal8Bit(reason) : name);
    }
    return fail(reasons.join(QStringLiteral("; ")));
}

SharedLibrary::SharedLibrary(SharedLibrary &&other) noexcept : m_handle(other.m_handle), m_name(std::move(other.m_name))
{
    other.m_handle = nullptr;
}

SharedLibrary &SharedLibrary::operator=(SharedLibrary &&other) noexcept
{
    if (this != &other) {
        if (m_handle)
            ::dlclose(m_handle);
        m_handle = other.m_handle;
        m_name = std::move(other.m_name);
        other.m_handle = nullptr;
    }
    return *this;
}

SharedLibrary::~SharedLibrary()
{
    if (m_handle)
        ::dlclose(m_handle);
}

void *SharedLibrary::lookup(const char *symbol) const { return m_handle ? ::dlsym(m_handle, symbol) : nullptr; }

} // namespace trainyard
