//! History and audit: the field-level history of every organization (who, when, field, before,
//! after), written in the same transaction as the change, and the append-only audit log of
//! writes. (Issue 3 makes the log tamper-evident with a hash chain.)

pub mod store;

use crate::db::Timestamp;
use std::collections::BTreeMap;

/// One field's change inside a change event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
