// Cursor pagination (SPEC §4): cursors are signed, and paging stays consistent while new
// issues arrive.

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "e2e/harness.h"

namespace causeloop::e2e {
namespace {

// Another base64url character that differs in a high data bit (so that even a decoder that
// ignores the unused low bits of the last character sees a different value).
char Flip(char c) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const size_t i = kAlphabet.find(c);
  return i == std::string::npos ? 'A' : kAlphabet[i ^ 32];
}

class PaginationTest : public ServerTest<PaginationTest> {
 protected:
  // A workspace holding `n` issues; returns their ids.
  std::vector<std::string> Seed(const Http& ws, int n) {
    std::string body = R"({"records":[)";
    const std::string u = UniqueSuffix();
    for (int i = 0; i < n; ++i) {
      body +=
          (i ? "," : "") + std::string(R"({"title":"seed )") + std::to_string(i) + " " + u + "\"}";
    }
    body += "]}";
    HttpResponse r = ws.Post("/v1/ingest/batch", body);
    EXPECT_TRUE(HasStatus(r, 202));
    std::vector<std::string> ids;
    Json j = Json::Parse(r.body);
    if (auto results = j.At("/results"); results && results->is_array()) {
      for (auto item : Elements(*results)) {
        ids.push_back(StrOf(item, "/issue_id").value_or(""));
      }
    }
    EXPECT_EQ(ids.size(), static_cast<size_t>(n)) << r.body;
    return ids;
  }
  std::string FirstCursor(const Http& ws) {
    HttpResponse r = ws.Get("/v1/issues?limit=2");
    EXPECT_TRUE(HasStatus(r, 200));
    Json j = Json::Parse(r.body);
    EXPECT_EQ(j.Bool("/page/has_more"), true) << r.body;
    return j.Str("/page/next_cursor").value_or("");
  }
};

TEST_F(PaginationTest, PagesCoverTheListOnceWithTotalAndHasMore) {
  Http ws = FreshWorkspace();
  std::vector<std::string> seeded = Seed(ws, 12);

  HttpResponse first = ws.Get("/v1/issues?limit=5");
  std::optional<std::vector<std::string>> all = ListAll(ws, "/v1/issues", 5);

  ASSERT_TRUE(HasStatus(first, 200));
  Json j = Json::Parse(first.body);
  EXPECT_EQ(j.Size("/data"), 5u);
  EXPECT_EQ(j.Int("/page/total"), 12);
  EXPECT_EQ(j.Bool("/page/has_more"), true);
  ASSERT_TRUE(all);
  std::multiset<std::string> ids;
  for (const auto& raw : *all) ids.insert(Json::Parse(raw).Str("/id").value_or(""));
  EXPECT_EQ(ids, std::multiset<std::string>(seeded.begin(), seeded.end()));
}

TEST_F(PaginationTest, LastPageHasANullCursorAndNoMore) {
  Http ws = FreshWorkspace();
  Seed(ws, 3);

  HttpResponse r = ws.Get("/v1/issues?limit=3");

  Json j = Json::Parse(r.body);
  EXPECT_EQ(j.Bool("/page/has_more"), false) << r.body;
  EXPECT_TRUE(j.IsNull("/page/next_cursor")) << r.body;
}

TEST_F(PaginationTest, TamperedCursorIs400ValidationError) {
  Http ws = FreshWorkspace();
  Seed(ws, 5);
  std::string cursor = FirstCursor(ws);
  ASSERT_GT(cursor.size(), 2u);
  ASSERT_TRUE(HasStatus(ws.Get("/v1/issues?limit=2&cursor=" + UrlEncode(cursor)), 200))
      << "the untouched cursor must work";

  for (size_t at : {size_t{0}, cursor.size() / 2, cursor.size() - 1}) {
    std::string tampered = cursor;
    tampered[at] = Flip(tampered[at]);
    HttpResponse r = ws.Get("/v1/issues?limit=2&cursor=" + UrlEncode(tampered));
    EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error")) << "cursor changed at " << at;
  }
}

TEST_F(PaginationTest, GarbageCursorIs400ValidationError) {
  HttpResponse r = http_.Get("/v1/issues?cursor=not-a-cursor");

  EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error"));
}

TEST_F(PaginationTest, AnotherWorkspacesCursorIsRefusedOrEmpty) {
  Http a = FreshWorkspace();
  Http b = FreshWorkspace();
  Seed(a, 5);
  std::string cursor = FirstCursor(a);

  HttpResponse r = b.Get("/v1/issues?limit=2&cursor=" + UrlEncode(cursor));

  if (r.status == 200) {
    EXPECT_EQ(Json::Parse(r.body).Size("/data"), 0u) << "a cursor leaked another workspace";
  } else {
    EXPECT_TRUE(IsErrorEnvelope(r, 400, "validation_error"));
  }
}

TEST_F(PaginationTest, PagingWhileIssuesAreInsertedShowsEveryExistingIssueExactlyOnce) {
  Http ws = FreshWorkspace();
  std::vector<std::string> existing = Seed(ws, 40);
  ASSERT_EQ(existing.size(), 40u);
  std::atomic<int> inserted{0};
  std::atomic<bool> writer_failed{false};
  std::jthread writer([&](std::stop_token stop) {
    for (int i = 0; !stop.stop_requested(); ++i) {
      HttpResponse r = ws.Post("/v1/ingest/events", R"({"title":"concurrent )" + std::to_string(i) +
                                                        " " + UniqueSuffix() + "\"}");
      if (r.status != 202) {
        writer_failed = true;
        return;
      }
      ++inserted;
    }
  });

  std::map<std::string, int> seen;
  std::string cursor;
  int pages = 0;
  for (; pages < 200; ++pages) {
    // Make sure inserts really interleave with paging: at least one new issue per page.
    const int before = inserted.load();
    ASSERT_TRUE(PollUntil([&] { return inserted.load() > before || writer_failed; }, 10s));
    ASSERT_FALSE(writer_failed);
    std::string url = "/v1/issues?limit=7";
    if (!cursor.empty()) url += "&cursor=" + UrlEncode(cursor);
    HttpResponse r = ws.Get(url);
    ASSERT_TRUE(HasStatus(r, 200)) << url;
    Json j = Json::Parse(r.body);
    auto data = j.At("/data");
    ASSERT_TRUE(data && data->is_array()) << r.body;
    const size_t n = data->get_array().value_unsafe().size();
    const bool more = j.Bool("/page/has_more") == true;
    EXPECT_LE(n, 7u);
    if (more) {
      EXPECT_EQ(n, 7u) << "a non-final page is short: " << url;
    }
    for (auto item : Elements(*data)) ++seen[StrOf(item, "/id").value_or("")];
    if (!more) break;
    cursor = j.Str("/page/next_cursor").value_or("");
    ASSERT_FALSE(cursor.empty()) << r.body;
  }
  writer.request_stop();
  writer.join();

  EXPECT_GE(pages, 5);
  EXPECT_GT(inserted.load(), 5);
  for (const auto& [id, count] : seen)
    EXPECT_EQ(count, 1) << id << " appeared " << count << " times";
  for (const auto& id : existing) EXPECT_EQ(seen.count(id), 1u) << id << " was skipped";
}

}  // namespace
}  // namespace causeloop::e2e
