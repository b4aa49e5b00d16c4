//! 志愿服务记录 import: one row per volunteer, project and day, typically carried over from
//! another volunteering platform. The volunteer is registered with the organization on the
//! first row that names them (the ID number kept only hashed and masked, as the registration
//! form keeps it), the service is recorded through `volunteers::store::record_service` (so the
//! 24-hours-a-day rule holds across the file and the records already there), and a row that
//! says 已确认 or 已核实 takes the verification chain's steps, each audited under the
//! importer's name. A row is matched on volunteer, project and day.

use super::{Cells, Column, ORG_COLUMN, OrgRef, RecordKind, Written};
use crate::audit::Actor;
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors};
use crate::i18n::Msg;
use crate::volunteers::store;
use crate::volunteers::{
    NewService, NewVolunteer, SERVICE_DOMAINS, ServiceForm, ServiceState, Step, VolunteerForm,
    id_number_hash,
};
use chrono::NaiveDate;
use std::sync::OnceLock;

/// The columns of a volunteer service file.
pub const COLUMNS: &[Column] = &[
    ORG_COLUMN,
    Column::free("name", "volunteers.field.name", true),
    Column::free("id_number", "volunteers.field.id_number", true),
    Column::choice(
        "gender",
        "volunteers.field.gender",
        false,
        "volunteers.gender",
        &["male", "female"],
    ),
    Column::free("phone", "volunteers.field.phone", false),
    Column::free("project", "volunteers.field.project", true),
    Column::choice(
        "domain",
        "volunteers.field.domain",
        true,
        "volunteers.domain",
        &SERVICE_DOMAINS,
    ),
    Column::free("served_on", "volunteers.field.served_on", true),
    Column::free("hours", "volunteers.field.hours", true),
    Column::choice(
        "state",
        "volunteers.field.state",
        false,
        "volunteers.state",
        &["recorded", "confirmed", "verified"],
    ),
];

/// A checked row: who served, the service, and how far along the chain it already is.
pub struct ServiceRow {
    /// The volunteer (registered from this row if the organization does not have them yet).
    pub volunteer: NewVolunteer,
    /// The service.
    pub service: NewService,
    /// Recorded (default), confirmed or verified.
    pub state: ServiceState,
}

/// Volunteer service records.
pub struct VolunteerServices {
    /// The installation's ID-number salt, read once.
    salt: OnceLock<String>,
    /// Whether the importer may verify hours (the area office), so rows may say 已核实.
    verify_hours: bool,
}

/// How far along the chain a state is.
fn rank(state: ServiceState) -> u8 {
    match state {
        ServiceState::Recorded | ServiceState::Rejected => 0,
        ServiceState::Confirmed => 1,
        ServiceState::Verified => 2,
    }
}

impl VolunteerServices {
    /// The kind for an importer who may (`verify_hours`) or may not verify hours.
    pub fn new(verify_hours: bool) -> VolunteerServices {
        VolunteerServices {
            salt: OnceLock::new(),
            verify_hours,
        }
    }

    async fn salt(&self, conn: &mut Conn<'_>) -> Result<String, Error> {
        if let Some(salt) = self.salt.get() {
            return Ok(salt.clone());
        }
        let salt = store::salt(conn).await?;
        Ok(self.salt.get_or_init(|| salt).clone())
    }

    /// The volunteer of `org` with this row's ID number, registered now if new; a name that
    /// differs from the one registered is refused (the ID number or the name is wrong).
    async fn volunteer(
        &self,
        conn: &mut Conn<'_>,
        actor: &Actor,
        at: Timestamp,
        org: &OrgRef,
        v: &NewVolunteer,
    ) -> Result<(i64, bool), Error> {
        let hash = id_number_hash(&self.salt(conn).await?, &v.id_number);
        let found: Option<(i64, String)> =
            Sql::new("select id, name from volunteers where org_id = $1 and id_hash = $2")
                .arg(org.id)
                .arg(hash)
                .fetch_optional(conn)
                .await?;
        match found {
            Some((id, name)) if name == v.name => Ok((id, false)),
            Some((_, name)) => Err(Error::field(
                "name",
                Msg::new("imports.error.volunteer_name").with("name", name),
            )),
            None => Ok((
                store::create_volunteer(conn, actor, at, org.id, org.area_id, v).await?,
                true,
            )),
        }
    }
}

impl RecordKind for VolunteerServices {
    type Row = ServiceRow;

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn parse(
        &self,
        _org: &OrgRef,
        cells: &Cells<'_>,
        today: NaiveDate,
        errors: &mut FieldErrors,
    ) -> Option<ServiceRow> {
        let gender = cells.choice("gender", errors);
        let domain = cells.choice("domain", errors);
        let state = match cells.choice("state", errors).as_str() {
            "" => ServiceState::Recorded,
            s => ServiceState::parse(s).unwrap_or(ServiceState::Recorded),
        };
        if state == ServiceState::Verified && !self.verify_hours {
            errors.add("state", Msg::new("imports.error.verify_not_allowed"));
        }
        let served_on = cells.get("served_on");
        let volunteer = VolunteerForm {
            name: cells.get("name"),
            gender,
            id_number: cells.get("id_number"),
            phone: cells.get("phone"),
            org: String::new(),
            // Registered with the organization no later than the first service it records.
            registered_on: served_on.clone(),
        }
        .parse(today);
        let service = ServiceForm {
            project: cells.get("project"),
            domain,
            served_on,
            hours: cells.get("hours"),
        }
        .parse(today);
        match (volunteer, service) {
            (Ok(volunteer), Ok(service)) if errors.is_empty() => Some(ServiceRow {
                volunteer,
                service,
                state,
            }),
            (volunteer, service) => {
                // served_on feeds both forms: report it once, under the service.
                let volunteer = volunteer.err().map(|e| e.0).unwrap_or_default();
                let service = service.err().map(|e| e.0).unwrap_or_default();
                for (field, msg) in volunteer.into_iter().chain(service) {
                    if field != "registered_on" && errors.get(field).is_none() {
                        errors.add(field, msg);
                    }
                }
                None
            }
        }
    }

    fn key(&self, org: &OrgRef, row: &ServiceRow) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            org.id, row.volunteer.id_number, row.service.project, row.service.served_on
        )
    }

    async fn write(
        &self,
        conn: &mut Conn<'_>,
        actor: &Actor,
        at: Timestamp,
        org: &OrgRef,
        row: &ServiceRow,
    ) -> Result<Written, Error> {
        let (volunteer_id, new_volunteer) =
            self.volunteer(conn, actor, at, org, &row.volunteer).await?;
        let s = &row.service;
        let existing: Option<(i64, i64, String, String)> = Sql::new("select id, tenth_hours, domain, state from volunteer_services where volunteer_id = $1 and project = $2 and served_on = $3 and state <> 'rejected'")
            .arg(volunteer_id)
            .arg(s.project.as_str())
            .arg(s.served_on)
            .fetch_optional(conn)
            .await?;
        let (id, mut state, created) = match existing {
            Some((_, tenths, domain, _)) if tenths != s.tenth_hours || domain != s.domain => {
                return Err(Error::field(
                    "hours",
                    Msg::new("imports.error.service_differs")
                        .with("hours", crate::volunteers::hours(tenths)),
                ));
            }
            Some((id, _, _, state)) => (
                id,
                ServiceState::parse(&state).unwrap_or(ServiceState::Recorded),
                false,
            ),
            None => {
                let volunteer = store::volunteer(conn, &Scope::All, volunteer_id).await?;
                let id = store::record_service(conn, actor, at, &volunteer, s).await?;
                (id, ServiceState::Recorded, true)
            }
        };
        let mut stepped = false;
        while rank(state) < rank(row.state) {
            let step = if state == ServiceState::Recorded {
                Step::Confirm
            } else {
                Step::Verify
            };
            let record = store::service(conn, &Scope::All, id).await?;
            store::take_step(conn, actor, at, &record, step, "").await?;
            state = step.next(state).unwrap_or(ServiceState::Verified);
            stepped = true;
        }
        Ok(match (created || new_volunteer, stepped) {
            (true, _) => Written::Created,
            (false, true) => Written::Updated,
            (false, false) => Written::Unchanged,
        })
    }
}
