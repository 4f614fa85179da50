// Keeps /openapi.json true: the documented operations and the registered routes are the same
// set, with the same scopes.

#include "http/api/api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <set>

#include "http/api/handlers.h"
#include "store/sqlite/sqlite_store.h"

namespace causeloop::http::api {
namespace {

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

class ApiRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("causeloop-api-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    store_ = std::move(*store::OpenSqliteStore((dir_ / "db").string(), {}, clock_, random_));
    ingestor_ = std::make_unique<ingest::Ingestor>(*store_, clock_, random_);
    tokens_ = std::make_unique<TokenAuthenticator>(*store_, clock_);
    ctx_ = std::make_unique<ApiContext>(
        ApiContext{*store_, *ingestor_, *tokens_, cursors_, metrics_, clock_, random_, "test"});
    RegisterRoutes(router_, *ctx_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  RealClock clock_;
  SeededRandom random_{1};
  auth::CursorSigner cursors_{"k"};
  Metrics metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<TokenAuthenticator> tokens_;
  std::unique_ptr<ApiContext> ctx_;
  Router router_;
};

TEST_F(ApiRoutesTest, OpenApiDocumentsExactlyTheRegisteredRoutesWithTheirScopes) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(std::string(kOpenApiJson)).get(doc), simdjson::SUCCESS);
  std::set<std::string> documented;
  std::map<std::string, std::string> documented_scope;
  simdjson::dom::object paths;
  ASSERT_EQ(doc["paths"].get(paths), simdjson::SUCCESS);
  for (auto path : paths) {
    for (auto op : path.value.get_object()) {
      std::string key = Upper(std::string(op.key)) + " " + std::string(path.key);
      documented.insert(key);
      std::string_view scope;
      if (op.value["x-scope"].get(scope) == simdjson::SUCCESS) documented_scope[key] = scope;
    }
  }
  std::set<std::string> registered;
  for (size_t i = 0; i < router_.size(); ++i) {
    const Route& r = router_.route(i);
    std::string key = std::string(MethodName(r.method)) + " " + r.pattern;
    registered.insert(key);
    EXPECT_EQ(documented_scope[key], r.options.scope) << key;
  }
  EXPECT_EQ(documented, registered);
  EXPECT_GE(registered.size(), 20u);
}

}  // namespace
}  // namespace causeloop::http::api
