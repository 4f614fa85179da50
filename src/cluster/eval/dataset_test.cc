#include "cluster/eval/dataset.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace causeloop::cluster::eval {
namespace {
namespace fs = std::filesystem;

using Rows = std::vector<std::vector<std::string>>;

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cluster_eval_test.XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `content` byte for byte to `relative`, creating directories; returns the full path.
  fs::path Write(const std::string& relative, const std::string& content) const {
    fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << content;
    return file;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Rows MustParse(std::string_view text) {
  auto rows = ParseCsv(text);
  EXPECT_TRUE(rows.has_value()) << (rows ? "" : rows.error().message);
  return rows.value_or(Rows{});
}

TEST(ParseCsvTest, SplitsCrlfAndLfRows) {
  EXPECT_EQ(MustParse("a,b\r\n1,2\r\n3,4"), (Rows{{"a", "b"}, {"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(MustParse("a,b\n1,2\n"), (Rows{{"a", "b"}, {"1", "2"}}));
}

TEST(ParseCsvTest, UnquotesFieldsWithCommasQuotesAndLineBreaks) {
  Rows rows = MustParse("id,text\r\n1,\"x, y\"\r\n2,\"say \"\"hi\"\"\"\r\n3,\"two\r\nlines\"\r\n");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "x, y"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", "say \"hi\""}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"3", "two\r\nlines"}));
}

TEST(ParseCsvTest, KeepsEmptyFieldsAndSkipsBlankLines) {
  EXPECT_EQ(MustParse("a,,c,\n\n\r\n\"\",x\n"), (Rows{{"a", "", "c", ""}, {"", "x"}}));
  EXPECT_EQ(MustParse("\"\"\n"), (Rows{{""}}));  // a quoted empty field is not a blank line
}

TEST(ParseCsvTest, IgnoresBomAndKeepsQuotesInsideUnquotedFields) {
  EXPECT_EQ(MustParse("\xEF\xBB\xBFh\n5\" disk\n"), (Rows{{"h"}, {"5\" disk"}}));
}

TEST(ParseCsvTest, RejectsUnterminatedQuoteAndTextAfterClosingQuote) {
  auto unterminated = ParseCsv("a\n\"open,\nstill open");
  ASSERT_FALSE(unterminated);
  EXPECT_EQ(unterminated.error().code, ErrorCode::kValidation);
  EXPECT_NE(unterminated.error().message.find("line 2"), std::string::npos)
      << unterminated.error().message;
  auto trailing = ParseCsv("a,b\n\"x\"y,1\n");
  ASSERT_FALSE(trailing);
  EXPECT_NE(trailing.error().message.find("line 2"), std::string::npos);
}

TEST(ParseLabelVariantTest, AcceptsTheThreeNames) {
  EXPECT_EQ(ParseLabelVariant("original"), LabelVariant::kOriginal);
  EXPECT_EQ(ParseLabelVariant("corrected"), LabelVariant::kCorrected);
  EXPECT_EQ(ParseLabelVariant("loghub2"), LabelVariant::kLoghub2);
  EXPECT_FALSE(ParseLabelVariant("Original"));
}

// A small Loghub-shaped system: original file CRLF with quoted Content, variants LF.
void WriteLoghubSystem(const TempDir& dir, const std::string& system, bool with_loghub2) {
  const std::string prefix = system + "/" + system + "_2k.log_structured";
  dir.Write(prefix + ".csv",
            "LineId,Level,Content,EventId,EventTemplate\r\n"
            "1,INFO,\"Connected to 10.0.0.1, port 80\",E1,\"Connected to <*>, port <*>\"\r\n"
            "2,WARN,\"Disk \"\"sda\"\" full\",E2,Disk <*> full\r\n"
            "3,INFO,\"Connected to 10.0.0.2, port 81\",E1,\"Connected to <*>, port <*>\"\r\n");
  dir.Write(prefix + "_corrected.csv",
            "LineId,Level,Content,EventId,EventTemplate\n"
            "1,INFO,CHANGED,C1,x\n2,WARN,CHANGED,C2,y\n3,INFO,CHANGED,C3,z\n");
  if (with_loghub2) {
    dir.Write(prefix + "_corrected_loghub2.csv",
              "LineId,Content,EventId\n1,a,L1\n2,b,L1\n3,c,L1\n");
  }
}

TEST(LoadDatasetsTest, LoadsOneLoghubSystemWithOriginalContent) {
  TempDir dir;
  WriteLoghubSystem(dir, "HDFS", true);
  auto loaded = LoadDatasets(dir.path() / "HDFS", LabelVariant::kOriginal);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->datasets.size(), 1u);
  const Dataset& d = loaded->datasets[0];
  EXPECT_EQ(d.name, "HDFS");
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.records[0].title, "Connected to 10.0.0.1, port 80");
  EXPECT_EQ(d.records[1].title, "Disk \"sda\" full");
  EXPECT_EQ(d.records[0].label, "E1");
  EXPECT_EQ(d.records[1].label, "E2");
  EXPECT_TRUE(d.records[0].body.empty());
}

TEST(LoadDatasetsTest, TakesLabelsFromTheVariantButContentFromTheOriginal) {
  TempDir dir;
  WriteLoghubSystem(dir, "HDFS", true);
  auto corrected = LoadDatasets(dir.path() / "HDFS", LabelVariant::kCorrected);
  ASSERT_TRUE(corrected) << corrected.error().message;
  const auto& records = corrected->datasets[0].records;
  EXPECT_EQ(records[2].title, "Connected to 10.0.0.2, port 81");
  EXPECT_EQ(records[2].label, "C3");
  auto loghub2 = LoadDatasets(dir.path() / "HDFS", LabelVariant::kLoghub2);
  ASSERT_TRUE(loghub2) << loghub2.error().message;
  EXPECT_EQ(loghub2->datasets[0].records[1].label, "L1");
  EXPECT_EQ(loghub2->datasets[0].records[1].title, "Disk \"sda\" full");
}

TEST(LoadDatasetsTest, LoghubRootYieldsSystemsInCanonicalOrderAndSkipsMissingLabels) {
  TempDir dir;
  WriteLoghubSystem(dir, "Spark", true);
  WriteLoghubSystem(dir, "Android", false);
  WriteLoghubSystem(dir, "HDFS", true);
  dir.Write("NotASystem/NotASystem_2k.log_structured.csv", "Content,EventId\nx,E1\n");
  auto original = LoadDatasets(dir.path(), LabelVariant::kOriginal);
  ASSERT_TRUE(original) << original.error().message;
  ASSERT_EQ(original->datasets.size(), 3u);
  EXPECT_EQ(original->datasets[0].name, "HDFS");
  EXPECT_EQ(original->datasets[1].name, "Spark");
  EXPECT_EQ(original->datasets[2].name, "Android");
  EXPECT_TRUE(original->skipped.empty());

  auto loghub2 = LoadDatasets(dir.path(), LabelVariant::kLoghub2);
  ASSERT_TRUE(loghub2) << loghub2.error().message;
  ASSERT_EQ(loghub2->datasets.size(), 2u);
  ASSERT_EQ(loghub2->skipped.size(), 1u);
  EXPECT_NE(loghub2->skipped[0].find("Android"), std::string::npos);
}

TEST(LoadDatasetsTest, SingleSystemWithoutTheVariantIsNotFound) {
  TempDir dir;
  WriteLoghubSystem(dir, "Android", false);
  auto loaded = LoadDatasets(dir.path() / "Android", LabelVariant::kLoghub2);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ErrorCode::kNotFound);
}

TEST(LoadDatasetsTest, RejectsVariantWithDifferentRowCount) {
  TempDir dir;
  WriteLoghubSystem(dir, "HDFS", false);
  dir.Write("HDFS/HDFS_2k.log_structured_corrected.csv", "Content,EventId\na,E1\n");
  auto loaded = LoadDatasets(dir.path() / "HDFS", LabelVariant::kCorrected);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ErrorCode::kValidation);
  EXPECT_NE(loaded.error().message.find("1 rows"), std::string::npos) << loaded.error().message;
}

TEST(LoadDatasetsTest, RejectsMissingColumnAndRaggedRows) {
  TempDir dir;
  dir.Write("HDFS/HDFS_2k.log_structured.csv", "LineId,Message,EventId\n1,x,E1\n");
  auto no_content = LoadDatasets(dir.path() / "HDFS", LabelVariant::kOriginal);
  ASSERT_FALSE(no_content);
  EXPECT_NE(no_content.error().message.find("'Content'"), std::string::npos);

  dir.Write("HDFS/HDFS_2k.log_structured.csv", "LineId,Content,EventId\n1,x,E1\n2,y\n");
  auto ragged = LoadDatasets(dir.path() / "HDFS", LabelVariant::kOriginal);
  ASSERT_FALSE(ragged);
  EXPECT_EQ(ragged.error().code, ErrorCode::kValidation);
  EXPECT_NE(ragged.error().message.find("row 2"), std::string::npos) << ragged.error().message;

  dir.Write("HDFS/HDFS_2k.log_structured.csv", "LineId,Content,EventId\n1,\"x,E1\n");
  auto unterminated = LoadDatasets(dir.path() / "HDFS", LabelVariant::kOriginal);
  ASSERT_FALSE(unterminated);
  EXPECT_NE(unterminated.error().message.find("HDFS_2k.log_structured.csv"), std::string::npos);
}

TEST(LoadDatasetsTest, ReadsJsonlWithTextOrTitleAndBody) {
  TempDir dir;
  fs::path file = dir.Write(
      "alerts.jsonl",
      "{\"text\":\"disk full on db-1\",\"label\":\"disk\"}\n"
      "\n"
      "{\"title\":\"OOM\",\"body\":\"killed pid 7\",\"service\":\"api\",\"source\":\"sentry\","
      "\"label\":42}\r\n"
      "{\"title\":\"t\",\"label\":1.5,\"extra\":[1,2]}\n");
  auto loaded = LoadDatasets(file, LabelVariant::kOriginal);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->datasets.size(), 1u);
  const Dataset& d = loaded->datasets[0];
  EXPECT_EQ(d.name, "alerts");
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.records[0].title, "disk full on db-1");
  EXPECT_EQ(d.records[0].label, "disk");
  EXPECT_EQ(d.records[1].title, "OOM");
  EXPECT_EQ(d.records[1].body, "killed pid 7");
  EXPECT_EQ(d.records[1].service, "api");
  EXPECT_EQ(d.records[1].source, "sentry");
  EXPECT_EQ(d.records[1].label, "42");
  EXPECT_EQ(d.records[2].label, "1.5");
}

TEST(LoadDatasetsTest, DirectoryOfJsonlIsOneDatasetPerFileSortedByName) {
  TempDir dir;
  dir.Write("b.jsonl", "{\"text\":\"x\",\"label\":\"1\"}\n");
  dir.Write("a.jsonl", "{\"text\":\"y\",\"label\":\"2\"}\n{\"text\":\"z\",\"label\":\"2\"}\n");
  dir.Write("notes.txt", "ignored");
  auto loaded = LoadDatasets(dir.path(), LabelVariant::kOriginal);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->datasets.size(), 2u);
  EXPECT_EQ(loaded->datasets[0].name, "a");
  EXPECT_EQ(loaded->datasets[0].records.size(), 2u);
  EXPECT_EQ(loaded->datasets[1].name, "b");
}

TEST(LoadDatasetsTest, RejectsBadJsonlNamingTheLine) {
  TempDir dir;
  const std::string ok = "{\"text\":\"x\",\"label\":\"1\"}\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"text\":\"x\",\"label\":", "malformed JSON"},
      {"[1,2]", "expected a JSON object"},
      {"{\"text\":\"x\"}", "no \"label\""},
      {"{\"text\":\"x\",\"label\":null}", "no \"label\""},
      {"{\"text\":\"x\",\"label\":true}", "string or a number"},
      {"{\"text\":7,\"label\":\"1\"}", "\"text\" must be a string"},
      {"{\"service\":\"api\",\"label\":\"1\"}", "no \"text\""},
      {"{\"text\":\"x\",\"title\":\"y\",\"label\":\"1\"}", "not both"},
  };
  for (const auto& [line, message] : cases) {
    fs::path file = dir.Write("bad.jsonl", ok + line + "\n");
    auto loaded = LoadDatasets(file, LabelVariant::kOriginal);
    ASSERT_FALSE(loaded) << line;
    EXPECT_EQ(loaded.error().code, ErrorCode::kValidation) << line;
    EXPECT_NE(loaded.error().message.find("line 2"), std::string::npos)
        << line << " -> " << loaded.error().message;
    EXPECT_NE(loaded.error().message.find(message), std::string::npos)
        << line << " -> " << loaded.error().message;
  }
}

TEST(LoadDatasetsTest, RejectsEmptyJsonlAndUnknownPaths) {
  TempDir dir;
  auto empty = LoadDatasets(dir.Write("empty.jsonl", "\n\n"), LabelVariant::kOriginal);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kValidation);

  auto missing = LoadDatasets(dir.path() / "nope", LabelVariant::kOriginal);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto csv = LoadDatasets(dir.Write("x.csv", "a\n"), LabelVariant::kOriginal);
  ASSERT_FALSE(csv);
  EXPECT_EQ(csv.error().code, ErrorCode::kNotFound);

  fs::create_directories(dir.path() / "nothing");
  auto nothing = LoadDatasets(dir.path() / "nothing", LabelVariant::kOriginal);
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace causeloop::cluster::eval
