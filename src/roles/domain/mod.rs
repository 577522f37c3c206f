//! A role's form, and what it becomes once valid.

use serde::Deserialize;

pub mod rules;

use self::rules::{Component, Rule, Verbs};
use crate::limits::RateLimits;
use crate::templates::FieldErrors;
use crate::text::parse_description;

const MAX_NAME_CHARS: usize = 64;

/// What the name field says when another role has the name.
pub const NAME_TAKEN: &str = "A role with this name already exists";

/// A field the browser left out is empty: an unchecked "Active" sends nothing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    pub name: String,
    pub description: String,
    pub is_active: Option<String>,
    /// "Default rate limits": one a line, like `100/minute`, for the keys
    /// with the role that set none of their own.
    pub rate_limits: String,
}

impl RoleForm {
    /// A blank form for a new role: active.
    pub fn new_role() -> Self {
        RoleForm {
            is_active: Some("true".into()),
            ..RoleForm::default()
        }
    }
}

/// A role name: trimmed, 1 to 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleName(String);

impl RoleName {
    pub fn parse(input: &str) -> Result<Self, String> {
        crate::text::required_line(input, MAX_NAME_CHARS, "Role name").map(RoleName)
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
    pub rate_limits: RateLimits,
}

impl NewRole {
    pub fn parse(form: &RoleForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = RoleName::parse(&form.name)
            .map_err(|e| errors.add("name", e))
            .ok();
        let description = parse_description(&form.description)
            .map_err(|e| errors.add("description", e))
            .ok();
        let rate_limits = RateLimits::parse(&form.rate_limits)
            .map_err(|e| errors.add("rate_limits", e))
            .ok();
        match (name, description, rate_limits) {
            (Some(name), Some(description), Some(rate_limits)) => Ok(NewRole {
                name,
                description,
                is_active: form.is_active.is_some(),
                rate_limits,
            }),
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
    fn an_unchecked_active_box_means_inactive() {
        let unchecked: RoleForm = serde_urlencoded::from_str("name=Readers").unwrap();
        assert!(!NewRole::parse(&unchecked).unwrap().is_active);
    }

    #[test]
    fn form_becomes_a_role() {
        let form = RoleForm {
            name: "Readers".into(),
            description: "read only".into(),
            is_active: None,
            rate_limits: "100/minute\n10,000/day".into(),
        };
        let role = NewRole::parse(&form).unwrap();
        assert!(!role.is_active);
        assert_eq!(role.description, "read only");
        assert_eq!(
            role.rate_limits.describe(),
            "100 per minute, 10,000 per day"
        );
        let errors = NewRole::parse(&RoleForm {
            name: String::new(),
            description: "d".repeat(256),
            is_active: None,
            rate_limits: "100/fortnight".into(),
        })
        .unwrap_err();
        assert!(errors.has("name") && errors.has("description") && errors.has("rate_limits"));
    }
}

/// The "Add rule" form. Verbs are separate checkboxes (`verb_get`, …).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RuleForm {
    /// Empty for "All services".
    pub service_id: String,
    pub component: String,
    pub verb_get: Option<String>,
    pub verb_post: Option<String>,
    pub verb_put: Option<String>,
    pub verb_patch: Option<String>,
    pub verb_delete: Option<String>,
}

impl RuleForm {
    /// A fresh form: every service, everything, GET only.
    pub fn new_default() -> Self {
        RuleForm {
            component: "*".into(),
            verb_get: Some("on".into()),
            ..RuleForm::default()
        }
    }

    pub fn parse(&self) -> Result<Rule, FieldErrors> {
        let mut errors = FieldErrors::default();
        let service_id = match self.service_id.trim() {
            "" => Some(None),
            id => id
                .parse::<i32>()
                .map(Some)
                .map_err(|_| errors.add("service_id", "Unknown service"))
                .ok(),
        };
        let component = Component::parse(&self.component)
            .map_err(|e| errors.add("component", e))
            .ok();
        let checked = [
            (&self.verb_get, "GET"),
            (&self.verb_post, "POST"),
            (&self.verb_put, "PUT"),
            (&self.verb_patch, "PATCH"),
            (&self.verb_delete, "DELETE"),
        ];
        let verbs = Verbs::parse(
            checked
                .iter()
                .filter(|(on, _)| on.is_some())
                .map(|(_, name)| *name),
        )
        .map_err(|e| errors.add("verbs", e))
        .ok();
        match (service_id, component, verbs) {
            (Some(service_id), Some(component), Some(verbs)) => Ok(Rule {
                service_id,
                component,
                verbs,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod rule_form_tests {
    use super::rules::Verb;
    use super::*;

    #[test]
    fn a_rule_from_the_form() {
        let form = RuleForm {
            service_id: "3".into(),
            component: "_table/*".into(),
            verb_get: Some("on".into()),
            verb_delete: Some("on".into()),
            ..RuleForm::default()
        };
        let rule = form.parse().unwrap();
        assert_eq!(rule.service_id, Some(3));
        assert_eq!(rule.component, Component::Prefix("_table".into()));
        assert!(
            rule.verbs.contains(Verb::Get)
                && rule.verbs.contains(Verb::Delete)
                && !rule.verbs.contains(Verb::Put)
        );
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let errors = RuleForm {
            service_id: "x".into(),
            component: "/bad".into(),
            ..RuleForm::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(errors.get("service_id"), Some("Unknown service"));
        assert!(errors.get("component").unwrap().contains("prefix/*"));
        assert_eq!(errors.get("verbs"), Some("Choose at least one verb"));
        assert_eq!(RuleForm::new_default().parse().unwrap().service_id, None);
    }
}
