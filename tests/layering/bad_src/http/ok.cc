// Fixture: http may include anything above it.
#include "store/store.h"
#  include "auth/tokens.h"
