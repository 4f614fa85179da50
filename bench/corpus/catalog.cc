#include "corpus/catalog.h"

#include <initializer_list>

#include "corpus/catalog_groups.h"

namespace causeloop::corpus {
namespace {

constexpr Source kDd = Source::kDatadog;
constexpr Source kPd = Source::kPagerDuty;
constexpr Source kJira = Source::kJira;
constexpr Source kSentry = Source::kSentry;
constexpr Source kGh = Source::kGitHub;
constexpr Source kAm = Source::kAlertmanager;
constexpr Source kGf = Source::kGrafana;
constexpr Source kSn = Source::kServiceNow;
constexpr Source kCw = Source::kCloudWatch;
constexpr Source kApi = Source::kCustomApi;

std::vector<Template> Join(std::initializer_list<std::vector<Template>> groups) {
  std::vector<Template> out;
  for (const auto& group : groups) out.insert(out.end(), group.begin(), group.end());
  return out;
}

// Datadog RUM monitors on front-end JavaScript errors.
std::vector<Template> RumErrorGroup() {
  return {
      {kDd, Kind::kAlert, "[{Triggered|Re-Triggered}] RUM: JS error rate above 2% on {svc}",
       "%%%\n**{.2-15}%** of {svc} views had a JavaScript error in the last 15 minutes.\n"
       "Top error: `{exc}: {msg}`\nBrowsers: {Chrome|Safari|all}\n%%%",
       3},
  };
}

// Shared dependencies and data stores -------------------------------------------------------

void AddDataCauses(std::vector<Cause>& c) {
  c.push_back({
      .id = "pg-primary-down",
      .services = {"payments-api", "checkout", "inventory"},
      .shape = Shape::kStorm,
      .weight = 60,
      .params = {{"dep", "postgres-primary"},
                 {"port", "5432"},
                 {"dep_alert", "PostgresqlDown"},
                 {"dep_job", "postgres-exporter"},
                 {"exp_port", "9187"},
                 {"conn_line",
                  "{could not connect to server: Connection refused|connection to postgres-primary"
                  ".db.svc.cluster.local:5432 refused|dial tcp {ip}:5432: connect: connection "
                  "refused}"},
                 {"err_hint",
                  "{Top error: `Connection refused` (postgres-primary:5432)|"
                  "Most errors are database connection failures.|}"},
                 {"tk",
                  "{Checkout failing intermittently - DB timeouts?|payments down?? cant connect "
                  "to database|Orders/stock API returning 500s, postgres connection refused|All "
                  "DB-backed services erroring - is postgres primary down?|Customers can't pay - "
                  "database connection errors}"},
                 {"tkb",
                  "{Seeing lots of|Getting|We have} `Connection refused` errors from {svc} when "
                  "talking to postgres-primary:5432 since around {hms} UTC. {Started right after "
                  "the maintenance window?|Failover didn't seem to kick in.|Patroni shows no "
                  "leader?|Did someone restart the DB?} {Example request id {reqid}|Request ids: "
                  "{reqid}, {reqid2}|}"}},
      .errors =
          {{.lang = "py",
            .exc = "psycopg2.OperationalError",
            .msg = "connection to server at \"postgres-primary.db.svc.cluster.local\" ({ip}), "
                   "port 5432 failed: Connection refused",
            .frames = "connect@/usr/local/lib/python3.11/site-packages/psycopg2/__init__.py;"
                      "__connect@/usr/local/lib/python3.11/site-packages/sqlalchemy/pool/base.py;"
                      "get_charge@/app/payments/repo/charges.py;"
                      "create_charge@/app/payments/api/charges.py",
            .svc = "payments-api"},
           {.lang = "java",
            .exc = "org.postgresql.util.PSQLException",
            .msg = "Connection to postgres-primary.db.svc.cluster.local:5432 refused. Check that "
                   "the hostname and port are correct and that the postmaster is accepting "
                   "TCP/IP connections.",
            .frames = "org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl@"
                      "ConnectionFactoryImpl.java;"
                      "com.zaxxer.hikari.pool.HikariPool.createPoolEntry@HikariPool.java;"
                      "com.shop.checkout.repo.OrderRepository.save@OrderRepository.java;"
                      "com.shop.checkout.CheckoutService.placeOrder@CheckoutService.java",
            .svc = "checkout"},
           {.lang = "go",
            .exc = "*pgconn.ConnectError",
            .msg =
                "failed to connect to `host=postgres-primary.db.svc.cluster.local user=inventory "
                "database=inventory`: dial error (dial tcp {ip}:5432: connect: connection "
                "refused)",
            .frames = "github.com/jackc/pgx/v5/pgconn.ConnectConfig@/go/pkg/mod/github.com/jackc/"
                      "pgx/v5@v5.5.4/pgconn/pgconn.go;"
                      "inventory/internal/store.(*Store).Reserve@/src/inventory/internal/store/"
                      "stock.go;"
                      "inventory/internal/api.(*Handler).reserve@/src/inventory/internal/api/"
                      "reserve.go",
            .svc = "inventory"}},
      .templates = Join({ConnRefusedGroup(), ErrorRateGroup(), SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "redis-cache-down",
      .services = {"cart", "checkout"},
      .weight = 30,
      .params = {{"dep", "redis-cache"},
                 {"port", "6379"},
                 {"dep_alert", "RedisDown"},
                 {"dep_job", "redis-exporter"},
                 {"exp_port", "9121"},
                 {"conn_line",
                  "{connect ECONNREFUSED {ip}:6379|Unable to connect to "
                  "redis-cache:6379: Connection refused|Error 111 connecting to "
                  "redis-cache:6379. Connection refused.}"},
                 {"err_hint", "{Top error: `ECONNREFUSED` (redis-cache:6379)|}"},
                 {"tk",
                  "{Cart empty after refresh - redis down?|cart service errors, connection "
                  "refused to redis|Checkout slow + carts lost, redis-cache unreachable|"
                  "redis cache connection refused in prod}"},
                 {"tkb",
                  "{Customers report|Support says|We see} carts {disappearing|being "
                  "emptied} and {svc} logs `Connection refused` to redis-cache:6379 "
                  "{since {hms}|for the last {#10-50} minutes}. {Sentinel failover?|Is the "
                  "redis pod being evicted?|}"}},
      .errors = {{.lang = "node",
                  .exc = "Error",
                  .msg = "connect ECONNREFUSED {ip}:6379",
                  .frames = "TCPConnectWrap.afterConnect [as oncomplete]@node:net;"
                            "Redis.sendCommand@/app/node_modules/ioredis/built/Redis.js;"
                            "getCart@/app/src/cart/store.js;"
                            "cartHandler@/app/src/routes/cart.js",
                  .svc = "cart"},
                 {.lang = "java",
                  .exc = "io.lettuce.core.RedisConnectionException",
                  .msg = "Unable to connect to redis-cache.cache.svc.cluster.local/{ip}:6379",
                  .frames = "io.lettuce.core.RedisConnectionException.create@"
                            "RedisConnectionException.java;"
                            "io.lettuce.core.RedisClient.connect@RedisClient.java;"
                            "com.shop.checkout.cache.SessionCache.load@SessionCache.java;"
                            "com.shop.checkout.CheckoutService.placeOrder@CheckoutService.java",
                  .svc = "checkout"}},
      .templates = Join({ConnRefusedGroup(), ErrorRateGroup(), SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "redis-sessions-maxmemory",
      .services = {"auth"},
      .weight = 12,
      .params = {{"err_hint",
                  "Top error: `OOM command not allowed when used memory > "
                  "'maxmemory'` from redis-sessions"},
                 {"tk",
                  "{Users randomly logged out|Login failing - redis OOM command not "
                  "allowed|cannot log in, session store full?|Sessions lost after "
                  "login, redis-sessions memory}"},
                 {"tkb",
                  "Since {hms} {some|many} users {cannot log in|get logged out right "
                  "after login}. auth logs: `OOM command not allowed when used memory > "
                  "'maxmemory'` on redis-sessions:6379. {Were session TTLs removed in the "
                  "last release?|Memory graph is flat at 100%.|}"}},
      .errors = {{.lang = "py",
                  .exc = "redis.exceptions.OutOfMemoryError",
                  .msg = "OOM command not allowed when used memory > 'maxmemory'.",
                  .frames = "execute_command@/usr/local/lib/python3.11/site-packages/redis/"
                            "client.py;"
                            "save_session@/app/auth/sessions/store.py;"
                            "login@/app/auth/api/login.py"}},
      .templates = Join(
          {ErrorRateGroup(),
           SentryGroup(),
           TicketGroup(),
           {{kAm, Kind::kAlert, "[FIRING:1] RedisOutOfMemory (redis-sessions:9121 warning)",
             "Labels:\n - alertname = RedisOutOfMemory\n - instance = redis-sessions:9121\n"
             " - severity = warning\nAnnotations:\n - summary = Redis out of memory (instance "
             "redis-sessions:9121)\n - description = Redis is running out of memory (> 90%)\n"
             "   VALUE = {.95-100}",
             4},
            {kDd, Kind::kAlert,
             "[{Triggered|Re-Triggered}] Redis memory usage above 95% on redis-sessions",
             "%%%\n**max:redis.mem.used\\{redis_host:redis-sessions\\} / "
             "max:redis.mem.maxmemory\\{redis_host:redis-sessions\\}** was **> 0.95** (current "
             "{.95-100}%).\nEvicted keys: 0 (policy noeviction)\n%%%",
             3}}}),
  });

  c.push_back({
      .id = "payments-db-pool-leak",
      .services = {"payments-api"},
      .weight = 28,
      .params = {{"err_hint",
                  "Top error: `sqlalchemy.exc.TimeoutError: QueuePool limit of size 20 "
                  "overflow 10 reached`"},
                 {"lat_hint",
                  "{Most time is spent waiting for a DB connection.|Spans stuck in "
                  "`sqlalchemy.pool.checkout` for up to 30s.|}"},
                 {"tk",
                  "{payments-api slow, DB pool exhausted?|Refund worker hanging + pool "
                  "timeouts|QueuePool limit reached in payments|payments timing out again "
                  "(connection pool)}"},
                 {"tkb",
                  "{Charges|Refund batches|Payouts} {time out|take 30s and fail} with "
                  "`QueuePool limit of size 20 overflow 10 reached, connection timed out, "
                  "timeout 30`. {pg_stat_activity shows {#20-30} sessions idle in "
                  "transaction from payments-api.|Restarting the pods fixes it for a few "
                  "hours.|Looks like sessions are not returned to the pool.}"}},
      .errors = {{.lang = "py",
                  .exc = "sqlalchemy.exc.TimeoutError",
                  .msg = "QueuePool limit of size 20 overflow 10 reached, connection timed out, "
                         "timeout 30.00 (Background on this error at: "
                         "https://sqlalche.me/e/20/3o7r)",
                  .frames = "_do_get@/usr/local/lib/python3.11/site-packages/sqlalchemy/pool/"
                            "impl.py;"
                            "_checkout@/usr/local/lib/python3.11/site-packages/sqlalchemy/pool/"
                            "base.py;"
                            "list_pending@/app/payments/repo/refunds.py;"
                            "process_refund_batch@/app/payments/workers/refunds.py"}},
      .templates = Join({LatencyGroup(), ErrorRateGroup(), SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "orders-hikari-pool-timeout",
      .services = {"orders"},
      .weight = 18,
      .params = {{"err_hint",
                  "Top error: `HikariPool-1 - Connection is not available, request "
                  "timed out after 30000ms`"},
                 {"lat_hint",
                  "{Threads blocked in HikariPool.getConnection.|Connection pool "
                  "active=10/10, pending={#20-200}.|}"},
                 {"tk",
                  "{Orders page timing out|HikariPool connection timeouts in orders|orders "
                  "API: Connection is not available, request timed out|order list hangs "
                  "when CSV export is running}"},
                 {"tkb",
                  "orders {returns 500|hangs} with `Connection is not available, request "
                  "timed out after 30000ms` {whenever finance runs the CSV export|during "
                  "peak}. Pool size is 10. {Thread dump attached.|}"}},
      .errors = {{.lang = "java",
                  .exc = "java.sql.SQLTransientConnectionException",
                  .msg = "HikariPool-1 - Connection is not available, request timed out after "
                         "30000ms.",
                  .frames = "com.zaxxer.hikari.pool.HikariPool.createTimeoutException@"
                            "HikariPool.java;"
                            "com.zaxxer.hikari.pool.HikariPool.getConnection@HikariPool.java;"
                            "com.zaxxer.hikari.HikariDataSource.getConnection@"
                            "HikariDataSource.java;"
                            "com.shop.orders.repo.OrderRepository.findByCustomer@"
                            "OrderRepository.java;"
                            "com.shop.orders.api.OrderController.list@OrderController.java"}},
      .templates = Join({LatencyGroup(), ErrorRateGroup(), SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "orders-missing-index",
      .services = {"orders"},
      .weight = 22,
      .params = {{"err_hint", "Top error: `canceling statement due to statement timeout`"},
                 {"lat_hint",
                  "{Slowest span: `SELECT o.* FROM orders o WHERE lower(o.email) = $1 ORDER BY "
                  "o.created_at DESC` ({.3-30}s)|Seq scan on orders ({#40-90}M rows).|}"},
                 {"tk",
                  "{Order history super slow after last release|order search times out "
                  "for big customers|Support can't search orders by email (timeout)|orders: "
                  "statement timeout on search}"},
                 {"tkb",
                  "Searching orders by email {takes forever|times out} since the "
                  "{{ver} release|migration on {date}}. Error: `ERROR: canceling statement "
                  "due to statement timeout`. {EXPLAIN shows a Seq Scan on orders.|Did the "
                  "migration drop idx_orders_email_lower?|}"}},
      .errors = {{.lang = "java",
                  .exc = "org.postgresql.util.PSQLException",
                  .msg = "ERROR: canceling statement due to statement timeout",
                  .frames = "org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse@"
                            "QueryExecutorImpl.java;"
                            "org.postgresql.jdbc.PgPreparedStatement.executeQuery@"
                            "PgPreparedStatement.java;"
                            "com.shop.orders.repo.OrderRepository.searchByEmail@"
                            "OrderRepository.java;"
                            "com.shop.orders.api.OrderController.search@OrderController.java"}},
      .templates = Join(
          {LatencyGroup(),
           SentryGroup(),
           TicketGroup(),
           {{kAm, Kind::kAlert, "[FIRING:1] PostgresqlSlowQueries (orders-db:9187 warning)",
             "Labels:\n - alertname = PostgresqlSlowQueries\n - datname = orders\n"
             " - instance = orders-db:9187\nAnnotations:\n - summary = PostgreSQL executing slow "
             "queries\n - description = Mean query time {.1-30}s over the last 5m\n"
             "   query: SELECT o.* FROM orders o WHERE lower(o.email) = $1 ORDER BY o.created_at "
             "DESC LIMIT $2",
             3}}}),
  });

  c.push_back({
      .id = "pg-replica-wal-disk-full",
      .services = {"postgres"},
      .weight = 16,
      .params = {{"disk_host", "postgres-replica-2"},
                 {"mount", "/var/lib/postgresql/data"},
                 {"device", "/dev/nvme1n1"},
                 {"disk_log",
                  "{ts_log} UTC [{#100-99999}] FATAL:  could not write to file "
                  "\"pg_wal/xlogtemp.{#100-99999}\": No space left on device"},
                 {"tk",
                  "{postgres replica 2 disk full|pg replica down - no space left on "
                  "device|[DB] replica-2 data volume at 100%|WAL piling up on replica-2}"},
                 {"tkb",
                  "/var/lib/postgresql/data on postgres-replica-2 is {full|at 99%}, "
                  "pg_wal is {#300-900}GB. {Replication slot `debezium_orders` is inactive "
                  "and retaining WAL - was the CDC connector decommissioned?|Looks like an "
                  "old replication slot holds WAL.|}"}},
      .templates = Join({DiskGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "kafka-broker-log-volume-full",
      .services = {"kafka"},
      .weight = 12,
      .params = {{"disk_host", "kafka-broker-3"},
                 {"mount", "/var/log"},
                 {"device", "/dev/nvme0n1p1"},
                 {"disk_log",
                  "log4j:ERROR Failed to flush writer,\njava.io.IOException: No space "
                  "left on device\n\tat java.base/java.io.FileOutputStream."
                  "writeBytes(Native Method)\n\tat org.apache.log4j.helpers."
                  "QuietWriter.flush(QuietWriter.java:59)"},
                 {"tk",
                  "{kafka-broker-3 /var/log full (debug logging left on?)|Disk full on "
                  "kafka broker 3|kafka-broker-3: no space left on device (log volume)}"},
                 {"tkb",
                  "/var/log on kafka-broker-3 is at 100%. server.log is {#40-120}GB - "
                  "{somebody set log4j.logger.kafka=DEBUG while debugging "
                  "replication|request logging at DEBUG}. Data volume is fine."}},
      .templates = Join({DiskGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "pg-replication-lag",
      .services = {"postgres"},
      .weight = 14,
      .params = {{"tk",
                  "{Reports showing stale data|Replica lag on postgres-replica-1 again|"
                  "Dashboards {#10-90} minutes behind}"},
                 {"tkb",
                  "Read replica postgres-replica-1 is {#10-90} minutes behind. "
                  "{Analytics queries from Metabase run for hours on the replica.|"
                  "hot_standby_feedback is on and a long query blocks replay.|}"}},
      .templates =
          Join({TicketGroup(),
                {{kAm, Kind::kAlert,
                  "[FIRING:1] PostgresqlReplicationLag (postgres-replica-1:9187 critical)",
                  "Labels:\n - alertname = PostgresqlReplicationLag\n - instance = "
                  "postgres-replica-1:9187\n - severity = critical\nAnnotations:\n - summary = "
                  "Postgresql replication lag (instance postgres-replica-1:9187)\n - description = "
                  "PostgreSQL replication lag is going up (> 30s)\n   VALUE = {#30-5400}",
                  4},
                 {kDd, Kind::kAlert, "[{Triggered|Warn}] Replication delay on postgres-replica-1",
                  "%%%\n**max:postgresql.replication_delay\\{host:postgres-replica-1\\}** was **> "
                  "60** (current {#60-5400}s).\n%%%",
                  3},
                 {kGf, Kind::kAlert, "[FIRING:1] Postgres replica lag",
                  "**Firing**\n\nValue: A={#30-5400}\nLabels:\n - instance = postgres-replica-1\n",
                  2}}}),
  });

  c.push_back({
      .id = "inventory-deadlock",
      .services = {"inventory"},
      .weight = 11,
      .params = {{"err_hint", "Top error: `deadlock detected (SQLSTATE 40P01)`"},
                 {"tk",
                  "{Stock reservations failing at peak with deadlock errors|inventory: "
                  "deadlock detected during flash sale|reserve endpoint 500s (40P01)}"},
                 {"tkb",
                  "During {the flash sale|peak} ~{#1-8}% of reservations fail with "
                  "`deadlock detected`. Two orders with the same SKUs lock rows in "
                  "different order?"}},
      .errors = {{.lang = "go",
                  .exc = "*pgconn.PgError",
                  .msg = "ERROR: deadlock detected (SQLSTATE 40P01)",
                  .frames = "inventory/internal/store.(*Store).lockSKU@/src/inventory/internal/"
                            "store/stock.go;"
                            "inventory/internal/reserve.(*Service).Reserve@/src/inventory/"
                            "internal/reserve/reserve.go;"
                            "inventory/internal/api.(*Handler).reserve@/src/inventory/internal/"
                            "api/reserve.go"}},
      .templates = Join({SentryGroup(), TicketGroup(), ErrorRateGroup()}),
  });

  c.push_back({
      .id = "es-cluster-red",
      .services = {"search-api", "search-indexer"},
      .weight = 15,
      .params = {{"err_hint", "Top error: `search_phase_execution_exception: all shards failed`"},
                 {"tk",
                  "{Search returns nothing / 503|site search broken|Elasticsearch cluster "
                  "RED after es-data-4 died|product search down}"},
                 {"tkb",
                  "Search {returns 503|shows 'no results'} since {hms}. `_cluster/health` "
                  "is red, {#3-40} unassigned primary shards after es-data-{#0-5} was "
                  "replaced."}},
      .errors = {{.lang = "py",
                  .exc = "elasticsearch.ApiError",
                  .msg = "ApiError(503, 'search_phase_execution_exception', 'all shards failed')",
                  .frames = "perform_request@/usr/local/lib/python3.11/site-packages/"
                            "elasticsearch/_sync/client/_base.py;"
                            "search@/app/search/query/products.py;"
                            "search_products@/app/search/api/products.py",
                  .svc = "search-api"}},
      .templates = Join(
          {ErrorRateGroup(),
           SentryGroup(),
           TicketGroup(),
           {{kAm, Kind::kAlert, "[FIRING:1] ElasticsearchClusterRed (es-exporter:9114 critical)",
             "Labels:\n - alertname = ElasticsearchClusterRed\n - cluster = search-prod\n"
             " - severity = critical\nAnnotations:\n - summary = Elastic Cluster Red (instance "
             "es-exporter:9114)\n - description = Elastic Cluster Red status\n   "
             "unassigned_shards = {#3-40}",
             4},
            {kDd, Kind::kAlert, "[Triggered] Elasticsearch cluster health is red",
             "%%%\nCluster search-prod status: **red**\nUnassigned shards: {#3-40}\nNodes: "
             "{#5-8}/9\n%%%",
             2}}}),
  });

  c.push_back({
      .id = "es-bulk-circuit-breaker",
      .services = {"search-indexer"},
      .weight = 13,
      .params = {{"err_hint", "Top error: `circuit_breaking_exception [parent] Data too large`"},
                 {"tk",
                  "{search-indexer bulk requests rejected (429)|Data too large "
                  "circuit breaker on ES bulk|Indexer failing: circuit_breaking_exception}"},
                 {"tkb",
                  "search-indexer `_bulk` requests get HTTP 429 `circuit_breaking_exception"
                  "` since bulk size went to {#5000-20000} docs. Search itself works."}},
      .errors = {{.lang = "java",
                  .exc = "org.elasticsearch.client.ResponseException",
                  .msg = "method [POST], host [http://es-data-{#0-5}:9200], URI [/_bulk], status "
                         "line [HTTP/1.1 429 Too Many Requests] "
                         "\\{\"error\":\\{\"type\":\"circuit_breaking_exception\",\"reason\":"
                         "\"[parent] Data too large, data for [<http_request>] would be "
                         "[{#16400000000-17900000000}/{.15-16}gb], which is larger than the limit "
                         "of [16320875724/15.1gb]\"\\}\\}",
                  .frames = "org.elasticsearch.client.RestClient.convertResponse@"
                            "RestClient.java;"
                            "org.elasticsearch.client.RestClient.performRequest@RestClient.java;"
                            "com.shop.search.indexer.BulkWriter.flush@BulkWriter.java;"
                            "com.shop.search.indexer.ProductUpdateListener.onBatch@"
                            "ProductUpdateListener.java"}},
      .templates = Join({SentryGroup(), TicketGroup(), ErrorRateGroup()}),
  });

  c.push_back({
      .id = "kafka-under-replicated",
      .services = {"kafka"},
      .weight = 9,
      .params = {{"tk",
                  "{Kafka under-replicated partitions after broker-2 flaps|URP alert on "
                  "kafka, broker-2 network}"},
                 {"tkb",
                  "broker-2 keeps dropping out of the ISR ({#3-40} partitions). ENA "
                  "driver resets in dmesg on that instance."}},
      .templates = Join(
          {TicketGroup(),
           {{kAm, Kind::kAlert,
             "[FIRING:1] KafkaUnderReplicatedPartitions (kafka-broker-2:7071 critical)",
             "Labels:\n - alertname = KafkaUnderReplicatedPartitions\n - instance = "
             "kafka-broker-2:7071\nAnnotations:\n - description = {#3-40} under-replicated "
             "partitions\n - summary = Kafka under replicated partitions",
             4},
            {kDd, Kind::kAlert, "[Triggered] Under-replicated partitions on kafka-prod",
             "%%%\n**max:kafka.replication.under_replicated_partitions\\{kafka_cluster:prod\\}** "
             "= {#3-40}\nBroker kafka-broker-2 left ISR {#2-30} times in 1h.\n%%%",
             2}}}),
  });

  c.push_back({
      .id = "billing-ora-00942",
      .services = {"billing-legacy"},
      .weight = 11,
      .params = {{"ora_job", "InvoiceExportJob"},
                 {"ora_line", "ORA-00942: table or view does not exist"},
                 {"tk",
                  "{Invoice export failing ORA-00942 after DB migration|billing export: "
                  "table or view does not exist|ORA-00942 in billing-legacy since "
                  "weekend}"},
                 {"tkb",
                  "InvoiceExportJob fails with `ORA-00942: table or view does not exist`. "
                  "{INVOICE_LINES was renamed to INVOICE_LINE_ITEMS in the schema "
                  "migration.|Synonym BILLING.INVOICE_LINES missing after the migration?|}"}},
      .errors = {{.lang = "java",
                  .exc = "java.sql.SQLSyntaxErrorException",
                  .msg = "ORA-00942: table or view does not exist",
                  .frames = "oracle.jdbc.driver.T4CTTIoer11.processError@T4CTTIoer11.java;"
                            "oracle.jdbc.driver.T4CPreparedStatement.executeForDescribe@"
                            "T4CPreparedStatement.java;"
                            "com.shop.billing.dao.InvoiceLineDao.findByInvoice@"
                            "InvoiceLineDao.java;"
                            "com.shop.billing.jobs.InvoiceExportJob.run@InvoiceExportJob.java"}},
      .templates = Join({SentryGroup(), TicketGroup(), OracleLogMonitorGroup()}),
  });

  c.push_back({
      .id = "finance-report-ora-01555",
      .services = {"finance-reports"},
      .weight = 6,
      .params = {{"ora_job", "ReportRunner"},
                 {"ora_line",
                  "ORA-01555: snapshot too old: rollback segment number {#10-40} with "
                  "name \"_SYSSMU{#10-40}_{#1000000000-4000000000}$\" too small"},
                 {"tk",
                  "{Nightly finance report failed ORA-01555|month-end report: snapshot "
                  "too old}"},
                 {"tkb",
                  "The revenue report ran {#3-7}h and died with `ORA-01555: snapshot too "
                  "old`. UNDO_RETENTION is 900."}},
      .errors = {{.lang = "java",
                  .exc = "java.sql.SQLException",
                  .msg = "ORA-01555: snapshot too old: rollback segment number {#10-40} with name "
                         "\"_SYSSMU{#10-40}_{#1000000000-4000000000}$\" too small",
                  .frames = "oracle.jdbc.driver.T4CTTIoer11.processError@T4CTTIoer11.java;"
                            "oracle.jdbc.driver.T4CPreparedStatement.fetch@"
                            "T4CPreparedStatement.java;"
                            "com.shop.finance.reports.RevenueReport.collect@RevenueReport.java;"
                            "com.shop.finance.reports.ReportRunner.run@ReportRunner.java"}},
      .templates = Join({SentryGroup(), TicketGroup(), OracleLogMonitorGroup()}),
  });

  c.push_back({
      .id = "orders-migration-ran-late",
      .services = {"orders"},
      .weight = 9,
      .params = {{"err_hint", "Top error: `relation \"order_items_v2\" does not exist`"},
                 {"repo", "shop/orders"},
                 {"workflow", "deploy-prod"},
                 {"job", "smoke-test"},
                 {"ci_log",
                  "POST /api/orders -> 500\n{ts_ms} ERROR o.h.engine.jdbc.spi."
                  "SqlExceptionHelper - ERROR: relation \"order_items_v2\" does not "
                  "exist\n  Position: {#20-200}\nsmoke test failed: 3/12 checks"},
                 {"tk",
                  "{orders 500 right after deploy - relation does not exist|Deploy "
                  "pipeline ran app before migration (order_items_v2)}"},
                 {"tkb",
                  "New pods started before the Flyway migration job finished; "
                  "`relation \"order_items_v2\" does not exist` for ~{#2-15} minutes."}},
      .errors = {{.lang = "java",
                  .exc = "org.postgresql.util.PSQLException",
                  .msg = "ERROR: relation \"order_items_v2\" does not exist",
                  .frames = "org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse@"
                            "QueryExecutorImpl.java;"
                            "com.shop.orders.repo.OrderItemRepository.findByOrder@"
                            "OrderItemRepository.java;"
                            "com.shop.orders.api.OrderController.get@OrderController.java"}},
      .templates = Join({SentryGroup(), ErrorRateGroup(), CiGroup(), TicketGroup()}),
  });
}

// Kubernetes, network, TLS, cloud --------------------------------------------------------------

void AddPlatformCauses(std::vector<Cause>& c) {
  c.push_back({
      .id = "search-indexer-oom",
      .services = {"search-indexer"},
      .weight = 26,
      .params = {{"container", "indexer"},
                 {"mem_limit", "4Gi"},
                 {"mem_peak", "{4.0|3.9|4.1}Gi"},
                 {"tk",
                  "{search-indexer keeps restarting (OOMKilled)|Indexer pods OOM since "
                  "batch size change|search-indexer exit code 137 loop}"},
                 {"tkb",
                  "search-indexer pods restart every {#5-40} min with `OOMKilled` (exit "
                  "code 137). {The bulk batch size was raised from 500 to {#5000-20000} in "
                  "{ver}.|Heap grows while building bulk requests.|}"}},
      .templates = Join({OomGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "recommendations-oom",
      .services = {"recommendations"},
      .weight = 14,
      .params = {{"container", "recommender"},
                 {"mem_limit", "8Gi"},
                 {"mem_peak", "{8.0|7.9|8.1}Gi"},
                 {"tk",
                  "{recommendations pods OOMKilled after model update|recommender exit "
                  "code 137 on startup|Recs service crash looping - OOM}"},
                 {"tkb",
                  "Since the new embedding model (v{#20-40}) was published the recommender "
                  "gets OOMKilled while loading it. {The model file is twice the size.|"
                  "Limit is 8Gi.|}"}},
      .templates =
          Join({OomGroup(),
                TicketGroup(),
                {{kApi, Kind::kAlert, "ml-platform: model load failed for recommendations",
                  "model: item-embeddings v{#20-40}\nstage: warmup\nerror: worker terminated "
                  "(signal 9) while loading {#9-14}.{#0-9} GB of weights\npod: {pod}",
                  2}}}),
  });

  c.push_back({
      .id = "node-notready-containerd",
      .services = {"k8s-nodes"},
      .shape = Shape::kStorm,
      .weight = 20,
      .params = {{"tk",
                  "{Several k8s nodes NotReady (containerd hung)|Nodes flapping NotReady, "
                  "PLEG errors|prod cluster losing nodes}"},
                 {"tkb",
                  "{#2-9} nodes went NotReady, kubelet logs `PLEG is not healthy`. "
                  "containerd is hung on kernel {5.10.210|5.10.214}. Pods get "
                  "rescheduled."}},
      .templates = Join(
          {TicketGroup(),
           {{kAm, Kind::kAlert, "[FIRING:1] KubeNodeNotReady ({node} critical)",
             "Labels:\n - alertname = KubeNodeNotReady\n - node = {node}\n - severity = "
             "warning\nAnnotations:\n - description = {node} has been unready for more than 15 "
             "minutes.\n - runbook_url = https://runbooks.prometheus-operator.dev/runbooks/"
             "kubernetes/kubenodenotready",
             5},
            {kAm, Kind::kAlert, "[FIRING:{#1-9}] KubePodNotReady ({any_pod} prod warning)",
             "Labels:\n - alertname = KubePodNotReady\n - namespace = prod\n - pod = {any_pod}\n"
             "Annotations:\n - description = Pod prod/{any_pod} has been in a non-ready state "
             "for longer than 15 minutes.\n - node = {node}",
             4},
            {kDd, Kind::kAlert, "[Triggered] Kubernetes node {node} is NotReady",
             "%%%\nNode {node} condition Ready=Unknown: Kubelet stopped posting node status.\n"
             "kubelet: `PLEG is not healthy: pleg was last seen active {#3-9}m{#0-59}s ago; "
             "threshold is 3m0s`\n%%%",
             3},
            {kPd, Kind::kIncident,
             "{Kubernetes nodes NotReady in prod|[Triggered] Kubernetes "
             "node {node} is NotReady}",
             "Incident #{#100000-999999}\nUrgency: high\nAssigned to: {user}\n\n{#2-9} nodes "
             "NotReady; {#20-300} pods pending.",
             1},
            {kCw, Kind::kAlert, "ALARM: \"eks-prod-node-status-check\" in US East (N. Virginia)",
             "Alarm: eks-prod-node-status-check\nInstance {instance_id} ({node}) kubelet "
             "heartbeat missing for {#3-20} minutes.\nState Change: OK -> ALARM at {ts_cw}",
             1}}}),
  });

  c.push_back({
      .id = "node-disk-pressure-logs",
      .services = {"k8s-nodes"},
      .weight = 10,
      .params = {{"disk_host", "{node}"},
                 {"mount", "/var/lib/kubelet"},
                 {"device", "/dev/nvme0n1p1"},
                 {"disk_log",
                  "kubelet: eviction manager: attempting to reclaim ephemeral-storage\n"
                  "kubelet: Evicted pod {any_pod}: The node was low on resource: "
                  "ephemeral-storage. Container was using {#8-40}Gi, which exceeds "
                  "its request of 0."},
                 {"tk",
                  "{Pods evicted for ephemeral-storage on several nodes|DiskPressure on "
                  "nodes - chatty container logs|node disk pressure evictions}"},
                 {"tkb",
                  "Pods evicted with `The node was low on resource: ephemeral-storage`. "
                  "{The audit-sidecar writes {#5-30}GB/day of logs to stdout and log "
                  "rotation is off.|/var/log/pods full.|}"}},
      .templates =
          Join({DiskGroup(),
                TicketGroup(),
                {{kAm, Kind::kAlert, "[FIRING:1] KubeNodeDiskPressure ({node} warning)",
                  "Labels:\n - alertname = KubeNodeDiskPressure\n - node = {node}\nAnnotations:\n"
                  " - description = {node} has DiskPressure condition.",
                  3}}}),
  });

  c.push_back({
      .id = "auth-crashloop-missing-secret",
      .services = {"auth"},
      .weight = 13,
      .params = {{"container", "auth"},
                 {"crash_log",
                  "Traceback (most recent call last):\n  File \"/app/auth/main.py\", line 12, in "
                  "<module>\n    settings = load_settings()\n  File \"/app/auth/config.py\", line "
                  "{#40-48}, in load_settings\n    signing_key=os.environ[\"JWT_SIGNING_KEY\"],\n"
                  "KeyError: 'JWT_SIGNING_KEY'"},
                 {"tk",
                  "{auth down after secret rename|Login broken - auth pods crashlooping|"
                  "auth CrashLoopBackOff KeyError JWT_SIGNING_KEY}"},
                 {"tkb",
                  "auth pods crash on start: `KeyError: 'JWT_SIGNING_KEY'`. {The secret "
                  "was renamed to AUTH_JWT_SIGNING_KEY in vault but the deployment still "
                  "maps the old name.|Rollout {ver} stuck.|}"}},
      .templates = Join({CrashLoopGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "notifications-crashloop-bad-config",
      .services = {"notifications"},
      .weight = 9,
      .params = {{"container", "notifications"},
                 {"crash_log",
                  "Traceback (most recent call last):\n  File \"/app/notifications/main.py\", "
                  "line 9, in <module>\n    config = load_config()\n  File "
                  "\"/app/notifications/config.py\", line {#20-28}, in load_config\n    return "
                  "yaml.safe_load(fh)\nyaml.scanner.ScannerError: mapping values are not allowed "
                  "here\n  in \"/etc/notifications/config.yaml\", line {#10-80}, column "
                  "{#5-30}"},
                 {"tk",
                  "{notifications crashlooping after config change|notifications "
                  "CrashLoopBackOff - YAML error|No emails/push since config PR}"},
                 {"tkb",
                  "notifications pods crash on start with `yaml.scanner.ScannerError: "
                  "mapping values are not allowed here`. {The ConfigMap change from PR "
                  "#{#1000-9999} has a tab in it.|}"}},
      .templates = Join({CrashLoopGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "coredns-overload",
      .services = {"payments-api", "checkout", "cart", "inventory", "api-gateway"},
      .shape = Shape::kStorm,
      .weight = 16,
      .params = {{"err_hint",
                  "{Top error: `Temporary failure in name resolution`|DNS lookup "
                  "failures across services.|}"},
                 {"tk",
                  "{Random DNS failures across services|getaddrinfo EAI_AGAIN everywhere "
                  "- coredns?|Intermittent 'no such host' / name resolution errors in "
                  "prod}"},
                 {"tkb",
                  "Lots of services log DNS errors ({EAI_AGAIN|Temporary failure in name "
                  "resolution|i/o timeout on 172.20.0.10:53}) since {hms}. coredns pods "
                  "are at their CPU limit{ after the ndots:5 change|}."}},
      .errors = {{.lang = "py",
                  .exc = "socket.gaierror",
                  .msg = "[Errno -3] Temporary failure in name resolution",
                  .frames = "create_connection@/usr/local/lib/python3.11/socket.py;"
                            "_new_conn@/usr/local/lib/python3.11/site-packages/urllib3/"
                            "connection.py;"
                            "authorize@/app/payments/acquirer/client.py;"
                            "create_charge@/app/payments/api/charges.py",
                  .svc = "payments-api"},
                 {.lang = "node",
                  .exc = "Error",
                  .msg = "getaddrinfo EAI_AGAIN tax-service.prod.svc.cluster.local",
                  .frames = "GetAddrInfoReqWrap.onlookup [as oncomplete]@node:dns;"
                            "quoteTax@/app/src/pricing/tax.js;"
                            "cartHandler@/app/src/routes/cart.js",
                  .svc = "cart"},
                 {.lang = "java",
                  .exc = "java.net.UnknownHostException",
                  .msg = "inventory.prod.svc.cluster.local: Temporary failure in name resolution",
                  .frames = "java.base/java.net.Inet6AddressImpl.lookupAllHostAddr@"
                            "Inet6AddressImpl.java;"
                            "java.base/java.net.InetAddress.getAllByName0@InetAddress.java;"
                            "com.shop.checkout.clients.InventoryClient.reserve@"
                            "InventoryClient.java;"
                            "com.shop.checkout.CheckoutService.placeOrder@CheckoutService.java",
                  .svc = "checkout"},
                 {.lang = "go",
                  .exc = "*net.DNSError",
                  .msg = "lookup postgres-primary.db.svc.cluster.local on 172.20.0.10:53: read "
                         "udp {ip}:{#30000-60000}->172.20.0.10:53: i/o timeout",
                  .frames = "net.(*Resolver).lookupIPAddr@/usr/local/go/src/net/lookup.go;"
                            "inventory/internal/store.(*Store).Reserve@/src/inventory/internal/"
                            "store/stock.go;"
                            "inventory/internal/api.(*Handler).reserve@/src/inventory/internal/"
                            "api/reserve.go",
                  .svc = "inventory"}},
      .templates = Join(
          {ErrorRateGroup(),
           SentryGroup(),
           TicketGroup(),
           {{kAm, Kind::kAlert,
             "[FIRING:{#1-2}] {CoreDNSErrorsHigh|CoreDNSLatencyHigh} "
             "(kube-dns kube-system critical)",
             "Labels:\n - alertname = CoreDNSErrorsHigh\n - job = kube-dns\n - namespace = "
             "kube-system\n - pod = coredns-{hex8}-{#10000-99999}\nAnnotations:\n - description = "
             "CoreDNS is returning SERVFAIL for {.3-40}% of requests.",
             5},
            {kDd, Kind::kAlert, "[Triggered] CoreDNS SERVFAIL rate high",
             "%%%\n**sum:coredns.response_code_count\\{rcode:servfail\\}.as_rate()** above 50/s "
             "(current {#50-4000}/s).\nCPU throttling on coredns pods: {#40-95}%.\n%%%",
             3}}}),
  });

  c.push_back({
      .id = "ingress-cert-expired",
      .services = {"api-gateway"},
      .weight = 9,
      .params = {{"tk",
                  "{Customers see 'Your connection is not private'|api.example-shop.com "
                  "certificate expired!!|Mobile app can't connect - SSL error}"},
                 {"tkb",
                  "{Support has {#10-200} tickets|Customers report} that "
                  "api.example-shop.com shows a certificate error. `openssl s_client` "
                  "says the certificate expired on {date}. {cert-manager renewal failed: "
                  "ACME HTTP-01 challenge blocked by the new WAF rule.|}"}},
      .templates = Join(
          {TicketGroup(),
           {{kAm, Kind::kAlert, "[FIRING:1] SSLCertExpired (https://api.example-shop.com critical)",
             "Labels:\n - alertname = SSLCertExpired\n - instance = "
             "https://api.example-shop.com\n - job = blackbox-https\nAnnotations:\n - summary = "
             "SSL certificate has expired (instance https://api.example-shop.com)\n"
             " - description = probe_ssl_earliest_cert_expiry - time() = -{#60-90000}",
             4},
            {kDd, Kind::kAlert,
             "[Synthetics] API test failed: GET https://api.example-shop.com/"
             "health",
             "%%%\nAssertion failed on {#2-6} locations.\nError: `SSL: certificate has "
             "expired`\n%%%",
             3},
            {kApi, Kind::kAlert, "cert-manager: Certificate prod/api-example-shop-tls not ready",
             "Certificate prod/api-example-shop-tls: Ready=False\nReason: Failed\nMessage: "
             "Issuing certificate as Secret was previously issued by Issuer "
             "letsencrypt-prod\nOrder failed: acme: authorization error for api.example-shop.com: "
             "403 urn:ietf:params:acme:error:unauthorized",
             2},
            {kPd, Kind::kIncident,
             "{api.example-shop.com TLS certificate expired|[Synthetics] "
             "API test failed: GET https://api.example-shop.com/health}",
             "Incident #{#100000-999999}\nUrgency: high\nAssigned to: {user}\n\nx509: "
             "certificate has expired or is not yet valid: current time {ts} is after {date}",
             2}}}),
  });

  c.push_back({
      .id = "acquirer-mtls-cert-expired",
      .services = {"payments-api"},
      .weight = 7,
      .params = {{"err_hint",
                  "Top error: `SSLV3_ALERT_CERTIFICATE_EXPIRED` from "
                  "api.acquirer-bank.com"},
                 {"tk",
                  "{Card authorizations failing - acquirer SSL error|Client certificate "
                  "for acquirer expired?|payments: certificate expired talking to bank}"},
                 {"tkb",
                  "All card authorizations fail with `sslv3 alert certificate expired`. "
                  "Our mTLS client certificate for api.acquirer-bank.com expired {date}; "
                  "the renewal reminder went to a former employee."}},
      .errors = {{.lang = "py",
                  .exc = "requests.exceptions.SSLError",
                  .msg = "HTTPSConnectionPool(host='api.acquirer-bank.com', port=443): Max "
                         "retries exceeded with url: /v2/authorize (Caused by "
                         "SSLError(SSLError(1, '[SSL: SSLV3_ALERT_CERTIFICATE_EXPIRED] sslv3 alert "
                         "certificate expired (_ssl.c:1006)')))",
                  .frames = "send@/usr/local/lib/python3.11/site-packages/requests/adapters.py;"
                            "authorize@/app/payments/acquirer/client.py;"
                            "create_charge@/app/payments/api/charges.py"}},
      .templates =
          Join({ErrorRateGroup(),
                SentryGroup(),
                TicketGroup(),
                {{kDd, Kind::kAlert, "[Triggered] Card authorization success rate below 90%",
                  "%%%\nAuthorization success rate: {.0-40}% (normal 97%).\nDeclines by reason: "
                  "`ssl_error` {#80-100}%\n%%%",
                  3}}}),
  });

  c.push_back({
      .id = "gateway-upstream-keepalive",
      .services = {"api-gateway", "user-profile"},
      .weight = 20,
      .params = {{"err_hint",
                  "{Top error: `upstream connect error or disconnect/reset before "
                  "headers. reset reason: connection termination`|Response flags: "
                  "UC|}"},
                 {"tk",
                  "{Intermittent 503s from API (~0.5%)|random 503 upstream connect error|"
                  "api-gateway: upstream reset before headers}"},
                 {"tkb",
                  "About {.1-2}% of requests through the gateway get `503 upstream connect "
                  "error or disconnect/reset before headers. reset reason: connection "
                  "termination`. {Mostly user-profile routes.|user-profile's idle timeout "
                  "(5s) is shorter than envoy's (60s)?|}"}},
      .templates =
          Join({ErrorRateGroup(),
                TicketGroup(),
                {{kApi, Kind::kAlert, "envoy access log: 503 UC on {svc}",
                  "[{ts_ms}] \"GET /v1/users/{uuid}/profile HTTP/1.1\" 503 UC 0 95 {#1-60} - "
                  "\"{ext_ip}\" \"okhttp/4.12.0\" \"{reqid}\" \"user-profile.prod.svc:8080\" "
                  "\"{ip}:8080\"\nupstream connect error or disconnect/reset before headers. reset "
                  "reason: connection termination",
                  3}}}),
  });

  c.push_back({
      .id = "media-upload-fd-leak",
      .services = {"media-upload"},
      .weight = 11,
      .params = {{"err_hint", "Top error: `EMFILE: too many open files`"},
                 {"tk",
                  "{Image uploads fail after a few hours (EMFILE)|media-upload: too many "
                  "open files|uploads broken until pod restart}"},
                 {"tkb",
                  "media-upload fails with `EMFILE: too many open files` after ~{#3-9}h "
                  "uptime; `ls /proc/1/fd | wc -l` = {#60000-65536}. Temp file streams are "
                  "not closed on aborted uploads."}},
      .errors = {{.lang = "node",
                  .exc = "Error",
                  .msg = "EMFILE: too many open files, open '/tmp/uploads/{uuid}.part'",
                  .frames = "Object.openSync@node:fs;"
                            "createTempFile@/app/src/upload/tempfile.js;"
                            "handleUpload@/app/src/routes/upload.js"}},
      .templates = Join({SentryGroup(), ErrorRateGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "media-s3-access-denied",
      .services = {"media-processor"},
      .weight = 10,
      .params = {{"err_hint", "Top error: `AccessDenied` on PutObject"},
                 {"cw_alarm", "media-processor-dlq-depth"},
                 {"cw_ns", "AWS/SQS"},
                 {"cw_metric", "ApproximateNumberOfMessagesVisible"},
                 {"cw_dim", "[QueueName = media-processor-dlq]"},
                 {"cw_thr", "100.0"},
                 {"cw_value", "{#101-9000}.0"},
                 {"tk",
                  "{Thumbnails not generated since IAM change|media-processor S3 "
                  "AccessDenied|Uploads stuck - 403 from S3}"},
                 {"tkb",
                  "media-processor can't write thumbnails: `AccessDenied` on PutObject to "
                  "shop-media-prod. {The IAM policy refactor dropped s3:PutObject on "
                  "thumbnails/*.|}"}},
      .errors = {{.lang = "py",
                  .exc = "botocore.exceptions.ClientError",
                  .msg = "An error occurred (AccessDenied) when calling the PutObject operation: "
                         "Access Denied",
                  .frames = "_make_api_call@/usr/local/lib/python3.11/site-packages/botocore/"
                            "client.py;"
                            "upload_fileobj@/app/media/storage/s3.py;"
                            "make_thumbnail@/app/media/tasks/thumbnails.py"}},
      .templates = Join({SentryGroup(), CloudWatchGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "exports-s3-slowdown",
      .services = {"data-exports"},
      .weight = 7,
      .params = {{"cw_alarm", "data-exports-s3-5xx"},
                 {"cw_ns", "AWS/S3"},
                 {"cw_metric", "5xxErrors"},
                 {"cw_dim", "[BucketName = shop-exports-prod, FilterId = all]"},
                 {"cw_thr", "50.0"},
                 {"cw_value", "{#51-3000}.0"},
                 {"tk",
                  "{Nightly exports slow / failing with SlowDown|S3 503 SlowDown on "
                  "exports}"},
                 {"tkb",
                  "data-exports writes {#100000-900000} small objects under one prefix; "
                  "S3 answers `SlowDown` (503). {Add prefix sharding?|}"}},
      .errors = {{.lang = "py",
                  .exc = "botocore.exceptions.ClientError",
                  .msg = "An error occurred (SlowDown) when calling the PutObject operation "
                         "(reached max retries: 4): Please reduce your request rate.",
                  .frames = "_make_api_call@/usr/local/lib/python3.11/site-packages/botocore/"
                            "client.py;"
                            "write_part@/app/exports/storage/s3.py;"
                            "export_orders@/app/exports/tasks/orders.py"}},
      .templates = Join({SentryGroup(), CloudWatchGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "reporting-db-cpu-bi-refresh",
      .services = {"reporting-db"},
      .weight = 9,
      .params = {{"cw_alarm", "reporting-db-cpu-high"},
                 {"cw_ns", "AWS/RDS"},
                 {"cw_metric", "CPUUtilization"},
                 {"cw_dim", "[DBInstanceIdentifier = reporting-db]"},
                 {"cw_thr", "90.0"},
                 {"cw_value", "{.90-100}"},
                 {"tk",
                  "{reporting-db CPU 100% every morning|Dashboards slow 6-8am (RDS "
                  "CPU)}"},
                 {"tkb",
                  "RDS reporting-db pegs CPU between 06:00 and 08:00 UTC when the BI "
                  "tool refreshes all {#80-200} dashboards at once."}},
      .templates = Join({CloudWatchGroup(),
                         TicketGroup(),
                         {{kGf, Kind::kAlert, "[FIRING:1] RDS CPU reporting-db",
                           "**Firing**\n\nValue: A={.90-100}\nLabels:\n - dbinstance_identifier = "
                           "reporting-db\n",
                           2}}}),
  });

  c.push_back({
      .id = "thumbnailer-lambda-timeout",
      .services = {"thumbnailer"},
      .weight = 7,
      .params = {{"cw_alarm", "thumbnailer-errors"},
                 {"cw_ns", "AWS/Lambda"},
                 {"cw_metric", "Errors"},
                 {"cw_dim", "[FunctionName = thumbnailer]"},
                 {"cw_thr", "1.0"},
                 {"cw_value", "{#1-300}.0"},
                 {"tk",
                  "{thumbnailer lambda timing out on large PNGs|Task timed out after 30 "
                  "seconds (thumbnailer)}"},
                 {"tkb",
                  "`Task timed out after 30.0{#0-9} seconds` for uploads larger than "
                  "{#20-60}MB."}},
      .templates = Join(
          {CloudWatchGroup(),
           TicketGroup(),
           {{kApi, Kind::kAlert, "lambda thumbnailer: Task timed out",
             "REPORT RequestId: {uuid}\tDuration: 30003.{#10-99} ms\tBilled Duration: 30000 ms\t"
             "Memory Size: 1024 MB\tMax Memory Used: {#300-1024} MB\n{ts_ms} {uuid} Task timed "
             "out after 30.0{#0-9} seconds",
             2}}}),
  });
}

// Application defects ------------------------------------------------------------------------

void AddAppCauses(std::vector<Cause>& c) {
  c.push_back({
      .id = "payments-fx-decimal-regression",
      .services = {"payments-api"},
      .weight = 45,
      .params = {{"err_hint",
                  "{Top error: `TypeError: unsupported operand type(s) for *: "
                  "'decimal.Decimal' and 'float'`|Started after deploy of "
                  "payments-api {ver}.|}"},
                 {"tk",
                  "{Multi-currency payments failing since release|EUR->GBP charges "
                  "returning 500|URGENT payments broken for non-USD|FX conversion error "
                  "in payments}"},
                 {"tkb",
                  "Charges in {EUR|GBP|SEK|JPY} fail with 500 since {the {ver} "
                  "deploy|this morning}. Sentry: `unsupported operand type(s) for *: "
                  "'decimal.Decimal' and 'float'`. USD is fine. {Rollback?|}"}},
      .errors = {{.lang = "py",
                  .exc = "TypeError",
                  .msg = "unsupported operand type(s) for *: 'decimal.Decimal' and 'float'",
                  .frames = "convert@/app/payments/fx/rates.py;"
                            "apply_fx@/app/payments/fx/convert.py;"
                            "create_charge@/app/payments/api/charges.py"}},
      .templates = Join({ErrorRateGroup(), SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "checkout-tax-flag-misconfig",
      .services = {"checkout"},
      .weight = 28,
      .params = {{"err_hint",
                  "{Top error: `TaxCalculationException: Tax engine 'avalara-v2' "
                  "returned HTTP 500`|Errors began when flag new_tax_engine was set "
                  "to 100%.|}"},
                 {"tk",
                  "{Checkout 500s for EU customers|checkout broken after enabling "
                  "new_tax_engine flag|Tax calculation failing at checkout}"},
                 {"tkb",
                  "{Customers in {DE|FR|NL|UK}|Some regions} get an error on 'Place order'. "
                  "Started when `new_tax_engine` was rolled out to 100%; the avalara-v2 "
                  "account isn't configured for {EU|UK} nexus."}},
      .errors = {{.lang = "java",
                  .exc = "com.shop.checkout.tax.TaxCalculationException",
                  .msg = "Tax engine 'avalara-v2' returned HTTP 500 for region {EU|UK|DE|FR}",
                  .frames = "com.shop.checkout.tax.AvalaraV2Client.calculate@"
                            "AvalaraV2Client.java;"
                            "com.shop.checkout.tax.TaxService.quote@TaxService.java;"
                            "com.shop.checkout.CheckoutService.placeOrder@CheckoutService.java"}},
      .templates = Join({ErrorRateGroup(), SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "checkout-npe-apply-discount",
      .services = {"checkout"},
      .weight = 24,
      .params = {{"err_hint", "Top error: `NullPointerException` in CheckoutService.applyDiscount"},
                 {"tk",
                  "{Checkout fails when coupon field is empty|NPE in applyDiscount|"
                  "500 on place order with expired coupon}"},
                 {"tkb",
                  "Place order returns 500 when {the coupon code is expired|the coupon "
                  "box is left empty|a removed promo is in the cart}. "
                  "NullPointerException in CheckoutService.applyDiscount."}},
      .errors = {{.lang = "java",
                  .exc = "java.lang.NullPointerException",
                  .msg = "Cannot invoke \"com.shop.checkout.promo.Coupon.getPercentOff()\" "
                         "because \"coupon\" is null",
                  .frames = "com.shop.checkout.promo.DiscountCalculator.percentOff@"
                            "DiscountCalculator.java;"
                            "com.shop.checkout.CheckoutService.applyDiscount@"
                            "CheckoutService.java;"
                            "com.shop.checkout.api.CheckoutController.submit@"
                            "CheckoutController.java"}},
      .templates = Join({SentryGroup(), TicketGroup(), ErrorRateGroup()}),
  });

  c.push_back({
      .id = "orders-npe-mapper",
      .services = {"orders"},
      .weight = 16,
      .params = {{"err_hint", "Top error: `NullPointerException` in OrderMapper.toDto"},
                 {"tk",
                  "{Order details page 500 for digital orders|NPE in OrderMapper.toDto|"
                  "Orders without shipping address crash the API}"},
                 {"tkb",
                  "GET /orders/{uuid} returns 500 for orders without a shipping address "
                  "(gift cards, e-books). NullPointerException in OrderMapper.toDto."}},
      .errors = {{.lang = "java",
                  .exc = "java.lang.NullPointerException",
                  .msg = "Cannot invoke \"com.shop.orders.model.Address.getCountry()\" because "
                         "the return value of \"com.shop.orders.model.Order.getShippingAddress()"
                         "\" is null",
                  .frames = "com.shop.orders.mapper.OrderMapper.toDto@OrderMapper.java;"
                            "com.shop.orders.api.OrderController.get@OrderController.java"}},
      .templates = Join({SentryGroup(), TicketGroup(), ErrorRateGroup()}),
  });

  c.push_back({
      .id = "web-checkout-undefined-price",
      .services = {"web-checkout"},
      .weight = 34,
      .params = {{"tk",
                  "{Cart page blank for some users|checkout page crashes - Cannot read "
                  "properties of undefined|White screen on cart with bundle products}"},
                 {"tkb",
                  "{Customers|QA} report a blank cart page when the cart contains a "
                  "{bundle|product that went out of stock}. Console: `TypeError: Cannot "
                  "read properties of undefined (reading 'price')`."}},
      .errors = {{.lang = "js",
                  .exc = "TypeError",
                  .msg = "Cannot read properties of undefined (reading 'price')",
                  .frames = "computeLineTotal@webpack:///src/cart/totals.ts;"
                            "CartSummary@webpack:///src/components/CartSummary.tsx"}},
      .templates = Join({SentryGroup(), TicketGroup(), RumErrorGroup()}),
  });

  c.push_back({
      .id = "web-account-undefined-id",
      .services = {"web-account"},
      .weight = 13,
      .params = {{"tk",
                  "{Address book page crashes|account page blank - Cannot read "
                  "properties of undefined}"},
                 {"tkb",
                  "Users without a saved address get a blank address book. Console: "
                  "`TypeError: Cannot read properties of undefined (reading 'id')`."}},
      .errors = {{.lang = "js",
                  .exc = "TypeError",
                  .msg = "Cannot read properties of undefined (reading 'id')",
                  .frames = "defaultAddressId@webpack:///src/account/addresses.ts;"
                            "AddressBook@webpack:///src/components/AddressBook.tsx"}},
      .templates = Join({SentryGroup(), TicketGroup(), RumErrorGroup()}),
  });

  c.push_back({
      .id = "stripe-rate-limit-refunds",
      .services = {"payments-api"},
      .weight = 13,
      .params = {{"err_hint", "Top error: `stripe.error.RateLimitError` (HTTP 429)"},
                 {"tk",
                  "{Refund batch hitting Stripe rate limits|429 Too Many Requests from "
                  "Stripe|refunds failing - rate limited}"},
                 {"tkb",
                  "The nightly refund batch sends {#200-900} req/s to Stripe and gets "
                  "HTTP 429 (rate_limit). No backoff in the worker."}},
      .errors = {{.lang = "py",
                  .exc = "stripe.error.RateLimitError",
                  .msg = "Request req_{hex16}: Too many requests hit the API too quickly. We "
                         "recommend an exponential backoff of your requests.",
                  .frames = "handle_error_response@/usr/local/lib/python3.11/site-packages/"
                            "stripe/api_requestor.py;"
                            "refund@/app/payments/psp/stripe_client.py;"
                            "process_refund_batch@/app/payments/workers/refunds.py"}},
      .templates = Join({SentryGroup(), TicketGroup(), ErrorRateGroup()}),
  });

  c.push_back({
      .id = "sendgrid-rate-limit",
      .services = {"notifications"},
      .weight = 9,
      .params = {{"err_hint", "Top error: `TooManyRequestsError` (HTTP 429) from SendGrid"},
                 {"tk",
                  "{Marketing emails rate limited by SendGrid|429 Too Many Requests from "
                  "SendGrid|emails failing - rate limited}"},
                 {"tkb",
                  "Campaign sends hit SendGrid's limit and get HTTP 429; transactional "
                  "mails share the same API key and fail too."}},
      .errors = {{.lang = "py",
                  .exc = "python_http_client.exceptions.TooManyRequestsError",
                  .msg = "HTTP Error 429: Too Many Requests",
                  .frames = "_make_request@/usr/local/lib/python3.11/site-packages/"
                            "python_http_client/client.py;"
                            "send@/app/notifications/providers/sendgrid.py;"
                            "deliver_email@/app/notifications/workers/email.py"}},
      .templates = Join({SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "notifications-ses-smtp-slow",
      .services = {"notifications"},
      .weight = 18,
      .params = {{"group", "notifications-email"},
                 {"topic", "notifications.email"},
                 {"tk",
                  "{Password reset emails arriving hours late|Email delays - notifications "
                  "lag|order confirmation emails delayed}"},
                 {"tkb",
                  "Emails arrive {#1-4}h late. Workers spend {#20-30}s per message in "
                  "SMTP `DATA` to email-smtp.eu-west-1.amazonaws.com:587 (timed out / "
                  "retried)."}},
      .errors = {{.lang = "py",
                  .exc = "TimeoutError",
                  .msg = "timed out",
                  .frames = "getreply@/usr/local/lib/python3.11/smtplib.py;"
                            "send_message@/app/notifications/providers/ses_smtp.py;"
                            "deliver_email@/app/notifications/workers/email.py"}},
      .templates = Join({ConsumerLagGroup(), SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "search-indexer-rebalance-loop",
      .services = {"search-indexer"},
      .shape = Shape::kStorm,
      .weight = 26,
      .params = {{"group", "search-indexer"},
                 {"topic", "catalog.product-updates"},
                 {"tk",
                  "{Search results stale (hours old)|Product updates not showing in "
                  "search|search-indexer consumer group rebalancing constantly}"},
                 {"tkb",
                  "Price changes take {#1-9}h to show in search. search-indexer logs "
                  "`CommitFailedException` and the group rebalances every few minutes "
                  "(max.poll.interval.ms exceeded while processing large batches)."}},
      .errors = {{.lang = "java",
                  .exc = "org.apache.kafka.clients.consumer.CommitFailedException",
                  .msg = "Offset commit cannot be completed since the consumer is not part of an "
                         "active group for auto partition assignment; it is likely that the "
                         "consumer was kicked out of the group.",
                  .frames = "org.apache.kafka.clients.consumer.internals.ConsumerCoordinator."
                            "sendOffsetCommitRequest@ConsumerCoordinator.java;"
                            "org.apache.kafka.clients.consumer.KafkaConsumer.commitSync@"
                            "KafkaConsumer.java;"
                            "com.shop.search.indexer.ProductUpdateListener.onBatch@"
                            "ProductUpdateListener.java",
                  .svc = "search-indexer"}},
      .templates = Join({ConsumerLagGroup(), SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "auth-jwks-rotation",
      .services = {"auth", "api-gateway"},
      .weight = 18,
      .params = {{"err_hint",
                  "{Top error: 401 `Jwks doesn't have key to match kid or alg from "
                  "Jwt`|401 responses up {#5-40}x.|}"},
                 {"tk",
                  "{Everyone getting 401 after key rotation|Mobile users logged out - "
                  "invalid token|401s: kid not found in JWKS}"},
                 {"tkb",
                  "After rotating the signing key at {hms}, tokens signed with the new "
                  "kid are rejected: the gateway caches JWKS for 24h. `Jwks doesn't have "
                  "key to match kid or alg from Jwt`."}},
      .errors = {{.lang = "py",
                  .exc = "jwt.exceptions.PyJWKClientError",
                  .msg = "Unable to find a signing key that matches: \"{hex16}\"",
                  .frames = "get_signing_key@/usr/local/lib/python3.11/site-packages/jwt/"
                            "jwks_client.py;"
                            "verify_token@/app/auth/tokens/verify.py;"
                            "introspect@/app/auth/api/introspect.py",
                  .svc = "auth"}},
      .templates =
          Join({ErrorRateGroup(),
                SentryGroup(),
                TicketGroup(),
                {{kDd, Kind::kAlert, "[Triggered] 401 rate above 5% on {svc}",
                  "%%%\n**sum:trace.http.request.hits\\{service:{svc},http.status_code:401\\}** is "
                  "{.5-60}% of requests.\n%%%",
                  3}}}),
  });

  c.push_back({
      .id = "auth-clock-skew",
      .services = {"auth"},
      .weight = 5,
      .params = {{"tk",
                  "{Random 'token not yet valid' errors|Login fails on some pods - iat "
                  "in the future}"},
                 {"tkb",
                  "Some auth pods reject fresh tokens with `The token is not yet valid "
                  "(iat)`. Those pods run on {node} whose clock is {#2-40}s ahead (chrony "
                  "stopped)."}},
      .errors = {{.lang = "py",
                  .exc = "jwt.exceptions.ImmatureSignatureError",
                  .msg = "The token is not yet valid (iat)",
                  .frames = "_validate_iat@/usr/local/lib/python3.11/site-packages/jwt/"
                            "api_jwt.py;"
                            "verify_token@/app/auth/tokens/verify.py;"
                            "introspect@/app/auth/api/introspect.py"}},
      .templates =
          Join({SentryGroup(),
                TicketGroup(),
                {{kAm, Kind::kAlert, "[FIRING:1] NodeClockSkewDetected ({node}:9100 warning)",
                  "Labels:\n - alertname = NodeClockSkewDetected\n - instance = {node}:9100\n"
                  "Annotations:\n - description = Clock on {node}:9100 is out of sync by more than "
                  "0.05s. Ensure NTP is configured correctly on this host.\n   VALUE = {.2-40}",
                  3}}}),
  });

  c.push_back({
      .id = "ledger-heap-leak",
      .services = {"ledger"},
      .weight = 13,
      .params = {{"tk",
                  "{ledger service OutOfMemoryError every few days|ledger: GC overhead "
                  "limit exceeded|Ledger slow then dies (heap)}"},
                 {"tkb",
                  "ledger's old gen grows until `java.lang.OutOfMemoryError: {Java heap "
                  "space|GC overhead limit exceeded}`; heap dump shows {#2-9}M entries in "
                  "AccountBalanceCache (no eviction)."}},
      .errors = {{.lang = "java",
                  .exc = "java.lang.OutOfMemoryError",
                  .msg = "{Java heap space|GC overhead limit exceeded}",
                  .frames = "java.base/java.util.HashMap.resize@HashMap.java;"
                            "com.shop.ledger.cache.AccountBalanceCache.put@"
                            "AccountBalanceCache.java;"
                            "com.shop.ledger.PostingService.post@PostingService.java"}},
      .templates =
          Join({SentryGroup(),
                TicketGroup(),
                LatencyGroup(),
                {{kAm, Kind::kAlert, "[FIRING:1] JvmHeapUsageHigh (ledger prod warning)",
                  "Labels:\n - alertname = JvmHeapUsageHigh\n - area = heap\n - pod = {pod}\n"
                  "Annotations:\n - description = JVM heap usage is {#90-99}% (old gen), GC time "
                  "{#20-80}%",
                  3}}}),
  });

  c.push_back({
      .id = "inventory-nil-map-panic",
      .services = {"inventory"},
      .weight = 9,
      .params = {{"tk",
                  "{inventory sync panics: assignment to entry in nil map|Stock sync "
                  "crashing on new warehouse}"},
                 {"tkb",
                  "The sync worker panics with `assignment to entry in nil map` for "
                  "warehouse {WH-{#10-99}|AMS-2|BER-1} (added yesterday)."}},
      .errors = {{.lang = "go",
                  .exc = "panic",
                  .msg = "assignment to entry in nil map",
                  .frames = "inventory/internal/sync.(*Syncer).applyDelta@/src/inventory/"
                            "internal/sync/delta.go;"
                            "inventory/internal/sync.(*Syncer).Run@/src/inventory/internal/sync/"
                            "syncer.go"}},
      .templates = Join({SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "inventory-index-out-of-range",
      .services = {"inventory"},
      .weight = 4,
      .params = {{"tk",
                  "{inventory panics: index out of range on price quote|Quote endpoint "
                  "crashing for bulk quantities}"},
                 {"tkb",
                  "`panic: runtime error: index out of range` in pricing.tierFor when "
                  "quantity is above the last tier."}},
      .errors = {{.lang = "go",
                  .exc = "panic",
                  .msg = "runtime error: index out of range [{#2-6@idx}] with length {#2-6@idx}",
                  .frames = "inventory/internal/pricing.tierFor@/src/inventory/internal/pricing/"
                            "tiers.go;"
                            "inventory/internal/api.(*Handler).quote@/src/inventory/internal/api/"
                            "quote.go"}},
      .templates = Join({SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "billing-nightly-job-deadline",
      .services = {"billing-worker"},
      .weight = 8,
      .params = {{"tk",
                  "{Invoices not sent this morning|nightly-invoices job did not "
                  "finish|Billing run missing for {date}}"},
                 {"tkb",
                  "nightly-invoices was killed by activeDeadlineSeconds (4h) - invoice "
                  "count grew {#20-60}% this month and the job is single-threaded."}},
      .templates = Join(
          {TicketGroup(),
           {{kAm, Kind::kAlert,
             "[FIRING:1] KubeJobFailed (nightly-invoices-{#28600000-28700000} "
             "prod warning)",
             "Labels:\n - alertname = KubeJobFailed\n - job_name = "
             "nightly-invoices-{#28600000-28700000}\n - namespace = prod\nAnnotations:\n"
             " - description = Job prod/nightly-invoices-{#28600000-28700000} failed to "
             "complete. Reason: DeadlineExceeded (Job was active longer than specified "
             "deadline)",
             4},
            {kDd, Kind::kAlert, "[Triggered] nightly-invoices has not succeeded in 26h",
             "%%%\nLast success: {#26-50}h ago.\n%%%", 3},
            {kPd, Kind::kIncident, "Billing: nightly invoice run failed",
             "Incident #{#100000-999999}\nUrgency: low\nAssigned to: {user}\n\nDeadlineExceeded "
             "after 4h.",
             1}}}),
  });

  c.push_back({
      .id = "stripe-webhook-secret-rotated",
      .services = {"payments-api"},
      .weight = 9,
      .params = {{"err_hint", "Top error: `SignatureVerificationError` on /webhooks/stripe"},
                 {"tk",
                  "{Stripe webhooks failing signature check|Payments stuck in pending - "
                  "webhook 400s}"},
                 {"tkb",
                  "All Stripe webhooks get 400 since the endpoint secret was rolled in "
                  "the dashboard; payments-api still has the old whsec_."}},
      .errors = {{.lang = "py",
                  .exc = "stripe.error.SignatureVerificationError",
                  .msg = "No signatures found matching the expected signature for payload",
                  .frames = "verify_header@/usr/local/lib/python3.11/site-packages/stripe/"
                            "webhook.py;"
                            "stripe_webhook@/app/payments/api/webhooks.py"}},
      .templates = Join({SentryGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "user-profile-n-plus-one",
      .services = {"user-profile"},
      .weight = 15,
      .params = {{"lat_hint",
                  "{Slowest span: `SELECT avatars.* FROM avatars WHERE "
                  "avatars.user_id = $1` executed {#150-900} times per request|}"},
                 {"tk",
                  "{Profile page slow|followers list takes 10s+|user-profile latency "
                  "after friends feature}"},
                 {"tkb",
                  "GET /v1/users/{uuid}/followers takes {#4-15}s for users with many "
                  "followers; the trace shows one avatar query per follower."}},
      .templates = Join({LatencyGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "checkout-tax-provider-slow",
      .services = {"checkout"},
      .weight = 17,
      .params = {{"lat_hint",
                  "{Slowest span: `POST https://rest.avatax.com/api/v2/transactions/"
                  "create` p99 {#4-12}s|tax quote {timed out|timeout|deadline "
                  "exceeded} after 10s|}"},
                 {"tk",
                  "{Checkout slow - tax provider|Place order takes 10s+|avatax timeouts "
                  "at checkout}"},
                 {"tkb",
                  "Place order is slow; tax quotes to Avalara {time out|hit the deadline} "
                  "(`{context deadline exceeded|Read timed out|DEADLINE_EXCEEDED}`). "
                  "status.avalara.com shows degraded performance."}},
      .errors = {{.lang = "java",
                  .exc = "java.net.SocketTimeoutException",
                  .msg = "Read timed out",
                  .frames = "java.base/sun.nio.ch.NioSocketImpl.timedRead@NioSocketImpl.java;"
                            "com.shop.checkout.tax.AvalaraClient.createTransaction@"
                            "AvalaraClient.java;"
                            "com.shop.checkout.tax.TaxService.quote@TaxService.java;"
                            "com.shop.checkout.CheckoutService.placeOrder@CheckoutService.java"}},
      .templates = Join({LatencyGroup(), SentryGroup(), TicketGroup()}),
  });
}

// CI pipelines -------------------------------------------------------------------------------

void AddCiCauses(std::vector<Cause>& c) {
  c.push_back({
      .id = "ci-flaky-order-cancellation-it",
      .services = {"orders"},
      .weight = 38,
      .params = {{"repo", "shop/orders"},
                 {"workflow", "{integration-tests|CI}"},
                 {"job", "integration (postgres-15)"},
                 {"ci_log",
                  "[ERROR] Tests run: {#200-230}, Failures: 1, Errors: 0, Skipped: {#0-4}\n"
                  "[ERROR] Failures:\n[ERROR]   OrderCancellationIT.cancelAfterPartialShipment:"
                  "{#110-118} expected: <CANCELLED> but was: <PARTIALLY_SHIPPED>\n[ERROR] "
                  "Failed to execute goal org.apache.maven.plugins:maven-failsafe-plugin:3.2.5:"
                  "verify (default) on project orders"},
                 {"tk",
                  "{Flaky test OrderCancellationIT|OrderCancellationIT fails randomly on "
                  "main|flaky: cancelAfterPartialShipment}"},
                 {"tkb",
                  "OrderCancellationIT.cancelAfterPartialShipment fails ~1 in {#5-15} runs "
                  "(expected CANCELLED but was PARTIALLY_SHIPPED). The shipment event is "
                  "consumed asynchronously; the test doesn't wait."}},
      .templates = Join({CiGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "ci-npm-token-expired",
      .services = {"web-checkout", "web-account"},
      .weight = 17,
      .params = {{"repo", "shop/{svc}"},
                 {"workflow", "{build|CI}"},
                 {"job", "install"},
                 {"ci_log",
                  "{npm ERR! code E401\nnpm ERR! 401 Unauthorized - GET "
                  "https://npm.pkg.github.com/@shop%2fui-kit - authentication token not provided|"
                  "npm ERR! code E404\nnpm ERR! 404 Not Found - GET "
                  "https://npm.pkg.github.com/@shop%2fui-kit/-/ui-kit-{#3-4}.{#0-20}.{#0-9}.tgz}\n"
                  "npm ERR! A complete log of this run can be found in: "
                  "/home/runner/.npm/_logs/{date}T{hms}_{#100-999}Z-debug-0.log"},
                 {"tk",
                  "{CI can't install @shop/ui-kit (401)|npm install fails in CI for all "
                  "web repos|NPM_TOKEN expired?}"},
                 {"tkb",
                  "All frontend builds fail at `npm ci` with 401/404 for @shop/ui-kit. "
                  "The NPM_TOKEN org secret (a PAT) expired on {date}."}},
      .templates = Join({CiGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "ci-base-image-tag-removed",
      .services = {"payments-api", "notifications"},
      .weight = 11,
      .params = {{"repo", "shop/{svc}"},
                 {"workflow", "{docker|build-and-push}"},
                 {"job", "build-image"},
                 {"ci_log",
                  "#3 [internal] load metadata for docker.io/library/python:3.9.7-slim-buster\n"
                  "#3 ERROR: docker.io/library/python:3.9.7-slim-buster: not found\n------\n"
                  " > [internal] load metadata for docker.io/library/python:3.9.7-slim-buster:\n"
                  "------\nERROR: failed to solve: python:3.9.7-slim-buster: failed to resolve "
                  "source metadata for docker.io/library/python:3.9.7-slim-buster: "
                  "docker.io/library/python:3.9.7-slim-buster: not found"},
                 {"tk",
                  "{Docker builds broken - base image not found|python:3.9.7-slim-buster "
                  "gone from Docker Hub?}"},
                 {"tkb",
                  "Image builds for {svc} fail: `python:3.9.7-slim-buster: not found`. "
                  "We pin a tag that was removed; move to a supported base."}},
      .templates = Join({CiGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "ci-jest-heap-oom",
      .services = {"web-checkout"},
      .weight = 14,
      .params = {{"repo", "shop/web-checkout"},
                 {"workflow", "{test|CI}"},
                 {"job", "unit-tests"},
                 {"ci_log",
                  "{<--- Last few GCs --->\n\n[{#1800-2400}:0x{hex8}]   {#80000-200000} ms: "
                  "Mark-Compact {#2040-2047}.{#0-9} (2082.{#0-9}) -> {#2030-2040}.{#0-9} MB\n\n"
                  "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of "
                  "memory\n|}"
                  "error Command failed with exit code {134|137}.\ninfo Visit "
                  "https://yarnpkg.com/en/docs/cli/run for documentation about this command."},
                 {"tk",
                  "{Jest runs out of memory in CI|unit-tests killed (exit code 137)|CI: "
                  "JavaScript heap out of memory in jest}"},
                 {"tkb",
                  "web-checkout unit tests die with `JavaScript heap out of memory` "
                  "(exit code 137) since {#300-600} new snapshot tests were added; jest "
                  "runs with --maxWorkers=100%."}},
      .templates = Join({CiGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "ci-pg-service-container-not-ready",
      .services = {"payments-api"},
      .weight = 13,
      .params = {{"repo", "shop/payments-api"},
                 {"workflow", "{integration-tests|CI}"},
                 {"job", "pytest-integration"},
                 {"ci_log",
                  "ERROR tests/integration/test_charges.py::test_create_charge - "
                  "psycopg2.OperationalError: connection to server at \"localhost\" "
                  "(127.0.0.1), port 5432 failed: Connection refused\n\tIs the server running on "
                  "that host and accepting TCP/IP connections?\n= {#1-40} failed, {#200-400} "
                  "passed, {#1-40} errors in {#60-400}.{#10-99}s ="},
                 {"tk",
                  "{CI: postgres connection refused in integration tests|payments "
                  "integration tests fail before DB is up}"},
                 {"tkb",
                  "The postgres service container has no health check, so pytest starts "
                  "before it accepts connections (`Connection refused` on "
                  "localhost:5432)."}},
      .templates = Join({CiGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "ci-terraform-state-lock",
      .services = {"infra"},
      .weight = 8,
      .params = {{"repo", "shop/infra"},
                 {"workflow", "terraform-apply"},
                 {"job", "apply (prod/network)"},
                 {"ci_log",
                  "Error: Error acquiring the state lock\n\nError message: "
                  "ConditionalCheckFailedException: The conditional request failed\nLock Info:\n"
                  "  ID:        {uuid}\n  Path:      shop-tfstate/prod/network.tfstate\n"
                  "  Operation: OperationTypeApply\n  Who:       runner@{hex8}\n  Version:   "
                  "1.7.{#0-5}\n  Created:   {ts}"},
                 {"tk",
                  "{terraform apply stuck on state lock|Stale Terraform lock on "
                  "prod/network}"},
                 {"tkb",
                  "A cancelled apply left the DynamoDB lock behind; every run fails with "
                  "`Error acquiring the state lock`."}},
      .templates = Join({CiGroup(), TicketGroup()}),
  });

  c.push_back({
      .id = "ci-golangci-lint-go-version",
      .services = {"inventory"},
      .weight = 3,
      .params = {{"repo", "shop/inventory"},
                 {"workflow", "{lint|CI}"},
                 {"job", "golangci-lint"},
                 {"ci_log",
                  "level=error msg=\"Running error: can't run linter goanalysis_metalinter\\n"
                  "buildir: failed to load package goarch: could not load export data: internal "
                  "error in importing \\\"internal/goarch\\\" (unsupported version: 2); please "
                  "report an issue\""},
                 {"tk",
                  "{golangci-lint broken after Go 1.22 bump|lint job fails: unsupported "
                  "version: 2}"},
                 {"tkb",
                  "golangci-lint v1.55 was built with Go 1.21 and can't read Go 1.22 "
                  "export data."}},
      .templates = Join({CiGroup(), TicketGroup()}),
  });
}

// Causes seen exactly once -------------------------------------------------------------------

void AddOneOffs(std::vector<Cause>& c) {
  auto one = [&](std::string_view id, std::string_view service, Template t) {
    c.push_back({.id = id, .services = {service}, .shape = Shape::kOneOff, .templates = {t}});
  };
  one("oneoff-az-network-degradation", "checkout",
      {kCw, Kind::kAlert, "ALARM: \"elb-checkout-UnHealthyHostCount\" in US East (N. Virginia)",
       "Threshold Crossed: 1 datapoint [{#3-9}.0] was greater than or equal to the threshold "
       "(2.0).\nAWS Health: increased packet loss in use1-az4 (AWS_EC2_OPERATIONAL_ISSUE).\n"
       "Dimensions: [LoadBalancer = app/checkout-prod/{hex16}, AvailabilityZone = us-east-1c]"});
  one("oneoff-statuspage-domain-expired", "statuspage",
      {kJira, Kind::kTicket, "status.example-shop.com not resolving - domain expired??",
       "Our status page domain (example-shop-status.com) expired {date}; the registrar card on "
       "file was cancelled. status.example-shop.com CNAME now points nowhere."});
  one("oneoff-kafka-acl-fraud-group", "fraud-scoring",
      {kSentry, Kind::kError,
       "org.apache.kafka.common.errors.GroupAuthorizationException: Not authorized to access "
       "group: fraud-scoring-v2",
       "org.apache.kafka.common.errors.GroupAuthorizationException: Not authorized to access "
       "group: fraud-scoring-v2\n\tat org.apache.kafka.clients.consumer.internals."
       "AbstractCoordinator$JoinGroupResponseHandler.handle(AbstractCoordinator.java:666)\n"
       "release: fraud-scoring@1.0.0\nserver_name: fraud-scoring-{hex8}-{#10000-99999}"});
  one("oneoff-es-license-expired", "kibana",
      {Source::kServiceNow, Kind::kTicket, "Kibana says 'Your Platinum license has expired'",
       "Caller: {user_name}\nCategory: Software\n\nDescription:\nKibana security features "
       "disabled, license expired {date}. Procurement renewal pending."});
  one("oneoff-gha-runner-not-acquired", "web-checkout",
      {kGh, Kind::kCi, "CI failed: release on main",
       "Job: publish\nThe job was not acquired by Runner of type hosted even after multiple "
       "attempts\nInternal server error. Correlation ID: {uuid}\n(GitHub Actions incident on "
       "githubstatus.com)"});
  one("oneoff-dst-double-renewal", "billing-worker",
      {kJira, Kind::kTicket, "URGENT: customers charged twice for subscription renewal",
       "{#100-900} customers in Europe/Berlin were charged twice on {date}: the renewal cron "
       "runs at 02:30 local time and the clock went back that night."});
  one("oneoff-xid-wraparound-warning", "postgres",
      {kDd, Kind::kAlert, "[Warn] analytics-db: transaction ID age above 1.5B",
       "%%%\n**max:postgresql.before_xid_wraparound\\{db:analytics\\}** < 500000000\n"
       "autovacuum to prevent wraparound on public.events has been running {#10-30}h.\n%%%"});
  one("oneoff-bastion-fork-fail", "bastion",
      {kApi, Kind::kAlert, "cron healthcheck failed on bastion-01",
       "check: ssh-login\nresult: CRITICAL\n-bash: fork: retry: Resource temporarily "
       "unavailable\nnproc limit 4096 reached by {#4000-4096} orphaned ssh-agent processes"});
  one("oneoff-cdn-stale-bundle", "web-checkout",
      {kPd, Kind::kIncident, "Checkout page broken for Safari users",
       "Incident #{#100000-999999}\nUrgency: high\n\nSafari users get `SyntaxError: Unexpected "
       "token '?'` - the CDN still serves main.{hex8}.js from the old build; the purge after "
       "deploy {ver} failed."});
  one("oneoff-leaked-aws-key", "web-checkout",
      {kJira, Kind::kTicket, "GitGuardian: AWS key exposed in shop/web-checkout",
       "GitGuardian found an AWS access key (AKIA{#1000000000000000-9999999999999999}) in "
       "commit {sha7} of shop/web-checkout. Key revoked at {hms}, rotation of CI secrets "
       "pending."});
  one("oneoff-grafana-datasource-dns", "grafana",
      {kGf, Kind::kAlert, "[FIRING:1] DatasourceError (Prometheus long-term)",
       "**Firing**\n\nError: Post \"http://thanos-query:9090/api/v1/query_range\": dial tcp: "
       "lookup thanos-query on 10.96.0.10:53: no such host\n(the thanos-query service was "
       "renamed to thanos-querier)"});
  one("oneoff-giftcard-fraud-page", "payments-api",
      {kPd, Kind::kIncident, "Manual page: suspected fraud spike on gift cards",
       "Incident #{#100000-999999} (created manually by {user})\nUrgency: high\n\nGift card "
       "purchases up {#8-30}x in an hour from {#3-20} BINs, all shipped to the same address."});
}

}  // namespace

std::string_view SourceName(Source source) {
  switch (source) {
    case Source::kDatadog:
      return "datadog";
    case Source::kPagerDuty:
      return "pagerduty";
    case Source::kJira:
      return "jira";
    case Source::kSentry:
      return "sentry";
    case Source::kGitHub:
      return "github";
    case Source::kAlertmanager:
      return "alertmanager";
    case Source::kGrafana:
      return "grafana";
    case Source::kServiceNow:
      return "servicenow";
    case Source::kCloudWatch:
      return "cloudwatch";
    case Source::kCustomApi:
      return "custom_api";
  }
  return "custom_api";
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kAlert:
      return "alert";
    case Kind::kIncident:
      return "incident";
    case Kind::kTicket:
      return "ticket";
    case Kind::kError:
      return "error";
    case Kind::kCi:
      return "ci";
  }
  return "alert";
}

const std::vector<Cause>& Catalog() {
  static const std::vector<Cause> causes = [] {
    std::vector<Cause> c;
    AddDataCauses(c);
    AddPlatformCauses(c);
    AddAppCauses(c);
    AddCiCauses(c);
    AddOneOffs(c);
    return c;
  }();
  return causes;
}

const std::vector<std::pair<std::string_view, std::string_view>>& CatalogNearMisses() {
  static const std::vector<std::pair<std::string_view, std::string_view>> pairs = {
      {"pg-primary-down", "redis-cache-down"},
      {"redis-cache-down", "redis-sessions-maxmemory"},
      {"payments-db-pool-leak", "orders-hikari-pool-timeout"},
      {"orders-hikari-pool-timeout", "orders-missing-index"},
      {"pg-replica-wal-disk-full", "kafka-broker-log-volume-full"},
      {"kafka-broker-log-volume-full", "node-disk-pressure-logs"},
      {"search-indexer-oom", "recommendations-oom"},
      {"auth-crashloop-missing-secret", "notifications-crashloop-bad-config"},
      {"media-s3-access-denied", "exports-s3-slowdown"},
      {"payments-fx-decimal-regression", "checkout-tax-flag-misconfig"},
      {"checkout-npe-apply-discount", "orders-npe-mapper"},
      {"web-checkout-undefined-price", "web-account-undefined-id"},
      {"stripe-rate-limit-refunds", "sendgrid-rate-limit"},
      {"auth-jwks-rotation", "auth-clock-skew"},
      {"inventory-nil-map-panic", "inventory-index-out-of-range"},
      {"user-profile-n-plus-one", "checkout-tax-provider-slow"},
      {"billing-ora-00942", "finance-report-ora-01555"},
      {"search-indexer-rebalance-loop", "notifications-ses-smtp-slow"},
  };
  return pairs;
}

}  // namespace causeloop::corpus
