//! Conflicting actions at the same moment, on both databases: eight staff members editing the
//! same organization from the same version, and eight granting the last of a funding round's
//! budget to different proposals. Exactly one wins each race, the others get a clear refusal,
//! and the records' rules hold afterwards. (Two clients approving one application:
//! tests/approvals.rs.) Two tests hold a transaction open on purpose: so the race one checks
//! happens every time rather than when the scheduler allows, and so a writer waits out the
//! write lock's limit and is told to try again (503) with nothing written.

use crate::common::{Answer, TestDb};
use crate::db_test;
use axum::http::StatusCode;
use shezu::db::Sql;

/// Clients racing at once.
const CLIENTS: usize = 8;

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// Runs every request on its own task, all started together; the answers in order.
async fn race<F>(requests: Vec<F>) -> Vec<Answer>
where
    F: std::future::Future<Output = Answer> + Send + 'static,
{
    let tasks: Vec<_> = requests.into_iter().map(tokio::spawn).collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

db_test!(eight_edits_of_one_version_make_one_change, |t| async move {
    crate::registry::load_areas(t).await;
    let (id, uscc) = crate::evaluation::org(t, "滨海新区并发编辑协会", "2012-01-10").await;
    let mut staff = Vec::new();
    for i in 0..CLIENTS {
        staff.push(
            t.app_as(&format!("registrar{i}"), "registrar", None, None)
                .await,
        );
    }
    let requests = staff
        .into_iter()
        .enumerate()
        .map(|(i, app)| {
            let uscc = uscc.clone();
            async move {
                let person = format!("负责人{i}");
                app.post_form(
                    &format!("/admin/orgs/{id}"),
                    &[
                        ("name", "滨海新区并发编辑协会"),
                        ("kind", "social_group"),
                        ("domain", "culture"),
                        ("supervisory_unit", "滨海新区文化和旅游局"),
                        ("legal_representative", &person),
                        ("area_code", "120116001016"),
                        ("registered_on", "2012-01-10"),
                        ("uscc", &uscc),
                        ("version", "1"),
                        ("reason", "换届"),
                    ],
                )
                .await
            }
        })
        .collect();
    let answers = race(requests).await;
    let winners: Vec<usize> = (0..CLIENTS)
        .filter(|&i| answers[i].status == StatusCode::SEE_OTHER)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one edit wins");
    for (i, answer) in answers.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
            assert!(answer.body.contains("已被他人修改"), "{}", answer.body);
        }
    }
    // The record holds the winner's value, at version 2, with one change in its history.
    let winner = format!("负责人{}", winners[0]);
    assert_eq!(
            count(t, &format!("select count(*) from organizations where id = {id} and version = 2 and legal_representative = '{winner}'")).await,
            1
        );
    assert_eq!(
        count(
            t,
            &format!("select count(*) from org_changes where org_id = {id} and action = 'update'")
        )
        .await,
        1
    );
});

db_test!(
    eight_claims_on_the_last_of_a_budget_never_overspend_it,
    |t| async move {
        let f = crate::funding::fixture(t).await;
        let staff = t.app().signed_in("staff1", crate::common::PASSWORD).await;
        let res = staff
            .post_form(&format!("/admin/funding/{}/allocate", f.round.id), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        // 230,000 of 250,000 yuan granted; proposals 2 (80,000) and 3 (70,000) left out.
        assert_eq!(
            crate::funding::granted(t, &f).await,
            [Some(100_000), Some(90_000), None, None, Some(40_000)]
        );
        // Four clients grant the last 20,000 to proposal 2, four to proposal 3, all at once.
        let requests = (0..CLIENTS)
            .map(|i| {
                let app = staff.clone();
                let proposal = f.proposals[2 + i % 2].0;
                async move {
                    app.post_form(
                        &format!("/admin/funding/proposals/{proposal}/adjust"),
                        &[
                            ("action", "amount"),
                            ("amount", "20000"),
                            ("reason", "专家建议部分资助"),
                        ],
                    )
                    .await
                }
            })
            .collect();
        let answers = race(requests).await;
        let granted = crate::funding::granted(t, &f).await;
        let total: i64 = granted.iter().flatten().sum();
        assert_eq!(
            total, 250_000,
            "the budget exactly, never more: {granted:?}"
        );
        let winner = if granted[2].is_some() { 0 } else { 1 };
        assert_eq!(
            (granted[2].is_some(), granted[3].is_some()),
            (winner == 0, winner == 1),
            "one proposal gets the rest: {granted:?}"
        );
        for (i, answer) in answers.iter().enumerate() {
            if i % 2 == winner {
                assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
            } else {
                assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
                assert!(
                    answer.body.contains("0.00"),
                    "names what is left: {}",
                    answer.body
                );
            }
        }
    }
);

db_test!(
    a_rule_checked_before_writing_still_holds_at_commit,
    |t| async move {
        use shezu::funding::store::{Adjustment, adjust};
        let f = crate::funding::fixture(t).await;
        let staff = shezu::audit::Actor::system("staff1");
        let mut tx = t.db.begin().await.unwrap();
        shezu::funding::store::run_allocation(&mut tx.conn(), &staff, chrono::Utc::now(), &f.round)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // The first grant of the last 20,000 yuan is written but not yet committed…
        let mut first = t.db.begin().await.unwrap();
        adjust(
            &mut first.conn(),
            &staff,
            chrono::Utc::now(),
            f.proposals[2],
            Adjustment::Amount(2_000_000),
            "部分资助",
        )
        .await
        .unwrap();
        // …while a second transaction checks the budget and grants the same money elsewhere.
        let db = t.db.clone();
        let other = f.proposals[3];
        let second = tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            let actor = shezu::audit::Actor::system("staff2");
            let result = adjust(
                &mut tx.conn(),
                &actor,
                chrono::Utc::now(),
                other,
                Adjustment::Amount(2_000_000),
                "部分资助",
            )
            .await;
            if result.is_ok() {
                tx.commit().await.unwrap();
            }
            result
        });
        // Long enough for the second to reach its check if nothing made it wait.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        first.commit().await.unwrap();
        let second = second.await.unwrap();
        assert!(
            matches!(second, Err(shezu::error::Error::Invalid(_))),
            "the second grant sees the first and is refused: {second:?}"
        );
        let granted = format!(
            "select cast(sum(granted_fen) as bigint) from funding_proposals where round_id = {}",
            f.round.id
        );
        assert_eq!(count(t, &granted).await, 250_000 * 100);
    }
);

db_test!(
    a_writer_kept_waiting_too_long_is_told_to_try_again,
    |t| async move {
        let staff = t.app_as("dengdai1", "admin", None, None).await;
        let fields = [
            ("code", "busy_test"),
            ("name_zh", "繁忙测试"),
            ("name_en", "Busy test"),
            ("active", "on"),
        ];
        let added = "select count(*) from domains where code = 'busy_test'";
        // Another writer holds the write lock for longer than anyone waits for it (an import,
        // a stuck transaction)…
        let holder = t.db.begin().await.unwrap();
        let res = staff.post_form("/admin/domains", &fields).await;
        assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
        assert!(res.body.contains("系统正忙"), "{}", res.body);
        assert!(res.body.contains("未保存"), "{}", res.body);
        assert_eq!(res.headers["retry-after"], "5");
        drop(holder);
        assert_eq!(count(t, added).await, 0);
        // …and once it is done, the same request goes through.
        let res = staff.post_form("/admin/domains", &fields).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(count(t, added).await, 1);
    }
);
