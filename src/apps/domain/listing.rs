//! The state of the API Keys list — search, status filter, sort, page size and
//! page cursor — read from the URL query string and written back into links,
//! so a list can be shared, bookmarked and walked with the back button.
//!
//! Parsing never fails: a value that is missing, unknown or malformed falls
//! back to its default, as a stale bookmark should still open the list.

use chrono::NaiveDateTime;

use crate::limits::Quota;
use crate::paging::{self, Column, DEFAULT_PER_PAGE, Direction, Key, per_page};

/// One row of the API Keys list.
#[derive(Debug, Clone)]
pub struct ListedApp {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub key_prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub role_name: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub quota: Option<Quota>,
    /// What its quota has left in the current period.
    pub quota_left: Option<u64>,
}

impl ListedApp {
    pub fn expired_at(&self, now: &NaiveDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= *now)
    }

    /// "Expires in 3 days" while it expires within `warning_days` of `now`.
    /// "4,998 of 5,000 left", for a key with a quota.
    pub fn quota_text(&self) -> Option<String> {
        let (quota, left) = (self.quota?, self.quota_left?);
        Some(format!(
            "{} of {} left",
            crate::limits::grouped(left),
            crate::limits::grouped(quota.total)
        ))
    }

    pub fn expiry_warning(&self, now: &NaiveDateTime, warning_days: &u32) -> Option<String> {
        super::expiry::warning(self.expires_at, *now, *warning_days)
    }
}

/// Longer searches are cut: no name (64) or description (255) is longer.
const MAX_SEARCH_CHARS: usize = 255;

/// Which apps the list shows: all, active or inactive (the Active switch), or
/// those whose expiry has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    All,
    Active,
    Inactive,
    Expired,
}

impl Status {
    pub fn parse(value: &str) -> Option<Status> {
        match value {
            "all" => Some(Status::All),
            "active" => Some(Status::Active),
            "inactive" => Some(Status::Inactive),
            "expired" => Some(Status::Expired),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::All => "all",
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Expired => "expired",
        }
    }
}

/// The column the list is ordered by (then by id, so the order is total).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Name,
    Created,
    /// Keys never used count as used before any that were.
    LastUsed,
}

impl Sort {
    pub fn parse(value: &str) -> Option<Sort> {
        match value {
            "name" => Some(Sort::Name),
            "created" => Some(Sort::Created),
            "last_used" => Some(Sort::LastUsed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Created => "created",
            Sort::LastUsed => "last_used",
        }
    }

    /// How the column's values behave for keyset pagination.
    pub fn column(self) -> Column {
        match self {
            Sort::Name => Column::Unique,
            Sort::Created => Column::Repeating,
            Sort::LastUsed => Column::RepeatingOrNull,
        }
    }
}

/// The sort column's value in a cursor (`Key::Null`: a key never used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Name(String),
    Time(NaiveDateTime),
}

/// A position in the list: the sort value and id of the row a page continues
/// from. In the URL: `VALUE~ID`, e.g. `after=Kiosk~17` or
/// `after=2026-11-26T09:14:00.123456~17` (`never~17` for a key never used).
pub type Cursor = paging::Cursor<SortValue>;

/// Which page of the list: the first, the one after a row, or the one before.
pub type Page = paging::Page<SortValue>;

/// The timestamp format of cursors: every fractional digit the database
/// keeps, so a row compares equal to its own cursor.
const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.f";

/// The position of `app` in a list ordered by `sort`.
pub fn cursor_of(app: &ListedApp, sort: Sort) -> Cursor {
    let key = match sort {
        Sort::Name => Key::Value(SortValue::Name(app.name.clone())),
        Sort::Created => Key::Value(SortValue::Time(app.created_at)),
        Sort::LastUsed => app
            .last_used_at
            .map_or(Key::Null, |at| Key::Value(SortValue::Time(at))),
    };
    Cursor { key, id: app.id }
}

/// A cursor from a URL (`Kiosk~17`), read by the sort it belongs to.
pub fn parse_cursor(text: &str, sort: Sort) -> Option<Cursor> {
    let (value, id) = text.rsplit_once('~')?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id = id.parse().ok()?;
    let time = |value: &str| NaiveDateTime::parse_from_str(value, CURSOR_TIME).ok();
    let key = match sort {
        // Names are never empty and never hold control characters.
        Sort::Name if !value.is_empty() && !value.chars().any(char::is_control) => {
            Key::Value(SortValue::Name(value.to_owned()))
        }
        Sort::Name => return None,
        Sort::Created => Key::Value(SortValue::Time(time(value)?)),
        Sort::LastUsed if value == "never" => Key::Null,
        Sort::LastUsed => Key::Value(SortValue::Time(time(value)?)),
    };
    Some(Cursor { key, id })
}

fn cursor_param(cursor: &Cursor) -> String {
    let value = match &cursor.key {
        Key::Value(SortValue::Name(name)) => name.clone(),
        Key::Value(SortValue::Time(time)) => time.format(CURSOR_TIME).to_string(),
        Key::Null => "never".to_owned(),
    };
    format!("{value}~{}", cursor.id)
}

/// Everything the URL says about the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Searched for in names and descriptions; empty when not searching.
    pub q: String,
    pub status: Status,
    pub sort: Sort,
    pub dir: Direction,
    /// One of `PER_PAGE_CHOICES`.
    pub per_page: i64,
    pub page: Page,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            q: String::new(),
            status: Status::default(),
            sort: Sort::default(),
            dir: Direction::default(),
            per_page: DEFAULT_PER_PAGE,
            page: Page::First,
        }
    }
}

impl ListQuery {
    /// Reads a query string (`q=mobile&sort=created&dir=desc`). The first
    /// value of a repeated parameter counts; unknown parameters are ignored.
    pub fn parse(query_string: &str) -> ListQuery {
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
            if !params.iter().any(|(n, _)| *n == name) {
                params.push((name.into_owned(), value.into_owned()));
            }
        }
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let mut query = ListQuery::default();
        if let Some(q) = get("q") {
            // Control characters match nothing (and NUL is refused by PostgreSQL).
            let q: String = q.chars().filter(|c| !c.is_control()).collect();
            query.q = q.trim().chars().take(MAX_SEARCH_CHARS).collect();
            query.q.truncate(query.q.trim_end().len());
        }
        query.status = get("status").and_then(Status::parse).unwrap_or_default();
        query.sort = get("sort").and_then(Sort::parse).unwrap_or_default();
        query.dir = get("dir").and_then(Direction::parse).unwrap_or_default();
        query.per_page = per_page(get("per_page"));
        let after = get("after").and_then(|c| parse_cursor(c, query.sort));
        let before = get("before").and_then(|c| parse_cursor(c, query.sort));
        query.page = match (after, before) {
            (Some(cursor), _) => Page::After(cursor),
            (None, Some(cursor)) => Page::Before(cursor),
            (None, None) => Page::First,
        };
        query
    }

    /// True when a search or a status filter narrows the list.
    pub fn is_filtered(&self) -> bool {
        !self.q.is_empty() || self.status != Status::All
    }

    /// The URL of `page` of this list. Only values that differ from the
    /// defaults are written, so the plain list stays `/api-keys`.
    pub fn url(&self, page: &Page) -> String {
        self.url_at("/api-keys", page)
    }

    /// The URL of `page` of this list at `base` (the page, or the API).
    pub fn url_at(&self, base: &str, page: &Page) -> String {
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            params.append_pair("q", &self.q);
        }
        if self.status != Status::default() {
            params.append_pair("status", self.status.as_str());
        }
        if self.sort != Sort::default() {
            params.append_pair("sort", self.sort.as_str());
        }
        if self.dir != Direction::default() {
            params.append_pair("dir", self.dir.as_str());
        }
        if self.per_page != DEFAULT_PER_PAGE {
            params.append_pair("per_page", &self.per_page.to_string());
        }
        match page {
            Page::First => {}
            Page::After(cursor) => {
                params.append_pair("after", &cursor_param(cursor));
            }
            Page::Before(cursor) => {
                params.append_pair("before", &cursor_param(cursor));
            }
        }
        let params = params.finish();
        if params.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{params}")
        }
    }

    /// The same list without its search and status filter, from its first page.
    pub fn clear_filters_url(&self) -> String {
        ListQuery {
            q: String::new(),
            status: Status::All,
            page: Page::First,
            ..self.clone()
        }
        .url(&Page::First)
    }

    /// The `%…%` LIKE pattern of the search, lower-cased, with LIKE's
    /// wildcards escaped by `\`; `None` when not searching.
    pub fn search_pattern(&self) -> Option<String> {
        if self.q.is_empty() {
            return None;
        }
        let mut pattern = String::with_capacity(self.q.len() + 2);
        pattern.push('%');
        for c in self.q.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Some(pattern)
    }
}

#[cfg(test)]
mod tests;
