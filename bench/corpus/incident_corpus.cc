// incident_corpus: writes the labelled incident corpus as JSONL (bench/corpus/README.md).
//
//   incident_corpus --seed N [--scale K] [--out FILE] [--stats]

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "corpus/corpus.h"

namespace {

using causeloop::corpus::CorpusOptions;
using causeloop::corpus::CorpusRecord;

constexpr std::string_view kUsage =
    "usage: incident_corpus --seed N [--scale K] [--out FILE] [--stats]\n"
    "  --seed N    seed of every random choice (required); same seed, same bytes\n"
    "  --scale K   multiply the size (about 4,500 records at 1); default 1, at most 1000\n"
    "  --out FILE  write there instead of stdout\n"
    "  --stats     print a summary of the corpus to stderr\n";

bool ParseUnsigned(std::string_view text, unsigned long long max, unsigned long long& out) {
  if (text.empty() || text.size() > 20) return false;
  unsigned long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const unsigned long long digit = static_cast<unsigned long long>(c - '0');
    if (value > (max - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

void PrintStats(const std::vector<CorpusRecord>& records) {
  std::map<std::string, int> by_label, by_source, by_kind;
  for (const CorpusRecord& r : records) {
    ++by_label[r.label];
    ++by_source[r.source];
    ++by_kind[r.kind];
  }
  int once = 0;
  for (const auto& [label, n] : by_label) once += n == 1 ? 1 : 0;
  // Largest number of records of one label among 60 consecutive records: the storms.
  int burst = 0;
  std::string burst_label;
  for (size_t i = 0; i < records.size(); ++i) {
    std::map<std::string_view, int> window;
    for (size_t j = i; j < records.size() && j < i + 60; ++j) {
      if (int n = ++window[records[j].label]; n > burst) {
        burst = n;
        burst_label = records[j].label;
      }
    }
  }
  std::fprintf(stderr, "records: %zu\nlabels: %zu (seen once: %d)\nlargest burst: %d (%s)\n",
               records.size(), by_label.size(), once, burst, burst_label.c_str());
  std::fprintf(stderr, "by source:");
  for (const auto& [source, n] : by_source) std::fprintf(stderr, " %s=%d", source.c_str(), n);
  std::fprintf(stderr, "\nby kind:");
  for (const auto& [kind, n] : by_kind) std::fprintf(stderr, " %s=%d", kind.c_str(), n);
  std::multimap<int, std::string, std::greater<>> ranked;
  for (const auto& [label, n] : by_label) ranked.emplace(n, label);
  std::fprintf(stderr, "\nlabels by size:\n");
  for (const auto& [n, label] : ranked) std::fprintf(stderr, "  %5d  %s\n", n, label.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CorpusOptions options;
  bool have_seed = false;
  bool stats = false;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    unsigned long long value = 0;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage.data(), stdout);
      return 0;
    } else if (arg == "--seed" && has_value && ParseUnsigned(argv[i + 1], ~0ULL, value)) {
      options.seed = value;
      have_seed = true;
      ++i;
    } else if (arg == "--scale" && has_value && ParseUnsigned(argv[i + 1], 1000, value) &&
               value >= 1) {
      options.scale = static_cast<int>(value);
      ++i;
    } else if (arg == "--out" && has_value) {
      out_path = argv[++i];
    } else if (arg == "--stats") {
      stats = true;
    } else {
      std::fprintf(stderr, "incident_corpus: bad argument '%s'\n%s", argv[i], kUsage.data());
      return 2;
    }
  }
  if (!have_seed) {
    std::fprintf(stderr, "incident_corpus: --seed is required\n%s", kUsage.data());
    return 2;
  }
  const std::vector<CorpusRecord> records = causeloop::corpus::GenerateCorpus(options);
  const std::string jsonl = causeloop::corpus::ToJsonl(records);
  std::FILE* out = out_path.empty() ? stdout : std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) {
    std::perror(("incident_corpus: " + out_path).c_str());
    return 1;
  }
  const bool written = std::fwrite(jsonl.data(), 1, jsonl.size(), out) == jsonl.size();
  const bool closed = out == stdout ? std::fflush(out) == 0 : std::fclose(out) == 0;
  if (!written || !closed) {
    std::fprintf(stderr, "incident_corpus: write failed\n");
    return 1;
  }
  if (stats) PrintStats(records);
  return 0;
}
