//! `GET /metrics`: Prometheus text format — requests by route, method and status, a latency
//! histogram per route, and the database pools' connections — kept in memory per app server,
//! so each server is scraped on its own.

use crate::app::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Counters of one route.
#[derive(Debug, Default, Clone)]
struct RouteStats {
    /// Requests per (method, status).
    answers: BTreeMap<(String, u16), u64>,
    /// Requests at or under each bucket bound (not cumulative; summed when written).
    buckets: [u64; BUCKETS.len() + 1],
    /// Sum of durations, seconds.
    seconds: f64,
}

/// Request metrics of this server since it started.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

impl Metrics {
    /// Records one answered request.
    pub fn record(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes.entry(route.to_owned()).or_default();
        *stats
            .answers
            .entry((method.to_owned(), status))
            .or_default() += 1;
        let bucket = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        stats.buckets[bucket] += 1;
        stats.seconds += seconds;
    }

    /// Everything in Prometheus text exposition format.
    pub fn render(&self) -> String {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut out = String::from(
            "# HELP shezu_http_requests_total Requests answered, by route, method and status.\n# TYPE shezu_http_requests_total counter\n",
        );
        for (route, stats) in &routes {
            for ((method, status), n) in &stats.answers {
                out.push_str(&format!(
                    "shezu_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}\n",
                    label(route)
                ));
            }
        }
        out.push_str("# HELP shezu_http_request_duration_seconds Time to answer, by route.\n# TYPE shezu_http_request_duration_seconds histogram\n");
        for (route, stats) in &routes {
            let route = label(route);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += stats.buckets[i];
                out.push_str(&format!(
                    "shezu_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}\n"
                ));
            }
            cumulative += stats.buckets[BUCKETS.len()];
            out.push_str(&format!(
                "shezu_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}\nshezu_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\nshezu_http_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}\n",
                stats.seconds
            ));
        }
        out
    }
}

/// A label value with `\` and `"` escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Measures every routed request (by its route template, never the raw path, so the number of
/// series stays bounded).
pub async fn measure(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", |p| p.as_str())
        .to_owned();
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    app.metrics.record(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub async fn metrics(State(app): State<AppState>) -> Response {
    let mut text = app.metrics.render();
    text.push_str(&render_pools(&[
        ("primary", app.db.pool_figures()),
        ("read", app.read_db.pool_figures()),
    ]));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Gauges of the database pools: connections open, idle and in use, and the most each opens.
/// `read` is the primary again when no `--read-database` is set.
fn render_pools(pools: &[(&str, (u32, usize, u32))]) -> String {
    let mut out = String::from(
        "# HELP shezu_db_pool_connections Database connections of this server, by pool and state.\n# TYPE shezu_db_pool_connections gauge\n",
    );
    for (pool, (open, idle, _)) in pools {
        let in_use = (*open as usize).saturating_sub(*idle);
        out.push_str(&format!(
            "shezu_db_pool_connections{{pool=\"{pool}\",state=\"idle\"}} {idle}\nshezu_db_pool_connections{{pool=\"{pool}\",state=\"in_use\"}} {in_use}\n"
        ));
    }
    out.push_str("# HELP shezu_db_pool_max_connections The most connections each pool opens.\n# TYPE shezu_db_pool_max_connections gauge\n");
    for (pool, (_, _, max)) in pools {
        out.push_str(&format!(
            "shezu_db_pool_max_connections{{pool=\"{pool}\"}} {max}\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counts_add_up() {
        let m = Metrics::default();
        m.record("/orgs", "GET", 200, 0.003);
        m.record("/orgs", "GET", 200, 0.2);
        m.record("/orgs", "GET", 422, 3.0);
        let text = m.render();
        assert!(text.contains(
            "shezu_http_requests_total{route=\"/orgs\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1\n"));
        assert!(text.contains("le=\"0.25\"} 2\n"));
        assert!(text.contains("le=\"+Inf\"} 3\n"));
        assert!(text.contains("shezu_http_request_duration_seconds_count{route=\"/orgs\"} 3"));
    }

    #[test]
    fn pool_gauges_split_open_connections_into_idle_and_in_use() {
        let text = render_pools(&[("primary", (5, 2, 16)), ("read", (1, 1, 8))]);
        assert!(text.contains("shezu_db_pool_connections{pool=\"primary\",state=\"in_use\"} 3\n"));
        assert!(text.contains("shezu_db_pool_connections{pool=\"primary\",state=\"idle\"} 2\n"));
        assert!(text.contains("shezu_db_pool_connections{pool=\"read\",state=\"in_use\"} 0\n"));
        assert!(text.contains("shezu_db_pool_max_connections{pool=\"primary\"} 16\n"));
    }
}
