//! The bulk writing pass of the organization import (批量写入): inside the import's one
//! transaction, the registry's keys are loaded once (credit code, name and area of filed
//! organizations, live name counts), every row is checked against them in memory, and new
//! organizations are written with multi-row INSERTs — the same rows `store::create` writes
//! (the record, its creation event and fields, its search keys and tokens, one audit entry with
//! a valid hash chain), so history, search, the facet index (which follows the audit log) and
//! `shezu audit verify` see exactly what the row-by-row path would have written. Rows that
//! change an existing organization are rare and go through `store::update` one by one.
//!
//! Memory: the keys are 128-bit hashes (about 40 bytes an organization), never whole rows;
//! pending new organizations are written every `FLUSH_ROWS` rows.

use super::search::{SearchKeys, tsvector};
use super::store::{self, DomainRow, OrgRow, Resolved};
use super::uscc::Uscc;
use super::{OrgDraft, OrgId, OrgStatus, check_direct_registration, name_key};
use crate::areas::AreaId;
use crate::audit::store::NewEntry;
use crate::audit::{self, Actor, AuditEntry, ChangeAction, FieldChange};
use crate::db::{Arg, Backend, Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use chrono::SubsecRound;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// New organizations kept before they are written.
const FLUSH_ROWS: usize = 500;

/// A key folded to 128 bits (two SipHashes with different seeds): a collision among millions of
/// keys is about 1 in 10^25, and a hit is confirmed against the database before it is reported.
type KeyHash = u128;

pub(crate) fn key_hash(parts: &[&str]) -> KeyHash {
    let one = |seed: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        for p in parts {
            p.hash(&mut h);
        }
        h.finish()
    };
    (u128::from(one(1)) << 64) | u128::from(one(2))
}

/// True for the statuses whose names must be unique (筹备, 正常, 活动异常).
fn is_live(status: &str) -> bool {
    matches!(status, "preparing" | "active" | "abnormal")
}

/// The registry's keys, loaded once per import and kept current as rows are written.
#[derive(Default)]
struct Keys {
    /// Credit code → organization.
    uscc: HashMap<KeyHash, i64>,
    /// Name key and area code of an organization without a code → the lowest such id.
    filed: HashMap<KeyHash, i64>,
    /// Name key → how many live organizations carry it.
    live_names: HashMap<KeyHash, u32>,
}

impl Keys {
    fn add(&mut self, id: i64, uscc: Option<&str>, name_key: &str, status: &str, area: &str) {
        match uscc {
            Some(code) => {
                self.uscc.insert(key_hash(&[code]), id);
            }
            None => {
                let e = self.filed.entry(key_hash(&[name_key, area])).or_insert(id);
                *e = (*e).min(id);
            }
        }
        if is_live(status) {
            *self.live_names.entry(key_hash(&[name_key])).or_default() += 1;
        }
    }

    fn remove(&mut self, id: i64, uscc: Option<&str>, name_key: &str, status: &str, area: &str) {
        match uscc {
            Some(code) => {
                let h = key_hash(&[code]);
                if self.uscc.get(&h) == Some(&id) {
                    self.uscc.remove(&h);
                }
            }
            None => {
                // Another organization may share the key; its id is unknown here, so the entry
                // is re-read from the database by `refresh_filed`.
                self.filed.remove(&key_hash(&[name_key, area]));
            }
        }
        if is_live(status)
            && let Some(n) = self.live_names.get_mut(&key_hash(&[name_key]))
        {
            *n = n.saturating_sub(1);
        }
    }
}

/// One organization waiting to be written.
struct NewOrg {
    id: i64,
    change_id: i64,
    /// Columns `uscc` … `brand` as `store::create` binds them.
    values: Vec<Arg>,
    name: String,
    fields: Vec<FieldChange>,
}

/// What the bulk pass did with one row.
pub(super) enum Outcome {
    /// An existing one changed.
    Updated,
    /// An existing one already said this.
    Unchanged,
}

/// The writer of one import, bound to its transaction.
pub(super) struct BulkWriter {
    backend: Backend,
    at: Timestamp,
    actor: Actor,
    keys: Keys,
    domains: HashMap<String, DomainRow>,
    /// Division code → (id, name).
    areas: HashMap<String, (i64, String)>,
    /// Area id → division code.
    area_codes: HashMap<i64, String>,
    pending: Vec<NewOrg>,
    /// Ids handed out next (SQLite: max + 1, as the database itself would; PostgreSQL: values
    /// drawn from the sequences in blocks).
    org_ids: IdSource,
    change_ids: IdSource,
}

/// Where new ids come from.
struct IdSource {
    table: &'static str,
    next: i64,
    /// PostgreSQL: ids drawn from the sequence and not yet used.
    reserved: std::collections::VecDeque<i64>,
}

impl IdSource {
    fn new(table: &'static str) -> IdSource {
        IdSource {
            table,
            next: 0,
            reserved: Default::default(),
        }
    }

    /// On SQLite, continue after the highest id in the table (after any write through the
    /// store, which takes ids of its own).
    async fn sync(&mut self, conn: &mut Conn<'_>) -> Result<()> {
        if conn.backend() == Backend::Sqlite {
            self.next = Sql::new(&format!(
                "select coalesce(max(id), 0) + 1 from {}",
                self.table
            ))
            .fetch_i64(conn)
            .await?;
        }
        Ok(())
    }

    async fn take(&mut self, conn: &mut Conn<'_>, wanted: usize) -> Result<i64> {
        if conn.backend() == Backend::Sqlite {
            self.next += 1;
            return Ok(self.next - 1);
        }
        if self.reserved.is_empty() {
            let ids: Vec<(i64,)> = Sql::new(&format!(
                "select nextval(pg_get_serial_sequence('{}', 'id')) from generate_series(1, $1)",
                self.table
            ))
            .arg(wanted.clamp(1, FLUSH_ROWS) as i64)
            .fetch_all(conn)
            .await?;
            let mut ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
            ids.sort_unstable();
            self.reserved.extend(ids);
        }
        self.reserved
            .pop_front()
            .ok_or_else(|| Error::Other("no id drawn".into()))
    }
}

impl BulkWriter {
    /// Loads the dictionaries and every organization's keys (in pages of 20,000, so the rows
    /// themselves are never all in memory).
    pub(super) async fn load(conn: &mut Conn<'_>, actor: &Actor, at: Timestamp) -> Result<Self> {
        let domains = store::list_domains(conn)
            .await?
            .into_iter()
            .map(|d| (d.code.clone(), d))
            .collect();
        let mut areas = HashMap::new();
        let mut area_codes = HashMap::new();
        for a in crate::areas::store::list_all(conn).await? {
            area_codes.insert(a.id, a.code.clone());
            areas.insert(a.code, (a.id, a.name));
        }
        let mut keys = Keys::default();
        let mut after = 0_i64;
        loop {
            let page: Vec<(i64, Option<String>, String, String, i64)> = Sql::new(
                "select id, uscc, name_key, status, area_id from organizations where id > $1 order by id limit 20000",
            )
            .arg(after)
            .fetch_all(conn)
            .await?;
            let Some(last) = page.last() else { break };
            after = last.0;
            for (id, uscc, key, status, area) in &page {
                let area = area_codes.get(area).map(String::as_str).unwrap_or("");
                keys.add(*id, uscc.as_deref(), key, status, area);
            }
        }
        let mut writer = BulkWriter {
            backend: conn.backend(),
            at,
            actor: actor.clone(),
            keys,
            domains,
            areas,
            area_codes,
            pending: Vec::new(),
            org_ids: IdSource::new("organizations"),
            change_ids: IdSource::new("org_changes"),
        };
        writer.sync_ids(conn).await?;
        Ok(writer)
    }

    async fn sync_ids(&mut self, conn: &mut Conn<'_>) -> Result<()> {
        self.org_ids.sync(conn).await?;
        self.change_ids.sync(conn).await
    }

    /// The organization a row names: by credit code, or (without one) the lowest id without a
    /// code that has this name in this area — what `import::find_existing` asks the database.
    pub(super) fn existing(&self, uscc: &str, name: &str, area_code: &str) -> Option<OrgId> {
        match uscc.trim() {
            "" => self
                .keys
                .filed
                .get(&key_hash(&[&name_key(name), area_code]))
                .map(|id| OrgId(*id)),
            code => {
                let u = Uscc::parse(code).ok()?;
                self.keys
                    .uscc
                    .get(&key_hash(&[u.as_str()]))
                    .map(|id| OrgId(*id))
            }
        }
    }

    /// The checks `store::resolve` makes, against the keys in memory; a hit is confirmed (and
    /// the other organization named) by the same query the store runs, after writing what is
    /// pending.
    async fn check(
        &mut self,
        conn: &mut Conn<'_>,
        draft: &OrgDraft,
        existing: Option<&OrgRow>,
    ) -> Result<(DomainRow, (i64, String))> {
        let mut errors = FieldErrors::new();
        let domain = self.domains.get(&draft.domain).cloned();
        match &domain {
            None => errors.add("domain", Msg::new("error.field.choice")),
            Some(d) => {
                if let Some(msg) = check_direct_registration(draft, d.direct_registration_eligible)
                {
                    errors.add("direct_registration", msg);
                }
            }
        }
        let area = self.areas.get(&draft.area_code).cloned();
        if area.is_none() {
            errors.add("area_code", Msg::new("registry.error.unknown_area"));
        }
        let key = name_key(&draft.name);
        if is_live(draft.status.as_str()) {
            let others = self
                .keys
                .live_names
                .get(&key_hash(&[&key]))
                .copied()
                .unwrap_or(0)
                .saturating_sub(u32::from(
                    existing.is_some_and(|r| is_live(&r.status) && name_key(&r.name) == key),
                ));
            if others > 0 {
                self.flush(conn).await?;
                if let Some(msg) =
                    store::duplicate_name(conn, &draft.name, existing.map(OrgRow::org_id)).await?
                {
                    errors.add("name", msg);
                }
            }
        }
        if let Some(code) = &draft.uscc {
            let holder = self.keys.uscc.get(&key_hash(&[code.as_str()])).copied();
            if holder.is_some_and(|id| Some(id) != existing.map(|r| r.id)) {
                self.flush(conn).await?;
                if let Some(msg) =
                    store::duplicate_uscc(conn, code, existing.map(OrgRow::org_id)).await?
                {
                    errors.add("uscc", msg);
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        Ok((domain.ok_or(Error::NotFound)?, area.ok_or(Error::NotFound)?))
    }

    /// Creates an organization as `store::create` would; it is written with the next flush.
    /// `rows_left` (this row included) bounds how many ids PostgreSQL is asked for at once, so
    /// an import draws no more than it can use.
    pub(super) async fn create(
        &mut self,
        conn: &mut Conn<'_>,
        draft: &OrgDraft,
        division: &str,
        rows_left: u64,
    ) -> Result<()> {
        if draft.uscc.is_none()
            && draft.kind.is_registered()
            && draft.status != OrgStatus::Preparing
        {
            // A code must be allocated: the store does that (rare; the import asks for codes).
            self.flush(conn).await?;
            let row = store::create(
                conn,
                &crate::auth::Scope::All,
                &self.actor,
                self.at,
                draft,
                division,
            )
            .await?;
            self.sync_ids(conn).await?;
            self.keys.add(
                row.id,
                row.uscc.as_deref(),
                &name_key(&row.name),
                &row.status,
                &row.area_code,
            );
            return Ok(());
        }
        let (domain, (area_id, area_name)) = self.check(conn, draft, None).await?;
        let wanted = usize::try_from(rows_left).unwrap_or(FLUSH_ROWS);
        let id = self.org_ids.take(conn, wanted).await?;
        let change_id = self.change_ids.take(conn, wanted).await?;
        let uscc = draft.uscc.as_ref();
        let authority = uscc.map(|u| u.division().to_owned());
        let row = projected(
            draft,
            &domain,
            area_id,
            &area_name,
            authority.clone(),
            None,
            self.at,
            id,
        );
        let values = store::draft_values(
            draft,
            &Resolved {
                domain,
                area: AreaId(area_id),
            },
            uscc,
            authority,
        );
        self.keys.add(
            id,
            uscc.map(Uscc::as_str),
            &name_key(&draft.name),
            draft.status.as_str(),
            &draft.area_code,
        );
        self.pending.push(NewOrg {
            id,
            change_id,
            values,
            name: row.name.clone(),
            fields: audit::diff(&[], &row.history_fields()),
        });
        if self.pending.len() >= FLUSH_ROWS {
            self.flush(conn).await?;
        }
        Ok(())
    }

    /// Applies a row to an existing organization: nothing is written when it repeats the
    /// record (after the same checks the store makes); a change goes through `store::update`.
    pub(super) async fn update(
        &mut self,
        conn: &mut Conn<'_>,
        before: &OrgRow,
        draft: &OrgDraft,
        reason: &str,
    ) -> Result<Outcome> {
        if draft.kind.is_registered()
            && draft.status != OrgStatus::Preparing
            && draft.uscc.is_none()
        {
            return Err(Error::field("uscc", Msg::new("error.field.required")));
        }
        let (domain, (area_id, area_name)) = self.check(conn, draft, Some(before)).await?;
        let authority = draft
            .uscc
            .as_ref()
            .map(|u| u.division().to_owned())
            .or(before.registration_authority.clone());
        let after = projected(
            draft,
            &domain,
            area_id,
            &area_name,
            authority,
            Some(before),
            self.at,
            before.id,
        );
        if audit::diff(&before.history_fields(), &after.history_fields()).is_empty() {
            return Ok(Outcome::Unchanged);
        }
        self.flush(conn).await?;
        let updated = store::update(
            conn,
            &crate::auth::Scope::All,
            &self.actor,
            self.at,
            before.org_id(),
            before.version,
            draft,
            Some(reason),
        )
        .await?;
        self.sync_ids(conn).await?;
        match updated {
            store::Updated::Unchanged => Ok(Outcome::Unchanged),
            store::Updated::Changed(after) => {
                let area =
                    |r: &OrgRow| self.area_codes.get(&r.area_id).cloned().unwrap_or_default();
                let (old_area, new_area) = (area(before), area(&after));
                self.keys.remove(
                    before.id,
                    before.uscc.as_deref(),
                    &name_key(&before.name),
                    &before.status,
                    &old_area,
                );
                self.refresh_filed(conn, &name_key(&before.name), &old_area)
                    .await?;
                self.keys.add(
                    after.id,
                    after.uscc.as_deref(),
                    &name_key(&after.name),
                    &after.status,
                    &new_area,
                );
                Ok(Outcome::Updated)
            }
        }
    }

    /// Re-reads which organization without a code holds a name in an area, after one left it.
    async fn refresh_filed(&mut self, conn: &mut Conn<'_>, key: &str, area: &str) -> Result<()> {
        let found = Sql::new(
            "select o.id from organizations o join areas a on a.id = o.area_id where o.uscc is null and o.name_key = $1 and a.code = $2 order by o.id",
        )
        .arg(key)
        .arg(area)
        .fetch_optional::<(i64,)>(conn)
        .await?;
        if let Some((id,)) = found {
            self.keys.filed.insert(key_hash(&[key, area]), id);
        }
        Ok(())
    }

    /// Writes the pending organizations: the records, their creation events and fields, their
    /// search rows and their audit entries, chained on from the audit head.
    pub(super) async fn flush(&mut self, conn: &mut Conn<'_>) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let pg = self.backend == Backend::Postgres;
        // Rows per statement: about 4,000 values each. (SQLite binds them as anonymous `?`,
        // see `Sql::text_for`; as `$n` its cost grew with the square of the values, and 700
        // values was its best size: 100,000 new organizations now write about 11 % faster.)
        let per = |width: usize| (4000 / width).max(1);

        let mut orgs = Vec::with_capacity(pending.len());
        let mut changes = Vec::with_capacity(pending.len());
        let mut fields = Vec::with_capacity(pending.len() * 16);
        let mut search = Vec::with_capacity(pending.len());
        let mut fts = Vec::with_capacity(pending.len());
        for o in &pending {
            let mut row = Vec::with_capacity(27);
            row.push(Arg::Int(o.id));
            row.extend(o.values.iter().cloned());
            row.push(Arg::Int(1));
            row.push(Arg::Timestamp(self.at));
            row.push(Arg::Timestamp(self.at));
            orgs.push(row);
            changes.push(vec![
                Arg::Int(o.change_id),
                Arg::Int(o.id),
                Arg::Timestamp(self.at),
                self.actor.name.as_str().into(),
                ChangeAction::Create.as_str().into(),
                Arg::OptText(None),
            ]);
            for f in &o.fields {
                fields.push(vec![
                    Arg::Int(o.change_id),
                    f.field.as_str().into(),
                    f.before_value.clone().into(),
                    f.after_value.clone().into(),
                ]);
            }
            let keys = SearchKeys::of(&o.name, &[]);
            let tokens = keys.tokens();
            search.push(vec![
                Arg::Int(o.id),
                keys.name.into(),
                keys.former.into(),
                keys.pinyin.into(),
                keys.initials.into(),
            ]);
            fts.push(vec![
                Arg::Int(o.id),
                if pg { tsvector(&tokens) } else { tokens }.into(),
            ]);
        }
        insert_rows(
            conn,
            "insert into organizations (id, uscc, name, name_key, kind, domain_id, direct_registration, supervisory_unit, legal_representative, contact_person, contact_phone, address, area_id, founded_on, registered_on, registration_authority, registered_capital_fen, members, staff, business_scope, status, grade, grade_expires_on, brand, version, created_at, updated_at) values ",
            orgs,
            per(27),
            "",
        )
        .await?;
        insert_rows(
            conn,
            "insert into org_changes (id, org_id, changed_at, actor, action, reason) values ",
            changes,
            per(6),
            "",
        )
        .await?;
        insert_rows(
            conn,
            "insert into org_change_fields (change_id, field, before_value, after_value) values ",
            fields,
            per(4),
            "",
        )
        .await?;
        insert_rows(
            conn,
            "insert into org_search (org_id, name, former, pinyin, initials) values ",
            search,
            per(5),
            "",
        )
        .await?;
        if pg {
            insert_rows(
                conn,
                "insert into org_search_fts (org_id, tokens) values ",
                fts,
                per(2),
                "::tsvector",
            )
            .await?;
        } else {
            insert_rows(
                conn,
                "insert into org_search_fts (rowid, tokens) values ",
                fts,
                per(2),
                "",
            )
            .await?;
        }

        // The audit head is updated first, which locks it as `audit::store::append` does.
        let (mut seq, mut prev_hash): (i64, String) = Sql::new(
            "update audit_head set last_seq = last_seq where id = 1 returning last_seq, last_hash",
        )
        .fetch_one(conn)
        .await?;
        let mut entries = Vec::with_capacity(pending.len());
        for o in &pending {
            let new = NewEntry::of("create", "organization", Some(o.id), &o.name);
            seq += 1;
            let mut e = AuditEntry {
                seq,
                at: self.at.trunc_subsecs(6),
                actor: self.actor.name.clone(),
                actor_user_id: self.actor.user_id,
                action: new.action.to_owned(),
                entity: new.entity.to_owned(),
                entity_id: new.entity_id,
                summary: new.summary.to_owned(),
                changes: None,
                ip: self.actor.ip.clone(),
                prev_hash: std::mem::take(&mut prev_hash),
                hash: String::new(),
            };
            e.hash = e.compute_hash();
            prev_hash = e.hash.clone();
            entries.push(vec![
                Arg::Int(e.seq),
                Arg::Timestamp(e.at),
                e.actor.into(),
                e.actor_user_id.into(),
                e.action.into(),
                e.entity.into(),
                e.entity_id.into(),
                e.summary.into(),
                Arg::OptText(e.changes),
                Arg::OptText(e.ip),
                e.prev_hash.into(),
                e.hash.into(),
            ]);
        }
        insert_rows(
            conn,
            "insert into audit_log (seq, at, actor, actor_user_id, action, entity, entity_id, summary, changes, ip, prev_hash, hash) values ",
            entries,
            per(12),
            "",
        )
        .await?;
        Sql::new("update audit_head set last_seq = $1, last_hash = $2 where id = 1")
            .arg(seq)
            .arg(prev_hash)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Runs `head (…), (…), …` over `rows`, `per` rows to a statement; `last_cast` follows the last
/// placeholder of each row (`::tsvector`).
async fn insert_rows(
    conn: &mut Conn<'_>,
    head: &str,
    rows: Vec<Vec<Arg>>,
    per: usize,
    last_cast: &str,
) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = Sql::new(head);
        for (i, row) in rows.by_ref().take(per).enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            let n = row.len();
            for (j, v) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.push_arg(v);
                if j + 1 == n {
                    sql.push(last_cast);
                }
            }
            sql.push(")");
        }
        sql.execute(conn).await?;
    }
    Ok(())
}

/// The record a draft makes, as the database would read it back: over `base` for an update,
/// fresh for a creation.
#[expect(
    clippy::too_many_arguments,
    reason = "every resolved reference of the draft, spelled out"
)]
fn projected(
    draft: &OrgDraft,
    domain: &DomainRow,
    area_id: i64,
    area_name: &str,
    registration_authority: Option<String>,
    base: Option<&OrgRow>,
    at: Timestamp,
    id: i64,
) -> OrgRow {
    OrgRow {
        id,
        uscc: draft.uscc.as_ref().map(|u| u.as_str().to_owned()),
        name: draft.name.clone(),
        kind: draft.kind.as_str().to_owned(),
        domain_code: domain.code.clone(),
        domain_name_zh: domain.name_zh.clone(),
        domain_name_en: domain.name_en.clone(),
        direct_registration: draft.direct_registration,
        supervisory_unit: draft.supervisory_unit.clone(),
        legal_representative: draft.legal_representative.clone(),
        contact_person: draft.contact_person.clone(),
        contact_phone: draft.contact_phone.clone(),
        address: draft.address.clone(),
        area_id,
        area_code: draft.area_code.clone(),
        area_name: area_name.to_owned(),
        founded_on: draft.founded_on,
        registered_on: draft.registered_on,
        registration_authority,
        registered_capital_fen: draft.registered_capital_fen,
        members: draft.members,
        staff: draft.staff,
        business_scope: draft.business_scope.clone(),
        status: draft.status.as_str().to_owned(),
        grade: draft.grade.map(|g| g.as_str().to_owned()),
        grade_expires_on: draft.grade_expires_on,
        brand: draft.brand,
        version: base.map_or(1, |b| b.version),
        created_at: base.map_or(at, |b| b.created_at),
        updated_at: base.map_or(at, |b| b.updated_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_count_live_names_and_keep_the_lowest_filed_id() {
        let mut k = Keys::default();
        k.add(7, None, "甲", "active", "120116");
        k.add(3, None, "甲", "deregistered", "120116");
        k.add(9, Some("X"), "乙", "active", "120116");
        assert_eq!(k.filed.get(&key_hash(&["甲", "120116"])), Some(&3));
        assert_eq!(k.live_names.get(&key_hash(&["甲"])), Some(&1));
        k.remove(9, Some("X"), "乙", "active", "120116");
        assert!(k.uscc.is_empty());
        assert_eq!(k.live_names.get(&key_hash(&["乙"])), Some(&0));
        assert_ne!(key_hash(&["ab", "c"]), key_hash(&["a", "bc"]));
    }
}
