#pragma once
// The clustering engine wired to the store: one Engine per workspace, rebuilt from the
// persisted per-cluster states on first use, plus the manual corrections (fingerprint
// overrides from link/unlink, pattern merges) that take precedence over the engine.
//
// Thread-safe. The store calls Assign/On*/Reload on its writer thread inside the
// transaction (so assignments follow commit order); API threads call Explain.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/engine.h"
#include "core/clock.h"
#include "core/random.h"
#include "store/store.h"

namespace causeloop::cluster {

// Why an issue is in its pattern (GET /v1/issues/{id}/pattern-explanation).
struct PatternExplanation {
  // "manual": a person linked the issue's fingerprint to the pattern; "engine": the engine
  // assigned it (to a cluster of this pattern, or of a pattern merged into it); "none": no
  // cluster of the pattern explains it (e.g. created before clustering ran).
  std::string method;
  std::string fingerprint;
  std::string via_pattern_id;  // the merged-away pattern whose cluster matched, if any
  Explanation engine;
};

std::string FingerprintHex(uint64_t fingerprint);

class PatternService final : public store::PatternAssigner {
 public:
  PatternService(store::Store& store, const Clock& clock, Random& random, Config config = {});
  ~PatternService() override;

  std::shared_ptr<const Prepared> Prepare(const model::IssueRecord& record) override;
  Result<store::PatternChoice> Assign(const std::string& workspace_id,
                                      const model::IssueRecord& record,
                                      const Prepared* prepared) override;
  std::string Fingerprint(const model::Issue& issue) override;
  void OnOverride(const std::string& workspace_id, const std::string& fingerprint,
                  const std::string& pattern_id) override;
  void OnMerge(const std::string& workspace_id, const std::string& from,
               const std::string& into) override;
  void Reload(const std::string& workspace_id) override;

  Result<PatternExplanation> Explain(const std::string& workspace_id, const model::Issue& issue);

  // Called with the duration of every assignment in seconds: preparing the record (on the
  // ingest caller's thread) plus Assign on the writer (lock wait, first-use load and engine
  // included). Set before the first Assign.
  void SetLatencyObserver(std::function<void(double)> observer) {
    latency_observer_ = std::move(observer);
  }

 private:
  struct Workspace;
  // The workspace's state, loaded from the store when needed; its mutex is held on return.
  Result<Workspace*> Acquire(const std::string& workspace_id, std::unique_lock<std::mutex>& lock);
  Status Load(const std::string& workspace_id, Workspace& w);
  // `fingerprint` is FingerprintHex(prepared.fingerprint).
  Result<store::PatternChoice> AssignLocked(const std::string& workspace_id,
                                            const PreparedSignal& prepared,
                                            const std::string& fingerprint);

  store::Store& store_;
  const Clock& clock_;
  Random& random_;
  const Config config_;
  std::mutex mu_;  // guards workspaces_ (the map, not the entries)
  std::unordered_map<std::string, std::unique_ptr<Workspace>> workspaces_;
  std::function<void(double)> latency_observer_;
};

}  // namespace causeloop::cluster
