#include "stream/event_hub.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "stream/event_types.h"
#include "stream/frame.h"

namespace causeloop::stream {
namespace {

using namespace std::chrono_literals;

model::Event Ev(const std::string& ws, long long seq, const std::string& type = "issue.created",
                std::string data = R"({"issue_id":"iss_1"})") {
  return model::Event{"evt_" + std::to_string(seq),
                      type,
                      FromUnixMillis(1'700'000'000'000),
                      ws,
                      seq,
                      std::move(data)};
}

// Records the signals a subscription got; thread-safe, waits with a deadline.
class Wakes {
 public:
  std::function<void(Signal)> Callback() {
    return [this](Signal s) {
      std::lock_guard lock(mu_);
      signals_.push_back(s);
      cv_.notify_all();
    };
  }
  std::vector<Signal> signals() {
    std::lock_guard lock(mu_);
    return signals_;
  }
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return signals_.size() >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Signal> signals_;
};

std::vector<long long> Sequences(Subscription& s, bool* open = nullptr) {
  std::vector<FramePtr> frames;
  const bool is_open = s.Drain(frames, size_t{1} << 30);
  if (open != nullptr) *open = is_open;
  std::vector<long long> out;
  for (const auto& f : frames) out.push_back(f->sequence);
  return out;
}

HubOptions Inline() { return HubOptions{.dispatch_thread = false}; }

TEST(TypeFilterTest, ParsesKnownTypesAndMatchesOnlyThem) {
  auto f = TypeFilter::Parse("issue.created, pattern.detected,");

  ASSERT_TRUE(f) << f.error().message;
  EXPECT_FALSE(f->all());
  EXPECT_TRUE(f->Matches("issue.created"));
  EXPECT_TRUE(f->Matches("pattern.detected"));
  EXPECT_FALSE(f->Matches("issue.updated"));
  EXPECT_FALSE(f->Matches("not.in.catalog"));
  EXPECT_TRUE(TypeFilter().Matches("not.in.catalog")) << "no filter matches everything";
}

TEST(TypeFilterTest, RejectsUnknownAndEmptyLists) {
  auto unknown = TypeFilter::Parse("issue.created,issue.exploded");
  auto empty = TypeFilter::Parse(" , ");

  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kValidation);
  EXPECT_NE(unknown.error().message.find("issue.exploded"), std::string::npos);
  ASSERT_EQ(unknown.error().details.size(), 1u);
  EXPECT_EQ(unknown.error().details[0].first, "types");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kValidation);
}

TEST(TypeFilterTest, KnowsTheWholeCatalog) {
  EXPECT_EQ(EventCatalog().size(), 15u);
  for (std::string_view t : EventCatalog()) {
    auto f = TypeFilter::Parse(t);
    ASSERT_TRUE(f) << t;
    EXPECT_TRUE(f->Matches(t));
  }
}

TEST(FrameTest, FormatsIdEventAndOneLineOfData) {
  model::Event e = Ev("ws_1", 42, "issue.updated", "{\n  \"issue_id\": \"iss_9\"\n}");

  std::string frame = FormatEventFrame(e);

  EXPECT_EQ(frame.rfind("id: 42\nevent: issue.updated\ndata: {", 0), 0u) << frame;
  EXPECT_EQ(frame.substr(frame.size() - 3), "}\n\n");
  EXPECT_EQ(std::count(frame.begin(), frame.end(), '\n'), 4) << "three lines and a blank";
  EXPECT_NE(frame.find(R"("sequence":42)"), std::string::npos);
  EXPECT_NE(frame.find(R"("workspace_id":"ws_1")"), std::string::npos);
  EXPECT_NE(frame.find(R"("issue_id": "iss_9")"), std::string::npos);
}

TEST(EventHubTest, DeliversEachWorkspacesEventsOnlyToItsSubscribersInOrder) {
  EventHub hub(Inline());
  Wakes wa, wb;
  auto a = hub.Subscribe("ws_a", {}, wa.Callback());
  auto b = hub.Subscribe("ws_b", {}, wb.Callback());

  hub.OnCommitted({Ev("ws_a", 1), Ev("ws_b", 1), Ev("ws_a", 2)});
  hub.OnCommitted({Ev("ws_a", 3)});

  EXPECT_EQ(Sequences(*a), (std::vector<long long>{1, 2, 3}));
  EXPECT_EQ(Sequences(*b), (std::vector<long long>{1}));
  EXPECT_EQ(hub.Stats().frames_delivered, 4u);
}

TEST(EventHubTest, WakesOnlyWhenFramesArriveIntoAnEmptyBuffer) {
  EventHub hub(Inline());
  Wakes w;
  auto s = hub.Subscribe("ws", {}, w.Callback());

  hub.OnCommitted({Ev("ws", 1)});
  hub.OnCommitted({Ev("ws", 2)});  // buffer not drained: no second wake
  EXPECT_EQ(w.signals().size(), 1u);
  EXPECT_EQ(Sequences(*s).size(), 2u);
  hub.OnCommitted({Ev("ws", 3)});

  EXPECT_EQ(w.signals(), (std::vector<Signal>{Signal::kData, Signal::kData}));
}

TEST(EventHubTest, AppliesTheTypeFilterAndDoesNotWakeForFilteredEvents) {
  EventHub hub(Inline());
  Wakes w;
  auto s = hub.Subscribe("ws", *TypeFilter::Parse("issue.resolved"), w.Callback());

  hub.OnCommitted({Ev("ws", 1, "issue.created"), Ev("ws", 2, "pattern.updated")});
  EXPECT_TRUE(w.signals().empty());
  hub.OnCommitted({Ev("ws", 3, "issue.resolved"), Ev("ws", 4, "issue.updated")});

  EXPECT_EQ(Sequences(*s), (std::vector<long long>{3}));
  EXPECT_EQ(w.signals().size(), 1u);
}

TEST(EventHubTest, OverflowsASubscriberPastTheEventCapAndLeavesOthersAlone) {
  EventHub hub(HubOptions{.max_buffered_events = 3, .dispatch_thread = false});
  Wakes slow_wakes, fast_wakes;
  auto slow = hub.Subscribe("ws", {}, slow_wakes.Callback());
  auto fast = hub.Subscribe("ws", {}, fast_wakes.Callback());

  std::vector<long long> fast_seen;
  for (long long seq = 1; seq <= 5; ++seq) {
    hub.OnCommitted({Ev("ws", seq)});
    for (long long s : Sequences(*fast)) fast_seen.push_back(s);
  }

  bool open = true;
  EXPECT_TRUE(Sequences(*slow, &open).empty()) << "an overflowed buffer is dropped";
  EXPECT_FALSE(open);
  EXPECT_TRUE(slow->overflowed());
  EXPECT_EQ(slow_wakes.signals(), (std::vector<Signal>{Signal::kData, Signal::kOverflowed}));
  EXPECT_EQ(fast_seen, (std::vector<long long>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(fast->overflowed());
  EXPECT_EQ(hub.Stats().overflows, 1u);
  hub.OnCommitted({Ev("ws", 6)});
  EXPECT_EQ(slow_wakes.signals().size(), 2u) << "nothing more reaches a closed subscriber";
}

TEST(EventHubTest, OverflowsASubscriberPastTheByteCap) {
  EventHub hub(HubOptions{.max_buffered_bytes = 2048, .dispatch_thread = false});
  Wakes w;
  auto s = hub.Subscribe("ws", {}, w.Callback());
  const std::string big = R"({"blob":")" + std::string(900, 'x') + R"("})";

  hub.OnCommitted({Ev("ws", 1, "issue.created", big)});
  EXPECT_FALSE(s->overflowed());
  hub.OnCommitted({Ev("ws", 2, "issue.created", big), Ev("ws", 3, "issue.created", big)});

  EXPECT_TRUE(s->overflowed());
  EXPECT_EQ(w.signals().back(), Signal::kOverflowed);
}

TEST(EventHubTest, DrainTakesAboutMaxBytesButAlwaysAtLeastOneFrame) {
  EventHub hub(Inline());
  auto s = hub.Subscribe("ws", {}, nullptr);
  hub.OnCommitted({Ev("ws", 1), Ev("ws", 2), Ev("ws", 3)});

  std::vector<FramePtr> first, rest;
  EXPECT_TRUE(s->Drain(first, 1));
  EXPECT_TRUE(s->Drain(rest, size_t{1} << 20));

  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]->sequence, 1);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[1]->sequence, 3);
}

TEST(EventHubTest, UnsubscribedOnDestructionAndNeverWokenAfterwards) {
  EventHub hub(Inline());
  Wakes w;
  auto s = hub.Subscribe("ws", {}, w.Callback());
  EXPECT_EQ(hub.Stats().subscribers, 1u);

  s.reset();
  hub.OnCommitted({Ev("ws", 1)});

  EXPECT_EQ(hub.Stats().subscribers, 0u);
  EXPECT_TRUE(w.signals().empty());
}

TEST(EventHubTest, ShutdownClosesSubscribersAfterTheirBufferedFramesAndRefusesNewOnes) {
  EventHub hub(Inline());
  Wakes w;
  auto s = hub.Subscribe("ws", {}, w.Callback());
  hub.OnCommitted({Ev("ws", 1)});

  hub.Shutdown();

  EXPECT_EQ(w.signals().back(), Signal::kClosed);
  bool open = true;
  EXPECT_EQ(Sequences(*s, &open), (std::vector<long long>{1}));
  EXPECT_FALSE(open);
  auto late = hub.Subscribe("ws", {}, nullptr);
  EXPECT_TRUE(Sequences(*late, &open).empty());
  EXPECT_FALSE(open);
}

TEST(EventHubTest, TheHubThreadDeliversInCommitOrder) {
  EventHub hub;  // dispatch thread
  Wakes w;
  auto s = hub.Subscribe("ws", {}, w.Callback());
  std::vector<long long> seen;

  for (long long seq = 1; seq <= 1000; ++seq) hub.OnCommitted({Ev("ws", seq)});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (seen.size() < 1000 && std::chrono::steady_clock::now() < deadline) {
    w.WaitFor(1, 100ms);
    for (long long seq : Sequences(*s)) seen.push_back(seq);
  }

  ASSERT_EQ(seen.size(), 1000u);
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], static_cast<long long>(i) + 1);
}

TEST(EventHubTest, UnderLoadTheHubThreadBatchesEventsIntoOneWakePerInterval) {
  EventHub hub(HubOptions{.min_fanout_interval = std::chrono::seconds(2)});
  Wakes w;
  auto s = hub.Subscribe("ws", {}, w.Callback());
  hub.OnCommitted({Ev("ws", 1)});
  ASSERT_TRUE(w.WaitFor(1));  // after a quiet period: at once
  ASSERT_EQ(Sequences(*s), (std::vector<long long>{1}));

  hub.OnCommitted({Ev("ws", 2)});  // within the interval: held back…
  hub.OnCommitted({Ev("ws", 3)});  // …and joined by the next one

  ASSERT_TRUE(w.WaitFor(2));
  EXPECT_EQ(Sequences(*s), (std::vector<long long>{2, 3}));
  EXPECT_EQ(w.signals().size(), 2u) << "one wake for the batch";
}

TEST(EventHubTest, AFullHubQueueOverflowsEverySubscriberInsteadOfGrowing) {
  EventHub hub(HubOptions{.max_queued_events = 2});
  Wakes w;
  auto s = hub.Subscribe("ws", {}, w.Callback());

  hub.OnCommitted({Ev("ws", 1), Ev("ws", 2), Ev("ws", 3)});

  ASSERT_TRUE(w.WaitFor(1));
  EXPECT_EQ(w.signals().back(), Signal::kOverflowed);
  EXPECT_TRUE(s->overflowed());
  EXPECT_EQ(hub.Stats().queue_drops, 1u);
}

TEST(EventHubTest, SubscribersComeAndGoWhileEventsFlow) {
  EventHub hub;
  std::atomic<bool> done{false};
  std::jthread writer([&] {
    for (long long seq = 1; !done.load(); ++seq) hub.OnCommitted({Ev("ws", seq)});
  });
  std::vector<std::jthread> churn;
  for (int t = 0; t < 4; ++t) {
    churn.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        auto s = hub.Subscribe("ws", {}, [](Signal) {});
        std::vector<FramePtr> frames;
        s->Drain(frames, 1 << 16);
        for (size_t k = 1; k < frames.size(); ++k) {
          ASSERT_GT(frames[k]->sequence, frames[k - 1]->sequence);
        }
      }
    });
  }
  churn.clear();  // joins
  done = true;
  writer.join();

  EXPECT_EQ(hub.Stats().subscribers, 0u);
}

}  // namespace
}  // namespace causeloop::stream
