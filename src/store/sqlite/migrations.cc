#include "store/sqlite/migrations.h"

#include <array>

namespace causeloop::store::sqlite {
namespace {

// Times are Unix milliseconds (INTEGER); JSON columns hold minified JSON text.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER,
  previous_hash TEXT,
  previous_expires_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX api_tokens_workspace ON api_tokens(workspace_id, created_at);
CREATE INDEX api_tokens_previous ON api_tokens(previous_hash) WHERE previous_hash IS NOT NULL;

CREATE TABLE issues (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  workspace_id TEXT NOT NULL,
  source TEXT NOT NULL,
  source_raw TEXT,
  external_id TEXT NOT NULL,
  title TEXT NOT NULL,
  title_truncated INTEGER NOT NULL DEFAULT 0,
  body TEXT NOT NULL DEFAULT '',
  body_truncated INTEGER NOT NULL DEFAULT 0,
  severity INTEGER NOT NULL,
  status TEXT NOT NULL,
  service TEXT,
  environment TEXT,
  team TEXT,
  assignee TEXT,
  labels TEXT,
  metadata TEXT,
  external_url TEXT,
  connector_id TEXT,
  pattern_id TEXT,
  occurrences INTEGER NOT NULL DEFAULT 1,
  risk_score REAL NOT NULL DEFAULT 0,
  source_created_at INTEGER,
  source_updated_at INTEGER,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  resolved_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  resolution TEXT,
  UNIQUE (workspace_id, source, external_id)
);
CREATE INDEX issues_created ON issues(workspace_id, created_at, id);
CREATE INDEX issues_last_seen ON issues(workspace_id, last_seen_at, id);
CREATE INDEX issues_severity ON issues(workspace_id, severity, id);
CREATE INDEX issues_pattern ON issues(workspace_id, pattern_id) WHERE pattern_id IS NOT NULL;
CREATE VIRTUAL TABLE issues_fts USING fts5(title, body, content='issues', content_rowid='rowid',
  detail=none, columnsize=0);
INSERT INTO issues_fts(issues_fts, rank) VALUES('automerge', 16);

CREATE TABLE events (
  workspace_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (workspace_id, sequence)
) WITHOUT ROWID;

CREATE TABLE ingest_jobs (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  status TEXT NOT NULL,
  accepted INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  completed_at INTEGER NOT NULL
);

CREATE TABLE idempotency_keys (
  workspace_id TEXT NOT NULL,
  key TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  content_type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, key, method, path)
) WITHOUT ROWID;
CREATE INDEX idempotency_created ON idempotency_keys(created_at);
)sql";

// Patterns (SPEC §10). `state` is the clustering engine's opaque per-cluster state; facets
// are the services and sources seen in a pattern (for list filters); overrides map an issue
// fingerprint to the pattern a person linked it to.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE patterns (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  workspace_id TEXT NOT NULL,
  title TEXT NOT NULL,
  title_overridden INTEGER NOT NULL DEFAULT 0,
  template TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status TEXT NOT NULL,
  issue_count INTEGER NOT NULL DEFAULT 0,
  risk_score REAL NOT NULL DEFAULT 0,
  merged_into TEXT,
  engine_cluster INTEGER,
  state BLOB,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX patterns_cluster ON patterns(workspace_id, engine_cluster)
  WHERE engine_cluster IS NOT NULL;
CREATE INDEX patterns_last_seen ON patterns(workspace_id, last_seen_at, id);
CREATE INDEX patterns_issue_count ON patterns(workspace_id, issue_count, id);
CREATE INDEX patterns_risk ON patterns(workspace_id, risk_score, id);
CREATE INDEX patterns_merged ON patterns(workspace_id, merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE pattern_facets (
  workspace_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  pattern_id TEXT NOT NULL,
  PRIMARY KEY (workspace_id, kind, value, pattern_id)
) WITHOUT ROWID;
CREATE INDEX pattern_facets_pattern ON pattern_facets(pattern_id);

CREATE TABLE pattern_overrides (
  workspace_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  pattern_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, fingerprint)
) WITHOUT ROWID;
CREATE INDEX pattern_overrides_pattern ON pattern_overrides(workspace_id, pattern_id);
)sql";

// v3: outbound webhooks (SPEC §7.2). Secrets are stored sealed (auth/secretbox).
constexpr const char* kV3 = R"sql(
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  event_types TEXT NOT NULL,
  connector_ids TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  disabled_reason TEXT NOT NULL DEFAULT '',
  secrets TEXT NOT NULL,
  failing_since INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_ws ON webhook_endpoints(workspace_id, created_at);

CREATE TABLE webhook_deliveries (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  workspace_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_sequence INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  order_key TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  cycle_attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries(endpoint_id, event_id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(workspace_id, endpoint_id, rowid);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(rowid) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL,
  number INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status_code INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL,
  error TEXT NOT NULL,
  response_excerpt TEXT NOT NULL,
  PRIMARY KEY (delivery_id, number)
) WITHOUT ROWID;

CREATE TABLE webhook_dispatch (
  workspace_id TEXT PRIMARY KEY,
  last_sequence INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// v4: connectors and inbound receivers (SPEC §6, §8.2). Secrets columns use the webhook
// endpoints' form (a JSON array of {"sealed", "expires_at"}); credentials are one sealed JSON
// object, '' when none. inbound_deliveries remembers delivery ids for replay protection and is
// pruned by age; receiver statistics are hourly buckets (`hour`: Unix ms floored to the hour)
// plus each receiver's latest outcome.
constexpr const char* kV4 = R"sql(
CREATE TABLE connectors (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  type TEXT NOT NULL,
  display_name TEXT NOT NULL,
  status TEXT NOT NULL,
  config TEXT NOT NULL,
  schedule TEXT NOT NULL,
  backfill_days INTEGER NOT NULL,
  credentials TEXT NOT NULL DEFAULT '',
  inbound_enabled INTEGER NOT NULL,
  inbound_secrets TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX connectors_ws ON connectors(workspace_id, created_at);

CREATE TABLE alert_webhook_settings (
  workspace_id TEXT PRIMARY KEY,
  secrets TEXT NOT NULL,
  require_signature TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE inbound_deliveries (
  workspace_id TEXT NOT NULL,
  receiver TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, receiver, delivery_id)
);
CREATE INDEX inbound_deliveries_received ON inbound_deliveries(received_at);

CREATE TABLE receiver_stats (
  workspace_id TEXT NOT NULL,
  receiver TEXT NOT NULL,
  hour INTEGER NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 0,
  signature_failures INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, receiver, hour)
) WITHOUT ROWID;

CREATE TABLE receiver_last (
  workspace_id TEXT NOT NULL,
  receiver TEXT NOT NULL,
  last_delivery_at INTEGER,
  last_failure_at INTEGER,
  last_failure_reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (workspace_id, receiver)
) WITHOUT ROWID;
)sql";

// v5: the issues-by-pattern index on an integer key (causeloop_key(pattern_id), a function
// every connection registers) instead of (workspace_id, pattern_id): a quarter of the index
// size and integer comparisons on the ingest path.
constexpr const char* kV5 = R"sql(
ALTER TABLE issues ADD COLUMN pattern_key INTEGER;
UPDATE issues SET pattern_key = causeloop_key(pattern_id) WHERE pattern_id IS NOT NULL;
DROP INDEX issues_pattern;
CREATE INDEX issues_pattern_key ON issues(pattern_key) WHERE pattern_key IS NOT NULL;
)sql";

// v6: small named flags the store keeps about itself (pattern_counts_stale: issues are
// waiting for their pattern's counters, see PatternBatch).
constexpr const char* kV6 = R"sql(
CREATE TABLE store_flags (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// v7: with automerge 16 (v1) equal to FTS5's default crisismerge, a level of the full-text
// index that reached 16 segments was merged whole inside one write transaction before the
// incremental merge could start: a 450 ms writer stall each time the index grew by a level
// (batch-new, one run in two). Now the incremental merge starts at 16 and the all-at-once
// merge waits for 64.
constexpr const char* kV7 = R"sql(
INSERT INTO issues_fts(issues_fts, rank) VALUES('crisismerge', 64);
)sql";

// v8: which issues a pattern holds, out of the issues table. Indexed on the issues row, each
// new issue rewrote the last index page of its pattern, a random page per issue. Now a new
// issue (or one that moved to another pattern) is appended to pattern_members_new, and the
// writer moves that list into pattern_members in pattern order, a batch at a time, so a
// batch shares each pattern's page (sqlite::IssuesOfPattern reads both). Entries of an
// issue's earlier pattern may stay: readers also test the row's pattern_id.
constexpr const char* kV8 = R"sql(
CREATE TABLE pattern_members (
  pattern_key INTEGER NOT NULL,
  issue_rowid INTEGER NOT NULL,
  PRIMARY KEY (pattern_key, issue_rowid)
) WITHOUT ROWID;
CREATE TABLE pattern_members_new (
  issue_rowid INTEGER NOT NULL,
  pattern_key INTEGER NOT NULL
);
INSERT INTO pattern_members(pattern_key, issue_rowid)
  SELECT pattern_key, rowid FROM issues WHERE pattern_key IS NOT NULL;
DROP INDEX issues_pattern_key;
)sql";

// v9: two writes less per ingest request. An ingest job was a row plus an entry in the
// index on its id (two B-trees, four pages per single-event transaction); keyed by its id
// (a ULID, so new jobs append) it is one. And issues.pattern_key, unread since v8 (the
// member lists carry the key), is no longer kept.
constexpr const char* kV9 = R"sql(
CREATE TABLE ingest_jobs_v9 (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  status TEXT NOT NULL,
  accepted INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  completed_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO ingest_jobs_v9(id, workspace_id, status, accepted, rejected, created_at, completed_at)
  SELECT id, workspace_id, status, accepted, rejected, created_at, completed_at FROM ingest_jobs;
DROP TABLE ingest_jobs;
ALTER TABLE ingest_jobs_v9 RENAME TO ingest_jobs;
ALTER TABLE issues DROP COLUMN pattern_key;
)sql";

// v10: one write less per new issue. A new issue was also appended to pattern_members_new
// to be found by its pattern until the next MoveMembers; now the issues themselves are that
// list: every issue whose rowid is above store_flags.members_listed_through waits to be
// listed, and MoveMembers lists them (with what pattern_members_new still holds: issues that
// changed pattern) and raises the mark. Issues are never deleted, so a new issue's rowid is
// always above the mark.
constexpr const char* kV10 = R"sql(
INSERT INTO store_flags(name, value)
  VALUES('members_listed_through', (SELECT COALESCE(MAX(rowid), 0) FROM issues))
  ON CONFLICT(name) DO UPDATE SET value=excluded.value;
)sql";

// v11: a pattern's member list in runs. pattern_members held one row per (pattern, issue),
// so listing a batch of 8,192 new issues was 8,192 B-tree seeks and inserts on the writer.
// Now one row per pattern and batch holds its issues' rowids as a JSON array (runs of at most
// 512; MoveMembers), and pattern_members is a view that spreads them out again, so readers
// (sqlite::IssuesOfPattern) query it as before. A run is never rewritten: an issue that
// moved is listed again under its new pattern (twice under one it left and came back to;
// readers take the list as a set, `rowid IN (...)`), and readers also test the row's
// pattern_id.
constexpr const char* kV11 = R"sql(
CREATE TABLE pattern_member_runs (
  pattern_key INTEGER NOT NULL,
  rowids TEXT NOT NULL
);
INSERT INTO pattern_member_runs(pattern_key, rowids)
  SELECT pattern_key, json_group_array(issue_rowid) FROM pattern_members
  GROUP BY pattern_key, issue_rowid >> 9;
DROP TABLE pattern_members;
CREATE INDEX pattern_member_runs_key ON pattern_member_runs(pattern_key);
CREATE VIEW pattern_members(pattern_key, issue_rowid) AS
  SELECT r.pattern_key, j.value FROM pattern_member_runs r, json_each(r.rowids) j;
)sql";

// v12: the issue lists' sort indexes on an integer workspace key, with the row's own rowid
// as the tie-break. Their entries were (workspace id, value, issue id, rowid): ~75 bytes, of
// which 59 were two ids. An update of a known issue moves its last_seen_at entry (and its
// severity entry when that changes), so under a dedup-heavy load every transaction rewrote
// most leaf pages of those indexes. Now an entry is (key, value, rowid), ~15 bytes. The key
// of a workspace is given once and never reused (workspace_keys; no row is ever deleted), so
// a list filtered by it is exactly that workspace's issues. Lists break ties by rowid (the
// order issues were stored in) instead of id; cursors still carry the id of the last row.
constexpr const char* kV12 = R"sql(
CREATE TABLE workspace_keys (
  key INTEGER PRIMARY KEY,
  workspace_id TEXT NOT NULL UNIQUE
);
INSERT INTO workspace_keys(workspace_id)
  SELECT DISTINCT workspace_id FROM issues ORDER BY workspace_id;
ALTER TABLE issues ADD COLUMN ws_key INTEGER NOT NULL DEFAULT 0;
UPDATE issues SET ws_key =
  (SELECT k.key FROM workspace_keys k WHERE k.workspace_id = issues.workspace_id);
DROP INDEX issues_created;
DROP INDEX issues_last_seen;
DROP INDEX issues_severity;
CREATE INDEX issues_created ON issues(ws_key, created_at);
CREATE INDEX issues_last_seen ON issues(ws_key, last_seen_at);
CREATE INDEX issues_severity ON issues(ws_key, severity);
)sql";

// v13: the full-text index moves to a database file of its own, written by its own thread
// (sqlite::SearchIndexer, search_index.h). The writer lists each change of an issue's text
// in search_changes, with the text before it (NULL for a new issue), so that an indexer
// that restarts can take out what it indexed before. The index file is built from the
// issues table when first opened.
constexpr const char* kV13 = R"sql(
DROP TABLE issues_fts;
DELETE FROM store_flags WHERE name = 'search_unindexed_from';
CREATE TABLE search_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  issue_rowid INTEGER NOT NULL,
  old_title TEXT,
  old_body TEXT
);
)sql";

// v14: issues in last_seen_at order come from issue_seen, an append-mostly log with stale
// entries deleted in batches (sqlite::SeenLog, seen_log.h), instead of an index whose entry
// moved, from a random leaf page, on every re-sent record.
constexpr const char* kV14 = R"sql(
CREATE TABLE issue_seen (
  ws_key INTEGER NOT NULL,
  seen_at INTEGER NOT NULL,
  issue_rowid INTEGER NOT NULL,
  PRIMARY KEY (ws_key, seen_at, issue_rowid)
) WITHOUT ROWID;
INSERT INTO issue_seen(ws_key, seen_at, issue_rowid)
  SELECT ws_key, last_seen_at, rowid FROM issues ORDER BY ws_key, last_seen_at, rowid;
DROP INDEX issues_last_seen;
)sql";

constexpr std::array<Migration, 14> kMigrations = {{{1, kV1},
                                                    {2, kV2},
                                                    {3, kV3},
                                                    {4, kV4},
                                                    {5, kV5},
                                                    {6, kV6},
                                                    {7, kV7},
                                                    {8, kV8},
                                                    {9, kV9},
                                                    {10, kV10},
                                                    {11, kV11},
                                                    {12, kV12},
                                                    {13, kV13},
                                                    {14, kV14}}};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

}  // namespace causeloop::store::sqlite
