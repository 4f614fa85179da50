#include <gtest/gtest.h>

#include "auth/crypto.h"
#include "auth/cursor.h"
#include "auth/scopes.h"
#include "auth/tokens.h"

namespace causeloop::auth {
namespace {

TEST(CryptoTest, HmacMatchesRfc4231Case2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// FIPS 180-2 test vectors, each hashed twice so the reused per-thread context is checked.
TEST(CryptoTest, Sha256MatchesFips180Vectors) {
  const std::string million_a(1000000, 'a');
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(Sha256Hex(million_a),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

TEST(CryptoTest, Base64RoundTripsAllLengths) {
  std::string s;
  for (int i = 0; i < 20; ++i) {
    s.push_back(static_cast<char>(i * 37));
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(s)), s);
  }
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_FALSE(Base64Decode("Zm9v!"));
}

TEST(CryptoTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(ScopesTest, AdminImpliesReadAndWriteOfTheSameResourceOnly) {
  std::vector<std::string> granted = {"connectors:admin"};
  EXPECT_TRUE(HasScope(granted, "connectors:read"));
  EXPECT_TRUE(HasScope(granted, "connectors:admin"));
  EXPECT_FALSE(HasScope(granted, "webhooks:read"));
  EXPECT_FALSE(HasScope({"issues:read"}, "issues:write"));
  EXPECT_TRUE(IsKnownScope("events:read"));
  EXPECT_FALSE(IsKnownScope("events:write"));
}

TEST(TokensTest, SecretsHaveThePrefixAndFullEntropyLength) {
  SeededRandom random(7);
  std::string a = GenerateTokenSecret(random);
  std::string b = GenerateTokenSecret(random);
  EXPECT_TRUE(LooksLikeToken(a));
  EXPECT_NE(a, b);
  EXPECT_EQ(HashTokenSecret(a).size(), 64u);
  EXPECT_EQ(DisplayPrefix(a), a.substr(0, 10));
}

TEST(CursorTest, OpensWhatItSealedAndRefusesTampering) {
  CursorSigner signer("k1");
  std::string c = signer.Seal("created_at=5|id=iss_1");
  EXPECT_EQ(*signer.Open(c), "created_at=5|id=iss_1");
  std::string tampered = c;
  tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(signer.Open(tampered));
  EXPECT_FALSE(CursorSigner("k2").Open(c));
  EXPECT_FALSE(signer.Open("garbage"));
}

}  // namespace
}  // namespace causeloop::auth
