//! The demo district loads on both databases and the API counts reproduce the seed's registry
//! figures from the records; changing a record changes the count.

use crate::db_test;
use axum::http::StatusCode;
use shezu::demo;

db_test!(
    demo_reproduces_registry_figures_from_records,
    |t| async move {
        let summary = demo::load(&t.db, demo::DEFAULT_SEED).await.unwrap();
        assert_eq!(summary.areas, 532);
        let app = t.app();
        let total = |q: &'static str| {
            let app = &app;
            async move {
                let res = app.get(&format!("/api/v1/organizations?{q}")).await;
                assert_eq!(res.status, StatusCode::OK, "{}", res.body);
                res.json()["total"].as_i64().unwrap()
            }
        };
        assert_eq!(total("").await, 2355);
        assert_eq!(total("kind=social_group").await, 326);
        assert_eq!(total("kind=private_non_enterprise").await, 297);
        assert_eq!(total("kind=foundation").await, 1);
        assert_eq!(total("kind=community").await, 1731);
        assert_eq!(summary.direct, 15);
        // The approval history: every 2013–2014 registration came through an application, and the
        // 2014 ones were decided faster than the 2013 ones ("shortened approval time").
        assert!(summary.applications > 100, "{summary}");
        let registrar = t
            .app()
            .signed_in("registrar", shezu::demo::DEMO_PASSWORD)
            .await;
        let desk = registrar.get("/admin/applications?queue=open").await;
        assert!(
            desk.body.contains("塘沽海洋环保公益协会"),
            "open applications are on the desk"
        );
        let faq = t.app().get("/consult").await;
        assert!(
            faq.body.contains("哪些社会组织可以直接登记"),
            "the demo has a published FAQ"
        );
        let mut c = t.db.acquire().await.unwrap();
        let figures = shezu::approvals::store::processing_figures(
            &mut c.conn(),
            &shezu::approvals::store::Viewer::Staff(shezu::auth::Scope::All),
            &shezu::approvals::Calendar::default(),
        )
        .await
        .unwrap();
        drop(c);
        let mean = |year: &str| {
            let f: Vec<_> = figures
                .iter()
                .filter(|f| f.month.starts_with(year))
                .collect();
            f.iter().map(|f| f.median_days).sum::<f64>() / f.len() as f64
        };
        assert!(
            mean("2014") < mean("2013"),
            "2014 {} vs 2013 {}",
            mean("2014"),
            mean("2013")
        );

        // A street's total is the sum over its communities plus those at street level.
        let street = app
            .get("/api/v1/organizations?area=120116001&per_page=100&facets=area")
            .await
            .json();
        let street_total = street["total"].as_i64().unwrap();
        assert!(street_total > 0);
        let by_child: i64 = street["facets"]["area"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        let at_street_level = total("area=120116001&kind=social_group").await; // touch another filter path
        assert!(by_child <= street_total && at_street_level <= street_total);
        for item in street["items"].as_array().unwrap() {
            assert!(
                item["area_code"].as_str().unwrap().starts_with("120116001"),
                "{item}"
            );
        }

        // The named organizations are there, the foundation is registered by the municipality.
        let named = app
            .get(&format!(
                "/api/v1/organizations?q={}",
                crate::common::encode("爱之声公益助学联盟")
            ))
            .await
            .json();
        assert_eq!(named["total"], 1);
        let foundation = app
            .get("/api/v1/organizations?kind=foundation")
            .await
            .json();
        assert!(
            foundation["items"][0]["uscc"]
                .as_str()
                .unwrap()
                .starts_with("53120000")
        );

        // Loading again is refused and changes nothing.
        assert!(matches!(
            demo::load(&t.db, demo::DEFAULT_SEED).await,
            Err(demo::DemoError::NotEmpty)
        ));
        assert_eq!(total("").await, 2355);

        // Counts come from records: deregister one social group through the registry.
        let active = total("kind=social_group&status=active").await;
        let deregistered = total("kind=social_group&status=deregistered").await;
        let sg = app
            .get("/api/v1/organizations?kind=social_group&status=active&per_page=1")
            .await
            .json();
        let id = sg["items"][0]["id"].as_i64().unwrap();
        let mut c = t.db.acquire().await.unwrap();
        let row = shezu::registry::store::find(
            &mut c.conn(),
            &shezu::auth::Scope::All,
            shezu::registry::OrgId(id),
        )
        .await
        .unwrap()
        .unwrap();
        drop(c);
        let mut form = shezu::registry::OrgForm::from_row(&row);
        form.status = "deregistered".into();
        let mut tx = t.db.begin().await.unwrap();
        shezu::registry::store::update(
            &mut tx.conn(),
            &shezu::auth::Scope::All,
            &shezu::audit::Actor::system("tester"),
            chrono::Utc::now(),
            row.org_id(),
            row.version,
            &form.parse().unwrap(),
            Some("注销"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(total("kind=social_group&status=active").await, active - 1);
        assert_eq!(total("kind=social_group").await, 326, "still on record");
        assert_eq!(
            total("kind=social_group&status=deregistered").await,
            deregistered + 1
        );
    }
);
