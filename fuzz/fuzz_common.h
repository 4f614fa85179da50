#pragma once
// Shared by the libFuzzer targets: parse like the server does (nesting ≤ 64), run the entry
// point, and check properties that must hold for every accepted record.

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "core/result.h"
#include "model/issue.h"
#include "normalize/normalize.h"

namespace causeloop::fuzz {

inline constexpr size_t kMaxDepth = 64;

[[noreturn]] inline void Violation(const char* what) {
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

// Parses `data` into `parser`; nullopt when it is not JSON (or nests deeper than 64).
inline std::optional<simdjson::dom::element> Parse(simdjson::dom::parser& parser,
                                                   const uint8_t* data, size_t size) {
  if (parser.allocate(size < 64 ? 64 : size, kMaxDepth) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::element root;
  if (parser.parse(data, size).get(root) != simdjson::SUCCESS) return std::nullopt;
  return root;
}

// Every error names a field; every accepted record respects the limits, and its encoded form
// decodes again to the same identity, title, severity and status.
inline void Check(const Result<model::IssueRecord>& r) {
  if (!r) {
    if (r.error().code != ErrorCode::kValidation || r.error().details.empty()) {
      Violation("a rejection without a kValidation code and a field");
    }
    return;
  }
  if (r->title.empty() || r->external_id.empty()) Violation("empty title or external_id");
  if (r->body.size() > normalize::kMaxBodyBytes) Violation("body over 64 KiB");
  if (!model::IsKnownSource(r->source)) Violation("unknown source kept");

  std::string encoded = normalize::EncodeRecord(*r);
  simdjson::dom::parser parser;
  simdjson::dom::element again;
  if (parser.parse(encoded).get(again) != simdjson::SUCCESS)
    Violation("EncodeRecord wrote invalid JSON");
  auto round = normalize::DecodeRecord(again);
  if (!round) {
    std::fprintf(stderr, "%s\n-> %s (%s)\n", encoded.c_str(), round.error().message.c_str(),
                 round.error().details.empty() ? "" : round.error().details[0].first.c_str());
    Violation("an encoded record does not decode again");
  }
  if (round->title != r->title || round->external_id != r->external_id ||
      round->severity != r->severity || round->status != r->status || round->source != r->source ||
      round->body != r->body || round->labels != r->labels) {
    std::fprintf(stderr, "%s\n", encoded.c_str());
    Violation("the round trip changed the record");
  }
}

}  // namespace causeloop::fuzz
