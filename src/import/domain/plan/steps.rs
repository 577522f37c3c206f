//! The steps of an import and what planning them reads: the choices, what
//! keyward already holds, and each step's object with its references by name.

use std::collections::{HashMap, HashSet};

use crate::admins::domain::credentials::Email;
use crate::apps::domain::LegacyKey;
use crate::import::domain::records::{AppRecord, RoleRecord};
use crate::import::domain::report::{Outcome, Report};
use crate::roles::domain::rules::{Component, Verbs};
use crate::services::domain::NewService;

/// The command line's (and the Import page's) choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Report without writing.
    pub dry_run: bool,
    /// Update what exists by name instead of skipping it.
    pub update: bool,
    /// Keep DreamFactory's seeded apps active despite their public keys.
    pub keep_public_keys: bool,
    /// Import the administrators of `admin.json`.
    pub with_admins: bool,
}

/// DreamFactory's seeded apps, whose keys are public (one is in the admin
/// UI's source): whoever has seen DreamFactory's code has them.
pub const PUBLIC_KEY_APPS: [&str; 3] = ["admin", "api_docs", "file_manager"];

/// What keyward already holds, by name.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// Service name → (id, is file storage).
    pub services: HashMap<String, (i32, bool)>,
    pub roles: HashMap<String, i32>,
    pub apps: HashMap<String, i32>,
    /// Lower-cased emails.
    pub admins: HashSet<String>,
    /// Hashes of the package's keys that some app already has.
    pub taken_keys: HashSet<String>,
}

/// Whether a step creates its object or updates the one of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update(i32),
}

impl Action {
    /// The report's word for it.
    pub(super) fn outcome(self) -> Outcome {
        match self {
            Action::Create => Outcome::Create,
            Action::Update(_) => Outcome::Update,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step<T> {
    pub action: Action,
    pub item: T,
}

/// A role to write, with the rules it should have.
#[derive(Debug, Clone)]
pub struct RolePlan {
    pub record: RoleRecord,
    pub rules: Vec<RulePlan>,
}

/// A rule, its service by name (`None`: every service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePlan {
    pub service: Option<String>,
    pub component: Component,
    pub verbs: Verbs,
}

/// An app to write: the fields DreamFactory has, its role and storage
/// service by name, and its key when it keeps it.
#[derive(Debug, Clone)]
pub struct AppPlan {
    pub record: AppRecord,
    pub is_active: bool,
    pub role: Option<String>,
    pub storage_service: Option<String>,
    pub key: Option<LegacyKey>,
}

#[derive(Debug, Clone)]
pub struct AdminPlan {
    pub email: Email,
    pub name: String,
    pub password_hash: String,
    pub is_active: bool,
}

/// Every step of an import, in the order they are written, and its report.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub services: Vec<Step<NewService>>,
    pub roles: Vec<Step<RolePlan>>,
    pub apps: Vec<Step<AppPlan>>,
    pub admins: Vec<Step<AdminPlan>>,
    pub report: Report,
}

/// The package's services that will exist after the import, by their id
/// in the package: (name, is file storage).
pub type ServiceIds = HashMap<i64, (String, bool)>;
/// The package's roles that will exist after the import, by id: name.
pub type RoleIds = HashMap<i64, String>;
