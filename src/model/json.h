#pragma once
// JSON forms of the model types, written with JsonWriter.

#include <string>

#include "core/json_writer.h"
#include "model/issue.h"
#include "model/pattern.h"
#include "model/tenancy.h"

namespace causeloop::model {

// The public issue object (SPEC §5.1).
void WriteIssue(JsonWriter& w, const Issue& issue);
std::string EncodeIssue(const Issue& issue);

// The pattern's own fields, written into an object the caller has opened (so detail views
// can add theirs).
void WritePatternFields(JsonWriter& w, const Pattern& pattern);
std::string EncodePattern(const Pattern& pattern);

// The token as listed by the API: never the secret or its hash.
void WriteApiToken(JsonWriter& w, const ApiToken& token);

}  // namespace causeloop::model
