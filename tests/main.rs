//! The integration suite: one test binary. Every store and HTTP test runs on SQLite and on
//! PostgreSQL (`db_test!`).

mod common;

mod api;
mod approvals;
mod auth;
mod backup;
mod browser;
mod concurrency;
mod consult;
mod demo;
mod evaluation;
mod funding;
mod hostile;
mod hubs;
mod import;
mod import_bulk;
mod imports;
mod incubation;
mod inspection;
mod national;
mod notices;
mod open_data;
mod ops;
mod party;
mod portal;
mod referrals;
mod registry;
mod schema;
mod scope;
mod search;
mod security;
mod servers;
mod stats;
mod stats_desk;
mod stats_reports;
mod talent;
mod upload;
mod volunteers;
