#pragma once
// The pattern clustering engine (SPEC §10): online, incremental, deterministic for a given
// input order. One Engine holds one workspace's clusters.
//
// Pure: no IO, no clock, no locks. Callers serialize access to one Engine (Assign mutates it);
// separate Engines are independent and may be used from different threads.
//
// Persistence: the engine's whole state is the sequence of its clusters' states. Exporting
// every cluster and restoring them, in ascending id order, into a fresh Engine built with the
// same Config gives an Engine whose later Assign() results are identical to the original's.
// Restoring a subset (ids with gaps, e.g. a cluster whose first write never committed) is
// allowed: the engine then behaves as if the missing clusters had never been created, except
// that new ids continue after the largest restored one.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/mask.h"
#include "core/result.h"

namespace causeloop::cluster {

// One signal to cluster. Views must stay valid for the duration of the call only.
struct Signal {
  std::string_view title;    // or the whole log line
  std::string_view body;     // may be empty (stack traces, descriptions, alert text)
  std::string_view service;  // may be empty
  std::string_view source;   // may be empty ("jira", "datadog", "custom_api", …)
};

// Dense, 1-based, assigned in creation order within one Engine.
using ClusterId = uint32_t;

struct Assignment {
  ClusterId cluster = 0;
  bool created = false;      // a new cluster was created for this signal
  double score = 0;          // similarity to the cluster chosen (1 when created), 0..1
  uint64_t fingerprint = 0;  // Fingerprint(signal)
  bool changed = false;      // the cluster's state changed: persist ExportCluster(cluster)
};

// Why a signal belongs (or would belong) to a cluster.
struct Explanation {
  std::string template_text;                  // the cluster's template, "<*>" for variables
  double score = 0;                           // similarity of the signal to that template, 0..1
  std::vector<std::string> matched_tokens;    // the signal's tokens equal to the template's
  std::vector<std::string> variable_tokens;   // the signal's tokens in "<*>" positions
  std::vector<std::string> differing_tokens;  // tokens that differ from constant template tokens
  std::string signature;                      // error signature used (exception, frames, codes)
};

// Feature vector for similar-issue ranking.
struct Features {
  std::vector<uint64_t> tokens;  // sorted, unique hashes of masked tokens
  uint64_t signature = 0;        // hash of the error signature, 0 when none
  uint64_t service = 0;          // hash of the service, 0 when none
};

struct Config {
  // The shipped defaults; the engine is evaluated with exactly these (docs/clustering.md).
  // A title whose masked form is new joins the best template of its length when it repeats at
  // least `min_shared_tokens` of the template's constant tokens, differs in at most
  // `max_differing_tokens` of them, and agrees on the first `anchor_tokens` of them.
  size_t anchor_tokens = 2;
  size_t min_shared_tokens = 3;
  size_t max_differing_tokens = 1;
};

// A signal's masked title, error signature, service and fingerprint: the costly part of an
// assignment, which depends on no engine state (so callers may compute it on any thread,
// outside the lock that serializes Assign).
struct PreparedSignal {
  internal::MaskedText masked;
  internal::ErrorSignature signature;
  std::string service;
  uint64_t fingerprint = 0;  // Engine::Fingerprint of the signal
  uint64_t exact_key = 0;    // the key of its masked text and signature (Prepare sets it)
};
PreparedSignal Prepare(const Signal& signal);

class Engine {
 public:
  explicit Engine(Config config = {});
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  // Assigns a signal to an existing cluster or creates one, and updates that cluster.
  Assignment Assign(const Signal& signal);
  Assignment Assign(const PreparedSignal& prepared);

  // A stable 64-bit hash of the signal's masked form (masked title tokens, error signature,
  // service). Equal for signals that differ only in variable parts. Same across processes.
  [[nodiscard]] uint64_t Fingerprint(const Signal& signal) const;

  // The cluster's current template ("<*>" for variable positions). Empty for an unknown id.
  [[nodiscard]] std::string Template(ClusterId cluster) const;

  // How `signal` compares with `cluster`'s template. Does not change state.
  [[nodiscard]] Explanation Explain(const Signal& signal, ClusterId cluster) const;

  // Opaque, versioned state of one cluster, and its inverse. RestoreCluster must be called
  // with strictly increasing ids (gaps allowed) on an Engine that has not assigned anything
  // yet; kValidation on a malformed state or an id out of order.
  [[nodiscard]] std::string ExportCluster(ClusterId cluster) const;
  Status RestoreCluster(ClusterId cluster, std::string_view state);

  [[nodiscard]] size_t cluster_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Similar-issue ranking (GET /v1/issues/{id}/similar).
Features Extract(const Signal& signal);
// Symmetric similarity in [0, 1]; 1 for identical features.
double Similarity(const Features& a, const Features& b);

// Masks the variable parts of `text` (numbers, hex, UUIDs, IPv4/IPv6, host and pod names,
// paths, URLs, emails, durations, quoted values, timestamps, …) as "<*>". Exposed for tests
// and for the pattern title.
std::string Mask(std::string_view text);

}  // namespace causeloop::cluster
