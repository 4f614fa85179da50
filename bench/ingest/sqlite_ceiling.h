// The anchor for ingestion: how fast raw SQLite can durably upsert issue-shaped rows on this
// machine, in process, one thread, with the server's durability (WAL, synchronous=FULL) and
// its batch size. The server cannot beat this; its figures are read as a ratio of it.
#ifndef CAUSELOOP_BENCH_INGEST_SQLITE_CEILING_H_
#define CAUSELOOP_BENCH_INGEST_SQLITE_CEILING_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ingest/stats.h"

namespace causeloop::bench {

struct CeilingOptions {
  std::filesystem::path dir;       // where the database files go (same disk as the server's)
  int rows_per_transaction = 500;  // one COMMIT per this many upserts
  std::chrono::milliseconds warmup{2000};  // before the measured runs, discarded
  std::chrono::milliseconds run_length{10000};
  int runs = 3;
  int dedup_pool = 100000;      // keys seeded before the dedup workload
  double dedup_fraction = 0.9;  // share of dedup-workload rows that reuse a pool key
  std::uint64_t seed = 1;
};

// Per run: ok_requests = transactions, accepted_records = rows, deduplicated_records = rows
// that reused a key, latency_us = per transaction (BEGIN..COMMIT).
struct CeilingResult {
  std::vector<PhaseStats> new_keys;
  std::vector<PhaseStats> dedup;
  std::string error;  // non-empty on failure
};

CeilingResult RunSqliteCeiling(const CeilingOptions& options);

}  // namespace causeloop::bench

#endif  // CAUSELOOP_BENCH_INGEST_SQLITE_CEILING_H_
