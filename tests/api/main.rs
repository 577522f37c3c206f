//! keyward's integration tests: one binary, so the crate is linked once.
//! Storage tests run on SQLite and on PostgreSQL (`storage_test!`).
//!
//! The tests mirror the features in `src/`: `admins`, `apps`, `roles`,
//! `audit`, `verify`, `ops`, `cli` and `import`; `management` is the management API
//! (`/api/v1/…` with admin API tokens) across them. What cuts across them has its own
//! modules: `console` (sessions, CSRF, headers, limits, error pages, client
//! addresses), `bad_input` (properties, by the form attacked), `crash`,
//! `outage` and `proxies`. The harness they share is in `harness`.

#[macro_use]
mod harness;

mod admins;
mod apps;
mod audit;
mod bad_input;
mod cli;
mod console;
mod crash;
mod dashboard;
mod import;
mod management;
mod ops;
mod outage;
mod proxies;
mod roles;
mod system_api;
mod verify;
mod webhooks;
