-- Annual reports (年度工作报告) and their inspection results (年检结论), the credit lists
-- (活动异常名录, 严重违法失信名单) and objections to listings: DOMAIN §3 and §5. Money in fen.
-- Keep in step with migrations/postgres/0011_inspection.sql.
create table annual_reports (
    id integer primary key,
    org_id integer not null references organizations (id),
    year integer not null,
    state text not null check (state in ('draft', 'submitted', 'returned', 'reviewed')),
    income_donations_fen integer not null,
    income_government_fen integer not null,
    income_services_fen integer not null,
    income_dues_fen integer not null,
    income_other_fen integer not null,
    income_total_fen integer not null,
    expenditure_programmes_fen integer not null,
    expenditure_total_fen integer not null,
    assets_fen integer not null,
    liabilities_fen integer not null,
    net_assets_fen integer not null,
    staff integer not null,
    members integer not null,
    volunteers integer not null,
    party_members integer not null,
    activities text not null,
    officers text not null,
    changes text not null,
    donations_and_grants text not null,
    awards text not null,
    party_building text not null,
    rectification text not null,
    submitted_at text,
    submitted_by text,
    supervisor_opinion text,
    result text check (result in ('pass', 'basic_pass', 'fail')),
    reasons text,
    reviewed_at text,
    reviewed_by text,
    version integer not null,
    created_at text not null,
    updated_at text not null,
    unique (org_id, year)
);
create index annual_reports_year on annual_reports (year, state);

create table credit_listings (
    id integer primary key,
    org_id integer not null references organizations (id),
    list text not null check (list in ('abnormal', 'serious')),
    reason text not null,
    -- The report year a missed-report listing is about (so the daily sweep lists it once).
    subject_year integer,
    detail text not null,
    evidence text not null,
    listed_on date not null,
    listed_by text not null,
    removed_on date,
    removal_reason text check (removal_reason in ('expired', 'rectified', 'objection_upheld', 'escalated', 'deregistered', 'served')),
    removal_detail text,
    removed_by text,
    -- The abnormal listing a serious one escalated from.
    escalated_from integer references credit_listings (id),
    created_at text not null
);
create index credit_listings_org on credit_listings (org_id, list);
create index credit_listings_open on credit_listings (list, removed_on);

create table credit_objections (
    id integer primary key,
    listing_id integer not null references credit_listings (id),
    filed_at text not null,
    filed_by text not null,
    grounds text not null,
    state text not null check (state in ('open', 'upheld', 'rejected')),
    decided_at text,
    decided_by text,
    decision text
);
create index credit_objections_listing on credit_objections (listing_id);
