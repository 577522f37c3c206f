//! keyward: a self-hosted console and verifier for API keys.

pub mod auth;
pub mod cli;
pub mod config;
pub mod csrf;
pub mod db;
pub mod error;
pub mod http;
pub mod random;
pub mod schema;
pub mod session;
pub mod session_store;
pub mod startup;
pub mod static_files;
pub mod templates;
pub mod apps;
pub mod roles;
pub mod services;
