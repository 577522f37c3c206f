//! Moving from DreamFactory: `keyward import dreamfactory` and the Import
//! page (`/import`) read a DreamFactory package and bring its services,
//! roles with their rules, apps with their keys, and optionally its
//! administrators into keyward, reporting what they cannot honour.

pub mod domain;
pub mod queries;
