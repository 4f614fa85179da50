// Clustering engine throughput on real log lines: every Content of the 16 Loghub-2k systems
// (32,000 messages, in file order, system after system). BM_Assign builds a fresh Engine per
// pass, so each iteration pays for creating all clusters, as a new workspace would.
//
//   build/bench/cluster/bench_cluster --benchmark_min_time=1
//   CAUSELOOP_LOGHUB_DIR=/path/to/loghub2k build/bench/cluster/bench_cluster

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cluster/engine.h"
#include "cluster/eval/dataset.h"
#include "ingest/records.h"

namespace causeloop::cluster {
namespace {

struct Corpus {
  std::vector<eval::Record> records;
  std::string error;  // why the data could not be loaded
};

Corpus Load() {
  Corpus c;
  const char* env = std::getenv("CAUSELOOP_LOGHUB_DIR");
  std::string dir = env != nullptr && *env != '\0' ? env : CAUSELOOP_SHARED_DIR "/data/loghub2k";
  auto loaded = eval::LoadDatasets(dir, eval::LabelVariant::kOriginal);
  if (!loaded) {
    c.error = loaded.error().message;
    return c;
  }
  for (auto& d : loaded->datasets) {
    for (auto& r : d.records) c.records.push_back(std::move(r));
  }
  return c;
}

const Corpus& LoadCorpus() {
  static const Corpus corpus = Load();
  return corpus;
}

// Views into LoadCorpus().records, built once it no longer moves.
const std::vector<Signal>& Signals() {
  static const std::vector<Signal> signals = [] {
    std::vector<Signal> out;
    for (const auto& r : LoadCorpus().records) {
      out.push_back(
          Signal{.title = r.title, .body = r.body, .service = r.service, .source = r.source});
    }
    return out;
  }();
  return signals;
}

// The messages, or nullptr (and the benchmark marked as failed) when the data is missing.
const std::vector<Signal>* Messages(benchmark::State& state) {
  const Corpus& corpus = LoadCorpus();
  if (!corpus.error.empty()) {
    state.SkipWithError(corpus.error.c_str());
    return nullptr;
  }
  return &Signals();
}

void BM_Assign(benchmark::State& state) {
  const auto* messages = Messages(state);
  if (messages == nullptr) return;
  size_t clusters = 0;
  for (auto _ : state) {
    Engine engine;
    for (const Signal& s : *messages) benchmark::DoNotOptimize(engine.Assign(s));
    clusters = engine.cluster_count();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(messages->size()));
  state.counters["messages"] = static_cast<double>(messages->size());
  state.counters["clusters"] = static_cast<double>(clusters);
}
BENCHMARK(BM_Assign)->Unit(benchmark::kMillisecond);

// A workspace that already holds N patterns (distinct five-word titles): the cost of assigning
// one more message, new or recurring. Stage 1 must not scan every template of the message's
// length, so the time per message should barely move from 1k to 50k patterns.
void BM_AssignAmongPatterns(benchmark::State& state) {
  const auto patterns = static_cast<size_t>(state.range(0));
  uint64_t seed = 1;
  auto word = [&seed] {
    std::string w;
    for (int i = 0; i < 7; ++i) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      w.push_back(static_cast<char>('a' + (seed >> 33) % 26));
    }
    return w;
  };
  auto title = [&word] {
    return word() + " " + word() + " " + word() + " " + word() + " " + word();
  };
  Engine engine;
  std::vector<std::string> seen;
  for (size_t i = 0; i < patterns; ++i) {
    seen.push_back(title());
    engine.Assign(Signal{seen.back(), {}, {}, {}});
  }
  // Half recurring titles (a variable last word), half new ones.
  std::vector<std::string> probes;
  for (size_t i = 0; i < 4096; ++i) {
    const std::string& base = seen[(i * 7919) % seen.size()];
    probes.push_back(i % 2 == 0 ? base.substr(0, base.rfind(' ')) + " v" + std::to_string(i)
                                : title());
  }
  size_t next = 0;
  for (auto _ : state) {
    const std::string& p = probes[next++ % probes.size()];
    benchmark::DoNotOptimize(engine.Assign(Signal{p, {}, {}, {}}));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["patterns"] = static_cast<double>(engine.cluster_count());
}
BENCHMARK(BM_AssignAmongPatterns)->Arg(1000)->Arg(10000)->Arg(50000)->Unit(benchmark::kMicrosecond);

void BM_Mask(benchmark::State& state) {
  const auto* messages = Messages(state);
  if (messages == nullptr) return;
  for (auto _ : state) {
    for (const Signal& s : *messages) benchmark::DoNotOptimize(Mask(s.title));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(messages->size()));
}
BENCHMARK(BM_Mask)->Unit(benchmark::kMillisecond);

void BM_Fingerprint(benchmark::State& state) {
  const auto* messages = Messages(state);
  if (messages == nullptr) return;
  const Engine engine;
  for (auto _ : state) {
    for (const Signal& s : *messages) benchmark::DoNotOptimize(engine.Fingerprint(s));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(messages->size()));
}
BENCHMARK(BM_Fingerprint)->Unit(benchmark::kMillisecond);

// Prepare() (mask the title, extract the error signature from the body, fingerprint) on the
// records bench_ingest sends (titles of ~40 bytes, bodies of 175-315, mean 231): what the
// ingest path pays per record on its HTTP threads before the writer assigns it.
void BM_PrepareIngestRecord(benchmark::State& state) {
  bench::RecordFactory factory(42);
  std::vector<bench::RecordFields> records;
  for (int i = 0; i < 4096; ++i) records.push_back(factory.MakeFields());
  size_t bytes = 0;
  for (const auto& r : records) bytes += r.title.size() + r.body.size();
  size_t next = 0;
  for (auto _ : state) {
    const bench::RecordFields& r = records[next++ % records.size()];
    benchmark::DoNotOptimize(
        Prepare(Signal{.title = r.title, .body = r.body, .service = r.service, .source = "api"}));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_record"] = static_cast<double>(bytes) / records.size();
}
BENCHMARK(BM_PrepareIngestRecord)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace causeloop::cluster

BENCHMARK_MAIN();
