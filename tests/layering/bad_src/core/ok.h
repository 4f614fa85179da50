#pragma once
// Fixture: core includes only itself and third-party headers, which is allowed.
#include <simdjson.h>

#include "core/clock.h"
#include "tl/expected.hpp"
