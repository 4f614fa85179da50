#pragma once
// `causeloop import`: bulk-loads a JSONL file of canonical records through the ingest use
// case (the same validation, dedup and events as the API), with a progress bar on stderr.

#include <string>

#include "core/result.h"
#include "ingest/ingestor.h"

namespace causeloop::app {

struct ImportSummary {
  long long lines = 0;
  long long accepted = 0;
  long long rejected = 0;
  long long created = 0;
  long long deduplicated = 0;
};

// Reads `path` line by line; blank lines are skipped; each batch of `batch_size` records is
// one transaction. Rejected lines are reported on stderr with their line number.
Result<ImportSummary> ImportJsonl(const std::string& path, const std::string& workspace_id,
                                  ingest::Ingestor& ingestor, size_t batch_size, bool tty);

}  // namespace causeloop::app
