#include "cluster/service/pattern_service.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace causeloop::cluster {
namespace {

// Fingerprints are stored (manual overrides are keyed by them), so their spelling is fixed:
// 16 lower-case hex digits, zero-padded.
TEST(FingerprintHexTest, IsSixteenLowerCaseHexDigits) {
  EXPECT_EQ(FingerprintHex(0), "0000000000000000");
  EXPECT_EQ(FingerprintHex(0xabcdef), "0000000000abcdef");
  EXPECT_EQ(FingerprintHex(0x0123456789abcdefULL), "0123456789abcdef");
  EXPECT_EQ(FingerprintHex(UINT64_MAX), "ffffffffffffffff");
}

}  // namespace
}  // namespace causeloop::cluster
