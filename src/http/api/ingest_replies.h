#pragma once
// The ingest answers (SPEC §5.2), shared by the ingest routes and the inbound receivers
// (SPEC §6.1 answers with the same bodies).

#include <string>

#include "ingest/ingestor.h"

namespace causeloop::http::api {

// {"accepted", "rejected", "issue_id", "pattern_id", "deduplicated", "job_id"}: the first
// result of a one-record request (there must be one).
std::string EncodeIngestSingle(const ingest::Outcome& outcome);
// {"accepted", "rejected", "results": [{index, issue_id, pattern_id, deduplicated}], "job_id"}.
std::string EncodeIngestBatch(const ingest::Outcome& outcome);

}  // namespace causeloop::http::api
