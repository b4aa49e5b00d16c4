//! The registration-approval workload of the crash harness: an applicant files applications
//! (a private non-enterprise unit's establishment and a community organization's filing, in
//! turn), uploads their documents and submits them; a registrar accepts, reviews and decides
//! each (approves three in four, rejects the fourth). A decision in flight when the server died
//! is sent again, once, after the restart.

use super::super::{Server, Session};
use super::{Unexpected, count_where, one};
use crate::common::TestDb;
use shezu::db::Sql;
use shezu::i18n::Lang;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The applicant's account (an organization account without an organization yet).
const APPLICANT: &str = "shenqing";
/// The registrar who decides.
const APPROVER: &str = "shenpi";
/// A small document that passes the type check (it starts like a PDF).
const PDF: &[u8] = b"%PDF-1.4\n% shezu crash test document\n";

#[derive(Default)]
struct State {
    /// Submitted applications waiting for the registrar: (id, state, version).
    queue: VecDeque<(i64, &'static str, i64)>,
    /// Submissions the server acknowledged.
    submitted: usize,
    /// Decisions the server acknowledged: application → the state it decided.
    decided: HashMap<i64, &'static str>,
    /// Decisions sent and not answered when the server died: (id, version, action).
    in_flight: Vec<(i64, i64, &'static str)>,
    /// In-flight decisions sent again after a restart: applied by the retry, refused as a
    /// conflict.
    retried: (usize, usize),
}

/// Shared between the harness and the two client threads.
#[derive(Clone, Default)]
pub struct Approvals(Arc<Mutex<State>>);

/// The state `action` leads to.
fn after(action: &str) -> &'static str {
    match action {
        "submit" => "submitted",
        "accept" => "accepted",
        "start_review" => "under_review",
        "approve" => "approved",
        _ => "rejected",
    }
}

/// What the registrar does next to an application in `state` (the fourth is rejected).
fn next_action(id: i64, state: &str) -> Option<&'static str> {
    match state {
        "submitted" => Some("accept"),
        "accepted" => Some("start_review"),
        "under_review" if id % 4 == 3 => Some("reject"),
        "under_review" => Some("approve"),
        _ => None,
    }
}

fn reason_of(action: &str) -> &'static str {
    if action == "reject" {
        "住所使用证明不符合要求"
    } else {
        ""
    }
}

impl Approvals {
    /// Creates the two accounts.
    pub async fn seed(t: &TestDb) -> Approvals {
        t.user(APPLICANT, "org", None, None).await;
        t.user(APPROVER, "registrar", None, None).await;
        Approvals::default()
    }

    /// Puts every submitted application not yet decided (and not waiting for a retry) in the
    /// registrar's queue, at the state and version the database holds.
    pub async fn requeue(&self, t: &TestDb) {
        let mut c = t.db.acquire().await.unwrap();
        let rows: Vec<(i64, String, i64)> = Sql::new("select id, state, version from applications where state in ('submitted', 'accepted', 'under_review') order by id")
            .fetch_all(&mut c.conn())
            .await
            .unwrap();
        let mut s = self.0.lock().unwrap();
        let retrying: Vec<i64> = s.in_flight.iter().map(|(id, _, _)| *id).collect();
        s.queue = rows
            .into_iter()
            .filter(|(id, _, _)| !retrying.contains(id))
            .filter_map(|(id, state, version)| {
                let state = ["submitted", "accepted", "under_review"]
                    .into_iter()
                    .find(|s| *s == state)?;
                Some((id, state, version))
            })
            .collect();
    }

    /// Sends every decision left in flight by the last kill again, once: it is applied now (it
    /// had not committed) or refused as a conflict (it had); never applied twice (`check`
    /// counts the organizations and their party-coverage tasks).
    pub fn retry(&self, server: &Server, context: &str) {
        let in_flight = std::mem::take(&mut self.0.lock().unwrap().in_flight);
        if in_flight.is_empty() {
            return;
        }
        let session = server.sign_in(APPROVER);
        // The conflicts an application's transition answers with: changed since, or no
        // longer in a state that allows it.
        let conflicts = [
            Lang::Zh.t("application.error.stale"),
            Lang::Zh.t("application.error.not_in_state"),
        ];
        for (id, version, action) in in_flight {
            let reply = session
                .try_post(
                    &format!("/applications/{id}/action"),
                    &[
                        ("action", action),
                        ("reason", reason_of(action)),
                        ("version", &version.to_string()),
                    ],
                )
                .unwrap_or_else(|e| panic!("retry of {action} #{id}: {e} ({context})"));
            let mut s = self.0.lock().unwrap();
            match reply.status {
                303 => s.retried.0 += 1,
                409 if conflicts.iter().any(|m| reply.body.contains(m)) => s.retried.1 += 1,
                status => panic!(
                    "retry of {action} #{id} after the restart: {status}, neither applied nor refused as a conflict: {} ({context})",
                    reply.body
                ),
            }
            s.decided.insert(id, after(action));
        }
    }

    /// Starts the applicant and the registrar.
    pub fn spawn(
        &self,
        server: &Server,
        run: usize,
        done: &Arc<AtomicBool>,
        unexpected: &Unexpected,
    ) -> Vec<std::thread::JoinHandle<()>> {
        let applicant = {
            let (session, state) = (server.sign_in(APPLICANT), self.clone());
            let (done, unexpected) = (done.clone(), unexpected.clone());
            std::thread::spawn(move || state.applicant(session, run, &done, &unexpected))
        };
        let approver = {
            let (session, state) = (server.sign_in(APPROVER), self.clone());
            let (done, unexpected) = (done.clone(), unexpected.clone());
            std::thread::spawn(move || state.approver(session, &done, &unexpected))
        };
        vec![applicant, approver]
    }

    /// Files, documents and submits applications until the server stops answering.
    fn applicant(&self, session: Session, run: usize, done: &AtomicBool, unexpected: &Unexpected) {
        let mut n = 0;
        while !done.load(Ordering::SeqCst) {
            let filing = n % 2 == 1;
            let name = if filing {
                format!("崩溃测试审批{run}轮第{n}号社区舞蹈队")
            } else {
                format!("崩溃测试审批{run}轮第{n}号公益服务中心")
            };
            let mut fields = vec![
                ("name", name.as_str()),
                ("domain", if filing { "culture" } else { "charity" }),
                ("area_code", "120116001016"),
                ("legal_representative", "韩梅"),
                ("charter_party_clause", "on"),
            ];
            let docs: &[&str] = if filing {
                fields.extend([("application_kind", "filing"), ("kind", "community")]);
                &["application_letter", "charter", "head_id"]
            } else {
                fields.extend([
                    ("application_kind", "establishment"),
                    ("kind", "private_non_enterprise"),
                    ("direct_registration", "on"),
                    ("registered_capital_yuan", "30000"),
                    ("address", "天津市滨海新区塘沽街道紫云园社区文化路8号"),
                ]);
                &[
                    "application_letter",
                    "charter",
                    "address_proof",
                    "capital_proof",
                    "head_id",
                ]
            };
            let Ok(created) = session.try_post("/applications", &fields) else {
                return;
            };
            let id = created.location().rsplit('/').next().map(str::parse::<i64>);
            let Some(Ok(id)) = id.filter(|_| created.status == 303) else {
                return unexpected.note("file an application", &created);
            };
            for doc in docs {
                let path = format!("/applications/{id}/documents");
                match session.try_post_file(&path, &[("doc_type", doc)], ("file", "材料.pdf", PDF))
                {
                    Ok(reply) if reply.status == 303 => {}
                    Ok(reply) => return unexpected.note("upload a document", &reply),
                    Err(_) => return,
                }
            }
            let path = format!("/applications/{id}/action");
            match session.try_post(&path, &[("action", "submit"), ("version", "1")]) {
                Ok(reply) if reply.status == 303 => {
                    let mut s = self.0.lock().unwrap();
                    s.submitted += 1;
                    s.queue.push_back((id, "submitted", 2));
                }
                Ok(reply) => return unexpected.note("submit an application", &reply),
                Err(_) => return,
            }
            n += 1;
        }
    }

    /// Takes submitted applications from the queue and moves each to its decision.
    fn approver(&self, session: Session, done: &AtomicBool, unexpected: &Unexpected) {
        while !done.load(Ordering::SeqCst) {
            let item = self.0.lock().unwrap().queue.pop_front();
            let Some((id, mut state, mut version)) = item else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            while let Some(action) = next_action(id, state) {
                let decision = matches!(action, "approve" | "reject");
                if decision {
                    self.0.lock().unwrap().in_flight.push((id, version, action));
                }
                let reply = session.try_post(
                    &format!("/applications/{id}/action"),
                    &[
                        ("action", action),
                        ("reason", reason_of(action)),
                        ("version", &version.to_string()),
                    ],
                );
                match reply {
                    Ok(reply) if reply.status == 303 => {
                        state = after(action);
                        version += 1;
                        if decision {
                            let mut s = self.0.lock().unwrap();
                            s.in_flight.retain(|(i, _, _)| *i != id);
                            s.decided.insert(id, state);
                        }
                    }
                    Ok(reply) => return unexpected.note(action, &reply),
                    Err(_) => return,
                }
            }
        }
    }

    /// The invariants of approvals (see the harness's documentation).
    pub async fn check(&self, t: &TestDb, context: &str) {
        let (decided, in_flight) = {
            let s = self.0.lock().unwrap();
            (s.decided.clone(), s.in_flight.clone())
        };
        let mut c = t.db.acquire().await.unwrap();
        for (id, wanted) in &decided {
            let found: Option<(String,)> = Sql::new("select state from applications where id = $1")
                .arg(*id)
                .fetch_optional(&mut c.conn())
                .await
                .unwrap();
            assert_eq!(
                found.as_ref().map(|(s,)| s.as_str()),
                Some(*wanted),
                "acknowledged decision of application {id} lost ({context})"
            );
        }
        for (id, version, action) in &in_flight {
            let (state, at): (String, i64) =
                Sql::new("select state, version from applications where id = $1")
                    .arg(*id)
                    .fetch_one(&mut c.conn())
                    .await
                    .unwrap();
            assert!(
                (state == "under_review" && at == *version)
                    || (state == after(action) && at == version + 1),
                "decision {action} of application {id} in flight at the kill: now {state} at version {at} ({context})"
            );
        }
        drop(c);
        for (what, predicate) in [
            (
                "an approved application without its organization, or an organization on one not approved",
                "(a.state = 'approved') <> (a.org_id is not null)",
            ),
            (
                "an approved application whose organization is not exactly one, of its name and area",
                "a.state = 'approved' and (select count(*) from organizations o where o.name = a.org_name and o.area_id = a.area_id) <> 1 or a.org_id is not null and not exists (select 1 from organizations o where o.id = a.org_id and o.name = a.org_name)",
            ),
            (
                "an organization made from an application not approved",
                "a.state <> 'approved' and exists (select 1 from organizations o where o.name = a.org_name)",
            ),
            (
                "an approved application without exactly one party-coverage task",
                "a.state = 'approved' and (select count(*) from party_tasks p where p.application_id = a.id and p.org_id = a.org_id) <> 1",
            ),
            (
                "an application's version steps are not its events and form edits",
                "(select count(*) from application_events e where e.application_id = a.id) + (select count(*) from audit_log l where l.entity = 'application' and l.entity_id = a.id and l.action = 'update') <> a.version - 1",
            ),
            (
                "an application's state is not its last event's",
                "a.state <> coalesce((select e.to_state from application_events e where e.application_id = a.id order by e.id desc limit 1), 'draft')",
            ),
            (
                "an application's transitions and audit entries disagree",
                "(select count(*) from application_events e where e.application_id = a.id) <> (select count(*) from audit_log l where l.entity = 'application' and l.entity_id = a.id and l.action not in ('create', 'update', 'attach'))",
            ),
            (
                "an application's documents and audit entries disagree",
                "(select count(*) from attachments d where d.application_id = a.id) <> (select count(*) from audit_log l where l.entity = 'application' and l.entity_id = a.id and l.action = 'attach')",
            ),
        ] {
            assert_eq!(
                count_where(t, "applications a", predicate).await,
                0,
                "{what} ({context})"
            );
        }
        assert_eq!(
            count_where(t, "party_tasks p", "p.application_id is not null and not exists (select 1 from applications a where a.id = p.application_id and a.state = 'approved' and a.org_id = p.org_id)").await,
            0,
            "a party-coverage task of an application not approved ({context})"
        );
        for (what, sql) in [
            (
                "name and area",
                "select count(*) from (select name, area_id from organizations group by name, area_id having count(*) > 1) d",
            ),
            (
                "code",
                "select count(*) from (select uscc from organizations where uscc is not null group by uscc having count(*) > 1) d",
            ),
        ] {
            assert_eq!(
                one(t, sql).await,
                0,
                "two organizations share a {what} ({context})"
            );
        }
    }

    /// Submissions acknowledged, approvals and rejections acknowledged, retries applied and
    /// refused as a conflict.
    pub fn summary(&self) -> String {
        let s = self.0.lock().unwrap();
        let approved = s.decided.values().filter(|v| **v == "approved").count();
        format!(
            "{} applications submitted, {approved} approved and {} rejected, {} decisions in flight at a kill sent again ({} applied by the retry, {} refused as a conflict)",
            s.submitted,
            s.decided.len() - approved,
            s.retried.0 + s.retried.1,
            s.retried.0,
            s.retried.1
        )
    }
}
