//! keyward: a self-hosted console and verifier for API keys.

pub mod admins;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csrf;
pub mod db;
pub mod error;
pub mod http;
pub mod memory;
pub mod ops;
pub mod proxy;
pub mod random;
pub mod roles;
pub mod schema;
pub mod services;
pub mod session;
pub mod session_store;
pub mod startup;
pub mod static_files;
pub mod templates;
pub mod text;
pub mod verify;
