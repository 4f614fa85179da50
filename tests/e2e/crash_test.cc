// Crash safety (SPEC §1: "a 2xx that is later lost is the worst bug this product can have"):
// 8 threads ingest singles and small batches; the server is kill -9'd while requests are in
// flight, restarted on the same data dir, and every acknowledged record must be there,
// complete, with a gap-free event log, and found by search. Three cycles on the same store.

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

constexpr int kThreads = 8;
constexpr int kCycles = 3;

std::string TitleFor(const std::string& ext) {
  return "Crash probe " + ext + " — connection reset";
}

// ~2.5 KiB, different for every record, so a torn write shows.
std::string BodyFor(const std::string& ext) {
  std::string body;
  for (int i = 0; i < 40; ++i) {
    body += "line " + std::to_string(i) + " of " + ext + ": upstream 10.0.0." + std::to_string(i) +
            " refused the connection after 30s\n";
  }
  return body;
}

std::string RecordJson(const std::string& ext) {
  return R"({"source":"datadog","external_id":")" + ext + R"(","title":)" + Quote(TitleFor(ext)) +
         R"(,"body":)" + Quote(BodyFor(ext)) + R"(,"severity":"high","service":"crash"})";
}

struct Load {
  std::mutex mu;
  std::map<std::string, std::string> acked;  // external_id -> issue_id (guarded by mu)
  std::atomic<int> in_flight{0};
  std::atomic<int> acks{0};
  std::atomic<int> unexpected{0};  // 2xx with a body that does not match the request
  std::string first_unexpected;    // guarded by mu
};

void Ingest(const Http& http, int cycle, int thread, Load& load, const std::stop_token& stop) {
  for (int n = 0; !stop.stop_requested(); ++n) {
    const std::string prefix = "crash-c" + std::to_string(cycle) + "-t" + std::to_string(thread) +
                               "-n" + std::to_string(n);
    std::vector<std::string> exts;
    std::string path, body;
    if (n % 3 == 2) {  // a small batch
      const int size = 2 + (n / 3) % 3;
      path = "/v1/ingest/batch";
      body = R"({"records":[)";
      for (int i = 0; i < size; ++i) {
        exts.push_back(prefix + "-b" + std::to_string(i));
        body += (i ? "," : "") + RecordJson(exts.back());
      }
      body += "]}";
    } else {
      path = "/v1/ingest/events";
      exts.push_back(prefix);
      body = RecordJson(prefix);
    }
    ++load.in_flight;
    HttpResponse r = http.Request("POST", path, body, {}, {.timeout = 15s});
    --load.in_flight;
    if (r.status < 200 || r.status >= 300) continue;  // not acknowledged: no promise made
    Json j = Json::Parse(r.body);
    std::vector<std::string> ids;
    if (exts.size() == 1) {
      ids.push_back(j.Str("/issue_id").value_or(""));
    } else {
      for (size_t i = 0; i < exts.size(); ++i) {
        const std::string p = "/results/" + std::to_string(i);
        ids.push_back(j.Int(p + "/index") == static_cast<int64_t>(i)
                          ? j.Str(p + "/issue_id").value_or("")
                          : "");
      }
    }
    std::lock_guard lock(load.mu);
    for (size_t i = 0; i < exts.size(); ++i) {
      if (ids[i].empty()) {
        if (load.unexpected++ == 0) load.first_unexpected = path + " -> " + r.Describe();
        continue;
      }
      load.acked[exts[i]] = ids[i];
    }
    ++load.acks;
  }
}

struct Stored {
  std::string id, title, body;
};

TEST(CrashSafetyTest, EveryAcknowledgedRecordSurvivesKill9MidStreamInThreeCycles) {
  ServerProcess server;
  std::optional<Credentials> c = server.Bootstrap();
  ASSERT_TRUE(c);
  ASSERT_TRUE(server.Start());
  std::map<std::string, std::string> all_acked;  // across cycles

  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    const Http http(server.BaseUrl(), c->token);
    Load load;
    const auto start = Clock::now();
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t](std::stop_token stop) { Ingest(http, cycle, t, load, stop); });
      }
      // Let the load run ~1.5 s, then kill while requests are in flight.
      const bool mid_stream = PollUntil(
          [&] {
            return Clock::now() - start >= 1500ms && load.acks.load() >= 20 &&
                   load.in_flight.load() >= 3;
          },
          20s, 1ms);
      const int in_flight_at_kill = load.in_flight.load();
      server.Kill9();
      EXPECT_TRUE(mid_stream) << "acks " << load.acks.load() << ", in flight " << in_flight_at_kill
                              << ": the load never got going";
      for (auto& t : threads) t.request_stop();
    }  // joins
    EXPECT_EQ(load.unexpected.load(), 0) << load.first_unexpected;
    all_acked.insert(load.acked.begin(), load.acked.end());
    ASSERT_GT(load.acked.size(), 0u) << server.LogTail();

    ASSERT_TRUE(server.Restart());
    const Http after(server.BaseUrl(), c->token);

    // Everything stored, by external id, must be complete.
    std::optional<std::vector<std::string>> items = ListAll(after, "/v1/issues?source=datadog");
    ASSERT_TRUE(items);
    std::map<std::string, Stored> stored;
    for (const std::string& raw : *items) {
      Json j = Json::Parse(raw);
      const std::string ext = j.Str("/external_id").value_or("");
      if (ext.rfind("crash-", 0) != 0) continue;
      Stored s{j.Str("/id").value_or(""), j.Str("/title").value_or(""),
               j.Str("/body").value_or("")};
      if (!j.Has("/body")) {  // a list without bodies: read the issue itself
        s.body = Json::Parse(after.Get("/v1/issues/" + s.id).body).Str("/body").value_or("");
      }
      EXPECT_EQ(stored.count(ext), 0u) << ext << " is stored twice";
      stored[ext] = s;
    }
    int partial = 0;
    for (const auto& [ext, s] : stored) {
      if (s.title != TitleFor(ext) || s.body != BodyFor(ext)) {
        if (++partial <= 5)
          ADD_FAILURE() << "partial record " << ext << ": title '" << s.title << "', body of "
                        << s.body.size() << " bytes";
      }
    }
    EXPECT_EQ(partial, 0);
    int lost = 0;
    for (const auto& [ext, issue_id] : all_acked) {
      auto it = stored.find(ext);
      if (it == stored.end()) {
        HttpResponse direct = after.Get("/v1/issues/" + issue_id);
        if (++lost <= 5) {
          ADD_FAILURE() << "acknowledged " << ext << " (" << issue_id
                        << ") is missing after kill -9; GET by id -> " << direct.status;
        }
      } else {
        EXPECT_EQ(it->second.id, issue_id) << ext;
      }
    }
    EXPECT_EQ(lost, 0) << "of " << all_acked.size() << " acknowledged records";

    // The event log is gap-free and holds an issue.created for every acknowledged issue.
    std::set<std::string> created_ids;
    int64_t expected_sequence = 1;
    bool gap_reported = false;
    for (int64_t after_seq = 0;;) {
      HttpResponse r = after.Get("/v1/events?after=" + std::to_string(after_seq) + "&limit=100");
      Json j = Json::Parse(r.body);
      auto data = j.At("/data");
      ASSERT_TRUE(r.status == 200 && data && data->is_array()) << r.Describe();
      if (data->get_array().value_unsafe().size() == 0) break;
      for (auto e : Elements(*data)) {
        const int64_t seq = IntOf(e, "/sequence").value_or(-1);
        if (seq != expected_sequence && !gap_reported) {
          ADD_FAILURE() << "event sequence " << seq << " where " << expected_sequence
                        << " was expected";
          gap_reported = true;
        }
        expected_sequence = seq + 1;
        after_seq = seq;
        if (StrOf(e, "/type") == "issue.created") {
          auto d = e.at_pointer("/data");
          const std::string data_json =
              d.error() == simdjson::SUCCESS ? RawOf(d.value_unsafe()) : "";
          for (size_t at = data_json.find("\"iss_"); at != std::string::npos;
               at = data_json.find("\"iss_", at + 1)) {
            created_ids.insert(data_json.substr(at + 1, data_json.find('"', at + 1) - at - 1));
          }
        }
      }
    }
    int missing_events = 0;
    for (const auto& [ext, issue_id] : all_acked) {
      if (!created_ids.count(issue_id) && ++missing_events <= 5) {
        ADD_FAILURE() << "no issue.created event for acknowledged " << ext << " (" << issue_id
                      << ")";
      }
    }
    EXPECT_EQ(missing_events, 0);

    // Pattern counters of a busy pattern may wait in memory (bench figures, PatternBatch);
    // after kill -9 they are recounted, so every pattern counts exactly its issues.
    std::optional<std::vector<std::string>> patterns = ListAll(after, "/v1/patterns");
    ASSERT_TRUE(patterns);
    EXPECT_FALSE(patterns->empty());
    for (const std::string& raw : *patterns) {
      Json p = Json::Parse(raw);
      const std::string id = p.Str("/id").value_or("");
      if (!p.Str("/merged_into").value_or("").empty()) continue;
      HttpResponse r = after.Get("/v1/issues?pattern_id=" + id + "&limit=1");
      ASSERT_EQ(r.status, 200) << r.Describe();
      EXPECT_EQ(p.Int("/issue_count"), Json::Parse(r.body).Int("/page/total")) << id;
    }
    // The search index holds every stored issue of this cycle: changes that were still in
    // the indexer's memory at the kill are read back from the database after the restart.
    const std::string token = "c" + std::to_string(cycle);
    int64_t of_cycle = 0;
    for (const auto& [ext, s] : stored) of_cycle += ext.rfind("crash-" + token + "-", 0) == 0;
    HttpResponse found = after.Get("/v1/issues?q=" + token + "&limit=1");
    ASSERT_EQ(found.status, 200) << found.Describe();
    EXPECT_EQ(Json::Parse(found.body).Int("/page/total").value_or(-1), of_cycle)
        << "issues of cycle " << cycle << " found by search";
    std::cerr << "[crash cycle " << cycle << "] acknowledged " << load.acked.size()
              << " records this cycle, " << all_acked.size() << " in total; " << stored.size()
              << " crash records stored; events up to " << expected_sequence - 1 << "\n";
  }
  EXPECT_TRUE(server.Terminate());
}

}  // namespace
}  // namespace causeloop::e2e
