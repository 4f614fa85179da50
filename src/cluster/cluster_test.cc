#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cluster/engine.h"
#include "cluster/mask.h"

namespace causeloop::cluster {
namespace {

Signal Title(std::string_view title) { return Signal{title, {}, {}, {}}; }

TEST(MaskTest, MasksVariableParts) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"took 1532 ms", "took <*>"},                                   // number + unit
      {"pid=4242 exited", "pid=<*> exited"},                          // key=value keeps the key
      {"user=root logged in", "user=root logged in"},                 // words stay
      {"connect to 10.0.0.12:5432 failed", "connect to <*> failed"},  // IPv4 and port
      {"from fe80::1ff:fe23:4567:890a", "from <*>"},                  // IPv6
      {"request 3f2b8c1e-9d4a-4e1b-8f6a-2c7d9e0b1a3f failed", "request <*> failed"},  // UUID
      {"at 0x7ffd5e8c", "at <*>"},                                                    // hex
      {"GET https://api.example.com/v1/users?id=7 502", "GET <*>"},  // URL + status: one run
      {"mail to ops@example.com bounced", "mail to <*> bounced"},    // email
      {"cannot open /var/lib/app/data.db", "cannot open <*>"},       // path
      {"cannot open C:\\Temp\\x.log", "cannot open <*>"},            // Windows path
      {"pod api-7d9f8b6c5-x2k4z OOMKilled", "pod <*> OOMKilled"},    // pod name
      {"host db-primary.prod.example.com down", "host <*> down"},    // host name
      {"at Fri Jun 17 07:07:00 2005", "at <*>"},                     // timestamp
      {"2026-11-02T10:00:01Z job done", "<*> job done"},             // RFC 3339
      {"timeout after 30s (retry 3/5)", "timeout after <*> (retry <*>"},
      {"value 'abc' rejected", "value <*> rejected"},               // quoted value
      {"lifetime <1 sec", "lifetime <*>"},                          // "<1 sec"
      {"sent 1190 bytes (1.16 KB) ok", "sent <*> ok"},              // a run of values
      {"IPv4 and UTF-8 and x86_64", "IPv4 and UTF-8 and x86_64"},   // words with digits
      {"connection from 1.2.3.4 () at", "connection from <*> at"},  // empty value
  };
  for (const auto& c : cases) EXPECT_EQ(Mask(c.in), c.out) << c.in;
}

TEST(MaskTest, KeepsRawSpansOfCollapsedTokens) {
  internal::MaskedText m;
  std::string text = "sent 1190 bytes (1.16 KB) ok";
  internal::MaskInto(text, m);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(text.substr(m.raw[1].begin, m.raw[1].size), "1190 bytes (1.16 KB)");
}

TEST(MaskTest, LongTextIsTruncated) {
  std::string text;
  for (int i = 0; i < 500; ++i)
    text += "word" + std::string(1, static_cast<char>('a' + i % 26)) + " ";
  internal::MaskedText m;
  internal::MaskInto(text, m);
  EXPECT_EQ(m.size(), internal::kMaxTokens);
  EXPECT_TRUE(m.truncated);
}

// Stage 1 looks templates up by their constant tokens instead of scanning every template of
// the same length; among thousands of patterns a message must still find its own, including
// one whose template generalized after it was indexed.
TEST(EngineTest, FindsItsTemplateAmongThousandsOfPatterns) {
  Engine e;
  std::mt19937 rng(7);
  auto word = [&rng] {
    std::string w;
    for (int i = 0; i < 6; ++i) w.push_back(static_cast<char>('a' + rng() % 26));
    return w;
  };
  std::vector<std::vector<std::string>> titles;
  std::vector<ClusterId> ids;
  for (int i = 0; i < 5000; ++i) {
    std::vector<std::string> t = {word(), word(), word(), word(), word()};
    titles.push_back(t);
    ids.push_back(
        e.Assign(Title(t[0] + " " + t[1] + " " + t[2] + " " + t[3] + " " + t[4])).cluster);
  }
  ASSERT_EQ(e.cluster_count(), 5000u);
  const auto& t = titles[1234];
  // One token differs: joins, and the template generalizes at position 4.
  auto a = e.Assign(Title(t[0] + " " + t[1] + " " + t[2] + " " + t[3] + " zzzzzz"));
  EXPECT_EQ(a.cluster, ids[1234]);
  // Another value at the generalized position still finds it.
  auto b = e.Assign(Title(t[0] + " " + t[1] + " " + t[2] + " " + t[3] + " yyyyyy"));
  EXPECT_EQ(b.cluster, ids[1234]);
  // Two tokens differ: a new pattern, not a neighbour.
  auto c = e.Assign(Title(t[0] + " " + t[1] + " qqqqqq rrrrrr " + t[4]));
  EXPECT_NE(c.cluster, ids[1234]);
  EXPECT_EQ(e.cluster_count(), 5001u);
}

TEST(EngineTest, GroupsVariablePartsAndSeparatesDifferentEvents) {
  Engine e;
  auto a = e.Assign(Title("Connection to db-1:5432 timed out after 30s"));
  auto b = e.Assign(Title("Connection to db-7:5432 timed out after 12s"));
  auto c = e.Assign(Title("Disk /dev/sda1 is 97% full on node-4"));
  EXPECT_TRUE(a.created);
  EXPECT_FALSE(b.created);
  EXPECT_EQ(a.cluster, b.cluster);
  EXPECT_NE(a.cluster, c.cluster);
  EXPECT_EQ(e.cluster_count(), 2u);
  EXPECT_EQ(e.Template(a.cluster), "Connection to <*> timed out after <*>");
}

TEST(EngineTest, LearnsWordVariables) {
  Engine e;
  auto a = e.Assign(Title("Failed password for invalid user admin from 1.2.3.4 port 22 ssh2"));
  auto b = e.Assign(Title("Failed password for invalid user oracle from 5.6.7.8 port 22 ssh2"));
  auto c = e.Assign(Title("Failed password for invalid user test from 5.6.7.9 port 22 ssh2"));
  EXPECT_EQ(a.cluster, b.cluster);
  EXPECT_EQ(b.cluster, c.cluster);
  EXPECT_TRUE(b.changed);  // the template generalized
  EXPECT_EQ(e.Template(a.cluster), "Failed password for invalid user <*> from <*> port <*>");
}

TEST(EngineTest, NearMissesStayApart) {
  Engine e;
  // A capitalized word that differs is another event, not a value.
  auto a = e.Assign(Title("[instance: 1f3a] VM Started (Lifecycle Event)"));
  auto b = e.Assign(Title("[instance: 2b4c] VM Stopped (Lifecycle Event)"));
  EXPECT_NE(a.cluster, b.cluster);
  // The leading words anchor the event.
  auto c = e.Assign(Title("Accepted password for root from 1.2.3.4 port 22 ssh2"));
  auto d = e.Assign(Title("Failed password for root from 1.2.3.4 port 22 ssh2"));
  EXPECT_NE(c.cluster, d.cluster);
  // Two differing words are too many.
  auto f = e.Assign(Title("cache warmup finished for shard alpha in region west"));
  auto g = e.Assign(Title("cache warmup finished for table beta in region east"));
  EXPECT_NE(f.cluster, g.cluster);
}

TEST(EngineTest, SameStackFromDifferentToolsMeets) {
  const std::string stack =
      "java.lang.NullPointerException: cart is null\n"
      "\tat com.shop.checkout.CartService.total(CartService.java:88)\n"
      "\tat com.shop.checkout.CheckoutController.charge(CheckoutController.java:41)\n"
      "\tat com.shop.http.Router.dispatch(Router.java:120)\n";
  const std::string other_stack =
      "java.lang.NullPointerException: user is null\n"
      "\tat com.shop.auth.SessionStore.load(SessionStore.java:19)\n"
      "\tat com.shop.http.Router.dispatch(Router.java:120)\n";
  Engine e;
  auto sentry = e.Assign({"NullPointerException: cart is null", stack, "checkout", "sentry"});
  auto jira = e.Assign({"Checkout page broken for some customers",
                        "Support reports 500s. Trace:\n" + stack, "checkout", "jira"});
  auto other = e.Assign({"NullPointerException: user is null", other_stack, "checkout", "sentry"});
  EXPECT_EQ(sentry.cluster, jira.cluster);
  EXPECT_FALSE(jira.created);
  EXPECT_NE(sentry.cluster, other.cluster);
}

TEST(EngineTest, ContradictingSignaturesDoNotJoinOneTemplate) {
  Engine e;
  auto a = e.Assign(
      {"Request failed for tenant acme", "TimeoutError: upstream timed out", "api", "sentry"});
  auto b = e.Assign({"Request failed for tenant zeta", "PermissionError: denied", "api", "sentry"});
  EXPECT_NE(a.cluster, b.cluster);
  auto c = e.Assign({"Request failed for tenant beta", "TimeoutError: upstream timed out again",
                     "api", "sentry"});
  EXPECT_EQ(a.cluster, c.cluster);
}

TEST(EngineTest, OtherServicesJoinOnlyExactInstances) {
  Engine e;
  auto a = e.Assign({"High latency on endpoint checkout", {}, "checkout-api", "datadog"});
  auto b = e.Assign({"High latency on endpoint payments", {}, "payments-api", "datadog"});
  auto c = e.Assign({"High latency on endpoint checkout", {}, "web", "datadog"});
  EXPECT_NE(a.cluster, b.cluster);
  EXPECT_EQ(a.cluster, c.cluster);
}

TEST(EngineTest, FingerprintIgnoresVariablePartsOnly) {
  Engine e;
  EXPECT_EQ(e.Fingerprint(Title("job 42 failed on node-3")),
            e.Fingerprint(Title("job 77 failed on node-9")));
  EXPECT_NE(e.Fingerprint(Title("job 42 failed on node-3")),
            e.Fingerprint(Title("job 42 passed on node-3")));
  EXPECT_NE(e.Fingerprint({"job 42 failed", {}, "a", {}}),
            e.Fingerprint({"job 42 failed", {}, "b", {}}));
  // Stable across processes and builds: persisted fingerprints depend on it.
  EXPECT_EQ(e.Fingerprint(Title("job 42 failed on node-3")), 0x5f0e4cd54dc27c10ULL);
  // With an error signature (exception, frames and codes) and a service.
  const Signal crash{"KeyError in billing.charge",
                     "Traceback (most recent call last):\n"
                     "  File \"app/billing.py\", line 12, in charge\n"
                     "    total = prices[sku]\n"
                     "KeyError: 'sku-42' (errno ECONNRESET)",
                     "billing", "sentry"};
  EXPECT_NE(e.Fingerprint(crash), e.Fingerprint({crash.title, {}, crash.service, crash.source}));
  EXPECT_EQ(e.Fingerprint(crash), 0x11c94788e0c9ac61ULL);
}

std::vector<std::string> Corpus() {
  std::vector<std::string> out;
  std::mt19937 rng(7);
  const std::vector<std::string> shapes = {
      "Connection to db-{} timed out after {}s",
      "user {} logged in from 10.0.{}.{}",
      "Failed password for invalid user {} from 1.2.3.{} port 22 ssh2",
      "disk {} usage {}% on host web-{}",
      "job {} finished in {} ms",
      "VM {} (Lifecycle Event) {}",
      "session opened for user {} by (uid={})",
      "cache {} evicted {} keys",
  };
  const std::vector<std::string> words = {"alpha",   "beta",   "root", "Started",
                                          "Stopped", "oracle", "sda",  "west"};
  for (int i = 0; i < 400; ++i) {
    std::string s = shapes[rng() % shapes.size()];
    std::string r;
    for (size_t p = 0; p < s.size(); ++p) {
      if (s.compare(p, 2, "{}") == 0) {
        r += rng() % 2 ? std::to_string(rng() % 1000) : words[rng() % words.size()];
        ++p;
      } else {
        r += s[p];
      }
    }
    out.push_back(r);
  }
  return out;
}

TEST(EngineTest, DeterministicForAnInputOrder) {
  auto corpus = Corpus();
  Engine a;
  Engine b;
  for (const auto& s : corpus) {
    auto x = a.Assign(Title(s));
    auto y = b.Assign(Title(s));
    ASSERT_EQ(x.cluster, y.cluster) << s;
    ASSERT_EQ(x.created, y.created);
  }
}

TEST(EngineTest, RestoredEngineContinuesIdentically) {
  auto corpus = Corpus();
  Engine original;
  size_t half = corpus.size() / 2;
  for (size_t i = 0; i < half; ++i) original.Assign(Title(corpus[i]));
  Engine restored;
  for (ClusterId id = 1; id <= original.cluster_count(); ++id) {
    ASSERT_TRUE(restored.RestoreCluster(id, original.ExportCluster(id))) << id;
  }
  EXPECT_EQ(restored.cluster_count(), original.cluster_count());
  for (size_t i = half; i < corpus.size(); ++i) {
    auto x = original.Assign(Title(corpus[i]));
    auto y = restored.Assign(Title(corpus[i]));
    ASSERT_EQ(x.cluster, y.cluster) << corpus[i];
    ASSERT_EQ(original.Template(x.cluster), restored.Template(y.cluster));
  }
}

TEST(EngineTest, RestoreWithGapsAndBadStates) {
  Engine source;
  source.Assign(Title("alpha one two three"));
  source.Assign(Title("beta failed with code 7"));
  source.Assign(Title("gamma restarted after crash"));
  Engine e;
  ASSERT_TRUE(e.RestoreCluster(1, source.ExportCluster(1)));
  ASSERT_TRUE(e.RestoreCluster(3, source.ExportCluster(3)));   // 2 never committed
  EXPECT_FALSE(e.RestoreCluster(3, source.ExportCluster(3)));  // not increasing
  EXPECT_FALSE(e.RestoreCluster(4, "c1garbage"));
  EXPECT_FALSE(e.RestoreCluster(5, "v9:whatever"));
  EXPECT_EQ(e.cluster_count(), 2u);
  EXPECT_EQ(e.Template(2), "");
  auto again = e.Assign(Title("gamma restarted after crash"));
  EXPECT_EQ(again.cluster, 3u);
  auto fresh = e.Assign(Title("beta failed with code 9"));
  EXPECT_TRUE(fresh.created);
  EXPECT_EQ(fresh.cluster, 4u);  // ids continue after the largest restored one
  EXPECT_FALSE(e.RestoreCluster(9, source.ExportCluster(1)));  // after Assign
}

TEST(EngineTest, UnchangedClusterIsNotReported) {
  Engine e;
  auto a = e.Assign(Title("worker 3 crashed"));
  auto b = e.Assign(Title("worker 9 crashed"));  // same masked key: nothing new
  EXPECT_TRUE(a.changed);
  EXPECT_FALSE(b.changed);
}

TEST(EngineTest, ExplainNamesTheDecidingTokens) {
  Engine e;
  auto a = e.Assign(Title("Failed password for invalid user admin from 1.2.3.4 port 22 ssh2"));
  e.Assign(Title("Failed password for invalid user oracle from 5.6.7.8 port 22 ssh2"));
  Explanation x = e.Explain(
      Title("Failed password for invalid user guest from 9.9.9.9 port 22 ssh2"), a.cluster);
  EXPECT_EQ(x.template_text, "Failed password for invalid user <*> from <*> port <*>");
  EXPECT_GT(x.score, 0.7);
  EXPECT_EQ(x.variable_tokens, (std::vector<std::string>{"guest", "9.9.9.9", "22 ssh2"}));
  EXPECT_TRUE(x.differing_tokens.empty());
  EXPECT_EQ(x.matched_tokens.front(), "Failed");
  Explanation y = e.Explain(
      Title("Accepted password for invalid user guest from 9.9.9.9 port 22 ssh2"), a.cluster);
  EXPECT_EQ(y.differing_tokens, std::vector<std::string>{"Accepted"});
  EXPECT_LT(y.score, x.score);
  EXPECT_TRUE(e.Explain(Title("x"), 99).template_text.empty());
}

TEST(SimilarityTest, RanksSameFailureAboveNearMissAboveUnrelated) {
  Features base = Extract(
      {"Payment gateway timeout for order 1234", "TimeoutError at charge()", "payments", "sentry"});
  Features same = Extract({"Payment gateway timeout for order 9876", "TimeoutError at charge()",
                           "payments", "datadog"});
  Features near = Extract({"Payment gateway declined for order 1234", {}, "payments", "sentry"});
  Features other = Extract({"Disk almost full on db-2", {}, "postgres", "datadog"});
  EXPECT_DOUBLE_EQ(Similarity(base, base), 1.0);
  EXPECT_DOUBLE_EQ(Similarity(base, same), Similarity(same, base));
  EXPECT_GT(Similarity(base, same), Similarity(base, near));
  EXPECT_GT(Similarity(base, near), Similarity(base, other));
  EXPECT_GE(Similarity(base, other), 0.0);
}

TEST(SignatureTest, ExtractsExceptionFramesAndCodes) {
  auto java = internal::ExtractSignature("t",
                                         "java.lang.IllegalStateException: boom\n\tat "
                                         "a.b.C.run(C.java:1)\n\tat a.b.D$1.call(D.java:2)\n");
  EXPECT_EQ(java.exception, "IllegalStateException");
  EXPECT_EQ(java.frames, "a.b.C.run>a.b.D$.call");
  EXPECT_NE(java.strong_key, 0u);
  auto py = internal::ExtractSignature(
      "t",
      "Traceback (most recent call last):\n  File \"/app/main.py\", line 10, in handler\n"
      "  File \"/app/db.py\", line 42, in query\nKeyError: 'id'\n");
  EXPECT_EQ(py.exception, "KeyError");
  EXPECT_EQ(py.frames, "db.py:query>main.py:handler");
  auto codes =
      internal::ExtractSignature("t", "connect ECONNREFUSED 10.0.0.1:5432; ORA-00942 seen");
  EXPECT_EQ(codes.codes, "ECONNREFUSED,ORA-00942");
  EXPECT_EQ(codes.strong_key, 0u);
  EXPECT_NE(codes.weak_key, 0u);
  EXPECT_TRUE(internal::ExtractSignature("NullPointerException", "").empty());  // no body
}

}  // namespace
}  // namespace causeloop::cluster
