// The Trainyard version, from the top-level CMake project().
#pragma once

#include "trainyard_version.h"

namespace trainyard {
inline constexpr const char *kVersion = TRAINYARD_VERSION_STRING;
}
