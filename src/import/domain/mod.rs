//! Moving from DreamFactory: reading its package ([`package`], [`records`]),
//! deciding what an import does ([`plan`]) and saying so ([`report`]).

pub mod package;
pub mod plan;
pub mod records;
pub mod report;

#[cfg(test)]
mod tests;

pub use self::package::{MAX_PACKAGE_BYTES, Package, PackageError};
pub use self::plan::{Existing, Options, Plan, plan};
pub use self::report::Report;
