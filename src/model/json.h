#pragma once
// JSON forms of the model types, written with JsonWriter.

#include <string>

#include "core/json_writer.h"
#include "model/issue.h"
#include "model/tenancy.h"

namespace causeloop::model {

// The public issue object (SPEC §5.1).
void WriteIssue(JsonWriter& w, const Issue& issue);
std::string EncodeIssue(const Issue& issue);

// The token as listed by the API: never the secret or its hash.
void WriteApiToken(JsonWriter& w, const ApiToken& token);

}  // namespace causeloop::model
