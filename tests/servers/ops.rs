//! Operating a real server: SIGTERM (systemd's `stop`) drains it — it stops taking requests,
//! lets the ones in flight finish and exits cleanly — and its JSON log lines carry each
//! request's id, the one the answer returns.

use super::Server;
use crate::db_test;

db_test!(sigterm_stops_the_server_cleanly, |t| async move {
    let mut server = Server::start(&t.url, None);
    assert_eq!(server.get("/readyz").status, 200, "{}", server.log());
    let status = tokio::task::block_in_place(|| server.terminate());
    assert!(
        status.success(),
        "a graceful stop exits 0, not by the signal: {status:?}\n{}",
        server.log()
    );
});

db_test!(json_log_lines_carry_the_request_id, |t| async move {
    let server = Server::start_with(
        &t.url,
        None,
        &[
            ("SHEZU_LOG_FORMAT", "json"),
            ("SHEZU_LOG", "info,sqlx=warn,tower_http=debug"),
        ],
    );
    let reply = server.get("/orgs");
    assert_eq!(reply.status, 200);
    let id = reply
        .header_values("x-request-id")
        .pop()
        .expect("x-request-id");
    // The log is written as the answer goes out; give the reader thread a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let lines: Vec<serde_json::Value> = server
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let ours = lines
            .iter()
            .filter(|l| l["span"]["id"] == id.as_str())
            .collect::<Vec<_>>();
        if !ours.is_empty() {
            assert!(
                ours.iter().all(|l| l["span"]["path"] == "/orgs"),
                "{ours:?}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no JSON log line with request id {id}:\n{}",
            server.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
});
