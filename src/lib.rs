//! keyward: a self-hosted console and verifier for API keys.
//!
//! The crate has one shape, and its imports point down:
//!
//! - **Features**, one folder each, named as their URLs are: `admins`
//!   (`/login`, `/setup`, `/admins`), `dashboard` (`/dashboard`, the page
//!   after sign-in), `apps` (`/api-keys`), `roles`,
//!   `services`, `audit`, `webhooks` (the outgoing webhook and its delivery
//!   log, `/webhooks`), `verify` (`/api/v1/verify`, `/api/v1/auth`) and
//!   `ops` (`/livez`, `/readyz`, `/metrics`). Each has the same rooms:
//!   `mod.rs` (its routes), `pages` (HTML handlers and their templates),
//!   `api` (its part of the management API, `/api/v1/…`), `domain` (parsing, newtypes and pure rules,
//!   with their unit tests) and `queries` (diesel); a room that grows past
//!   about 400 lines becomes a folder split by topic. `verify` also has its
//!   machinery room, `verifier` (the cache and the batching around the pure
//!   policy). Features use each other's `domain` types only; a feature may
//!   read another's table for a choice list, and only its owner writes it.
//! - **Plumbing**, below every feature, never importing one: `db` (the
//!   connection, migrations, the change counter and the audit log's writer),
//!   `error`, `http`, `templates`, `text`, `paging`, `session`, `csrf`,
//!   `proxy`, `hashing`, `metrics`, `clock`, `random`, `config`, `schema`,
//!   `static_files`, `memory`, `secret` (the `kw_`/`kwa_` secret format),
//!   `limits` (rate limits and quotas as values), `usage` (verifications
//!   counted per key and hour, and how a series is charted),
//!   `reveal` (showing a new secret once) and `api` (what every management
//!   API handler shares).
//! - **The top**: `startup` (the server, and the routing that decides what
//!   is public), `cli`, `api_docs` (the OpenAPI document and the API
//!   reference page, which list every feature's API) and `system_api`
//!   (DreamFactory's `/api/v2/system/…` over apps, roles, services and the
//!   admins' sign-in), which put the features together.

pub mod admins;
pub mod api;
pub mod api_docs;
pub mod apps;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csrf;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod hashing;
pub mod http;
pub mod import;
pub mod limits;
pub mod memory;
pub mod metrics;
pub mod ops;
pub mod paging;
pub mod proxy;
pub mod random;
pub mod reveal;
pub mod roles;
pub mod schema;
pub mod secret;
pub mod services;
pub mod session;
pub mod startup;
pub mod static_files;
pub mod system_api;
pub mod templates;
pub mod text;
pub mod usage;
pub mod verify;
pub mod webhooks;
