// The root causes of the corpus and the text templates each one is reported with. Data only;
// corpus.cc turns it into records and render.h defines the template syntax.
#ifndef CAUSELOOP_BENCH_CORPUS_CATALOG_H_
#define CAUSELOOP_BENCH_CORPUS_CATALOG_H_

#include <string_view>
#include <utility>
#include <vector>

namespace causeloop::corpus {

enum class Source {
  kDatadog,
  kPagerDuty,
  kJira,
  kSentry,
  kGitHub,
  kAlertmanager,
  kGrafana,
  kServiceNow,
  kCloudWatch,
  kCustomApi,
};
enum class Kind { kAlert, kIncident, kTicket, kError, kCi };

std::string_view SourceName(Source source);
std::string_view KindName(Kind kind);

// One way a root cause shows up in one tool. Title and body are templates (render.h).
struct Template {
  Source source;
  Kind kind;
  std::string_view title;
  std::string_view body;
  // Relative chance of being picked among the cause's templates; 0 means the kind's default.
  int weight = 0;
};

// An exception as an error tracker reports it. Frames are "function@file" separated by ';',
// innermost first; render.cc formats them as a Python, Java, Go or Node stack trace.
struct ErrorProfile {
  std::string_view lang;  // py, java, go, node
  std::string_view exc;   // exception type, e.g. "psycopg2.OperationalError"
  std::string_view msg;   // template; the exception's message
  std::string_view frames;
  std::string_view svc = {};  // the service that throws it; empty: any of the cause's
};

enum class Shape {
  kNormal,  // recurring: several episodes, each reported by one to a few tools
  kStorm,   // recurring, plus bursts of 30-70 alerts within minutes
  kOneOff,  // exactly one record in the whole corpus
};

struct Cause {
  std::string_view id;
  std::vector<std::string_view> services;
  Shape shape = Shape::kNormal;
  // Relative frequency (ignored for one-offs); records are drawn in proportion to its square,
  // so a few causes dominate and the tail is long.
  int weight = 10;
  // Template parameters: name -> template text, rendered once per record.
  std::vector<std::pair<std::string_view, std::string_view>> params;
  std::vector<ErrorProfile> errors;
  std::vector<Template> templates;
};

const std::vector<Cause>& Catalog();
// Pairs of causes whose reports share most of their words but not their root cause.
const std::vector<std::pair<std::string_view, std::string_view>>& CatalogNearMisses();

}  // namespace causeloop::corpus

#endif  // CAUSELOOP_BENCH_CORPUS_CATALOG_H_
