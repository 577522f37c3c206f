//! Administrators as domain types: their credentials, the forms and what they
//! become once valid, where a sign-in may lead, and the throttle's rules.
//! Passwords are never kept in a form that is shown again, and the forms
//! have no `Debug`.

pub mod credentials;
pub mod throttle;
pub mod token;

use serde::Deserialize;

pub use self::credentials::{Email, Password};
use crate::templates::FieldErrors;

const MAX_NAME_CHARS: usize = 64;
pub const PASSWORDS_DIFFER: &str = "The passwords do not match";
/// What the email field says when another administrator has the address.
pub const EMAIL_TAKEN: &str = "An administrator with this email already exists";

/// Where to send an admin after signing in: only a local path, never another
/// site (`//evil.example`, `/\evil.example`, `https://...`). keyward writes
/// `next` from request URIs, which are printable ASCII (anything else comes
/// percent-encoded); other bytes could not even be sent in a `Location`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.bytes().all(|b| b.is_ascii_graphic())
                && !path.starts_with("/login")
                && !path.starts_with("/logout") =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// "Create administrator". A field the browser left out is empty.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct AdminForm {
    pub email: String,
    pub name: String,
    pub password: String,
    pub password_confirm: String,
}

impl AdminForm {
    /// The form as it is shown again after an error: without the passwords.
    pub fn without_passwords(self) -> Self {
        AdminForm {
            password: String::new(),
            password_confirm: String::new(),
            ..self
        }
    }
}

/// An administrator's name: optional, trimmed, at most 64 characters, no
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminName(String);

impl AdminName {
    pub fn parse(input: &str) -> Result<Self, String> {
        if input.trim().is_empty() {
            return Ok(AdminName(String::new()));
        }
        crate::text::required_line(input, MAX_NAME_CHARS, "Name").map(AdminName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password typed twice: the first must meet the length rule, the second
/// must match it. Errors go to the two fields named.
fn parse_new_password(
    password: &str,
    confirm: &str,
    fields: (&'static str, &'static str),
    errors: &mut FieldErrors,
) -> Option<Password> {
    let parsed = Password::parse(password)
        .map_err(|e| errors.add(fields.0, e))
        .ok()?;
    if password != confirm {
        errors.add(fields.1, PASSWORDS_DIFFER);
        return None;
    }
    Some(parsed)
}

#[derive(Debug)]
pub struct NewAdmin {
    pub email: Email,
    pub name: AdminName,
    pub password: Password,
}

impl NewAdmin {
    pub fn parse(form: &AdminForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let email = Email::parse(&form.email)
            .map_err(|e| errors.add("email", e))
            .ok();
        let name = AdminName::parse(&form.name)
            .map_err(|e| errors.add("name", e))
            .ok();
        let password = parse_new_password(
            &form.password,
            &form.password_confirm,
            ("password", "password_confirm"),
            &mut errors,
        );
        match (email, name, password) {
            (Some(email), Some(name), Some(password)) => Ok(NewAdmin {
                email,
                name,
                password,
            }),
            _ => Err(errors),
        }
    }
}

/// "Change password". Never shown again: the page after an error is blank.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub current_password: String,
    pub new_password: String,
    pub new_password_confirm: String,
}

impl PasswordForm {
    /// The new password, if it meets the rules; errors by field otherwise
    /// (the current password is checked against the stored hash separately).
    pub fn parse(&self, errors: &mut FieldErrors) -> Option<Password> {
        if self.current_password.is_empty() {
            errors.add("current_password", "Current password required");
        }
        parse_new_password(
            &self.new_password,
            &self.new_password_confirm,
            ("new_password", "new_password_confirm"),
            errors,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, name: &str, password: &str, confirm: &str) -> AdminForm {
        AdminForm {
            email: email.into(),
            name: name.into(),
            password: password.into(),
            password_confirm: confirm.into(),
        }
    }

    #[test]
    fn name_is_optional_trimmed_and_bounded() {
        assert_eq!(AdminName::parse("   ").unwrap().as_str(), "");
        assert_eq!(AdminName::parse(" Ada ").unwrap().as_str(), "Ada");
        assert!(AdminName::parse(&"ü".repeat(64)).is_ok());
        assert_eq!(
            AdminName::parse(&"x".repeat(65)).unwrap_err(),
            "Name must be at most 64 characters"
        );
        assert!(AdminName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn form_becomes_an_administrator() {
        let admin = NewAdmin::parse(&form(
            " Ada@Example.com ",
            " Ada ",
            "correct horse battery",
            "correct horse battery",
        ))
        .unwrap();
        assert_eq!(admin.email.as_str(), "ada@example.com");
        assert_eq!(admin.name.as_str(), "Ada");
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = NewAdmin::parse(&form("ada", &"x".repeat(65), "short", "short")).unwrap_err();
        assert!(errors.has("email") && errors.has("name"));
        assert_eq!(
            errors.get("password"),
            Some("Password must be at least 12 characters")
        );
        assert!(!errors.has("password_confirm"));

        let errors = NewAdmin::parse(&form(
            "ada@example.com",
            "",
            "correct horse battery",
            "correct horse batterz",
        ))
        .unwrap_err();
        assert_eq!(errors.get("password_confirm"), Some(PASSWORDS_DIFFER));
    }

    #[test]
    fn a_password_change_needs_the_current_one_and_a_match() {
        let mut errors = FieldErrors::default();
        let change = PasswordForm {
            current_password: String::new(),
            new_password: "a new long password".into(),
            new_password_confirm: "a new long password".into(),
        };
        assert!(change.parse(&mut errors).is_some());
        assert_eq!(
            errors.get("current_password"),
            Some("Current password required")
        );

        let mut errors = FieldErrors::default();
        let change = PasswordForm {
            current_password: "old".into(),
            new_password: "a new long password".into(),
            new_password_confirm: "a new long passworD".into(),
        };
        assert!(change.parse(&mut errors).is_none());
        assert_eq!(errors.get("new_password_confirm"), Some(PASSWORDS_DIFFER));
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/api-keys?page=2")), "/api-keys?page=2");
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "/\t/x",
            "/login",
            "/api-keys?q=ключ",
            "/a b",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
