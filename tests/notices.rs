//! Notices: staff write a draft, publish it, it appears on the portal, the home page and the
//! Atom feed, and disappears when withdrawn; bad input is refused field by field and changes
//! nothing; Markdown cannot smuggle script; a stale edit is a conflict.

use crate::db_test;
use axum::http::StatusCode;

db_test!(
    a_notice_goes_from_draft_to_the_portal_and_back,
    |t| async move {
        let staff = t.app_as("registrar1", "registrar", None, None).await;
        let public = t.app();
        let body = "为培育公益组织，开展**公益创投**。\n\n<script>alert('x')</script>\n\n[报名](javascript:alert(1)) [说明](/consult)";
        let res = staff
            .post_form(
                "/admin/notices",
                &[
                    ("kind", "notice"),
                    ("title", "关于开展公益创投的通知"),
                    ("body", body),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let id: i64 = res
            .location()
            .trim_start_matches("/admin/notices/")
            .parse()
            .unwrap();

        // A draft: invisible to the public, visible to its writers.
        assert_eq!(
            public.get(&format!("/notices/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(!public.get("/notices").await.body.contains("公益创投"));
        let preview = staff.get(&format!("/notices/{id}")).await;
        assert_eq!(preview.status, StatusCode::OK);
        assert!(preview.body.contains("草稿"));

        // Published: on the list, the home page, the feed; rendered, with no script.
        let res = staff
            .post_form(&format!("/admin/notices/{id}/publish"), &[("publish", "1")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = public.get(&format!("/notices/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("<strong>公益创投</strong>"));
        assert!(!page.body.contains("<script>alert"));
        assert!(page.body.contains("&lt;script&gt;"));
        assert!(!page.body.contains("javascript:"));
        assert!(page.body.contains("href=\"/consult\""));
        assert!(
            public
                .get("/notices")
                .await
                .body
                .contains("关于开展公益创投的通知")
        );
        assert!(
            public
                .get("/")
                .await
                .body
                .contains("关于开展公益创投的通知")
        );
        let feed = public.get("/notices/feed.xml").await;
        assert_eq!(feed.status, StatusCode::OK);
        assert_eq!(
            feed.headers["content-type"],
            "application/atom+xml; charset=utf-8"
        );
        assert!(feed.body.contains("<title>关于开展公益创投的通知</title>"));
        assert!(
            feed.body
                .contains(&format!("http://127.0.0.1:8080/notices/{id}"))
        );
        assert!(
            !feed.body.contains("<script"),
            "content is escaped into the XML"
        );
        let policy_only = public.get("/notices?kind=policy").await;
        assert!(!policy_only.body.contains("关于开展公益创投的通知"));

        // Withdrawn: gone again.
        let res = staff
            .post_form(&format!("/admin/notices/{id}/publish"), &[("publish", "0")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            public.get(&format!("/notices/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(
            !public
                .get("/notices/feed.xml")
                .await
                .body
                .contains("公益创投")
        );
    }
);

db_test!(bad_and_stale_notice_edits_change_nothing, |t| async move {
    let staff = t.app_as("registrar1", "registrar", None, None).await;
    let res = staff
        .post_form(
            "/admin/notices",
            &[("kind", "memo"), ("title", "  "), ("body", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("此项为必填项"));
    assert!(res.body.contains("不是有效的选项"));
    let mut c = t.db.acquire().await.unwrap();
    let count = shezu::db::Sql::new("select count(*) from notices")
        .fetch_i64(&mut c.conn())
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was written");
    drop(c);

    let res = staff
        .post_form(
            "/admin/notices",
            &[
                ("kind", "policy"),
                ("title", "直接登记办法"),
                ("body", "第一版"),
            ],
        )
        .await;
    let edit = res.location().to_owned();
    let fields = |body: &'static str| {
        [
            ("kind", "policy"),
            ("title", "直接登记办法"),
            ("body", body),
            ("version", "1"),
        ]
    };
    let res = staff.post_form(&edit, &fields("第二版")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // Another editor still holding version 1.
    let res = staff.post_form(&edit, &fields("第三版")).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("已被他人修改"));
    let page = staff.get(&edit).await;
    assert!(page.body.contains("第二版") && !page.body.contains("第三版"));
});
