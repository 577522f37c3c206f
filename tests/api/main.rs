//! keyward's integration tests: one binary, so the crate is linked once.
//! Storage tests run on SQLite and on PostgreSQL (`storage_test!`).

#[macro_use]
mod helpers;

mod apps;
mod apps_browser;
mod browser;
mod cli;
mod foundation;
mod nginx;
mod verify;
mod verify_browser;
