//! The national dataset's writer: organizations with their search keys, annual reports,
//! volunteers and service records, as multi-row INSERTs of 250 rows a statement (on SQLite the
//! values go as anonymous `?`, see `Sql::text_for`, so a statement's cost grows with its values,
//! not with their square), committed
//! every 50,000 organizations, with explicit ids so that dependent rows need no read-back.
//!
//! Proportions (per organization, drawn from the same seeded stream):
//! - annual reports (年度工作报告): one per past year since the year after registration, for the
//!   years 2022–2024 only, for every live registered organization (social group, private
//!   non-enterprise unit, foundation); an organization listed as abnormal misses its 2024 report.
//!   All reviewed: 90 % pass, 7 % basic pass, 3 % fail.
//! - volunteers (志愿者): live organizations keep a roster with a chance of 60 % in volunteer
//!   service, 30 % in community service, elderly care and charity, 10 % otherwise; 1–5 volunteers
//!   each, with 1–3 service records each (most verified).

use super::begin_statement;
use crate::db::{Arg, Backend, Db, PooledConn, Sql, Timestamp};
use crate::demo::names::person_name;
use crate::demo::rng::Rng;
use crate::error::Result;
use crate::registry::OrgKind;
use crate::registry::search::{SearchKeys, tsvector};
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};

/// Organizations per transaction.
const COMMIT_EVERY: usize = 50_000;

/// One organization as written.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgRow {
    /// Explicit id (1, 2, … in generation order).
    pub id: i64,
    /// 统一社会信用代码 (registered kinds only).
    pub uscc: Option<String>,
    /// 名称.
    pub name: String,
    /// The folded name the live-name index compares.
    pub name_key: String,
    /// 组织类型.
    pub kind: OrgKind,
    /// Domain code of the shipped dictionary.
    pub domain: &'static str,
    /// 直接登记.
    pub direct_registration: bool,
    /// 业务主管单位.
    pub supervisory_unit: Option<String>,
    /// 法定代表人.
    pub legal_representative: String,
    /// 联系人.
    pub contact_person: String,
    /// 联系电话.
    pub contact_phone: String,
    /// 住所.
    pub address: String,
    /// 成立日期.
    pub founded_on: NaiveDate,
    /// 登记（备案）日期.
    pub registered_on: NaiveDate,
    /// 注册资金 (fen).
    pub registered_capital_fen: Option<i64>,
    /// 会员数.
    pub members: Option<i64>,
    /// 从业人员.
    pub staff: Option<i64>,
    /// 业务范围.
    pub business_scope: String,
    /// Status machine name.
    pub status: &'static str,
    /// 评估等级.
    pub grade: Option<&'static str>,
    /// 等级有效期.
    pub grade_expires_on: Option<NaiveDate>,
    /// 品牌社会组织.
    pub brand: bool,
}

/// 09:00 China time on `day`.
fn morning(day: NaiveDate) -> Timestamp {
    Utc.from_utc_datetime(&day.and_hms_opt(1, 0, 0).unwrap_or_default())
}

/// Rows waiting for one multi-row INSERT.
struct Pending {
    head: &'static str,
    width: usize,
    values: Vec<Arg>,
}

impl Pending {
    fn new(head: &'static str, width: usize) -> Pending {
        Pending {
            head,
            width,
            values: Vec::new(),
        }
    }

    fn rows(&self) -> usize {
        self.values.len() / self.width
    }

    fn statement(&mut self) -> Sql {
        let mut sql = Sql::new(self.head);
        for (i, row) in self.values.chunks(self.width).enumerate() {
            sql.push(if i == 0 { " (" } else { ", (" });
            for (j, v) in row.iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.push_arg(v.clone());
            }
            sql.push(")");
        }
        self.values.clear();
        sql
    }
}

/// Writes the national dataset over one connection, in its own transactions.
pub struct Writer {
    conn: PooledConn,
    backend: Backend,
    batch: usize,
    orgs: Vec<(OrgRow, i64, i64)>,
    reports: Pending,
    volunteers: Pending,
    services: Pending,
    next_report: i64,
    next_volunteer: i64,
    next_service: i64,
    in_tx: usize,
    counts: Vec<(&'static str, u64)>,
}

impl Writer {
    /// A writer on a connection of `db`.
    pub async fn open(db: &Db) -> Result<Writer> {
        let backend = db.backend();
        Ok(Writer {
            conn: db.acquire().await?,
            backend,
            batch: 250,
            orgs: Vec::new(),
            reports: Pending::new(
                "insert into annual_reports (id, org_id, year, state, income_donations_fen, income_government_fen, income_services_fen, income_dues_fen, income_other_fen, income_total_fen, expenditure_programmes_fen, expenditure_total_fen, assets_fen, liabilities_fen, net_assets_fen, staff, members, volunteers, party_members, activities, officers, changes, donations_and_grants, awards, party_building, rectification, submitted_at, submitted_by, result, reasons, reviewed_at, reviewed_by, version, created_at, updated_at) values",
                35,
            ),
            volunteers: Pending::new(
                "insert into volunteers (id, org_id, area_id, name, gender, id_hash, id_masked, phone, registered_on, created_at) values",
                10,
            ),
            services: Pending::new(
                "insert into volunteer_services (id, volunteer_id, org_id, project, domain, served_on, tenth_hours, state, recorded_by, recorded_at, confirmed_by, confirmed_at, verified_by, verified_at) values",
                14,
            ),
            next_report: 1,
            next_volunteer: 1,
            next_service: 1,
            in_tx: 0,
            counts: [
                "areas",
                "organizations",
                "org_search",
                "org_search_fts",
                "annual_reports",
                "volunteers",
                "volunteer_services",
            ]
            .into_iter()
            .map(|t| (t, 0))
            .collect(),
        })
    }

    /// The writer's connection.
    pub fn conn(&mut self) -> crate::db::Conn<'_> {
        self.conn.conn()
    }

    async fn run(&mut self, text: &str) -> Result<()> {
        Sql::new(text).execute(&mut self.conn.conn()).await?;
        Ok(())
    }

    /// `select count(*) …` on the writer's connection.
    pub async fn count(&mut self, sql: &str) -> Result<i64> {
        Ok(Sql::new(sql).fetch_i64(&mut self.conn.conn()).await?)
    }

    fn add(&mut self, table: &str, n: usize) {
        if let Some(entry) = self.counts.iter_mut().find(|(t, _)| *t == table) {
            entry.1 += n as u64;
        }
    }

    /// Rows written so far over every table.
    pub fn rows_written(&self) -> u64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    /// Rows written per table.
    pub fn into_counts(self) -> Vec<(&'static str, u64)> {
        self.counts
    }

    /// Starts a transaction.
    pub async fn begin(&mut self) -> Result<()> {
        self.run(begin_statement(self.backend)).await
    }

    /// Commits the open transaction.
    pub async fn commit(&mut self) -> Result<()> {
        self.run("commit").await
    }

    /// Writes the area tree and its closure in one transaction; returns each code's id.
    pub async fn insert_areas(
        &mut self,
        divisions: &[crate::areas::Division],
    ) -> Result<std::collections::HashMap<String, crate::areas::AreaId>> {
        self.begin().await?;
        let ids = crate::areas::store::insert_divisions(&mut self.conn.conn(), divisions).await?;
        self.commit().await?;
        self.add("areas", divisions.len());
        Ok(ids)
    }

    /// Settings for a bulk load: on PostgreSQL the full-text GIN index is dropped (far cheaper
    /// to build once afterwards than to grow row by row); on SQLite a large page cache.
    pub async fn prepare_bulk(&mut self) -> Result<()> {
        match self.backend {
            Backend::Postgres => self.run("drop index if exists org_search_fts_tokens").await,
            Backend::Sqlite => self.run("pragma cache_size = -1000000").await,
        }
    }

    /// Queues one organization and the reports and volunteers it has; writes whatever batch
    /// is full, and commits every [`COMMIT_EVERY`] organizations.
    pub async fn push_org(
        &mut self,
        org: OrgRow,
        area_id: i64,
        domain_id: i64,
        salt: &str,
        rng: &mut Rng,
    ) -> Result<()> {
        self.queue_reports(&org, rng);
        self.queue_volunteers(&org, area_id, salt, rng);
        self.orgs.push((org, area_id, domain_id));
        if self.orgs.len() >= self.batch {
            self.flush_orgs().await?;
        }
        for pending in [0, 1, 2] {
            let p = match pending {
                0 => &self.reports,
                1 => &self.volunteers,
                _ => &self.services,
            };
            if p.rows() >= self.batch {
                // Dependent rows name their organization (and volunteer): those go first.
                self.flush_orgs().await?;
                self.flush_dependents(pending + 1).await?;
            }
        }
        if self.in_tx >= COMMIT_EVERY {
            self.flush_all().await?;
            self.commit().await?;
            self.begin().await?;
            self.in_tx = 0;
        }
        Ok(())
    }

    /// Writes every queued row (the transaction stays open).
    pub async fn finish_bulk(&mut self) -> Result<()> {
        self.flush_all().await
    }

    async fn flush_all(&mut self) -> Result<()> {
        self.flush_orgs().await?;
        self.flush_dependents(3).await
    }

    /// Writes the first `upto` dependent tables' queues, in order (reports, volunteers,
    /// services: a service names its volunteer).
    async fn flush_dependents(&mut self, upto: usize) -> Result<()> {
        for i in 0..upto {
            let (table, pending) = match i {
                0 => ("annual_reports", &mut self.reports),
                1 => ("volunteers", &mut self.volunteers),
                _ => ("volunteer_services", &mut self.services),
            };
            let n = pending.rows();
            if n == 0 {
                continue;
            }
            let sql = pending.statement();
            sql.execute(&mut self.conn.conn()).await?;
            self.add(table, n);
        }
        Ok(())
    }

    async fn flush_orgs(&mut self) -> Result<()> {
        if self.orgs.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.orgs);
        insert_organizations(&mut self.conn.conn(), self.backend, &rows).await?;
        self.in_tx += rows.len();
        for table in ["organizations", "org_search", "org_search_fts"] {
            self.add(table, rows.len());
        }
        Ok(())
    }

    fn queue_reports(&mut self, org: &OrgRow, rng: &mut Rng) {
        if !org.kind.is_registered() || !matches!(org.status, "active" | "abnormal") {
            return;
        }
        let last = if org.status == "abnormal" { 2023 } else { 2024 };
        for year in (org.registered_on.year() + 1).max(2022)..=last {
            let scale = rng.between(5, 400) * 10_000 * 100; // fen of yearly income
            let part = |rng: &mut Rng, lo: i64, hi: i64| scale * rng.between(lo, hi) / 100;
            let donations = part(rng, 10, 50);
            let government = part(rng, 0, 30);
            let services = part(rng, 0, 20);
            let dues = if org.kind == OrgKind::SocialGroup {
                scale / 10
            } else {
                0
            };
            let other = part(rng, 0, 5);
            let income = donations + government + services + dues + other;
            let programmes = part(rng, 50, 75);
            let spent = part(rng, 80, 95);
            let assets = part(rng, 40, 160);
            let liabilities = part(rng, 0, 30);
            let deadline = NaiveDate::from_ymd_opt(year + 1, 5, 31).unwrap_or_default();
            let filed = deadline - Duration::days(rng.between(0, 60));
            let reviewed = filed + Duration::days(rng.between(3, 20));
            let result = match rng.below(100) {
                0..90 => "pass",
                90..97 => "basic_pass",
                _ => "fail",
            };
            let reasons = match result {
                "pass" => "",
                "basic_pass" => "财务制度执行不够规范，限期整改。",
                _ => "未按章程开展活动，财务管理混乱。",
            };
            // The dataset has no party organizations, so three or more party members would put
            // an organization on the abnormal list (DOMAIN §6): most reports show fewer, one in
            // fifty more (whose organization is then listed, as a non-compliant one would be).
            let party_members = if rng.below(50) == 0 {
                rng.between(3, 12)
            } else {
                rng.between(0, 2)
            };
            let id = self.next_report;
            self.next_report += 1;
            self.reports.values.extend([
                Arg::from(id),
                Arg::from(org.id),
                Arg::from(i64::from(year)),
                Arg::from("reviewed"),
                Arg::from(donations),
                Arg::from(government),
                Arg::from(services),
                Arg::from(dues),
                Arg::from(other),
                Arg::from(income),
                Arg::from(programmes),
                Arg::from(spent),
                Arg::from(assets),
                Arg::from(liabilities),
                Arg::from(assets - liabilities),
                Arg::from(org.staff.unwrap_or(1)),
                Arg::from(org.members.unwrap_or(0)),
                Arg::from(rng.between(0, 200)),
                Arg::from(party_members),
                Arg::from(format!(
                    "{year}年度按照章程开展业务活动{}次，服务群众约{}人次。",
                    rng.between(6, 60),
                    rng.between(200, 8000)
                )),
                Arg::from("负责人及理事会成员无变动。"),
                Arg::from("无登记事项变更。"),
                Arg::from("接受社会捐赠，按捐赠协议使用，未开展对外资助。"),
                Arg::from(""),
                Arg::from("党员纳入所在党组织管理，按期开展三会一课。"),
                Arg::from(""),
                Arg::from(morning(filed)),
                Arg::from(format!("org:{}", org.id)),
                Arg::from(result),
                Arg::from(reasons),
                Arg::from(morning(reviewed)),
                Arg::from("registrar"),
                Arg::from(3i64),
                Arg::from(morning(filed - Duration::days(1))),
                Arg::from(morning(reviewed)),
            ]);
        }
    }

    fn queue_volunteers(&mut self, org: &OrgRow, area_id: i64, salt: &str, rng: &mut Rng) {
        use crate::volunteers::{SERVICE_DOMAINS, id_number_hash};
        if !matches!(org.status, "active" | "abnormal") {
            return;
        }
        let chance = match org.domain {
            "volunteer_service" => 60,
            "community_service" | "elderly_care" | "charity" => 30,
            _ => 10,
        };
        if !rng.chance(chance) {
            return;
        }
        let division = org
            .uscc
            .as_deref()
            .map_or("110101", |u| &u[2..8])
            .to_owned();
        let first_day = org
            .registered_on
            .max(NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default());
        let days = (super::as_of() - first_day).num_days().max(1);
        for k in 0..rng.between(1, 5) {
            let born = NaiveDate::from_ymd_opt(
                rng.between(1950, 2005) as i32,
                rng.between(1, 12) as u32,
                rng.between(1, 28) as u32,
            )
            .unwrap_or_default();
            // Made-up but valid ID numbers, unique within the organization; kept only hashed
            // and masked, as the volunteer module does.
            let first17 = format!("{division}{}{:03}", born.format("%Y%m%d"), k);
            let number = format!(
                "{first17}{}",
                crate::people::id_check_char(&first17).unwrap_or('0')
            );
            let registered = first_day + Duration::days(rng.between(0, days / 2));
            let vid = self.next_volunteer;
            self.next_volunteer += 1;
            self.volunteers.values.extend([
                Arg::from(vid),
                Arg::from(org.id),
                Arg::from(area_id),
                Arg::from(person_name(rng)),
                Arg::from(if rng.chance(55) { "female" } else { "male" }),
                Arg::from(id_number_hash(salt, &number)),
                Arg::from(crate::people::mask_id_number(&number)),
                Arg::from(Some(crate::demo::names::phone(rng))),
                Arg::from(registered),
                Arg::from(morning(registered)),
            ]);
            let left = (super::as_of() - registered).num_days().max(1);
            for _ in 0..rng.between(1, 3) {
                let day = registered + Duration::days(rng.between(0, left - 1));
                let d = rng.below(SERVICE_DOMAINS.len());
                let state = match rng.below(100) {
                    0..3 => "recorded",
                    3..8 => "confirmed",
                    _ => "verified",
                };
                let confirmed = (state != "recorded").then(|| morning(day + Duration::days(2)));
                let verified = (state == "verified").then(|| morning(day + Duration::days(9)));
                let sid = self.next_service;
                self.next_service += 1;
                self.services.values.extend([
                    Arg::from(sid),
                    Arg::from(vid),
                    Arg::from(org.id),
                    Arg::from(crate::volunteers::demo::PROJECTS[d]),
                    Arg::from(SERVICE_DOMAINS[d]),
                    Arg::from(day),
                    Arg::from(rng.between(4, 32) * 5),
                    Arg::from(state),
                    Arg::from("demo"),
                    Arg::from(morning(day + Duration::days(1))),
                    Arg::from(confirmed.map(|_| "demo")),
                    Arg::from(confirmed),
                    Arg::from(verified.map(|_| "demo")),
                    Arg::from(verified),
                ]);
            }
        }
    }

    /// The nationwide administrator (Scope::All), with the demo password.
    pub async fn create_root_admin(&mut self) -> Result<()> {
        use crate::auth::store::{NewUser, create_user, grant_role};
        let actor = crate::audit::Actor::system("demo");
        let now = Utc::now();
        let mut conn = self.conn.conn();
        let id = create_user(
            &mut conn,
            &actor,
            now,
            &NewUser {
                username: super::ROOT_ADMIN.to_owned(),
                display_name: "全国管理员".to_owned(),
                password: crate::demo::DEMO_PASSWORD.to_owned(),
            },
        )
        .await?;
        grant_role(
            &mut conn,
            &actor,
            now,
            id,
            &crate::auth::Grant {
                role: crate::auth::Role::Admin,
                area: None,
                org: None,
            },
        )
        .await?;
        Ok(())
    }

    /// After the load: PostgreSQL gets its GIN index back and its id sequences moved past the
    /// explicit ids; both databases gather statistics for the planner.
    pub async fn after_load(&mut self, progress: &mut dyn FnMut(String)) -> Result<()> {
        let started = std::time::Instant::now();
        if self.backend == Backend::Postgres {
            self.run("set maintenance_work_mem = '512MB'").await?;
            self.run("create index if not exists org_search_fts_tokens on org_search_fts using gin (tokens)")
                .await?;
            for table in [
                "organizations",
                "annual_reports",
                "volunteers",
                "volunteer_services",
            ] {
                self.run(&format!(
                    "select setval(pg_get_serial_sequence('{table}', 'id'), greatest((select max(id) from {table}), 1))"
                ))
                .await?;
            }
        }
        self.run("analyze").await?;
        progress(crate::i18n::Lang::Zh.tf(
            "cli.scale_indexed",
            &[(
                "seconds",
                &format!("{:.1}", started.elapsed().as_secs_f64()),
            )],
        ));
        Ok(())
    }
}

/// Inserts a batch of organizations with their search keys (`org_search`) and full-text tokens
/// (`org_search_fts`), written exactly as the registry writes them (`SearchKeys`, `tsvector`):
/// three multi-row statements. The one place the generator writes organization rows.
pub async fn insert_organizations(
    conn: &mut crate::db::Conn<'_>,
    backend: Backend,
    rows: &[(OrgRow, i64, i64)],
) -> Result<()> {
    let mut orgs = Sql::new(
        "insert into organizations (id, uscc, name, name_key, kind, domain_id, direct_registration, supervisory_unit, legal_representative, contact_person, contact_phone, address, area_id, founded_on, registered_on, registration_authority, registered_capital_fen, members, staff, business_scope, status, grade, grade_expires_on, brand, version, created_at, updated_at) values ",
    );
    let mut search =
        Sql::new("insert into org_search (org_id, name, former, pinyin, initials) values ");
    let mut fts = Sql::new(match backend {
        Backend::Sqlite => "insert into org_search_fts (rowid, tokens) values ",
        Backend::Postgres => "insert into org_search_fts (org_id, tokens) values ",
    });
    for (i, (r, area_id, domain_id)) in rows.iter().enumerate() {
        let sep = if i == 0 { "(" } else { ", (" };
        let at = morning(r.registered_on);
        let values: [Arg; 27] = [
            r.id.into(),
            r.uscc.clone().into(),
            r.name.as_str().into(),
            r.name_key.as_str().into(),
            r.kind.as_str().into(),
            (*domain_id).into(),
            r.direct_registration.into(),
            r.supervisory_unit.clone().into(),
            r.legal_representative.as_str().into(),
            r.contact_person.as_str().into(),
            r.contact_phone.as_str().into(),
            r.address.as_str().into(),
            (*area_id).into(),
            r.founded_on.into(),
            r.registered_on.into(),
            r.uscc.as_ref().map(|u| u[2..8].to_owned()).into(),
            r.registered_capital_fen.into(),
            r.members.into(),
            r.staff.into(),
            r.business_scope.as_str().into(),
            r.status.into(),
            r.grade.into(),
            r.grade_expires_on.into(),
            r.brand.into(),
            1i64.into(),
            at.into(),
            at.into(),
        ];
        orgs.push(sep);
        for (j, v) in values.into_iter().enumerate() {
            if j > 0 {
                orgs.push(", ");
            }
            orgs.push_arg(v);
        }
        orgs.push(")");
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
        match backend {
            Backend::Sqlite => fts.push_arg(tokens).push(")"),
            Backend::Postgres => fts.push_arg(tsvector(&tokens)).push("::tsvector)"),
        };
    }
    for sql in [orgs, search, fts] {
        sql.execute(conn).await?;
    }
    Ok(())
}
