//! What the Create Application form becomes once it is valid.

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::queries::AppRow;
use crate::templates::FieldErrors;

const MAX_NAME_CHARS: usize = 64;
const MAX_DESCRIPTION_CHARS: usize = 255;
const MAX_PATH_CHARS: usize = 255;
const MAX_URL_CHARS: usize = 2048;
pub const DEFAULT_STORAGE_FOLDER: &str = "applications";

/// The form as the browser sent it: every field a string, so a failed
/// submission can be shown again exactly as typed. A field the browser left
/// out is empty (an unchecked checkbox sends nothing, so it must not default
/// to checked); [`AppForm::new_app`] is what a blank form shows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppForm {
    pub name: String,
    pub description: String,
    pub is_active: Option<String>,
    pub location: String,
    pub storage_service_id: String,
    pub storage_container: String,
    pub launch_path: String,
    pub web_path: String,
    pub url: String,
    pub role_id: String,
    /// "Expires": `YYYY-MM-DDTHH:MM` in UTC (a datetime-local input), or empty.
    pub expires_at: String,
}

impl AppForm {
    /// The form as the Edit Application page first shows a stored app.
    pub fn from_stored(row: &AppRow, expires_at: Option<NaiveDateTime>) -> Self {
        let (launch_path, web_path) = match row.location {
            1 => (row.path.clone().unwrap_or_default(), String::new()),
            3 => (String::new(), row.path.clone().unwrap_or_default()),
            _ => (String::new(), String::new()),
        };
        AppForm {
            name: row.name.clone(),
            description: row.description.clone(),
            is_active: row.is_active.then(|| "true".into()),
            location: row.location.to_string(),
            storage_service_id: row
                .storage_service_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            storage_container: row
                .storage_container
                .clone()
                .unwrap_or_else(|| DEFAULT_STORAGE_FOLDER.into()),
            launch_path,
            web_path,
            url: row.url.clone().unwrap_or_default(),
            role_id: row.role_id.map(|id| id.to_string()).unwrap_or_default(),
            expires_at: expires_at
                .map(|at| at.format(EXPIRY_FORMAT).to_string())
                .unwrap_or_default(),
        }
    }

    /// A new app as the form first shows it: active, no storage, the default
    /// storage folder, no role.
    pub fn new_app() -> Self {
        AppForm {
            is_active: Some("true".into()),
            location: "0".into(),
            storage_container: DEFAULT_STORAGE_FOLDER.into(),
            ..AppForm::default()
        }
    }
}

/// "Application Name": trimmed, 1 to 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    pub fn parse(input: &str) -> Result<Self, String> {
        crate::text::required_line(input, MAX_NAME_CHARS, "Application name").map(AppName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// "Description": optional, at most 255 characters; line breaks and tabs are
/// allowed (it is a text area), other control characters are not (PostgreSQL
/// cannot even store a NUL).
pub fn parse_description(input: &str) -> Result<String, String> {
    let description = input.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(format!(
            "Description must be at most {MAX_DESCRIPTION_CHARS} characters"
        ));
    }
    if description
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("Description cannot contain control characters".into());
    }
    Ok(description.to_owned())
}

/// "App Location": where the application lives, with exactly the fields that
/// location needs. The numbers are DreamFactory's app types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppLocation {
    /// 0 — remote device, client, or desktop.
    NoStorage,
    /// 1 — on a provisioned file storage service.
    FileStorage {
        service_id: i32,
        folder: String,
        launch_path: Option<String>,
    },
    /// 3 — on this web server.
    WebServer { path: String },
    /// 2 — on a remote URL.
    RemoteUrl { url: String },
}

impl AppLocation {
    pub fn code(&self) -> i32 {
        match self {
            AppLocation::NoStorage => 0,
            AppLocation::FileStorage { .. } => 1,
            AppLocation::RemoteUrl { .. } => 2,
            AppLocation::WebServer { .. } => 3,
        }
    }

    /// Parses the chosen location and only that location's fields; the others
    /// are ignored (without JavaScript the browser sends them all).
    fn parse(form: &AppForm, errors: &mut FieldErrors) -> Option<Self> {
        match form.location.trim() {
            "" | "0" => Some(AppLocation::NoStorage),
            "1" => {
                let service_id = match form.storage_service_id.trim() {
                    "" => {
                        errors.add("storage_service_id", "Choose a storage service");
                        None
                    }
                    id => id
                        .parse::<i32>()
                        .map_err(|_| errors.add("storage_service_id", "Unknown storage service"))
                        .ok(),
                };
                let folder = match form.storage_container.trim() {
                    "" => DEFAULT_STORAGE_FOLDER.to_owned(),
                    folder => folder.to_owned(),
                };
                let folder = check_path(&folder, "storage_container", "Storage folder", errors);
                let launch_path = form.launch_path.trim();
                let launch_path = check_path(launch_path, "launch_path", "Launch path", errors);
                Some(AppLocation::FileStorage {
                    service_id: service_id?,
                    folder: folder?,
                    launch_path: launch_path.filter(|p| !p.is_empty()),
                })
            }
            "3" => {
                let path = form.web_path.trim();
                if path.is_empty() {
                    errors.add("web_path", "Path to application required");
                    return None;
                }
                check_path(path, "web_path", "Path to application", errors)
                    .map(|path| AppLocation::WebServer { path })
            }
            "2" => match parse_url(&form.url) {
                Ok(url) => Some(AppLocation::RemoteUrl { url }),
                Err(message) => {
                    errors.add("url", message);
                    None
                }
            },
            _ => {
                errors.add("location", "Choose one of the four app locations");
                None
            }
        }
    }
}

fn check_path(
    value: &str,
    field: &'static str,
    label: &str,
    errors: &mut FieldErrors,
) -> Option<String> {
    if value.chars().count() > MAX_PATH_CHARS {
        errors.add(
            field,
            format!("{label} must be at most {MAX_PATH_CHARS} characters"),
        );
        return None;
    }
    if value.chars().any(char::is_control) {
        errors.add(field, format!("{label} cannot contain control characters"));
        return None;
    }
    Some(value.to_owned())
}

/// "URL to Application": required, an absolute http or https URL with a host.
fn parse_url(input: &str) -> Result<String, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("URL to application required".into());
    }
    if input.chars().count() > MAX_URL_CHARS {
        return Err(format!("URL must be at most {MAX_URL_CHARS} characters"));
    }
    // The URL parser would silently drop tabs and line breaks: refuse them, so
    // what is stored is what was typed.
    if input.chars().any(char::is_control) {
        return Err("URL cannot contain control characters".into());
    }
    match url::Url::parse(input) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            Ok(url.to_string())
        }
        _ => Err("Enter an http:// or https:// URL, like https://app.example.com/".into()),
    }
}

/// A valid Create Application form.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub name: AppName,
    pub description: String,
    pub is_active: bool,
    pub location: AppLocation,
    pub role_id: Option<i32>,
    pub expires_at: Option<NaiveDateTime>,
}

impl NewApp {
    /// Every problem at once, by field, so the form can show them all.
    pub fn parse(form: &AppForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = AppName::parse(&form.name)
            .map_err(|e| errors.add("name", e))
            .ok();
        let description = parse_description(&form.description)
            .map_err(|e| errors.add("description", e))
            .ok();
        let location = AppLocation::parse(form, &mut errors);
        let expires_at = parse_expiry(&form.expires_at)
            .map_err(|e| errors.add("expires_at", e))
            .ok();
        let role_id = match form.role_id.trim() {
            "" => Some(None),
            id => id
                .parse::<i32>()
                .map(Some)
                .map_err(|_| errors.add("role_id", "Unknown role"))
                .ok(),
        };
        match (name, description, location, role_id, expires_at) {
            (Some(name), Some(description), Some(location), Some(role_id), Some(expires_at))
                if errors.is_empty() =>
            {
                Ok(NewApp {
                    name,
                    description,
                    is_active: form.is_active.is_some(),
                    location,
                    role_id,
                    expires_at,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Where the application can be launched from, as DreamFactory shows it on
/// the edit page: the file under its storage service (below the API base
/// path), the path on this web server, or the remote URL.
pub fn launch_url(
    row: &AppRow,
    storage_service_name: Option<&str>,
    api_base_path: &str,
) -> Option<String> {
    match row.location {
        1 => {
            let service = storage_service_name?;
            let folder = row
                .storage_container
                .as_deref()
                .unwrap_or(DEFAULT_STORAGE_FOLDER);
            let base = api_base_path.trim_end_matches('/');
            let file = row.path.as_deref().unwrap_or("").trim_start_matches('/');
            Some(format!(
                "{base}/{service}/{}/{file}",
                folder.trim_matches('/')
            ))
        }
        3 => row.path.clone(),
        2 => row.url.clone(),
        _ => None,
    }
}

/// The form's way of writing an expiry (a `datetime-local` value, UTC).
pub const EXPIRY_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// "Expires": empty for never, else a UTC date and time.
pub fn parse_expiry(input: &str) -> Result<Option<NaiveDateTime>, String> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    NaiveDateTime::parse_from_str(input, EXPIRY_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(input, "%Y-%m-%d %H:%M"))
        .map(Some)
        .map_err(|_| "Enter a date and time like 2027-01-31T18:00 (UTC), or leave it empty".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> AppForm {
        let mut form = AppForm {
            is_active: None,
            ..AppForm::default()
        };
        for (k, v) in pairs {
            let v = v.to_string();
            match *k {
                "name" => form.name = v,
                "description" => form.description = v,
                "is_active" => form.is_active = Some(v),
                "location" => form.location = v,
                "storage_service_id" => form.storage_service_id = v,
                "storage_container" => form.storage_container = v,
                "launch_path" => form.launch_path = v,
                "web_path" => form.web_path = v,
                "url" => form.url = v,
                "role_id" => form.role_id = v,
                "expires_at" => form.expires_at = v,
                _ => panic!("unknown field {k}"),
            }
        }
        form
    }

    #[test]
    fn name_is_trimmed_required_and_bounded() {
        assert_eq!(
            AppName::parse("  Mobile app ").unwrap().as_str(),
            "Mobile app"
        );
        assert_eq!(
            AppName::parse("   ").unwrap_err(),
            "Application name required"
        );
        assert!(AppName::parse(&"x".repeat(64)).is_ok());
        assert!(
            AppName::parse(&"ü".repeat(64)).is_ok(),
            "64 characters, 128 bytes"
        );
        assert!(
            AppName::parse(&"x".repeat(65))
                .unwrap_err()
                .contains("at most 64")
        );
        assert!(AppName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn description_is_optional_and_bounded() {
        assert_eq!(parse_description("").unwrap(), "");
        assert!(parse_description(&"d".repeat(255)).is_ok());
        assert!(
            parse_description(&"d".repeat(256))
                .unwrap_err()
                .contains("at most 255")
        );
    }

    #[test]
    fn each_location_keeps_only_its_fields() {
        let all = [
            ("name", "A"),
            ("storage_service_id", "1"),
            ("storage_container", "apps"),
            ("launch_path", "index.html"),
            ("web_path", "/var/www/app"),
            ("url", "https://example.com/app"),
        ];
        let with = |location: &str| {
            let mut pairs = all.to_vec();
            pairs.push(("location", location));
            NewApp::parse(&form(&pairs)).unwrap().location
        };
        assert_eq!(with("0"), AppLocation::NoStorage);
        assert_eq!(
            with("1"),
            AppLocation::FileStorage {
                service_id: 1,
                folder: "apps".into(),
                launch_path: Some("index.html".into())
            }
        );
        assert_eq!(
            with("3"),
            AppLocation::WebServer {
                path: "/var/www/app".into()
            }
        );
        assert_eq!(
            with("2"),
            AppLocation::RemoteUrl {
                url: "https://example.com/app".into()
            }
        );
    }

    #[test]
    fn file_storage_defaults_its_folder_and_needs_a_service() {
        let location = NewApp::parse(&form(&[
            ("name", "A"),
            ("location", "1"),
            ("storage_service_id", "2"),
            ("storage_container", " "),
        ]))
        .unwrap()
        .location;
        assert_eq!(
            location,
            AppLocation::FileStorage {
                service_id: 2,
                folder: "applications".into(),
                launch_path: None
            }
        );
        let errors = NewApp::parse(&form(&[("name", "A"), ("location", "1")])).unwrap_err();
        assert_eq!(
            errors.get("storage_service_id"),
            Some("Choose a storage service")
        );
        let errors = NewApp::parse(&form(&[
            ("name", "A"),
            ("location", "1"),
            ("storage_service_id", "x"),
        ]))
        .unwrap_err();
        assert_eq!(
            errors.get("storage_service_id"),
            Some("Unknown storage service")
        );
    }

    #[test]
    fn web_server_needs_a_path_and_remote_url_an_http_url() {
        let errors = NewApp::parse(&form(&[("name", "A"), ("location", "3")])).unwrap_err();
        assert_eq!(errors.get("web_path"), Some("Path to application required"));
        let errors = NewApp::parse(&form(&[("name", "A"), ("location", "2")])).unwrap_err();
        assert_eq!(errors.get("url"), Some("URL to application required"));
        for bad in [
            "example.com",
            "ftp://example.com/",
            "javascript:alert(1)",
            "http://",
            "http://exa mple.com/",
        ] {
            let errors = NewApp::parse(&form(&[("name", "A"), ("location", "2"), ("url", bad)]))
                .unwrap_err();
            assert!(errors.get("url").unwrap().contains("http"), "{bad}");
        }
        let ok = NewApp::parse(&form(&[
            ("name", "A"),
            ("location", "2"),
            ("url", "http://10.0.0.5:8080/x"),
        ]))
        .unwrap();
        assert_eq!(
            ok.location,
            AppLocation::RemoteUrl {
                url: "http://10.0.0.5:8080/x".into()
            }
        );
    }

    #[test]
    fn unknown_location_and_role_are_errors() {
        let errors = NewApp::parse(&form(&[
            ("name", "A"),
            ("location", "7"),
            ("role_id", "abc"),
        ]))
        .unwrap_err();
        assert!(errors.has("location"));
        assert_eq!(errors.get("role_id"), Some("Unknown role"));
    }

    #[test]
    fn all_errors_are_reported_together() {
        let errors = NewApp::parse(&form(&[
            ("description", &"d".repeat(300)),
            ("location", "2"),
        ]))
        .unwrap_err();
        assert!(errors.has("name") && errors.has("description") && errors.has("url"));
    }

    fn stored(
        location: i32,
        service: Option<i32>,
        folder: Option<&str>,
        path: Option<&str>,
        url: Option<&str>,
    ) -> AppRow {
        AppRow {
            id: 1,
            name: "A".into(),
            description: String::new(),
            is_active: true,
            location,
            storage_service_id: service,
            storage_container: folder.map(Into::into),
            path: path.map(Into::into),
            url: url.map(Into::into),
            role_id: None,
            key_hash: String::new(),
            key_prefix: String::new(),
        }
    }

    #[test]
    fn launch_url_of_each_location() {
        let base = "/api/v2/";
        assert_eq!(
            launch_url(&stored(0, None, None, None, None), None, base),
            None
        );
        let file = stored(1, Some(1), Some("applications"), Some("index.html"), None);
        assert_eq!(
            launch_url(&file, Some("files"), base).as_deref(),
            Some("/api/v2/files/applications/index.html")
        );
        assert_eq!(
            launch_url(&file, None, base),
            None,
            "storage service deleted"
        );
        let web = stored(3, None, None, Some("/my-app/index.html"), None);
        assert_eq!(
            launch_url(&web, None, base).as_deref(),
            Some("/my-app/index.html")
        );
        let remote = stored(2, None, None, None, Some("https://app.example.com/"));
        assert_eq!(
            launch_url(&remote, None, base).as_deref(),
            Some("https://app.example.com/")
        );
    }

    #[test]
    fn a_stored_app_fills_the_form_it_came_from() {
        let web = stored(3, None, None, Some("/my-app"), None);
        let form = AppForm::from_stored(&web, None);
        assert_eq!(
            (
                form.location.as_str(),
                form.web_path.as_str(),
                form.launch_path.as_str()
            ),
            ("3", "/my-app", "")
        );
        assert_eq!(
            NewApp::parse(&form).unwrap().location,
            AppLocation::WebServer {
                path: "/my-app".into()
            }
        );
    }

    #[test]
    fn expiry_is_optional_and_a_utc_date_time() {
        assert_eq!(parse_expiry(" ").unwrap(), None);
        let at = parse_expiry("2027-01-31T18:00").unwrap().unwrap();
        assert_eq!(
            at.format("%Y-%m-%d %H:%M:%S").to_string(),
            "2027-01-31 18:00:00"
        );
        assert!(parse_expiry("2027-01-31T18:00:30").unwrap().is_some());
        for bad in ["tomorrow", "2027-13-01T00:00", "31/01/2027 18:00"] {
            assert!(
                parse_expiry(bad)
                    .unwrap_err()
                    .contains("like 2027-01-31T18:00"),
                "{bad}"
            );
        }
        let errors = NewApp::parse(&form(&[("name", "A"), ("expires_at", "soon")])).unwrap_err();
        assert!(errors.has("expires_at"));
    }

    #[test]
    fn an_unchecked_active_box_means_inactive() {
        // Browsers send nothing for an unchecked checkbox.
        let unchecked: AppForm = serde_urlencoded::from_str("name=A&location=0").unwrap();
        assert!(!NewApp::parse(&unchecked).unwrap().is_active);
        let checked: AppForm = serde_urlencoded::from_str("name=A&is_active=true").unwrap();
        assert!(NewApp::parse(&checked).unwrap().is_active);
    }

    #[test]
    fn active_follows_the_checkbox() {
        assert!(!NewApp::parse(&form(&[("name", "A")])).unwrap().is_active);
        assert!(
            NewApp::parse(&form(&[("name", "A"), ("is_active", "true")]))
                .unwrap()
                .is_active
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// What a hostile or careless client may put in any field.
    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "\\PC{0,80}",
            "[ -~]{0,300}",
            "[0-9]{1,12}",
            Just("<script>alert(1)</script>".to_owned()),
            Just("' OR 1=1; DROP TABLE apps; --".to_owned()),
            Just("\u{0}".to_owned()),
            Just("https://app.example.com/a?b=<i>".to_owned()),
            Just("-1".to_owned()),
            Just("99999999999".to_owned()),
        ]
    }

    prop_compose! {
        fn app_form()(
            name in field(), description in field(), active in proptest::option::of(field()),
            location in prop_oneof![Just("0".to_owned()), Just("1".to_owned()), Just("2".to_owned()), Just("3".to_owned()), field()],
            storage_service_id in field(), storage_container in field(), launch_path in field(),
            web_path in field(), url in field(), role_id in field(), expires_at in field(),
        ) -> AppForm {
            AppForm {
                name, description, is_active: active, location, storage_service_id,
                storage_container, launch_path, web_path, url, role_id, expires_at,
            }
        }
    }

    proptest! {
        #[test]
        fn a_parsed_form_keeps_what_was_typed(form in app_form()) {
            let Ok(app) = NewApp::parse(&form) else { return Ok(()) };
            prop_assert_eq!(app.name.as_str(), form.name.trim());
            prop_assert_eq!(app.description.as_str(), form.description.trim());
            prop_assert!(!app.description.contains(char::from(0)));
            prop_assert_eq!(app.is_active, form.is_active.is_some());
            let stored = |s: &str| !s.chars().any(char::is_control) && s.chars().count() <= MAX_URL_CHARS;
            match &app.location {
                AppLocation::NoStorage => prop_assert!(matches!(form.location.trim(), "" | "0")),
                AppLocation::FileStorage { service_id, folder, launch_path } => {
                    prop_assert_eq!(form.location.trim(), "1");
                    prop_assert_eq!(service_id.to_string(), form.storage_service_id.trim().trim_start_matches('+'));
                    prop_assert!(stored(folder) && !folder.is_empty());
                    prop_assert_eq!(launch_path.as_deref().unwrap_or(""), form.launch_path.trim());
                }
                AppLocation::WebServer { path } => {
                    prop_assert_eq!(form.location.trim(), "3");
                    prop_assert_eq!(path.as_str(), form.web_path.trim());
                }
                AppLocation::RemoteUrl { url } => {
                    prop_assert_eq!(form.location.trim(), "2");
                    prop_assert!(stored(url));
                    prop_assert!(url.starts_with("http://") || url.starts_with("https://"));
                }
            }
        }

        #[test]
        fn a_refused_form_says_why_by_field(form in app_form()) {
            if let Err(errors) = NewApp::parse(&form) {
                prop_assert!(!errors.is_empty());
            }
        }

        #[test]
        fn names_within_the_rules_parse(name in "[^\\p{Cc}]{1,64}") {
            prop_assume!(!name.trim().is_empty());
            prop_assert_eq!(AppName::parse(&name).map(|n| n.as_str().to_owned()), Ok(name.trim().to_owned()));
        }

        #[test]
        fn a_stored_app_parses_back_to_itself(form in app_form()) {
            let Ok(app) = NewApp::parse(&form) else { return Ok(()) };
            let (path, folder, service, url) = match &app.location {
                AppLocation::FileStorage { service_id, folder, launch_path } =>
                    (launch_path.clone(), Some(folder.clone()), Some(*service_id), None),
                AppLocation::WebServer { path } => (Some(path.clone()), None, None, None),
                AppLocation::RemoteUrl { url } => (None, None, None, Some(url.clone())),
                AppLocation::NoStorage => (None, None, None, None),
            };
            let row = AppRow {
                id: 1, name: app.name.as_str().to_owned(), description: app.description.clone(),
                is_active: app.is_active, location: app.location.code(), storage_service_id: service,
                storage_container: folder, path, url, role_id: app.role_id,
                key_hash: String::new(), key_prefix: String::new(),
            };
            let again = NewApp::parse(&AppForm::from_stored(&row, app.expires_at)).unwrap();
            prop_assert_eq!(again.location, app.location);
            prop_assert_eq!(again.name, app.name);
            prop_assert_eq!(again.role_id, app.role_id);
        }
    }

    #[test]
    fn descriptions_keep_line_breaks_and_refuse_other_control_characters() {
        assert_eq!(parse_description("a\r\nb\tc").unwrap(), "a\r\nb\tc");
        for bad in ["a\u{0}b", "a\u{7}b", "a\u{1b}[31mb"] {
            assert_eq!(
                parse_description(bad).unwrap_err(),
                "Description cannot contain control characters"
            );
        }
        assert!(parse_url("https://exa\tmple.com/").is_err());
    }
}
