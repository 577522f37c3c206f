//! The Create and Edit Application form, and what it becomes once valid.

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::allowed_ips::AllowedIps;
use super::app::App;
use super::location::{AppLocation, DEFAULT_STORAGE_FOLDER, LocationFields};
use crate::limits::{Quota, RateLimits, Refill};
use crate::templates::FieldErrors;
use crate::text::parse_description;

const MAX_NAME_CHARS: usize = 64;

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
    /// "Allowed addresses": addresses and CIDR ranges, one a line (or
    /// separated by commas); empty for anywhere.
    pub allowed_ips: String,
    /// "Rate limits": one a line, like `100/minute`; empty for the role's.
    pub rate_limits: String,
    /// "Quota": a number of requests, or empty for none.
    pub quota_total: String,
    /// "Refills": `never`, `daily` or `monthly`.
    pub quota_refill: String,
}

impl AppForm {
    /// The form as the Edit Application page first shows a stored app.
    pub fn from_stored(app: &App) -> Self {
        let [
            location,
            storage_service_id,
            storage_container,
            launch_path,
            web_path,
            url,
        ] = app.location.form_fields();
        AppForm {
            name: app.name.clone(),
            description: app.description.clone(),
            is_active: app.is_active.then(|| "true".into()),
            location,
            storage_service_id,
            storage_container,
            launch_path,
            web_path,
            url,
            role_id: app.role_id.map(|id| id.to_string()).unwrap_or_default(),
            expires_at: app
                .expires_at
                .map(|at| at.format(EXPIRY_FORMAT).to_string())
                .unwrap_or_default(),
            allowed_ips: app.allowed_ips.entries().join("\n"),
            rate_limits: app.rate_limits.form_text(),
            quota_total: app.quota.map(|q| q.total.to_string()).unwrap_or_default(),
            quota_refill: app
                .quota
                .map_or(Refill::Never, |q| q.refill)
                .as_str()
                .to_owned(),
        }
    }

    /// The location fields of the form.
    pub fn location_fields(&self) -> LocationFields<'_> {
        LocationFields {
            location: &self.location,
            storage_service_id: &self.storage_service_id,
            storage_container: &self.storage_container,
            launch_path: &self.launch_path,
            web_path: &self.web_path,
            url: &self.url,
        }
    }

    /// A new app as the form first shows it: active, no storage, the default
    /// storage folder, no role.
    pub fn new_app() -> Self {
        AppForm {
            is_active: Some("true".into()),
            location: "0".into(),
            storage_container: DEFAULT_STORAGE_FOLDER.into(),
            quota_refill: Refill::Never.as_str().into(),
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

/// A valid Create Application form.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub name: AppName,
    pub description: String,
    pub is_active: bool,
    pub location: AppLocation,
    pub role_id: Option<i32>,
    pub expires_at: Option<NaiveDateTime>,
    pub allowed_ips: AllowedIps,
    pub rate_limits: RateLimits,
    pub quota: Option<Quota>,
}

impl NewApp {
    /// An app with a name, a description and whether it is active, and
    /// the rest as the Create form starts: No Storage Required, no role, no
    /// expiry, no address restriction, no rate limits and no quota.
    pub fn plain(name: AppName, description: String, is_active: bool) -> Self {
        NewApp {
            name,
            description,
            is_active,
            location: AppLocation::NoStorage,
            role_id: None,
            expires_at: None,
            allowed_ips: AllowedIps::default(),
            rate_limits: RateLimits::default(),
            quota: None,
        }
    }

    /// Every problem at once, by field, so the form can show them all.
    pub fn parse(form: &AppForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = AppName::parse(&form.name)
            .map_err(|e| errors.add("name", e))
            .ok();
        let description = parse_description(&form.description)
            .map_err(|e| errors.add("description", e))
            .ok();
        let location = AppLocation::parse(form.location_fields(), &mut errors);
        let expires_at = parse_expiry(&form.expires_at)
            .map_err(|e| errors.add("expires_at", e))
            .ok();
        let allowed_ips = AllowedIps::parse(&form.allowed_ips)
            .map_err(|e| errors.add("allowed_ips", e))
            .ok();
        let rate_limits = RateLimits::parse(&form.rate_limits)
            .map_err(|e| errors.add("rate_limits", e))
            .ok();
        let quota = Quota::parse(&form.quota_total, &form.quota_refill)
            .map_err(|(field, e)| errors.add(field, e))
            .ok();
        let role_id = match form.role_id.trim() {
            "" => Some(None),
            id => id
                .parse::<i32>()
                .map(Some)
                .map_err(|_| errors.add("role_id", "Unknown role"))
                .ok(),
        };
        match (
            name,
            description,
            location,
            role_id,
            expires_at,
            allowed_ips,
            rate_limits,
            quota,
        ) {
            (
                Some(name),
                Some(description),
                Some(location),
                Some(role_id),
                Some(expires_at),
                Some(allowed_ips),
                Some(rate_limits),
                Some(quota),
            ) if errors.is_empty() => Ok(NewApp {
                name,
                description,
                is_active: form.is_active.is_some(),
                location,
                role_id,
                expires_at,
                allowed_ips,
                rate_limits,
                quota,
            }),
            _ => Err(errors),
        }
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

/// A duplicate's description: the original's with " (copy)", within the limit.
pub fn copied_description(original: &str) -> String {
    const SUFFIX: &str = " (copy)";
    let room = 255 - SUFFIX.chars().count();
    let kept: String = original.chars().take(room).collect();
    format!("{}{SUFFIX}", kept.trim_end())
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
