// Store-level ingest throughput without HTTP: how many records/s the SQLite backend
// commits through its group-commit writer, for new keys and for 90 % dedup. Helps to tell
// the store's cost from the server's.
//
//   build/bench/bench_store [--records N] [--batch N] [--inflight N] [--dir DIR]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "core/ids.h"
#include "store/sqlite/sqlite_store.h"

using namespace causeloop;

int main(int argc, char** argv) {
  long records = 200000;
  int batch = 500;
  int inflight = 8;
  std::string dir = "/tmp/causeloop-bench-store";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--records") records = std::atol(argv[i + 1]);
    if (a == "--batch") batch = std::atoi(argv[i + 1]);
    if (a == "--inflight") inflight = std::atoi(argv[i + 1]);
    if (a == "--dir") dir = argv[i + 1];
  }
  RealClock clock;
  FastRandom random;
  for (double dedup : {0.0, 0.9}) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto store = store::OpenSqliteStore(dir + "/db", {}, clock, random);
    if (!store) return 1;
    model::Organization org{NewId("org_", clock.Now(), random), "o", clock.Now()};
    model::Workspace ws{NewId("ws_", clock.Now(), random), org.id, "w", clock.Now()};
    (void)(*store)->CreateOrganization(org, ws);
    std::mt19937_64 rng(7);
    long next_key = 0;
    auto make = [&](bool reuse) {
      model::IssueRecord r;
      r.source = "datadog";
      long k = reuse && next_key > 0 ? static_cast<long>(rng() % next_key) : next_key++;
      r.external_id = "key-" + std::to_string(k);
      // Re-sent alerts usually carry new numbers, so the text (and its index) changes.
      r.title = "Disk full on db-" + std::to_string(k % 97) + " volume /var/lib/postgres at " +
                std::to_string(90 + rng() % 10) + "%";
      r.body = "The volume is at 100% and writes fail with ENOSPC on host db-" +
               std::to_string(k % 97) + ".prod; last checkpoint took 12.5 s";
      r.service = "db";
      r.labels = {{"env", "prod"}, {"team", "storage"}};
      return r;
    };
    if (dedup > 0) {  // seed keys first
      for (long i = 0; i < records / 5; i += batch) {
        std::vector<model::IssueRecord> recs;
        for (int j = 0; j < batch; ++j) recs.push_back(make(false));
        std::promise<void> p;
        (*store)->Ingest(ws.id, recs,
                         store::IngestJob{NewId("ing_job_", clock.Now(), random),
                                          ws.id,
                                          "completed",
                                          batch,
                                          0,
                                          clock.Now(),
                                          {}},
                         [&](auto) { p.set_value(); });
        p.get_future().get();
      }
    }
    std::bernoulli_distribution reuse(dedup);
    auto start = std::chrono::steady_clock::now();
    std::vector<std::future<void>> pending;
    std::vector<std::shared_ptr<std::promise<void>>> promises;
    long sent = 0;
    while (sent < records) {
      std::vector<model::IssueRecord> recs;
      for (int j = 0; j < batch; ++j) recs.push_back(make(reuse(rng)));
      sent += batch;
      auto p = std::make_shared<std::promise<void>>();
      pending.push_back(p->get_future());
      (*store)->Ingest(ws.id, std::move(recs),
                       store::IngestJob{NewId("ing_job_", clock.Now(), random),
                                        ws.id,
                                        "completed",
                                        batch,
                                        0,
                                        clock.Now(),
                                        {}},
                       [p](auto r) {
                         if (!r) std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
                         p->set_value();
                       });
      if (static_cast<int>(pending.size()) >= inflight) {
        pending.front().get();
        pending.erase(pending.begin());
      }
    }
    for (auto& f : pending) f.get();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto stats = (*store)->Stats();
    std::printf(
        "store ingest dedup=%.0f%%  batch=%d  %ld records in %.2f s = %.0f records/s  (%lld "
        "transactions)\n",
        dedup * 100, batch, records, secs, records / secs, stats.transactions);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
