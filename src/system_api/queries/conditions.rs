//! A filter tree (`domain::filter`) as one diesel condition over a
//! resource's whitelisted columns, every value bound as a parameter. A field
//! the grammar let through but no column here answers is refused, not
//! ignored.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

use crate::db::{DbConn, MultiBackend};
use crate::schema::{apps, roles, services};
use crate::system_api::domain::filter::{Cmp, Filter, FilterError, Op, Test, Value};

pub type Condition<T> = Box<dyn BoxableExpression<T, MultiBackend, SqlType = Nullable<Bool>>>;

/// A refused filter or a failed query.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("{}", .0.message())]
    Filter(FilterError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// A test on one column: `$col` is nullable (`.nullable()` on the others), `$name`
/// its SQL for the LIKE that PostgreSQL runs under the "C" collation.
macro_rules! column_test {
    ($conn:expr, $col:expr, $name:literal, $op:expr, $value:ident) => {{
        let col = $col;
        let cond: Condition<_> = match $op {
            Op::Compare(cmp, v) => {
                let v = $value(v)?;
                match cmp {
                    Cmp::Eq => Box::new(col.eq(v)),
                    Cmp::Ne => Box::new(col.ne(v)),
                    Cmp::Lt => Box::new(col.lt(v)),
                    Cmp::Gt => Box::new(col.gt(v)),
                    Cmp::Le => Box::new(col.le(v)),
                    Cmp::Ge => Box::new(col.ge(v)),
                }
            }
            Op::In(values) => {
                let values: Option<Vec<_>> = values.iter().map($value).collect();
                Box::new(col.eq_any(values?).nullable())
            }
            Op::NotIn(values) => {
                let values: Option<Vec<_>> = values.iter().map($value).collect();
                Box::new(col.ne_all(values?).nullable())
            }
            Op::IsNull => Box::new(col.is_null().nullable()),
            Op::IsNotNull => Box::new(col.is_not_null().nullable()),
            Op::Like(pattern) => like($conn, $name, pattern),
        };
        Some(cond)
    }};
}

fn int(value: &Value) -> Option<i32> {
    match value {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

fn time(value: &Value) -> Option<chrono::NaiveDateTime> {
    match value {
        Value::Time(t) => Some(*t),
        _ => None,
    }
}

/// `column LIKE pattern`, ignoring the case of A–Z only on both backends (as
/// the API Keys search does): SQLite's LIKE does so itself; on PostgreSQL
/// the column is lowered under the "C" collation. `column` is a whitelisted
/// constant, never client text.
fn like<T>(conn: &DbConn, column: &'static str, pattern: &str) -> Condition<T> {
    match conn {
        DbConn::Sqlite(_) => Box::new(
            sql::<Nullable<Bool>>(&format!("({column} LIKE "))
                .bind::<Text, _>(pattern.to_owned())
                .sql(" ESCAPE '\\')"),
        ),
        DbConn::Postgres(_) => Box::new(
            sql::<Nullable<Bool>>(&format!("(lower({column} COLLATE \"C\") LIKE "))
                .bind::<Text, _>(pattern.to_ascii_lowercase())
                .sql(" ESCAPE '\\')"),
        ),
    }
}

pub fn app_test(conn: &DbConn, test: &Test) -> Option<Condition<apps::table>> {
    let op = &test.op;
    match test.field {
        "id" => column_test!(conn, apps::id.nullable(), "apps.id", op, int),
        "name" => column_test!(conn, apps::name.nullable(), "apps.name", op, text),
        "description" => column_test!(
            conn,
            apps::description.nullable(),
            "apps.description",
            op,
            text
        ),
        "is_active" => column_test!(conn, apps::is_active.nullable(), "apps.is_active", op, flag),
        "type" => column_test!(conn, apps::location.nullable(), "apps.location", op, int),
        "path" => column_test!(conn, apps::path, "apps.path", op, text),
        "url" => column_test!(conn, apps::url, "apps.url", op, text),
        "storage_service_id" => column_test!(
            conn,
            apps::storage_service_id,
            "apps.storage_service_id",
            op,
            int
        ),
        "storage_container" => column_test!(
            conn,
            apps::storage_container,
            "apps.storage_container",
            op,
            text
        ),
        "role_id" => column_test!(conn, apps::role_id, "apps.role_id", op, int),
        "created_date" => column_test!(
            conn,
            apps::created_at.nullable(),
            "apps.created_at",
            op,
            time
        ),
        "last_modified_date" => column_test!(
            conn,
            apps::updated_at.nullable(),
            "apps.updated_at",
            op,
            time
        ),
        "created_by_id" => column_test!(conn, apps::created_by_id, "apps.created_by_id", op, int),
        "last_modified_by_id" => {
            column_test!(conn, apps::updated_by_id, "apps.updated_by_id", op, int)
        }
        _ => None,
    }
}

pub fn role_test(conn: &DbConn, test: &Test) -> Option<Condition<roles::table>> {
    let op = &test.op;
    match test.field {
        "id" => column_test!(conn, roles::id.nullable(), "roles.id", op, int),
        "name" => column_test!(conn, roles::name.nullable(), "roles.name", op, text),
        "description" => column_test!(
            conn,
            roles::description.nullable(),
            "roles.description",
            op,
            text
        ),
        "is_active" => column_test!(
            conn,
            roles::is_active.nullable(),
            "roles.is_active",
            op,
            flag
        ),
        "created_date" => column_test!(
            conn,
            roles::created_at.nullable(),
            "roles.created_at",
            op,
            time
        ),
        "last_modified_date" => column_test!(
            conn,
            roles::updated_at.nullable(),
            "roles.updated_at",
            op,
            time
        ),
        "created_by_id" => column_test!(conn, roles::created_by_id, "roles.created_by_id", op, int),
        "last_modified_by_id" => {
            column_test!(conn, roles::updated_by_id, "roles.updated_by_id", op, int)
        }
        _ => None,
    }
}

pub fn service_test(conn: &DbConn, test: &Test) -> Option<Condition<services::table>> {
    let op = &test.op;
    match test.field {
        "id" => column_test!(conn, services::id.nullable(), "services.id", op, int),
        "name" => column_test!(conn, services::name.nullable(), "services.name", op, text),
        "label" => column_test!(conn, services::label.nullable(), "services.label", op, text),
        "description" => column_test!(
            conn,
            services::description.nullable(),
            "services.description",
            op,
            text
        ),
        "is_active" => column_test!(
            conn,
            services::is_active.nullable(),
            "services.is_active",
            op,
            flag
        ),
        "created_date" => column_test!(
            conn,
            services::created_at.nullable(),
            "services.created_at",
            op,
            time
        ),
        "last_modified_date" => column_test!(
            conn,
            services::updated_at.nullable(),
            "services.updated_at",
            op,
            time
        ),
        _ => None,
    }
}

/// The tree as one condition, through `test` for each leaf.
pub fn condition<T: 'static>(
    filter: &Filter,
    test: &dyn Fn(&Test) -> Option<Condition<T>>,
) -> Result<Condition<T>, ListError> {
    let join = |parts: &[Filter], and: bool| -> Result<Condition<T>, ListError> {
        let mut parts = parts.iter();
        let first = parts
            .next()
            .ok_or(ListError::Filter(FilterError::Unparsable))?;
        let mut joined = condition(first, test)?;
        for part in parts {
            let next = condition(part, test)?;
            joined = if and {
                Box::new(joined.and(next))
            } else {
                Box::new(joined.or(next))
            };
        }
        Ok(joined)
    };
    match filter {
        Filter::All(parts) => join(parts, true),
        Filter::Any(parts) => join(parts, false),
        // The grammar typed each value by its field, so only a field with no
        // column here (a whitelist out of step) lands in `None`.
        Filter::Test(leaf) => test(leaf)
            .ok_or_else(|| ListError::Filter(FilterError::UnknownField(leaf.field.to_owned()))),
    }
}
