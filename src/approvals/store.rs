//! Applications in the database: drafts, the queue, transitions with first-inquiry ownership
//! and the statutory clock, and what an approval writes to the registry — all in the caller's
//! transaction.

use super::{Action, Actor, ApplicationId, ApplicationKind, State, TransitionError, transition};
use crate::areas::AreaId;
use crate::audit::store::{NewEntry, append};
use crate::auth::{Scope, UserId};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use crate::registry::store::{self as registry, Updated};
use crate::registry::{OrgForm, OrgId, OrgKind};
use chrono::NaiveDate;

/// One application as stored, with names resolved.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApplicationRow {
    /// Id.
    pub id: i64,
    /// Kind (machine name).
    pub kind: String,
    /// State (machine name).
    pub state: String,
    /// Kind of organization concerned.
    pub org_kind: String,
    /// Name of the organization (proposed, for an establishment).
    pub org_name: String,
    /// Where the organization is (for area scope).
    pub area_id: i64,
    /// That area's code.
    pub area_code: String,
    /// That area's name.
    pub area_name: String,
    /// The organization concerned (created on approval of an establishment or filing).
    pub org_id: Option<i64>,
    /// Who filed it.
    pub applicant_user_id: i64,
    /// Their name and account name, as shown ("冯涛（shenqing）").
    pub applicant: String,
    /// The form, as JSON of `OrgForm`.
    pub form: String,
    /// The supervisory unit that consented (non-direct establishments).
    pub consent_unit: Option<String>,
    /// First-inquiry owner (首问负责人).
    pub owner_user_id: Option<i64>,
    /// Their name and account name, as shown.
    pub owner: Option<String>,
    /// Statutory limit in days, fixed when the application was made.
    pub limit_days: i64,
    /// Days spent returned for correction after acceptance (the clock was paused).
    pub paused_days: i64,
    /// When first submitted.
    pub submitted_at: Option<Timestamp>,
    /// When accepted (受理): the clock starts.
    pub accepted_at: Option<Timestamp>,
    /// When last returned for correction (while returned).
    pub returned_at: Option<Timestamp>,
    /// When approved or rejected.
    pub decided_at: Option<Timestamp>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Created at.
    pub created_at: Timestamp,
    /// The applicant declares the charter carries the party-building clause (党建入章).
    pub charter_party_clause: bool,
}

impl ApplicationRow {
    /// The typed kind.
    pub fn kind(&self) -> ApplicationKind {
        ApplicationKind::parse(&self.kind).unwrap_or(ApplicationKind::Establishment)
    }

    /// The typed state.
    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Draft)
    }

    /// The form as filed.
    pub fn form(&self) -> OrgForm {
        serde_json::from_str(&self.form).unwrap_or_default()
    }

    /// The day the statutory limit runs out (once accepted), on the bureau's calendar.
    pub fn deadline(&self, calendar: &super::Calendar) -> Option<NaiveDate> {
        self.accepted_at
            .map(|t| calendar.deadline(china_date(t), self.limit_days, self.paused_days))
    }
}

/// The calendar day of an instant in China time.
pub fn china_date(t: Timestamp) -> NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

const SELECT: &str = "select a.id, a.kind, a.state, a.org_kind, a.org_name, a.area_id, ar.code as area_code, ar.name as area_name, a.org_id, a.applicant_user_id, case when u.display_name in ('', u.username) then u.username else u.display_name || '（' || u.username || '）' end as applicant, a.form, a.consent_unit, a.owner_user_id, case when o.display_name in ('', o.username) then o.username else o.display_name || '（' || o.username || '）' end as owner, a.limit_days, a.paused_days, a.submitted_at, a.accepted_at, a.returned_at, a.decided_at, a.version, a.created_at, a.charter_party_clause from applications a join areas ar on ar.id = a.area_id join users u on u.id = a.applicant_user_id left join users o on o.id = a.owner_user_id where 1 = 1";

/// Who is looking at applications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// The applicant: their own applications, drafts included.
    Applicant(UserId),
    /// Staff: submitted applications located in their scope (never others' drafts).
    Staff(Scope),
}

impl Viewer {
    fn restrict(&self, sql: &mut Sql) {
        match self {
            Viewer::Applicant(user) => {
                sql.push(" and a.applicant_user_id = ").push_arg(*user);
            }
            Viewer::Staff(scope) => {
                sql.push(" and a.state <> 'draft'");
                match scope {
                    Scope::All => {}
                    Scope::Public => {
                        sql.push(" and 1 = 0");
                    }
                    Scope::Limited { areas, .. } => {
                        sql.push(" and ");
                        crate::areas::store::subtree_predicate(sql, "a.area_id", areas);
                    }
                }
            }
        }
    }
}

/// One application, if the viewer may see it.
pub async fn find(
    conn: &mut Conn<'_>,
    viewer: &Viewer,
    id: ApplicationId,
) -> Result<Option<ApplicationRow>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and a.id = ").push_arg(id);
    viewer.restrict(&mut sql);
    Ok(sql.fetch_optional(conn).await?)
}

/// Which applications a queue shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Open items owned by this user.
    Mine(UserId),
    /// Open items nobody owns yet.
    Unowned,
    /// Every open item in scope.
    Open,
    /// Everything in scope, decided ones too.
    All,
}

/// Applications the viewer may see, in a queue; open ones by deadline (overdue first), items
/// not yet accepted after them, newest last.
pub async fn list(
    conn: &mut Conn<'_>,
    viewer: &Viewer,
    queue: Queue,
    cal: &super::Calendar,
) -> Result<Vec<ApplicationRow>> {
    let mut sql = Sql::new(SELECT);
    viewer.restrict(&mut sql);
    let open = " and a.state not in ('approved', 'rejected', 'withdrawn')";
    match queue {
        Queue::Mine(user) => {
            sql.push(open)
                .push(" and a.owner_user_id = ")
                .push_arg(user);
        }
        Queue::Unowned => {
            sql.push(open).push(" and a.owner_user_id is null");
        }
        Queue::Open => {
            sql.push(open);
        }
        Queue::All => {}
    }
    sql.push(" order by a.id desc limit 500");
    let mut rows: Vec<ApplicationRow> = sql.fetch_all(conn).await?;
    rows.sort_by_key(|r| {
        (
            r.state().is_final(),
            r.deadline(cal).unwrap_or(NaiveDate::MAX),
        )
    });
    Ok(rows)
}

/// One transition of an application, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What (`submit`, `accept`, …, `handover`).
    pub action: String,
    /// From.
    pub from_state: String,
    /// To.
    pub to_state: String,
    /// Why (for returns, rejections, handovers).
    pub reason: Option<String>,
}

/// The transitions of an application, oldest first (the caller has checked it may see it).
pub async fn events(conn: &mut Conn<'_>, id: ApplicationId) -> Result<Vec<EventRow>> {
    Ok(Sql::new("select at, actor, action, from_state, to_state, reason from application_events where application_id = $1 order by id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// What an applicant files.
#[derive(Debug, Clone)]
pub struct NewApplication {
    /// Kind.
    pub kind: ApplicationKind,
    /// The organization's facts (proposed, or as they should be after a change).
    pub form: OrgForm,
    /// The supervisory unit that consented, for non-direct establishments.
    pub consent_unit: Option<String>,
    /// The organization concerned, for a change or deregistration.
    pub target: Option<OrgId>,
    /// The applicant declares the charter carries the party-building clause.
    pub charter_party_clause: bool,
}

/// Checks an application and records it as a draft of `applicant`; every problem is a field
/// error. The statutory limit in force today is fixed on the application.
pub async fn create_draft(
    conn: &mut Conn<'_>,
    actor: &crate::audit::Actor,
    applicant: UserId,
    at: Timestamp,
    new: &NewApplication,
) -> Result<ApplicationId> {
    let checked = check(conn, new).await?;
    let limit_key = new.kind.limit_setting(checked.org_kind);
    let limit_days: i64 = crate::settings::store::current(conn, limit_key)
        .await?
        .parse()
        .unwrap_or(60);
    let form = serde_json::to_string(&new.form).map_err(|e| Error::Other(e.to_string()))?;
    let id = Sql::new("insert into applications (kind, state, org_kind, org_name, area_id, org_id, applicant_user_id, form, consent_unit, owner_user_id, limit_days, paused_days, version, created_at, updated_at, charter_party_clause) values ($1, 'draft', $2, $3, $4, $5, $6, $7, $8, null, $9, 0, 1, $10, $10, $11) returning id")
        .arg(new.kind.as_str())
        .arg(checked.org_kind.as_str())
        .arg(checked.name.as_str())
        .arg(checked.area)
        .arg(new.target.map(|o| o.0))
        .arg(applicant)
        .arg(form)
        .arg(new.consent_unit.as_ref().map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()))
        .arg(limit_days)
        .arg(at)
        .arg(new.charter_party_clause)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "application", Some(id), &checked.name),
    )
    .await?;
    Ok(ApplicationId(id))
}

/// The facts of an application that passed every check.
struct Checked {
    org_kind: OrgKind,
    name: String,
    area: AreaId,
}

/// Every check of an application's content, all problems at once as field errors.
async fn check(conn: &mut Conn<'_>, new: &NewApplication) -> Result<Checked> {
    let mut errors = FieldErrors::new();
    // The registration date is set by the decision; an applicant need not give one.
    let mut form = new.form.clone();
    if form.registered_on.trim().is_empty() {
        form.registered_on = china_date(chrono::Utc::now()).to_string();
    }
    let draft = match form.parse() {
        Ok(d) => Some(d),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    let org_kind = draft.as_ref().map(|d| d.kind);
    match (new.kind, org_kind) {
        (ApplicationKind::Filing, Some(k)) if k != OrgKind::Community => {
            errors.add("kind", Msg::new("application.error.filing_is_community"));
        }
        (ApplicationKind::Preparation, Some(k)) if k != OrgKind::SocialGroup => {
            errors.add(
                "kind",
                Msg::new("application.error.preparation_is_social_group"),
            );
        }
        (ApplicationKind::Establishment, Some(OrgKind::SocialGroup)) if new.target.is_none() => {
            errors.add("kind", Msg::new("application.error.needs_preparation"));
        }
        (ApplicationKind::Establishment, Some(OrgKind::Community)) => {
            errors.add(
                "kind",
                Msg::new("application.error.establishment_is_registered"),
            );
        }
        (ApplicationKind::Change | ApplicationKind::Deregistration, _) if new.target.is_none() => {
            errors.add("org", Msg::new("auth.error.unknown_org"));
        }
        _ => {}
    }
    let domain = registry::find_domain(conn, &new.form.domain).await?;
    if let (Some(kind), Some(domain)) = (org_kind, &domain)
        && super::needs_supervisor_consent(new.kind, kind, domain.direct_registration_eligible)
        && new
            .consent_unit
            .as_deref()
            .is_none_or(|u| u.trim().is_empty())
    {
        errors.add(
            "consent_unit",
            Msg::new("application.error.consent_required"),
        );
    }
    let area = crate::areas::store::find_by_code(conn, &new.form.area_code).await?;
    if area.is_none() && !new.form.area_code.trim().is_empty() {
        errors.add("area_code", Msg::new("registry.error.unknown_area"));
    }
    let (Some(draft), Some(area), true) = (draft, area, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    Ok(Checked {
        org_kind: draft.kind,
        name: draft.name,
        area: area.area_id(),
    })
}

/// Replaces the form of a draft or of an application returned for correction (the applicant's
/// own, at the version they saw), checked like a new one.
pub async fn update_form(
    conn: &mut Conn<'_>,
    actor: &crate::audit::Actor,
    applicant: UserId,
    at: Timestamp,
    id: ApplicationId,
    version: i64,
    new: &NewApplication,
) -> Result<()> {
    let row = find(conn, &Viewer::Applicant(applicant), id)
        .await?
        .ok_or(Error::NotFound)?;
    if !matches!(row.state(), State::Draft | State::Returned) {
        return Err(Error::Conflict(Msg::new("application.error.not_in_state")));
    }
    if row.version != version {
        return Err(Error::Conflict(Msg::new("application.error.stale")));
    }
    let checked = check(conn, new).await?;
    let form = serde_json::to_string(&new.form).map_err(|e| Error::Other(e.to_string()))?;
    let changed = Sql::new("update applications set org_kind = $1, org_name = $2, area_id = $3, form = $4, consent_unit = $5, version = version + 1, updated_at = $6, charter_party_clause = $9 where id = $7 and version = $8")
        .arg(checked.org_kind.as_str())
        .arg(checked.name.as_str())
        .arg(checked.area)
        .arg(form)
        .arg(new.consent_unit.as_ref().map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()))
        .arg(at)
        .arg(id)
        .arg(version)
        .arg(new.charter_party_clause)
        .execute(conn)
        .await?;
    if changed == 0 {
        return Err(Error::Conflict(Msg::new("application.error.stale")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("update", "application", Some(id.0), &checked.name),
    )
    .await?;
    Ok(())
}

/// What a transition did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transitioned {
    /// The new state.
    pub state: State,
    /// The organization created or changed by an approval.
    pub org: Option<OrgId>,
}

/// Moves an application by `action`, if `version` is still current and the machine allows it
/// for `who`: records first-inquiry ownership (the first staff member to act becomes owner),
/// pauses and resumes the clock, writes the event and the audit entry, and on approval applies
/// the application to the registry — all in the caller's transaction.
#[expect(clippy::too_many_arguments, reason = "one write, every input it needs")]
pub async fn act(
    conn: &mut Conn<'_>,
    viewer: &Viewer,
    who: Actor,
    actor: &crate::audit::Actor,
    at: Timestamp,
    id: ApplicationId,
    version: i64,
    action: Action,
    reason: Option<&str>,
) -> Result<Transitioned> {
    let row = find(conn, viewer, id).await?.ok_or(Error::NotFound)?;
    if row.version != version {
        return Err(Error::Conflict(Msg::new("application.error.stale")));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if action.needs_reason() && reason.is_none() {
        return Err(Error::field(
            "reason",
            Msg::new("application.error.reason_required"),
        ));
    }
    if matches!(action, Action::Submit | Action::Resubmit) {
        let missing = missing_documents(conn, &row).await?;
        if !missing.is_empty() {
            let mut errors = FieldErrors::new();
            for doc in missing {
                errors.add(
                    doc.as_str(),
                    Msg::new("document.error.missing")
                        .with_key("doc", format!("document.{}", doc.as_str())),
                );
            }
            return Err(Error::Invalid(errors));
        }
    }
    let from = row.state();
    let to =
        transition(row.kind(), from, action, who, row.accepted_at.is_some()).map_err(
            |e| match e {
                TransitionError::NotInThisState => Error::Conflict(e.message()),
                TransitionError::NotForThisActor => Error::Forbidden,
            },
        )?;
    let staff = who != Actor::Applicant;
    let owner = match (row.owner_user_id, staff) {
        (None, true) => actor.user_id,
        (owner, _) => owner,
    };
    let paused_days = match (action, row.returned_at, row.accepted_at) {
        (Action::Resubmit, Some(returned), Some(_)) => {
            row.paused_days + (china_date(at) - china_date(returned)).num_days()
        }
        _ => row.paused_days,
    };
    let stamp = |a: Action, col: Option<Timestamp>| if action == a { Some(at) } else { col };
    let changed = Sql::new("update applications set state = $1, owner_user_id = $2, paused_days = $3, submitted_at = $4, accepted_at = $5, returned_at = $6, decided_at = $7, version = version + 1, updated_at = $8 where id = $9 and version = $10")
        .arg(to.as_str())
        .arg(owner)
        .arg(paused_days)
        .arg(stamp(Action::Submit, row.submitted_at))
        .arg(stamp(Action::Accept, row.accepted_at))
        .arg(if action == Action::Return { Some(at) } else if action == Action::Resubmit { None } else { row.returned_at })
        .arg(if matches!(action, Action::Approve | Action::Reject) { Some(at) } else { row.decided_at })
        .arg(at)
        .arg(id)
        .arg(version)
        .execute(conn)
        .await?;
    if changed == 0 {
        return Err(Error::Conflict(Msg::new("application.error.stale")));
    }
    Sql::new("insert into application_events (application_id, at, actor, actor_user_id, action, from_state, to_state, reason) values ($1, $2, $3, $4, $5, $6, $7, $8)")
        .arg(id)
        .arg(at)
        .arg(actor.name.as_str())
        .arg(actor.user_id)
        .arg(action.as_str())
        .arg(from.as_str())
        .arg(to.as_str())
        .arg(reason)
        .execute(conn)
        .await?;
    let summary = format!("{} → {}", from.as_str(), to.as_str());
    append(
        conn,
        at,
        actor,
        NewEntry::of(action.as_str(), "application", Some(id.0), &summary),
    )
    .await?;
    let org = if to == State::Approved {
        let org = apply(conn, actor, at, &row).await?;
        // A group incubated before it registered keeps its incubation history (SPEC §3.8).
        crate::incubation::store::stays::link_registered(conn, at, row.id, org).await?;
        Some(org)
    } else {
        None
    };
    Ok(Transitioned { state: to, org })
}

/// Writes an approved application to the registry through its own store (so history and audit
/// follow): a new organization with a generated code, a party-coverage task and the applicant's
/// organization account tied to it; or the change; or the deregistration.
async fn apply(
    conn: &mut Conn<'_>,
    actor: &crate::audit::Actor,
    at: Timestamp,
    row: &ApplicationRow,
) -> Result<OrgId> {
    let kind = row.kind();
    let reason = format!("{} #{}", kind.as_str(), row.id);
    // The registration (or filing) date is the day of the decision, not what the applicant typed.
    let mut form = row.form();
    form.registered_on = china_date(at).to_string();
    match kind {
        // A social group after its preparation: the group on record becomes a registered one,
        // with its code, its registration date and its party-coverage task.
        ApplicationKind::Establishment if row.org_id.is_some() => {
            let org = OrgId(row.org_id.ok_or(Error::NotFound)?);
            let current = registry::find(conn, &Scope::All, org)
                .await?
                .ok_or(Error::NotFound)?;
            let division = crate::settings::store::current(conn, "division_code").await?;
            let code = registry::allocate_uscc(conn, current.kind(), &division).await?;
            form.uscc = code.as_str().to_owned();
            form.status = "active".into();
            let draft = form.parse().map_err(Error::Invalid)?;
            registry::update(
                conn,
                &Scope::All,
                actor,
                at,
                org,
                current.version,
                &draft,
                Some(&reason),
            )
            .await?;
            open_party_task(conn, org, row.id, at).await?;
            Ok(org)
        }
        ApplicationKind::Preparation | ApplicationKind::Establishment | ApplicationKind::Filing => {
            if kind == ApplicationKind::Preparation {
                form.status = "preparing".into();
            }
            let draft = form.parse().map_err(Error::Invalid)?;
            let division = crate::settings::store::current(conn, "division_code").await?;
            let created = registry::create(conn, &Scope::All, actor, at, &draft, &division).await?;
            let org = created.org_id();
            Sql::new("update applications set org_id = $1 where id = $2")
                .arg(org)
                .arg(row.id)
                .execute(conn)
                .await?;
            if kind != ApplicationKind::Preparation {
                open_party_task(conn, org, row.id, at).await?;
            }
            Sql::new("update user_roles set org_id = $1 where user_id = $2 and role = 'org' and org_id is null")
                .arg(org)
                .arg(row.applicant_user_id)
                .execute(conn)
                .await?;
            Ok(org)
        }
        ApplicationKind::Change | ApplicationKind::Deregistration => {
            let org = OrgId(row.org_id.ok_or(Error::NotFound)?);
            let current = registry::find(conn, &Scope::All, org)
                .await?
                .ok_or(Error::NotFound)?;
            // Start from the record as it stands: what an applicant cannot ask to change (code,
            // kind, registration date, status, grade, brand) stays as it is.
            let mut form = OrgForm::from_row(&current);
            if kind == ApplicationKind::Change {
                let asked = row.form();
                form = OrgForm {
                    name: asked.name,
                    domain: asked.domain,
                    direct_registration: asked.direct_registration,
                    supervisory_unit: asked.supervisory_unit,
                    legal_representative: asked.legal_representative,
                    contact_person: asked.contact_person,
                    contact_phone: asked.contact_phone,
                    address: asked.address,
                    area_code: asked.area_code,
                    founded_on: asked.founded_on,
                    registered_capital_yuan: asked.registered_capital_yuan,
                    members: asked.members,
                    staff: asked.staff,
                    business_scope: asked.business_scope,
                    ..form
                };
            } else {
                form.status = "deregistered".into();
            }
            let draft = form.parse().map_err(Error::Invalid)?;
            match registry::update(
                conn,
                &Scope::All,
                actor,
                at,
                org,
                current.version,
                &draft,
                Some(&reason),
            )
            .await?
            {
                Updated::Changed(_) | Updated::Unchanged => Ok(org),
            }
        }
    }
}

/// 成立一个，党的机构和工作就覆盖一个: opens the party working committee's coverage task.
async fn open_party_task(
    conn: &mut Conn<'_>,
    org: OrgId,
    application: i64,
    at: Timestamp,
) -> Result<()> {
    Sql::new("insert into party_tasks (org_id, application_id, opened_at, closed_at) values ($1, $2, $3, null)")
        .arg(org)
        .arg(application)
        .arg(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Hands an application to another staff member (an explicit, recorded change of owner).
pub async fn hand_over(
    conn: &mut Conn<'_>,
    viewer: &Viewer,
    actor: &crate::audit::Actor,
    at: Timestamp,
    id: ApplicationId,
    to: UserId,
    reason: &str,
) -> Result<()> {
    let row = find(conn, viewer, id).await?.ok_or(Error::NotFound)?;
    if row.state().is_final() {
        return Err(Error::Conflict(Msg::new("application.error.not_in_state")));
    }
    Sql::new("update applications set owner_user_id = $1, version = version + 1 where id = $2")
        .arg(to)
        .arg(id)
        .execute(conn)
        .await?;
    Sql::new("insert into application_events (application_id, at, actor, actor_user_id, action, from_state, to_state, reason) values ($1, $2, $3, $4, 'handover', $5, $5, $6)")
        .arg(id)
        .arg(at)
        .arg(actor.name.as_str())
        .arg(actor.user_id)
        .arg(row.state.as_str())
        .arg(reason)
        .execute(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("handover", "application", Some(id.0), reason),
    )
    .await?;
    Ok(())
}

/// Open party-coverage tasks (for the party working committee), oldest first.
pub async fn open_party_tasks(conn: &mut Conn<'_>, scope: &Scope) -> Result<Vec<(i64, String)>> {
    let mut sql = Sql::new(
        "select o.id, o.name from party_tasks t join organizations o on o.id = t.org_id where t.closed_at is null",
    );
    scope.restrict_orgs(&mut sql, "o");
    sql.push(" order by t.id");
    Ok(sql.fetch_all(conn).await?)
}

#[derive(sqlx::FromRow)]
struct DecidedRow {
    kind: String,
    accepted_at: Timestamp,
    decided_at: Timestamp,
    paused_days: i64,
    limit_days: i64,
}

/// Processing-time figures of the applications decided within the viewer's scope, counted from
/// the records each time.
pub async fn processing_figures(
    conn: &mut Conn<'_>,
    viewer: &Viewer,
    calendar: &super::Calendar,
) -> Result<Vec<super::Figure>> {
    let mut sql = Sql::new(
        "select a.kind, a.accepted_at, a.decided_at, a.paused_days, a.limit_days from applications a where a.state in ('approved', 'rejected') and a.accepted_at is not null and a.decided_at is not null",
    );
    viewer.restrict(&mut sql);
    let rows: Vec<DecidedRow> = sql.fetch_all(conn).await?;
    let decided: Vec<super::Decided> = rows
        .into_iter()
        .map(|r| super::Decided {
            kind: ApplicationKind::parse(&r.kind).unwrap_or(ApplicationKind::Establishment),
            accepted_on: china_date(r.accepted_at),
            decided_on: china_date(r.decided_at),
            paused_days: r.paused_days,
            limit_days: r.limit_days,
        })
        .collect();
    Ok(super::figures(&decided, calendar))
}

/// A decided or open application of the past, as the demo (or a migration of old records)
/// brings it in: its transitions happened at the times given.
#[derive(Debug, Clone)]
pub struct PastApplication {
    /// Kind.
    pub kind: ApplicationKind,
    /// The organization's form.
    pub form: OrgForm,
    /// The organization it concerns or created (None while open).
    pub org: Option<OrgId>,
    /// Where it is.
    pub area: AreaId,
    /// Who filed it.
    pub applicant: UserId,
    /// Who owns it (first inquiry).
    pub owner: Option<UserId>,
    /// Its state now.
    pub state: State,
    /// Submitted at.
    pub submitted_at: Timestamp,
    /// Accepted at.
    pub accepted_at: Option<Timestamp>,
    /// Decided at.
    pub decided_at: Option<Timestamp>,
    /// Days it spent returned for correction (with a return event if more than zero).
    pub paused_days: i64,
    /// The limit that applied.
    pub limit_days: i64,
}

/// Records a past application with its events as they happened (for the demo history).
pub async fn insert_past(
    conn: &mut Conn<'_>,
    actor_name: &str,
    past: &PastApplication,
) -> Result<ApplicationId> {
    let form = serde_json::to_string(&past.form).map_err(|e| Error::Other(e.to_string()))?;
    let org_kind = OrgKind::parse(&past.form.kind).unwrap_or(OrgKind::Community);
    let updated = past
        .decided_at
        .or(past.accepted_at)
        .unwrap_or(past.submitted_at);
    let id = Sql::new("insert into applications (kind, state, org_kind, org_name, area_id, org_id, applicant_user_id, form, consent_unit, owner_user_id, limit_days, paused_days, submitted_at, accepted_at, returned_at, decided_at, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, null, $15, 1, $13, $16) returning id")
        .arg(past.kind.as_str())
        .arg(past.state.as_str())
        .arg(org_kind.as_str())
        .arg(past.form.name.as_str())
        .arg(past.area)
        .arg(past.org.map(|o| o.0))
        .arg(past.applicant)
        .arg(form)
        .arg(Some(past.form.supervisory_unit.clone()).filter(|u| !u.is_empty()))
        .arg(past.owner.map(|o| o.0))
        .arg(past.limit_days)
        .arg(past.paused_days)
        .arg(past.submitted_at)
        .arg(past.accepted_at)
        .arg(past.decided_at)
        .arg(updated)
        .fetch_i64(conn)
        .await?;
    let mut events = vec![(
        past.submitted_at,
        "submit",
        State::Draft,
        State::Submitted,
        None,
    )];
    if let Some(accepted) = past.accepted_at {
        events.push((accepted, "accept", State::Submitted, State::Accepted, None));
        events.push((
            accepted,
            "start_review",
            State::Accepted,
            State::UnderReview,
            None,
        ));
        if past.paused_days > 0 {
            let returned = accepted + chrono::Duration::days(2);
            events.push((
                returned,
                "return",
                State::UnderReview,
                State::Returned,
                Some("请补充住所使用证明"),
            ));
            events.push((
                returned + chrono::Duration::days(past.paused_days),
                "resubmit",
                State::Returned,
                State::UnderReview,
                None,
            ));
        }
    }
    if let Some(decided) = past.decided_at {
        events.push((decided, "approve", State::UnderReview, past.state, None));
    }
    for (at, action, from, to, reason) in events {
        Sql::new("insert into application_events (application_id, at, actor, actor_user_id, action, from_state, to_state, reason) values ($1, $2, $3, null, $4, $5, $6, $7)")
            .arg(id)
            .arg(at)
            .arg(actor_name)
            .arg(action)
            .arg(from.as_str())
            .arg(to.as_str())
            .arg(reason)
            .execute(conn)
            .await?;
    }
    Ok(ApplicationId(id))
}

/// A stored document, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AttachmentMeta {
    /// Id.
    pub id: i64,
    /// What it is (`charter`, …).
    pub doc_type: String,
    /// The name it was uploaded with (cleaned).
    pub filename: String,
    /// Its type, judged by content.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the content.
    pub sha256: String,
    /// When.
    pub uploaded_at: Timestamp,
}

/// The documents of an application (the caller has checked it may see it).
pub async fn attachments(conn: &mut Conn<'_>, id: ApplicationId) -> Result<Vec<AttachmentMeta>> {
    Ok(Sql::new("select id, doc_type, filename, content_type, size, sha256, uploaded_at from attachments where application_id = $1 order by id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// The documents the application still lacks before it can be submitted.
pub async fn missing_documents(
    conn: &mut Conn<'_>,
    row: &ApplicationRow,
) -> Result<Vec<super::documents::DocType>> {
    let form = row.form();
    let eligible = registry::find_domain(conn, &form.domain)
        .await?
        .is_some_and(|d| d.direct_registration_eligible);
    let org_kind = OrgKind::parse(&row.org_kind).unwrap_or(OrgKind::Community);
    let needs_consent = super::needs_supervisor_consent(row.kind(), org_kind, eligible);
    let have: Vec<String> = attachments(conn, ApplicationId(row.id))
        .await?
        .into_iter()
        .map(|a| a.doc_type)
        .collect();
    Ok(
        super::documents::required(row.kind(), org_kind, needs_consent)
            .into_iter()
            .filter(|d| !have.iter().any(|h| h == d.as_str()))
            .collect(),
    )
}

/// Stores a document (already checked: size, type, scan) on the applicant's own application
/// while it is a draft or returned for correction.
#[expect(clippy::too_many_arguments, reason = "one write, every input it needs")]
pub async fn attach(
    conn: &mut Conn<'_>,
    store: &super::documents::DocumentStore,
    actor: &crate::audit::Actor,
    applicant: UserId,
    at: Timestamp,
    id: ApplicationId,
    doc_type: super::documents::DocType,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<i64> {
    let row = find(conn, &Viewer::Applicant(applicant), id)
        .await?
        .ok_or(Error::NotFound)?;
    if !matches!(row.state(), State::Draft | State::Returned) {
        return Err(Error::Conflict(Msg::new("application.error.not_in_state")));
    }
    let aid = attach_unchecked(
        conn,
        store,
        id,
        doc_type,
        filename,
        content_type,
        bytes,
        applicant,
        at,
    )
    .await?;
    let summary = format!("{} {filename}", doc_type.as_str());
    append(
        conn,
        at,
        actor,
        NewEntry::of("attach", "application", Some(id.0), &summary),
    )
    .await?;
    Ok(aid)
}

/// Stores a document whatever the application's state (the demo's open applications); the
/// caller has checked the bytes.
#[expect(clippy::too_many_arguments, reason = "one row, every column it needs")]
pub async fn attach_unchecked(
    conn: &mut Conn<'_>,
    store: &super::documents::DocumentStore,
    id: ApplicationId,
    doc_type: super::documents::DocType,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
    uploaded_by: UserId,
    at: Timestamp,
) -> Result<i64> {
    let sha = crate::auth::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let size = bytes.len() as i64;
    let (storage, data) = match store {
        super::documents::DocumentStore::Database => ("db", bytes),
        super::documents::DocumentStore::Directory(dir) => {
            let (dir, hash) = (dir.clone(), sha.clone());
            tokio::task::spawn_blocking(move || {
                super::documents::DocumentStore::write_file(&dir, &hash, &bytes)
            })
            .await
            .map_err(|e| Error::Other(e.to_string()))?
            .map_err(|e| Error::Other(format!("upload directory: {e}")))?;
            ("dir", Vec::new())
        }
    };
    Ok(Sql::new("insert into attachments (application_id, doc_type, filename, content_type, size, sha256, storage, data, uploaded_by, uploaded_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id")
        .arg(id)
        .arg(doc_type.as_str())
        .arg(filename)
        .arg(content_type)
        .arg(size)
        .arg(sha.as_str())
        .arg(storage)
        .arg(data)
        .arg(uploaded_by)
        .arg(at)
        .fetch_i64(conn)
        .await?)
}

#[derive(sqlx::FromRow)]
struct AttachmentData {
    filename: String,
    content_type: String,
    sha256: String,
    storage: String,
    data: Vec<u8>,
}

/// A document's name, type and bytes, if the viewer may see its application.
pub async fn attachment_data(
    conn: &mut Conn<'_>,
    store: &super::documents::DocumentStore,
    viewer: &Viewer,
    id: ApplicationId,
    attachment: i64,
) -> Result<Option<(String, String, Vec<u8>)>> {
    if find(conn, viewer, id).await?.is_none() {
        return Ok(None);
    }
    let row: Option<AttachmentData> = Sql::new("select filename, content_type, sha256, storage, data from attachments where id = $1 and application_id = $2")
        .arg(attachment)
        .arg(id)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let data = match (row.storage.as_str(), store) {
        ("dir", super::documents::DocumentStore::Directory(dir)) => {
            let path = super::documents::DocumentStore::path(dir, &row.sha256);
            tokio::task::spawn_blocking(move || std::fs::read(path))
                .await
                .map_err(|e| Error::Other(e.to_string()))?
                .map_err(|e| Error::Other(format!("upload directory: {e}")))?
        }
        ("dir", super::documents::DocumentStore::Database) => {
            return Err(Error::Other(
                "document kept in an upload directory that is not configured".into(),
            ));
        }
        _ => row.data,
    };
    Ok(Some((row.filename, row.content_type, data)))
}

/// The bureau's calendar for statutory limits, from the settings in force today.
pub async fn calendar(conn: &mut Conn<'_>) -> Result<super::Calendar> {
    let setting = |text: String| super::Calendar::parse_dates(&text).unwrap_or_default();
    Ok(super::Calendar {
        working_days: crate::settings::store::current(conn, "limit_day_count").await? == "working",
        holidays: setting(crate::settings::store::current(conn, "holidays").await?),
        makeup_workdays: setting(crate::settings::store::current(conn, "makeup_workdays").await?),
    })
}
