// libFuzzer target for normalize::NormalizeNative(CAUSELOOP_FUZZ_SOURCE, …); built once per
// native source. Also runs each element of an array or of a webhook's "alerts" list.

#include "fuzz/fuzz_common.h"

#ifndef CAUSELOOP_FUZZ_SOURCE
#error "define CAUSELOOP_FUZZ_SOURCE to the native source name"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeloop;
  simdjson::dom::parser parser;
  auto root = fuzz::Parse(parser, data, size);
  if (!root) return 0;
  fuzz::Check(normalize::NormalizeNative(CAUSELOOP_FUZZ_SOURCE, *root));
  simdjson::dom::array items;
  if (root->get_array().get(items) == simdjson::SUCCESS ||
      root->at_key("alerts").get_array().get(items) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : items) {
      fuzz::Check(normalize::NormalizeNative(CAUSELOOP_FUZZ_SOURCE, item));
    }
  }
  return 0;
}
