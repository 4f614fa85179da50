// The durable event log through GET /v1/events (SPEC §7.1): per-workspace, gap-free,
// increasing `sequence`; `after=` resumes.

#include <set>

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

struct Event {
  int64_t sequence = -1;
  std::string id, type, workspace_id, timestamp, data;
};

// Reads every event after `after`, `limit` at a time, resuming with after=<last sequence>.
std::optional<std::vector<Event>> ReadEvents(const Http& http, int64_t after, int limit) {
  std::vector<Event> events;
  for (int pages = 0; pages < 10000; ++pages) {
    const std::string url =
        "/v1/events?after=" + std::to_string(after) + "&limit=" + std::to_string(limit);
    HttpResponse r = http.Get(url);
    Json j = Json::Parse(r.body);
    auto data = j.At("/data");
    if (r.status != 200 || !data || !data->is_array()) {
      ADD_FAILURE() << "GET " << url << " -> " << r.Describe();
      return std::nullopt;
    }
    if (data->get_array().value_unsafe().size() == 0) return events;
    if (data->get_array().value_unsafe().size() > static_cast<size_t>(limit)) {
      ADD_FAILURE() << "GET " << url << " returned more than limit";
      return std::nullopt;
    }
    for (auto e : Elements(*data)) {
      Event ev;
      ev.sequence = IntOf(e, "/sequence").value_or(-1);
      ev.id = StrOf(e, "/id").value_or("");
      ev.type = StrOf(e, "/type").value_or("");
      ev.workspace_id = StrOf(e, "/workspace_id").value_or("");
      ev.timestamp = StrOf(e, "/timestamp").value_or("");
      auto d = e.at_pointer("/data");
      ev.data = d.error() == simdjson::SUCCESS ? RawOf(d.value_unsafe()) : "";
      events.push_back(ev);
    }
    if (events.back().sequence <= after) {
      ADD_FAILURE() << "GET " << url << " did not move forward";
      return std::nullopt;
    }
    after = events.back().sequence;
  }
  ADD_FAILURE() << "the event log never ended";
  return std::nullopt;
}

// Sequences are exactly 1..n in order.
::testing::AssertionResult GapFree(const std::vector<Event>& events, int64_t first = 1) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].sequence != first + static_cast<int64_t>(i)) {
      return ::testing::AssertionFailure()
             << "event " << i << " has sequence " << events[i].sequence << ", expected "
             << first + static_cast<int64_t>(i) << " (type " << events[i].type << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

class EventsTest : public ServerTest<EventsTest> {};

TEST_F(EventsTest, NIngestsYieldIssueCreatedEventsWithGapFreeSequencesAcrossPages) {
  Credentials ws;
  Http http = FreshWorkspace(&ws);
  std::vector<std::string> ids;
  for (int i = 0; i < 13; ++i) {
    ids.push_back(IngestEvent(http, R"({"source":"jira","external_id":"ev-)" + std::to_string(i) +
                                        R"(","title":"Event log issue )" + std::to_string(i) +
                                        "\"}"));
  }

  std::optional<std::vector<Event>> events = ReadEvents(http, 0, 4);

  ASSERT_TRUE(events);
  EXPECT_TRUE(GapFree(*events));
  std::vector<std::string> created;  // issue ids in event order
  for (const Event& e : *events) {
    EXPECT_EQ(e.id.rfind("evt_", 0), 0u) << e.id;
    EXPECT_EQ(e.workspace_id, ws.workspace_id);
    EXPECT_FALSE(e.timestamp.empty());
    EXPECT_EQ(e.data.front(), '{') << e.data;
    if (e.type == "issue.created") {
      for (const auto& id : ids) {
        if (e.data.find("\"" + id + "\"") != std::string::npos) created.push_back(id);
      }
    } else {
      // Clustering may add pattern events; nothing else happened in this workspace.
      EXPECT_EQ(e.type.rfind("pattern.", 0), 0u) << "unexpected " << e.type;
    }
  }
  EXPECT_EQ(created, ids) << "one issue.created per ingest, in ingest order";
}

TEST_F(EventsTest, UpdatesAndResolutionsEmitTheirTypesInOrder) {
  Http http = FreshWorkspace();
  const std::string id =
      IngestEvent(http, R"({"source":"sentry","external_id":"ev-u","title":"first"})");
  ASSERT_FALSE(id.empty());
  IngestEvent(http, R"({"source":"sentry","external_id":"ev-u","title":"second"})");
  ASSERT_TRUE(HasStatus(http.Post("/v1/issues/" + id + "/resolve",
                                  R"({"summary":"fixed","fix":"bumped the timeout"})"),
                        200));

  std::optional<std::vector<Event>> events = ReadEvents(http, 0, 100);

  ASSERT_TRUE(events);
  EXPECT_TRUE(GapFree(*events));
  std::vector<std::string> issue_types;
  for (const Event& e : *events) {
    if (e.type.rfind("issue.", 0) == 0) {
      issue_types.push_back(e.type);
      EXPECT_NE(e.data.find("\"" + id + "\""), std::string::npos) << e.data;
    }
  }
  ASSERT_GE(issue_types.size(), 3u);
  EXPECT_EQ(issue_types.front(), "issue.created");
  EXPECT_EQ(issue_types[1], "issue.updated");
  EXPECT_EQ(issue_types.back(), "issue.resolved");
}

TEST_F(EventsTest, AfterResumesRightAfterTheGivenSequence) {
  Http http = FreshWorkspace();
  for (int i = 0; i < 6; ++i) IngestEvent(http, R"({"title":"resume )" + std::to_string(i) + "\"}");
  std::optional<std::vector<Event>> all = ReadEvents(http, 0, 100);
  ASSERT_TRUE(all);
  ASSERT_GE(all->size(), 6u);
  const int64_t middle = (*all)[all->size() / 2].sequence;

  std::optional<std::vector<Event>> rest = ReadEvents(http, middle, 100);

  ASSERT_TRUE(rest);
  ASSERT_FALSE(rest->empty());
  EXPECT_TRUE(GapFree(*rest, middle + 1));
  EXPECT_EQ(rest->back().sequence, all->back().sequence);
  EXPECT_EQ(rest->front().id, (*all)[all->size() / 2 + 1].id);
}

TEST_F(EventsTest, AfterTheLastSequenceIsEmpty) {
  Http http = FreshWorkspace();
  IngestEvent(http, R"({"title":"only"})");
  std::optional<std::vector<Event>> all = ReadEvents(http, 0, 100);
  ASSERT_TRUE(all && !all->empty());

  HttpResponse r = http.Get("/v1/events?after=" + std::to_string(all->back().sequence));

  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json::Parse(r.body).Size("/data"), 0u);
}

TEST_F(EventsTest, SequencesArePerWorkspace) {
  Http a = FreshWorkspace();
  Http b = FreshWorkspace();
  for (int i = 0; i < 3; ++i) IngestEvent(a, R"({"title":"a )" + std::to_string(i) + "\"}");
  IngestEvent(b, R"({"title":"b"})");

  std::optional<std::vector<Event>> in_b = ReadEvents(b, 0, 100);

  ASSERT_TRUE(in_b && !in_b->empty());
  EXPECT_TRUE(GapFree(*in_b)) << "workspace b starts at 1 whatever a did";
}

}  // namespace
}  // namespace causeloop::e2e
