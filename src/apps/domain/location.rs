//! "App Location": where an application lives, with exactly the fields that
//! location needs, read from the form and from the database. The numbers are
//! DreamFactory's app types, and appear nowhere but here.

use crate::templates::FieldErrors;

const MAX_PATH_CHARS: usize = 255;
pub const MAX_URL_CHARS: usize = 2048;
pub const DEFAULT_STORAGE_FOLDER: &str = "applications";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppLocation {
    /// 0 — remote device, client, or desktop.
    NoStorage,
    /// 1 — on a provisioned file storage service. A stored app's service is
    /// `None` once that service was deleted (the database sets it to NULL);
    /// the form then asks for another. A parsed form always names one.
    FileStorage {
        service_id: Option<i32>,
        folder: String,
        launch_path: Option<String>,
    },
    /// 3 — on this web server.
    WebServer { path: String },
    /// 2 — on a remote URL.
    RemoteUrl { url: String },
}

/// The form's location fields, as the browser sent them.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocationFields<'a> {
    pub location: &'a str,
    pub storage_service_id: &'a str,
    pub storage_container: &'a str,
    pub launch_path: &'a str,
    pub web_path: &'a str,
    pub url: &'a str,
}

/// The location columns of a stored app: type, storage service, storage
/// folder, path and URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredLocation<'a> {
    pub code: i32,
    pub storage_service_id: Option<i32>,
    pub storage_container: Option<&'a str>,
    pub path: Option<&'a str>,
    pub url: Option<&'a str>,
}

impl AppLocation {
    /// DreamFactory's number for the location, as stored.
    pub fn code(&self) -> i32 {
        match self {
            AppLocation::NoStorage => 0,
            AppLocation::FileStorage { .. } => 1,
            AppLocation::RemoteUrl { .. } => 2,
            AppLocation::WebServer { .. } => 3,
        }
    }

    /// "App Location" as the form words it.
    pub fn label(&self) -> &'static str {
        match self {
            AppLocation::NoStorage => "No Storage Required",
            AppLocation::FileStorage { .. } => "On a provisioned file storage service",
            AppLocation::RemoteUrl { .. } => "On a remote URL",
            AppLocation::WebServer { .. } => "On this web server",
        }
    }

    /// The stored columns; only this location's are set.
    pub fn stored(&self) -> StoredLocation<'_> {
        let none = StoredLocation {
            code: self.code(),
            storage_service_id: None,
            storage_container: None,
            path: None,
            url: None,
        };
        match self {
            AppLocation::NoStorage => none,
            AppLocation::FileStorage {
                service_id,
                folder,
                launch_path,
            } => StoredLocation {
                storage_service_id: *service_id,
                storage_container: Some(folder),
                path: launch_path.as_deref(),
                ..none
            },
            AppLocation::WebServer { path } => StoredLocation {
                path: Some(path),
                ..none
            },
            AppLocation::RemoteUrl { url } => StoredLocation {
                url: Some(url),
                ..none
            },
        }
    }

    /// A stored app's location. The columns of other locations are ignored
    /// (DreamFactory's imports may carry them); a type keyward does not know
    /// reads as no storage, the location that needs nothing.
    pub fn from_stored(columns: StoredLocation<'_>) -> AppLocation {
        let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
        match columns.code {
            1 => AppLocation::FileStorage {
                service_id: columns.storage_service_id,
                folder: columns
                    .storage_container
                    .unwrap_or(DEFAULT_STORAGE_FOLDER)
                    .to_owned(),
                launch_path: columns.path.map(str::to_owned),
            },
            3 => AppLocation::WebServer {
                path: text(columns.path),
            },
            2 => AppLocation::RemoteUrl {
                url: text(columns.url),
            },
            _ => AppLocation::NoStorage,
        }
    }

    /// Where the application can be launched from, as DreamFactory shows it
    /// on the edit page: the file under its storage service (named
    /// `storage_service_name`, below the API base path), the path on this
    /// web server, or the remote URL.
    pub fn launch_url(
        &self,
        storage_service_name: Option<&str>,
        api_base_path: &str,
    ) -> Option<String> {
        match self {
            AppLocation::NoStorage => None,
            AppLocation::FileStorage {
                folder,
                launch_path,
                ..
            } => {
                let service = storage_service_name?;
                let base = api_base_path.trim_end_matches('/');
                let file = launch_path.as_deref().unwrap_or("").trim_start_matches('/');
                Some(format!(
                    "{base}/{service}/{}/{file}",
                    folder.trim_matches('/')
                ))
            }
            AppLocation::WebServer { path } => Some(path.clone()),
            AppLocation::RemoteUrl { url } => Some(url.clone()),
        }
    }

    /// Parses the chosen location and only that location's fields; the others
    /// are ignored (without JavaScript the browser sends them all).
    pub fn parse(form: LocationFields<'_>, errors: &mut FieldErrors) -> Option<Self> {
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
                    service_id: Some(service_id?),
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
            "2" => match parse_url(form.url) {
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

    /// The form fields that show this location: (location, storage service,
    /// storage folder, launch path, web path, URL).
    pub fn form_fields(&self) -> [String; 6] {
        let mut fields: [String; 6] = Default::default();
        fields[0] = self.code().to_string();
        fields[2] = DEFAULT_STORAGE_FOLDER.to_owned();
        match self {
            AppLocation::NoStorage => {}
            AppLocation::FileStorage {
                service_id,
                folder,
                launch_path,
            } => {
                fields[1] = service_id.map(|id| id.to_string()).unwrap_or_default();
                fields[2] = folder.clone();
                fields[3] = launch_path.clone().unwrap_or_default();
            }
            AppLocation::WebServer { path } => fields[4] = path.clone(),
            AppLocation::RemoteUrl { url } => fields[5] = url.clone(),
        }
        fields
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
pub(super) fn parse_url(input: &str) -> Result<String, String> {
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

#[cfg(test)]
mod tests;
