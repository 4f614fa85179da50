#pragma once
// The Server-Sent Events wire form of an event (SPEC §7.3).

#include <memory>
#include <string>

#include "model/event.h"

namespace causeloop::stream {

// One event as an SSE frame, encoded once and shared (immutable) by every subscriber.
struct Frame {
  long long sequence = 0;
  int type_index = -1;  // EventTypeIndex(type)
  std::string text;     // the complete frame, FormatEventFrame()
};
using FramePtr = std::shared_ptr<const Frame>;

// "id: <sequence>\nevent: <type>\ndata: <model::EncodeEvent(event)>\n\n". The JSON is one
// line: line breaks outside strings (the only place valid JSON has them) become spaces.
std::string FormatEventFrame(const model::Event& event);
void AppendEventFrame(std::string& out, const model::Event& event);

FramePtr MakeFrame(const model::Event& event);

// The stream's keep-alive comment and the reconnection hint sent first.
inline constexpr std::string_view kPingFrame = ": ping\n\n";
std::string RetryFrame(long long retry_millis);

}  // namespace causeloop::stream
