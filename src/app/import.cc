#include "app/import.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>

#include "ingest/json_input.h"
#include "normalize/normalize.h"

namespace causeloop::app {
namespace {

void Progress(long long done_bytes, long long total_bytes, long long lines, double secs, bool tty,
              bool final) {
  double frac = total_bytes > 0 ? static_cast<double>(done_bytes) / total_bytes : 1.0;
  int width = 30;
  int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(static_cast<size_t>(width), ' ');
  double rate = secs > 0 ? lines / secs : 0;
  std::fprintf(stderr, "%s[%s] %3d%%  %lld lines  %.0f lines/s%s", tty ? "\r" : "", bar.c_str(),
               static_cast<int>(frac * 100), lines, rate, (tty && !final) ? "" : "\n");
  std::fflush(stderr);
}

}  // namespace

Result<ImportSummary> ImportJsonl(const std::string& path, const std::string& workspace_id,
                                  ingest::Ingestor& ingestor, size_t batch_size, bool tty) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kNotFound, "cannot open " + path);
  in.seekg(0, std::ios::end);
  long long total = static_cast<long long>(in.tellg());
  in.seekg(0);
  ImportSummary summary;
  std::vector<ingest::Decoded> batch;
  std::vector<long long> line_numbers;
  auto start = std::chrono::steady_clock::now();
  auto last_report = start;

  auto flush = [&]() -> Status {
    if (batch.empty()) return {};
    std::promise<Result<ingest::Outcome>> done;
    ingestor.Ingest(workspace_id, std::move(batch), "",
                    [&](Result<ingest::Outcome> r) { done.set_value(std::move(r)); });
    auto out = done.get_future().get();
    batch.clear();
    if (!out) return Fail(out.error());
    summary.accepted += out->accepted;
    summary.rejected += static_cast<long long>(out->rejected.size());
    for (const auto& r : out->results) (r.deduplicated ? summary.deduplicated : summary.created)++;
    for (const auto& r : out->rejected) {
      std::fprintf(stderr, "%sline %lld rejected: %s%s%s\n", tty ? "\r" : "",
                   line_numbers[static_cast<size_t>(r.index)], r.reason.c_str(),
                   r.field.empty() ? "" : " (field ",
                   r.field.empty() ? "" : (r.field + ")").c_str());
    }
    line_numbers.clear();
    return {};
  };

  std::string line;
  long long line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++summary.lines;
    auto root = ingest::ParseJsonBody(line);
    Result<model::IssueRecord> record =
        root ? normalize::DecodeRecord(*root) : Result<model::IssueRecord>(Fail(root.error()));
    batch.push_back(ingest::Decoded{static_cast<int>(batch.size()), std::move(record)});
    line_numbers.push_back(line_no);
    if (batch.size() >= batch_size) {
      if (auto s = flush(); !s) return Fail(s.error());
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_report > std::chrono::milliseconds(tty ? 100 : 2000)) {
      last_report = now;
      long long pos = in.tellg() < 0 ? total : static_cast<long long>(in.tellg());
      Progress(pos, total, summary.lines, std::chrono::duration<double>(now - start).count(), tty,
               false);
    }
  }
  if (auto s = flush(); !s) return Fail(s.error());
  Progress(total, total, summary.lines,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), tty,
           true);
  return summary;
}

}  // namespace causeloop::app
