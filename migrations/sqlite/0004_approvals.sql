-- Applications (establishment, change, deregistration, filing), their transitions, and the
-- party-coverage tasks an approved establishment opens. Keep in step with
-- migrations/postgres/0004_approvals.sql.
create table applications (
    id integer primary key,
    kind text not null check (kind in ('preparation', 'establishment', 'change', 'deregistration', 'filing')),
    state text not null check (state in ('draft', 'submitted', 'accepted', 'under_review', 'returned', 'approved', 'rejected', 'withdrawn')),
    org_kind text not null,
    org_name text not null,
    area_id integer not null references areas (id),
    org_id integer references organizations (id),
    applicant_user_id integer not null references users (id),
    form text not null,
    consent_unit text,
    owner_user_id integer references users (id),
    limit_days integer not null,
    paused_days integer not null,
    submitted_at text,
    accepted_at text,
    returned_at text,
    decided_at text,
    version integer not null,
    created_at text not null,
    updated_at text not null
);
create index applications_state on applications (state, owner_user_id);
create index applications_applicant on applications (applicant_user_id);
create index applications_area on applications (area_id);

create table application_events (
    id integer primary key,
    application_id integer not null references applications (id),
    at text not null,
    actor text not null,
    actor_user_id integer,
    action text not null,
    from_state text not null,
    to_state text not null,
    reason text
);
create index application_events_app on application_events (application_id, id);

-- 成立一个，党的机构和工作就覆盖一个: every approved new organization opens a task for the party
-- working committee; the party-building module closes it when coverage is recorded.
create table party_tasks (
    id integer primary key,
    org_id integer not null references organizations (id),
    application_id integer references applications (id),
    opened_at text not null,
    closed_at text
);
create index party_tasks_open on party_tasks (closed_at, org_id);
