//! The system API's lists: a filter tree (`domain::filter`) made into diesel
//! conditions over each resource's whitelisted columns, every value bound as
//! a parameter, with the order, limit, offset and ids asked for. A field the
//! grammar let through but no column here answers is refused, not ignored.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

use crate::apps::domain::{AppLocation, StoredLocation};
use crate::db::{DbConn, MultiBackend};
use crate::schema::{apps, role_rules, roles, services};
use crate::system_api::domain::filter::{Cmp, Filter, FilterError, Op, Test, Value};
use crate::system_api::domain::params::ListParams;
use crate::system_api::domain::shapes::{AppRecord, RoleRecord, ServiceRecord};

type Condition<T> = Box<dyn BoxableExpression<T, MultiBackend, SqlType = Nullable<Bool>>>;

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
                let Some(v) = $value(v) else { return None };
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

fn app_test(conn: &DbConn, test: &Test) -> Option<Condition<apps::table>> {
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

fn role_test(conn: &DbConn, test: &Test) -> Option<Condition<roles::table>> {
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

fn service_test(conn: &DbConn, test: &Test) -> Option<Condition<services::table>> {
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
fn condition<T: 'static>(
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

/// One resource's list: the boxed query with the filter and ids applied,
/// counted or ordered and sliced.
macro_rules! list_query {
    ($conn:expr, $params:expr, $table:path, $id:expr, $test:ident, $order:ident) => {{
        let conn: &mut DbConn = $conn;
        let params: &ListParams = $params;
        let build = |conn: &DbConn| -> Result<_, ListError> {
            let mut query = $table.into_boxed::<MultiBackend>();
            if let Some(filter) = &params.filter {
                query = query.filter(condition(filter, &|t| $test(conn, t))?);
            }
            if let Some(ids) = &params.ids {
                query = query.filter($id.eq_any(ids.clone()));
            }
            Ok(query)
        };
        let count: Option<i64> = if params.include_count || params.count_only {
            Some(build(conn)?.count().get_result(conn)?)
        } else {
            None
        };
        let mut query = build(conn)?;
        for key in &params.order {
            query = $order(query, key.field, key.ascending);
        }
        (query.then_order_by($id.asc()), count)
    }};
}

macro_rules! order_by {
    ($name:ident, $table:ident, { $($field:literal => $col:expr),* $(,)? }) => {
        fn $name(
            query: $table::BoxedQuery<'static, MultiBackend>,
            field: &str,
            ascending: bool,
        ) -> $table::BoxedQuery<'static, MultiBackend> {
            match (field, ascending) {
                $(($field, true) => query.then_order_by($col.asc()),
                  ($field, false) => query.then_order_by($col.desc()),)*
                _ => query,
            }
        }
    };
}

order_by!(order_apps, apps, {
    "id" => apps::id, "name" => apps::name, "description" => apps::description,
    "is_active" => apps::is_active, "type" => apps::location, "path" => apps::path,
    "url" => apps::url, "storage_service_id" => apps::storage_service_id,
    "storage_container" => apps::storage_container, "role_id" => apps::role_id,
    "created_date" => apps::created_at, "last_modified_date" => apps::updated_at,
    "created_by_id" => apps::created_by_id, "last_modified_by_id" => apps::updated_by_id,
});
order_by!(order_roles, roles, {
    "id" => roles::id, "name" => roles::name, "description" => roles::description,
    "is_active" => roles::is_active, "created_date" => roles::created_at,
    "last_modified_date" => roles::updated_at, "created_by_id" => roles::created_by_id,
    "last_modified_by_id" => roles::updated_by_id,
});
order_by!(order_services, services, {
    "id" => services::id, "name" => services::name, "label" => services::label,
    "description" => services::description, "is_active" => services::is_active,
    "created_date" => services::created_at, "last_modified_date" => services::updated_at,
});

/// A list's records and, when asked for, how many match in all.
pub struct Listed<T> {
    pub records: Vec<T>,
    pub count: Option<i64>,
}

type AppColumns = (
    i32,
    String,
    String,
    bool,
    i32,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i32>,
    String,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
    Option<i32>,
    Option<i32>,
);

fn app_record(row: AppColumns) -> AppRecord {
    let (id, name, description, is_active, code, storage_service_id, container, path, url) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
    );
    AppRecord {
        location: AppLocation::from_stored(StoredLocation {
            code,
            storage_service_id,
            storage_container: container.as_deref(),
            path: path.as_deref(),
            url: url.as_deref(),
        }),
        id,
        name,
        description,
        is_active,
        role_id: row.9,
        key_prefix: row.10,
        created_at: row.11,
        updated_at: row.12,
        created_by_id: row.13,
        updated_by_id: row.14,
    }
}

pub fn apps(conn: &mut DbConn, params: &ListParams) -> Result<Listed<AppRecord>, ListError> {
    let (query, count) = list_query!(conn, params, apps::table, apps::id, app_test, order_apps);
    if params.count_only {
        return Ok(Listed {
            records: vec![],
            count,
        });
    }
    let rows: Vec<AppColumns> = query
        .select((
            apps::id,
            apps::name,
            apps::description,
            apps::is_active,
            apps::location,
            apps::storage_service_id,
            apps::storage_container,
            apps::path,
            apps::url,
            apps::role_id,
            apps::key_prefix,
            apps::created_at,
            apps::updated_at,
            apps::created_by_id,
            apps::updated_by_id,
        ))
        .limit(params.limit)
        .offset(params.offset)
        .load(conn)?;
    Ok(Listed {
        records: rows.into_iter().map(app_record).collect(),
        count,
    })
}

type RoleColumns = (
    i32,
    String,
    String,
    bool,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
    Option<i32>,
    Option<i32>,
);

pub fn roles(conn: &mut DbConn, params: &ListParams) -> Result<Listed<RoleRecord>, ListError> {
    let (query, count) = list_query!(
        conn,
        params,
        roles::table,
        roles::id,
        role_test,
        order_roles
    );
    if params.count_only {
        return Ok(Listed {
            records: vec![],
            count,
        });
    }
    let rows: Vec<RoleColumns> = query
        .select((
            roles::id,
            roles::name,
            roles::description,
            roles::is_active,
            roles::created_at,
            roles::updated_at,
            roles::created_by_id,
            roles::updated_by_id,
        ))
        .limit(params.limit)
        .offset(params.offset)
        .load(conn)?;
    let records = rows
        .into_iter()
        .map(|r| RoleRecord {
            id: r.0,
            name: r.1,
            description: r.2,
            is_active: r.3,
            created_at: r.4,
            updated_at: r.5,
            created_by_id: r.6,
            updated_by_id: r.7,
        })
        .collect();
    Ok(Listed { records, count })
}

pub fn services(
    conn: &mut DbConn,
    params: &ListParams,
) -> Result<Listed<ServiceRecord>, ListError> {
    let (query, count) = list_query!(
        conn,
        params,
        services::table,
        services::id,
        service_test,
        order_services
    );
    if params.count_only {
        return Ok(Listed {
            records: vec![],
            count,
        });
    }
    let rows: Vec<(
        i32,
        String,
        String,
        String,
        String,
        bool,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    )> = query
        .select((
            services::id,
            services::name,
            services::label,
            services::description,
            services::kind,
            services::is_active,
            services::created_at,
            services::updated_at,
        ))
        .limit(params.limit)
        .offset(params.offset)
        .load(conn)?;
    let records = rows
        .into_iter()
        .map(|r| ServiceRecord {
            id: r.0,
            name: r.1,
            label: r.2,
            description: r.3,
            kind: r.4,
            is_active: r.5,
            created_at: r.6,
            updated_at: r.7,
        })
        .collect();
    Ok(Listed { records, count })
}

/// The rules of `role_ids`, as `(id, role_id, service_id, component, verbs)`.
pub fn rules_of(
    conn: &mut DbConn,
    role_ids: &[i32],
) -> QueryResult<Vec<(i32, i32, Option<i32>, String, i32)>> {
    role_rules::table
        .filter(role_rules::role_id.eq_any(role_ids))
        .order(role_rules::id.asc())
        .select((
            role_rules::id,
            role_rules::role_id,
            role_rules::service_id,
            role_rules::component,
            role_rules::verbs,
        ))
        .load(conn)
}
