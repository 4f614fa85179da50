#pragma once
// Ingest bodies and answers (SPEC §5.2), shared by the ingest routes and the inbound
// receivers (SPEC §6.1 takes and answers the same bodies).

#include <simdjson.h>

#include <string>
#include <vector>

#include "ingest/ingestor.h"

namespace causeloop::http::api {

// The records of a batch body's "records" array, each decoded or rejected at its index;
// kValidation naming "records" unless it holds 1 to 500.
Result<std::vector<ingest::Decoded>> DecodeBatchRecords(simdjson::dom::array records);

// {"accepted", "rejected", "issue_id", "pattern_id", "deduplicated", "job_id"}: the first
// result of a one-record request (there must be one).
std::string EncodeIngestSingle(const ingest::Outcome& outcome);
// {"accepted", "rejected", "results": [{index, issue_id, pattern_id, deduplicated}], "job_id"}.
std::string EncodeIngestBatch(const ingest::Outcome& outcome);

}  // namespace causeloop::http::api
