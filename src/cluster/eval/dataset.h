#pragma once
// Labelled datasets for evaluating the clustering engine, read from disk.
//
// A path is one of:
//  - a Loghub root: subdirectories <S>/<S>_2k.log_structured.csv for the 16 Loghub-2k systems
//    (kLoghubSystems); one dataset per system present, in that order;
//  - one Loghub system directory (holding <S>_2k.log_structured.csv);
//  - a .jsonl file, or a directory of *.jsonl files (sorted by name): one dataset per file,
//    named by its stem. Each non-blank line is an object with "text" (or "title" and an
//    optional "body"), optional "service" and "source" strings, and a "label" (string or
//    number).
//
// Loghub messages are always the original file's `Content`; only the labels (`EventId`) come
// from the chosen variant, whose rows align 1:1 with the original file.

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace causeloop::cluster::eval {

inline constexpr std::array<std::string_view, 16> kLoghubSystems = {
    "HDFS",  "Hadoop",  "Spark",     "Zookeeper", "BGL",       "HPC",     "Thunderbird", "Windows",
    "Linux", "Android", "HealthApp", "Apache",    "Proxifier", "OpenSSH", "OpenStack",   "Mac"};

struct Record {
  std::string title;  // Loghub: the message (`Content`)
  std::string body;
  std::string service;
  std::string source;
  std::string label;  // ground-truth group
};

struct Dataset {
  std::string name;  // Loghub system, or the .jsonl file's stem
  std::vector<Record> records;
};

// Which Loghub ground truth to use.
enum class LabelVariant {
  kOriginal,   // <S>_2k.log_structured.csv (Loghub)
  kCorrected,  // <S>_2k.log_structured_corrected.csv (logparser, Khan et al. 2022)
  kLoghub2,    // <S>_2k.log_structured_corrected_loghub2.csv (Loghub-2.0; no Android/Windows)
};

// "original" | "corrected" | "loghub2"; kValidation otherwise.
[[nodiscard]] Result<LabelVariant> ParseLabelVariant(std::string_view name);

struct LoadedDatasets {
  std::vector<Dataset> datasets;
  // Human-readable reasons for Loghub systems skipped under a Loghub root (e.g. no loghub2
  // labels for Android).
  std::vector<std::string> skipped;
};

// Loads `path` as described above. kNotFound when it is none of those shapes (or a single
// Loghub system lacks the variant file); kValidation for malformed content, naming the file
// and line. A Loghub root with no usable system, or a dataset without records, is an error.
[[nodiscard]] Result<LoadedDatasets> LoadDatasets(const std::filesystem::path& path,
                                                  LabelVariant labels);

// RFC 4180 CSV: comma-separated fields, CRLF or LF line ends, double-quoted fields with ""
// escapes that may contain commas and line breaks; a quote inside an unquoted field is literal;
// a leading UTF-8 BOM is ignored; blank lines are skipped. kValidation (with the 1-based line)
// for an unterminated quoted field or text after a closing quote.
[[nodiscard]] Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text);

}  // namespace causeloop::cluster::eval
