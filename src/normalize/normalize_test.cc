#include "normalize/normalize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "auth/crypto.h"
#include "core/json_writer.h"
#include "core/time.h"
#include "normalize/internal.h"
#include "normalize/text.h"

namespace causeloop::normalize {
namespace {

namespace fs = std::filesystem;
using model::IssueStatus;
using model::Severity;

// Parses `json` and keeps the document alive for the element it hands out.
class Doc {
 public:
  explicit Doc(std::string_view json) : padded_(json) {
    auto r = parser_.parse(padded_);
    EXPECT_EQ(r.error(), simdjson::SUCCESS) << json;
    if (r.error() == simdjson::SUCCESS) root_ = r.value_unsafe();
  }
  [[nodiscard]] simdjson::dom::element root() const { return root_; }

 private:
  simdjson::padded_string padded_;
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

Result<model::IssueRecord> Decode(std::string_view json) {
  Doc doc(json);
  return DecodeRecord(doc.root());
}

Result<model::IssueRecord> Native(std::string_view source, std::string_view json) {
  Doc doc(json);
  return NormalizeNative(source, doc.root());
}

std::string FieldOf(const Error& e) { return e.details.empty() ? "<none>" : e.details[0].first; }

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The golden form of an outcome: the encoded record, or {"rejected": {field, message}}.
std::string Outcome(const Result<model::IssueRecord>& r) {
  if (r) return EncodeRecord(*r);
  JsonWriter w;
  w.BeginObject().Key("rejected").BeginObject();
  w.Field("field", FieldOf(r.error())).Field("message", r.error().message);
  w.EndObject().EndObject();
  return w.Take();
}

std::string Minified(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS) return "<invalid JSON> " + json;
  return simdjson::minify(e);
}

// ---------------------------------------------------------------------------------------------
// Golden files: testdata/normalize/<source>/<case>.input.json -> <case>.expected.json.
// "canonical" cases go through DecodeRecord, the others through NormalizeNative(<source>).
// CAUSELOOP_UPDATE_GOLDEN=1 rewrites the expected files (review the diff!).

struct GoldenCase {
  std::string source;
  fs::path input;
};

std::vector<GoldenCase> GoldenCases() {
  std::vector<GoldenCase> cases;
  fs::path root = fs::path(CAUSELOOP_SOURCE_DIR) / "testdata" / "normalize";
  if (!fs::is_directory(root)) return cases;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      std::string name = file.path().filename().string();
      if (name.size() > 11 && name.ends_with(".input.json")) {
        cases.push_back({dir.path().filename().string(), file.path()});
      }
    }
  }
  std::sort(cases.begin(), cases.end(),
            [](const GoldenCase& a, const GoldenCase& b) { return a.input < b.input; });
  return cases;
}

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.input.string(); }

class GoldenTest : public testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, MatchesTheExpectedRecord) {
  const GoldenCase& c = GetParam();
  std::string input = ReadFile(c.input);
  Result<model::IssueRecord> record =
      c.source == "canonical" ? Decode(input) : Native(c.source, input);
  std::string actual = Outcome(record);

  std::string stem = c.input.filename().string();
  stem.resize(stem.size() - std::string_view(".input.json").size());
  fs::path expected_path = c.input.parent_path() / (stem + ".expected.json");
  const char* update = std::getenv("CAUSELOOP_UPDATE_GOLDEN");
  if (update != nullptr && std::string_view(update) == "1") {
    std::ofstream(expected_path, std::ios::binary) << PrettyJson(actual);
  }
  ASSERT_TRUE(fs::exists(expected_path))
      << expected_path << " is missing; run with CAUSELOOP_UPDATE_GOLDEN=1 and review it";
  EXPECT_EQ(Minified(ReadFile(expected_path)), Minified(actual)) << "actual:\n"
                                                                 << PrettyJson(actual);
}

INSTANTIATE_TEST_SUITE_P(Normalize, GoldenTest, testing::ValuesIn(GoldenCases()),
                         [](const testing::TestParamInfo<GoldenCase>& case_info) {
                           std::string stem = case_info.param.input.filename().string();
                           stem.resize(stem.size() - std::string_view(".input.json").size());
                           std::string name = case_info.param.source + "_" + stem;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(GoldenTest, EveryNativeSourceHasAtLeastTwoCases) {
  std::map<std::string, int> counts;
  for (const auto& c : GoldenCases()) ++counts[c.source];
  for (std::string_view source : {"canonical", "jira", "pagerduty", "github", "servicenow",
                                  "datadog", "sentry", "alertmanager"}) {
    EXPECT_GE(counts[std::string(source)], 2) << source;
  }
}

// ---------------------------------------------------------------------------------------------
// DecodeRecord: rejection rules, each naming its field.

struct Rejection {
  const char* json;
  const char* field;
};

class RejectionTest : public testing::TestWithParam<Rejection> {};

TEST_P(RejectionTest, RejectsWithTheFieldName) {
  auto r = Decode(GetParam().json);
  ASSERT_FALSE(r) << GetParam().json;
  EXPECT_EQ(r.error().code, ErrorCode::kValidation);
  EXPECT_EQ(FieldOf(r.error()), GetParam().field) << r.error().message;
  EXPECT_FALSE(r.error().message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    DecodeRecord, RejectionTest,
    testing::Values(
        Rejection{R"([{"title": "x"}])", ""}, Rejection{R"("just a string")", ""},
        Rejection{R"(42)", ""}, Rejection{R"(null)", ""}, Rejection{R"({"title": 12})", "title"},
        Rejection{R"({"title": ["a"]})", "title"},
        Rejection{R"({"title": "x", "external_id": 7})", "external_id"},
        Rejection{R"({"title": "x", "source": true})", "source"},
        Rejection{R"({"title": "x", "body": {"text": "b"}})", "body"},
        Rejection{R"({"title": "x", "description": 3})", "description"},
        Rejection{R"({"title": "x", "service": 1})", "service"},
        Rejection{R"({"title": "x", "environment": []})", "environment"},
        Rejection{R"({"title": "x", "team": false})", "team"},
        Rejection{R"({"title": "x", "labels": ["a", "b"]})", "labels"},
        Rejection{R"({"title": "x", "labels": "a=b"})", "labels"},
        Rejection{R"({"title": "x", "labels": {"a": 1}})", "labels"},
        Rejection{R"({"title": "x", "labels": {"a": "ok", "b": null}})", "labels"},
        Rejection{R"({"title": "x", "tags": "a:b"})", "tags"},
        Rejection{R"({"title": "x", "tags": ["a:b", 3]})", "tags"},
        Rejection{R"({"title": "x", "metadata": [1]})", "metadata"},
        Rejection{R"({"title": "x", "metadata": "{}"})", "metadata"},
        Rejection{R"({"title": "x", "severity": "urgent-ish"})", "severity"},
        Rejection{R"({"title": "x", "severity": 7})", "severity"},
        Rejection{R"({"title": "x", "severity": 0})", "severity"},
        Rejection{R"({"title": "x", "severity": 2.5})", "severity"},
        Rejection{R"({"title": "x", "severity": true})", "severity"},
        Rejection{R"({"title": "x", "severity": {"level": 1}})", "severity"},
        Rejection{R"({"title": "x", "status": "sleeping"})", "status"},
        Rejection{R"({"title": "x", "status": 1})", "status"},
        Rejection{R"({"title": "x", "source_created_at": "yesterday"})", "source_created_at"},
        Rejection{R"({"title": "x", "source_created_at": "2024-01-15T10:30:00"})",
                  "source_created_at"},
        Rejection{R"({"title": "x", "source_created_at": 1705314600})", "source_created_at"},
        Rejection{R"({"title": "x", "created_at": "2024-13-01T00:00:00Z"})", "created_at"},
        Rejection{R"({"title": "x", "timestamp": "2024-01-15T10:30:00.000+0000"})", "timestamp"},
        Rejection{R"({"title": "x", "source_updated_at": "2024-02-30T00:00:00Z"})",
                  "source_updated_at"},
        Rejection{R"({"title": "x", "external_url": 5})", "external_url"},
        Rejection{R"j({"title": "x", "external_url": "javascript:alert(1)"})j", "external_url"},
        Rejection{R"({"title": "x", "external_url": "http://      "})", "external_url"},
        Rejection{R"({"title": "x", "external_url": "https://a b.example/"})", "external_url"},
        Rejection{R"({"title": "x", "resolution": "fixed"})", "resolution"},
        Rejection{R"({"title": "x", "resolution": {"fix": 3}})", "resolution.fix"},
        Rejection{R"({})", "title"}, Rejection{R"({"title": "", "external_id": ""})", "title"},
        Rejection{R"({"title": " \t\n ", "external_id": "   "})", "title"},
        Rejection{R"({"body": "only a body", "severity": "p1"})", "title"}));

TEST(DecodeRecordTest, TreatsNullFieldsAsAbsent) {
  auto r = Decode(R"({"title": "x", "severity": null, "status": null, "labels": null,
                      "metadata": null, "source_created_at": null, "body": null})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->severity);
  EXPECT_FALSE(r->status);
  EXPECT_TRUE(r->labels.empty());
  EXPECT_EQ(r->metadata_json, "");
  EXPECT_FALSE(r->source_created_at);
}

TEST(DecodeRecordTest, IgnoresConnectorIdOnInput) {
  auto r = Decode(R"({"title": "x", "connector_id": "con_123"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->connector_id, "");
}

TEST(DecodeRecordTest, LeavesSeverityAndStatusUnsetWhenAbsent) {
  auto r = Decode(R"({"title": "x"})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->severity);
  EXPECT_FALSE(r->status);
}

TEST(DecodeRecordTest, StoresMetadataMinified) {
  auto r = Decode(R"({"title": "x", "metadata": { "a" : [1, 2.5, "s"],
                      "b": {"c": null, "d": true} }})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->metadata_json, R"({"a":[1,2.5,"s"],"b":{"c":null,"d":true}})");
}

TEST(DecodeRecordTest, PrefersBodyOverTheDescriptionAlias) {
  auto r = Decode(R"({"title": "x", "body": "B", "description": "D"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "B");
}

TEST(DecodeRecordTest, PrefersLabelsOverTheTagsAlias) {
  auto r = Decode(R"({"title": "x", "labels": {"a": "1"}, "tags": {"b": "2"}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->labels, (std::map<std::string, std::string>{{"a", "1"}}));
}

TEST(DecodeRecordTest, PrefersSourceCreatedAtOverItsAliases) {
  auto r = Decode(R"({"title": "x", "source_created_at": "2024-01-01T00:00:00Z",
                      "created_at": "2023-01-01T00:00:00Z", "timestamp": "bad"})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(FormatRfc3339(*r->source_created_at), "2024-01-01T00:00:00.000Z");
}

TEST(DecodeRecordTest, ConvertsTimestampOffsetsToUtc) {
  auto r = Decode(R"({"title": "x", "source_updated_at": "2024-03-04T09:12:55.250+02:00"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(FormatRfc3339(*r->source_updated_at), "2024-03-04T07:12:55.250Z");
}

TEST(DecodeRecordTest, StripsNulCharactersThatNoTextColumnStores) {
  auto r = Decode(R"({"title": "a\u0000b", "body": "c\u0000d", "service": "s\u0000",
                      "labels": {"k\u0000": "v\u0000v", "env": "prod"}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->title, "ab");
  EXPECT_EQ(r->body, "cd");
  EXPECT_EQ(r->service, "s");
  EXPECT_EQ(r->labels, (std::map<std::string, std::string>{{"env", "prod"}, {"k", "vv"}}));
  // Without a NUL anywhere the labels stay as they came.
  auto plain = Decode(R"({"title": "x", "labels": {"env": "prod", "team": "sre"}})");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->labels, (std::map<std::string, std::string>{{"env", "prod"}, {"team", "sre"}}));
}

TEST(DecodeRecordTest, DropsAnAllEmptyResolution) {
  auto r = Decode(R"({"title": "x", "resolution": {"summary": "", "fix": ""}})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->resolution);
}

// ---------------------------------------------------------------------------------------------
// Severity vocabularies.

struct SeverityCase {
  const char* json;
  std::optional<Severity> expected;
};

class SeverityVocabularyTest : public testing::TestWithParam<SeverityCase> {};

TEST_P(SeverityVocabularyTest, MapsTheValue) {
  Doc doc(GetParam().json);
  EXPECT_EQ(ParseSeverity(doc.root()), GetParam().expected) << GetParam().json;
}

INSTANTIATE_TEST_SUITE_P(
    ParseSeverity, SeverityVocabularyTest,
    testing::Values(
        SeverityCase{R"("p1")", Severity::kP1}, SeverityCase{R"("p2")", Severity::kP2},
        SeverityCase{R"("p3")", Severity::kP3}, SeverityCase{R"("p4")", Severity::kP4},
        SeverityCase{R"("P1")", Severity::kP1}, SeverityCase{R"("P5")", Severity::kP4},
        SeverityCase{R"("P0")", Severity::kP1}, SeverityCase{R"("critical")", Severity::kP1},
        SeverityCase{R"("CRITICAL")", Severity::kP1}, SeverityCase{R"("high")", Severity::kP2},
        SeverityCase{R"("medium")", Severity::kP3}, SeverityCase{R"(" Low ")", Severity::kP4},
        SeverityCase{R"("info")", Severity::kP4}, SeverityCase{R"("warning")", Severity::kP3},
        SeverityCase{R"("error")", Severity::kP2}, SeverityCase{R"("fatal")", Severity::kP1},
        SeverityCase{R"("blocker")", Severity::kP1}, SeverityCase{R"("major")", Severity::kP2},
        SeverityCase{R"("minor")", Severity::kP4}, SeverityCase{R"("Highest")", Severity::kP1},
        SeverityCase{R"("lowest")", Severity::kP4}, SeverityCase{R"(1)", Severity::kP1},
        SeverityCase{R"(2)", Severity::kP2}, SeverityCase{R"(3)", Severity::kP3},
        SeverityCase{R"(4)", Severity::kP4}, SeverityCase{R"(5)", Severity::kP4},
        SeverityCase{R"(2.0)", Severity::kP2}, SeverityCase{R"("1")", Severity::kP1},
        SeverityCase{R"("5")", Severity::kP4}, SeverityCase{R"("sev1")", Severity::kP1},
        SeverityCase{R"("SEV2")", Severity::kP2}, SeverityCase{R"("sev-3")", Severity::kP3},
        SeverityCase{R"("sev 4")", Severity::kP4}, SeverityCase{R"("sev5")", Severity::kP4},
        SeverityCase{R"("sev0")", Severity::kP1}, SeverityCase{R"("S2")", Severity::kP2},
        SeverityCase{R"("severity1")", Severity::kP1},
        // Not in any vocabulary.
        SeverityCase{R"("p6")", std::nullopt}, SeverityCase{R"("sev6")", std::nullopt},
        SeverityCase{R"("6")", std::nullopt}, SeverityCase{R"(0)", std::nullopt},
        SeverityCase{R"(6)", std::nullopt}, SeverityCase{R"(-1)", std::nullopt},
        SeverityCase{R"(1.5)", std::nullopt}, SeverityCase{R"("")", std::nullopt},
        SeverityCase{R"("catastrophic-ish")", std::nullopt}, SeverityCase{R"(true)", std::nullopt},
        SeverityCase{R"(null)", std::nullopt}, SeverityCase{R"(["p1"])", std::nullopt},
        SeverityCase{R"({"p": 1})", std::nullopt},
        SeverityCase{R"(18446744073709551615)", std::nullopt}));

struct StatusCase {
  const char* text;
  std::optional<IssueStatus> expected;
};

class StatusVocabularyTest : public testing::TestWithParam<StatusCase> {};

TEST_P(StatusVocabularyTest, MapsTheWord) {
  EXPECT_EQ(ParseStatusText(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(ParseStatusText, StatusVocabularyTest,
                         testing::Values(StatusCase{"open", IssueStatus::kOpen},
                                         StatusCase{"in_progress", IssueStatus::kInProgress},
                                         StatusCase{"In Progress", IssueStatus::kInProgress},
                                         StatusCase{"in-progress", IssueStatus::kInProgress},
                                         StatusCase{"resolved", IssueStatus::kResolved},
                                         StatusCase{"closed", IssueStatus::kClosed},
                                         StatusCase{"acknowledged", IssueStatus::kInProgress},
                                         StatusCase{"firing", IssueStatus::kOpen},
                                         StatusCase{"triggered", IssueStatus::kOpen},
                                         StatusCase{"done", IssueStatus::kResolved},
                                         StatusCase{"FIXED", IssueStatus::kResolved},
                                         StatusCase{"won't fix", IssueStatus::kClosed},
                                         StatusCase{"cancelled", IssueStatus::kClosed},
                                         StatusCase{"sleeping", std::nullopt},
                                         StatusCase{"", std::nullopt}));

// ---------------------------------------------------------------------------------------------
// Title and body limits.

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.append(s);
  return out;
}

std::string TitleRecord(const std::string& title) {
  std::string json = R"({"title": )";
  AppendJsonString(json, title);
  json += "}";
  return json;
}

TEST(TitleTest, KeepsExactly300CodePointsUntouched) {
  auto r = Decode(TitleRecord(Repeat("é", 300)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->title, Repeat("é", 300));
  EXPECT_FALSE(r->title_truncated);
}

TEST(TitleTest, TruncatesAt300CodePointsWithoutSplittingTwoByteSequences) {
  auto r = Decode(TitleRecord(Repeat("é", 301)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->title, Repeat("é", 300));
  EXPECT_EQ(r->title.size(), 600u);
  EXPECT_TRUE(r->title_truncated);
}

TEST(TitleTest, TruncatesAt300CodePointsWithMixedWidths) {
  // 1 + 2 + 3 + 4 byte characters: 300 code points never end mid-sequence.
  std::string unit = "aé€😀";
  auto r = Decode(TitleRecord(Repeat(unit, 100)));  // 400 code points
  ASSERT_TRUE(r);
  EXPECT_EQ(r->title, Repeat(unit, 75));
  EXPECT_TRUE(r->title_truncated);
}

TEST(TitleTest, CollapsesWhitespaceAndControlCharacters) {
  auto r = Decode(R"({"title": "  disk\t\tfull \n\r on\u0000 host\u00a0\u2028 17  "})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->title, "disk full on host 17");
  EXPECT_FALSE(r->title_truncated);
}

TEST(TitleTest, FallsBackToTheExternalId) {
  auto r = Decode(R"({"external_id": "ABC-1", "title": ""})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->title, "ABC-1");
  EXPECT_EQ(r->external_id, "ABC-1");
  EXPECT_FALSE(r->external_id_derived);
}

TEST(BodyTest, KeepsABodyOfExactly64KiB) {
  std::string body(kMaxBodyBytes, 'a');
  std::string json = R"({"title": "x", "body": )";
  AppendJsonString(json, body);
  json += "}";
  auto r = Decode(json);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size(), kMaxBodyBytes);
  EXPECT_FALSE(r->body_truncated);
}

TEST(BodyTest, TruncatesAt64KiBOnAUtf8Boundary) {
  // 65535 ASCII bytes then a 3-byte "€": byte 65536 would split it, so the cut is at 65535.
  std::string body(kMaxBodyBytes - 1, 'a');
  body += "€tail";
  std::string json = R"({"title": "x", "body": )";
  AppendJsonString(json, body);
  json += "}";
  auto r = Decode(json);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, std::string(kMaxBodyBytes - 1, 'a'));
  EXPECT_TRUE(r->body_truncated);
}

TEST(TextTest, TruncateBytesKeepsAWholeSequenceThatEndsAtTheLimit) {
  bool truncated = false;
  EXPECT_EQ(TruncateBytes("ab€cd", 5, &truncated), "ab€");
  EXPECT_TRUE(truncated);
}

// ---------------------------------------------------------------------------------------------
// Derived external ids.

TEST(DerivedIdTest, IsStableForIdenticalRecords) {
  const char* json =
      R"({"title": "Queue backlog", "service": "w", "labels": {"a": "1", "b": "2"}})";
  auto a = Decode(json);
  auto b = Decode(json);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->external_id_derived);
  EXPECT_EQ(a->external_id, b->external_id);
  EXPECT_THAT(a->external_id, testing::MatchesRegex("h_[0-9a-f]{32}"));
}

TEST(DerivedIdTest, IgnoresLabelOrderAndFieldOrder) {
  auto a = Decode(R"({"title": "Queue backlog", "labels": {"a": "1", "b": "2"}, "team": "t"})");
  auto b = Decode(R"({"team": "t", "labels": {"b": "2", "a": "1"}, "title": "Queue backlog"})");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->external_id, b->external_id);
}

TEST(DerivedIdTest, DiffersWhenAnyHashedFieldDiffers) {
  const std::string base = R"("title": "T", "body": "B", "service": "S", "environment": "E",
                              "team": "M", "labels": {"k": "v"})";
  auto id = [](const std::string& fields) {
    auto r = Decode("{" + fields + "}");
    EXPECT_TRUE(r) << fields;
    return r ? r->external_id : std::string();
  };
  std::string reference = id(base);
  std::set<std::string> ids = {reference};
  for (const std::string& variant : {
           std::string(R"("title": "T2", "body": "B", "service": "S", "environment": "E",
                          "team": "M", "labels": {"k": "v"})"),
           std::string(R"("title": "T", "body": "B2", "service": "S", "environment": "E",
                          "team": "M", "labels": {"k": "v"})"),
           std::string(R"("title": "T", "body": "B", "service": "S2", "environment": "E",
                          "team": "M", "labels": {"k": "v"})"),
           std::string(R"("title": "T", "body": "B", "service": "S", "environment": "E2",
                          "team": "M", "labels": {"k": "v"})"),
           std::string(R"("title": "T", "body": "B", "service": "S", "environment": "E",
                          "team": "M2", "labels": {"k": "v"})"),
           std::string(R"("title": "T", "body": "B", "service": "S", "environment": "E",
                          "team": "M", "labels": {"k": "v2"})"),
           std::string(R"("title": "T", "body": "B", "service": "S", "environment": "E",
                          "team": "M", "labels": {"k2": "v"})"),
           std::string(R"("source": "jira", "title": "T", "body": "B", "service": "S",
                          "environment": "E", "team": "M", "labels": {"k": "v"})"),
       }) {
    ids.insert(id(variant));
  }
  EXPECT_EQ(ids.size(), 9u);
}

TEST(DerivedIdTest, DoesNotConfuseFieldBoundaries) {
  auto a = Decode(R"({"title": "ab", "body": "c"})");
  auto b = Decode(R"({"title": "a", "body": "bc"})");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->external_id, b->external_id);
}

TEST(DerivedIdTest, IsTheDocumentedHashOfTheCanonicalSerialization) {
  auto r = Decode(R"({"title": "T", "labels": {"b": "2", "a": "1"}})");
  ASSERT_TRUE(r);
  std::string canonical = R"(["custom_api","T","","","","",[["a","1"],["b","2"]]])";
  EXPECT_EQ(r->external_id, "h_" + auth::Sha256Hex(canonical).substr(0, 32));
}

// ---------------------------------------------------------------------------------------------
// Source coercion.

struct SourceCase {
  const char* json;
  const char* source;
  const char* source_raw;
};

class SourceCoercionTest : public testing::TestWithParam<SourceCase> {};

TEST_P(SourceCoercionTest, NormalizesTheSource) {
  auto r = Decode(GetParam().json);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->source, GetParam().source);
  EXPECT_EQ(r->source_raw, GetParam().source_raw);
}

INSTANTIATE_TEST_SUITE_P(
    DecodeRecord, SourceCoercionTest,
    testing::Values(SourceCase{R"({"title": "x"})", "custom_api", ""},
                    SourceCase{R"({"title": "x", "source": ""})", "custom_api", ""},
                    SourceCase{R"({"title": "x", "source": "jira"})", "jira", ""},
                    SourceCase{R"({"title": "x", "source": " PagerDuty "})", "pagerduty", ""},
                    SourceCase{R"({"title": "x", "source": "ALERTMANAGER"})", "alertmanager", ""},
                    SourceCase{R"({"title": "x", "source": "custom_api"})", "custom_api", ""},
                    SourceCase{R"({"title": "x", "source": "Nagios"})", "custom_api", "Nagios"},
                    SourceCase{R"({"title": "x", "source": "zabbix 6"})", "custom_api",
                               "zabbix 6"}));

// ---------------------------------------------------------------------------------------------
// Native shapes.

TEST(NativeTest, KnowsTheNativeSources) {
  for (std::string_view s :
       {"jira", "pagerduty", "github", "servicenow", "datadog", "sentry", "alertmanager"}) {
    EXPECT_TRUE(IsNativeSource(s)) << s;
  }
  EXPECT_FALSE(IsNativeSource("custom_api"));
  EXPECT_FALSE(IsNativeSource("Jira"));
  EXPECT_FALSE(IsNativeSource(""));
}

TEST(NativeTest, RejectsASourceWithoutANativeShape) {
  auto r = Native("custom_api", R"({"title": "x"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(FieldOf(r.error()), "");
}

struct NativeRejection {
  const char* source;
  const char* json;
  const char* field;
};

class NativeRejectionTest : public testing::TestWithParam<NativeRejection> {};

TEST_P(NativeRejectionTest, RejectsWithTheFieldName) {
  auto r = Native(GetParam().source, GetParam().json);
  ASSERT_FALSE(r) << GetParam().json;
  EXPECT_EQ(r.error().code, ErrorCode::kValidation);
  EXPECT_EQ(FieldOf(r.error()), GetParam().field) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    NormalizeNative, NativeRejectionTest,
    testing::Values(
        NativeRejection{"jira", R"([])", ""},
        NativeRejection{"jira", R"({"fields": {"summary": "x"}})", "key"},
        NativeRejection{"jira", R"({"key": "A-1"})", "fields"},
        NativeRejection{"jira", R"({"key": "A-1", "fields": {"summary": 3}})", "fields.summary"},
        NativeRejection{"jira", R"({"key": "A-1", "fields": {"created": "2024-01-15"}})",
                        "fields.created"},
        NativeRejection{"jira", R"({"key": "A-1", "fields": {"description": 5}})",
                        "fields.description"},
        NativeRejection{"jira", R"({"key": "A-1", "fields": {"labels": [1]}})", "fields.labels"},
        NativeRejection{"pagerduty", R"({"title": "x"})", "id"},
        NativeRejection{"pagerduty", R"({"id": "P1", "title": "x", "created_at": "now"})",
                        "created_at"},
        NativeRejection{"github", R"({"number": 1, "title": "x", "pull_request": {}})",
                        "pull_request"},
        NativeRejection{"github", R"({"title": "x"})", "number"},
        NativeRejection{"github", R"({"id": 1, "title": "x", "labels": "bug"})", "labels"},
        NativeRejection{"servicenow", R"({"short_description": "x"})", "sys_id"},
        NativeRejection{"servicenow", R"({"sys_id": "abc", "sys_created_on": "15/01/2024"})",
                        "sys_created_on"},
        NativeRejection{"datadog", R"({"title": "x"})", "id"},
        NativeRejection{"datadog", R"({"id": "e", "type": "event", "attributes": []})",
                        "attributes"},
        NativeRejection{"datadog", R"({"id": 1, "title": "x", "date_happened": "yesterday"})",
                        "date_happened"},
        NativeRejection{"sentry", R"({"title": "x"})", "id"},
        NativeRejection{"sentry", R"({"id": "1", "title": "x", "firstSeen": "2024"})", "firstSeen"},
        NativeRejection{"alertmanager", R"({"status": "firing"})", "labels"},
        NativeRejection{"alertmanager",
                        R"({"version": "4", "status": "firing", "alerts": [{"labels": {}}],
                            "commonLabels": {"alertname": "A"}})",
                        "alerts"},
        NativeRejection{"alertmanager", R"({"labels": {"alertname": 1}})", "labels"},
        NativeRejection{"alertmanager", R"({"labels": {}})", "fingerprint"},
        NativeRejection{"alertmanager", R"({"labels": {"a": "b"}, "startsAt": "soon"})",
                        "startsAt"}));

TEST(NativeTest, SetsTheSourceAndClearsTheConnector) {
  auto r = Native("sentry", R"({"id": "9", "title": "boom"})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->source, "sentry");
  EXPECT_EQ(r->source_raw, "");
  EXPECT_EQ(r->external_id, "9");
}

TEST(NativeTest, JiraTimestampsWithoutAColonInTheOffsetAreAccepted) {
  auto t = internal::ParseJiraTimestamp("2024-01-15T10:30:00.000+0000", "f");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2024-01-15T10:30:00.000Z");
  auto west = internal::ParseJiraTimestamp("2024-02-02T16:45:12.000-0500", "f");
  ASSERT_TRUE(west);
  EXPECT_EQ(FormatRfc3339(*west), "2024-02-02T21:45:12.000Z");
  auto rfc = internal::ParseJiraTimestamp("2024-01-15T10:30:00Z", "f");
  ASSERT_TRUE(rfc);
  EXPECT_EQ(FormatRfc3339(*rfc), "2024-01-15T10:30:00.000Z");
  EXPECT_FALSE(internal::ParseJiraTimestamp("2024-01-15T10:30:00.000+00", "f"));
}

TEST(NativeTest, JiraPrioritiesMapToSeverities) {
  for (auto [name, expected] :
       {std::pair{"Highest", Severity::kP1}, std::pair{"High", Severity::kP2},
        std::pair{"Medium", Severity::kP3}, std::pair{"Low", Severity::kP4},
        std::pair{"Lowest", Severity::kP4}}) {
    std::string json =
        std::string(R"({"key": "A-1", "fields": {"summary": "s", "priority": {"name": ")") + name +
        R"("}}})";
    auto r = Native("jira", json);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->severity, expected) << name;
  }
}

TEST(NativeTest, AdfBecomesPlainText) {
  Doc doc(R"({"type": "doc", "version": 1, "content": [
      {"type": "paragraph", "content": [{"type": "text", "text": "Hello "},
                                        {"type": "text", "text": "world", "marks": [{"type": "strong"}]}]},
      {"type": "orderedList", "content": [
          {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]}]},
      {"type": "codeBlock", "content": [{"type": "text", "text": "x = 1"}]},
      {"type": "paragraph", "content": [{"type": "inlineCard", "attrs": {"url": "https://a.io"}}]}]})");
  EXPECT_EQ(internal::AdfToText(doc.root()), "Hello world\n- one\nx = 1\nhttps://a.io");
}

TEST(NativeTest, ServiceNowStatesMapToStatuses) {
  for (auto [state, expected] :
       {std::pair{"1", IssueStatus::kOpen}, std::pair{"2", IssueStatus::kInProgress},
        std::pair{"3", IssueStatus::kInProgress}, std::pair{"6", IssueStatus::kResolved},
        std::pair{"7", IssueStatus::kClosed}, std::pair{"8", IssueStatus::kClosed}}) {
    auto r = Native(
        "servicenow",
        std::string(R"({"sys_id": "a", "short_description": "s", "state": ")") + state + R"("})");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, expected) << state;
  }
}

TEST(NativeTest, ServiceNowPrioritiesMapToSeverities) {
  for (auto [priority, expected] :
       {std::pair{"1", Severity::kP1}, std::pair{"2", Severity::kP2}, std::pair{"3", Severity::kP3},
        std::pair{"4", Severity::kP4}, std::pair{"5", Severity::kP4}}) {
    auto r = Native("servicenow",
                    std::string(R"({"sys_id": "a", "short_description": "s", "priority": ")") +
                        priority + R"("})");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->severity, expected) << priority;
  }
}

TEST(NativeTest, PagerDutyPriorityWinsOverUrgency) {
  auto r = Native("pagerduty", R"({"id": "P", "title": "t", "urgency": "low",
                                   "priority": {"summary": "P1"}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->severity, Severity::kP1);
  auto u = Native("pagerduty", R"({"id": "P", "title": "t", "urgency": "high"})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->severity, Severity::kP2);
}

TEST(NativeTest, GitHubTakesTheMostSevereSeverityLabel) {
  auto r = Native("github", R"({"number": 3, "repository_url": "https://api.github.com/repos/o/r",
                                "title": "t", "labels": [{"name": "priority: low"},
                                {"name": "sev/critical"}, {"name": "bug"}]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->severity, Severity::kP1);
  EXPECT_EQ(r->external_id, "o/r#3");
  EXPECT_EQ(r->service, "o/r");
}

TEST(NativeTest, GitHubIssueWithoutSeverityLabelsHasNoSeverity) {
  auto r = Native("github", R"({"number": 3, "repository_url": "https://api.github.com/repos/o/r",
                                "title": "t", "labels": [{"name": "bug"}, {"name": "severe-looking"}]})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->severity);
}

TEST(NativeTest, SentryLevelsMapToSeverities) {
  for (auto [level, expected] :
       {std::pair{"fatal", Severity::kP1}, std::pair{"error", Severity::kP2},
        std::pair{"warning", Severity::kP3}, std::pair{"info", Severity::kP4},
        std::pair{"debug", Severity::kP4}}) {
    auto r =
        Native("sentry", std::string(R"({"id": "1", "title": "t", "level": ")") + level + R"("})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->severity, expected) << level;
  }
}

TEST(NativeTest, AlertmanagerFingerprintlessAlertsGetAStableLabelHash) {
  auto a = Native("alertmanager", R"({"labels": {"alertname": "A", "job": "j"}})");
  auto b = Native("alertmanager", R"({"labels": {"job": "j", "alertname": "A"}})");
  auto c = Native("alertmanager", R"({"labels": {"job": "j", "alertname": "B"}})");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->external_id, b->external_id);
  EXPECT_NE(a->external_id, c->external_id);
  EXPECT_TRUE(a->external_id_derived);
  EXPECT_EQ(a->title, "A");
  EXPECT_EQ(a->service, "j");
}

TEST(NativeTest, DatadogV1PriorityNumbersWinOverAlertType) {
  auto r = Native("datadog", R"({"id": 5, "title": "t", "alert_type": "info", "priority": "P1"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->severity, Severity::kP1);
  auto n = Native("datadog",
                  R"({"id": 5, "title": "t", "alert_type": "warning", "priority": "normal"})");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->severity, Severity::kP3);
  EXPECT_EQ(n->status, IssueStatus::kOpen);
}

TEST(NativeTest, AcceptsTheSingleObjectResponseWrappers) {
  auto pd = Native("pagerduty", R"({"incident": {"id": "PX", "title": "t"}})");
  ASSERT_TRUE(pd) << pd.error().message;
  EXPECT_EQ(pd->external_id, "PX");
  auto dd = Native("datadog", R"({"data": {"id": "E1", "type": "event",
                                           "attributes": {"attributes": {"title": "t"}}}})");
  ASSERT_TRUE(dd) << dd.error().message;
  EXPECT_EQ(dd->external_id, "E1");
  EXPECT_EQ(dd->title, "t");
  auto sn = Native("servicenow", R"({"result": {"sys_id": "S1", "short_description": "t"}})");
  ASSERT_TRUE(sn) << sn.error().message;
  EXPECT_EQ(sn->external_id, "S1");
}

// Found by fuzz_native_alertmanager: a provider URL of blanks was kept, and the stored record
// no longer decoded (decoding trims it to "http://", which is refused).
TEST(NativeTest, DropsAProviderUrlThatIsNotAFollowableLink) {
  for (const char* url : {"http://            ", "http://a b/c", "https://x/\\u0001"}) {
    auto r =
        Native("alertmanager",
               std::string(R"({"labels": {"alertname": "A"}, "generatorURL": ")") + url + R"("})");
    ASSERT_TRUE(r) << url;
    EXPECT_EQ(r->external_url, "") << url;
  }
  auto padded = Native(
      "alertmanager", R"({"labels": {"alertname": "A"}, "generatorURL": " https://g.example/x "})");
  ASSERT_TRUE(padded);
  EXPECT_EQ(padded->external_url, "https://g.example/x");
}

TEST(EncodeRecordTest, WritesEveryFieldInAStableOrder) {
  model::IssueRecord r;
  r.external_id = "e";
  r.title = "t";
  std::string json = EncodeRecord(r);
  EXPECT_EQ(json,
            R"({"source":"custom_api","source_raw":null,"external_id":"e",)"
            R"("external_id_derived":false,"title":"t","title_truncated":false,"body":"",)"
            R"("body_truncated":false,"severity":null,"status":null,"service":null,)"
            R"("environment":null,"team":null,"labels":{},"metadata":null,"external_url":null,)"
            R"("connector_id":null,"source_created_at":null,"source_updated_at":null,)"
            R"("resolution":null})");
}

}  // namespace
}  // namespace causeloop::normalize
