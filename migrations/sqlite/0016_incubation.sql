-- Incubation (三级孵化体系, SPEC §3.8): incubators at three levels, their calls for entry
-- (入壳征集), applications to a call, incubation stays (入孵) with the services given, ending in
-- graduation (出壳) or exit (退出). A stay of a group not yet registered is linked to its
-- organization through the establishment application chosen for it (registration_application_id).
-- Keep in step with migrations/postgres/0016_incubation.sql.
create table incubators (
    id integer primary key,
    name text not null,
    level text not null check (level in ('district', 'functional', 'street')),
    area_id integer not null references areas (id),
    focus text not null,
    capacity integer not null check (capacity > 0),
    address text not null,
    operator text not null,
    version integer not null,
    created_at text not null,
    updated_at text not null
);
create index incubators_area on incubators (area_id);

create table incubation_calls (
    id integer primary key,
    incubator_id integer not null references incubators (id),
    title text not null,
    opens_on date not null,
    closes_on date not null,
    places integer not null check (places > 0),
    created_at text not null
);
create index incubation_calls_incubator on incubation_calls (incubator_id);

create table incubation_applications (
    id integer primary key,
    call_id integer not null references incubation_calls (id),
    org_id integer references organizations (id),
    group_name text not null,
    contact text not null,
    domain text not null,
    plan text not null,
    applicant_user_id integer references users (id),
    state text not null check (state in ('pending', 'accepted', 'rejected')),
    reason text,
    decided_by text,
    decided_at text,
    created_at text not null
);
create index incubation_applications_call on incubation_applications (call_id, state);

create table incubation_stays (
    id integer primary key,
    incubator_id integer not null references incubators (id),
    application_id integer references incubation_applications (id),
    org_id integer references organizations (id),
    group_name text not null,
    domain text not null,
    entered_on date not null,
    planned_end_on date not null,
    ended_on date,
    outcome text check (outcome in ('graduated', 'exited')),
    end_reason text,
    registration_application_id integer references applications (id),
    created_at text not null,
    updated_at text not null
);
create index incubation_stays_incubator on incubation_stays (incubator_id, ended_on);
create index incubation_stays_org on incubation_stays (org_id);
create index incubation_stays_registration on incubation_stays (registration_application_id);

create table incubation_services (
    id integer primary key,
    stay_id integer not null references incubation_stays (id),
    kind text not null check (kind in ('venue', 'training', 'registration', 'subsidy')),
    given_on date not null,
    description text not null,
    amount_fen integer check (amount_fen is null or amount_fen > 0),
    created_at text not null
);
create index incubation_services_stay on incubation_services (stay_id);
