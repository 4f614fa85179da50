#include "corpus/corpus.h"

#include <algorithm>
#include <array>

#include "core/json_writer.h"
#include "corpus/catalog.h"
#include "corpus/render.h"
#include "corpus/rng.h"

namespace causeloop::corpus {
namespace {

constexpr int64_t kWindowSeconds = 30 * 86400;
// Records of recurring causes at scale 1, before storms and one-offs.
constexpr int64_t kBaseRecords = 4200;

constexpr size_t kMaxTitleBytes = 300;

struct Pending {
  int64_t at = 0;
  uint32_t seq = 0;  // creation order: the tie-break that keeps the sort deterministic
  uint32_t cause = 0;
  bool storm = false;
};

// How many reports one occurrence of a recurring problem produces: usually one or two tools,
// sometimes a handful (monitor + page + ticket + error tracker).
int64_t EpisodeSize(Rng& rng) {
  const uint64_t r = rng.Below(100);
  if (r < 40) return 1;
  if (r < 65) return 2;
  if (r < 80) return 3;
  if (r < 90) return 4;
  return rng.Range(5, 8);
}

// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence.
void TruncateUtf8(std::string& text, size_t max) {
  if (text.size() <= max) return;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// One human typing slip in a word of four letters or more: swapped, dropped or doubled
// letter. Only ASCII letters are touched, so UTF-8 text stays valid.
void AddTypo(Rng& rng, std::string& text) {
  for (int attempt = 0; attempt < 12 && text.size() > 4; ++attempt) {
    const size_t i = static_cast<size_t>(rng.Below(text.size() - 3)) + 1;
    if (!IsAsciiLetter(text[i - 1]) || !IsAsciiLetter(text[i]) || !IsAsciiLetter(text[i + 1]) ||
        !IsAsciiLetter(text[i + 2])) {
      continue;
    }
    switch (rng.Below(3)) {
      case 0:
        std::swap(text[i], text[i + 1]);
        break;
      case 1:
        text.erase(i, 1);
        break;
      default:
        text.insert(i, 1, text[i]);
        break;
    }
    return;
  }
}

// `free_text` bodies are the reporter's own words; others are forms (ServiceNow) where only
// the description is typed.
void AddHumanNoise(Rng& rng, bool free_text, std::string& title, std::string& body) {
  static constexpr std::array<std::string_view, 10> kPrefixes = {
      "URGENT: ", "[prod] ", "[PROD] ", "P1 - ", "Re: ",
      "FW: ",     "!! ",     "prod: ",  "[P2] ", "Customer escalation: "};
  static constexpr std::array<std::string_view, 7> kSuffixes = {
      " ??", "!!", " (again)", " - pls help", " ASAP", "?", " (prod)"};
  static constexpr std::array<std::string_view, 4> kGreetings = {"Hi team,\n\n", "Hey,\n",
                                                                 "hi all - ", "Hello,\n\n"};
  static constexpr std::array<std::string_view, 5> kSignoffs = {"\n\nThanks", "\n\nthx", "",
                                                                "\n\n-- sent from mobile", ""};
  if (rng.Percent(30)) title = std::string(rng.Pick(kPrefixes)) + title;
  if (rng.Percent(25)) AddTypo(rng, title);
  if (rng.Percent(10)) AddTypo(rng, title);
  if (rng.Percent(8)) {
    for (char& c : title) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
  }
  if (rng.Percent(12)) title += rng.Pick(kSuffixes);
  if (rng.Percent(35)) AddTypo(rng, body);
  if (free_text && rng.Percent(30)) {
    body = std::string(rng.Pick(kGreetings)) + body + std::string(rng.Pick(kSignoffs));
  }
}

std::vector<Pending> Schedule(Rng& rng, const std::vector<Cause>& causes, int scale) {
  int64_t total_weight = 0;
  for (const Cause& cause : causes) {
    if (cause.shape != Shape::kOneOff) total_weight += int64_t{cause.weight} * cause.weight;
  }
  std::vector<Pending> pending;
  auto add = [&](int64_t at, uint32_t cause, bool storm) {
    pending.push_back({.at = std::min(at, kWindowSeconds - 1),
                       .seq = static_cast<uint32_t>(pending.size()),
                       .cause = cause,
                       .storm = storm});
  };
  for (uint32_t i = 0; i < causes.size(); ++i) {
    const Cause& cause = causes[i];
    if (cause.shape == Shape::kOneOff) {
      add(static_cast<int64_t>(rng.Below(kWindowSeconds)), i, false);
      continue;
    }
    // Squared weights: a few causes dominate and the tail is long, as in real incident data.
    const int64_t expected =
        kBaseRecords * scale * int64_t{cause.weight} * cause.weight / total_weight;
    int64_t remaining = std::max<int64_t>(2, expected * rng.Range(80, 120) / 100);
    while (remaining > 0) {
      const int64_t size = std::min(remaining, EpisodeSize(rng));
      const int64_t start = static_cast<int64_t>(rng.Below(kWindowSeconds));
      for (int64_t k = 0; k < size; ++k) {
        // Reports of one episode arrive over up to three hours (a ticket comes later).
        add(start + (k == 0 ? 0 : rng.Range(0, 3 * 3600)), i, false);
      }
      remaining -= size;
    }
    if (cause.shape == Shape::kStorm) {
      for (int burst = 0; burst < scale; ++burst) {
        const int64_t size = rng.Range(32, 70);
        const int64_t start = static_cast<int64_t>(rng.Below(kWindowSeconds));
        for (int64_t k = 0; k < size; ++k) add(start + rng.Range(0, 15 * 60), i, true);
      }
    }
  }
  std::sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
    return a.at != b.at ? a.at < b.at : a.seq < b.seq;
  });
  return pending;
}

int DefaultWeight(Kind kind) {
  switch (kind) {
    case Kind::kAlert:
      return 3;
    case Kind::kIncident:
      return 2;
    case Kind::kTicket:
      return 2;
    case Kind::kError:
      return 4;
    case Kind::kCi:
      return 4;
  }
  return 1;
}

const Template& PickTemplate(Rng& rng, const Cause& cause, bool storm) {
  int64_t total = 0;
  auto eligible = [storm](const Template& t) {
    return !storm || t.kind == Kind::kAlert || t.kind == Kind::kIncident;
  };
  auto weight = [](const Template& t) { return t.weight > 0 ? t.weight : DefaultWeight(t.kind); };
  for (const Template& t : cause.templates) {
    if (eligible(t)) total += weight(t);
  }
  int64_t r = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(total)));
  for (const Template& t : cause.templates) {
    if (!eligible(t)) continue;
    r -= weight(t);
    if (r < 0) return t;
  }
  return cause.templates.back();
}

CorpusRecord Render(Rng& rng, const Cause& cause, const Pending& p) {
  const Template& t = PickTemplate(rng, cause, p.storm);
  const ErrorProfile* error = nullptr;
  std::string service(rng.Pick(cause.services));
  if (!cause.errors.empty()) {
    if (t.source == Source::kSentry) {
      error = &rng.Pick(cause.errors);
      if (!error->svc.empty()) service = error->svc;
    } else {
      for (const ErrorProfile& e : cause.errors) {
        if (error == nullptr && (e.svc.empty() || e.svc == service)) error = &e;
      }
    }
  }
  Renderer renderer(rng, cause, service, error, p.at);
  CorpusRecord record{.title = renderer.Render(t.title),
                      .body = renderer.Render(t.body),
                      .service = service,
                      .source = std::string(SourceName(t.source)),
                      .label = std::string(cause.id),
                      .kind = std::string(KindName(t.kind)),
                      .at_seconds = p.at};
  // Tools cut long titles (an exception message with a JSON body, say); so does ingestion.
  TruncateUtf8(record.title, kMaxTitleBytes);
  if (t.kind == Kind::kTicket) {
    AddHumanNoise(rng, t.source == Source::kJira, record.title, record.body);
    // People often leave the component empty.
    if (rng.Percent(15)) record.service.clear();
  }
  return record;
}

}  // namespace

std::vector<CorpusRecord> GenerateCorpus(const CorpusOptions& options) {
  const int scale = std::clamp(options.scale, 1, 1000);
  Rng rng(options.seed);
  const std::vector<Cause>& causes = Catalog();
  const std::vector<Pending> pending = Schedule(rng, causes, scale);
  std::vector<CorpusRecord> records;
  records.reserve(pending.size());
  for (const Pending& p : pending) records.push_back(Render(rng, causes[p.cause], p));
  return records;
}

std::string ToJsonl(const std::vector<CorpusRecord>& records) {
  std::string out;
  for (const CorpusRecord& r : records) {
    JsonWriter w;
    w.BeginObject()
        .Field("title", r.title)
        .Field("body", r.body)
        .Field("service", r.service)
        .Field("source", r.source)
        .Field("label", r.label)
        .Field("kind", r.kind)
        .EndObject();
    out += w.str();
    out.push_back('\n');
  }
  return out;
}

std::vector<std::string_view> RootCauseIds() {
  std::vector<std::string_view> ids;
  for (const Cause& cause : Catalog()) ids.push_back(cause.id);
  return ids;
}

std::vector<std::pair<std::string_view, std::string_view>> NearMissPairs() {
  return CatalogNearMisses();
}

}  // namespace causeloop::corpus
