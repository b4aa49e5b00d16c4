-- Classified evaluation (社会组织评估, 民政部令第39号; DOMAIN §4): indicator templates per kind,
-- rounds with their grade bands and review committee, applications with self, expert and
-- committee scores, expert recusal, 公示 and 复核 by recorded vote.
-- Keep in step with migrations/postgres/0012_evaluation.sql.

-- 评估指标模板: one per organization kind, edited by the bureau.
create table evaluation_templates (
    id integer primary key,
    kind text not null unique check (kind in ('social_group', 'private_non_enterprise', 'foundation')),
    total_points integer not null,
    version integer not null,
    updated_at text not null
);

-- 评估指标: a tree (一级…四级指标); leaves are scored, inner nodes sum their children.
create table evaluation_indicators (
    id integer primary key,
    template_id integer not null references evaluation_templates (id),
    parent_id integer references evaluation_indicators (id),
    position integer not null,
    name text not null,
    max_points integer not null,
    -- 加分项: outside the scale's total, added on top.
    bonus boolean not null
);
create index evaluation_indicators_template on evaluation_indicators (template_id, parent_id);

-- 评估活动.
create table evaluation_rounds (
    id integer primary key,
    title text not null,
    year integer not null,
    -- Comma-separated organization kinds the round covers.
    kinds text not null,
    apply_from date not null,
    apply_until date not null,
    publicity_days integer not null,
    -- Lowest total of each grade, e.g. "5A:951,4A:901,3A:851,2A:801,1A:701".
    bands text not null,
    publicity_from date,
    publicity_until date,
    finalized_on date,
    created_at text not null,
    created_by text not null
);

-- 复核委员会 members of a round.
create table evaluation_committee_members (
    id integer primary key,
    round_id integer not null references evaluation_rounds (id),
    name text not null
);
create index evaluation_committee_round on evaluation_committee_members (round_id);

-- 评估申请.
create table evaluation_applications (
    id integer primary key,
    round_id integer not null references evaluation_rounds (id),
    org_id integer not null references organizations (id),
    state text not null check (state in ('applied', 'scoring', 'proposed', 'publicity', 'final')),
    applied_on date not null,
    applied_by text not null,
    self_total integer not null,
    expert_total integer,
    adjustment integer,
    adjustment_reason text,
    final_score integer,
    proposed_grade text check (proposed_grade in ('1A', '2A', '3A', '4A', '5A')),
    final_grade text check (final_grade in ('1A', '2A', '3A', '4A', '5A')),
    grade_expires_on date,
    decided_on date,
    version integer not null,
    created_at text not null,
    unique (round_id, org_id)
);
create index evaluation_applications_org on evaluation_applications (org_id);

-- Scores per leaf indicator: the organization's self-evaluation (expert_user_id null) and each
-- assigned expert's.
create table evaluation_scores (
    id integer primary key,
    application_id integer not null references evaluation_applications (id),
    indicator_id integer not null references evaluation_indicators (id),
    expert_user_id integer references users (id),
    points integer not null
);
create index evaluation_scores_application on evaluation_scores (application_id, expert_user_id);

-- Experts assigned to an application (评估专家组).
create table evaluation_assignments (
    application_id integer not null references evaluation_applications (id),
    expert_user_id integer not null references users (id),
    assigned_on date not null,
    assigned_by text not null,
    submitted_at text,
    primary key (application_id, expert_user_id)
);

-- 回避: a conflict an expert declared, or a recusal the organization asked for.
create table evaluation_recusals (
    id integer primary key,
    application_id integer not null references evaluation_applications (id),
    expert_user_id integer not null references users (id),
    source text not null check (source in ('declared', 'requested')),
    reason text not null,
    created_at text not null
);
create index evaluation_recusals_application on evaluation_recusals (application_id);

-- Where an expert has worked (for the two-year recusal rule).
create table expert_employments (
    id integer primary key,
    expert_user_id integer not null references users (id),
    org_id integer not null references organizations (id),
    started_on date not null,
    ended_on date,
    created_at text not null,
    created_by text not null
);
create index expert_employments_expert on expert_employments (expert_user_id);

-- 复核申请 and its decision.
create table evaluation_reviews (
    id integer primary key,
    application_id integer not null references evaluation_applications (id),
    filed_on date not null,
    filed_by text not null,
    grounds text not null,
    state text not null check (state in ('open', 'upheld', 'changed')),
    requested_grade text check (requested_grade in ('1A', '2A', '3A', '4A', '5A')),
    decided_on date,
    decided_by text,
    decision text
);
create index evaluation_reviews_application on evaluation_reviews (application_id);

-- Each committee member's vote on a review (majority of all members changes the grade).
create table evaluation_review_votes (
    review_id integer not null references evaluation_reviews (id),
    member_id integer not null references evaluation_committee_members (id),
    vote text not null check (vote in ('change', 'keep', 'absent')),
    primary key (review_id, member_id)
);
