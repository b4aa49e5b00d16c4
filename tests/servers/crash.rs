//! Crash safety: a real `shezu serve` under a write workload is killed with SIGKILL (with the
//! import) at a random moment, restarted, and checked. The workload:
//! - three staff clients creating and editing organizations, and a bulk import of 500 rows in
//!   its own process;
//! - registration approvals (`approvals.rs`): an applicant filing, documenting and submitting
//!   applications, a registrar accepting, reviewing and approving or rejecting them;
//! - annual-report reviews (`inspection.rs`): forty organizations file a report before each run,
//!   a registrar reviews them (pass, basic pass, fail with reasons, or back for correction);
//! - funding allocation (`funding.rs`): before each run a round opens with forty screened
//!   proposals and a budget of 40 % of their requests; two officers grant and withdraw grants
//!   over their halves at once, colliding on what is left.
//!
//! After each kill:
//! - every write the server acknowledged (a 303) is there, with the value it acknowledged (an
//!   edit, decision, review or grant in flight may have committed or not, nothing else);
//! - no half-applied action: the import's rows are all there or none are; an application is
//!   approved exactly when it has its organization — exactly one of its name and area, with
//!   its party-coverage task — and no organization or task comes from one not approved; an
//!   application's version steps are its events (and form edits), its state its last event's,
//!   its transitions and documents each one audit entry; a report is reviewed exactly when it
//!   has a result, its audit entries are one per version and the last is what its state says;
//!   a proposal's grant is its last adjustment (none: no grant), each adjustment one audit
//!   entry, and no request wrote more than one adjustment;
//! - no two organizations share a name and area, or a code;
//! - no round's grants exceed its budget, no grant exceeds its request (rounds store no
//!   allocated or remaining figure, and inspection no tally, to compare with a recount);
//! - registry and history agree: every organization has its creation in the history, and the
//!   history's latest name, status and legal representative are the record's;
//! - every organization is in the search index;
//! - the audit chain verifies, without gaps, up to the head's sequence number;
//! - no client got an answer other than the one its request should get (or none).
//!
//! After the restart, an approval or rejection that was in flight at the kill is sent again,
//! once, with the version it was sent with: it is applied (it had not committed) or refused with
//! the application's conflict message (it had), never applied twice. Each run imports its own
//! file; after the last run every import a kill interrupted is run again to the end: exactly
//! each file's rows, no duplicates. `SHEZU_CRASH_RUNS` kill cycles per database (default 3 in
//! the suite; `scripts/crash-test` runs 100), at moments drawn from `SHEZU_CRASH_SEED` (printed,
//! so a failure can be replayed). The server and the import run `SHEZU_TEST_BIN` when set.
//!
//! Each new invariant was seen to fail, within a run or two, under a temporary mutation of the
//! code it guards: an approval's registry half in a second transaction; a retried approval
//! applied again; a review's audit entry in a second transaction; the budget check skipped; a
//! grant's adjustment record in a second transaction; the answer sent before the commit (a
//! review, a grant, an approval).

mod approvals;
mod funding;
mod inspection;

use super::{Server, Session};
use crate::common::TestDb;
use crate::db_test;
use shezu::db::Sql;
use shezu::demo::rng::Rng;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Rows in each run's import file.
const IMPORT_ROWS: u32 = 500;
/// What every imported row's name starts with.
const IMPORTED: &str = "崩溃测试导入";

/// Acknowledged writes: organization id → the legal representative the server confirmed, and
/// the one of an edit sent but not answered when the server died (it may have committed).
type Acknowledged = Arc<Mutex<HashMap<i64, (String, Option<String>)>>>;

/// Run `run`'s import: its own organizations, named `崩溃测试导入{run}轮…`.
fn import_file(dir: &std::path::Path, run: usize) -> std::path::PathBuf {
    let mut file = String::from(
        "统一社会信用代码,名称,组织类型,业务领域,所在区域,状态,登记（备案）日期,法定代表人（负责人）,业务主管单位,住所\n",
    );
    let first = 700_000 + u32::try_from(run).unwrap() * IMPORT_ROWS;
    for i in 0..IMPORT_ROWS {
        file.push_str(&format!(
            "{},{IMPORTED}{run}轮第{i}号服务社,民办非企业单位,养老服务,塘沽街道,正常,2014-05-06,赵{i},滨海新区民政局,\n",
            shezu::registry::uscc::Uscc::generate('2', "120116", first + i).as_str()
        ));
    }
    let path = dir.join(format!("crash-import-{run}.csv"));
    std::fs::write(&path, file).unwrap();
    path
}

fn start_import(path: &std::path::Path, url: &str) -> std::process::Child {
    Command::new(super::binary())
        .args(["import", "organizations", path.to_str().unwrap()])
        .args(["--database", url])
        .env("SHEZU_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the import")
}

/// One staff client: creates an organization, then edits it once, again and again, until the
/// server stops answering; records what was acknowledged.
fn staff_client(
    session: Session,
    client: usize,
    run: usize,
    done: Arc<AtomicBool>,
    acknowledged: Acknowledged,
) {
    let mut n = 0;
    while !done.load(Ordering::SeqCst) {
        let name = format!("崩溃测试{run}轮{client}号第{n}个协会");
        let person = format!("钱{run}{client}{n}");
        let fields = [
            ("name", name.as_str()),
            ("kind", "social_group"),
            ("domain", "culture"),
            ("supervisory_unit", "滨海新区民政局"),
            ("legal_representative", person.as_str()),
            ("area_code", "120116001016"),
            ("registered_on", "2014-05-06"),
            ("status", "active"),
        ];
        let Ok(created) = session.try_post("/admin/orgs", &fields) else {
            return;
        };
        if created.status != 303 {
            return;
        }
        let Some(id) = created
            .location()
            .rsplit('/')
            .next()
            .and_then(|id| id.parse::<i64>().ok())
        else {
            return;
        };
        acknowledged
            .lock()
            .unwrap()
            .insert(id, (person.clone(), None));
        // The edit carries the code the server gave it.
        let Ok(record) = session.try_get(&format!("/api/v1/organizations/{id}")) else {
            return;
        };
        let Some(uscc) = serde_json::from_str::<serde_json::Value>(&record.body)
            .ok()
            .and_then(|r| r["uscc"].as_str().map(str::to_owned))
        else {
            return;
        };
        let changed = format!("孙{run}{client}{n}");
        let mut edit = fields.to_vec();
        edit[4] = ("legal_representative", changed.as_str());
        edit.extend([
            ("uscc", uscc.as_str()),
            ("version", "1"),
            ("reason", "换届"),
        ]);
        acknowledged
            .lock()
            .unwrap()
            .insert(id, (person.clone(), Some(changed.clone())));
        match session.try_post(&format!("/admin/orgs/{id}"), &edit) {
            Ok(reply) if reply.status == 303 => {
                acknowledged.lock().unwrap().insert(id, (changed, None));
            }
            _ => return,
        }
        n += 1;
    }
}

/// Answers a client did not expect (it stops at the first): none may be noted.
#[derive(Clone, Default)]
pub struct Unexpected(Arc<Mutex<Vec<String>>>);

impl Unexpected {
    /// Notes the answer to `what`.
    pub fn note(&self, what: &str, reply: &super::Reply) {
        let body: String = reply.body.chars().take(300).collect();
        self.0
            .lock()
            .unwrap()
            .push(format!("{what}: {} {body}", reply.status));
    }
}

/// Rows of `table` matching `predicate`.
async fn count_where(t: &TestDb, table: &str, predicate: &str) -> i64 {
    one(
        t,
        &format!("select count(*) from {table} where ({predicate})"),
    )
    .await
}

/// Organizations that file annual reports and apply for funding.
const FILERS: usize = 40;

/// Enters the [`FILERS`] organizations.
async fn filers(t: &TestDb) -> Vec<i64> {
    let mut orgs = Vec::new();
    for k in 0..FILERS {
        orgs.push(crate::funding::new_org(t, &format!("崩溃测试申报{k}号协会")).await);
    }
    orgs
}

/// The workloads besides organizations and imports.
struct Workloads {
    approvals: approvals::Approvals,
    reviews: inspection::Reviews,
    grants: funding::Grants,
    unexpected: Unexpected,
}

impl Workloads {
    async fn check(&self, t: &TestDb, context: &str) {
        let unexpected = self.unexpected.0.lock().unwrap().clone();
        assert!(
            unexpected.is_empty(),
            "unexpected answers: {unexpected:#?} ({context})"
        );
        self.approvals.check(t, context).await;
        self.reviews.check(t, context).await;
        self.grants.check(t, context).await;
    }
}

/// Organizations of run `run`'s import in the database.
async fn imported_rows(t: &TestDb, run: usize) -> i64 {
    one(
        t,
        &format!("select count(*) from organizations where name like '{IMPORTED}{run}轮%'"),
    )
    .await
}

async fn one(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// Every invariant of the module's documentation, after run `run`.
async fn check(t: &TestDb, acknowledged: &Acknowledged, w: &Workloads, run: usize, seed: u64) {
    let context = format!("run {run}, SHEZU_CRASH_SEED={seed}");
    w.check(t, &context).await;
    let wanted: Vec<(i64, (String, Option<String>))> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .map(|(id, v)| (*id, v.clone()))
        .collect();
    let mut c = t.db.acquire().await.unwrap();
    for (id, (confirmed, in_flight)) in &wanted {
        let found: Option<(Option<String>,)> =
            Sql::new("select legal_representative from organizations where id = $1")
                .arg(*id)
                .fetch_optional(&mut c.conn())
                .await
                .unwrap();
        let found = found.and_then(|(v,)| v);
        assert!(
            found.as_ref() == Some(confirmed) || (found.is_some() && found == *in_flight),
            "acknowledged write of organization {id} lost: {found:?}, confirmed {confirmed:?}, in flight {in_flight:?} ({context})"
        );
    }
    drop(c);
    // This run's import (an earlier run's does not change until the end re-runs it).
    let imported = imported_rows(t, run).await;
    assert!(
        imported == 0 || imported == i64::from(IMPORT_ROWS),
        "{imported} rows of run {run}'s import: half an import ({context})"
    );
    assert_eq!(
        one(t, "select count(*) from organizations o where not exists (select 1 from org_changes c where c.org_id = o.id and c.action = 'create')").await,
        0,
        "an organization without its creation in the history ({context})"
    );
    for field in ["name", "status", "legal_representative"] {
        let disagree = one(
            t,
            &format!(
                "select count(*) from organizations o where coalesce(o.{field}, '') <> coalesce((select f.after_value from org_change_fields f join org_changes c on c.id = f.change_id where c.org_id = o.id and f.field = '{field}' order by c.changed_at desc, c.id desc limit 1), '')"
            ),
        )
        .await;
        assert_eq!(
            disagree, 0,
            "registry and history disagree on {field} ({context})"
        );
    }
    assert_eq!(
        one(t, "select count(*) from organizations o where not exists (select 1 from org_search s where s.org_id = o.id)").await,
        0,
        "an organization missing from the search index ({context})"
    );
    let mut c = t.db.acquire().await.unwrap();
    let chain = shezu::audit::store::verify(&mut c.conn()).await.unwrap();
    drop(c);
    let head = one(t, "select last_seq from audit_head where id = 1").await;
    let entries = one(t, "select count(*) from audit_log").await;
    assert_eq!(
        chain,
        shezu::audit::store::ChainCheck::Intact(entries),
        "audit chain ({context})"
    );
    assert_eq!(head, entries, "audit head and log agree ({context})");
}

db_test!(
    sigkill_at_random_moments_loses_nothing_acknowledged,
    |t| async move {
        crate::registry::load_areas(t).await;
        t.user("registrar", "registrar", None, None).await;
        let runs: usize = std::env::var("SHEZU_CRASH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3);
        let seed: u64 = std::env::var("SHEZU_CRASH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("crash runs: {runs}, SHEZU_CRASH_SEED={seed}");
        let mut rng = Rng::new(seed);
        // Funding requests from their own generator: the kill moments stay those of the seed.
        let mut amounts = Rng::new(seed ^ 0x5eed_f00d);
        let dir = tempfile::tempdir().unwrap();
        let acknowledged: Acknowledged = Arc::default();
        let orgs = filers(t).await;
        let w = Workloads {
            approvals: approvals::Approvals::seed(t).await,
            reviews: inspection::Reviews::seed(t).await,
            grants: funding::Grants::seed(t).await,
            unexpected: Unexpected::default(),
        };
        let mut interrupted = Vec::new();
        for run in 0..runs {
            let delay = Duration::from_millis(rng.between(100, 2_500) as u64);
            let context = format!("run {run}, SHEZU_CRASH_SEED={seed}");
            w.reviews.file(t, &orgs, run).await;
            w.grants.open_round(t, &orgs, run, &mut amounts).await;
            w.approvals.requeue(t).await;
            tokio::task::block_in_place(|| {
                let mut server = Server::start(&t.url, None);
                w.approvals.retry(&server, &context);
                let mut import = start_import(&import_file(dir.path(), run), &t.url);
                let done = Arc::new(AtomicBool::new(false));
                let mut clients: Vec<_> = (0..3)
                    .map(|client| {
                        let session = server.sign_in("registrar");
                        let done = done.clone();
                        let acknowledged = acknowledged.clone();
                        std::thread::spawn(move || {
                            staff_client(session, client, run, done, acknowledged)
                        })
                    })
                    .collect();
                clients.extend(w.approvals.spawn(&server, run, &done, &w.unexpected));
                clients.push(w.reviews.spawn(&server, &done, &w.unexpected));
                clients.extend(w.grants.spawn(&server, &done, &w.unexpected));
                std::thread::sleep(delay);
                server.kill();
                let _ = import.kill();
                let _ = import.wait();
                done.store(true, Ordering::SeqCst);
                for client in clients {
                    client.join().expect("client thread");
                }
            });
            check(t, &acknowledged, &w, run, seed).await;
            if imported_rows(t, run).await == 0 {
                interrupted.push(run);
            }
        }
        // The decisions in flight at the last kill, sent again to a restarted server.
        tokio::task::block_in_place(|| {
            let server = Server::start(&t.url, None);
            w.approvals.retry(
                &server,
                &format!("after the last run, SHEZU_CRASH_SEED={seed}"),
            );
        });
        // The interrupted imports, run again to the end: exactly their files' rows.
        for &run in &interrupted {
            let status = start_import(&import_file(dir.path(), run), &t.url)
                .wait()
                .unwrap();
            assert!(status.success(), "run {run}'s import completes");
        }
        for run in 0..runs {
            assert_eq!(
                imported_rows(t, run).await,
                i64::from(IMPORT_ROWS),
                "run {run}"
            );
        }
        assert!(
            !acknowledged.lock().unwrap().is_empty(),
            "the clients wrote something"
        );
        check(t, &acknowledged, &w, runs, seed).await;
        eprintln!(
            "crash campaign on {:?}: {runs} SIGKILLs, {} organizations written by acknowledged requests, {}, {}, {}, {} imports killed before their commit and completed by a re-run, invariant failures: 0 (SHEZU_CRASH_SEED={seed})",
            t.db.backend(),
            acknowledged.lock().unwrap().len(),
            w.approvals.summary(),
            w.reviews.summary(),
            w.grants.summary(),
            interrupted.len(),
        );
    }
);
