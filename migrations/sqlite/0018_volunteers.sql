-- Volunteers, their service records and the verification chain, donations, service bases,
-- brand organizations' reasons and figures, and beneficiaries (SPEC §3.11, DOMAIN §9).
-- Hours are kept in tenths (an hour and a half is 15) so sums stay exact on both databases.
-- Keep in step with migrations/postgres/0018_volunteers.sql.

-- 志愿者: personal data minimised — the ID number only as a salted hash and a masked form.
create table volunteers (
    id integer primary key,
    org_id integer not null references organizations (id),
    area_id integer not null references areas (id),
    name text not null,
    gender text check (gender in ('male', 'female')),
    id_hash text not null,
    id_masked text not null,
    phone text,
    registered_on date not null,
    created_at text not null
);
create unique index volunteers_org_person on volunteers (org_id, id_hash);
create index volunteers_area on volunteers (area_id);

-- 志愿服务记录: recorded → confirmed by the organization → verified by the area office.
create table volunteer_services (
    id integer primary key,
    volunteer_id integer not null references volunteers (id),
    org_id integer not null references organizations (id),
    project text not null,
    domain text not null,
    served_on date not null,
    tenth_hours integer not null check (tenth_hours > 0 and tenth_hours <= 240),
    state text not null check (state in ('recorded', 'confirmed', 'verified', 'rejected')),
    recorded_by text not null,
    recorded_at text not null,
    confirmed_by text,
    confirmed_at text,
    verified_by text,
    verified_at text,
    rejected_by text,
    rejected_at text,
    reject_reason text
);
create index volunteer_services_volunteer on volunteer_services (volunteer_id, served_on);
create index volunteer_services_org on volunteer_services (org_id, state);

-- 捐赠: money or goods (valued) received or given by an organization.
create table donations (
    id integer primary key,
    org_id integer not null references organizations (id),
    direction text not null check (direction in ('received', 'given')),
    counterpart text not null,
    counterpart_kind text not null check (counterpart_kind in ('individual', 'organization')),
    project text not null,
    kind text not null check (kind in ('money', 'goods')),
    goods text,
    amount_fen integer not null check (amount_fen > 0),
    donated_on date not null,
    purpose text not null,
    recorded_by text not null,
    created_at text not null
);
create index donations_org on donations (org_id, direction);

-- 服务基地: libraries, elderly homes, care homes for children with disabilities, …
create table service_bases (
    id integer primary key,
    name text not null,
    kind text not null,
    address text not null,
    area_id integer not null references areas (id),
    created_at text not null
);
create index service_bases_area on service_bases (area_id);

create table service_base_orgs (
    base_id integer not null references service_bases (id),
    org_id integer not null references organizations (id),
    primary key (base_id, org_id)
);

-- 品牌社会组织: why an organization is a brand, and the figures shown on its profile. A
-- figure either carries a reported value or names a measure counted from the records.
create table brand_profiles (
    org_id integer primary key references organizations (id),
    reasons text not null,
    updated_by text not null,
    updated_at text not null
);

create table brand_figures (
    id integer primary key,
    org_id integer not null references organizations (id),
    label text not null,
    value integer,
    measure text check (measure in ('classes', 'students', 'beneficiaries', 'verified_hours', 'donations_yuan', 'volunteers')),
    project text,
    unit text not null,
    year integer,
    check (value is not null or measure is not null)
);
create index brand_figures_org on brand_figures (org_id);

-- 受益对象: groups (a class of a senior university, a service group of a programme) and the
-- people enrolled in them, named only by a masked label.
create table beneficiary_groups (
    id integer primary key,
    org_id integer not null references organizations (id),
    project text not null,
    name text not null,
    kind text not null check (kind in ('class', 'service')),
    year integer not null
);
create index beneficiary_groups_org on beneficiary_groups (org_id, project);

create table beneficiaries (
    id integer primary key,
    group_id integer not null references beneficiary_groups (id),
    label text not null,
    category text not null check (category in ('child', 'youth', 'elderly', 'disabled', 'other')),
    enrolled_on date not null
);
create index beneficiaries_group on beneficiaries (group_id);
