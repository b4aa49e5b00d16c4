//! shezu (社组): social-organization service and management platform for a district
//! civil-affairs bureau. One binary: portal, back office, JSON API and CLI, on SQLite or
//! PostgreSQL.

/// The JSON API under /api/v1.
pub mod api;
/// Shared state and the router.
pub mod app;
/// Online registration and one-stop approval.
pub mod approvals;
/// The four-level area tree.
pub mod areas;
/// Field history and the audit log.
pub mod audit;
/// Scope: what a caller may see.
pub mod auth;
/// Online backup, retention and restore (备份与恢复).
pub mod backup;
/// Command line: serve, migrate, demo, uscc.
pub mod cli;
/// The business date (业务日期) the compliance rules use.
pub mod clock;
/// Settings (flags and `SHEZU_*` environment variables).
pub mod config;
/// Online consultation and the public FAQ.
pub mod consult;
/// Two databases behind one SQL text.
pub mod db;
/// The demo district (Binhai New Area, end of 2014).
pub mod demo;
/// The one error type.
pub mod error;
/// Classified evaluation (分类评估, 1A–5A): rounds, templates, experts, 公示, 复核, grades.
pub mod evaluation;
/// Tables of figures as pages, CSV and Excel.
pub mod export;
/// Venture philanthropy and support funds (公益创投, 扶持专项基金): rounds, proposals, review, allocation, awards.
pub mod funding;
/// Street federations, community liaison points and the four-level network (枢纽式管理).
pub mod hubs;
/// The message catalogue (zh-CN, en).
pub mod i18n;
/// Bulk import of annual reports, volunteer service records and donations (批量导入业务记录).
pub mod imports;
/// Incubation (三级孵化体系): incubators, calls for entry, selection, stays and their services.
pub mod incubation;
/// Annual reports and inspection (年检), the compliance calendar, credit lists (信用名单).
pub mod inspection;
/// Request metrics in Prometheus format.
pub mod metrics;
/// Notices and policy documents (通知公告, 政策法规).
pub mod notices;
/// Request ids, readiness and graceful shutdown (运维).
pub mod ops;
/// The party-building information database (党建信息数据库): party organizations, coverage, funding.
pub mod party;
/// People and their roles in organizations (conflict-of-interest detection).
pub mod people;
/// The public portal.
pub mod portal;
/// Referral tasks between departments and areas.
pub mod referrals;
/// The registry of organizations.
pub mod registry;
/// Installation settings with effective dates.
pub mod settings;
/// The figures of SPEC §4 as one summary, each counted by the module that owns it (统计).
pub mod stats;
/// Social workers, professionals, placements and training (社工与培训).
pub mod talent;
/// Volunteers and their verified hours, donations, service bases, brand figures, beneficiaries.
pub mod volunteers;
/// Layout, language, flash, pagination, error page.
pub mod web;
