//! Services: the named APIs that keys protect. DreamFactory's two local
//! file-storage services are seeded by the migrations.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::services;

pub const KIND_FILE: &str = "file";

/// A service as offered in a select.
#[derive(Debug, Clone, Queryable)]
pub struct ServiceOption {
    pub id: i32,
    pub name: String,
    pub label: String,
}

/// Active file-storage services, for "Storage Service".
pub fn file_storage_options(conn: &mut DbConn) -> QueryResult<Vec<ServiceOption>> {
    services::table
        .filter(services::kind.eq(KIND_FILE))
        .filter(services::is_active.eq(true))
        .order(services::label.asc())
        .select((services::id, services::name, services::label))
        .load(conn)
}

/// True when `id` is an active file-storage service.
pub fn is_file_storage(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        services::table
            .find(id)
            .filter(services::kind.eq(KIND_FILE))
            .filter(services::is_active.eq(true)),
    ))
    .get_result(conn)
}
