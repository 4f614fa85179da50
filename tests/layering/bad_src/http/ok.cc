// Fixture: http may include anything above it.
#include "auth/tokens.h"
#include "store/store.h"
