//! The JSON the management API's API-key endpoints read and answer, and
//! the list's query parameters as the list page's query.

use actix_web::http::StatusCode;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{RateLimitJson, utc};
use crate::apps::domain::listing::{ListQuery, ListedApp, Page, Sort, Status, parse_cursor};
use crate::apps::domain::{App, AppForm, AppLocation};
use crate::error::AppError;
use crate::limits::{Quota, Refill};
use crate::paging::Direction;

/// Where the application lives ("App Location").
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LocationJson {
    /// No storage required: a remote device, client, or desktop.
    None,
    /// On a provisioned file storage service. A stored app's service is
    /// `null` once that service was deleted.
    FileStorage {
        storage_service_id: Option<i64>,
        /// Default `applications`.
        #[serde(default)]
        folder: Option<String>,
        #[serde(default)]
        launch_path: Option<String>,
    },
    /// On this web server.
    WebServer { path: String },
    /// On a remote URL (http or https).
    RemoteUrl { url: String },
}

impl From<&AppLocation> for LocationJson {
    fn from(location: &AppLocation) -> Self {
        match location {
            AppLocation::NoStorage => LocationJson::None,
            AppLocation::FileStorage {
                service_id,
                folder,
                launch_path,
            } => LocationJson::FileStorage {
                storage_service_id: service_id.map(i64::from),
                folder: Some(folder.clone()),
                launch_path: launch_path.clone(),
            },
            AppLocation::WebServer { path } => LocationJson::WebServer { path: path.clone() },
            AppLocation::RemoteUrl { url } => LocationJson::RemoteUrl { url: url.clone() },
        }
    }
}

impl LocationJson {
    /// Writes this location into the form's fields.
    pub(super) fn fill(&self, form: &mut AppForm) {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        match self {
            LocationJson::None => form.location = "0".into(),
            LocationJson::FileStorage {
                storage_service_id,
                folder,
                launch_path,
            } => {
                form.location = "1".into();
                form.storage_service_id = storage_service_id
                    .map(|id| id.to_string())
                    .unwrap_or_default();
                form.storage_container = text(folder);
                form.launch_path = text(launch_path);
            }
            LocationJson::WebServer { path } => {
                form.location = "3".into();
                form.web_path = path.clone();
            }
            LocationJson::RemoteUrl { url } => {
                form.location = "2".into();
                form.url = url.clone();
            }
        }
    }
}

/// An API key ("app"). The key itself is never here, only its start.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppJson {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub location: LocationJson,
    pub role_id: Option<i32>,
    /// The start of the key, for telling keys apart (`kw_4fQ9ab`).
    pub key_prefix: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// Until when the key it replaced keeps working, after a roll.
    pub previous_key_expires_at: Option<DateTime<Utc>>,
    /// The addresses and CIDR ranges the key may be used from; empty: anywhere.
    #[schema(example = json!(["10.0.0.0/8", "2001:db8::/32"]))]
    pub allowed_ips: Vec<String>,
    /// The key's own rate limits; empty: its role's (if any).
    pub rate_limits: Vec<RateLimitJson>,
    /// The key's quota and what is left of it; `null`: none.
    pub quota: Option<QuotaStateJson>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// When a quota's balance is restored to its total: `never`, `daily` (00:00
/// UTC) or `monthly` (00:00 UTC on the 1st).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefillJson {
    Never,
    Daily,
    Monthly,
}

impl From<Refill> for RefillJson {
    fn from(refill: Refill) -> Self {
        match refill {
            Refill::Never => RefillJson::Never,
            Refill::Daily => RefillJson::Daily,
            Refill::Monthly => RefillJson::Monthly,
        }
    }
}

impl RefillJson {
    pub fn refill(self) -> Refill {
        match self {
            RefillJson::Never => Refill::Never,
            RefillJson::Daily => Refill::Daily,
            RefillJson::Monthly => Refill::Monthly,
        }
    }
}

/// A key's quota as set: `total` requests, refilled (reset to the total) as
/// `refill` says.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaJson {
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64, example = 10000)]
    pub total: i64,
    /// Default `never`.
    #[serde(default)]
    pub refill: Option<RefillJson>,
}

/// A key's quota, with what is left of it in the current period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuotaStateJson {
    pub total: u64,
    pub refill: RefillJson,
    /// Requests counted in the current period (counts reach the database
    /// within a second of the verification).
    pub used: u64,
    pub remaining: u64,
    /// When the balance is next restored; `null` for `never`.
    pub refills_at: Option<DateTime<Utc>>,
}

impl QuotaStateJson {
    pub fn new(quota: &Quota, used: u64, now: NaiveDateTime) -> Self {
        let at = crate::limits::unix_seconds(now);
        QuotaStateJson {
            total: quota.total,
            refill: quota.refill.into(),
            used,
            remaining: quota.total.saturating_sub(used),
            refills_at: quota
                .refill
                .next_refill(at)
                .and_then(|next| DateTime::from_timestamp(next, 0)),
        }
    }
}

impl AppJson {
    /// An app as the API answers it, its quota's use (`quota_used`, this
    /// period's count) at `now`.
    pub fn new(app: &App, quota_used: u64, now: NaiveDateTime) -> Self {
        AppJson {
            id: app.id,
            name: app.name.clone(),
            description: app.description.clone(),
            is_active: app.is_active,
            location: LocationJson::from(&app.location),
            role_id: app.role_id,
            key_prefix: app.key_prefix.clone(),
            expires_at: app.expires_at.map(utc),
            previous_key_expires_at: app.previous_key_expires_at.map(utc),
            allowed_ips: app.allowed_ips.entries(),
            rate_limits: app.rate_limits.iter().map(RateLimitJson::from).collect(),
            quota: app
                .quota
                .map(|quota| QuotaStateJson::new(&quota, quota_used, now)),
            created_at: utc(app.created_at),
            last_used_at: app.last_used_at.map(utc),
        }
    }
}

/// An app with its new key: the one answer that holds a key.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppWithKey {
    #[serde(flatten)]
    pub app: AppJson,
    /// The whole key. Store it now: keyward keeps only its hash.
    pub key: String,
}

/// One row of the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppSummary {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub key_prefix: String,
    pub role_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// What the key's quota has left in the current period; `null`: no quota.
    pub quota_remaining: Option<u64>,
}

impl From<ListedApp> for AppSummary {
    fn from(app: ListedApp) -> Self {
        AppSummary {
            id: app.id,
            name: app.name,
            description: app.description,
            is_active: app.is_active,
            key_prefix: app.key_prefix,
            role_name: app.role_name,
            created_at: utc(app.created_at),
            last_used_at: app.last_used_at.map(utc),
            expires_at: app.expires_at.map(utc),
            quota_remaining: app.quota_left,
        }
    }
}

/// A page of the list, and the URLs of the pages beside it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppList {
    pub apps: Vec<AppSummary>,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusParam {
    All,
    Active,
    Inactive,
    Expired,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortParam {
    Name,
    Created,
    LastUsed,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirParam {
    Asc,
    Desc,
}

/// What the list can be asked for, as on the API Keys page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Searched for in names and descriptions.
    #[param(max_length = 255)]
    pub q: Option<String>,
    #[param(inline)]
    pub status: Option<StatusParam>,
    #[param(inline)]
    pub sort: Option<SortParam>,
    #[param(inline)]
    pub dir: Option<DirParam>,
    /// From 1 to 100; 50 unless asked.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// The page after this cursor (from `next`).
    pub after: Option<String>,
    /// The page before this cursor (from `previous`).
    pub before: Option<String>,
}

impl ListParams {
    /// The list these parameters ask for, or what is wrong with them.
    pub(super) fn query(&self) -> Result<ListQuery, AppError> {
        let bad = |message: &str| AppError::api(StatusCode::BAD_REQUEST, message);
        let mut query = ListQuery::parse(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("q", self.q.as_deref().unwrap_or_default())
                .finish(),
        );
        query.status = match self.status {
            None | Some(StatusParam::All) => Status::All,
            Some(StatusParam::Active) => Status::Active,
            Some(StatusParam::Inactive) => Status::Inactive,
            Some(StatusParam::Expired) => Status::Expired,
        };
        query.sort = match self.sort {
            None | Some(SortParam::Name) => Sort::Name,
            Some(SortParam::Created) => Sort::Created,
            Some(SortParam::LastUsed) => Sort::LastUsed,
        };
        query.dir = match self.dir {
            None | Some(DirParam::Asc) => Direction::Asc,
            Some(DirParam::Desc) => Direction::Desc,
        };
        query.per_page = crate::paging::requested_per_page(self.per_page).map_err(bad)?;
        let cursor = |text: &str| {
            parse_cursor(text, query.sort).ok_or_else(|| {
                bad("The cursor is not one of this list's: take it from next or previous.")
            })
        };
        query.page = match (&self.after, &self.before) {
            (Some(_), Some(_)) => {
                return Err(bad("Ask for the page after or before a cursor, not both."));
            }
            (Some(after), None) => Page::After(cursor(after)?),
            (None, Some(before)) => Page::Before(cursor(before)?),
            (None, None) => Page::First,
        };
        Ok(query)
    }
}

/// A field the client may leave out (unchanged) or set to `null` (cleared).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A new API key. Only `name` is required: a key is active, needs no
/// storage and has no role and no expiry unless told otherwise.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppJson {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub location: Option<LocationJson>,
    #[serde(default)]
    pub role_id: Option<i64>,
    /// RFC 3339, in the future.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// IPv4/IPv6 addresses and CIDR ranges the key may be used from (at
    /// most 100); left out or empty: anywhere.
    #[serde(default)]
    #[schema(max_items = 100, example = json!(["10.0.0.0/8", "2001:db8::/32"]))]
    pub allowed_ips: Option<Vec<String>>,
    /// At most 5, one a window; left out or empty: the role's.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub rate_limits: Option<Vec<RateLimitJson>>,
    /// Left out or `null`: no quota.
    #[serde(default)]
    pub quota: Option<QuotaJson>,
}

/// Changes to an API key: what is left out stays as it is; `role_id` and
/// `expires_at` set to `null` are cleared, `allowed_ips` set to `[]` allows
/// any address again.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppPatchJson {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub location: Option<LocationJson>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub role_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Option<String>>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub allowed_ips: Option<Vec<String>>,
    /// `[]`: the role's limits again.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub rate_limits: Option<Vec<RateLimitJson>>,
    /// `null` removes the quota (and what was counted stays for a new one
    /// in the same period).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<QuotaJson>)]
    pub quota: Option<Option<QuotaJson>>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum GraceParam {
    #[serde(rename = "now")]
    Now,
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "24h")]
    OneDay,
    #[serde(rename = "7d")]
    SevenDays,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollJson {
    /// How long the old key keeps working: `now`, `1h`, `24h` or `7d`.
    pub grace: GraceParam,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateJson {
    /// The copy's name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveJson {
    pub active: bool,
}
