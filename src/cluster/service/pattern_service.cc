#include "cluster/service/pattern_service.h"

#include <chrono>
#include <cstdio>

#include "core/ids.h"
#include "core/log.h"

namespace causeloop::cluster {

struct PatternService::Workspace {
  std::mutex mu;
  bool loaded = false;
  Engine engine;
  std::unordered_map<ClusterId, std::string> cluster_pattern;  // the pattern a cluster founded
  std::unordered_map<std::string, std::string> merged_into;    // pattern -> pattern
  std::unordered_map<std::string, std::string> overrides;      // fingerprint -> pattern

  explicit Workspace(const Config& config) : engine(config) {}

  // The pattern that holds `id`'s issues now (merges are flattened, so one hop, bounded).
  [[nodiscard]] std::string Live(std::string id) const {
    if (merged_into.empty()) return id;
    for (int hops = 0; hops < 16; ++hops) {
      auto it = merged_into.find(id);
      if (it == merged_into.end()) break;
      id = it->second;
    }
    return id;
  }
};

namespace {

Signal SignalOf(const std::string& title, const std::string& body, const std::string& service,
                const std::string& source) {
  return Signal{title, body, service, source};
}

}  // namespace

std::string FingerprintHex(uint64_t fingerprint) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, fingerprint >>= 4)
    out[static_cast<size_t>(i)] = kDigits[fingerprint & 0xf];
  return out;
}

PatternService::PatternService(store::Store& store, const Clock& clock, Random& random,
                               Config config)
    : store_(store), clock_(clock), random_(random), config_(config) {}

PatternService::~PatternService() = default;

Status PatternService::Load(const std::string& ws, Workspace& w) {
  auto states = store_.LoadPatternStates(ws);
  if (!states) return Fail(states.error());
  auto overrides = store_.LoadPatternOverrides(ws);
  if (!overrides) return Fail(overrides.error());
  w.engine = Engine(config_);
  w.cluster_pattern.clear();
  w.merged_into.clear();
  w.overrides.clear();
  // Rows come ordered by cluster id, manual patterns (cluster 0) first.
  for (const auto& row : *states) {
    if (!row.merged_into.empty()) w.merged_into[row.pattern_id] = row.merged_into;
    if (row.cluster <= 0) continue;
    auto id = static_cast<ClusterId>(row.cluster);
    if (auto s = w.engine.RestoreCluster(id, row.state); !s) {
      // A state this build cannot read: the cluster is lost, its pattern and issues stay.
      log::Warn("pattern state not restored",
                {{"pattern_id", row.pattern_id}, {"error", s.error().message}});
      continue;
    }
    w.cluster_pattern[id] = row.pattern_id;
  }
  for (auto& [fp, pattern] : *overrides) w.overrides[fp] = pattern;
  w.loaded = true;
  return {};
}

Result<PatternService::Workspace*> PatternService::Acquire(const std::string& ws,
                                                           std::unique_lock<std::mutex>& lock) {
  Workspace* w = nullptr;
  {
    std::lock_guard map_lock(mu_);
    auto& slot = workspaces_[ws];
    if (!slot) slot = std::make_unique<Workspace>(config_);
    w = slot.get();
  }
  lock = std::unique_lock(w->mu);
  if (!w->loaded) {
    if (auto s = Load(ws, *w); !s) return Fail(s.error());
  }
  return w;
}

namespace {

// Prepare()'s result, with how long preparing took (reported with the assignment's time).
struct PreparedRecord final : store::PatternAssigner::Prepared {
  PreparedSignal signal;
  std::string fingerprint;  // FingerprintHex(signal.fingerprint), made off the writer
  double seconds = 0;
};

std::shared_ptr<const PreparedRecord> PrepareRecord(const model::IssueRecord& r) {
  auto started = std::chrono::steady_clock::now();
  auto p = std::make_shared<PreparedRecord>();
  p->signal = Prepare(SignalOf(r.title, r.body, r.service, r.source));
  p->fingerprint = FingerprintHex(p->signal.fingerprint);
  p->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return p;
}

}  // namespace

std::shared_ptr<const store::PatternAssigner::Prepared> PatternService::Prepare(
    const model::IssueRecord& record) {
  return PrepareRecord(record);
}

Result<store::PatternChoice> PatternService::Assign(const std::string& ws,
                                                    const model::IssueRecord& r,
                                                    const Prepared* prepared) {
  // Only this service makes Prepared objects, so the downcast is safe.
  std::shared_ptr<const PreparedRecord> own;
  const auto* p = static_cast<const PreparedRecord*>(prepared);
  if (p == nullptr) {
    own = PrepareRecord(r);
    p = own.get();
  }
  auto started = std::chrono::steady_clock::now();
  Result<store::PatternChoice> choice = AssignLocked(ws, p->signal, p->fingerprint);
  if (latency_observer_) {
    latency_observer_(
        p->seconds +
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return choice;
}

Result<store::PatternChoice> PatternService::AssignLocked(const std::string& ws,
                                                          const PreparedSignal& prepared,
                                                          const std::string& fingerprint) {
  std::unique_lock<std::mutex> lock;
  auto w = Acquire(ws, lock);
  if (!w) return Fail(w.error());
  Workspace& st = **w;
  store::PatternChoice choice;
  choice.fingerprint = fingerprint;
  if (auto it = st.overrides.empty() ? st.overrides.end() : st.overrides.find(choice.fingerprint);
      it != st.overrides.end()) {
    // A person decided where this fingerprint belongs: the engine does not learn from it.
    choice.pattern_id = st.Live(it->second);
    choice.manual = true;
    choice.score = 1;
    return choice;
  }
  Assignment a = st.engine.Assign(prepared);
  choice.cluster = a.cluster;
  choice.score = a.score;
  // Only a changed cluster is written again (the store keeps the last state it was given).
  if (a.changed) {
    choice.cluster_state = st.engine.ExportCluster(a.cluster);
    choice.template_text = st.engine.Template(a.cluster);
  }
  auto it = st.cluster_pattern.find(a.cluster);
  if (it == st.cluster_pattern.end()) {
    // A new cluster founds a new pattern; its row is written with this transaction.
    it = st.cluster_pattern.emplace(a.cluster, NewId("pat_", clock_.Now(), random_)).first;
  }
  choice.pattern_id = st.Live(it->second);
  return choice;
}

std::string PatternService::Fingerprint(const model::Issue& issue) {
  // Fingerprint depends only on the engine's configuration, not on its state.
  Engine engine(config_);
  return FingerprintHex(
      engine.Fingerprint(SignalOf(issue.title, issue.body, issue.service, issue.source)));
}

void PatternService::OnOverride(const std::string& ws, const std::string& fingerprint,
                                const std::string& pattern_id) {
  std::unique_lock<std::mutex> lock;
  auto w = Acquire(ws, lock);
  if (!w) return;  // loaded later from the store, which has the override
  (*w)->overrides[fingerprint] = pattern_id;
}

void PatternService::OnMerge(const std::string& ws, const std::string& from,
                             const std::string& into) {
  std::unique_lock<std::mutex> lock;
  auto w = Acquire(ws, lock);
  if (!w) return;
  Workspace& st = **w;
  // Keep chains flat, as the store does.
  for (auto& [pattern, target] : st.merged_into) {
    if (target == from) target = into;
  }
  st.merged_into[from] = into;
  for (auto& [fp, pattern] : st.overrides) {
    if (pattern == from) pattern = into;
  }
}

void PatternService::Reload(const std::string& ws) {
  std::unique_lock<std::mutex> lock;
  Workspace* w = nullptr;
  {
    std::lock_guard map_lock(mu_);
    auto it = workspaces_.find(ws);
    if (it == workspaces_.end()) return;
    w = it->second.get();
  }
  lock = std::unique_lock(w->mu);
  w->loaded = false;  // rebuilt from the committed rows on next use
}

Result<PatternExplanation> PatternService::Explain(const std::string& ws,
                                                   const model::Issue& issue) {
  std::unique_lock<std::mutex> lock;
  auto w = Acquire(ws, lock);
  if (!w) return Fail(w.error());
  Workspace& st = **w;
  Signal signal = SignalOf(issue.title, issue.body, issue.service, issue.source);
  PatternExplanation out;
  out.fingerprint = FingerprintHex(st.engine.Fingerprint(signal));
  if (auto it = st.overrides.find(out.fingerprint);
      it != st.overrides.end() && st.Live(it->second) == issue.pattern_id) {
    out.method = "manual";
    return out;
  }
  // The best-matching cluster among those whose patterns now hold the issue.
  bool found = false;
  for (const auto& [cluster, pattern] : st.cluster_pattern) {
    if (st.Live(pattern) != issue.pattern_id) continue;
    Explanation e = st.engine.Explain(signal, cluster);
    if (!found || e.score > out.engine.score ||
        (e.score == out.engine.score && pattern == issue.pattern_id)) {
      out.engine = std::move(e);
      out.via_pattern_id = pattern == issue.pattern_id ? "" : pattern;
      found = true;
    }
  }
  out.method = found ? "engine" : "none";
  return out;
}

}  // namespace causeloop::cluster
