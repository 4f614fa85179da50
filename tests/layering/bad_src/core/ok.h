#pragma once
// Fixture: core includes only itself and third-party headers, which is allowed.
#include "core/clock.h"
#include <simdjson.h>
#include "tl/expected.hpp"
