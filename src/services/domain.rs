//! A service's form, and what it becomes once valid.

use serde::Deserialize;

use crate::templates::FieldErrors;
use crate::text::parse_description;

const MAX_NAME_CHARS: usize = 64;
const MAX_LABEL_CHARS: usize = 80;

/// What the name field says when another service has the name.
pub const NAME_TAKEN: &str = "A service with this name already exists";

/// The form as the browser sent it: every field a string, so a failed
/// submission can be shown again exactly as typed. A missing field is empty
/// (an unchecked "Active" sends nothing), so `Default` is the empty form and
/// [`ServiceForm::new_service`] the one a new service starts from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceForm {
    pub name: String,
    pub label: String,
    pub description: String,
    pub kind: String,
    pub is_active: Option<String>,
}

impl ServiceForm {
    /// A new service: an active API.
    pub fn new_service() -> Self {
        ServiceForm {
            kind: ServiceKind::Api.as_str().into(),
            is_active: Some("true".into()),
            ..ServiceForm::default()
        }
    }

    /// The kind the form shows as chosen (API when none was sent).
    pub fn chosen_kind(&self) -> &str {
        match self.kind.trim() {
            "" => ServiceKind::Api.as_str(),
            other => other,
        }
    }
}

/// A service name: the first path segment of the requests it answers, so
/// trimmed, 1 to 64 characters of `a-z`, `0-9`, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(input: &str) -> Result<Self, String> {
        // The character rule first: it is the more helpful message.
        if !input
            .trim()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err("Use only lowercase letters, digits, - and _".into());
        }
        crate::text::required_line(input, MAX_NAME_CHARS, "Service name").map(ServiceName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// "Label": what people call the service; trimmed, 1 to 80 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLabel(String);

impl ServiceLabel {
    pub fn parse(input: &str) -> Result<Self, String> {
        crate::text::required_line(input, MAX_LABEL_CHARS, "Label").map(ServiceLabel)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of API a service is; stored as `api` or `file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    Api,
    File,
}

impl ServiceKind {
    pub fn parse(input: &str) -> Result<Self, String> {
        match input.trim() {
            "api" => Ok(ServiceKind::Api),
            "file" => Ok(ServiceKind::File),
            _ => Err("Choose API or File storage".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Api => "api",
            ServiceKind::File => "file",
        }
    }

    /// The kind as the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            ServiceKind::Api => "API",
            ServiceKind::File => "File storage",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewService {
    pub name: ServiceName,
    pub label: ServiceLabel,
    pub description: String,
    pub kind: ServiceKind,
    pub is_active: bool,
}

impl NewService {
    /// Parses every field and reports all their errors together.
    pub fn parse(form: &ServiceForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = ServiceName::parse(&form.name)
            .map_err(|e| errors.add("name", e))
            .ok();
        let label = ServiceLabel::parse(&form.label)
            .map_err(|e| errors.add("label", e))
            .ok();
        let description = parse_description(&form.description)
            .map_err(|e| errors.add("description", e))
            .ok();
        let kind = ServiceKind::parse(form.chosen_kind())
            .map_err(|e| errors.add("kind", e))
            .ok();
        match (name, label, description, kind) {
            (Some(name), Some(label), Some(description), Some(kind)) => Ok(NewService {
                name,
                label,
                description,
                kind,
                is_active: form.is_active.is_some(),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, label: &str, kind: &str) -> ServiceForm {
        ServiceForm {
            name: name.into(),
            label: label.into(),
            kind: kind.into(),
            ..ServiceForm::new_service()
        }
    }

    #[test]
    fn service_name_is_a_trimmed_path_segment() {
        assert_eq!(ServiceName::parse("  db ").unwrap().as_str(), "db");
        assert_eq!(ServiceName::parse("my-api_2").unwrap().as_str(), "my-api_2");
        assert_eq!(
            ServiceName::parse(&"a".repeat(64)).unwrap().as_str().len(),
            64
        );
        assert_eq!(
            ServiceName::parse("   ").unwrap_err(),
            "Service name required"
        );
        assert_eq!(
            ServiceName::parse(&"a".repeat(65)).unwrap_err(),
            "Service name must be at most 64 characters"
        );
        for bad in ["Db", "my api", "a/b", "a.b", "é", "a\nb", "%2e"] {
            assert_eq!(
                ServiceName::parse(bad).unwrap_err(),
                "Use only lowercase letters, digits, - and _",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn label_is_required_and_bounded() {
        assert_eq!(
            ServiceLabel::parse(" Database ").unwrap().as_str(),
            "Database"
        );
        assert_eq!(ServiceLabel::parse("").unwrap_err(), "Label required");
        assert!(ServiceLabel::parse(&"l".repeat(80)).is_ok());
        assert_eq!(
            ServiceLabel::parse(&"l".repeat(81)).unwrap_err(),
            "Label must be at most 80 characters"
        );
        assert!(ServiceLabel::parse("a\tb").is_err());
    }

    #[test]
    fn kind_is_api_or_file_and_defaults_to_api() {
        assert_eq!(ServiceKind::parse("file"), Ok(ServiceKind::File));
        assert_eq!(ServiceKind::parse("api"), Ok(ServiceKind::Api));
        assert!(ServiceKind::parse("ftp").is_err());
        assert_eq!(
            NewService::parse(&form("db", "Database", "")).unwrap().kind,
            ServiceKind::Api
        );
        assert_eq!(ServiceKind::File.label(), "File storage");
    }

    #[test]
    fn form_becomes_a_service() {
        let service = NewService::parse(&ServiceForm {
            description: "  rows and tables ".into(),
            is_active: None,
            ..form(" db ", " Database ", "file")
        })
        .unwrap();
        assert_eq!(service.name.as_str(), "db");
        assert_eq!(service.label.as_str(), "Database");
        assert_eq!(service.description, "rows and tables");
        assert_eq!(service.kind, ServiceKind::File);
        assert!(!service.is_active);
        assert!(
            NewService::parse(&form("db", "Database", "api"))
                .unwrap()
                .is_active
        );
    }

    #[test]
    fn an_unchecked_active_box_means_inactive() {
        let form: ServiceForm =
            serde_urlencoded::from_str("name=db&label=Database&kind=api").unwrap();
        assert!(!NewService::parse(&form).unwrap().is_active);
        let form: ServiceForm =
            serde_urlencoded::from_str("name=db&label=Database&is_active=true").unwrap();
        assert!(NewService::parse(&form).unwrap().is_active);
    }

    #[test]
    fn all_errors_are_reported_together() {
        let errors = NewService::parse(&ServiceForm {
            description: "d".repeat(256),
            ..form("Bad Name", "", "ftp")
        })
        .unwrap_err();
        assert!(
            errors.has("name")
                && errors.has("label")
                && errors.has("description")
                && errors.has("kind")
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[a-z0-9_ -]{0,70}",
            "\\PC{0,90}",
            Just("<script>alert(1)</script>".to_owned()),
            Just("api".to_owned()),
            Just("file".to_owned()),
        ]
    }

    proptest! {
        #[test]
        fn a_parsed_service_keeps_what_was_typed(
            name in field(), label in field(), description in field(), kind in field(),
            active in proptest::option::of(field()),
        ) {
            let form = ServiceForm { name, label, description, kind, is_active: active };
            match NewService::parse(&form) {
                Ok(service) => {
                    prop_assert_eq!(service.name.as_str(), form.name.trim());
                    prop_assert!(service.name.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'));
                    prop_assert_eq!(service.label.as_str(), form.label.trim());
                    prop_assert_eq!(service.description.as_str(), form.description.trim());
                    prop_assert_eq!(service.kind.as_str(), form.chosen_kind());
                    prop_assert_eq!(service.is_active, form.is_active.is_some());
                }
                Err(errors) => prop_assert!(!errors.is_empty()),
            }
        }

        #[test]
        fn a_service_name_is_a_path_segment(name in "[a-z0-9_-]{1,64}") {
            prop_assert_eq!(ServiceName::parse(&name).map(|n| n.as_str().to_owned()), Ok(name));
        }
    }
}
