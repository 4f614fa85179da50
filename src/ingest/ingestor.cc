#include "ingest/ingestor.h"

#include <memory>

#include "core/ids.h"

namespace causeloop::ingest {

void Ingestor::Ingest(const std::string& workspace_id, std::vector<Decoded> decoded,
                      const std::string& connector_id, store::Callback<Outcome> done) {
  IngestDelivery(workspace_id, std::move(decoded), connector_id, "", "", std::move(done));
}

void Ingestor::IngestDelivery(const std::string& workspace_id, std::vector<Decoded> decoded,
                              const std::string& connector_id, const std::string& delivery_receiver,
                              const std::string& delivery_id, store::Callback<Outcome> done) {
  auto outcome = std::make_shared<Outcome>();
  auto indices = std::make_shared<std::vector<int>>();
  std::vector<model::IssueRecord> records;
  records.reserve(decoded.size());
  for (auto& d : decoded) {
    if (d.record) {
      if (!connector_id.empty()) d.record->connector_id = connector_id;
      indices->push_back(d.index);
      records.push_back(std::move(*d.record));
    } else {
      const Error& e = d.record.error();
      std::string field = e.details.empty() ? "" : e.details.front().first;
      outcome->rejected.push_back(Rejection{d.index, e.message, std::move(field)});
    }
  }
  SystemTime now = clock_.Now();
  store::IngestJob job;
  job.id = NewId("ing_job_", now, random_);
  job.workspace_id = workspace_id;
  job.accepted = static_cast<long long>(records.size());
  job.rejected = static_cast<long long>(outcome->rejected.size());
  job.status = job.rejected == 0 ? "completed" : (job.accepted == 0 ? "failed" : "partial");
  job.created_at = now;
  job.delivery_receiver = delivery_receiver;
  job.delivery_id = delivery_id;
  outcome->job_id = job.id;
  store_.Ingest(
      workspace_id, std::move(records), std::move(job),
      [outcome, indices, done = std::move(done)](Result<std::vector<store::UpsertOutcome>> stored) {
        if (!stored) {
          done(Fail(stored.error()));
          return;
        }
        outcome->accepted = static_cast<long long>(stored->size());
        outcome->results.reserve(stored->size());
        for (size_t i = 0; i < stored->size(); ++i) {
          auto& s = (*stored)[i];
          RecordResult r;
          static_cast<store::UpsertOutcome&>(r) = std::move(s);
          r.index = (*indices)[i];
          outcome->results.push_back(std::move(r));
        }
        done(std::move(*outcome));
      });
}

}  // namespace causeloop::ingest
