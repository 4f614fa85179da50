#include "auth/secretbox.h"

#include <gtest/gtest.h>

#include <string>

#include "auth/crypto.h"
#include "core/random.h"

namespace causeloop::auth {
namespace {

const std::string kKey = DeriveKey("master secret", "connector-credentials");

TEST(SecretBoxTest, OpensWhatItSealedForEveryLength) {
  SeededRandom random(1);
  std::string plaintext;
  for (int n = 0; n < 70; ++n) {
    std::string sealed = Seal(kKey, plaintext, random);
    ASSERT_TRUE(sealed.starts_with("v1:")) << sealed;
    Result<std::string> opened = Open(kKey, sealed);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*opened, plaintext);
    plaintext.push_back(static_cast<char>(n * 31));
  }
}

TEST(SecretBoxTest, SealedFormIsNonceCiphertextAndTag) {
  SeededRandom random(2);
  std::string plaintext = "xoxb-connector-token";
  std::string sealed = Seal(kKey, plaintext, random);
  Result<std::string> raw = Base64Decode(std::string_view(sealed).substr(3));
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), 12 + plaintext.size() + 16);
  EXPECT_EQ(raw->find(plaintext), std::string::npos);
}

TEST(SecretBoxTest, SealingTwiceUsesFreshNonces) {
  SecureRandom random;
  EXPECT_NE(Seal(kKey, "same", random), Seal(kKey, "same", random));
}

TEST(SecretBoxTest, RefusesEveryFlippedBit) {
  SeededRandom random(3);
  std::string sealed = Seal(kKey, "credential", random);
  std::string raw = *Base64Decode(std::string_view(sealed).substr(3));
  for (size_t i = 0; i < raw.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = raw;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      Result<std::string> opened = Open(kKey, "v1:" + Base64Encode(tampered));
      ASSERT_FALSE(opened) << "byte " << i << " bit " << bit;
      EXPECT_EQ(opened.error().code, ErrorCode::kValidation);
    }
  }
}

TEST(SecretBoxTest, RefusesTruncationAndExtension) {
  SeededRandom random(4);
  std::string raw = *Base64Decode(std::string_view(Seal(kKey, "credential", random)).substr(3));
  EXPECT_FALSE(Open(kKey, "v1:" + Base64Encode(raw.substr(0, raw.size() - 1))));
  EXPECT_FALSE(Open(kKey, "v1:" + Base64Encode(raw + "x")));
  EXPECT_FALSE(Open(kKey, "v1:" + Base64Encode(raw.substr(0, 27))));
}

TEST(SecretBoxTest, RefusesAnotherKey) {
  SeededRandom random(5);
  std::string sealed = Seal(kKey, "credential", random);
  Result<std::string> opened = Open(DeriveKey("master secret", "webhook-secrets"), sealed);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kValidation);
  EXPECT_EQ(opened.error().message.find("credential"), std::string::npos);
}

TEST(SecretBoxTest, RefusesMalformedInput) {
  SeededRandom random(6);
  std::string sealed = Seal(kKey, "credential", random);
  EXPECT_FALSE(Open(kKey, ""));
  EXPECT_FALSE(Open(kKey, sealed.substr(3)));          // no version prefix
  EXPECT_FALSE(Open(kKey, "v2:" + sealed.substr(3)));  // unknown version
  EXPECT_FALSE(Open(kKey, "v1:!!!!"));                 // not base64
  EXPECT_FALSE(Open(kKey.substr(0, 16), sealed));      // wrong key size
}

TEST(SecretBoxTest, SealRefusesAKeyOfTheWrongSize) {
  SeededRandom random(7);
  EXPECT_EQ(Seal("short key", "credential", random), "");
}

TEST(SecretBoxTest, DeriveKeyIsHmacOfThePurpose) {
  EXPECT_EQ(DeriveKey("master", "purpose").size(), kSecretBoxKeySize);
  EXPECT_EQ(HexEncode(DeriveKey("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_NE(DeriveKey("master", "a"), DeriveKey("master", "b"));
}

}  // namespace
}  // namespace causeloop::auth
