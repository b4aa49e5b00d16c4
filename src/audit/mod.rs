//! History and audit: the field-level history of every organization (who, when, field, before,
//! after), written in the same transaction as the change, and the append-only, hash-chained
//! audit log of every write, sign-in and refusal.

pub mod pages;
pub mod store;

use crate::db::Timestamp;
use std::collections::BTreeMap;

/// Who did something, as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Account name, or a system actor (`demo`, `cli`, `token:NAME`).
    pub name: String,
    /// The account, when a person did it.
    pub user_id: Option<i64>,
    /// Where the request came from.
    pub ip: Option<String>,
}

impl Actor {
    /// A system actor without an account (the demo loader, the command line).
    pub fn system(name: &str) -> Actor {
        Actor {
            name: name.to_owned(),
            user_id: None,
            ip: None,
        }
    }
}

/// One entry of the audit log as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    /// Position in the chain (1, 2, 3 … without gaps).
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Who (account name or system actor).
    pub actor: String,
    /// The account, if a person.
    pub actor_user_id: Option<i64>,
    /// What (`create`, `update`, `login`, `login_failed`, `denied`, …).
    pub action: String,
    /// On what kind of thing (`organization`, `user`, `session`, …).
    pub entity: String,
    /// Which one.
    pub entity_id: Option<i64>,
    /// A short description.
    pub summary: String,
    /// Changed fields with before and after, as JSON.
    pub changes: Option<String>,
    /// Source address.
    pub ip: Option<String>,
    /// Hash of the previous entry ("" for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry must carry: SHA-256 over a canonical JSON array of every field and
    /// the previous hash, so changing any field of any entry breaks the chain from there on.
    pub fn compute_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.seq,
            self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            self.actor,
            self.actor_user_id,
            self.action,
            self.entity,
            self.entity_id,
            self.summary,
            self.changes,
            self.ip,
            self.prev_hash,
        ]);
        crate::auth::secret_hash(&canonical.to_string())
    }
}

/// Checks a run of entries (in `seq` order, starting from `prev_hash` before the first):
/// the first entry whose hash, link or sequence number is wrong.
pub fn first_broken(
    entries: &[AuditEntry],
    mut prev_hash: String,
    mut prev_seq: i64,
) -> Option<i64> {
    for e in entries {
        if e.seq != prev_seq + 1 || e.prev_hash != prev_hash || e.compute_hash() != e.hash {
            return Some(e.seq);
        }
        prev_hash = e.hash.clone();
        prev_seq = e.seq;
    }
    None
}

/// One field's change inside a change event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct FieldChange {
    /// Field name (machine name, e.g. `legal_representative`).
    pub field: String,
    /// Value before the change (`None`: empty).
    pub before_value: Option<String>,
    /// Value after the change (`None`: empty).
    pub after_value: Option<String>,
}

/// What kind of write a change event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    /// The record was created.
    Create,
    /// Fields of the record were edited.
    Update,
}

impl ChangeAction {
    /// The machine name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Create => "create",
            ChangeAction::Update => "update",
        }
    }
}

/// One write to an organization, with every field it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// Event id.
    pub id: i64,
    /// When it happened.
    pub changed_at: Timestamp,
    /// Who did it (account name, `demo`, `import`…).
    pub actor: String,
    /// `create` or `update`.
    pub action: String,
    /// The note given with the change, if any.
    pub reason: Option<String>,
    /// The fields changed.
    pub fields: Vec<FieldChange>,
}

/// The field-by-field differences between two snapshots of a record (same field order as
/// `after`); fields equal in both are left out.
pub fn diff(
    before: &[(&'static str, Option<String>)],
    after: &[(&'static str, Option<String>)],
) -> Vec<FieldChange> {
    let old: BTreeMap<&str, &Option<String>> = before.iter().map(|(k, v)| (*k, v)).collect();
    after
        .iter()
        .filter_map(|(field, new)| {
            let prev = old.get(field).copied().cloned().flatten();
            (prev != *new).then(|| FieldChange {
                field: (*field).to_owned(),
                before_value: prev,
                after_value: new.clone(),
            })
        })
        .collect()
}

/// Replays change events (oldest first) into the value of each field after the last of them.
pub fn replay(events: &[ChangeEvent]) -> BTreeMap<String, Option<String>> {
    let mut state = BTreeMap::new();
    for event in events {
        for f in &event.fields {
            state.insert(f.field.clone(), f.after_value.clone());
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, prev: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at: chrono::DateTime::from_timestamp(1_400_000_000 + seq, 123_456_000).unwrap(),
            actor: "registrar".into(),
            actor_user_id: Some(2),
            action: "update".into(),
            entity: "organization".into(),
            entity_id: Some(7),
            summary: "legal_representative".into(),
            changes: None,
            ip: Some("127.0.0.1".into()),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    #[test]
    fn the_chain_names_the_first_broken_entry() {
        let a = entry(1, "");
        let b = entry(2, &a.hash);
        let c = entry(3, &b.hash);
        let chain = vec![a, b, c];
        assert_eq!(first_broken(&chain, String::new(), 0), None);
        let mut tampered = chain.clone();
        tampered[1].summary = "name".into();
        assert_eq!(first_broken(&tampered, String::new(), 0), Some(2));
        let mut gap = chain.clone();
        gap.remove(1);
        assert_eq!(first_broken(&gap, String::new(), 0), Some(3));
    }

    #[test]
    fn diff_keeps_only_changed_fields() {
        let before = [("name", Some("甲".to_owned())), ("address", None)];
        let after = [
            ("name", Some("甲".to_owned())),
            ("address", Some("乙路1号".to_owned())),
        ];
        let d = diff(&before, &after);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field, "address");
        assert_eq!(d[0].before_value, None);
        let created = [("name", Some("甲".to_owned())), ("address", None)];
        assert_eq!(
            diff(&[], &created).len(),
            1,
            "a creation records every non-empty field"
        );
    }
}
