// Renders the catalog's text templates into one record's text.
//
// Syntax:
//   {name}       a cause parameter, a field of the record's error profile (exc, msg, lang) or a
//                built-in value (pod, ip, uuid, ts, trace, ... see render.cc); one value per
//                record, so {pod} in a title and in its body agree. A trailing number makes
//                another slot of the same built-in: {ip2} is a second address.
//   {~name}      the same, but empty when the cause has no such parameter
//   {a|b|c}      one alternative at random; alternatives are templates themselves
//   {#lo-hi}     an integer in [lo, hi]; {#lo-hi@key} remembers it under key for the record
//   {.lo-hi}     a decimal with one fractional digit in [lo, hi]; {.lo-hi@key} likewise
//   {?NN:text}   text with probability NN %
//   \{ \} \| \\  literal characters
// An unknown name renders as "<?name?>" so tests can find catalog typos.
#ifndef CAUSELOOP_BENCH_CORPUS_RENDER_H_
#define CAUSELOOP_BENCH_CORPUS_RENDER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "corpus/catalog.h"
#include "corpus/rng.h"

namespace causeloop::corpus {

class Renderer {
 public:
  // `error` may be null when the cause has no error profile. All references must outlive
  // the renderer.
  Renderer(Rng& rng, const Cause& cause, std::string_view service, const ErrorProfile* error,
           int64_t at_seconds);

  std::string Render(std::string_view text);

 private:
  void RenderInto(std::string_view text, int depth, std::string& out);
  void Expand(std::string_view inner, int depth, std::string& out);
  std::string Lookup(std::string_view name, bool optional, int depth);
  std::string Builtin(std::string_view name);
  std::string Trace();
  std::string TopFrame();
  std::string Culprit();
  int LineOf(std::string_view frame);

  Rng& rng_;
  const Cause& cause_;
  std::string service_;
  const ErrorProfile* error_;
  int64_t at_seconds_;
  int line_drift_;  // a later release moved the code a little
  std::map<std::string, std::string, std::less<>> cache_;
};

// "2024-05-14T10:22:31Z" for a corpus time.
std::string FormatCorpusTime(int64_t at_seconds);

}  // namespace causeloop::corpus

#endif  // CAUSELOOP_BENCH_CORPUS_RENDER_H_
