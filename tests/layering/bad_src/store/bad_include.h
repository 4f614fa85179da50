#pragma once
// Fixture for the layering_detects_violation test: store must not reach down into http.
#include "core/result.h"
#include "http/server.h"
