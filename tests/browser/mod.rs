//! The browser suite: journeys through the real server in Debian's headless Chromium, with
//! screenshots (`docs/screenshots/`) and axe-core accessibility checks. Each journey runs on
//! SQLite and on PostgreSQL like every other test.

mod journeys;
mod site;
mod webdriver;
