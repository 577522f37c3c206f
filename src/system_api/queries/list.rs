//! The system API's lists: the filter (`conditions`) and the ids asked
//! for, counted, or ordered by whitelisted columns and sliced by limit and
//! offset.

use diesel::prelude::*;

pub use super::conditions::ListError;
use super::conditions::{app_test, condition, role_test, service_test};
use crate::apps::domain::{AppLocation, StoredLocation};
use crate::db::{DbConn, MultiBackend};
use crate::schema::{apps, role_rules, roles, services};
use crate::system_api::domain::params::ListParams;
use crate::system_api::domain::shapes::{AppRecord, RoleRecord, ServiceRecord};

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

type ServiceColumns = (
    i32,
    String,
    String,
    String,
    String,
    bool,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

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
    let rows: Vec<ServiceColumns> = query
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

/// A rule as stored: id, role, service (`None`: all), component, verbs.
pub type RuleColumns = (i32, i32, Option<i32>, String, i32);

/// The rules of `role_ids`.
pub fn rules_of(conn: &mut DbConn, role_ids: &[i32]) -> QueryResult<Vec<RuleColumns>> {
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
