//! Bulk loader for the directory benchmark (`scripts/bench-directory`): reads the CSV written by
//! `bench/gen_orgs.py` and writes organizations, their search keys (`org_search`) and their
//! full-text tokens (`org_search_fts`) into a fresh shezu database, in large transactions with
//! multi-row INSERTs, then prints rows/s. Not a test and not run by `cargo test`.
//!
//!     cargo bench --bench directory_load -- --csv orgs_1m.csv --database sqlite:/var/tmp/x.db \
//!         [--limit N] [--batch N] [--commit-every 50000] [--streets-out streets.tsv] [--analyze]
//!
//!     cargo bench --bench directory_load -- --probe --database URL
//!
//! `--probe` times, in process and through sqlx, the statements behind the directory on a loaded
//! database (full-text candidates, the GROUP BYs the facet index replaces, a record by id), to
//! tell which one a slow scenario waits on.
//!
//! Works on SQLite (`sqlite:PATH`) and PostgreSQL (`postgres://…`). The database must hold no
//! organizations yet (migrations are applied here; the Binhai area tree is loaded if missing).
//! Row ids are the CSV ids, so the benchmark's random record ids are the peers' ids.
//!
//! How the synthetic rows map onto shezu's schema:
//! - org_type → kind, domain → the shipped domain dictionary, status → machine names,
//!   rating → grade (empty = not rated); description → business_scope;
//!   registered_on → founded_on, registered_on and created_at/updated_at (01:00 UTC that day).
//! - street: a Binhai street or functional area of the same name (泰达街道 → 天津经济技术开发区
//!   东区泰达街道, 中新生态城 → 中新天津生态城); the two former streets gen_orgs still names (向阳街道,
//!   解放路街道, merged since) go round-robin onto street-level areas no other name maps to.
//!   Community organizations are placed in a community of that street (the one whose name
//!   begins with the generated community name, else one picked by id); the others in the street.
//! - Names: a second live organization with the same `name_key` gets a numbered suffix.

use chrono::{NaiveDate, TimeZone, Utc};
use shezu::areas::{AreaId, AreaLevel, Division};
use shezu::db::{Arg, Backend, Db, Sql};
use shezu::registry::name_key;
use shezu::registry::search::{SearchKeys, tsvector};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};

mod common;
use common::{csv_fields, domain_code_of, kind_of, status_of};
use std::time::Instant;

struct Options {
    csv: String,
    database: String,
    limit: Option<usize>,
    /// Rows per INSERT (default 250; on SQLite the values go as anonymous `?`, see
    /// `Sql::text_for`, so large statements no longer cost the square of their values).
    batch: Option<usize>,
    commit_every: usize,
    streets_out: Option<String>,
    analyze: bool,
    probe: bool,
}

fn options() -> Options {
    let mut o = Options {
        csv: std::env::var("SHEZU_BENCH_CSV").unwrap_or_default(),
        database: std::env::var("SHEZU_BENCH_DATABASE").unwrap_or_default(),
        limit: None,
        batch: None,
        commit_every: 50_000,
        streets_out: None,
        analyze: false,
        probe: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--bench" => {} // added by `cargo bench`
            "--csv" => o.csv = value(),
            "--database" => o.database = value(),
            "--limit" => o.limit = Some(value().parse().unwrap_or_else(|_| usage("--limit N"))),
            "--batch" => o.batch = Some(value().parse().unwrap_or_else(|_| usage("--batch N"))),
            "--commit-every" => {
                o.commit_every = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--commit-every N"))
            }
            "--streets-out" => o.streets_out = Some(value()),
            "--analyze" => o.analyze = true,
            "--probe" => o.probe = true,
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if (o.csv.is_empty() && !o.probe) || o.database.is_empty() {
        usage("--csv and --database are required");
    }
    o
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "directory_load: {problem}\nusage: cargo bench --bench directory_load -- --csv FILE --database URL [--limit N] [--batch N] [--commit-every N] [--streets-out FILE] [--analyze]\n       cargo bench --bench directory_load -- --probe --database URL"
    );
    std::process::exit(2)
}

/// Reads CSV records, joining lines when a quoted field holds a newline.
struct Records<R: BufRead> {
    reader: R,
}

impl<R: BufRead> Iterator for Records<R> {
    type Item = Vec<String>;
    fn next(&mut self) -> Option<Vec<String>> {
        let mut line = String::new();
        loop {
            let mut part = String::new();
            if self.reader.read_line(&mut part).ok()? == 0 {
                return (!line.is_empty()).then(|| csv_fields(&line));
            }
            line.push_str(&part);
            if line.matches('"').count().is_multiple_of(2) {
                let trimmed = line.trim_end_matches(['\n', '\r']);
                return Some(csv_fields(trimmed));
            }
        }
    }
}

/// Where the organizations of one generated street go.
struct StreetPlace {
    street: (AreaId, String, String),
    /// (id, name) of the street's communities, by code.
    communities: Vec<(AreaId, String)>,
}

/// Maps generated street names onto the area tree (see the module comment).
struct Streets {
    divisions: Vec<Division>,
    ids: HashMap<String, AreaId>,
    places: HashMap<String, StreetPlace>,
    used: HashSet<String>,
}

impl Streets {
    fn new(divisions: Vec<Division>, ids: HashMap<String, AreaId>) -> Streets {
        Streets {
            divisions,
            ids,
            places: HashMap::new(),
            used: HashSet::new(),
        }
    }

    fn is_street(d: &Division) -> bool {
        matches!(d.level, AreaLevel::Street | AreaLevel::FunctionalArea)
    }

    fn matched(&self, name: &str) -> Option<&Division> {
        let alias = match name {
            "中新生态城" => "中新天津生态城",
            other => other,
        };
        let streets = || self.divisions.iter().filter(|d| Self::is_street(d));
        streets()
            .find(|d| d.name == alias)
            .or_else(|| streets().find(|d| d.name.ends_with(alias)))
    }

    /// Resolves every generated street name, in sorted order (so the round-robin is stable).
    fn resolve(&mut self, names: &[&str]) {
        let mut names: Vec<&str> = names.to_vec();
        names.sort();
        let mut unmatched = Vec::new();
        for name in &names {
            match self.matched(name).map(|d| d.code.clone()) {
                Some(code) => {
                    self.used.insert(code.clone());
                    self.place(name, &code);
                }
                None => unmatched.push(*name),
            }
        }
        let mut spare: Vec<String> = self
            .divisions
            .iter()
            .filter(|d| d.level == AreaLevel::Street && !self.used.contains(&d.code))
            .map(|d| d.code.clone())
            .collect();
        spare.sort();
        for (i, name) in unmatched.iter().enumerate() {
            let code = spare[i % spare.len()].clone();
            self.used.insert(code.clone());
            self.place(name, &code);
        }
    }

    fn place(&mut self, name: &str, code: &str) {
        let d = self.divisions.iter().find(|d| d.code == code).unwrap();
        let mut communities: Vec<(String, AreaId, String)> = self
            .divisions
            .iter()
            .filter(|c| c.level == AreaLevel::Community && c.parent_code.as_deref() == Some(code))
            .map(|c| (c.code.clone(), self.ids[&c.code], c.name.clone()))
            .collect();
        communities.sort();
        self.places.insert(
            name.to_owned(),
            StreetPlace {
                street: (self.ids[code], d.code.clone(), d.name.clone()),
                communities: communities.into_iter().map(|(_, id, n)| (id, n)).collect(),
            },
        );
    }

    /// The area of one organization.
    fn area(&self, street: &str, kind: &str, name: &str, id: i64) -> AreaId {
        let place = &self.places[street];
        if kind != "community" || place.communities.is_empty() {
            return place.street.0;
        }
        // 滨海新区 + street + community + 社区 + …: the generated community name.
        let community = name
            .split_once(street)
            .and_then(|(_, rest)| rest.split_once("社区"))
            .map(|(c, _)| c)
            .unwrap_or("");
        if !community.is_empty()
            && let Some((id, _)) = place
                .communities
                .iter()
                .find(|(_, n)| n.starts_with(community))
        {
            return *id;
        }
        place.communities[(id as usize) % place.communities.len()].0
    }
}

/// One parsed row, ready to insert.
struct Row {
    id: i64,
    uscc: String,
    name: String,
    kind: &'static str,
    domain_id: i64,
    area_id: AreaId,
    registered_on: NaiveDate,
    status: &'static str,
    grade: Option<String>,
    scope: String,
}

struct Loader {
    db: Db,
    backend: Backend,
    conn: shezu::db::PooledConn,
    /// Seconds spent computing search keys, and writing each of the three tables.
    spent: [f64; 4],
}

impl Loader {
    async fn exec(&mut self, sql: &Sql) {
        if let Err(e) = sql.execute(&mut self.conn.conn()).await {
            let text = sql.text();
            panic!("{e}\n  in: {}…", &text[..text.len().min(300)]);
        }
    }

    async fn run(&mut self, text: &str) {
        self.exec(&Sql::new(text)).await;
    }

    async fn begin(&mut self) {
        let begin = match self.backend {
            Backend::Sqlite => "begin immediate",
            Backend::Postgres => "begin",
        };
        self.run(begin).await;
    }

    /// Writes one batch of organizations with their search rows.
    async fn insert(&mut self, rows: &[Row]) {
        let mut orgs = Sql::new(
            "insert into organizations (id, uscc, name, name_key, kind, domain_id, direct_registration, area_id, founded_on, registered_on, registration_authority, business_scope, status, grade, brand, version, created_at, updated_at) values ",
        );
        let mut search =
            Sql::new("insert into org_search (org_id, name, former, pinyin, initials) values ");
        let mut fts = Sql::new(match self.backend {
            Backend::Sqlite => "insert into org_search_fts (rowid, tokens) values ",
            Backend::Postgres => "insert into org_search_fts (org_id, tokens) values ",
        });
        let t = Instant::now();
        for (i, r) in rows.iter().enumerate() {
            let sep = if i == 0 { "(" } else { ", (" };
            let at = Utc.from_utc_datetime(&r.registered_on.and_hms_opt(1, 0, 0).unwrap());
            let values: [Arg; 17] = [
                r.id.into(),
                r.uscc.as_str().into(),
                r.name.as_str().into(),
                name_key(&r.name).into(),
                r.kind.into(),
                r.domain_id.into(),
                false.into(),
                r.area_id.0.into(),
                r.registered_on.into(),
                r.registered_on.into(),
                r.uscc[2..8].into(),
                r.scope.as_str().into(),
                r.status.into(),
                r.grade.clone().into(),
                false.into(),
                1i64.into(),
                at.into(),
            ];
            orgs.push(sep);
            for (j, v) in values.into_iter().enumerate() {
                if j > 0 {
                    orgs.push(", ");
                }
                orgs.push_arg(v);
            }
            orgs.push(", ").push_arg(at).push(")");

            let keys = SearchKeys::of(&r.name, &[]);
            search
                .push(sep)
                .push_arg(r.id)
                .push(", ")
                .push_arg(keys.name.as_str())
                .push(", ")
                .push_arg(keys.former.as_str())
                .push(", ")
                .push_arg(keys.pinyin.as_str())
                .push(", ")
                .push_arg(keys.initials.as_str())
                .push(")");
            let tokens = keys.tokens();
            fts.push(sep).push_arg(r.id).push(", ");
            match self.backend {
                Backend::Sqlite => fts.push_arg(tokens).push(")"),
                Backend::Postgres => fts.push_arg(tsvector(&tokens)).push("::tsvector)"),
            };
        }
        self.spent[0] += t.elapsed().as_secs_f64();
        for (i, sql) in [orgs, search, fts].iter().enumerate() {
            let t = Instant::now();
            self.exec(sql).await;
            self.spent[i + 1] += t.elapsed().as_secs_f64();
        }
    }
}

#[tokio::main]
async fn main() {
    let o = options();
    if o.probe {
        probe(&o.database).await;
        return;
    }
    let started = Instant::now();
    let db = Db::connect(&o.database).await.expect("connect");
    shezu::db::migrate(&db).await.expect("migrate");
    let backend = db.backend();
    let conn = db.acquire().await.expect("connection");
    let mut l = Loader {
        db,
        backend,
        conn,
        spent: [0.0; 4],
    };

    let existing = Sql::new("select count(*) from organizations")
        .fetch_i64(&mut l.conn.conn())
        .await
        .unwrap();
    if existing > 0 {
        eprintln!("directory_load: the database already holds {existing} organizations");
        std::process::exit(1);
    }

    // Areas (the Binhai tree), unless already there.
    let divisions = shezu::areas::binhai_divisions();
    let mut ids: HashMap<String, AreaId> = HashMap::new();
    let areas = shezu::areas::store::count(&mut l.conn.conn())
        .await
        .unwrap();
    if areas == 0 {
        l.begin().await;
        ids = shezu::areas::store::insert_divisions(&mut l.conn.conn(), &divisions)
            .await
            .expect("areas");
        l.run("commit").await;
    } else {
        for row in shezu::areas::store::list_all(&mut l.conn.conn())
            .await
            .unwrap()
        {
            ids.insert(row.code.clone(), row.area_id());
        }
    }
    let domains: HashMap<String, i64> = Sql::new("select code, id from domains")
        .fetch_all::<(String, i64)>(&mut l.conn.conn())
        .await
        .unwrap()
        .into_iter()
        .collect();

    const GEN_STREETS: [&str; 19] = [
        "塘沽街道",
        "新港街道",
        "新河街道",
        "大沽街道",
        "新北街道",
        "北塘街道",
        "胡家园街道",
        "杭州道街道",
        "新村街道",
        "向阳街道",
        "解放路街道",
        "汉沽街道",
        "寨上街道",
        "茶淀街道",
        "大港街道",
        "古林街道",
        "海滨街道",
        "泰达街道",
        "中新生态城",
    ];
    let mut streets = Streets::new(divisions, ids);
    streets.resolve(&GEN_STREETS);
    let mut map_lines = Vec::new();
    let mut names: Vec<&&str> = GEN_STREETS.iter().collect();
    names.sort();
    for name in names {
        let p = &streets.places[*name];
        map_lines.push(format!(
            "{name}\t{}\t{}\t{}",
            p.street.1,
            p.street.2,
            p.communities.len()
        ));
    }
    println!("street mapping (generated name, area code, area name, communities):");
    for line in &map_lines {
        println!("  {line}");
    }
    if let Some(path) = &o.streets_out {
        let mut f = std::fs::File::create(path).expect("streets-out");
        for line in &map_lines {
            writeln!(f, "{line}").unwrap();
        }
    }

    // PostgreSQL: a GIN index is far cheaper to build once than to grow row by row; it is
    // dropped here and created again, with the migration's definition, after the load.
    if backend == Backend::Postgres {
        l.run("drop index if exists org_search_fts_tokens").await;
    }
    if backend == Backend::Sqlite {
        l.run("pragma cache_size = -1000000").await; // 1 GB page cache for the load
    }

    let file = std::fs::File::open(&o.csv).expect("open csv");
    let mut records = Records {
        reader: BufReader::with_capacity(1 << 20, file),
    };
    let header = records.next().expect("csv header");
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("csv has no column {name}"))
    };
    let (c_id, c_name, c_uscc, c_type, c_domain, c_street, c_status, c_reg, c_rating, c_desc) = (
        col("id"),
        col("name"),
        col("uscc"),
        col("org_type"),
        col("domain"),
        col("street"),
        col("status"),
        col("registered_on"),
        col("rating"),
        col("description"),
    );

    let load_started = Instant::now();
    let mut live_names: HashSet<String> = HashSet::new();
    let mut renamed = 0usize;
    let batch_rows = o.batch.unwrap_or(250).clamp(1, 1000);
    let mut batch: Vec<Row> = Vec::with_capacity(batch_rows);
    let mut done = 0usize;
    let mut in_tx = 0usize;
    let mut last_report = Instant::now();
    l.begin().await;
    for rec in records.by_ref() {
        if o.limit.is_some_and(|n| done + batch.len() >= n) {
            break;
        }
        let kind = kind_of(&rec[c_type]);
        let status = status_of(&rec[c_status]);
        let id: i64 = rec[c_id].parse().expect("id");
        let mut name = rec[c_name].clone();
        if matches!(status, "preparing" | "active" | "abnormal") {
            let mut k = 2;
            while !live_names.insert(name_key(&name)) {
                name = format!("{}（{k}）", rec[c_name]);
                k += 1;
                renamed += 1;
            }
        }
        let domain_code = domain_code_of(&rec[c_domain]);
        batch.push(Row {
            id,
            area_id: streets.area(&rec[c_street], kind, &name, id),
            uscc: rec[c_uscc].clone(),
            kind,
            domain_id: domains[domain_code],
            registered_on: NaiveDate::parse_from_str(&rec[c_reg], "%Y-%m-%d").expect("date"),
            status,
            grade: Some(rec[c_rating].clone()).filter(|g| !g.is_empty()),
            scope: rec[c_desc].clone(),
            name,
        });
        if batch.len() == batch_rows {
            l.insert(&batch).await;
            done += batch.len();
            in_tx += batch.len();
            batch.clear();
            if in_tx >= o.commit_every {
                l.run("commit").await;
                l.begin().await;
                in_tx = 0;
            }
            if last_report.elapsed().as_secs() >= 10 {
                let s = load_started.elapsed().as_secs_f64();
                println!("  {done} rows, {s:.0} s, {:.0} rows/s", done as f64 / s);
                last_report = Instant::now();
            }
        }
    }
    if !batch.is_empty() {
        l.insert(&batch).await;
        done += batch.len();
    }
    l.run("commit").await;
    let rows_s = load_started.elapsed().as_secs_f64();
    println!(
        "organizations + org_search + org_search_fts: {done} rows in {rows_s:.1} s, {:.0} rows/s ({renamed} names suffixed as duplicates)",
        done as f64 / rows_s
    );
    println!(
        "  of which: search keys and statements {:.1} s, organizations {:.1} s, org_search {:.1} s, org_search_fts {:.1} s",
        l.spent[0], l.spent[1], l.spent[2], l.spent[3]
    );

    let post_started = Instant::now();
    match backend {
        Backend::Postgres => {
            l.run("set maintenance_work_mem = '1GB'").await;
            l.run("create index org_search_fts_tokens on org_search_fts using gin (tokens)")
                .await;
            l.run("select setval(pg_get_serial_sequence('organizations', 'id'), (select max(id) from organizations))").await;
            println!(
                "GIN index and sequence: {:.1} s",
                post_started.elapsed().as_secs_f64()
            );
            let t = Instant::now();
            l.run("vacuum analyze").await;
            println!("vacuum analyze: {:.1} s", t.elapsed().as_secs_f64());
        }
        Backend::Sqlite => {
            if o.analyze {
                l.run("analyze").await;
                println!("analyze: {:.1} s", post_started.elapsed().as_secs_f64());
            }
            let t = Instant::now();
            l.run("pragma wal_checkpoint(truncate)").await;
            println!("WAL checkpoint: {:.1} s", t.elapsed().as_secs_f64());
        }
    }
    let size = match backend {
        Backend::Postgres => Sql::new("select pg_database_size(current_database())")
            .fetch_i64(&mut l.conn.conn())
            .await
            .unwrap(),
        Backend::Sqlite => {
            Sql::new("select page_count * page_size from pragma_page_count(), pragma_page_size()")
                .fetch_i64(&mut l.conn.conn())
                .await
                .unwrap()
        }
    };
    drop(l.conn);
    l.db.close().await;
    let total = started.elapsed().as_secs_f64();
    println!(
        "total {total:.1} s ({:.0} rows/s overall); database size {:.0} MB",
        done as f64 / total,
        size as f64 / 1e6
    );
}

/// A term as the index stores it: base-32 code points (see `shezu::registry::search`), as an
/// FTS5 phrase and as a tsquery.
fn term_queries(term: &str) -> (String, String) {
    const DIGITS: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let enc = |c: char| {
        let n = (c as u32).min(0xF_FFFF);
        [15, 10, 5, 0]
            .iter()
            .map(|s| DIGITS[((n >> s) & 31) as usize] as char)
            .collect::<String>()
    };
    let chars: Vec<char> = shezu::registry::search::fold(term).chars().collect();
    let pairs: Vec<String> = chars
        .windows(2)
        .map(|p| format!("{}{}", enc(p[0]), enc(p[1])))
        .collect();
    let fts5 = format!("\"{}\"", pairs.join(" "));
    let tsquery = pairs
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(" <-> ");
    (fts5, tsquery)
}

/// Times one statement: a first run, then the median and worst of `runs` more.
async fn time_statement<T: shezu::db::Row>(db: &Db, label: &str, sql: Sql, runs: usize) -> Vec<T> {
    let mut conn = db.acquire().await.expect("connection");
    let t = Instant::now();
    let mut rows: Vec<T> = sql.fetch_all(&mut conn.conn()).await.expect(label);
    let first = t.elapsed().as_secs_f64() * 1000.0;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        rows = sql.fetch_all(&mut conn.conn()).await.expect(label);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let (p50, worst) = match times.as_slice() {
        [] => (first, first),
        t => (t[t.len() / 2], t[t.len() - 1]),
    };
    println!(
        "  {label:<58} {:>8} rows  first {first:>8.1} ms  p50 {p50:>8.1} ms  max {worst:>8.1} ms",
        rows.len()
    );
    rows
}

/// `--probe`: the statements behind the directory, timed in process.
async fn probe(url: &str) {
    let db = Db::connect(url).await.expect("connect");
    let pg = db.backend() == Backend::Postgres;
    println!(
        "statements on {} (first run, then p50 and max of 10 more):",
        if pg { "PostgreSQL" } else { "SQLite" }
    );
    for term in ["养老", "居家养老", "志愿服务", "书法家协会"] {
        let (fts5, tsquery) = term_queries(term);
        let (ids, count) = if pg {
            (
                Sql::new("select org_id from org_search_fts where tokens @@ $1::tsquery")
                    .arg(tsquery.as_str()),
                Sql::new("select count(*) from org_search_fts where tokens @@ $1::tsquery")
                    .arg(tsquery.as_str()),
            )
        } else {
            (
                Sql::new("select rowid from org_search_fts where org_search_fts match $1")
                    .arg(fts5.as_str()),
                Sql::new("select count(*) from org_search_fts where org_search_fts match $1")
                    .arg(fts5.as_str()),
            )
        };
        time_statement::<(i64,)>(&db, &format!("full-text ids for {term}"), ids, 10).await;
        time_statement::<(i64,)>(&db, &format!("full-text count for {term}"), count, 10).await;
    }
    let kind = Sql::new("select o.kind, count(*) from organizations o group by o.kind");
    time_statement::<(String, i64)>(&db, "SQL facet: kind (GROUP BY over all)", kind, 3).await;
    let area = Sql::new(
        "select a.code, count(*) from organizations o join area_closure c on c.descendant_id = o.area_id join areas a on a.id = c.ancestor_id where a.parent_id = (select id from areas where parent_id is null order by id limit 1) group by a.code",
    );
    time_statement::<(String, i64)>(&db, "SQL facet: area children of the root", area, 3).await;
    let total = Sql::new("select count(*) from organizations");
    time_statement::<(i64,)>(&db, "SQL total: count(*) over all", total, 3).await;
    let d = Sql::new(
        "select count(*) from organizations o where o.kind = 'private_non_enterprise' and o.area_id in (select descendant_id from area_closure where ancestor_id in (select id from areas where code = '120116001'))",
    );
    time_statement::<(i64,)>(&db, "SQL total: street 塘沽 + kind", d, 3).await;
    let columns = Sql::new(
        "select o.id, o.kind, o.area_id, s.name, s.pinyin, s.initials from organizations o left join org_search s on s.org_id = o.id order by o.id",
    );
    time_statement::<(i64, String, i64, String, String, String)>(
        &db,
        "all rows' facet columns and search keys (index build)",
        columns,
        0,
    )
    .await;
    let one = Sql::new(
        "select o.id, o.name, d.code, a.code from organizations o join domains d on d.id = o.domain_id join areas a on a.id = o.area_id where o.id = $1",
    )
    .arg(339_564i64);
    time_statement::<(i64, String, String, String)>(&db, "one record by id", one, 100).await;
    db.close().await;
}
