#include "stream/event_stream.h"

#include <utility>

namespace causeloop::stream {

EventStream::EventStream(EventLog& log, EventStreamOptions options,
                         std::function<void(Signal)> wake)
    : log_(log), options_(std::move(options)), wake_(std::move(wake)) {}

Result<std::unique_ptr<EventStream>> EventStream::Open(EventHub& hub, EventLog& log,
                                                       EventStreamOptions options,
                                                       std::function<void(Signal)> wake) {
  if (options.replay_page < 1) return FailField("replay_page", "must be at least 1");
  if (options.after && *options.after < 0) {
    return FailField("Last-Event-ID", "Last-Event-ID must be a non-negative event sequence");
  }
  std::unique_ptr<EventStream> s(new EventStream(log, std::move(options), wake));
  // Subscribe before anything is read from the log: see the header.
  s->subscription_ = hub.Subscribe(s->options_.workspace_id, s->options_.types, std::move(wake));
  if (s->options_.after) {
    Result<long long> last = log.LastSequence(s->options_.workspace_id);
    if (!last) return Fail(last.error());
    if (*s->options_.after > *last) {
      return FailField("Last-Event-ID", "Last-Event-ID " + std::to_string(*s->options_.after) +
                                            " is after the workspace's last event (" +
                                            std::to_string(*last) + "): it was never sent");
    }
    s->replaying_ = true;
    s->cursor_ = *s->options_.after;
  }
  return s;
}

bool EventStream::Pull(std::string& out) {
  if (end_ != StreamEndReason::kNone) return false;
  if (replaying_) {
    // A few pages at most per call, so a filter that matches little cannot turn one call
    // into a scan of the whole log.
    constexpr int kMaxPagesPerPull = 4;
    for (int pages = 0; pages < kMaxPagesPerPull && replaying_ && out.empty(); ++pages) {
      auto page = log_.ListEvents(options_.workspace_id, cursor_, options_.replay_page);
      if (!page) {
        end_ = StreamEndReason::kStoreFailed;
        subscription_.reset();
        return false;
      }
      for (const model::Event& e : *page) {
        cursor_ = e.sequence;
        if (options_.types.Matches(e.type)) AppendEventFrame(out, e);
      }
      if (page->size() < static_cast<size_t>(options_.replay_page)) replaying_ = false;
    }
    if (replaying_) {
      // Nothing matched in these pages: ask to be called again rather than wait for a live
      // event that may never come.
      if (out.empty() && wake_) wake_(Signal::kData);
      return true;
    }
  }
  // Live: what the hub buffered, minus what the replay already sent.
  scratch_.clear();
  const bool open = subscription_->Drain(scratch_, options_.max_pull_bytes);
  for (const FramePtr& f : scratch_) {
    if (f->sequence <= cursor_) continue;
    cursor_ = f->sequence;
    out += f->text;
  }
  scratch_.clear();
  if (!open) {
    end_ = subscription_->overflowed() ? StreamEndReason::kOverflowed : StreamEndReason::kHubClosed;
    subscription_.reset();
    return false;
  }
  return true;
}

}  // namespace causeloop::stream
