// libFuzzer target for normalize::DecodeRecord: one record, or each record of a
// {"records": [...]} batch as POST /v1/ingest/batch receives them.

#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeloop;
  simdjson::dom::parser parser;
  auto root = fuzz::Parse(parser, data, size);
  if (!root) return 0;
  fuzz::Check(normalize::DecodeRecord(*root));
  simdjson::dom::array records;
  if (root->at_key("records").get_array().get(records) == simdjson::SUCCESS) {
    for (simdjson::dom::element record : records) fuzz::Check(normalize::DecodeRecord(record));
  }
  return 0;
}
