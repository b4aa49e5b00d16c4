//! The credit lists (DOMAIN §5): listings with reason, date and evidence; removal by the rules;
//! the daily sweep that lists missed reports, ends expired listings and escalates two-year
//! abnormal listings to the serious list; objections.

use super::store::find;
use super::{CreditList, Filing, ListingReason, RemovalReason, Rules, add_months};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;

/// A listing as stored, with its organization.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ListingRow {
    /// Id.
    pub id: i64,
    /// The organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Its credit code.
    pub org_uscc: Option<String>,
    /// Machine name of [`CreditList`].
    pub list: String,
    /// Machine name of [`ListingReason`].
    pub reason: String,
    /// The report year, for a missed report.
    pub subject_year: Option<i64>,
    /// The facts, in the lister's words.
    pub detail: String,
    /// The evidence (document numbers, letters' tracking numbers…).
    pub evidence: String,
    /// Listed on.
    pub listed_on: NaiveDate,
    /// Who listed it (`sweep` for the automatic rules).
    pub listed_by: String,
    /// Removed on.
    pub removed_on: Option<NaiveDate>,
    /// Machine name of [`RemovalReason`].
    pub removal_reason: Option<String>,
    /// What was verified.
    pub removal_detail: Option<String>,
    /// Who removed it.
    pub removed_by: Option<String>,
    /// The abnormal listing this serious one grew from.
    pub escalated_from: Option<i64>,
}

impl ListingRow {
    /// The list.
    pub fn list(&self) -> CreditList {
        CreditList::parse(&self.list).unwrap_or(CreditList::Abnormal)
    }

    /// The reason.
    pub fn reason(&self) -> Option<ListingReason> {
        ListingReason::parse(&self.reason)
    }

    /// Still in force.
    pub fn is_open(&self) -> bool {
        self.removed_on.is_none()
    }
}

const SELECT: &str = "select l.id, l.org_id, o.name as org_name, o.uscc as org_uscc, l.list, l.reason, l.subject_year, l.detail, l.evidence, l.listed_on, l.listed_by, l.removed_on, l.removal_reason, l.removal_detail, l.removed_by, l.escalated_from from credit_listings l join organizations o on o.id = l.org_id where 1 = 1";

/// Every listing of one organization, newest first (listings are public facts).
pub async fn for_org(conn: &mut Conn<'_>, org_id: i64) -> Result<Vec<ListingRow>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and l.org_id = ")
        .push_arg(org_id)
        .push(" order by l.listed_on desc, l.id desc");
    Ok(sql.fetch_all(conn).await?)
}

/// Listing `id` if `scope` reaches its organization.
pub async fn get(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<ListingRow> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and l.id = ").push_arg(id);
    scope.restrict_orgs(&mut sql, "o");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// Listings on `list` (or both) that `scope` reaches, only those in force when `open_only`,
/// newest first, at most `limit`.
pub async fn search(
    conn: &mut Conn<'_>,
    scope: &Scope,
    list: Option<CreditList>,
    open_only: bool,
    limit: i64,
) -> Result<Vec<ListingRow>> {
    let mut sql = Sql::new(SELECT);
    scope.restrict_orgs(&mut sql, "o");
    if let Some(list) = list {
        sql.push(" and l.list = ").push_arg(list.as_str());
    }
    if open_only {
        sql.push(" and l.removed_on is null");
    }
    sql.push(" order by l.listed_on desc, l.id desc limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// A listing to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewListing {
    /// The organization.
    pub org_id: i64,
    /// Why.
    pub reason: ListingReason,
    /// The report year (missed reports).
    pub subject_year: Option<i64>,
    /// The facts.
    pub detail: String,
    /// The evidence.
    pub evidence: String,
    /// The day it takes effect.
    pub listed_on: NaiveDate,
    /// The abnormal listing it escalates.
    pub escalated_from: Option<i64>,
}

/// Records a listing. A person must state the facts and the evidence (the sweep's own
/// listings carry their rule instead); an organization is not listed twice for the same
/// reason and year while the first listing is in force.
pub async fn add(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    new: &NewListing,
    by_rule: bool,
) -> Result<i64> {
    let mut errors = FieldErrors::new();
    if !by_rule {
        if new.detail.trim().is_empty() {
            errors.add("detail", Msg::new("error.field.required"));
        }
        if new.evidence.trim().is_empty() {
            errors.add("evidence", Msg::new("error.field.required"));
        }
    }
    for (field, text) in [("detail", &new.detail), ("evidence", &new.evidence)] {
        if text.chars().count() > 2000 {
            errors.add(field, Msg::new("error.field.too_long").with("max", 2000));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut open = Sql::new("select count(*) from credit_listings where org_id = $1 and reason = $2 and removed_on is null")
        .arg(new.org_id)
        .arg(new.reason.as_str());
    if let Some(year) = new.subject_year {
        open.push(" and subject_year = ").push_arg(year);
    }
    if open.fetch_i64(conn).await? > 0 {
        return Err(Error::Conflict(Msg::new("credit.error.already_listed")));
    }
    let id = Sql::new("insert into credit_listings (org_id, list, reason, subject_year, detail, evidence, listed_on, listed_by, escalated_from, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id")
        .arg(new.org_id)
        .arg(new.reason.list().as_str())
        .arg(new.reason.as_str())
        .arg(new.subject_year)
        .arg(new.detail.trim())
        .arg(new.evidence.trim())
        .arg(new.listed_on)
        .arg(actor.name.as_str())
        .arg(new.escalated_from)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    let summary = format!(
        "{} {} {}",
        new.reason.list().as_str(),
        new.reason.as_str(),
        new.listed_on
    );
    append(
        conn,
        at,
        actor,
        NewEntry::of("list", "credit_listing", Some(id), &summary),
    )
    .await?;
    Ok(id)
}

/// Whether the problem behind a listing is fixed, as far as the records can tell: a missed
/// report counts as fixed once that year's report is filed; other problems are verified by the
/// person removing the listing.
async fn problem_fixed(conn: &mut Conn<'_>, listing: &ListingRow) -> Result<bool> {
    match (listing.reason(), listing.subject_year) {
        (Some(ListingReason::AnnualReportMissing), Some(year)) => {
            Ok(find(conn, listing.org_id, year)
                .await?
                .is_some_and(|r| r.submitted_at.is_some()))
        }
        (Some(ListingReason::NoPartyOrganization), _) => {
            crate::party::coverage::has_own_party_org(conn, listing.org_id).await
        }
        _ => Ok(true),
    }
}

/// How a person ends a listing: the removal reason and what they verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removal<'a> {
    /// `Rectified`, `Served` or `Deregistered`.
    pub reason: RemovalReason,
    /// What was verified (required).
    pub detail: &'a str,
}

/// A decision on an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict<'a> {
    /// The objection.
    pub objection_id: i64,
    /// Whether it holds (the listing then ends).
    pub upheld: bool,
    /// The reasons (required).
    pub reasons: &'a str,
}

/// Ends a listing on `today` for `reason`, if the rules allow it:
/// - `Rectified` (abnormal list): the problem is fixed (a missed report filed) and verified;
/// - `Served` (serious list): the listing has run its full period with no later listing of the
///   organization (a new event restarts the clock), and, when it grew from an abnormal listing,
///   that problem is fixed too;
/// - `Deregistered`: the organization is no longer registered.
///
/// `Expired`, `Escalated` and `ObjectionUpheld` are the sweep's and the objection decision's.
pub async fn remove(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    listing: &ListingRow,
    removal: Removal<'_>,
    today: NaiveDate,
    rules: &Rules,
) -> Result<()> {
    let Removal { reason, detail } = removal;
    if !listing.is_open() {
        return Err(Error::Conflict(Msg::new("credit.error.not_open")));
    }
    let detail = detail.trim();
    if detail.is_empty() {
        return Err(Error::field(
            "removal_detail",
            Msg::new("error.field.required"),
        ));
    }
    let refuse = |key: &'static str| Err(Error::Conflict(Msg::new(key)));
    match reason {
        RemovalReason::Rectified => {
            if listing.list() != CreditList::Abnormal {
                return refuse("credit.error.serious_needs_period");
            }
            if !problem_fixed(conn, listing).await? {
                return refuse("credit.error.not_rectified");
            }
        }
        RemovalReason::Served => {
            let due = add_months(listing.listed_on, rules.serious_removal_months);
            if listing.list() != CreditList::Serious || today < due {
                return Err(Error::Conflict(
                    Msg::new("credit.error.period_not_served").with("date", due.to_string()),
                ));
            }
            let later = Sql::new("select count(*) from credit_listings where org_id = $1 and id <> $2 and listed_on > $3 and list = 'abnormal'")
                .arg(listing.org_id)
                .arg(listing.id)
                .arg(listing.listed_on)
                .fetch_i64(conn)
                .await?;
            if later > 0 {
                return refuse("credit.error.new_event");
            }
            if let Some(from) = listing.escalated_from {
                let origin = get(conn, &Scope::All, from).await?;
                if !problem_fixed(conn, &origin).await? {
                    return refuse("credit.error.not_rectified");
                }
            }
        }
        RemovalReason::Deregistered => {
            let status = Sql::new("select count(*) from organizations where id = $1 and status in ('deregistered', 'revoked')")
                .arg(listing.org_id)
                .fetch_i64(conn)
                .await?;
            if status == 0 {
                return refuse("credit.error.still_registered");
            }
        }
        RemovalReason::Expired | RemovalReason::Escalated | RemovalReason::ObjectionUpheld => {
            return refuse("credit.error.removal_reason");
        }
    }
    close(conn, actor, at, listing.id, today, reason, detail).await
}

/// Marks a listing removed (no rule checks: the callers made them).
async fn close(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: i64,
    on: NaiveDate,
    reason: RemovalReason,
    detail: &str,
) -> Result<()> {
    let changed = Sql::new("update credit_listings set removed_on = $1, removal_reason = $2, removal_detail = $3, removed_by = $4 where id = $5 and removed_on is null")
        .arg(on)
        .arg(reason.as_str())
        .arg(detail)
        .arg(actor.name.as_str())
        .arg(id)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("credit.error.not_open")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("remove", "credit_listing", Some(id), reason.as_str()),
    )
    .await?;
    Ok(())
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    /// Missed reports listed.
    pub listed: i64,
    /// Listings that ended after their period with nothing to fix.
    pub expired: i64,
    /// Abnormal listings moved to the serious list.
    pub escalated: i64,
    /// Organizations listed for having no party organization where one is required.
    pub no_party_org: i64,
}

/// Candidates (organizations or listings) the server's sweep reads per page; [`sweep_in_batches`]
/// commits after each page, so no transaction holds the write lock for long on a national
/// registry.
pub const SWEEP_PAGE: i64 = 2_000;

/// Which rule a sweep is applying.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Stage {
    /// Missed reports of the `n`-th closed year (newest first).
    #[default]
    MissedReports,
    /// Expiry and escalation of abnormal listings in force.
    OpenListings,
    /// Organizations that need a party organization and have none.
    PartyOrganizations,
    /// Nothing left.
    Done,
}

/// Where a sweep has got to: the rule, the closed year (for missed reports) and the last
/// organization or listing id done. Every rule skips what an earlier page already did, so a
/// sweep stopped midway (a crash between pages) is finished by the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SweepCursor {
    stage: Stage,
    year_index: usize,
    after: i64,
    /// Candidates per page.
    page: i64,
}

impl SweepCursor {
    /// The start of a sweep reading `page` candidates at a time.
    fn start(page: i64) -> SweepCursor {
        SweepCursor {
            stage: Stage::default(),
            year_index: 0,
            after: 0,
            page: page.max(1),
        }
    }

    /// True once every rule has been applied.
    fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Moves to the first page of `stage`.
    fn enter(&mut self, stage: Stage) {
        *self = SweepCursor {
            stage,
            ..SweepCursor::start(self.page)
        };
    }

    /// After a page of `read` candidates whose last id is `last`: the next page, or the next
    /// rule when the page was not full.
    fn advance(&mut self, read: usize, last: Option<i64>, next: impl FnOnce(&mut SweepCursor)) {
        match last {
            Some(last) if read as i64 >= self.page => self.after = last,
            _ => next(self),
        }
    }
}

/// Applies the automatic rules as of `today` (idempotent: running it twice changes nothing
/// the second time):
/// 1. every organization that had to report for a closed year and has not filed is put on the
///    abnormal list from the day after the deadline — for the years the registry tracks (a
///    year with at least one filed report, among the last three), so an installation that
///    starts with old records does not list everyone for years before it kept reports;
/// 2. abnormal listings with nothing to fix end after the auto-removal period;
/// 3. abnormal listings in force for the escalation period end, and the organization goes on
///    the serious list from that day;
/// 4. an organization whose latest reviewed report shows the required number of full party
///    members (setting, DOMAIN §6: three) and that has no party organization of its own is put
///    on the abnormal list from `today`, once per report year.
///
/// All on `conn`, in the caller's transaction; see [`sweep_in_batches`] for the server's way.
pub async fn sweep(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    rules: &Rules,
) -> Result<Swept> {
    let mut cursor = SweepCursor::start(SWEEP_PAGE);
    let mut swept = Swept::default();
    while !cursor.is_done() {
        sweep_page(conn, actor, at, today, rules, &mut cursor, &mut swept).await?;
    }
    Ok(swept)
}

/// [`sweep`] with each page of `page` candidates (the server: [`SWEEP_PAGE`]) in its own
/// transaction, so staff writes wait for one page at most rather than for the whole sweep.
/// Returns the business date it swept for and what it did.
pub async fn sweep_in_batches(
    db: &crate::db::Db,
    actor: &Actor,
    page: i64,
) -> Result<(NaiveDate, Swept)> {
    let (today, rules, at) = {
        let mut pooled = db.acquire().await?;
        let mut c = pooled.conn();
        (
            crate::clock::today(&mut c).await?,
            Rules::load(&mut c).await?,
            crate::clock::now(&mut c).await?,
        )
    };
    let mut cursor = SweepCursor::start(page);
    let mut swept = Swept::default();
    while !cursor.is_done() {
        let mut tx = db.begin().await?;
        sweep_page(
            &mut tx.conn(),
            actor,
            at,
            today,
            &rules,
            &mut cursor,
            &mut swept,
        )
        .await?;
        tx.commit().await?;
    }
    Ok((today, swept))
}

/// Applies the rule `cursor` is at to one page of candidates and moves the cursor on.
async fn sweep_page(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    rules: &Rules,
    cursor: &mut SweepCursor,
    swept: &mut Swept,
) -> Result<()> {
    match cursor.stage {
        Stage::MissedReports => {
            let years = rules.closed_years(today, 3);
            let Some(&year) = years.get(cursor.year_index) else {
                cursor.enter(Stage::OpenListings);
                return Ok(());
            };
            let year = i64::from(year);
            let next_year = |c: &mut SweepCursor| {
                c.year_index += 1;
                c.after = 0;
            };
            if cursor.after == 0 && !super::store::tracked_year(conn, year).await? {
                next_year(cursor);
                return Ok(());
            }
            let lines =
                super::store::unfiled_unlisted(conn, year, cursor.after, cursor.page, rules, today)
                    .await?;
            for line in &lines {
                if !matches!(line.filing, Filing::Overdue { .. }) {
                    continue;
                }
                let new = NewListing {
                    org_id: line.row.org_id,
                    reason: ListingReason::AnnualReportMissing,
                    subject_year: Some(year),
                    detail: String::new(),
                    evidence: String::new(),
                    listed_on: line.deadline.succ_opt().unwrap_or(line.deadline),
                    escalated_from: None,
                };
                add(conn, actor, at, &new, true).await?;
                swept.listed += 1;
            }
            cursor.advance(lines.len(), lines.last().map(|l| l.row.org_id), next_year);
        }
        Stage::OpenListings => {
            let open = open_abnormal_after(conn, cursor.after, cursor.page).await?;
            for listing in &open {
                expire_or_escalate(conn, actor, at, today, rules, listing, swept).await?;
            }
            cursor.advance(open.len(), open.last().map(|l| l.id), |c| {
                c.enter(Stage::PartyOrganizations)
            });
        }
        Stage::PartyOrganizations => {
            let min = crate::party::coverage::required_members(conn, today).await?;
            let due = crate::party::coverage::requiring_party_org_without_one(
                conn,
                today,
                min,
                cursor.after,
                cursor.page,
            )
            .await?;
            for due in &due {
                let new = NewListing {
                    org_id: due.org_id,
                    reason: ListingReason::NoPartyOrganization,
                    subject_year: Some(due.year),
                    detail: crate::i18n::Lang::Zh.tf(
                        "credit.detail.no_party_organization",
                        &[
                            ("year", &due.year.to_string()),
                            ("count", &due.members.to_string()),
                        ],
                    ),
                    evidence: String::new(),
                    listed_on: today,
                    escalated_from: None,
                };
                add(conn, actor, at, &new, true).await?;
                swept.no_party_org += 1;
            }
            cursor.advance(due.len(), due.last().map(|d| d.org_id), |c| {
                c.enter(Stage::Done)
            });
        }
        Stage::Done => {}
    }
    Ok(())
}

/// Up to `limit` abnormal listings in force with ids above `after`, by id.
async fn open_abnormal_after(
    conn: &mut Conn<'_>,
    after: i64,
    limit: i64,
) -> Result<Vec<ListingRow>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and l.list = 'abnormal' and l.removed_on is null and l.id > ")
        .push_arg(after)
        .push(" order by l.id limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// Rules 2 and 3 for one abnormal listing in force.
async fn expire_or_escalate(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    rules: &Rules,
    listing: &ListingRow,
    swept: &mut Swept,
) -> Result<()> {
    let expires = add_months(listing.listed_on, rules.auto_removal_months);
    if listing.reason().is_some_and(|r| !r.needs_rectification()) && expires <= today {
        close(
            conn,
            actor,
            at,
            listing.id,
            expires,
            RemovalReason::Expired,
            "",
        )
        .await?;
        swept.expired += 1;
        return Ok(());
    }
    let escalates = add_months(listing.listed_on, rules.serious_after_months);
    if escalates <= today {
        close(
            conn,
            actor,
            at,
            listing.id,
            escalates,
            RemovalReason::Escalated,
            "",
        )
        .await?;
        let new = NewListing {
            org_id: listing.org_id,
            reason: ListingReason::AbnormalTwoYears,
            subject_year: listing.subject_year,
            detail: String::new(),
            evidence: String::new(),
            listed_on: escalates,
            escalated_from: Some(listing.id),
        };
        add(conn, actor, at, &new, true).await?;
        swept.escalated += 1;
    }
    Ok(())
}

/// An objection to a listing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ObjectionRow {
    /// Id.
    pub id: i64,
    /// The listing.
    pub listing_id: i64,
    /// When filed.
    pub filed_at: Timestamp,
    /// By whom.
    pub filed_by: String,
    /// The grounds.
    pub grounds: String,
    /// `open`, `upheld` or `rejected`.
    pub state: String,
    /// When decided.
    pub decided_at: Option<Timestamp>,
    /// By whom.
    pub decided_by: Option<String>,
    /// The decision's reasons.
    pub decision: Option<String>,
}

/// The objections to one listing, oldest first.
pub async fn objections(conn: &mut Conn<'_>, listing_id: i64) -> Result<Vec<ObjectionRow>> {
    Ok(Sql::new("select id, listing_id, filed_at, filed_by, grounds, state, decided_at, decided_by, decision from credit_objections where listing_id = $1 order by id")
        .arg(listing_id)
        .fetch_all(conn)
        .await?)
}

/// Files an objection to a listing in force (one open objection at a time).
pub async fn object(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    listing: &ListingRow,
    grounds: &str,
) -> Result<i64> {
    let grounds = grounds.trim();
    if grounds.is_empty() {
        return Err(Error::field("grounds", Msg::new("error.field.required")));
    }
    if grounds.chars().count() > 2000 {
        return Err(Error::field(
            "grounds",
            Msg::new("error.field.too_long").with("max", 2000),
        ));
    }
    if !listing.is_open() {
        return Err(Error::Conflict(Msg::new("credit.error.not_open")));
    }
    if objections(conn, listing.id)
        .await?
        .iter()
        .any(|o| o.state == "open")
    {
        return Err(Error::Conflict(Msg::new("credit.error.objection_open")));
    }
    let id = Sql::new("insert into credit_objections (listing_id, filed_at, filed_by, grounds, state) values ($1, $2, $3, $4, 'open') returning id")
        .arg(listing.id)
        .arg(at)
        .arg(actor.name.as_str())
        .arg(grounds)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("object", "credit_listing", Some(listing.id), "objection"),
    )
    .await?;
    Ok(id)
}

/// Decides an open objection; an upheld one removes the listing on `today`.
pub async fn decide(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    listing: &ListingRow,
    verdict: Verdict<'_>,
    today: NaiveDate,
) -> Result<()> {
    let Verdict {
        objection_id,
        upheld,
        reasons: decision,
    } = verdict;
    let decision = decision.trim();
    if decision.is_empty() {
        return Err(Error::field("decision", Msg::new("error.field.required")));
    }
    let changed = Sql::new("update credit_objections set state = $1, decided_at = $2, decided_by = $3, decision = $4 where id = $5 and listing_id = $6 and state = 'open'")
        .arg(if upheld { "upheld" } else { "rejected" })
        .arg(at)
        .arg(actor.name.as_str())
        .arg(decision)
        .arg(objection_id)
        .arg(listing.id)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("inspection.error.stale")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            if upheld { "uphold" } else { "reject" },
            "credit_objection",
            Some(objection_id),
            decision,
        ),
    )
    .await?;
    if upheld {
        close(
            conn,
            actor,
            at,
            listing.id,
            today,
            RemovalReason::ObjectionUpheld,
            decision,
        )
        .await?;
    }
    Ok(())
}

/// Applies the listing rules once per business day, for as long as the server runs (the
/// first time at start-up), a page per transaction. A failure is logged and tried again on the
/// next round, which finishes what the failed one left.
pub async fn run_daily(db: crate::db::Db) {
    let mut last: Option<NaiveDate> = None;
    loop {
        let round = async {
            let today = crate::clock::today(&mut db.acquire().await?.conn()).await?;
            if last == Some(today) {
                return Ok::<_, Error>(None);
            }
            Ok(Some(
                sweep_in_batches(&db, &Actor::system("sweep"), SWEEP_PAGE).await?,
            ))
        };
        match round.await {
            Ok(Some((today, swept))) => {
                last = Some(today);
                tracing::info!(%today, listed = swept.listed, expired = swept.expired, escalated = swept.escalated, no_party_org = swept.no_party_org, "credit lists swept");
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "credit sweep failed"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
}

/// Listings in force on `list` for organizations in `area` (or anywhere) that `scope` reaches.
pub async fn count_in_force(
    conn: &mut Conn<'_>,
    scope: &Scope,
    list: CreditList,
    area: Option<crate::areas::AreaId>,
) -> Result<i64> {
    let mut sql = Sql::new(
        "select count(*) from credit_listings l join organizations o on o.id = l.org_id where l.removed_on is null and l.list = ",
    );
    sql.push_arg(list.as_str());
    scope.restrict_orgs(&mut sql, "o");
    if let Some(area) = area {
        sql.push(" and ");
        crate::areas::store::subtree_predicate(&mut sql, "o.area_id", &[area]);
    }
    Ok(sql.fetch_i64(conn).await?)
}
