//! Prometheus metrics, hand-rolled (a handful of series do not justify a metrics framework):
//! requests by route template, method and status; a latency histogram by route template and
//! method; database pool gauges; build info.
//!
//! Cardinality stays low by construction: the route label is the matched pattern
//! (`/nevisidm/api/core/v1/clients/{extId}`), never the raw path; unmatched requests share
//! one label; methods outside the standard set share `OTHER`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use idm_diesel::PoolStats;

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

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, &'static str, u16), u64>,
    latency: BTreeMap<(String, &'static str), Histogram>,
}

/// The process-wide registry (shared by all workers).
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
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

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, route: &str, method: &'static str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        // A poisoned lock only means another request panicked mid-update; the counters are
        // still usable.
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *inner
            .requests
            .entry((route.to_owned(), method, status))
            .or_default() += 1;
        let h = inner.latency.entry((route.to_owned(), method)).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The text exposition (format 0.0.4).
    pub fn render(&self, pool: &PoolStats) -> String {
        let mut out = String::new();
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // `write!` to a String cannot fail.
        let _ = writeln!(
            out,
            "# HELP idm_http_requests_total HTTP requests by route template, method and status."
        );
        let _ = writeln!(out, "# TYPE idm_http_requests_total counter");
        for ((route, method, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "idm_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP idm_http_request_duration_seconds HTTP request latency by route template and method."
        );
        let _ = writeln!(out, "# TYPE idm_http_request_duration_seconds histogram");
        for ((route, method), h) in &inner.latency {
            let route = escape(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "idm_http_request_duration_seconds_bucket{{route=\"{route}\",method=\"{method}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "idm_http_request_duration_seconds_bucket{{route=\"{route}\",method=\"{method}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "idm_http_request_duration_seconds_sum{{route=\"{route}\",method=\"{method}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "idm_http_request_duration_seconds_count{{route=\"{route}\",method=\"{method}\"}} {}",
                h.count
            );
        }
        drop(inner);
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
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        let counters = [
            (
                "idm_db_pool_checkouts_total",
                "Connections handed to requests.",
                pool.checkouts as f64,
            ),
            (
                "idm_db_pool_wait_seconds_total",
                "Time requests spent waiting for a pooled connection.",
                pool.wait_micros_total as f64 / 1e6,
            ),
            (
                "idm_db_pool_timeouts_total",
                "Checkouts that gave up after database.checkout_timeout_ms.",
                pool.timeouts as f64,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP idm_build_info Version and git commit of this build."
        );
        let _ = writeln!(out, "# TYPE idm_build_info gauge");
        let _ = writeln!(
            out,
            "idm_build_info{{version=\"{}\",commit=\"{}\"}} 1",
            escape(VERSION),
            escape(GIT_COMMIT)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_are_escaped() {
        let m = Metrics::default();
        m.observe("/a/{x}", "GET", 200, Duration::from_millis(3));
        m.observe("/a/{x}", "GET", 404, Duration::from_millis(300));
        m.observe("q\"\\", "OTHER", 500, Duration::from_secs(20));
        let text = m.render(&PoolStats {
            max_size: 8,
            connections: 3,
            idle: 1,
            checkouts: 10,
            wait_micros_total: 1_500_000,
            timeouts: 2,
        });
        assert!(text.contains("idm_db_pool_wait_seconds_total 1.5"));
        assert!(text.contains("idm_db_pool_timeouts_total 2"));
        assert!(text
            .contains("idm_http_requests_total{route=\"/a/{x}\",method=\"GET\",status=\"200\"} 1"));
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
            "idm_http_request_duration_seconds_bucket{route=\"q\\\"\\\\\",method=\"OTHER\",le=\"10\"} 0"
        ));
        assert!(text.contains("idm_db_pool_in_use_connections 2"));
        assert!(text.contains("idm_build_info{version=\""));
    }
}
