-- People and their roles in organizations (for conflict-of-interest detection), and venture
-- philanthropy and support funds (公益创投, 扶持专项基金, SPEC §3.9, DOMAIN §8): programmes, rounds
-- with domains, rubric and tranche plan, proposals with budget lines, expert assignments with
-- declarations and scores, staff adjustments, 公示 objections, and what follows the award.
-- Keep in step with migrations/postgres/0017_funding.sql.

-- The installation's salt for hashing identity-card numbers (one row, made on first use).
create table person_salt (
    id integer primary key,
    salt text not null
);

-- A person. The identity-card number is never stored in clear: a salted hash to match on and
-- a masked form to show (1201**********123X).
create table people (
    id integer primary key,
    name text not null,
    id_hash text not null unique,
    id_masked text not null,
    created_at text not null
);

-- A person's role in an organization from `started_on` to `ended_on`.
create table org_roles (
    id integer primary key,
    person_id integer not null references people (id),
    org_id integer not null references organizations (id),
    role text not null check (role in ('legal_representative', 'officer', 'staff', 'member')),
    started_on date not null,
    ended_on date,
    created_at text not null
);
create index org_roles_person on org_roles (person_id);
create index org_roles_org on org_roles (org_id);

-- The person behind a user account (an expert, an officer).
create table person_accounts (
    user_id integer primary key references users (id),
    person_id integer not null unique references people (id)
);

-- 公益创投, 扶持专项基金, 政府购买服务, 中央财政支持项目.
create table funding_programmes (
    id integer primary key,
    name text not null,
    kind text not null check (kind in ('venture', 'support_fund', 'purchase', 'central_finance')),
    created_at text not null
);

-- A round of a programme. Money in fen. `partial_min_permille`: the allocation rule's share.
create table funding_rounds (
    id integer primary key,
    programme_id integer not null references funding_programmes (id),
    title text not null,
    year integer not null,
    budget_fen integer not null check (budget_fen > 0),
    cap_fen integer not null check (cap_fen > 0),
    call_on date not null,
    deadline_on date not null,
    review_on date not null,
    notice_on date not null,
    notice_days integer not null,
    ban_years integer not null,
    no_double_funding boolean not null,
    partial_min_permille integer not null,
    rank_by text not null check (rank_by in ('raw', 'z')),
    allocated_at text,
    notice_started_on date,
    created_at text not null
);
create index funding_rounds_programme on funding_rounds (programme_id, year);

-- The round's domains (领域).
create table funding_domains (
    id integer primary key,
    round_id integer not null references funding_rounds (id),
    name text not null
);
create index funding_domains_round on funding_domains (round_id);

-- Rubric criteria: weights sum to 100, scores are 0..max_score.
create table funding_criteria (
    id integer primary key,
    round_id integer not null references funding_rounds (id),
    position integer not null,
    name text not null,
    weight integer not null,
    max_score integer not null
);
create index funding_criteria_round on funding_criteria (round_id);

-- Tranche plan: percentages summing to 100, each paid on its condition.
create table funding_tranche_plan (
    id integer primary key,
    round_id integer not null references funding_rounds (id),
    position integer not null,
    percent integer not null,
    condition text not null check (condition in ('signing', 'midterm_passed', 'final_passed'))
);
create index funding_tranche_plan_round on funding_tranche_plan (round_id);

-- A proposal. `granted_fen` is set by the allocation (null: not funded); `matching_fen` the
-- applicant's own matching funds (central-finance projects).
create table funding_proposals (
    id integer primary key,
    round_id integer not null references funding_rounds (id),
    org_id integer not null references organizations (id),
    title text not null,
    domain_id integer not null references funding_domains (id),
    requested_fen integer not null check (requested_fen > 0),
    matching_fen integer not null,
    beneficiaries text not null,
    target_count integer not null,
    plan text not null,
    team text not null,
    state text not null check (state in ('submitted', 'passed', 'rejected')),
    screen_reason text,
    granted_fen integer,
    agreement_on date,
    actual_beneficiaries integer,
    submitted_at text not null,
    created_by text not null
);
create index funding_proposals_round on funding_proposals (round_id);
create index funding_proposals_org on funding_proposals (org_id);

-- Budget lines; they add up to the request.
create table funding_budget_lines (
    id integer primary key,
    proposal_id integer not null references funding_proposals (id),
    position integer not null,
    item text not null,
    amount_fen integer not null check (amount_fen > 0)
);
create index funding_budget_lines_proposal on funding_budget_lines (proposal_id);

-- An expert assigned to a proposal; `declaration` null until they declare ('none' or
-- 'conflict': a declared conflict recuses them).
create table funding_assignments (
    id integer primary key,
    proposal_id integer not null references funding_proposals (id),
    expert_user_id integer not null references users (id),
    assigned_at text not null,
    assigned_by text not null,
    declaration text check (declaration in ('none', 'conflict')),
    declaration_note text,
    declared_at text,
    unique (proposal_id, expert_user_id)
);
create index funding_assignments_expert on funding_assignments (expert_user_id);

-- One score per criterion per assignment.
create table funding_scores (
    id integer primary key,
    assignment_id integer not null references funding_assignments (id),
    criterion_id integer not null references funding_criteria (id),
    score integer not null,
    unique (assignment_id, criterion_id)
);

-- Staff changes to the proposed funded set, each with its reason.
create table funding_adjustments (
    id integer primary key,
    proposal_id integer not null references funding_proposals (id),
    action text not null check (action in ('include', 'exclude', 'amount')),
    amount_fen integer,
    reason text not null,
    adjusted_by text not null,
    adjusted_at text not null
);
create index funding_adjustments_proposal on funding_adjustments (proposal_id);

-- Objections during 公示, and their decision.
create table funding_objections (
    id integer primary key,
    round_id integer not null references funding_rounds (id),
    proposal_id integer references funding_proposals (id),
    filed_by text not null,
    grounds text not null,
    filed_on date not null,
    state text not null check (state in ('open', 'upheld', 'dismissed')),
    decision text,
    decided_by text
);
create index funding_objections_round on funding_objections (round_id);

-- After the award: progress and final reports, mid-term and final evaluations, audits.
create table funding_milestones (
    id integer primary key,
    proposal_id integer not null references funding_proposals (id),
    kind text not null check (kind in ('progress_report', 'final_report', 'midterm', 'final_evaluation', 'audit')),
    happened_on date not null,
    passed boolean,
    note text not null,
    recorded_by text not null,
    created_at text not null
);
create index funding_milestones_proposal on funding_milestones (proposal_id);

-- Tranches paid.
create table funding_payments (
    id integer primary key,
    proposal_id integer not null references funding_proposals (id),
    position integer not null,
    amount_fen integer not null check (amount_fen > 0),
    paid_on date not null,
    paid_by text not null,
    unique (proposal_id, position)
);

-- Counted outputs of a project (communities, doorways, households…), target and actual.
create table funding_outputs (
    id integer primary key,
    proposal_id integer not null references funding_proposals (id),
    indicator text not null check (indicator in ('communities', 'doorways', 'households', 'elderly_households', 'beneficiaries')),
    quantity integer not null
);
create index funding_outputs_proposal on funding_outputs (proposal_id);
