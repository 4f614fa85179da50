// Pre-serialized ingest requests whose dedup keys are patched in place, so the load generator
// spends almost no CPU building requests: a request is one memcpy of a template plus a few
// dozen digit writes per record.
#ifndef CAUSELOOP_BENCH_INGEST_RECORDS_H_
#define CAUSELOOP_BENCH_INGEST_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace causeloop::bench {

// The dedup key of a record is (source, external_id); both are derived from one integer so a
// key can be re-sent exactly: source = kSources[key % n], external_id = "<prefix>-<12 digits>".
inline constexpr int kKeyDigits = 12;

// Where one record's key lives inside a serialized request.
struct KeySlot {
  std::size_t source_offset = 0;  // first byte of the padded, quoted source value
  std::size_t id_offset = 0;      // first of kKeyDigits digits of external_id
};

// A complete HTTP/1.1 request (head + body) with the positions of its record keys.
struct RequestTemplate {
  std::string bytes;
  std::vector<KeySlot> slots;
};

// The content of one record, before serialization.
struct RecordFields {
  std::string title;
  std::string body;
  std::string severity;
  std::string service;
  std::string labels_json;  // a JSON object of string labels
};

// Builds realistic, varied records (titles of ~40 bytes, bodies of 175-315, several sources,
// services, severities and labels) from a seeded generator: the same seed gives the same requests.
class RecordFactory {
 public:
  explicit RecordFactory(std::uint64_t seed) : rng_(seed) {}

  RecordFields MakeFields();

  // One serialized record object. The key is written as all zeros; patch it with WriteKey.
  // `source_offset`/`id_offset` are relative to the start of the returned string.
  std::string MakeRecord(std::string_view key_prefix, KeySlot& slot);

 private:
  std::mt19937_64 rng_;
};

// Builds a POST request around `body` for `target` with the given host and token.
std::string MakeHttpPost(std::string_view target, std::string_view host, std::string_view token,
                         std::string_view body);

// `count` single-event request templates for POST /v1/ingest/events.
std::vector<RequestTemplate> MakeSingleTemplates(RecordFactory& factory, int count,
                                                 std::string_view key_prefix, std::string_view host,
                                                 std::string_view token);

// `count` batch templates for POST /v1/ingest/batch with `records_per_batch` records each.
std::vector<RequestTemplate> MakeBatchTemplates(RecordFactory& factory, int count,
                                                int records_per_batch, std::string_view key_prefix,
                                                std::string_view host, std::string_view token);

// Writes the source and external_id for `key` into `bytes` at `slot`.
void WriteKey(std::string& bytes, const KeySlot& slot, std::uint64_t key);

// The source a key is sent with.
std::string_view SourceForKey(std::uint64_t key);

}  // namespace causeloop::bench

#endif  // CAUSELOOP_BENCH_INGEST_RECORDS_H_
