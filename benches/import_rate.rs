//! Import rate beside the raw insert rate of the same rows (issue 12: "import 1 M organizations
//! with validation and index ≤ 60 s; within 2× raw insert"). Not a test and not run by
//! `cargo test`.
//!
//!     python3 bench/gen_orgs.py --n 100000 --csv /var/tmp/orgs_100k.csv
//!     cargo bench --bench import_rate -- --csv /var/tmp/orgs_100k.csv --database sqlite:/var/tmp/imp.db
//!
//! The database must hold no organizations (migrations are applied and the Binhai area tree is
//! loaded here). Steps, each timed:
//! 1. the generated rows are mapped onto the import's columns (see below) into `CSV.import.csv`;
//! 2. **raw**: a bare prepared `INSERT INTO organizations (…) VALUES ($1, …)` per row, in one
//!    transaction, through the same driver (sqlx) — the floor any import is measured against;
//!    then the rows are deleted again;
//! 3. **import**: `shezu::registry::import::import_organizations` on the mapped file, in
//!    process: the validation pass, then the bulk writing pass (records, history, search keys
//!    and tokens, hash-chained audit entries) in one transaction.
//!
//! Mapping of `bench/gen_orgs.py` rows: org_type → 组织类型 label, domain → a domain code,
//! street → a Binhai street or functional area (the same name, or one picked by the name's
//! hash), status → its label, rating → 评估等级 with an expiry date, description → 业务范围;
//! registered kinds get a legal representative and the civil affairs bureau as supervisory
//! unit; a second live organization with the same name gets a numbered suffix (names of live
//! organizations are unique).

use shezu::areas::AreaLevel;
use shezu::audit::Actor;
use shezu::db::{Arg, Db, Sql};
use shezu::registry::name_key;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, BufWriter, Write};

mod common;
use common::{csv_fields, domain_code_of, kind_of, status_of};
use std::time::Instant;

struct Options {
    csv: String,
    database: String,
    skip_raw: bool,
}

fn options() -> Options {
    let mut o = Options {
        csv: String::new(),
        database: String::new(),
        skip_raw: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {}
            "--csv" => o.csv = args.next().unwrap_or_default(),
            "--database" => o.database = args.next().unwrap_or_default(),
            "--skip-raw" => o.skip_raw = true,
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if o.csv.is_empty() || o.database.is_empty() {
        usage("--csv and --database are required");
    }
    o
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "import_rate: {problem}\nusage: cargo bench --bench import_rate -- --csv FILE --database URL [--skip-raw]"
    );
    std::process::exit(2)
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// One mapped row, as the import file says it and as the raw insert binds it.
struct Mapped {
    uscc: String,
    name: String,
    kind: &'static str,
    domain: &'static str,
    area: String,
    status: &'static str,
    registered_on: String,
    grade: String,
    grade_expires_on: String,
    legal_representative: String,
    supervisory_unit: String,
    scope: String,
}

const IMPORT_HEADER: &str = "uscc,name,kind,domain,area_code,status,registered_on,grade,grade_expires_on,legal_representative,supervisory_unit,scope";

/// Maps the generated file onto the import's columns; returns the rows.
fn map_file(path: &str, out_path: &str) -> Vec<Mapped> {
    let divisions = shezu::areas::binhai_divisions();
    let streets: Vec<(String, String)> = divisions
        .iter()
        .filter(|d| matches!(d.level, AreaLevel::Street | AreaLevel::FunctionalArea))
        .map(|d| (d.name.clone(), d.code.clone()))
        .collect();
    let mut street_code: HashMap<String, String> = HashMap::new();
    let mut live = HashSet::new();
    let mut rows = Vec::new();
    let input = BufReader::new(std::fs::File::open(path).expect("csv"));
    for (i, line) in input.lines().enumerate() {
        let line = line.expect("read");
        if i == 0 {
            continue;
        }
        let f = csv_fields(&line);
        let (id, name, uscc, org_type, domain, street, status, registered_on, rating, scope) = (
            &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9],
        );
        let area = street_code
            .entry(street.clone())
            .or_insert_with(|| {
                let alias = if street == "中新生态城" {
                    "中新天津生态城"
                } else {
                    street
                };
                streets
                    .iter()
                    .find(|(n, _)| n == alias || n.ends_with(alias))
                    .map(|(_, c)| c.clone())
                    .unwrap_or_else(|| {
                        let h = street.bytes().fold(0usize, |h, b| h * 31 + usize::from(b));
                        streets[h % streets.len()].1.clone()
                    })
            })
            .clone();
        // Machine codes: the import takes codes as well as labels.
        let kind = kind_of(org_type);
        let registered = kind != "community";
        let status = status_of(status);
        let mut name = name.clone();
        if matches!(status, "active" | "abnormal") {
            let mut n = 1;
            while !live.insert(name_key(&name)) {
                n += 1;
                name = format!("{}（{n}）", f[1]);
            }
        }
        rows.push(Mapped {
            uscc: uscc.clone(),
            name,
            kind,
            domain: domain_code_of(domain),
            area,
            status,
            registered_on: registered_on.clone(),
            grade: rating.clone(),
            grade_expires_on: if rating.is_empty() {
                String::new()
            } else {
                "2028-12-31".into()
            },
            legal_representative: if registered {
                format!("负责人{id}")
            } else {
                String::new()
            },
            supervisory_unit: if registered {
                "滨海新区民政局".into()
            } else {
                String::new()
            },
            scope: scope.clone(),
        });
    }
    let mut out = BufWriter::new(std::fs::File::create(out_path).expect("mapped csv"));
    writeln!(out, "{IMPORT_HEADER}").unwrap();
    for r in &rows {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            r.uscc,
            quote(&r.name),
            r.kind,
            r.domain,
            r.area,
            r.status,
            r.registered_on,
            r.grade,
            r.grade_expires_on,
            r.legal_representative,
            r.supervisory_unit,
            quote(&r.scope)
        )
        .unwrap();
    }
    out.flush().unwrap();
    rows
}

/// The raw floor: one prepared single-row INSERT per row in one transaction.
async fn raw_insert(db: &Db, rows: &[Mapped]) -> f64 {
    let mut conn = db.acquire().await.expect("connection");
    let domains: HashMap<String, i64> = Sql::new("select code, id from domains")
        .fetch_all::<(String, i64)>(&mut conn.conn())
        .await
        .unwrap()
        .into_iter()
        .collect();
    let areas: HashMap<String, i64> = Sql::new("select code, id from areas")
        .fetch_all::<(String, i64)>(&mut conn.conn())
        .await
        .unwrap()
        .into_iter()
        .collect();
    drop(conn);
    let at = chrono::Utc::now();
    let started = Instant::now();
    let mut tx = db.begin().await.expect("begin");
    for r in rows {
        let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Sql::new(
            "insert into organizations (uscc, name, name_key, kind, domain_id, direct_registration, supervisory_unit, legal_representative, area_id, registered_on, registration_authority, business_scope, status, grade, grade_expires_on, brand, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .args(vec![
            r.uscc.as_str().into(),
            r.name.as_str().into(),
            name_key(&r.name).into(),
            r.kind.into(),
            domains[r.domain].into(),
            false.into(),
            text(&r.supervisory_unit).into(),
            text(&r.legal_representative).into(),
            areas[&r.area].into(),
            Arg::OptDate(date(&r.registered_on)),
            r.uscc[2..8].into(),
            text(&r.scope).into(),
            r.status.into(),
            text(&r.grade).into(),
            Arg::OptDate(date(&r.grade_expires_on)),
            false.into(),
            1i64.into(),
            at.into(),
            at.into(),
        ])
        .execute(&mut tx.conn())
        .await
        .expect("raw insert");
    }
    tx.commit().await.expect("commit");
    let secs = started.elapsed().as_secs_f64();
    let mut tx = db.begin().await.expect("begin");
    Sql::new("delete from organizations")
        .execute(&mut tx.conn())
        .await
        .expect("delete");
    tx.commit().await.expect("commit");
    secs
}

#[tokio::main]
async fn main() {
    let o = options();
    let db = Db::connect(&o.database).await.expect("connect");
    shezu::db::migrate(&db).await.expect("migrate");
    {
        let mut tx = db.begin().await.expect("begin");
        if shezu::areas::store::count(&mut tx.conn()).await.unwrap() == 0 {
            shezu::areas::store::insert_divisions(
                &mut tx.conn(),
                &shezu::areas::binhai_divisions(),
            )
            .await
            .expect("areas");
        }
        let orgs = Sql::new("select count(*) from organizations")
            .fetch_i64(&mut tx.conn())
            .await
            .unwrap();
        assert_eq!(orgs, 0, "the database must hold no organizations");
        tx.commit().await.unwrap();
    }
    let mapped_path = format!("{}.import.csv", o.csv);
    let t = Instant::now();
    let rows = map_file(&o.csv, &mapped_path);
    let n = rows.len() as f64;
    eprintln!(
        "mapped {} rows in {:.1} s → {mapped_path}",
        rows.len(),
        t.elapsed().as_secs_f64()
    );
    let raw = if o.skip_raw {
        None
    } else {
        let secs = raw_insert(&db, &rows).await;
        eprintln!("raw insert: {:.1} s", secs);
        Some(secs)
    };
    drop(rows);
    let started = Instant::now();
    let file = std::fs::File::open(&mapped_path).expect("mapped csv");
    let summary = shezu::registry::import::import_organizations(
        &db,
        &Actor::system("bench"),
        file,
        &mut |_| {},
    )
    .await
    .unwrap_or_else(|e| {
        if let shezu::registry::import::ImportError::Invalid(errors) = &e {
            for err in errors.iter().take(20) {
                eprintln!("{}", err.render(shezu::i18n::Lang::Zh));
            }
        }
        panic!("import failed: {e:?}")
    });
    let secs = started.elapsed().as_secs_f64();
    db.close().await;
    println!("| step | rows | seconds | rows/s |");
    println!("|---|---:|---:|---:|");
    if let Some(raw) = raw {
        println!(
            "| raw prepared INSERT (organizations only) | {} | {raw:.1} | {:.0} |",
            n,
            n / raw
        );
    }
    println!(
        "| shezu import (validate + write all tables) | {} | {secs:.1} | {:.0} |",
        summary.rows,
        n / secs
    );
    if let Some(raw) = raw {
        println!("import / raw time: {:.2}×", secs / raw);
    }
}
