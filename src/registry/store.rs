//! Queries on the registry: organizations (always through the caller's `Scope`), the domain
//! dictionary, and USCC serials. Every write records its field history in the same transaction.

use super::uscc::Uscc;
use super::{
    Grade, OrgDraft, OrgId, OrgKind, OrgStatus, check_direct_registration, name_key, search,
};
use crate::areas::AreaId;
use crate::audit::store::NewEntry;
use crate::audit::{self, Actor, ChangeAction, ChangeEvent};
use crate::auth::Scope;
use crate::db::{Arg, Backend, Conn, Sql, Timestamp, is_unique_violation};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::web::Paging;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// One organization as stored, with its domain and area resolved.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrgRow {
    /// Database id.
    pub id: i64,
    /// 统一社会信用代码.
    pub uscc: Option<String>,
    /// 名称.
    pub name: String,
    /// Kind (machine name).
    pub kind: String,
    /// Domain code.
    pub domain_code: String,
    /// Domain name in Chinese.
    pub domain_name_zh: String,
    /// Domain name in English.
    pub domain_name_en: String,
    /// 直接登记.
    pub direct_registration: bool,
    /// 业务主管单位.
    pub supervisory_unit: Option<String>,
    /// 法定代表人.
    pub legal_representative: Option<String>,
    /// 联系人.
    pub contact_person: Option<String>,
    /// 联系电话.
    pub contact_phone: Option<String>,
    /// 住所.
    pub address: Option<String>,
    /// Area id.
    pub area_id: i64,
    /// Area division code.
    pub area_code: String,
    /// Area name.
    pub area_name: String,
    /// 成立日期.
    pub founded_on: Option<NaiveDate>,
    /// 登记 / 备案日期.
    pub registered_on: Option<NaiveDate>,
    /// Division code of the registering authority (positions 3–8 of the USCC).
    pub registration_authority: Option<String>,
    /// 注册资金, fen.
    pub registered_capital_fen: Option<i64>,
    /// 会员数.
    pub members: Option<i64>,
    /// 从业人员数.
    pub staff: Option<i64>,
    /// 业务范围.
    pub business_scope: Option<String>,
    /// Status (machine name).
    pub status: String,
    /// 评估等级.
    pub grade: Option<String>,
    /// 评估等级有效期至.
    pub grade_expires_on: Option<NaiveDate>,
    /// 品牌社会组织.
    pub brand: bool,
    /// Incremented by every write (optimistic concurrency).
    pub version: i64,
    /// Created at.
    pub created_at: Timestamp,
    /// Last changed at.
    pub updated_at: Timestamp,
}

impl OrgRow {
    /// The typed id.
    pub fn org_id(&self) -> OrgId {
        OrgId(self.id)
    }

    /// The typed kind.
    pub fn kind(&self) -> OrgKind {
        OrgKind::parse(&self.kind).unwrap_or(OrgKind::Community)
    }

    /// The typed status.
    pub fn status(&self) -> OrgStatus {
        OrgStatus::parse(&self.status).unwrap_or(OrgStatus::Active)
    }

    /// The typed grade.
    pub fn grade(&self) -> Option<Grade> {
        self.grade.as_deref().and_then(Grade::parse)
    }

    /// The domain's name in `lang`.
    pub fn domain_name(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.domain_name_zh,
            Lang::En => &self.domain_name_en,
        }
    }

    /// The record as the (field, value) pairs its history is kept in. References are stored by
    /// their codes so that history reads the same after a dictionary is edited.
    pub fn history_fields(&self) -> Vec<(&'static str, Option<String>)> {
        let s = |v: &Option<String>| v.clone();
        let d = |v: &Option<NaiveDate>| v.map(|d| d.to_string());
        let n = |v: &Option<i64>| v.map(|n| n.to_string());
        vec![
            ("name", Some(self.name.clone())),
            ("uscc", s(&self.uscc)),
            ("kind", Some(self.kind.clone())),
            ("domain", Some(self.domain_code.clone())),
            (
                "direct_registration",
                Some(self.direct_registration.to_string()),
            ),
            ("supervisory_unit", s(&self.supervisory_unit)),
            ("legal_representative", s(&self.legal_representative)),
            ("contact_person", s(&self.contact_person)),
            ("contact_phone", s(&self.contact_phone)),
            ("address", s(&self.address)),
            ("area_code", Some(self.area_code.clone())),
            ("founded_on", d(&self.founded_on)),
            ("registered_on", d(&self.registered_on)),
            ("registration_authority", s(&self.registration_authority)),
            ("registered_capital_fen", n(&self.registered_capital_fen)),
            ("members", n(&self.members)),
            ("staff", n(&self.staff)),
            ("business_scope", s(&self.business_scope)),
            ("status", Some(self.status.clone())),
            ("grade", s(&self.grade)),
            ("grade_expires_on", d(&self.grade_expires_on)),
            ("brand", Some(self.brand.to_string())),
        ]
    }
}

/// The columns of an organization row with its domain and area, and the tables they come from.
macro_rules! org_from {
    () => {
        "select o.id, o.uscc, o.name, o.kind, d.code as domain_code, d.name_zh as domain_name_zh, d.name_en as domain_name_en, o.direct_registration, o.supervisory_unit, o.legal_representative, o.contact_person, o.contact_phone, o.address, o.area_id, a.code as area_code, a.name as area_name, o.founded_on, o.registered_on, o.registration_authority, o.registered_capital_fen, o.members, o.staff, o.business_scope, o.status, o.grade, o.grade_expires_on, o.brand, o.version, o.created_at, o.updated_at from organizations o join domains d on d.id = o.domain_id join areas a on a.id = o.area_id"
    };
}

/// One organization row, ready for ` and …` conditions.
const ORG_SELECT: &str = concat!(org_from!(), " where 1 = 1");

/// The same with the search keys joined (`s`), for relevance and pinyin order.
const ORG_SELECT_WITH_KEYS: &str = concat!(
    org_from!(),
    " left join org_search s on s.org_id = o.id where 1 = 1"
);

/// Filters of the organization list (all optional, combined with AND).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrgFilter {
    /// Search text: Chinese substring, pinyin or initials of the name or a former name, or a
    /// credit code or its beginning (see `search`); whitespace-separated terms all apply.
    pub q: Option<String>,
    /// Kind.
    pub kind: Option<OrgKind>,
    /// Domain code.
    pub domain: Option<String>,
    /// This area and everything below it.
    pub area: Option<AreaId>,
    /// Status.
    pub status: Option<OrgStatus>,
    /// Grade.
    pub grade: Option<Grade>,
}

impl OrgFilter {
    /// The folded search terms (empty without a query).
    pub fn terms(&self) -> Vec<String> {
        self.q
            .as_deref()
            .map(search::query_terms)
            .unwrap_or_default()
    }

    fn apply(&self, sql: &mut Sql, backend: Backend) {
        search::push_condition(sql, backend, &self.terms());
        if let Some(kind) = self.kind {
            sql.push(" and o.kind = ").push_arg(kind.as_str());
        }
        if let Some(domain) = &self.domain {
            sql.push(" and o.domain_id = (select id from domains where code = ")
                .push_arg(domain.as_str())
                .push(")");
        }
        if let Some(area) = self.area {
            sql.push(" and ");
            crate::areas::store::subtree_predicate(sql, "o.area_id", &[area]);
        }
        if let Some(status) = self.status {
            sql.push(" and o.status = ").push_arg(status.as_str());
        }
        if let Some(grade) = self.grade {
            sql.push(" and o.grade = ").push_arg(grade.as_str());
        }
    }
}

/// The order of an organization list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrgOrder {
    /// Best matches first when there is a query, otherwise by pinyin of the name.
    #[default]
    Relevance,
    /// By the pinyin of the name (how Chinese readers expect names sorted).
    Name,
    /// Most recently registered first.
    Newest,
    /// Newest record first (the back office's working order).
    LatestRecord,
    /// By id (the API's stable paging).
    Id,
}

impl OrgOrder {
    /// The order named in a query string (`relevance`, `name`, `newest`), if any.
    pub fn parse(s: &str) -> Option<OrgOrder> {
        match s {
            "relevance" => Some(OrgOrder::Relevance),
            "name" => Some(OrgOrder::Name),
            "newest" => Some(OrgOrder::Newest),
            "id" => Some(OrgOrder::Id),
            _ => None,
        }
    }

    /// The name used in query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgOrder::Relevance => "relevance",
            OrgOrder::Name => "name",
            OrgOrder::Newest => "newest",
            OrgOrder::LatestRecord => "latest",
            OrgOrder::Id => "id",
        }
    }
}

/// Organizations in the caller's scope matching `filter`, one page in `order`, with the exact
/// total.
pub async fn list(
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &OrgFilter,
    paging: Paging,
    order: OrgOrder,
) -> Result<(Vec<OrgRow>, i64)> {
    let total = count(conn, scope, filter).await?;
    Ok((list_page(conn, scope, filter, paging, order).await?, total))
}

/// The number of organizations in the caller's scope matching `filter`.
pub async fn count(conn: &mut Conn<'_>, scope: &Scope, filter: &OrgFilter) -> Result<i64> {
    let backend = conn.backend();
    let mut count = Sql::new("select count(*) from organizations o where 1 = 1");
    scope.restrict_orgs(&mut count, "o");
    filter.apply(&mut count, backend);
    Ok(count.fetch_i64(conn).await?)
}

/// The ids of the organizations with this credit code (at most one), whatever the scope:
/// callers use it only to rank rows they already may see.
pub async fn ids_with_uscc(conn: &mut Conn<'_>, code: &str) -> Result<Vec<i64>> {
    let ids: Vec<(i64,)> = Sql::new("select id from organizations where uscc = $1")
        .arg(code)
        .fetch_all(conn)
        .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// One page of the organizations in the caller's scope matching `filter`, in `order`.
pub async fn list_page(
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &OrgFilter,
    paging: Paging,
    order: OrgOrder,
) -> Result<Vec<OrgRow>> {
    let backend = conn.backend();
    let mut sql = Sql::new(ORG_SELECT_WITH_KEYS);
    scope.restrict_orgs(&mut sql, "o");
    filter.apply(&mut sql, backend);
    let terms = filter.terms();
    match (order, terms.first()) {
        (OrgOrder::Relevance, Some(first)) => {
            search::push_relevance_order(&mut sql, first);
        }
        (OrgOrder::Relevance | OrgOrder::Name, _) => {
            sql.push(" order by s.pinyin, o.id");
        }
        (OrgOrder::Newest, _) => {
            // Undated records last on both databases (PostgreSQL puts nulls first in `desc`).
            sql.push(" order by o.registered_on is null, o.registered_on desc, o.id desc");
        }
        (OrgOrder::LatestRecord, _) => {
            sql.push(" order by o.id desc");
        }
        (OrgOrder::Id, _) => {
            sql.push(" order by o.id");
        }
    }
    sql.push(" limit ")
        .push_arg(paging.per_page)
        .push(" offset ")
        .push_arg(paging.offset());
    Ok(sql.fetch_all(conn).await?)
}

/// Up to `limit` organizations in scope matching `filter` with an id above `after`, in id
/// order: the keyset page that exports and dumps walk, so memory stays the same whatever the
/// registry's size and no cursor is held open between pages.
pub async fn list_after(
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &OrgFilter,
    after: i64,
    limit: i64,
) -> Result<Vec<OrgRow>> {
    let mut sql = Sql::new(ORG_SELECT);
    scope.restrict_orgs(&mut sql, "o");
    filter.apply(&mut sql, conn.backend());
    sql.push(" and o.id > ")
        .push_arg(after)
        .push(" order by o.id limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// Organizations in scope with these ids, in id order (ids out of scope are left out).
pub async fn find_many(conn: &mut Conn<'_>, scope: &Scope, ids: &[i64]) -> Result<Vec<OrgRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(ORG_SELECT);
    sql.push(" and o.id in (").push_list(ids).push(")");
    scope.restrict_orgs(&mut sql, "o");
    sql.push(" order by o.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Counts of organizations in scope matching `filter`, grouped by `column` of `organizations`
/// (kind, status, grade…), for facets and statistics.
pub async fn count_by(
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &OrgFilter,
    column: GroupColumn,
) -> Result<Vec<(String, i64)>> {
    let expr = column.expr();
    let mut sql = Sql::new(&format!(
        "select {expr} as k, count(*) as n from organizations o where 1 = 1"
    ));
    scope.restrict_orgs(&mut sql, "o");
    filter.apply(&mut sql, conn.backend());
    sql.push(&format!(
        " and {expr} is not null group by {expr} order by 1"
    ));
    let rows: Vec<(String, i64)> = sql.fetch_all(conn).await?;
    Ok(rows)
}

/// Counts of organizations in scope matching `filter`, per child area of `parent` (the root
/// area when `None`), each child counting everything in its subtree.
pub async fn count_by_child_area(
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &OrgFilter,
    parent: Option<AreaId>,
) -> Result<Vec<(String, i64)>> {
    let mut sql = Sql::new(
        "select a.code as k, count(*) as n from organizations o join area_closure c on c.descendant_id = o.area_id join areas a on a.id = c.ancestor_id where ",
    );
    match parent {
        Some(p) => sql.push("a.parent_id = ").push_arg(p),
        None => sql.push(
            "a.parent_id = (select id from areas where parent_id is null order by id limit 1)",
        ),
    };
    scope.restrict_orgs(&mut sql, "o");
    filter.apply(&mut sql, conn.backend());
    sql.push(" group by a.code order by 1");
    Ok(sql.fetch_all(conn).await?)
}

/// A column organizations can be counted by (a closed list, so no text from outside reaches SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupColumn {
    /// By kind.
    Kind,
    /// By status.
    Status,
    /// By grade.
    Grade,
    /// By domain code.
    Domain,
    /// By year of registration (`YYYY`).
    RegisteredYear,
    /// Registered directly, without a supervisory unit (`true` / `false`).
    DirectRegistration,
}

impl GroupColumn {
    fn expr(self) -> &'static str {
        match self {
            GroupColumn::Kind => "o.kind",
            GroupColumn::Status => "o.status",
            GroupColumn::Grade => "o.grade",
            GroupColumn::Domain => "(select code from domains where id = o.domain_id)",
            // Dates are ISO text on SQLite and `date` on PostgreSQL; both cast to 'YYYY-MM-DD'.
            GroupColumn::RegisteredYear => "substr(cast(o.registered_on as text), 1, 4)",
            GroupColumn::DirectRegistration => {
                "case when o.direct_registration then 'true' else 'false' end"
            }
        }
    }
}

/// One organization by id, if it exists and is in scope.
pub async fn find(conn: &mut Conn<'_>, scope: &Scope, id: OrgId) -> Result<Option<OrgRow>> {
    let mut sql = Sql::new(ORG_SELECT);
    sql.push(" and o.id = ").push_arg(id);
    scope.restrict_orgs(&mut sql, "o");
    Ok(sql.fetch_optional(conn).await?)
}

/// The live organization with this name (after width and space folding), if in scope.
pub async fn find_by_name(
    conn: &mut Conn<'_>,
    scope: &Scope,
    name: &str,
) -> Result<Option<OrgRow>> {
    let mut sql = Sql::new(ORG_SELECT);
    sql.push(" and o.name_key = ")
        .push_arg(name_key(name))
        .push(" and o.status in ('preparing', 'active', 'abnormal')");
    scope.restrict_orgs(&mut sql, "o");
    Ok(sql.fetch_optional(conn).await?)
}

/// One organization by USCC, if it exists and is in scope.
pub async fn find_by_uscc(
    conn: &mut Conn<'_>,
    scope: &Scope,
    uscc: &Uscc,
) -> Result<Option<OrgRow>> {
    let mut sql = Sql::new(ORG_SELECT);
    sql.push(" and o.uscc = ").push_arg(uscc.as_str());
    scope.restrict_orgs(&mut sql, "o");
    Ok(sql.fetch_optional(conn).await?)
}

/// Number of organizations in the database, whatever the scope (the demo loader refuses a
/// non-empty database; never reachable from a handler).
pub async fn count_all_unscoped(conn: &mut Conn<'_>) -> Result<i64> {
    Ok(Sql::new("select count(*) from organizations")
        .fetch_i64(conn)
        .await?)
}

/// An entry of the domain dictionary (业务领域).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DomainRow {
    /// Database id.
    pub id: i64,
    /// Machine code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// May register directly, without a supervisory unit.
    pub direct_registration_eligible: bool,
    /// Display order.
    pub sort_order: i64,
    /// Offered on forms.
    pub active: bool,
}

impl DomainRow {
    /// The name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.name_zh,
            Lang::En => &self.name_en,
        }
    }
}

const DOMAIN_SELECT: &str = "select id, code, name_zh, name_en, direct_registration_eligible, sort_order, active from domains";

/// The whole domain dictionary in display order.
pub async fn list_domains(conn: &mut Conn<'_>) -> Result<Vec<DomainRow>> {
    Ok(
        Sql::new(&format!("{DOMAIN_SELECT} order by sort_order, id"))
            .fetch_all(conn)
            .await?,
    )
}

/// One domain by code.
pub async fn find_domain(conn: &mut Conn<'_>, code: &str) -> Result<Option<DomainRow>> {
    Ok(Sql::new(&format!("{DOMAIN_SELECT} where code = $1"))
        .arg(code)
        .fetch_optional(conn)
        .await?)
}

/// A validated dictionary entry to add or change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainDraft {
    /// Machine code: lower-case ASCII letters, digits and `_`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// May register directly.
    pub direct_registration_eligible: bool,
    /// Display order.
    pub sort_order: i64,
    /// Offered on forms.
    pub active: bool,
}

/// Adds a domain (`id` None) or changes one; a duplicate code is a field error.
pub async fn save_domain(
    conn: &mut Conn<'_>,
    scope: &Scope,
    actor: &Actor,
    at: Timestamp,
    id: Option<i64>,
    d: &DomainDraft,
) -> Result<i64> {
    if !matches!(scope, Scope::All) {
        return Err(Error::Forbidden);
    }
    let result = match id {
        None => {
            Sql::new("insert into domains (code, name_zh, name_en, direct_registration_eligible, sort_order, active) values ($1, $2, $3, $4, $5, $6) returning id")
                .arg(d.code.as_str()).arg(d.name_zh.as_str()).arg(d.name_en.as_str())
                .arg(d.direct_registration_eligible).arg(d.sort_order).arg(d.active)
                .fetch_i64(conn).await
        }
        Some(id) => {
            Sql::new("update domains set code = $1, name_zh = $2, name_en = $3, direct_registration_eligible = $4, sort_order = $5, active = $6 where id = $7 returning id")
                .arg(d.code.as_str()).arg(d.name_zh.as_str()).arg(d.name_en.as_str())
                .arg(d.direct_registration_eligible).arg(d.sort_order).arg(d.active).arg(id)
                .fetch_optional::<(i64,)>(conn).await.map(|r| r.map_or(0, |(id,)| id))
        }
    };
    let saved = match result {
        Ok(0) => return Err(Error::NotFound),
        Ok(saved) => saved,
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::field("code", Msg::new("error.field.duplicate")));
        }
        Err(e) => return Err(e.into()),
    };
    let entry = NewEntry::of(
        if id.is_some() { "update" } else { "create" },
        "domain",
        Some(saved),
        &d.code,
    );
    audit::store::append(conn, at, actor, entry).await?;
    Ok(saved)
}

/// Allocates the next unused organization-code serial for a registering authority and returns
/// the new USCC. The counter row is updated inside the caller's transaction, so two concurrent
/// registrations cannot receive the same code.
pub async fn allocate_uscc(conn: &mut Conn<'_>, kind: OrgKind, division: &str) -> Result<Uscc> {
    loop {
        let serial = Sql::new(
            "insert into uscc_serials (division, next_serial) values ($1, 2) on conflict (division) do update set next_serial = uscc_serials.next_serial + 1 returning next_serial - 1",
        )
        .arg(division)
        .fetch_i64(conn)
        .await?;
        let serial = u32::try_from(serial)
            .ok()
            .filter(|s| *s < 1_000_000)
            .ok_or_else(|| Error::Other(format!("USCC serials exhausted for {division}")))?;
        let code = Uscc::generate(kind.uscc_category(), division, serial);
        // Codes entered by hand (or imported) may already use this serial: skip it.
        let taken = Sql::new("select count(*) from organizations where uscc = $1")
            .arg(code.as_str())
            .fetch_i64(conn)
            .await?;
        if taken == 0 {
            return Ok(code);
        }
    }
}

/// Sets where an authority's serials start (used by the demo so generated codes do not begin
/// at 000001).
pub async fn set_next_serial(conn: &mut Conn<'_>, division: &str, next: i64) -> Result<()> {
    Sql::new(
        "insert into uscc_serials (division, next_serial) values ($1, $2) on conflict (division) do update set next_serial = $2",
    )
    .arg(division)
    .arg(next)
    .execute(conn)
    .await?;
    Ok(())
}

/// References of a draft resolved against the database, or every field error found.
pub(super) struct Resolved {
    /// The domain named by its code.
    pub(super) domain: DomainRow,
    /// The area named by its division code.
    pub(super) area: AreaId,
}

/// `existing` is the record being edited (id and current area code): its own name and code are
/// not duplicates, and keeping its area needs no right to place records there.
async fn resolve(
    conn: &mut Conn<'_>,
    scope: &Scope,
    draft: &OrgDraft,
    existing: Option<(OrgId, &str)>,
) -> Result<Resolved> {
    let unchanged_area = existing.is_some_and(|(_, area)| area == draft.area_code);
    let existing = existing.map(|(id, _)| id);
    let mut errors = FieldErrors::new();
    let domain = find_domain(conn, &draft.domain).await?;
    match &domain {
        None => errors.add("domain", Msg::new("error.field.choice")),
        Some(d) => {
            if let Some(msg) = check_direct_registration(draft, d.direct_registration_eligible) {
                errors.add("direct_registration", msg);
            }
        }
    }
    let area = crate::areas::store::find_by_code(conn, &draft.area_code).await?;
    match &area {
        None => errors.add("area_code", Msg::new("registry.error.unknown_area")),
        Some(a) if !unchanged_area && !area_in_scope(conn, scope, a.area_id()).await? => {
            errors.add("area_code", Msg::new("registry.error.area_out_of_scope"));
        }
        Some(_) => {}
    }
    let live = matches!(
        draft.status,
        OrgStatus::Preparing | OrgStatus::Active | OrgStatus::Abnormal
    );
    if live && let Some(msg) = duplicate_name(conn, &draft.name, existing).await? {
        errors.add("name", msg);
    }
    if let Some(code) = &draft.uscc
        && let Some(msg) = duplicate_uscc(conn, code, existing).await?
    {
        errors.add("uscc", msg);
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(Resolved {
        domain: domain.ok_or(Error::NotFound)?,
        area: area.ok_or(Error::NotFound)?.area_id(),
    })
}

/// The error for a live organization other than `existing` that already has this name (after
/// folding), naming it.
pub(super) async fn duplicate_name(
    conn: &mut Conn<'_>,
    name: &str,
    existing: Option<OrgId>,
) -> Result<Option<Msg>> {
    let mut sql = Sql::new(
        "select name from organizations where name_key = $1 and status in ('preparing', 'active', 'abnormal')",
    )
    .arg(name_key(name));
    if let Some(id) = existing {
        sql.push(" and id <> ").push_arg(id);
    }
    Ok(sql
        .fetch_optional::<(String,)>(conn)
        .await?
        .map(|(other,)| Msg::new("registry.error.duplicate_name").with("name", other)))
}

/// The error for an organization other than `existing` that already has this credit code.
pub(super) async fn duplicate_uscc(
    conn: &mut Conn<'_>,
    code: &Uscc,
    existing: Option<OrgId>,
) -> Result<Option<Msg>> {
    let mut sql = Sql::new("select name from organizations where uscc = $1").arg(code.as_str());
    if let Some(id) = existing {
        sql.push(" and id <> ").push_arg(id);
    }
    Ok(sql
        .fetch_optional::<(String,)>(conn)
        .await?
        .map(|(other,)| Msg::new("registry.error.duplicate_uscc").with("name", other)))
}

/// True when `area` lies inside what `scope` may write.
async fn area_in_scope(conn: &mut Conn<'_>, scope: &Scope, area: AreaId) -> Result<bool> {
    match scope {
        Scope::All => Ok(true),
        Scope::Public => Ok(false),
        // Organizations granted one by one give no right to place records in an area.
        Scope::Limited { areas: roots, .. } => {
            let mut sql = Sql::new("select count(*) from areas o where o.id = ");
            sql.push_arg(area).push(" and ");
            crate::areas::store::subtree_predicate(&mut sql, "o.id", roots);
            Ok(sql.fetch_i64(conn).await? > 0)
        }
    }
}

/// The values of columns `uscc` … `brand`, in the order both the insert and the update
/// statement list them ($1–$23).
pub(super) fn draft_values(
    draft: &OrgDraft,
    resolved: &Resolved,
    uscc: Option<&Uscc>,
    registration_authority: Option<String>,
) -> Vec<Arg> {
    vec![
        uscc.map(|u| u.as_str().to_owned()).into(),
        draft.name.as_str().into(),
        name_key(&draft.name).into(),
        draft.kind.as_str().into(),
        resolved.domain.id.into(),
        draft.direct_registration.into(),
        draft.supervisory_unit.clone().into(),
        draft.legal_representative.clone().into(),
        draft.contact_person.clone().into(),
        draft.contact_phone.clone().into(),
        draft.address.clone().into(),
        resolved.area.into(),
        draft.founded_on.into(),
        draft.registered_on.into(),
        registration_authority.into(),
        draft.registered_capital_fen.into(),
        draft.members.into(),
        draft.staff.into(),
        draft.business_scope.clone().into(),
        draft.status.as_str().into(),
        draft.grade.map(|g| g.as_str()).into(),
        draft.grade_expires_on.into(),
        draft.brand.into(),
    ]
}

/// Maps a unique violation that slipped past the checks (two writers at once) to a conflict.
fn unique_to_conflict(e: sqlx::Error) -> Error {
    if is_unique_violation(&e) {
        Error::Conflict(Msg::new("registry.error.concurrent_duplicate"))
    } else {
        e.into()
    }
}

/// Creates an organization in the caller's transaction: checks references, duplicate names and
/// codes, generates a USCC for a registered kind that has none, and records the creation in the
/// history and the audit log. `division` is the registering authority used for a new code.
pub async fn create(
    conn: &mut Conn<'_>,
    scope: &Scope,
    actor: &Actor,
    at: Timestamp,
    draft: &OrgDraft,
    division: &str,
) -> Result<OrgRow> {
    if matches!(scope, Scope::Public) || scope.is_empty() {
        return Err(Error::Forbidden);
    }
    let resolved = resolve(conn, scope, draft, None).await?;
    let uscc = match (&draft.uscc, draft.kind.is_registered()) {
        (Some(code), _) => Some(code.clone()),
        // A social group in preparation receives its code at establishment, not before.
        (None, true) if draft.status != OrgStatus::Preparing => {
            Some(allocate_uscc(conn, draft.kind, division).await?)
        }
        (None, true) => None,
        (None, false) => None,
    };
    let id = Sql::new(
        "insert into organizations (uscc, name, name_key, kind, domain_id, direct_registration, supervisory_unit, legal_representative, contact_person, contact_phone, address, area_id, founded_on, registered_on, registration_authority, registered_capital_fen, members, staff, business_scope, status, grade, grade_expires_on, brand, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, 1, $24, $24) returning id",
    )
    .args(draft_values(
        draft,
        &resolved,
        uscc.as_ref(),
        uscc.as_ref().map(|u| u.division().to_owned()),
    ))
    .arg(at)
    .fetch_i64(conn)
    .await
    .map_err(unique_to_conflict)?;
    let id = OrgId(id);
    let row = find(conn, &Scope::All, id).await?.ok_or(Error::NotFound)?;
    let fields = audit::diff(&[], &row.history_fields());
    audit::store::record_org_change(
        conn,
        id,
        at,
        &actor.name,
        ChangeAction::Create,
        None,
        &fields,
    )
    .await?;
    search::index_org(conn, id, &row.name).await?;
    let entry = NewEntry::of("create", "organization", Some(id.0), &row.name);
    audit::store::append(conn, at, actor, entry).await?;
    Ok(row)
}

/// The result of an edit.
#[derive(Debug, Clone, PartialEq)]
pub enum Updated {
    /// Fields changed; the new record.
    Changed(Box<OrgRow>),
    /// The form said what the record already said; nothing was written.
    Unchanged,
}

/// Edits an organization in the caller's transaction, if `version` is still current (someone
/// else's edit in between is a conflict, not a silent overwrite), recording each changed field.
#[expect(
    clippy::too_many_arguments,
    reason = "one write, every input it needs; no hidden state"
)]
pub async fn update(
    conn: &mut Conn<'_>,
    scope: &Scope,
    actor: &Actor,
    at: Timestamp,
    id: OrgId,
    version: i64,
    draft: &OrgDraft,
    reason: Option<&str>,
) -> Result<Updated> {
    if matches!(scope, Scope::Public) || scope.is_empty() {
        return Err(Error::Forbidden);
    }
    let before = find(conn, scope, id).await?.ok_or(Error::NotFound)?;
    if before.version != version {
        return Err(Error::Conflict(Msg::new("registry.error.stale")));
    }
    if draft.kind.is_registered() && draft.status != OrgStatus::Preparing && draft.uscc.is_none() {
        return Err(Error::field("uscc", Msg::new("error.field.required")));
    }
    let resolved = resolve(conn, scope, draft, Some((id, &before.area_code))).await?;
    let changed = Sql::new(
        "update organizations set uscc = $1, name = $2, name_key = $3, kind = $4, domain_id = $5, direct_registration = $6, supervisory_unit = $7, legal_representative = $8, contact_person = $9, contact_phone = $10, address = $11, area_id = $12, founded_on = $13, registered_on = $14, registration_authority = $15, registered_capital_fen = $16, members = $17, staff = $18, business_scope = $19, status = $20, grade = $21, grade_expires_on = $22, brand = $23, version = version + 1, updated_at = $24 where id = $25 and version = $26",
    )
    .args(draft_values(
        draft,
        &resolved,
        draft.uscc.as_ref(),
        draft
            .uscc
            .as_ref()
            .map(|u| u.division().to_owned())
            .or(before.registration_authority.clone()),
    ))
    .arg(at)
    .arg(id)
    .arg(version)
    .execute(conn)
    .await
    .map_err(unique_to_conflict)?;
    if changed == 0 {
        return Err(Error::Conflict(Msg::new("registry.error.stale")));
    }
    let after = find(conn, &Scope::All, id).await?.ok_or(Error::NotFound)?;
    let fields = audit::diff(&before.history_fields(), &after.history_fields());
    if fields.is_empty() {
        // The form repeated what the record said: put version and time back, record nothing.
        Sql::new("update organizations set version = $1, updated_at = $2 where id = $3")
            .arg(before.version)
            .arg(before.updated_at)
            .arg(id)
            .execute(conn)
            .await?;
        return Ok(Updated::Unchanged);
    }
    audit::store::record_org_change(
        conn,
        id,
        at,
        &actor.name,
        ChangeAction::Update,
        reason,
        &fields,
    )
    .await?;
    if before.name != after.name {
        search::index_org(conn, id, &after.name).await?;
    }
    let entry = NewEntry {
        action: "update",
        entity: "organization",
        entity_id: Some(id.0),
        summary: &after.name,
        changes: Some(&fields),
    };
    audit::store::append(conn, at, actor, entry).await?;
    Ok(Updated::Changed(Box::new(after)))
}

/// The history of an organization in scope, oldest first.
pub async fn history(conn: &mut Conn<'_>, scope: &Scope, id: OrgId) -> Result<Vec<ChangeEvent>> {
    find(conn, scope, id).await?.ok_or(Error::NotFound)?;
    audit::store::org_history(conn, id, None).await
}

/// What the record said at the end of `date` (China Standard Time), field by field; `None` if
/// the organization was not yet on record then.
pub async fn as_of(
    conn: &mut Conn<'_>,
    scope: &Scope,
    id: OrgId,
    date: NaiveDate,
) -> Result<Option<BTreeMap<String, Option<String>>>> {
    find(conn, scope, id).await?.ok_or(Error::NotFound)?;
    let events = audit::store::org_history(conn, id, Some(end_of_day_china(date))).await?;
    Ok((!events.is_empty()).then(|| audit::replay(&events)))
}

/// The last instant of `date` in China Standard Time (UTC+8, no daylight saving).
pub fn end_of_day_china(date: NaiveDate) -> Timestamp {
    let next = date.succ_opt().unwrap_or(date);
    let midnight_utc = next.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    midnight_utc - chrono::Duration::hours(8) - chrono::Duration::microseconds(1)
}

/// Fixtures for unit tests elsewhere in the crate.
#[cfg(test)]
pub mod tests_support {
    use super::*;
    use chrono::Utc;

    /// A minimal organization row.
    pub fn sample_row() -> OrgRow {
        OrgRow {
            id: 1,
            uscc: None,
            name: "甲".into(),
            kind: "community".into(),
            domain_code: "culture".into(),
            domain_name_zh: String::new(),
            domain_name_en: String::new(),
            direct_registration: false,
            supervisory_unit: None,
            legal_representative: None,
            contact_person: None,
            contact_phone: None,
            address: None,
            area_id: 1,
            area_code: "120116".into(),
            area_name: String::new(),
            founded_on: None,
            registered_on: None,
            registration_authority: None,
            registered_capital_fen: None,
            members: None,
            staff: None,
            business_scope: None,
            status: "active".into(),
            grade: None,
            grade_expires_on: None,
            brand: false,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_day_is_in_china_time() {
        let d = NaiveDate::from_ymd_opt(2014, 12, 31).unwrap();
        assert_eq!(
            end_of_day_china(d).to_rfc3339(),
            "2014-12-31T15:59:59.999999+00:00"
        );
    }

    #[test]
    fn history_fields_follow_the_declared_order() {
        let row = tests_support::sample_row();
        let names: Vec<&str> = row.history_fields().into_iter().map(|(f, _)| f).collect();
        assert_eq!(names, super::super::HISTORY_FIELDS);
    }
}
