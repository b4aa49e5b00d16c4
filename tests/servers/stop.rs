//! Stopping: SIGTERM (systemd's `stop`) drains the server — it stops taking requests, lets the
//! ones in flight finish and exits cleanly — instead of dying mid-request.

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
