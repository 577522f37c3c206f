//! `/api/v2/system/role`: roles in DreamFactory's shape, with their rules as
//! `role_service_access_by_role_id`. Each record is written in one
//! transaction (a savepoint in a rolled-back batch) through the Roles
//! feature's own form parsing and queries, with their audit events and the
//! changes that make cached grants stale.

use serde_json::Value;

use super::answer;
use super::batch::Job;
use super::domain::error::DfError;
use super::domain::filter::Fields;
use super::domain::params::{ListParams, RawParams, Wanted};
use super::domain::records::{
    Record, RuleChange, field_errors, role_onto_form, rule_changes, rule_column, rule_form,
};
use super::domain::shapes::{ROLE_FIELDS, only, rule_json};
use super::queries::list;
use super::resource::{Resource, Writable};
use crate::db::DbConn;
use crate::roles::domain::{NAME_TAKEN, NewRole, RoleForm};
use crate::roles::queries::{self as role_queries, InsertError};

const RULES: &str = "role_service_access_by_role_id";

/// The `role` resource.
pub struct Roles;

impl Resource for Roles {
    const FIELDS: Fields = ROLE_FIELDS;

    /// Each role's rules inline with `related=role_service_access_by_role_id`.
    fn read(
        conn: &mut DbConn,
        params: &ListParams,
        raw: &RawParams,
        wanted: &Wanted,
    ) -> Result<(Vec<Value>, Option<i64>), DfError> {
        let listed = list::roles(conn, params).map_err(answer::listed)?;
        let with_rules = raw.related(RULES);
        let rules = if with_rules {
            let ids: Vec<i32> = listed.records.iter().map(|r| r.id).collect();
            list::rules_of(conn, &ids)?
        } else {
            vec![]
        };
        let records = listed
            .records
            .iter()
            .map(|role| {
                let mut record = role.json();
                if with_rules {
                    let of_role = rules
                        .iter()
                        .filter(|rule| rule.1 == role.id)
                        .map(|(id, role_id, service_id, component, verbs)| {
                            rule_json(*id, *role_id, *service_id, component, *verbs)
                        })
                        .collect();
                    record.insert(RULES.into(), Value::Array(of_role));
                }
                only(record, wanted, &[RULES])
            })
            .collect();
        Ok((records, listed.count))
    }
}

fn refused(error: InsertError) -> DfError {
    match error {
        InsertError::NameTaken => DfError::invalid([("name".to_owned(), NAME_TAKEN)]),
        InsertError::Db(error) => error.into(),
    }
}

fn parse(form: &RoleForm) -> Result<NewRole, DfError> {
    NewRole::parse(form).map_err(|errors| field_errors(&errors, str::to_owned))
}

fn unknown_service(error: diesel::result::Error) -> DfError {
    match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        ) => DfError::invalid([("service_id".to_owned(), "Unknown service")]),
        other => other.into(),
    }
}

/// The rule entries of a role record, each as DreamFactory means it.
fn apply_rules(conn: &mut DbConn, role_id: i32, record: &Record, job: &Job) -> Result<(), DfError> {
    for change in rule_changes(record)? {
        let parse = |entry: &Record, stored| {
            rule_form(entry, stored)?
                .parse()
                .map_err(|errors| field_errors(&errors, rule_column))
        };
        match change {
            RuleChange::Add(entry) => {
                let rule = parse(&entry, None)?;
                role_queries::add_rule(conn, role_id, &rule, &job.actor, job.now)?.ok_or_else(
                    || DfError::invalid([("service_id".to_owned(), "Unknown service")]),
                )?;
            }
            RuleChange::Update(rule_id, entry) => {
                let stored = list::rules_of(conn, &[role_id])?
                    .into_iter()
                    .find(|rule| rule.0 == rule_id)
                    .map(|(_, _, service_id, component, verbs)| (service_id, component, verbs))
                    .ok_or_else(|| DfError::not_found(rule_id))?;
                let rule = parse(&entry, Some(&stored))?;
                role_queries::update_rule(conn, role_id, rule_id, &rule, &job.actor, job.now)
                    .map_err(unknown_service)?;
            }
            RuleChange::Remove(rule_id) => {
                if !role_queries::remove_rule(conn, role_id, rule_id, &job.actor, job.now)? {
                    return Err(DfError::not_found(rule_id));
                }
            }
        }
    }
    Ok(())
}

/// Each record in one transaction with its rules (a savepoint inside a
/// rolled-back batch's): a rule refused undoes the record's other changes.
impl Writable for Roles {
    fn create(conn: &mut DbConn, record: &Record, job: &Job) -> Result<Value, DfError> {
        let mut form = RoleForm::new_role();
        role_onto_form(record, &mut form)?;
        let role = parse(&form)?;
        crate::db::write(conn, |conn| {
            let id = role_queries::insert(conn, &role, &job.actor, job.now).map_err(refused)?;
            apply_rules(conn, id, record, job)?;
            Self::read_one(conn, id, &job.raw, &job.wanted)
        })
    }

    fn update(conn: &mut DbConn, id: i32, record: &Record, job: &Job) -> Result<Value, DfError> {
        crate::db::write(conn, |conn| {
            let stored = role_queries::find(conn, id)?.ok_or_else(|| DfError::not_found(id))?;
            let mut form = RoleForm {
                name: stored.name.clone(),
                description: stored.description.clone(),
                is_active: stored.is_active.then(|| "true".into()),
                rate_limits: stored.rate_limits().form_text(),
            };
            role_onto_form(record, &mut form)?;
            let role = parse(&form)?;
            if !role_queries::update(conn, id, &role, &job.actor, job.now).map_err(refused)? {
                return Err(DfError::not_found(id));
            }
            apply_rules(conn, id, record, job)?;
            Self::read_one(conn, id, &job.raw, &job.wanted)
        })
    }

    fn delete(conn: &mut DbConn, id: i32, job: &Job) -> Result<Value, DfError> {
        let answer = Self::read_one(conn, id, &job.raw, &job.wanted)?;
        if !role_queries::delete(conn, id, &job.actor, job.now)? {
            return Err(DfError::not_found(id));
        }
        Ok(answer)
    }
}
