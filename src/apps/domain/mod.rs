//! API keys ("apps") as domain types: the stored app, the Create and Edit
//! Application form and what it becomes once valid, its location, its key
//! (and how a roll retires the old one), keys imported from DreamFactory,
//! and the list's URL state.

pub mod allowed_ips;
pub mod app;
pub mod expiry;
pub mod form;
pub mod key;
pub mod legacy_key;
pub mod listing;
pub mod location;

pub use self::allowed_ips::AllowedIps;
pub use self::app::App;
pub use self::form::{AppForm, AppName, EXPIRY_FORMAT, NewApp, copied_description, parse_expiry};
pub use self::key::{ApiKey, Grace};
pub use self::legacy_key::{LegacyKey, PresentedKey};
pub use self::location::{AppLocation, DEFAULT_STORAGE_FOLDER, LocationFields, StoredLocation};
