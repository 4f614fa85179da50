#pragma once
// Creating organizations, workspaces and tokens for the first start and the admin commands,
// and the data directory's master key.

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "store/store.h"

namespace causeloop::app {

struct Bootstrapped {
  std::string organization_id;
  std::string workspace_id;
  std::string token;  // the secret, shown once
};

// A new organization + workspace and a token with every scope.
Result<Bootstrapped> BootstrapWorkspace(store::Store& store, const Clock& clock, Random& random,
                                        const std::string& name);

struct CreatedToken {
  std::string id;
  std::string token;
};
Result<CreatedToken> CreateToken(store::Store& store, const Clock& clock, Random& random,
                                 const std::string& workspace_id,
                                 const std::vector<std::string>& scopes, const std::string& name);

// The 32-byte master key: `configured` (base64) when given, else <data_dir>/master.key,
// generated with mode 0600 on first use.
Result<std::string> LoadOrCreateMasterKey(const std::string& data_dir,
                                          const std::string& configured, Random& random);

}  // namespace causeloop::app
