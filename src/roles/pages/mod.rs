//! The Roles pages: the list and the role form, and a role's page with its
//! rules.

pub mod edit;
pub mod list;

use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::roles::queries::{self, RoleRow};

/// The role of a page's path, or 404.
async fn find_role(pool: &DbPool, id: i32) -> Result<RoleRow, AppError> {
    db::run_found(pool, move |conn| queries::find(conn, id)).await
}
