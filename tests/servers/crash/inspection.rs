//! The annual-report workload of the crash harness: before each run the seeded organizations
//! file their reports for one more year; a registrar reviews every filed report it finds —
//! pass, basic pass (with reasons), fail (with reasons) or back for correction, by the
//! report's id.

use super::super::{Server, Session};
use super::{Unexpected, count_where};
use crate::common::TestDb;
use chrono::Utc;
use shezu::db::Sql;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The registrar who reviews.
const REVIEWER: &str = "nianjian";

#[derive(Default)]
struct State {
    /// Filed reports waiting for review: (id, version).
    queue: VecDeque<(i64, i64)>,
    /// Reports filed by the seeding.
    filed: usize,
    /// Reviews the server acknowledged: report → decision.
    reviewed: HashMap<i64, &'static str>,
    /// The review sent and not answered when the server died.
    in_flight: Option<i64>,
}

/// Shared between the harness and the reviewer thread.
#[derive(Clone, Default)]
pub struct Reviews(Arc<Mutex<State>>);

/// The decision on report `id` and its reasons (none for a pass).
fn verdict(id: i64) -> (&'static str, &'static str) {
    match id % 4 {
        0 => ("pass", ""),
        1 => ("basic_pass", "财务管理制度有待完善"),
        2 => ("fail", "未按章程按期换届"),
        _ => ("return", "请补充党建工作情况"),
    }
}

/// The state a decision leaves a report in.
fn state_after(decision: &str) -> &'static str {
    if decision == "return" {
        "returned"
    } else {
        "reviewed"
    }
}

impl Reviews {
    /// Creates the reviewer's account.
    pub async fn seed(t: &TestDb) -> Reviews {
        t.user(REVIEWER, "registrar", None, None).await;
        Reviews::default()
    }

    /// Each of `orgs` files (saves and submits) its report for year `2000 + run`; then every
    /// filed report not yet reviewed goes in the reviewer's queue at its version.
    pub async fn file(&self, t: &TestDb, orgs: &[i64], run: usize) {
        let year = 2000 + i64::try_from(run).unwrap();
        let actor = shezu::audit::Actor::system("crash-test");
        let report = shezu::inspection::ReportForm {
            activities: "举办公益讲座12场".into(),
            party_building: "党员3名，纳入社区联合党支部".into(),
            ..Default::default()
        }
        .parse(false)
        .unwrap();
        let mut tx = t.db.begin().await.unwrap();
        let mut c = tx.conn();
        for org in orgs {
            shezu::inspection::store::save(&mut c, &actor, Utc::now(), *org, year, &report, None)
                .await
                .unwrap();
            let row = shezu::inspection::store::find(&mut c, *org, year)
                .await
                .unwrap()
                .unwrap();
            shezu::inspection::store::submit(&mut c, &actor, Utc::now(), &row, false)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let mut c = t.db.acquire().await.unwrap();
        let queue: Vec<(i64, i64)> = Sql::new(
            "select id, version from annual_reports where state = 'submitted' order by id",
        )
        .fetch_all(&mut c.conn())
        .await
        .unwrap();
        let mut s = self.0.lock().unwrap();
        s.filed += orgs.len();
        s.in_flight = None;
        s.queue = queue.into();
    }

    /// Starts the reviewer.
    pub fn spawn(
        &self,
        server: &Server,
        done: &Arc<AtomicBool>,
        unexpected: &Unexpected,
    ) -> std::thread::JoinHandle<()> {
        let (session, state) = (server.sign_in(REVIEWER), self.clone());
        let (done, unexpected) = (done.clone(), unexpected.clone());
        std::thread::spawn(move || state.reviewer(session, &done, &unexpected))
    }

    fn reviewer(&self, session: Session, done: &AtomicBool, unexpected: &Unexpected) {
        while !done.load(Ordering::SeqCst) {
            let item = self.0.lock().unwrap().queue.pop_front();
            let Some((id, version)) = item else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            let (decision, reasons) = verdict(id);
            self.0.lock().unwrap().in_flight = Some(id);
            let reply = session.try_post(
                &format!("/admin/reports/{id}/review"),
                &[
                    ("decision", decision),
                    ("reasons", reasons),
                    ("version", &version.to_string()),
                ],
            );
            match reply {
                Ok(reply) if reply.status == 303 => {
                    let mut s = self.0.lock().unwrap();
                    s.in_flight = None;
                    s.reviewed.insert(id, decision);
                }
                Ok(reply) => return unexpected.note("review a report", &reply),
                Err(_) => return,
            }
        }
    }

    /// The invariants of reviews (see the harness's documentation).
    pub async fn check(&self, t: &TestDb, context: &str) {
        let (reviewed, in_flight) = {
            let s = self.0.lock().unwrap();
            (s.reviewed.clone(), s.in_flight)
        };
        let mut c = t.db.acquire().await.unwrap();
        let wanted = reviewed
            .iter()
            .map(|(id, decision)| (*id, *decision, true))
            .chain(in_flight.map(|id| (id, verdict(id).0, false)));
        for (id, decision, acknowledged) in wanted {
            let (state, result, reasons): (String, Option<String>, Option<String>) =
                Sql::new("select state, result, reasons from annual_reports where id = $1")
                    .arg(id)
                    .fetch_one(&mut c.conn())
                    .await
                    .unwrap();
            let applied = state == state_after(decision)
                && result.as_deref() == Some(decision).filter(|d| *d != "return")
                && reasons.as_deref() == Some(verdict(id).1);
            assert!(
                applied || (!acknowledged && state == "submitted"),
                "{} review ({decision}) of report {id}: now {state}, {result:?}, {reasons:?} ({context})",
                if acknowledged {
                    "acknowledged"
                } else {
                    "in-flight"
                }
            );
        }
        drop(c);
        for (what, predicate) in [
            (
                "a report's state and result disagree",
                "(r.state = 'reviewed') <> (r.result is not null) or (r.state = 'reviewed') <> (r.reviewed_at is not null) or (r.state = 'reviewed') <> (r.reviewed_by is not null)",
            ),
            (
                "a report's audit entries are not one per version",
                "(select count(*) from audit_log l where l.entity = 'annual_report' and l.entity_id = r.id) <> r.version",
            ),
            (
                "a report's state is not what its last audit entry did",
                "coalesce((select l.action from audit_log l where l.entity = 'annual_report' and l.entity_id = r.id order by l.seq desc limit 1), '') <> case r.state when 'draft' then 'save' when 'submitted' then 'submit' when 'returned' then 'return' else coalesce(r.result, '') end",
            ),
        ] {
            assert_eq!(
                count_where(t, "annual_reports r", predicate).await,
                0,
                "{what} ({context})"
            );
        }
    }

    /// Reports filed and reviews acknowledged, by decision.
    pub fn summary(&self) -> String {
        let s = self.0.lock().unwrap();
        let by = |d: &str| s.reviewed.values().filter(|v| **v == d).count();
        format!(
            "{} annual reports filed, {} reviews ({} pass, {} basic pass, {} fail, {} returned)",
            s.filed,
            s.reviewed.len(),
            by("pass"),
            by("basic_pass"),
            by("fail"),
            by("return")
        )
    }
}
