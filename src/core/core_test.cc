#include <gtest/gtest.h>
#include <pthread.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

#include "core/ids.h"
#include "core/json_writer.h"
#include "core/thread_name.h"
#include "core/time.h"

namespace causeloop {
namespace {

TEST(TimeTest, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(1700000000123)), "2023-11-14T22:13:20.123Z");
}

TEST(TimeTest, ParsesOffsetsIntoUtc) {
  auto t = ParseRfc3339("2023-11-14T23:13:20.5+01:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(ToUnixMillis(*t), 1700000000500);
}

TEST(TimeTest, RejectsWhatIsNotRfc3339) {
  for (const char* bad :
       {"", "2023-11-14", "2023-13-01T00:00:00Z", "2023-02-30T00:00:00Z", "2023-11-14T22:13:20",
        "2023-11-14T22:13:20Zjunk", "yesterday", "2023-11-14T22:13:20.Z", "2023-11-14T25:00:00Z",
        // Valid as written, but outside years 0000-9999 once in UTC (found by fuzzing).
        "0000-01-01T02:38:14.739+02:39", "9999-12-31T23:30:00-01:00"}) {
    EXPECT_FALSE(ParseRfc3339(bad)) << bad;
  }
}

TEST(TimeTest, RoundTrips) {
  SystemTime t = FromUnixMillis(1234567890987);
  EXPECT_EQ(*ParseRfc3339(FormatRfc3339(t)), t);
  for (const char* edge : {"0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"}) {
    auto parsed = ParseRfc3339(edge);
    ASSERT_TRUE(parsed) << edge;
    EXPECT_EQ(FormatRfc3339(*parsed), edge);
  }
}

// Against the C library's calendar, across leap days, centuries and times before 1970.
TEST(TimeTest, FormatsTheSameDateAsTheCLibrary) {
  for (long long ms = -62167219200000LL; ms <= 253402300799999LL; ms += 7777777777LL + 13) {
    long long secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    auto tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms - secs * 1000);
    ASSERT_EQ(FormatRfc3339(FromUnixMillis(ms)), want) << ms;
  }
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(951782400000)), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(-1)), "1969-12-31T23:59:59.999Z");
}

TEST(JsonWriterTest, PlacesCommasAndEscapes) {
  JsonWriter w;
  w.BeginObject().Field("a", "x\"y\n").Key("b").BeginArray().Int(1).Null().Bool(true).EndArray();
  w.Field("c", std::string_view("\x01")).EndObject();
  EXPECT_EQ(w.str(), R"({"a":"x\"y\n","b":[1,null,true],"c":"\u0001"})");
}

TEST(JsonWriterTest, ReplacesInvalidUtf8) {
  std::string out;
  AppendJsonString(out, "ok\xC3\xA9\xFF");
  EXPECT_EQ(out, "\"ok\xC3\xA9\xEF\xBF\xBD\"");
}

class OnesRandom final : public Random {
 public:
  void Fill(std::span<unsigned char> out) override {
    for (auto& c : out) c = 0xFF;
  }
};

TEST(IdsTest, EncodeTimeThenRandomnessInCrockfordBase32) {
  OnesRandom ones;
  // 48 bits of time (10 chars), then 80 random bits (16 chars).
  EXPECT_EQ(NewId("x_", FromUnixMillis(0), ones), "x_0000000000ZZZZZZZZZZZZZZZZ");
  EXPECT_EQ(NewId("x_", FromUnixMillis(1), ones), "x_0000000001ZZZZZZZZZZZZZZZZ");
  EXPECT_EQ(NewId("x_", FromUnixMillis(32), ones), "x_0000000010ZZZZZZZZZZZZZZZZ");
}

// Every bit in its place: bytes 0x00, 0x11, 0x22, ... after the time.
TEST(IdsTest, EncodeEveryRandomBitInOrder) {
  class StepRandom final : public Random {
   public:
    void Fill(std::span<unsigned char> out) override {
      unsigned char next = 0;
      for (auto& c : out) {
        c = next;
        next = static_cast<unsigned char>(next + 0x11);
      }
    }
  } step;
  EXPECT_EQ(NewId("x_", FromUnixMillis(1700000000123), step), "x_01HF7YAT3V008J4CT4ANK7F24S");
}

TEST(IdsTest, AreSortableAndWellFormed) {
  SeededRandom random(1);
  std::string a = NewId("iss_", FromUnixMillis(1000), random);
  std::string b = NewId("iss_", FromUnixMillis(2000), random);
  EXPECT_TRUE(IsWellFormedId(a, "iss_"));
  EXPECT_LT(a, b);
  EXPECT_FALSE(IsWellFormedId("iss_short", "iss_"));
  EXPECT_FALSE(IsWellFormedId(a, "pat_"));
}

// The name shows in `top -H`; Linux keeps 15 bytes, so a longer one is cut, not refused.
TEST(ThreadNameTest, NamesTheCallingThreadAndCutsLongNames) {
  auto name_of = [](std::string_view name) {
    std::string got;
    std::thread t([&] {
      NameThisThread(name);
      char buffer[32] = {};
      if (pthread_getname_np(pthread_self(), buffer, sizeof buffer) == 0) got = buffer;
    });
    t.join();
    return got;
  };
  EXPECT_EQ(name_of("cl-writer"), "cl-writer");
  EXPECT_EQ(name_of("cl-a-name-longer-than-fifteen"), "cl-a-name-longe");
}

}  // namespace
}  // namespace causeloop
