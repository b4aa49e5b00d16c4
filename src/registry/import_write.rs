//! The two writing passes of the organization import, run after the validation pass found no
//! bad row, each in one transaction: `bulk` (the default, through `bulk::BulkWriter`) and
//! `row_by_row` (every row through `store::create` / `store::update`, the reference the bulk
//! pass is tested against).

use super::bulk::{BulkWriter, Outcome};
use super::import::{
    ImportError, ImportSummary, PROGRESS_EVERY, Progress, RowError, WritePass, refused,
};
use super::records::Records;
use super::store::{self, Updated};
use super::uscc::Uscc;
use super::{OrgForm, OrgId, name_key};
use crate::auth::Scope;
use crate::db::{Conn, Db, Sql};
use crate::error::Error;
use std::collections::HashMap;
use std::io::{BufRead, Seek};

/// Rows read ahead in the bulk pass, so the stored records they update are fetched in one query.
const CHUNK: usize = 500;

type Written = (ImportSummary, Vec<RowError>);

/// SQLite page cache of the bulk pass, in MiB: the indexes of a million organizations (credit
/// code, name, area, FTS) fit, so inserts stop re-reading the pages they spilled.
const BULK_CACHE_MIB: u32 = 256;

/// The bulk pass: keys loaded once, rows checked in memory, new organizations written with
/// multi-row INSERTs.
pub(super) async fn bulk<R: BufRead + Seek>(
    db: &Db,
    pass: &WritePass<'_>,
    records: &mut Records<R>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Written, ImportError> {
    let mut summary = ImportSummary::default();
    let mut errors = Vec::new();
    let mut tx = db.begin().await?;
    tx.conn().sqlite_cache(Some(BULK_CACHE_MIB)).await?;
    let division = crate::settings::store::current(&mut tx.conn(), "division_code").await?;
    let mut writer = BulkWriter::load(&mut tx.conn(), pass.actor, pass.at).await?;
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        chunk.clear();
        while chunk.len() < CHUNK {
            let Some((line, record)) = records.next_record()? else {
                break;
            };
            let probe = pass.form(OrgForm::default(), &record, line, &mut errors);
            let existing = writer.existing(&probe.uscc, &probe.name, &probe.area_code);
            chunk.push((line, record, probe, existing));
        }
        if chunk.is_empty() {
            break;
        }
        let ids: Vec<i64> = chunk.iter().filter_map(|c| c.3.map(|id| id.0)).collect();
        let mut conn = tx.conn();
        let mut stored: HashMap<i64, store::OrgRow> =
            store::find_many(&mut conn, &Scope::All, &ids)
                .await?
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
        for (line, record, probe, _) in chunk.drain(..) {
            summary.rows += 1;
            if probe.uscc.trim().is_empty() {
                summary.keyed_on_name += 1;
            }
            let existing = writer.existing(&probe.uscc, &probe.name, &probe.area_code);
            let result = match existing {
                Some(id) => {
                    let row = match stored.remove(&id.0) {
                        Some(row) => row,
                        None => store::find(&mut conn, &Scope::All, id)
                            .await?
                            .ok_or(Error::NotFound)?,
                    };
                    let form = pass.form(OrgForm::from_row(&row), &record, line, &mut errors);
                    match form.parse() {
                        Ok(draft) => writer
                            .update(&mut conn, &row, &draft, &form.reason)
                            .await
                            .map(|o| match o {
                                Outcome::Updated => summary.updated += 1,
                                Outcome::Unchanged => summary.unchanged += 1,
                            }),
                        Err(fields) => Err(Error::Invalid(fields)),
                    }
                }
                None => match probe.parse() {
                    Ok(draft) => writer
                        .create(&mut conn, &draft, &division, pass.rows - summary.rows + 1)
                        .await
                        .map(|()| summary.created += 1),
                    Err(fields) => Err(Error::Invalid(fields)),
                },
            };
            refused(result, line, &mut errors)?;
            if summary.rows.is_multiple_of(PROGRESS_EVERY) {
                progress(pass.progress(summary.rows));
            }
        }
    }
    writer.flush(&mut tx.conn()).await?;
    // The connection goes back to the pool with the default cache (dirty pages stay until the
    // commit writes them; only clean ones are let go).
    tx.conn().sqlite_cache(None).await?;
    if errors.is_empty() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok((summary, errors))
}

/// The row-by-row pass: each row looked up, then created or updated through the store.
pub(super) async fn row_by_row<R: BufRead + Seek>(
    db: &Db,
    pass: &WritePass<'_>,
    records: &mut Records<R>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Written, ImportError> {
    let mut summary = ImportSummary::default();
    let mut errors = Vec::new();
    let mut tx = db.begin().await?;
    let division = crate::settings::store::current(&mut tx.conn(), "division_code").await?;
    let (actor, at) = (pass.actor, pass.at);
    while let Some((line, record)) = records.next_record()? {
        summary.rows += 1;
        let mut conn = tx.conn();
        let probe = pass.form(OrgForm::default(), &record, line, &mut errors);
        if probe.uscc.trim().is_empty() {
            summary.keyed_on_name += 1;
        }
        let existing = find_existing(&mut conn, &probe).await?;
        let result = match existing {
            Some(id) => {
                let row = store::find(&mut conn, &Scope::All, id)
                    .await?
                    .ok_or(Error::NotFound)?;
                let form = pass.form(OrgForm::from_row(&row), &record, line, &mut errors);
                match form.parse() {
                    Ok(draft) => store::update(
                        &mut conn,
                        &Scope::All,
                        actor,
                        at,
                        id,
                        row.version,
                        &draft,
                        Some(&form.reason),
                    )
                    .await
                    .map(|u| match u {
                        Updated::Changed(_) => summary.updated += 1,
                        Updated::Unchanged => summary.unchanged += 1,
                    }),
                    Err(fields) => Err(Error::Invalid(fields)),
                }
            }
            None => match probe.parse() {
                Ok(draft) => store::create(&mut conn, &Scope::All, actor, at, &draft, &division)
                    .await
                    .map(|_| summary.created += 1),
                Err(fields) => Err(Error::Invalid(fields)),
            },
        };
        refused(result, line, &mut errors)?;
        if summary.rows.is_multiple_of(PROGRESS_EVERY) {
            progress(pass.progress(summary.rows));
        }
    }
    if errors.is_empty() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok((summary, errors))
}

/// The organization a row updates: the one with its USCC, or (for a row without one) the
/// organization without a code that has its name in its area.
async fn find_existing(conn: &mut Conn<'_>, form: &OrgForm) -> Result<Option<OrgId>, Error> {
    match form.uscc.trim() {
        "" => {
            let found = Sql::new(
                "select o.id from organizations o join areas a on a.id = o.area_id where o.uscc is null and o.name_key = $1 and a.code = $2 order by o.id",
            )
            .arg(name_key(&form.name))
            .arg(form.area_code.as_str())
            .fetch_optional::<(i64,)>(conn)
            .await?;
            Ok(found.map(|(id,)| OrgId(id)))
        }
        code => match Uscc::parse(code) {
            Ok(u) => Ok(store::find_by_uscc(conn, &Scope::All, &u)
                .await?
                .map(|r| r.org_id())),
            Err(_) => Ok(None),
        },
    }
}
