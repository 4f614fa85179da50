#pragma once

#include <string_view>

namespace causeloop {

// Names the calling thread, as `top -H`, `ps -L`, perf and gdb show it. Linux keeps at most
// 15 bytes; longer names are cut. Best effort: a failure changes nothing else.
void NameThisThread(std::string_view name);

}  // namespace causeloop
