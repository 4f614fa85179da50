#include "ingest/json_input.h"

#include <string>

namespace causeloop::ingest {

Result<simdjson::dom::element> ParseJsonBody(std::string_view body) {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    // Capacity grows on demand; the depth limit is what matters here.
    if (p.allocate(size_t{64} * 1024, kMaxJsonDepth) != simdjson::SUCCESS) {
      // Out of memory at start-up: parse() will retry the allocation and report it.
    }
    return p;
  }();
  if (body.empty()) return FailField("body", "the request body is empty; expected JSON");
  simdjson::dom::element root;
  auto err = parser.parse(body.data(), body.size()).get(root);
  if (err == simdjson::DEPTH_ERROR) {
    return FailField("body", "JSON nesting deeper than " + std::to_string(kMaxJsonDepth));
  }
  if (err != simdjson::SUCCESS) {
    return FailField("body", std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  return root;
}

}  // namespace causeloop::ingest
