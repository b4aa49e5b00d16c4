//! The funding workload of the crash harness: before each run a venture-philanthropy round
//! opens with one screened proposal from each seeded organization and a budget of 40 % of what
//! they ask; two staff clients allocate it at once — each over its half of the proposals,
//! granting a proposal in full or half (by its id) when it has no grant and withdrawing the
//! grant when it has one, round and round — so the budget runs out and frees up again and the
//! two collide on what is left.

use super::super::{Server, Session};
use super::{Unexpected, count_where};
use crate::common::TestDb;
use chrono::Utc;
use shezu::db::Sql;
use shezu::demo::rng::Rng;
use shezu::i18n::Lang;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The funding officers' accounts.
const ALLOCATORS: [&str; 2] = ["chuangtou1", "chuangtou2"];

/// What the clients know of one proposal.
#[derive(Clone, Default)]
struct Proposal {
    /// The grant the server last confirmed (fen; None: no grant).
    confirmed: Option<i64>,
    /// The grant of a request sent and not answered when the server died.
    in_flight: Option<Option<i64>>,
    /// Requests sent.
    sent: i64,
    /// Requests the server acknowledged (written).
    acknowledged: i64,
}

#[derive(Default)]
struct State {
    /// This run's proposals: (id, requested fen).
    current: Vec<(i64, i64)>,
    /// Every proposal a client touched.
    proposals: HashMap<i64, Proposal>,
    /// Rounds opened.
    rounds: usize,
    /// Grants acknowledged, withdrawals acknowledged, grants refused for the budget.
    granted: usize,
    withdrawn: usize,
    refused: usize,
}

/// Shared between the harness and the two allocators.
#[derive(Clone, Default)]
pub struct Grants(Arc<Mutex<State>>);

impl Grants {
    /// Creates the officers' accounts.
    pub async fn seed(t: &TestDb) -> Grants {
        for name in ALLOCATORS {
            t.user(name, "registrar", None, None).await;
        }
        Grants::default()
    }

    /// Opens run `run`'s round: one screened proposal of 10,000–50,000 yuan from each of
    /// `orgs`, a budget of 40 % of their total.
    pub async fn open_round(&self, t: &TestDb, orgs: &[i64], run: usize, rng: &mut Rng) {
        use shezu::funding::store;
        let actor = shezu::audit::Actor::system("crash-test");
        let requests: Vec<i64> = orgs.iter().map(|_| rng.between(10, 50) * 1_000).collect();
        let budget: i64 = requests.iter().sum::<i64>() * 2 / 5;
        let mut tx = t.db.begin().await.unwrap();
        let c = &mut tx.conn();
        let draft = shezu::funding::RoundDraft {
            programme: "崩溃测试公益创投".into(),
            title: format!("崩溃测试第{run}轮公益创投"),
            no_double_funding: false,
            ..crate::funding::round_draft(budget, 900)
        };
        let rid = store::create_round(c, &actor, Utc::now(), &draft)
            .await
            .unwrap();
        let round = store::get_round(c, rid).await.unwrap();
        let domain = store::domains(c, rid).await.unwrap()[0].0;
        let mut current = Vec::new();
        for (org, yuan) in orgs.iter().zip(requests) {
            let new = crate::funding::proposal(&format!("第{run}轮项目{org}"), domain, yuan);
            let p =
                store::submit_proposal(c, &actor, Utc::now(), &round, *org, &new, round.call_on)
                    .await
                    .unwrap();
            store::screen(c, &actor, Utc::now(), p, true, "材料齐全")
                .await
                .unwrap();
            current.push((p.0, yuan * 100));
        }
        tx.commit().await.unwrap();
        let mut s = self.0.lock().unwrap();
        s.current = current;
        s.rounds += 1;
    }

    /// Starts the two allocators, each over its half of this run's proposals.
    pub fn spawn(
        &self,
        server: &Server,
        done: &Arc<AtomicBool>,
        unexpected: &Unexpected,
    ) -> Vec<std::thread::JoinHandle<()>> {
        let current = self.0.lock().unwrap().current.clone();
        ALLOCATORS
            .iter()
            .enumerate()
            .map(|(client, name)| {
                let mine: Vec<(i64, i64)> =
                    current.iter().skip(client).step_by(2).copied().collect();
                let (session, state) = (server.sign_in(name), self.clone());
                let (done, unexpected) = (done.clone(), unexpected.clone());
                std::thread::spawn(move || state.allocator(session, &mine, &done, &unexpected))
            })
            .collect()
    }

    fn allocator(
        &self,
        session: Session,
        mine: &[(i64, i64)],
        done: &AtomicBool,
        unexpected: &Unexpected,
    ) {
        let over_budget = Lang::Zh
            .t("funding.error.over_budget")
            .split('{')
            .next()
            .unwrap_or_default();
        for &(id, requested) in mine.iter().cycle() {
            if done.load(Ordering::SeqCst) {
                return;
            }
            let grant = {
                let mut s = self.0.lock().unwrap();
                let p = s.proposals.entry(id).or_default();
                // Withdraw a grant; grant in full, or half for every third proposal.
                let grant = match p.confirmed {
                    Some(_) => None,
                    None if id % 3 == 0 => Some(requested / 200 * 100),
                    None => Some(requested),
                };
                p.in_flight = Some(grant);
                p.sent += 1;
                grant
            };
            let amount = grant.map(|fen| (fen / 100).to_string()).unwrap_or_default();
            let action = match grant {
                None => "exclude",
                Some(fen) if fen == requested => "include",
                Some(_) => "amount",
            };
            let reply = session.try_post(
                &format!("/admin/funding/proposals/{id}/adjust"),
                &[
                    ("action", action),
                    ("amount", &amount),
                    ("reason", "崩溃测试：资金分配"),
                ],
            );
            let mut s = self.0.lock().unwrap();
            match reply {
                Ok(reply) if reply.status == 303 => {
                    let p = s.proposals.entry(id).or_default();
                    p.confirmed = grant;
                    p.in_flight = None;
                    p.acknowledged += 1;
                    if grant.is_some() {
                        s.granted += 1;
                    } else {
                        s.withdrawn += 1;
                    }
                }
                Ok(reply) if reply.status == 422 && reply.body.contains(over_budget) => {
                    let p = s.proposals.entry(id).or_default();
                    p.in_flight = None;
                    s.refused += 1;
                }
                Ok(reply) => return unexpected.note(action, &reply),
                Err(_) => return,
            }
        }
    }

    /// The invariants of funding (see the harness's documentation).
    pub async fn check(&self, t: &TestDb, context: &str) {
        let proposals = self.0.lock().unwrap().proposals.clone();
        let mut c = t.db.acquire().await.unwrap();
        let stored: HashMap<i64, (Option<i64>, i64)> = Sql::new("select p.id, p.granted_fen, (select count(*) from funding_adjustments a where a.proposal_id = p.id) from funding_proposals p")
            .fetch_all::<(i64, Option<i64>, i64)>(&mut c.conn())
            .await
            .unwrap()
            .into_iter()
            .map(|(id, granted, adjustments)| (id, (granted, adjustments)))
            .collect();
        drop(c);
        for (id, p) in &proposals {
            let (granted, adjustments) = stored[id];
            assert!(
                granted == p.confirmed || Some(granted) == p.in_flight,
                "acknowledged grant of proposal {id} lost: {granted:?}, confirmed {:?}, in flight {:?} ({context})",
                p.confirmed,
                p.in_flight
            );
            assert!(
                (p.acknowledged..=p.sent).contains(&adjustments),
                "proposal {id}: {adjustments} adjustments written for {} requests sent, {} acknowledged ({context})",
                p.sent,
                p.acknowledged
            );
        }
        for (what, table, predicate) in [
            (
                "a round's grants exceed its budget",
                "funding_rounds r",
                "(select coalesce(sum(p.granted_fen), 0) from funding_proposals p where p.round_id = r.id) > r.budget_fen",
            ),
            (
                "a grant is not its proposal's last adjustment (none: no grant, unless the round's allocation made it)",
                "funding_proposals p join funding_rounds r on r.id = p.round_id",
                "coalesce(p.granted_fen, -1) <> coalesce((select a.amount_fen from funding_adjustments a where a.proposal_id = p.id order by a.id desc limit 1), -1) and (r.allocated_at is null or exists (select 1 from funding_adjustments a where a.proposal_id = p.id and a.adjusted_at >= r.allocated_at))",
            ),
            (
                "a grant above its request",
                "funding_proposals p",
                "p.granted_fen is not null and (p.granted_fen <= 0 or p.granted_fen > p.requested_fen)",
            ),
            (
                "a proposal's adjustments and audit entries disagree",
                "funding_proposals p",
                "(select count(*) from funding_adjustments a where a.proposal_id = p.id) <> (select count(*) from audit_log l where l.entity = 'funding_proposal' and l.entity_id = p.id and l.action = 'adjust')",
            ),
        ] {
            assert_eq!(
                count_where(t, table, predicate).await,
                0,
                "{what} ({context})"
            );
        }
    }

    /// Rounds, grants and withdrawals acknowledged, grants refused for the budget.
    pub fn summary(&self) -> String {
        let s = self.0.lock().unwrap();
        format!(
            "{} funding rounds, {} grants and {} withdrawals acknowledged, {} grants refused for the budget",
            s.rounds, s.granted, s.withdrawn, s.refused
        )
    }
}
