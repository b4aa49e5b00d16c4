-- Party building, continued (SPEC §3.6, DOMAIN §6): the standardisation assessment
-- (规范化建设考核) with its versioned scoring template, and the history of coverage that ended
-- (an organization leaving a party organization, an instructor's assignment ending).
-- Keep in step with migrations/postgres/0015_party_assessment.sql.

-- 考核评分模板: every edit saves a new version, so a past assessment keeps its items.
create table party_assessment_templates (
    id integer primary key,
    version integer not null unique,
    created_by text not null,
    created_at text not null
);

-- 考核项目: grouped by category, each with its maximum score.
create table party_assessment_items (
    id integer primary key,
    template_id integer not null references party_assessment_templates (id),
    position integer not null,
    category text not null,
    name text not null,
    max_score integer not null check (max_score > 0)
);
create index party_assessment_items_template on party_assessment_items (template_id, position);

-- 规范化建设考核: one per party organization and year, scored against one template version.
create table party_assessments (
    id integer primary key,
    party_org_id integer not null references party_orgs (id),
    year integer not null,
    template_id integer not null references party_assessment_templates (id),
    total integer not null,
    max_total integer not null,
    band text not null check (band in ('excellent', 'good', 'pass', 'fail')),
    assessed_on date not null,
    assessed_by text not null,
    note text not null,
    version integer not null,
    created_at text not null,
    updated_at text not null,
    unique (party_org_id, year)
);
create index party_assessments_year on party_assessments (year, band);

create table party_assessment_scores (
    id integer primary key,
    assessment_id integer not null references party_assessments (id),
    item_id integer not null references party_assessment_items (id),
    score integer not null,
    unique (assessment_id, item_id)
);

-- Organizations that left a party organization (removed from a joint branch, or released when
-- the party organization was dissolved); party_org_orgs keeps only the current ones.
create table party_org_orgs_ended (
    id integer primary key,
    party_org_id integer not null references party_orgs (id),
    org_id integer not null references organizations (id),
    joined_on date not null,
    left_on date not null
);
create index party_org_orgs_ended_party on party_org_orgs_ended (party_org_id);

-- Instructor assignments that ended; party_instructor_orgs keeps only the current ones.
create table party_instructor_orgs_ended (
    id integer primary key,
    instructor_id integer not null references party_instructors (id),
    org_id integer not null references organizations (id),
    assigned_on date not null,
    ended_on date not null
);
create index party_instructor_orgs_ended_instructor on party_instructor_orgs_ended (instructor_id);
