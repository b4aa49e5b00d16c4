//! 捐赠记录 import: money or goods an organization received or gave, checked as the donation
//! form checks them (`volunteers::DonationForm`) and recorded through
//! `volunteers::store::record_donation`. A donation has no number of its own, so a row is
//! matched on everything it says; the same file imported twice records each donation once.

use super::{Cells, Column, ORG_COLUMN, OrgRef, RecordKind, Written};
use crate::audit::Actor;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors};
use crate::volunteers::{DonationForm, NewDonation};
use chrono::NaiveDate;

/// The columns of a donations file.
pub const COLUMNS: &[Column] = &[
    ORG_COLUMN,
    Column::choice(
        "direction",
        "volunteers.field.direction",
        true,
        "volunteers.direction",
        &["received", "given"],
    ),
    Column::free("counterpart", "volunteers.field.counterpart", true),
    Column::choice(
        "counterpart_kind",
        "volunteers.field.counterpart_kind",
        true,
        "volunteers.counterpart",
        &["individual", "organization"],
    ),
    Column::free("project", "volunteers.field.project", false),
    Column::choice(
        "kind",
        "volunteers.field.kind",
        true,
        "volunteers.kind",
        &["money", "goods"],
    ),
    Column::free("goods", "volunteers.field.goods", false),
    Column::free("amount_yuan", "volunteers.field.amount_yuan", true),
    Column::free("donated_on", "volunteers.field.donated_on", true),
    Column::free("purpose", "volunteers.field.purpose", true),
];

/// Donations.
pub struct Donations;

impl RecordKind for Donations {
    type Row = NewDonation;

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn parse(
        &self,
        _org: &OrgRef,
        cells: &Cells<'_>,
        today: NaiveDate,
        errors: &mut FieldErrors,
    ) -> Option<NewDonation> {
        let form = DonationForm {
            org: String::new(),
            direction: cells.choice("direction", errors),
            counterpart: cells.get("counterpart"),
            counterpart_kind: cells.choice("counterpart_kind", errors),
            project: cells.get("project"),
            kind: cells.choice("kind", errors),
            goods: cells.get("goods"),
            amount_yuan: cells.get("amount_yuan"),
            donated_on: cells.get("donated_on"),
            purpose: cells.get("purpose"),
        };
        let chosen_ok = errors.is_empty();
        match form.parse(today) {
            Ok(d) if chosen_ok => Some(d),
            Ok(_) => None,
            Err(e) => {
                // A choice already reported as unknown is not reported again as missing.
                for (field, msg) in e.0 {
                    if errors.get(field).is_none() {
                        errors.add(field, msg);
                    }
                }
                None
            }
        }
    }

    fn key(&self, org: &OrgRef, d: &NewDonation) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            org.id,
            d.direction,
            d.counterpart,
            d.counterpart_kind,
            d.project,
            d.kind,
            d.goods.as_deref().unwrap_or(""),
            d.amount_fen,
            d.donated_on,
            d.purpose
        )
    }

    async fn write(
        &self,
        conn: &mut Conn<'_>,
        actor: &Actor,
        at: Timestamp,
        org: &OrgRef,
        d: &NewDonation,
    ) -> Result<Written, Error> {
        let mut same = Sql::new("select count(*) from donations where org_id = ");
        same.push_arg(org.id)
            .push(" and direction = ")
            .push_arg(d.direction)
            .push(" and counterpart = ")
            .push_arg(d.counterpart.as_str())
            .push(" and counterpart_kind = ")
            .push_arg(d.counterpart_kind)
            .push(" and project = ")
            .push_arg(d.project.as_str())
            .push(" and kind = ")
            .push_arg(d.kind)
            .push(" and coalesce(goods, '') = ")
            .push_arg(d.goods.clone().unwrap_or_default())
            .push(" and amount_fen = ")
            .push_arg(d.amount_fen)
            .push(" and donated_on = ")
            .push_arg(d.donated_on)
            .push(" and purpose = ")
            .push_arg(d.purpose.as_str());
        if same.fetch_i64(conn).await? > 0 {
            return Ok(Written::Unchanged);
        }
        crate::volunteers::store::record_donation(conn, actor, at, org.id, d).await?;
        Ok(Written::Created)
    }
}
