//! The system API's own queries: its lists over apps, roles and services
//! (`list`) and its sessions (`sessions`). Writes to apps and roles go
//! through those features' own queries.

pub mod conditions;
pub mod list;
pub mod sessions;
