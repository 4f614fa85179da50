#include "app/bootstrap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>

#include "auth/crypto.h"
#include "auth/scopes.h"
#include "auth/tokens.h"
#include "core/ids.h"

namespace causeloop::app {

Result<Bootstrapped> BootstrapWorkspace(store::Store& store, const Clock& clock, Random& random,
                                        const std::string& name) {
  SystemTime now = clock.Now();
  model::Organization org{NewId("org_", now, random), name, now};
  model::Workspace ws{NewId("ws_", now, random), org.id, name, now};
  if (auto s = store.CreateOrganization(org, ws); !s) return Fail(s.error());
  std::vector<std::string> scopes;
  for (const auto& s : auth::AllScopes()) scopes.emplace_back(s.name);
  auto token = CreateToken(store, clock, random, ws.id, scopes, "admin (bootstrap)");
  if (!token) return Fail(token.error());
  return Bootstrapped{org.id, ws.id, token->token};
}

Result<CreatedToken> CreateToken(store::Store& store, const Clock& clock, Random& random,
                                 const std::string& workspace_id,
                                 const std::vector<std::string>& scopes, const std::string& name) {
  if (auto ws = store.GetWorkspace(workspace_id); !ws) {
    return Fail(ErrorCode::kNotFound, "no workspace " + workspace_id);
  }
  if (scopes.empty()) return Fail(ErrorCode::kValidation, "at least one scope is required");
  for (const auto& s : scopes) {
    if (!auth::IsKnownScope(s)) return Fail(ErrorCode::kValidation, "unknown scope " + s);
  }
  SystemTime now = clock.Now();
  std::string secret = auth::GenerateTokenSecret(random);
  model::ApiToken t;
  t.id = NewId("tok_", now, random);
  t.workspace_id = workspace_id;
  t.name = name.empty() ? "cli" : name;
  t.scopes = scopes;
  t.hash_hex = auth::HashTokenSecret(secret);
  t.prefix = auth::DisplayPrefix(secret);
  t.created_at = now;
  if (auto s = store.InsertToken(t); !s) return Fail(s.error());
  return CreatedToken{t.id, secret};
}

Result<std::string> LoadOrCreateMasterKey(const std::string& data_dir,
                                          const std::string& configured, Random& random) {
  auto decode = [](const std::string& text) -> Result<std::string> {
    std::string trimmed = text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' '))
      trimmed.pop_back();
    auto key = auth::Base64Decode(trimmed);
    if (!key || key->size() != 32) {
      return Fail(ErrorCode::kValidation, "the master key must be 32 bytes, base64-encoded");
    }
    return key;
  };
  if (!configured.empty()) return decode(configured);
  std::string path = data_dir + "/master.key";
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    return decode(ss.str());
  }
  std::array<unsigned char, 32> bytes{};
  random.Fill(bytes);
  std::string encoded =
      auth::Base64Encode({reinterpret_cast<const char*>(bytes.data()), bytes.size()}) + "\n";
  // O_EXCL: two processes starting at once must not write two different keys.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    std::ifstream again(path);
    if (again) {
      std::stringstream ss;
      ss << again.rdbuf();
      return decode(ss.str());
    }
    return Fail(ErrorCode::kUnavailable, "cannot create " + path);
  }
  bool ok = ::write(fd, encoded.data(), encoded.size()) == static_cast<ssize_t>(encoded.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Fail(ErrorCode::kUnavailable, "cannot write " + path);
  return decode(encoded);
}

}  // namespace causeloop::app
