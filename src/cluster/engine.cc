// The clustering engine. Two stages, both online (one pass, nothing re-clustered later):
//
// 1. Template mining on the masked title (mask.h). A signal's masked token sequence plus its
//    error-signature keys is its exact key; a key seen before goes straight to the cluster it
//    went to then. A new key is compared with the templates of the same length: it joins the
//    best one that it matches on at least `min_shared_tokens` constant tokens, differs from
//    on at most `max_differing_tokens`, agrees with on the first `anchor_tokens` constants
//    (the event's leading words: "Accepted password" is not "Failed password"), and where no
//    differing token is a capitalized word ("VM Started" is not "VM Stopped"). The template
//    then generalizes ("<*>" where they differ). Candidates whose error signature contradicts
//    the signal's (other frames, another exception type) are skipped, and so are candidates
//    of another service unless the signal is an exact instance of their template.
// 2. Error signatures. A signal no template takes joins the cluster that first showed the
//    same stack frames (exception + top frames: the same code path, whichever tool reported
//    it and however its title is worded), or, without frames, the cluster that first showed
//    the same exception or error code in the same service.
// Otherwise it founds a new cluster.

#include "cluster/engine.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <unordered_map>

#include "cluster/mask.h"

namespace causeloop::cluster {

using internal::ErrorSignature;
using internal::Hash;
using internal::kWildcard;
using internal::MaskedText;
using internal::Mix;

namespace {

// Exact keys remembered per cluster (and persisted with it). Keys beyond this are matched by
// template each time, which gives the same answer but costs a scan.
constexpr size_t kMaxKeysPerCluster = 32;
constexpr std::string_view kStateVersion = "c1";

struct Cluster {
  bool live = false;
  std::vector<std::string> tmpl;
  std::string service;
  std::string signature;  // ErrorSignature::Text() of the first signal that had one
  uint64_t strong_key = 0;
  uint64_t weak_key = 0;  // already mixed with the service
  bool owns_strong = false;
  bool owns_weak = false;
  std::vector<uint64_t> keys;
  uint32_t generation = 1;  // raised whenever tmpl changes (see ExactEntry)
};

// Where an exact key goes, and the score its signal had against that cluster's template
// when it was last computed (an exact key stands for one masked text, so the score only
// changes with the template).
struct ExactEntry {
  ClusterId cluster = 0;
  uint32_t scored_generation = 0;  // the cluster's generation `score` is for; 0: none
  double score = 0;
};

struct Score {
  double value = 0;             // share of informative positions that agree, variables half
  size_t equal = 0;             // constant template tokens the signal repeats
  size_t differing = 0;         // constant template tokens the signal does not repeat
  bool anchor_differs = false;  // one of the first anchor_tokens constants differs
  bool names_differ = false;    // a differing token is a capitalized word
};

// "Started"/"Stopped", "YES"/"NO", "Up"/"Down": a capitalized word where the template has
// another is a different event, not a value. (Values that are words — user names, hosts,
// services — are lower case, or carry digits and are masked already.)
bool IsCapitalizedWord(std::string_view w) {
  while (!w.empty() && (w.back() == '.' || w.back() == ',' || w.back() == ':' || w.back() == ';')) {
    w.remove_suffix(1);
  }
  if (w.empty() || !(w[0] >= 'A' && w[0] <= 'Z')) return false;
  return std::all_of(w.begin(), w.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
}

Score Compare(const MaskedText& m, const std::vector<std::string>& tmpl, size_t anchors) {
  Score out;
  size_t informative = 0;
  size_t variable = 0;
  size_t constants = 0;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    std::string_view t = tmpl[i];
    std::string_view s = m.Token(i);
    bool t_var = t == kWildcard;
    if (t_var && s == kWildcard) continue;
    ++informative;
    if (t_var) {
      ++variable;
      continue;
    }
    bool same = t == s;
    if (constants++ < anchors && !same) out.anchor_differs = true;
    if (same) {
      ++out.equal;
    } else {
      ++out.differing;
      if (IsCapitalizedWord(t) || IsCapitalizedWord(s)) out.names_differ = true;
    }
  }
  out.value = informative == 0
                  ? 1.0
                  : (static_cast<double>(out.equal) + 0.5 * static_cast<double>(variable)) /
                        static_cast<double>(informative);
  return out;
}

bool Joins(const Score& s, const Config& config) {
  return s.differing <= config.max_differing_tokens && s.equal >= config.min_shared_tokens &&
         !s.anchor_differs && !s.names_differ;
}

uint64_t WeakKey(const ErrorSignature& sig, std::string_view service) {
  if (sig.weak_key == 0 || service.empty()) return 0;
  return Mix(sig.weak_key ^ Hash(service));
}

// `text_hash`: Hash(masked.text), shared with FingerprintOf.
uint64_t ExactKey(uint64_t text_hash, const ErrorSignature& sig) {
  return Mix(text_hash ^ Mix(sig.strong_key + 0x632be59bd9b4e019ULL) ^ (sig.weak_key * 31));
}

bool Contradicts(const ErrorSignature& sig, const Cluster& c) {
  if (sig.strong_key != 0 && c.strong_key != 0) return sig.strong_key != c.strong_key;
  if (sig.exception.empty() || c.signature.empty()) return false;
  std::string_view theirs = c.signature;
  theirs = theirs.substr(0, theirs.find('|'));
  return !theirs.empty() && theirs != sig.exception;
}

// Dice overlap of the signal's masked tokens with a template of another length.
double TokenOverlap(const MaskedText& m, const std::vector<std::string>& tmpl) {
  size_t matched = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    std::string_view tok = m.Token(i);
    if (tok != kWildcard && std::find(tmpl.begin(), tmpl.end(), tok) != tmpl.end()) ++matched;
  }
  size_t total = m.size() + tmpl.size();
  return total == 0 ? 1.0 : 2.0 * static_cast<double>(matched) / static_cast<double>(total);
}

uint64_t FingerprintOf(uint64_t text_hash, const ErrorSignature& sig, std::string_view service) {
  uint64_t h = text_hash ^ 0x1f;
  if (!sig.empty()) {  // Hash(sig.Text(), h), without building the text
    h = Hash(sig.exception, h);
    h = Hash("|", h);
    h = Hash(sig.frames, h);
    h = Hash("|", h);
    h = Hash(sig.codes, h);
  }
  h = Hash(service, h ^ 0x2f);
  return Mix(h);
}

std::string Join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty()) out.push_back(' ');
    out += t;
  }
  return out;
}

// ---- state encoding: "c1" then length-prefixed fields "<n>:<bytes>" ----

void Put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out.push_back(':');
  out.append(field);
}

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool ParseHex(std::string_view s, uint64_t& v) {
  if (s.size() != 16) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool Next(std::string_view& field) {
    size_t colon = s_.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 9) return false;
    size_t n = 0;
    auto r = std::from_chars(s_.data(), s_.data() + colon, n);
    if (r.ec != std::errc() || r.ptr != s_.data() + colon || n > s_.size() - colon - 1) {
      return false;
    }
    field = s_.substr(colon + 1, n);
    s_.remove_prefix(colon + 1 + n);
    return true;
  }
  [[nodiscard]] bool Done() const { return s_.empty(); }

 private:
  std::string_view s_;
};

}  // namespace

struct Engine::Impl {
  Config config;
  std::vector<Cluster> clusters;  // clusters[id - 1]
  size_t live = 0;
  bool assigned = false;
  std::unordered_map<uint64_t, ExactEntry> exact;
  std::unordered_map<size_t, std::vector<ClusterId>> by_length;
  // Stage 1's candidates: (template length, position, constant token) -> the clusters whose
  // template had that token there. A template only ever generalizes (a constant becomes a
  // wildcard, never back), so an entry can go stale but is never missing: every cluster that
  // shares min_shared_tokens constants with a message is found, and Compare checks each one.
  // Without it, stage 1 compared a message with every template of its length, which is
  // linear in the number of patterns (1 ms per assignment at 20k patterns).
  std::unordered_map<uint64_t, std::vector<ClusterId>> by_token;
  std::vector<uint32_t> hits;         // scratch: shared tokens per cluster id
  std::vector<ClusterId> touched;     // scratch: ids whose hits were counted
  std::vector<ClusterId> candidates;  // scratch: Stage1Candidates' answer
  std::unordered_map<uint64_t, ClusterId> by_strong;
  std::unordered_map<uint64_t, ClusterId> by_weak;
  MaskedText scratch;

  const Cluster* Find(ClusterId id) const {
    if (id == 0 || id > clusters.size() || !clusters[id - 1].live) return nullptr;
    return &clusters[id - 1];
  }

  static uint64_t TokenKey(size_t length, size_t position, std::string_view token) {
    return Mix(Hash(token) ^ (static_cast<uint64_t>(length) * 0x9e3779b97f4a7c15ULL) ^
               (static_cast<uint64_t>(position) * 0xc2b2ae3d27d4eb4fULL));
  }

  void IndexTemplate(ClusterId id) {
    const std::vector<std::string>& tmpl = clusters[id - 1].tmpl;
    by_length[tmpl.size()].push_back(id);
    for (size_t i = 0; i < tmpl.size(); ++i) {
      if (tmpl[i] != kWildcard) by_token[TokenKey(tmpl.size(), i, tmpl[i])].push_back(id);
    }
  }

  // The clusters of m's length that may share at least min_shared_tokens constants with it,
  // ascending (the order they were created in, so ties resolve as a full scan would).
  const std::vector<ClusterId>& Stage1Candidates(const MaskedText& m) {
    candidates.clear();
    if (config.min_shared_tokens == 0) {
      if (auto bucket = by_length.find(m.size()); bucket != by_length.end()) {
        candidates = bucket->second;
      }
      return candidates;
    }
    if (hits.size() < clusters.size() + 1) hits.resize(clusters.size() + 1, 0);
    touched.clear();
    for (size_t i = 0; i < m.size(); ++i) {
      std::string_view tok = m.Token(i);
      if (tok == kWildcard) continue;
      auto it = by_token.find(TokenKey(m.size(), i, tok));
      if (it == by_token.end()) continue;
      for (ClusterId id : it->second) {
        if (hits[id]++ == 0) touched.push_back(id);
      }
    }
    for (ClusterId id : touched) {
      if (hits[id] >= config.min_shared_tokens) candidates.push_back(id);
      hits[id] = 0;
    }
    std::sort(candidates.begin(), candidates.end());
    return candidates;
  }

  void Remember(uint64_t key, ClusterId id) {
    Cluster& c = clusters[id - 1];
    if (c.keys.size() >= kMaxKeysPerCluster) return;
    if (exact.emplace(key, ExactEntry{id}).second) c.keys.push_back(key);
  }

  void AdoptSignature(Cluster& c, ClusterId id, const ErrorSignature& sig, std::string_view service,
                      bool& changed) {
    if (c.service.empty() && !service.empty()) {
      c.service = std::string(service);
      changed = true;
    }
    if (c.signature.empty() && !sig.empty()) {
      c.signature = sig.Text();
      changed = true;
    }
    if (c.strong_key == 0 && sig.strong_key != 0) {
      c.strong_key = sig.strong_key;
      c.owns_strong = by_strong.emplace(sig.strong_key, id).second;
      changed = true;
    }
    uint64_t weak = WeakKey(sig, c.service);
    if (c.weak_key == 0 && weak != 0) {
      c.weak_key = weak;
      c.owns_weak = by_weak.emplace(weak, id).second;
      changed = true;
    }
  }

  ClusterId Create(const MaskedText& m, const ErrorSignature& sig, std::string_view service) {
    clusters.emplace_back();
    auto id = static_cast<ClusterId>(clusters.size());
    Cluster& c = clusters.back();
    c.live = true;
    c.tmpl.reserve(m.size());
    for (size_t i = 0; i < m.size(); ++i) c.tmpl.emplace_back(m.Token(i));
    IndexTemplate(id);
    bool changed = false;
    AdoptSignature(c, id, sig, service, changed);
    ++live;
    return id;
  }
};

Engine::Engine(Config config) : impl_(std::make_unique<Impl>()) { impl_->config = config; }
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

PreparedSignal Prepare(const Signal& signal) {
  PreparedSignal p;
  internal::MaskInto(signal.title, p.masked);
  p.signature = internal::ExtractSignature(signal.title, signal.body);
  p.service = std::string(signal.service);
  uint64_t text_hash = Hash(p.masked.text);
  p.fingerprint = FingerprintOf(text_hash, p.signature, p.service);
  p.exact_key = ExactKey(text_hash, p.signature);
  return p;
}

Assignment Engine::Assign(const Signal& signal) { return Assign(Prepare(signal)); }

Assignment Engine::Assign(const PreparedSignal& prepared) {
  Impl& im = *impl_;
  im.assigned = true;
  const MaskedText& m = prepared.masked;
  const ErrorSignature& sig = prepared.signature;
  struct {
    std::string_view service;
  } signal{prepared.service};
  uint64_t key = prepared.exact_key;

  Assignment out;
  out.fingerprint = prepared.fingerprint;

  if (auto it = im.exact.find(key); it != im.exact.end()) {
    ExactEntry& hit = it->second;
    Cluster& c = im.clusters[hit.cluster - 1];
    out.cluster = hit.cluster;
    if (hit.scored_generation != c.generation) {
      hit.score =
          c.tmpl.size() == m.size() ? Compare(m, c.tmpl, im.config.anchor_tokens).value : 1.0;
      hit.scored_generation = c.generation;
    }
    out.score = hit.score;
    bool changed = false;
    im.AdoptSignature(c, out.cluster, sig, signal.service, changed);
    out.changed = changed;
    return out;
  }

  // Stage 1: templates of the same length.
  ClusterId best = 0;
  Score best_score;
  {
    for (ClusterId id : im.Stage1Candidates(m)) {
      const Cluster& c = im.clusters[id - 1];
      if (!c.live || Contradicts(sig, c)) continue;
      Score s = Compare(m, c.tmpl, im.config.anchor_tokens);
      bool other_service =
          !signal.service.empty() && !c.service.empty() && c.service != signal.service;
      if (other_service && s.differing > 0) continue;
      if (!Joins(s, im.config)) continue;
      if (best == 0 || s.value > best_score.value) {
        best = id;
        best_score = s;
      }
    }
  }
  if (best != 0 && Joins(best_score, im.config)) {
    Cluster& c = im.clusters[best - 1];
    bool changed = false;
    for (size_t i = 0; i < c.tmpl.size(); ++i) {
      if (c.tmpl[i] != kWildcard && c.tmpl[i] != m.Token(i)) {
        c.tmpl[i] = std::string(kWildcard);
        changed = true;
      }
    }
    if (changed) ++c.generation;
    size_t keys = c.keys.size();
    im.Remember(key, best);
    im.AdoptSignature(c, best, sig, signal.service, changed);
    out.cluster = best;
    out.score = best_score.value;
    out.changed = changed || c.keys.size() != keys;
    return out;
  }

  // Stage 2: the same failure under other words.
  ClusterId by_sig = 0;
  if (sig.strong_key != 0) {
    if (auto it = im.by_strong.find(sig.strong_key); it != im.by_strong.end()) by_sig = it->second;
  }
  if (by_sig == 0) {
    if (uint64_t weak = WeakKey(sig, signal.service); weak != 0) {
      if (auto it = im.by_weak.find(weak); it != im.by_weak.end()) by_sig = it->second;
    }
  }
  if (by_sig != 0 && im.Find(by_sig) != nullptr && !Contradicts(sig, im.clusters[by_sig - 1])) {
    Cluster& c = im.clusters[by_sig - 1];
    size_t keys = c.keys.size();
    bool changed = false;
    im.Remember(key, by_sig);
    im.AdoptSignature(c, by_sig, sig, signal.service, changed);
    out.cluster = by_sig;
    out.score = TokenOverlap(m, c.tmpl);
    out.changed = changed || c.keys.size() != keys;
    return out;
  }

  out.cluster = im.Create(m, sig, signal.service);
  im.Remember(key, out.cluster);
  out.created = true;
  out.changed = true;
  out.score = 1.0;
  return out;
}

uint64_t Engine::Fingerprint(const Signal& signal) const {
  MaskedText m;
  internal::MaskInto(signal.title, m);
  return FingerprintOf(Hash(m.text), internal::ExtractSignature(signal.title, signal.body),
                       signal.service);
}

std::string Engine::Template(ClusterId cluster) const {
  const Cluster* c = impl_->Find(cluster);
  return c == nullptr ? std::string() : Join(c->tmpl);
}

Explanation Engine::Explain(const Signal& signal, ClusterId cluster) const {
  Explanation e;
  const Cluster* c = impl_->Find(cluster);
  if (c == nullptr) return e;
  MaskedText m;
  internal::MaskInto(signal.title, m);
  e.template_text = Join(c->tmpl);
  e.signature = internal::ExtractSignature(signal.title, signal.body).Text();
  auto raw = [&](size_t i) {
    return std::string(signal.title.substr(m.raw[i].begin, m.raw[i].size));
  };
  if (m.size() == c->tmpl.size()) {
    e.score = Compare(m, c->tmpl, impl_->config.anchor_tokens).value;
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string& t = c->tmpl[i];
      if (t == kWildcard) {
        e.variable_tokens.push_back(raw(i));
      } else if (t == m.Token(i)) {
        e.matched_tokens.push_back(raw(i));
      } else {
        e.differing_tokens.push_back(raw(i));
      }
    }
    return e;
  }
  // Other lengths (a signature match): which of the signal's tokens the template has.
  for (size_t i = 0; i < m.size(); ++i) {
    std::string_view tok = m.Token(i);
    if (tok == kWildcard) {
      e.variable_tokens.push_back(raw(i));
    } else if (std::find(c->tmpl.begin(), c->tmpl.end(), tok) != c->tmpl.end()) {
      e.matched_tokens.push_back(raw(i));
    } else {
      e.differing_tokens.push_back(raw(i));
    }
  }
  e.score = TokenOverlap(m, c->tmpl);
  return e;
}

std::string Engine::ExportCluster(ClusterId cluster) const {
  const Cluster* c = impl_->Find(cluster);
  if (c == nullptr) return {};
  std::string out(kStateVersion);
  Put(out, c->service);
  Put(out, c->signature);
  Put(out, Hex(c->strong_key));
  Put(out, Hex(c->weak_key));
  Put(out, std::string(1, c->owns_strong ? '1' : '0') + (c->owns_weak ? '1' : '0'));
  std::string keys;
  for (uint64_t k : c->keys) keys += Hex(k);
  Put(out, keys);
  Put(out, std::to_string(c->tmpl.size()));
  for (const auto& t : c->tmpl) Put(out, t);
  return out;
}

Status Engine::RestoreCluster(ClusterId cluster, std::string_view state) {
  Impl& im = *impl_;
  if (im.assigned) return Fail(ErrorCode::kValidation, "restore after assign");
  if (cluster == 0 || cluster <= im.clusters.size()) {
    return Fail(ErrorCode::kValidation, "cluster ids must be restored in increasing order");
  }
  auto bad = [] { return Fail(ErrorCode::kValidation, "malformed cluster state"); };
  if (!state.starts_with(kStateVersion)) return bad();
  Reader r(state.substr(kStateVersion.size()));
  std::string_view service, signature, strong, weak, owns, keys, count;
  if (!r.Next(service) || !r.Next(signature) || !r.Next(strong) || !r.Next(weak) || !r.Next(owns) ||
      !r.Next(keys) || !r.Next(count)) {
    return bad();
  }
  Cluster c;
  c.live = true;
  c.service = std::string(service);
  c.signature = std::string(signature);
  if (!ParseHex(strong, c.strong_key) || !ParseHex(weak, c.weak_key) || owns.size() != 2 ||
      keys.size() % 16 != 0 || keys.size() / 16 > kMaxKeysPerCluster) {
    return bad();
  }
  c.owns_strong = owns[0] == '1';
  c.owns_weak = owns[1] == '1';
  size_t n = 0;
  auto parsed = std::from_chars(count.data(), count.data() + count.size(), n);
  if (parsed.ec != std::errc() || parsed.ptr != count.data() + count.size() ||
      n > internal::kMaxTokens) {
    return bad();
  }
  for (size_t i = 0; i < n; ++i) {
    std::string_view tok;
    if (!r.Next(tok)) return bad();
    c.tmpl.emplace_back(tok);
  }
  if (!r.Done()) return bad();
  std::vector<uint64_t> key_list;
  for (size_t i = 0; i < keys.size(); i += 16) {
    uint64_t k = 0;
    if (!ParseHex(keys.substr(i, 16), k)) return bad();
    key_list.push_back(k);
  }

  im.clusters.resize(cluster - 1);  // gaps stay dead
  im.clusters.push_back(std::move(c));
  Cluster& placed = im.clusters.back();
  for (uint64_t k : key_list) {
    if (im.exact.emplace(k, ExactEntry{cluster}).second) placed.keys.push_back(k);
  }
  im.IndexTemplate(cluster);
  if (placed.owns_strong) im.by_strong.emplace(placed.strong_key, cluster);
  if (placed.owns_weak) im.by_weak.emplace(placed.weak_key, cluster);
  ++im.live;
  return {};
}

size_t Engine::cluster_count() const { return impl_->live; }

std::string Mask(std::string_view text) {
  MaskedText m;
  internal::MaskInto(text, m, SIZE_MAX);
  return std::move(m.text);
}

// ---- similar issues ----

Features Extract(const Signal& signal) {
  Features f;
  MaskedText m;
  auto add = [&](std::string_view text, size_t max_tokens) {
    internal::MaskInto(text, m, max_tokens);
    for (size_t i = 0; i < m.size(); ++i) {
      std::string_view tok = m.Token(i);
      if (tok == kWildcard || tok.size() < 2) continue;
      f.tokens.push_back(Mix(Hash(tok)));
    }
  };
  add(signal.title, internal::kMaxTokens);
  add(signal.body, 64);
  std::sort(f.tokens.begin(), f.tokens.end());
  f.tokens.erase(std::unique(f.tokens.begin(), f.tokens.end()), f.tokens.end());
  ErrorSignature sig = internal::ExtractSignature(signal.title, signal.body);
  f.signature = sig.strong_key != 0 ? sig.strong_key : sig.weak_key;
  f.service = signal.service.empty() ? 0 : Mix(Hash(signal.service));
  return f;
}

double Similarity(const Features& a, const Features& b) {
  // Token overlap (Jaccard) weighs most; the error signature and the service count when
  // either side has one.
  size_t common = 0;
  size_t i = 0;
  size_t j = 0;
  while (i < a.tokens.size() && j < b.tokens.size()) {
    if (a.tokens[i] == b.tokens[j]) {
      ++common;
      ++i;
      ++j;
    } else if (a.tokens[i] < b.tokens[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  size_t uni = a.tokens.size() + b.tokens.size() - common;
  double jaccard = uni == 0 ? 1.0 : static_cast<double>(common) / static_cast<double>(uni);
  double score = 0.6 * jaccard;
  double weight = 0.6;
  if (a.signature != 0 || b.signature != 0) {
    weight += 0.3;
    if (a.signature == b.signature) score += 0.3;
  }
  if (a.service != 0 || b.service != 0) {
    weight += 0.1;
    if (a.service == b.service) score += 0.1;
  }
  return score / weight;
}

}  // namespace causeloop::cluster
