//! Operations (运维): request ids in logs and answers, readiness for load balancers, the
//! shutdown signal that drains a server gracefully, and the caller's address behind trusted
//! reverse proxies.

use crate::app::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

/// Header that carries a request's id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// 请求编号: one request's id — the reverse proxy's `X-Request-Id` when it is a plain token, or
/// a new random one. Every log line written while answering carries it, and the answer returns
/// it, so a user's report ("请求编号 …") leads to the log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// A proxy's id is kept when it is 1–64 characters of letters, digits, `-`, `_` and `.`
/// (anything else could forge log lines or bloat them).
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Sixteen random hex digits.
fn new_id() -> String {
    let mut bytes = [0u8; 8];
    // Without randomness the id is still unique enough for logs: the clock.
    if getrandom::fill(&mut bytes).is_err() {
        bytes = chrono::Utc::now()
            .timestamp_nanos_opt()
            .unwrap_or_default()
            .to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Middleware: gives the request its id (in its extensions, for [`request_span`]) and returns
/// it in `X-Request-Id`.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(new_id, str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(req).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// The span every log line of a request is written in (the trace layer's): the request's id,
/// method and path — never the query, which may hold a search or a token.
pub fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = req
        .extensions()
        .get::<RequestId>()
        .map_or("", |r| r.0.as_str());
    tracing::info_span!(
        "request",
        id = %id,
        method = %req.method(),
        path = %req.uri().path()
    )
}

/// A trusted reverse proxy (`--trusted-proxies`): one address, or a CIDR block of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    addr: IpAddr,
    /// Leading bits that must match.
    prefix: u8,
}

impl std::str::FromStr for ProxyNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let bad = || format!("not an address or CIDR block: {text}");
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, bits)) => (addr, Some(bits.parse::<u8>().map_err(|_| bad())?)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(ProxyNet { addr, prefix })
    }
}

impl ProxyNet {
    /// True when `ip` is in the block (an IPv4 address written as IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let keep = |bits: u32, width: u32| {
            if bits == 0 {
                0
            } else {
                u128::MAX << (width - bits)
            }
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = keep(u32::from(self.prefix), 32);
                (u128::from(u32::from(net)) & mask) == (u128::from(u32::from(ip)) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = keep(u32::from(self.prefix), 128);
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

/// The caller's address: the TCP peer, unless the peer is a trusted proxy — then the nearest
/// address in `X-Forwarded-For` (read from the right, as each proxy appends the address it saw)
/// that is not itself a trusted proxy. A malformed entry ends the walk at the proxy that passed
/// it on: whatever a client wrote further left is not believed.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[ProxyNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut nearest = peer;
    for hop in forwarded_for.unwrap_or("").rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            return nearest;
        };
        if !is_trusted(ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// Set once the server has been asked to stop: readiness then answers 503 so that a load
/// balancer stops sending new requests while the ones in flight finish.
#[derive(Debug, Default)]
pub struct Draining(AtomicBool);

impl Draining {
    /// Marks the server as stopping.
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once stopping.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What `/readyz` found.
#[derive(Debug, serde::Serialize)]
struct Readiness {
    /// Everything below holds.
    ready: bool,
    /// The primary database answers and has every migration this build knows.
    database: bool,
    /// The read database (the replica, or the primary again) answers.
    read_database: bool,
    /// The server is not stopping.
    accepting: bool,
}

/// `GET /readyz`: 200 when this server can answer every page — both databases answer, the
/// schema is current and the server is not stopping — else 503,
/// with each check in the JSON body. `/healthz` only says the process is up.
pub async fn readyz(State(app): State<AppState>) -> Response {
    let database = match app.db.acquire().await {
        Ok(mut conn) => crate::db::is_current(&mut conn.conn())
            .await
            .unwrap_or(false),
        Err(_) => false,
    };
    let read_database = match app.read_db.acquire().await {
        Ok(mut conn) => crate::db::Sql::new("select count(*) from areas where 1 = 0")
            .fetch_i64(&mut conn.conn())
            .await
            .is_ok(),
        Err(_) => false,
    };
    let accepting = !app.draining.is_draining();
    let ready = database && read_database && accepting;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            ready,
            database,
            read_database,
            accepting,
        }),
    )
        .into_response()
}

/// Resolves when the process is asked to stop: SIGTERM (systemd, container runtimes) or
/// SIGINT (Ctrl-C). Marks `draining` first.
pub async fn shutdown_signal(draining: std::sync::Arc<Draining>) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    draining.start();
    tracing::info!("stopping: finishing the requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_tokens_are_taken_from_the_proxy() {
        assert!(acceptable("a1b2-c3_d4.e5"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"x".repeat(65)));
        assert!(!acceptable("id\nforged log line"));
        assert!(!acceptable("编号"));
        let id = new_id();
        assert_eq!(id.len(), 16);
        assert!(acceptable(&id));
        assert_ne!(id, new_id());
    }

    #[test]
    fn proxy_blocks_parse_and_match() {
        let net: ProxyNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.200.3.4".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        let one: ProxyNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let all: ProxyNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let v6: ProxyNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "localhost", "10.0.0/8", "::1/129", ""] {
            assert!(bad.parse::<ProxyNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_caller_is_the_nearest_untrusted_forwarded_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let trusted: Vec<ProxyNet> =
            vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        // No trusted proxies: the header is ignored.
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("203.0.113.7"), &[]),
            ip("127.0.0.1")
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            client_ip(ip("198.51.100.1"), Some("203.0.113.7"), &trusted),
            ip("198.51.100.1")
        );
        // Through nginx on the same host.
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("203.0.113.7"), &trusted),
            ip("203.0.113.7")
        );
        // A client's forged entry on the left is passed over: the nearest untrusted one counts.
        assert_eq!(
            client_ip(
                ip("127.0.0.1"),
                Some("1.2.3.4, 203.0.113.7, 10.0.0.5"),
                &trusted
            ),
            ip("203.0.113.7")
        );
        // A malformed entry: the proxy that passed it on.
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("bogus, 10.0.0.5"), &trusted),
            ip("10.0.0.5")
        );
        // No header from a trusted peer: the peer.
        assert_eq!(client_ip(ip("127.0.0.1"), None, &trusted), ip("127.0.0.1"));
    }
}
