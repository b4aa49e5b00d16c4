-- The party-building information database (党建信息数据库, SPEC §3.6, DOMAIN §6): party
-- organizations inside social organizations and the organizations each covers, party-affairs
-- cadres, party-building instructors and their organizations, allowance payments, the activity
-- log and the working-mechanism checklist.
-- Keep in step with migrations/postgres/0013_party.sql.

-- 社会组织党组织. `org_id` is the organization it sits in (for a joint branch, the lead one);
-- every organization it covers, the lead included, is in party_org_orgs.
create table party_orgs (
    id integer primary key,
    name text not null,
    form text not null check (form in ('independent', 'joint', 'affiliated', 'dispatched')),
    level text not null check (level in ('branch', 'branch_committee', 'general_branch', 'committee')),
    org_id integer not null references organizations (id),
    approved_by text not null,
    established_on date not null,
    secretary text not null,
    committee text not null,
    full_members integer not null,
    probationary_members integer not null,
    term_started_on date,
    next_election_on date,
    charter_clause boolean not null,
    dissolved_on date,
    version integer not null,
    created_at text not null,
    updated_at text not null
);
create index party_orgs_org on party_orgs (org_id);

-- The organizations a party organization covers; an organization is covered by one at a time.
create table party_org_orgs (
    id integer primary key,
    party_org_id integer not null references party_orgs (id),
    org_id integer not null unique references organizations (id),
    joined_on date not null
);
create index party_org_orgs_party on party_org_orgs (party_org_id);

-- 党务干部: people in post from `started_on` to `ended_on` (the allowance follows the dates).
create table party_cadres (
    id integer primary key,
    party_org_id integer not null references party_orgs (id),
    name text not null,
    post text not null,
    started_on date not null,
    ended_on date,
    created_at text not null
);
create index party_cadres_party on party_cadres (party_org_id);

-- 党建指导员, with the account they sign in with, when they have one.
create table party_instructors (
    id integer primary key,
    name text not null,
    phone text not null,
    user_id integer unique references users (id),
    appointed_on date not null,
    created_at text not null
);

-- The organizations an instructor is assigned to; one instructor per organization at a time.
create table party_instructor_orgs (
    id integer primary key,
    instructor_id integer not null references party_instructors (id),
    org_id integer not null unique references organizations (id),
    assigned_on date not null
);
create index party_instructor_orgs_instructor on party_instructor_orgs (instructor_id);

-- Allowances paid against a year's budget (fen).
create table party_payments (
    id integer primary key,
    party_org_id integer not null references party_orgs (id),
    year integer not null,
    paid_on date not null,
    amount_fen integer not null check (amount_fen > 0),
    note text not null,
    created_by text not null,
    created_at text not null
);
create index party_payments_year on party_payments (year, party_org_id);

-- 三会一课, 主题党日, thematic practice activities.
create table party_activities (
    id integer primary key,
    party_org_id integer not null references party_orgs (id),
    held_on date not null,
    kind text not null check (kind in ('members_meeting', 'committee_meeting', 'group_meeting', 'party_lecture', 'theme_day', 'practice')),
    title text not null,
    attendance integer not null,
    created_at text not null
);
create index party_activities_party on party_activities (party_org_id, held_on);

-- The eight working mechanisms, checked off per party organization.
create table party_mechanisms (
    id integer primary key,
    party_org_id integer not null references party_orgs (id),
    mechanism text not null,
    in_place boolean not null,
    checked_on date not null,
    unique (party_org_id, mechanism)
);
