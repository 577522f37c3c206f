//! Loading what a key grants from the database, in the shape the cache keeps.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::roles::rules::{Component, Rule, Verbs};
use crate::schema::{apps, role_rules, roles, services};

/// Everything verification needs to know about one key.
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub app_id: i32,
    pub app_name: String,
    pub app_active: bool,
    pub role: Option<RoleGrant>,
}

#[derive(Debug, Clone)]
pub struct RoleGrant {
    pub id: i32,
    pub name: String,
    pub active: bool,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Copy)]
pub struct ServiceInfo {
    pub id: i32,
    pub active: bool,
}

pub fn load_key(conn: &mut DbConn, key_hash: &str) -> QueryResult<Option<KeyGrant>> {
    let Some((app_id, app_name, app_active, role_id)) = apps::table
        .filter(apps::key_hash.eq(key_hash))
        .select((apps::id, apps::name, apps::is_active, apps::role_id))
        .first::<(i32, String, bool, Option<i32>)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let role = match role_id {
        Some(role_id) => load_role(conn, role_id)?,
        None => None,
    };
    Ok(Some(KeyGrant {
        app_id,
        app_name,
        app_active,
        role,
    }))
}

fn load_role(conn: &mut DbConn, role_id: i32) -> QueryResult<Option<RoleGrant>> {
    let Some((id, name, active)) = roles::table
        .find(role_id)
        .select((roles::id, roles::name, roles::is_active))
        .first::<(i32, String, bool)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let rows: Vec<(Option<i32>, String, i32)> = role_rules::table
        .filter(role_rules::role_id.eq(role_id))
        .select((
            role_rules::service_id,
            role_rules::component,
            role_rules::verbs,
        ))
        .load(conn)?;
    let rules = rows
        .into_iter()
        .filter_map(|(service_id, component, verbs)| {
            // Stored rules were validated on the way in; skip one that is not.
            Some(Rule {
                service_id,
                component: Component::parse(&component).ok()?,
                verbs: Verbs::from_bits(verbs),
            })
        })
        .collect();
    Ok(Some(RoleGrant {
        id,
        name,
        active,
        rules,
    }))
}

pub fn load_service(conn: &mut DbConn, name: &str) -> QueryResult<Option<ServiceInfo>> {
    services::table
        .filter(services::name.eq(name))
        .select((services::id, services::is_active))
        .first::<(i32, bool)>(conn)
        .optional()
        .map(|found| found.map(|(id, active)| ServiceInfo { id, active }))
}
