#include "stream/frame.h"

#include <algorithm>

#include "stream/event_types.h"

namespace causeloop::stream {

void AppendEventFrame(std::string& out, const model::Event& event) {
  std::string json = model::EncodeEvent(event);
  // data_json is stored as given by the writer; a pretty-printed object would break the frame
  // into several data lines, which clients would join with '\n' (valid, but not one line).
  std::replace_if(
      json.begin(), json.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  out.reserve(out.size() + json.size() + event.type.size() + 40);
  out += "id: ";
  out += std::to_string(event.sequence);
  out += "\nevent: ";
  out += event.type;
  out += "\ndata: ";
  out += json;
  out += "\n\n";
}

std::string FormatEventFrame(const model::Event& event) {
  std::string out;
  AppendEventFrame(out, event);
  return out;
}

FramePtr MakeFrame(const model::Event& event) {
  auto frame = std::make_shared<Frame>();
  frame->sequence = event.sequence;
  frame->type_index = EventTypeIndex(event.type);
  frame->text = FormatEventFrame(event);
  return frame;
}

std::string RetryFrame(long long retry_millis) {
  return "retry: " + std::to_string(retry_millis) + "\n\n";
}

}  // namespace causeloop::stream
