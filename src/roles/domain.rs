//! A role's form, and what it becomes once valid.

use serde::Deserialize;

use crate::apps::domain::parse_description;
use crate::templates::FieldErrors;

const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    pub name: String,
    pub description: String,
    pub is_active: Option<String>,
}

impl Default for RoleForm {
    fn default() -> Self {
        RoleForm { name: String::new(), description: String::new(), is_active: Some("true".into()) }
    }
}

/// A role name: trimmed, 1 to 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleName(String);

impl RoleName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        if name.is_empty() {
            return Err("Role name required".into());
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("Role name must be at most {MAX_NAME_CHARS} characters"));
        }
        if name.chars().any(char::is_control) {
            return Err("Role name cannot contain control characters".into());
        }
        Ok(RoleName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: RoleName,
    pub description: String,
    pub is_active: bool,
}

impl NewRole {
    pub fn parse(form: &RoleForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = RoleName::parse(&form.name).map_err(|e| errors.add("name", e)).ok();
        let description = parse_description(&form.description).map_err(|e| errors.add("description", e)).ok();
        match (name, description) {
            (Some(name), Some(description)) => {
                Ok(NewRole { name, description, is_active: form.is_active.is_some() })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_name_rules() {
        assert_eq!(RoleName::parse("  Readers ").unwrap().as_str(), "Readers");
        assert_eq!(RoleName::parse("").unwrap_err(), "Role name required");
        assert!(RoleName::parse(&"r".repeat(65)).is_err());
        assert!(RoleName::parse("a\nb").is_err());
    }

    #[test]
    fn form_becomes_a_role() {
        let form = RoleForm { name: "Readers".into(), description: "read only".into(), is_active: None };
        let role = NewRole::parse(&form).unwrap();
        assert!(!role.is_active);
        assert_eq!(role.description, "read only");
        let errors = NewRole::parse(&RoleForm { name: String::new(), description: "d".repeat(256), is_active: None })
            .unwrap_err();
        assert!(errors.has("name") && errors.has("description"));
    }
}
