//! Loading what a key grants, and a service, from the database; writing
//! when keys were last used.

use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{KeyGrant, KeyLimits, RoleGrant, ServiceInfo};
use super::verifier::limiter::CounterKey;
use crate::apps::domain::AllowedIps;
use crate::db::DbConn;
use crate::limits::{Quota, RateLimits};
use crate::roles::domain::rules::{Component, Rule, Verbs};
use crate::schema::{apps, limit_counters, role_rules, roles, services};

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
        Option<String>,
        Option<i64>,
        Option<String>,
    ),
    (Option<i32>, Option<String>, Option<bool>, Option<String>),
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
        apps::rate_limits,
        apps::quota_total,
        apps::quota_refill,
    ),
    (
        diesel::dsl::Nullable<roles::id>,
        diesel::dsl::Nullable<roles::name>,
        diesel::dsl::Nullable<roles::is_active>,
        diesel::dsl::Nullable<roles::rate_limits>,
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
            apps::rate_limits,
            apps::quota_total,
            apps::quota_refill,
        ),
        (
            roles::id.nullable(),
            roles::name.nullable(),
            roles::is_active.nullable(),
            roles::rate_limits.nullable(),
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
        (
            app_id,
            app_name,
            app_active,
            expires_at,
            previous_until,
            allowed_ips,
            rate_limits,
            quota_total,
            quota_refill,
        ),
        (role_id, role_name, role_active, role_limits),
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
                rate_limits: RateLimits::from_stored(role_limits.as_deref()),
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
        limits: KeyLimits {
            allowed_ips: AllowedIps::from_stored(allowed_ips.as_deref()),
            rate_limits: RateLimits::from_stored(rate_limits.as_deref()),
            quota: Quota::from_stored(quota_total, quota_refill.as_deref()),
        }
        .boxed(),
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

/// Writes apps' last-used times in one statement; a time never moves back.
/// One statement for the chunk, not one per app: SQLite compiles every
/// UPDATE diesel sends afresh, and with many keys in use that compiling was
/// a good part of a verification's cost.
pub fn record_last_used(conn: &mut DbConn, used: &[(i32, NaiveDateTime)]) -> QueryResult<()> {
    if used.is_empty() {
        return Ok(());
    }
    let placeholders = |n: usize| match conn {
        DbConn::Sqlite(_) => "?".to_owned(),
        DbConn::Postgres(_) => format!("${n}"),
    };
    let values = (0..used.len())
        .map(|i| format!("({}, {})", placeholders(2 * i + 1), placeholders(2 * i + 2)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH used (id, at) AS (VALUES {values}) \
         UPDATE apps SET last_used_at = used.at FROM used \
         WHERE apps.id = used.id AND (apps.last_used_at IS NULL OR apps.last_used_at < used.at)"
    );
    crate::db::write(conn, |conn| {
        crate::db::on_backend!(conn, |conn| {
            let mut query = diesel::sql_query(sql.as_str()).into_boxed();
            for (app_id, used_at) in used {
                query = query
                    .bind::<diesel::sql_types::Integer, _>(*app_id)
                    .bind::<diesel::sql_types::Timestamp, _>(*used_at);
            }
            query.execute(conn)
        })?;
        Ok(())
    })
}

/// Adds what this instance counted to the shared counts and reads back each
/// total, one for each counter in order; a counter that adds nothing is only
/// read. Adding is an upsert, so instances adding to one counter at once
/// each get a total that includes the other's.
pub fn add_counts(conn: &mut DbConn, counts: &[(CounterKey, u64)]) -> QueryResult<Vec<u64>> {
    fn read(conn: &mut DbConn, key: &CounterKey) -> QueryResult<u64> {
        limit_counters::table
            .find((key.app_id, key.window_seconds as i32, key.window_start))
            .select(limit_counters::count)
            .first::<i64>(conn)
            .optional()
            .map(|count| count.unwrap_or(0).max(0) as u64)
    }
    if counts.iter().all(|(_, added)| *added == 0) {
        return counts.iter().map(|(key, _)| read(conn, key)).collect();
    }
    crate::db::write(conn, |conn| {
        counts
            .iter()
            .map(|(key, added)| {
                if *added == 0 {
                    return read(conn, key);
                }
                let added = i64::try_from(*added).unwrap_or(i64::MAX);
                let row = (
                    limit_counters::app_id.eq(key.app_id),
                    limit_counters::window_seconds.eq(key.window_seconds as i32),
                    limit_counters::window_start.eq(key.window_start),
                    limit_counters::count.eq(added),
                );
                crate::db::on_backend!(conn, |conn| diesel::insert_into(limit_counters::table)
                    .values(row)
                    .on_conflict((
                        limit_counters::app_id,
                        limit_counters::window_seconds,
                        limit_counters::window_start,
                    ))
                    .do_update()
                    .set(limit_counters::count.eq(limit_counters::count + added))
                    .returning(limit_counters::count)
                    .get_result::<i64>(conn))
                .map(|count| count.max(0) as u64)
            })
            .collect()
    })
}

/// Deletes the counts nobody needs any more: rate-limit windows that ended
/// over `keep_windows` seconds before `now`, and quota periods that began
/// over `keep_periods` seconds before it (a quota never refilled is never
/// deleted). An app's counts go with the app.
pub fn prune_counts(
    conn: &mut DbConn,
    now: i64,
    keep_windows: i64,
    keep_periods: i64,
) -> QueryResult<usize> {
    let lengths: Vec<i32> = limit_counters::table
        .filter(limit_counters::window_seconds.gt(0))
        .select(limit_counters::window_seconds)
        .distinct()
        .load(conn)?;
    crate::db::write(conn, |conn| {
        let mut deleted = 0;
        for length in lengths {
            deleted += diesel::delete(
                limit_counters::table
                    .filter(limit_counters::window_seconds.eq(length))
                    .filter(
                        limit_counters::window_start.lt(now - keep_windows - i64::from(length)),
                    ),
            )
            .execute(conn)?;
        }
        deleted += diesel::delete(
            limit_counters::table
                .filter(limit_counters::window_seconds.eq(0))
                .filter(limit_counters::window_start.gt(0))
                .filter(limit_counters::window_start.lt(now - keep_periods)),
        )
        .execute(conn)?;
        Ok(deleted)
    })
}
