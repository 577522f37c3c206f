//! Loading what a key grants, and a service, from the database; writing
//! when keys were last used.

use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{KeyGrant, RoleGrant, ServiceInfo};
use crate::apps::domain::AllowedIps;
use crate::db::DbConn;
use crate::roles::domain::rules::{Component, Rule, Verbs};
use crate::schema::{apps, role_rules, roles, services};

/// One row per rule of the key's role (or one row with no rule): the app, its
/// role and the role's rules come back in a single indexed query, which is
/// what a cache miss costs.
type GrantRow = (
    (
        i32,
        String,
        bool,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<String>,
    ),
    (Option<i32>, Option<String>, Option<bool>),
    // A rule's service (None also for "All services"); a rule row is known by
    // its component, which is never NULL in the table.
    (Option<i32>, Option<String>, Option<i32>),
);

/// The columns of a [`GrantRow`].
#[allow(clippy::type_complexity)]
fn grant_columns() -> (
    (
        apps::id,
        apps::name,
        apps::is_active,
        apps::expires_at,
        apps::previous_key_expires_at,
        apps::allowed_ips,
    ),
    (
        diesel::dsl::Nullable<roles::id>,
        diesel::dsl::Nullable<roles::name>,
        diesel::dsl::Nullable<roles::is_active>,
    ),
    (
        diesel::dsl::Nullable<role_rules::service_id>,
        diesel::dsl::Nullable<role_rules::component>,
        diesel::dsl::Nullable<role_rules::verbs>,
    ),
) {
    (
        (
            apps::id,
            apps::name,
            apps::is_active,
            apps::expires_at,
            apps::previous_key_expires_at,
            apps::allowed_ips,
        ),
        (
            roles::id.nullable(),
            roles::name.nullable(),
            roles::is_active.nullable(),
        ),
        (
            role_rules::service_id.nullable(),
            role_rules::component.nullable(),
            role_rules::verbs.nullable(),
        ),
    )
}

/// The grant of the app whose current key, or else whose previous key still
/// in (or past) its grace period, has this hash.
pub fn load_key(conn: &mut DbConn, key_hash: &str) -> QueryResult<Option<KeyGrant>> {
    let current: Vec<GrantRow> = apps::table
        .left_join(roles::table.left_join(role_rules::table))
        .filter(apps::key_hash.eq(key_hash))
        .select(grant_columns())
        .load(conn)?;
    if !current.is_empty() {
        return Ok(grant(current, false));
    }
    let previous: Vec<GrantRow> = apps::table
        .left_join(roles::table.left_join(role_rules::table))
        .filter(apps::previous_key_hash.eq(key_hash))
        .select(grant_columns())
        .load(conn)?;
    Ok(grant(previous, true))
}

fn grant(rows: Vec<GrantRow>, previous_key: bool) -> Option<KeyGrant> {
    let (
        (app_id, app_name, app_active, expires_at, previous_until, allowed_ips),
        (role_id, role_name, role_active),
        _,
    ) = rows.first().cloned()?;
    let role = match (role_id, role_name, role_active) {
        (Some(id), Some(name), Some(active)) => {
            let rules = rows
                .into_iter()
                .filter_map(|(_, _, (service_id, component, verbs))| {
                    // Stored rules were validated on the way in; skip one that is not.
                    Some(Rule {
                        service_id,
                        component: Component::parse(&component?).ok()?,
                        verbs: Verbs::from_bits(verbs?),
                    })
                })
                .collect();
            Some(Arc::new(RoleGrant {
                id,
                name,
                active,
                rules,
            }))
        }
        _ => None,
    };
    // A previous key without an end (never written so) counts as ended.
    let replaced_until = previous_key.then(|| previous_until.unwrap_or(NaiveDateTime::MIN));
    Some(KeyGrant {
        app_id,
        app_name,
        app_active,
        role,
        expires_at,
        replaced_until,
        allowed_ips: AllowedIps::from_stored(allowed_ips.as_deref()),
    })
}

pub fn load_service(conn: &mut DbConn, name: &str) -> QueryResult<Option<ServiceInfo>> {
    services::table
        .filter(services::name.eq(name))
        .select((services::id, services::is_active))
        .first::<(i32, bool)>(conn)
        .optional()
        .map(|found| found.map(|(id, active)| ServiceInfo { id, active }))
}

/// Writes apps' last-used times in one transaction; a time never moves back.
pub fn record_last_used(conn: &mut DbConn, used: &[(i32, NaiveDateTime)]) -> QueryResult<()> {
    crate::db::write(conn, |conn| {
        for (app_id, used_at) in used {
            diesel::update(apps::table.find(app_id))
                .filter(
                    apps::last_used_at
                        .is_null()
                        .or(apps::last_used_at.lt(used_at)),
                )
                .set(apps::last_used_at.eq(used_at))
                .execute(conn)?;
        }
        Ok(())
    })
}
