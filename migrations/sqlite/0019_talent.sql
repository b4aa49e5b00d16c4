-- Talent (SPEC §3.10): social workers (社会工作者) and the professionals the centre recruits
-- (专业人才), their placements with the organizations they serve, and training sessions
-- (社会组织大讲堂 and others) with sign-ups and attendance.
-- Keep in step with migrations/postgres/0019_talent.sql.
create table practitioners (
    id integer primary key,
    kind text not null check (kind in ('social_worker', 'professional')),
    name text not null,
    qualification text not null check (qualification in ('none', 'assistant', 'intermediate', 'senior')),
    employer_kind text not null check (employer_kind in ('centre', 'agency')),
    employer_name text not null,
    role text not null,
    area_id integer not null references areas (id),
    phone text not null,
    started_on date not null,
    ended_on date,
    version integer not null,
    created_at text not null,
    updated_at text not null
);
create index practitioners_area on practitioners (area_id, kind);

create table placements (
    id integer primary key,
    practitioner_id integer not null references practitioners (id),
    org_id integer not null references organizations (id),
    started_on date not null,
    ended_on date
);
create index placements_practitioner on placements (practitioner_id, ended_on);
create index placements_org on placements (org_id, ended_on);

create table trainings (
    id integer primary key,
    series text not null,
    topic text not null,
    speaker text not null,
    held_on date not null,
    minutes integer not null check (minutes > 0),
    place text not null,
    capacity integer not null check (capacity > 0),
    version integer not null,
    created_at text not null,
    updated_at text not null
);
create index trainings_held_on on trainings (held_on);

create table training_signups (
    id integer primary key,
    training_id integer not null references trainings (id),
    org_id integer not null references organizations (id),
    attendee text not null,
    attended boolean,
    signed_up_at text not null,
    signed_up_by text not null,
    unique (training_id, org_id, attendee)
);
create index training_signups_org on training_signups (org_id);
