//! Prometheus metrics with `prometheus-client`: requests by route template, method and status;
//! a latency histogram by route template and method; database pool gauges and statement
//! counters; build info. Served in the Prometheus text format 0.0.4.
//!
//! Recording a request takes no lock that requests contend on and allocates nothing once its
//! series exists: the labels are `&'static str`s and a status code, the series live in
//! `prometheus-client` families (a read lock that readers share, a write lock only the first
//! time a label set is seen), counters are atomics and the histogram below is atomics too (the
//! crate's own histogram puts a mutex around every observation).
//!
//! Cardinality stays low by construction: the route label is one of the served patterns
//! (`/nevisidm/api/core/v1/clients/{extId}`), never the raw path; unmatched requests share
//! one label; methods outside the standard set share `OTHER`.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use idm_diesel::PoolStats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

/// The `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Route label of requests that matched no route (404 envelope).
pub const UNMATCHED: &str = "unmatched";

/// The version, and the git commit when the build could see one.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Short git commit of the build, or `unknown`.
pub const GIT_COMMIT: &str = match option_env!("IDM_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    method: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

/// A latency histogram of atomics: per-bucket counts (not cumulative; the encoder sums them),
/// the count and the sum in nanoseconds.
#[derive(Debug, Default)]
struct Latency {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Latency {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|bound| secs <= *bound) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }
}

impl TypedMetric for Latency {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Latency {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let mut buckets = [(0.0, 0); BUCKETS.len()];
        let mut seen = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            let n = self.buckets[i].load(Relaxed);
            seen += n;
            buckets[i] = (*bound, n);
        }
        // The fields are read one by one while requests keep landing; the count must not trail
        // the buckets read before it or the +Inf bucket would be below a finite one.
        let count = self.count.load(Relaxed).max(seen);
        let sum = self.sum_nanos.load(Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// The process-wide registry (shared by all workers).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Latency>,
    routes: HashSet<&'static str>,
}

/// A route pattern as a `&'static str`. Patterns are a handful of strings fixed at start; each
/// distinct one is leaked once per process (servers started again, as in tests, reuse them), so
/// label sets need no owned strings.
fn intern(pattern: &str) -> &'static str {
    static SEEN: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(s) = seen.get(pattern) {
        return s;
    }
    let s: &'static str = Box::leak(pattern.to_owned().into_boxed_str());
    seen.insert(s);
    s
}

/// A bounded method label.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        _ => "OTHER",
    }
}

impl Metrics {
    /// A registry whose route labels are `routes` (the served patterns) plus [`UNMATCHED`].
    pub fn new<S: AsRef<str>>(routes: &[S]) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "idm_http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Latency>::default();
        registry.register(
            "idm_http_request_duration_seconds",
            "HTTP request latency by route template and method",
            latency.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: VERSION,
                commit: GIT_COMMIT,
            })
            .set(1);
        registry.register(
            "idm_build_info",
            "Version and git commit of this build",
            build,
        );
        Metrics {
            registry,
            requests,
            latency,
            routes: routes.iter().map(|r| intern(r.as_ref())).collect(),
        }
    }

    /// The route label of a matched pattern: the pattern itself when it was given to
    /// [`Metrics::new`], else (and for `None`) [`UNMATCHED`].
    pub fn route_label(&self, pattern: Option<&str>) -> &'static str {
        pattern
            .and_then(|r| self.routes.get(r).copied())
            .unwrap_or(UNMATCHED)
    }

    /// Records one finished request; `route` comes from [`Metrics::route_label`].
    pub fn observe(
        &self,
        route: &'static str,
        method: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route, method })
            .observe(elapsed);
    }

    /// The text exposition (format 0.0.4).
    pub fn render(&self, pool: &PoolStats, caller_loads: u64) -> String {
        let mut out = String::new();
        let mut db = Registry::default();
        db.register_collector(Box::new(PoolCollector(*pool, caller_loads)));
        // Writing to a String cannot fail, and neither can encoding these metric types.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &db);
        out
    }
}

/// The database series: read from the store at scrape time, so they cost requests nothing.
#[derive(Debug)]
struct PoolCollector(PoolStats, u64);

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let pool = &self.0;
        let gauges = [
            (
                "idm_db_pool_max_connections",
                "Configured maximum of pooled database connections.",
                pool.max_size,
            ),
            (
                "idm_db_pool_connections",
                "Open pooled database connections.",
                pool.connections,
            ),
            (
                "idm_db_pool_idle_connections",
                "Idle pooled database connections.",
                pool.idle,
            ),
            (
                "idm_db_pool_in_use_connections",
                "Pooled database connections checked out by requests.",
                pool.connections.saturating_sub(pool.idle),
            ),
        ];
        for (name, help, value) in gauges {
            encoder
                .encode_descriptor(name, help, None, MetricType::Gauge)?
                .encode_gauge(&value)?;
        }
        if let Some(micros) = pool.point_read_floor_micros {
            #[allow(clippy::cast_precision_loss)] // microseconds far below 2^52
            let seconds = micros as f64 / 1e6;
            encoder
                .encode_descriptor(
                    "idm_db_point_read_floor_seconds",
                    "PostgreSQL: the fastest of the last 32 point reads; they run on the async \
                     workers while it stays below database.in_place_read_limit_us.",
                    None,
                    MetricType::Gauge,
                )?
                .encode_gauge(&seconds)?;
        }
        // Counter names without `_total`: the encoder appends it.
        let counters = [
            (
                "idm_db_pool_checkouts",
                "Connections handed to requests.",
                pool.checkouts,
            ),
            (
                "idm_db_pool_timeouts",
                "Checkouts that gave up after database.checkout_timeout_ms.",
                pool.timeouts,
            ),
            (
                "idm_db_statements",
                "Statements run on pooled connections.",
                pool.statements_total,
            ),
            (
                "idm_db_statement_prepares",
                "Statements prepared into a connection's statement cache; flat on a warm \
                 instance unless something defeats the cache.",
                pool.prepares_total,
            ),
            (
                "idm_db_group_commits",
                "SQLite: transactions that committed two or more queued writes together.",
                pool.group_commits_total,
            ),
            (
                "idm_db_group_committed_writes",
                "SQLite: writes committed by those shared transactions (divided by the commits: \
                 writes per commit under load).",
                pool.group_committed_writes_total,
            ),
            (
                "idm_audit_sealed_records",
                "PostgreSQL: audit records chained after their write committed (a write leaves \
                 its record pending; the sealer chains them, many per transaction).",
                pool.audit_sealed_records_total,
            ),
            (
                "idm_audit_seal_statements",
                "Statements the sealer ran to chain them (not counted in idm_db_statements).",
                pool.audit_seal_statements_total,
            ),
            (
                "idm_db_reads_in_place",
                "PostgreSQL: point reads run on an async worker instead of the blocking pool.",
                pool.reads_in_place_total,
            ),
            (
                "idm_db_reads_pipelined",
                "PostgreSQL: point reads answered over the async worker's pipelined connection \
                 (database.pipelined_reads).",
                pool.reads_pipelined_total,
            ),
            (
                "idm_caller_loads",
                "Callers resolved from the database (caller-cache misses); a write evicts only \
                 the callers it changes.",
                self.1,
            ),
        ];
        for (name, help, value) in counters {
            encoder
                .encode_descriptor(name, help, None, MetricType::Counter)?
                .encode_counter::<NoLabelSet, _, u64>(&value, None)?;
        }
        encoder
            .encode_descriptor(
                "idm_db_pool_wait_seconds",
                "Time requests spent waiting for a pooled connection.",
                None,
                MetricType::Counter,
            )?
            .encode_counter::<NoLabelSet, _, f64>(&(pool.wait_micros_total as f64 / 1e6), None)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_unknown_routes_share_one_label() {
        let m = Metrics::new(&["/a/{x}"]);
        let a = m.route_label(Some("/a/{x}"));
        m.observe(a, "GET", 200, Duration::from_millis(3));
        m.observe(a, "GET", 404, Duration::from_millis(300));
        m.observe(
            m.route_label(Some("/raw/path")),
            "OTHER",
            500,
            Duration::from_secs(20),
        );
        m.observe(m.route_label(None), "GET", 404, Duration::from_millis(1));
        let text = m.render(
            &PoolStats {
                max_size: 8,
                connections: 3,
                idle: 1,
                checkouts: 10,
                wait_micros_total: 1_500_000,
                timeouts: 2,
                statements_total: 40,
                prepares_total: 7,
                group_commits_total: 3,
                group_committed_writes_total: 12,
                audit_sealed_records_total: 5,
                audit_seal_statements_total: 9,
                reads_in_place_total: 4,
                reads_pipelined_total: 6,
                point_read_floor_micros: Some(250),
            },
            0,
        );
        assert!(
            text.contains("idm_db_pool_wait_seconds_total 1.5\n"),
            "{text}"
        );
        assert!(text.contains("idm_db_pool_timeouts_total 2\n"));
        assert!(text.contains("idm_db_statements_total 40\n"));
        assert!(text.contains("idm_db_reads_pipelined_total 6\n"));
        assert!(text.contains("idm_db_statement_prepares_total 7\n"));
        assert!(text.contains("idm_db_group_commits_total 3\n"));
        assert!(text.contains("idm_db_group_committed_writes_total 12\n"));
        assert!(text.contains("idm_audit_sealed_records_total 5\n"));
        assert!(text.contains("idm_audit_seal_statements_total 9\n"));
        assert!(text.contains("idm_db_reads_in_place_total 4\n"));
        assert!(
            text.contains("idm_db_point_read_floor_seconds 0.00025\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE idm_db_statements_total counter\n"));
        assert!(text
            .contains("idm_http_requests_total{route=\"/a/{x}\",method=\"GET\",status=\"200\"} 1"));
        assert!(text.contains(
            "idm_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"
        ));
        assert!(text.contains(
            "idm_http_requests_total{route=\"unmatched\",method=\"OTHER\",status=\"500\"} 1"
        ));
        assert!(!text.contains("/raw/path"));
        assert!(text.contains("# TYPE idm_http_request_duration_seconds histogram\n"));
        assert!(text.contains(
            "idm_http_request_duration_seconds_bucket{route=\"/a/{x}\",method=\"GET\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "idm_http_request_duration_seconds_bucket{route=\"/a/{x}\",method=\"GET\",le=\"0.5\"} 2"
        ));
        assert!(text.contains(
            "idm_http_request_duration_seconds_bucket{route=\"/a/{x}\",method=\"GET\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains(
            "idm_http_request_duration_seconds_count{route=\"/a/{x}\",method=\"GET\"} 2"
        ));
        assert!(text.contains(
            "idm_http_request_duration_seconds_bucket{route=\"unmatched\",method=\"OTHER\",le=\"10\"} 0"
        ));
        assert!(text.contains(
            "idm_http_request_duration_seconds_bucket{route=\"unmatched\",method=\"OTHER\",le=\"+Inf\"} 1"
        ));
        assert!(text.contains("idm_db_pool_in_use_connections 2\n"));
        assert!(text.contains("idm_build_info{version=\""));
    }

    #[test]
    fn equal_patterns_are_interned_once() {
        assert!(std::ptr::eq(intern("/x/{y}"), intern("/x/{y}")));
    }
}
