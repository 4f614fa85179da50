#pragma once
// The ingest use case: decoded records → dedup upsert + events + job row in one group commit.

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "model/issue.h"
#include "store/store.h"

namespace causeloop::ingest {

struct Rejection {
  int index = 0;
  std::string reason;
  std::string field;
};

// One stored record: the store's outcome and the record's position in the request.
struct RecordResult : store::UpsertOutcome {
  int index = 0;
};

struct Outcome {
  long long accepted = 0;
  std::vector<Rejection> rejected;
  std::vector<RecordResult> results;
  std::string job_id;
};

// A record as decoded by a door (API, native shape, webhook): either a record or the reason
// it was rejected, at its position in the request.
struct Decoded {
  int index = 0;
  Result<model::IssueRecord> record;
};

// Thread-safe.
class Ingestor {
 public:
  Ingestor(store::Store& store, const Clock& clock, Random& random)
      : store_(store), clock_(clock), random_(random) {}

  // Stores every accepted record (one transaction), records the job, and calls `done` after
  // COMMIT. kUnavailable when the store's queue is full (nothing stored).
  void Ingest(const std::string& workspace_id, std::vector<Decoded> decoded,
              const std::string& connector_id, store::Callback<Outcome> done);
  // The same for one verified inbound webhook delivery: a non-empty `delivery_id` is
  // remembered with the records, and a replay fails with kConflict and writes nothing
  // (store::IngestJob).
  void IngestDelivery(const std::string& workspace_id, std::vector<Decoded> decoded,
                      const std::string& connector_id, const std::string& delivery_receiver,
                      const std::string& delivery_id, store::Callback<Outcome> done);

 private:
  store::Store& store_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace causeloop::ingest
