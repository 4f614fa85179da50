#include "stream/event_stream.h"

#include <gtest/gtest.h>

#include <mutex>
#include <sstream>

namespace causeloop::stream {
namespace {

model::Event Ev(long long seq, const std::string& type = "issue.created") {
  return model::Event{
      "evt_" + std::to_string(seq),          type, FromUnixMillis(1'700'000'000'000), "ws", seq,
      R"({"n":)" + std::to_string(seq) + "}"};
}

// An in-memory event log of one workspace ("ws"), counting its reads.
class FakeLog final : public EventLog {
 public:
  Result<std::vector<model::Event>> ListEvents(const std::string& ws, long long after,
                                               int limit) override {
    ++reads;
    if (fail) return Fail(ErrorCode::kUnavailable, "database is busy");
    std::vector<model::Event> out;
    if (ws != "ws") return out;
    for (const auto& e : events) {
      if (e.sequence > after && static_cast<int>(out.size()) < limit) out.push_back(e);
    }
    return out;
  }
  Result<long long> LastSequence(const std::string& ws) override {
    if (fail) return Fail(ErrorCode::kUnavailable, "database is busy");
    return ws == "ws" && !events.empty() ? events.back().sequence : 0;
  }

  std::vector<model::Event> events;
  int reads = 0;
  bool fail = false;
};

// A committed event: in the log, then reported to the hub (as the store does).
void Commit(FakeLog& log, EventHub& hub, std::vector<model::Event> events) {
  for (const auto& e : events) log.events.push_back(e);
  hub.OnCommitted(events);
}

std::vector<model::Event> Range(long long from, long long to) {
  std::vector<model::Event> out;
  for (long long s = from; s <= to; ++s) out.push_back(Ev(s));
  return out;
}

// The "id:" values of the frames in `text`, in order.
std::vector<long long> Ids(const std::string& text) {
  std::vector<long long> ids;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("id: ", 0) == 0) ids.push_back(std::stoll(line.substr(4)));
  }
  return ids;
}

std::vector<long long> Seq(long long from, long long to) {
  std::vector<long long> out;
  for (long long s = from; s <= to; ++s) out.push_back(s);
  return out;
}

class EventStreamTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventStream> Open(std::optional<long long> after, TypeFilter types = {},
                                    int page = 500) {
    auto s = EventStream::Open(
        hub_, log_,
        EventStreamOptions{
            .workspace_id = "ws", .after = after, .types = types, .replay_page = page},
        [this](Signal sig) {
          std::lock_guard lock(mu_);
          signals_.push_back(sig);
        });
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  // Pulls until a pull appends nothing; everything sent so far.
  std::string PullAll(EventStream& s, bool* open = nullptr) {
    std::string all;
    for (int i = 0; i < 1000; ++i) {
      std::string out;
      const bool more = s.Pull(out);
      all += out;
      if (open != nullptr) *open = more;
      if (!more || (out.empty() && !s.replaying())) break;
    }
    return all;
  }
  size_t signal_count() {
    std::lock_guard lock(mu_);
    return signals_.size();
  }

  FakeLog log_;
  EventHub hub_{HubOptions{.max_buffered_events = 50, .dispatch_thread = false}};
  std::mutex mu_;
  std::vector<Signal> signals_;
};

TEST_F(EventStreamTest, WithoutLastEventIdSendsOnlyEventsCommittedAfterOpening) {
  Commit(log_, hub_, Range(1, 3));
  auto s = Open(std::nullopt);

  Commit(log_, hub_, Range(4, 5));

  EXPECT_EQ(Ids(PullAll(*s)), Seq(4, 5));
  EXPECT_EQ(log_.reads, 0) << "live-only streams never read the log";
}

TEST_F(EventStreamTest, ReplaysAfterTheLastEventIdThenGoesLive) {
  Commit(log_, hub_, Range(1, 7));
  auto s = Open(3, {}, /*page=*/2);

  std::string replayed = PullAll(*s);
  Commit(log_, hub_, Range(8, 9));
  std::string live = PullAll(*s);

  EXPECT_EQ(Ids(replayed), Seq(4, 7));
  EXPECT_EQ(Ids(live), Seq(8, 9));
  EXPECT_FALSE(s->replaying());
  EXPECT_EQ(s->cursor(), 9);
}

TEST_F(EventStreamTest, EventsCommittedDuringTheReplayAreSentOnceWithoutAGap) {
  Commit(log_, hub_, Range(1, 6));
  auto s = Open(0, {}, /*page=*/2);

  std::string sent;
  for (long long next = 7; next <= 12; ++next) {
    std::string out;
    ASSERT_TRUE(s->Pull(out));
    sent += out;
    Commit(log_, hub_, {Ev(next)});  // lands in the log *and* in the live buffer
  }
  sent += PullAll(*s);

  EXPECT_EQ(Ids(sent), Seq(1, 12));
}

TEST_F(EventStreamTest, AnEventReportedAfterSubscribingButCommittedBeforeIsNotDuplicated) {
  Commit(log_, hub_, Range(1, 2));
  log_.events.push_back(Ev(3));  // committed; the store has not reported it yet
  auto s = Open(1);

  hub_.OnCommitted({Ev(3)});  // reported after the subscription: also buffered
  Commit(log_, hub_, {Ev(4)});

  EXPECT_EQ(Ids(PullAll(*s)), Seq(2, 4));
}

TEST_F(EventStreamTest, FiltersReplayedAndLiveEventsByType) {
  Commit(log_, hub_, {Ev(1, "issue.created"), Ev(2, "pattern.detected"), Ev(3, "issue.resolved")});
  auto s = Open(0, *TypeFilter::Parse("issue.resolved,pattern.detected"));

  Commit(log_, hub_, {Ev(4, "issue.created"), Ev(5, "issue.resolved")});

  EXPECT_EQ(Ids(PullAll(*s)), (std::vector<long long>{2, 3, 5}));
}

TEST_F(EventStreamTest, AReplayPageWithNothingMatchingAsksToBePulledAgain) {
  std::vector<model::Event> many;
  for (long long seq = 1; seq <= 40; ++seq) many.push_back(Ev(seq, "issue.updated"));
  many.push_back(Ev(41, "issue.resolved"));
  Commit(log_, hub_, many);
  auto s = Open(0, *TypeFilter::Parse("issue.resolved"), /*page=*/5);

  std::string out;
  ASSERT_TRUE(s->Pull(out));

  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(s->replaying());
  EXPECT_EQ(signal_count(), 1u) << "an empty replay pull wakes its connection";
  EXPECT_EQ(log_.reads, 4) << "a bounded number of pages per pull";
  EXPECT_EQ(Ids(PullAll(*s)), (std::vector<long long>{41}));
}

TEST_F(EventStreamTest, EndsWithOverflowWhenTheClientFallsBehindTheBuffer) {
  auto s = Open(std::nullopt);

  Commit(log_, hub_, Range(1, 60));  // the buffer holds 50

  std::string out;
  EXPECT_FALSE(s->Pull(out));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(s->end_reason(), StreamEndReason::kOverflowed);
  EXPECT_EQ(hub_.Stats().subscribers, 0u) << "an ended stream unsubscribes";
}

TEST_F(EventStreamTest, AnOverflowDuringReplayEndsTheStreamAndAResumeMissesNothing) {
  Commit(log_, hub_, Range(1, 10));
  auto s = Open(0, {}, /*page=*/4);
  std::string first;
  ASSERT_TRUE(s->Pull(first));
  Commit(log_, hub_, Range(11, 70));  // while replaying: more than the buffer holds

  std::string rest = PullAll(*s);
  Commit(log_, hub_, Range(71, 72));  // while the client reconnects
  auto resumed = Open(s->cursor());
  std::string after = PullAll(*resumed);

  EXPECT_EQ(s->end_reason(), StreamEndReason::kOverflowed);
  EXPECT_EQ(Ids(first + rest + after), Seq(1, 72))
      << "the resumed stream sends exactly what the first one did not";
}

TEST_F(EventStreamTest, HubShutdownEndsTheStreamAfterWhatWasBuffered) {
  auto s = Open(std::nullopt);
  Commit(log_, hub_, Range(1, 2));

  hub_.Shutdown();

  bool open = true;
  EXPECT_EQ(Ids(PullAll(*s, &open)), Seq(1, 2));
  EXPECT_FALSE(open);
  EXPECT_EQ(s->end_reason(), StreamEndReason::kHubClosed);
}

TEST_F(EventStreamTest, RefusesALastEventIdThatWasNeverSent) {
  Commit(log_, hub_, Range(1, 3));

  auto s =
      EventStream::Open(hub_, log_, EventStreamOptions{.workspace_id = "ws", .after = 4}, nullptr);

  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kValidation);
  ASSERT_EQ(s.error().details.size(), 1u);
  EXPECT_EQ(s.error().details[0].first, "Last-Event-ID");
  EXPECT_EQ(hub_.Stats().subscribers, 0u);
}

TEST_F(EventStreamTest, AFailingLogEndsTheReplay) {
  Commit(log_, hub_, Range(1, 3));
  auto s = Open(0);
  log_.fail = true;

  std::string out;
  EXPECT_FALSE(s->Pull(out));
  EXPECT_EQ(s->end_reason(), StreamEndReason::kStoreFailed);
}

}  // namespace
}  // namespace causeloop::stream
