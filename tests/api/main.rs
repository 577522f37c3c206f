//! keyward's integration tests: one binary, so the crate is linked once.
//! Storage tests run on SQLite and on PostgreSQL (`storage_test!`).

#[macro_use]
mod helpers;

mod admins;
mod apps;
mod apps_browser;
mod apps_lifecycle;
mod apps_list;
mod audit;
mod audit_browser;
mod bad_input;
mod browser;
mod cli;
mod crash;
mod foundation;
mod lifecycle_browser;
mod ops;
mod outage;
mod proxies;
mod security;
mod throttle;
mod verify;
mod verify_browser;
mod verify_refusals;
