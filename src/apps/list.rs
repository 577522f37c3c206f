//! The state of the API Keys list — search, status filter, sort, page size and
//! page cursor — read from the URL query string and written back into links,
//! so a list can be shared, bookmarked and walked with the back button.
//!
//! Parsing never fails: a value that is missing, unknown or malformed falls
//! back to its default, as a stale bookmark should still open the list.

use chrono::NaiveDateTime;

use super::queries::AppListItem;

/// The page sizes offered; anything else falls back to the default.
pub const PER_PAGE_CHOICES: [i64; 3] = [10, 50, 100];
pub const DEFAULT_PER_PAGE: i64 = 50;

/// A page size from the URL: one of the choices, else the default.
pub fn per_page(value: Option<&str>) -> i64 {
    value
        .and_then(|v| v.parse().ok())
        .filter(|n| PER_PAGE_CHOICES.contains(n))
        .unwrap_or(DEFAULT_PER_PAGE)
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
    fn parse(value: &str) -> Option<Status> {
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
    fn parse(value: &str) -> Option<Sort> {
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

impl Direction {
    fn parse(value: &str) -> Option<Direction> {
        match value {
            "asc" => Some(Direction::Asc),
            "desc" => Some(Direction::Desc),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }
}

/// The sort column's value in a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Name(String),
    Time(NaiveDateTime),
    /// `last_used_at` of a key never used.
    Never,
}

/// A position in the list: the sort value and id of the row a page continues
/// from. In the URL: `VALUE~ID`, e.g. `after=Kiosk~17` or
/// `after=2026-11-26T09:14:00.123456~17` (`never~17` for a key never used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub value: SortValue,
    pub id: i32,
}

/// The timestamp format of cursors: every fractional digit the database
/// keeps, so a row compares equal to its own cursor.
const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.f";

impl Cursor {
    /// The position of `app` in a list ordered by `sort`.
    pub fn of(app: &AppListItem, sort: Sort) -> Cursor {
        let value = match sort {
            Sort::Name => SortValue::Name(app.name.clone()),
            Sort::Created => SortValue::Time(app.created_at),
            Sort::LastUsed => app.last_used_at.map_or(SortValue::Never, SortValue::Time),
        };
        Cursor { value, id: app.id }
    }

    fn parse(text: &str, sort: Sort) -> Option<Cursor> {
        let (value, id) = text.rsplit_once('~')?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let id = id.parse().ok()?;
        let time = |value: &str| NaiveDateTime::parse_from_str(value, CURSOR_TIME).ok();
        let value = match sort {
            // Names are never empty and never hold control characters.
            Sort::Name if !value.is_empty() && !value.chars().any(char::is_control) => {
                SortValue::Name(value.to_owned())
            }
            Sort::Name => return None,
            Sort::Created => SortValue::Time(time(value)?),
            Sort::LastUsed if value == "never" => SortValue::Never,
            Sort::LastUsed => SortValue::Time(time(value)?),
        };
        Some(Cursor { value, id })
    }

    fn to_param(&self) -> String {
        let value = match &self.value {
            SortValue::Name(name) => name.clone(),
            SortValue::Time(time) => time.format(CURSOR_TIME).to_string(),
            SortValue::Never => "never".to_owned(),
        };
        format!("{value}~{}", self.id)
    }
}

/// Which page of the list: the first, the one after a row, or the one before.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Page {
    #[default]
    First,
    After(Cursor),
    Before(Cursor),
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
        let after = get("after").and_then(|c| Cursor::parse(c, query.sort));
        let before = get("before").and_then(|c| Cursor::parse(c, query.sort));
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
                params.append_pair("after", &cursor.to_param());
            }
            Page::Before(cursor) => {
                params.append_pair("before", &cursor.to_param());
            }
        }
        let params = params.finish();
        if params.is_empty() {
            "/api-keys".to_owned()
        } else {
            format!("/api-keys?{params}")
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
mod tests {
    use super::*;

    fn time(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn no_parameters_is_the_default_list() {
        assert_eq!(ListQuery::parse(""), ListQuery::default());
        assert_eq!(ListQuery::default().url(&Page::First), "/api-keys");
    }

    #[test]
    fn every_parameter_is_read() {
        let query = ListQuery::parse(
            "q=+Mobile%20app+&status=inactive&sort=last_used&dir=desc&per_page=10&after=never~12",
        );
        assert_eq!(
            query,
            ListQuery {
                q: "Mobile app".into(),
                status: Status::Inactive,
                sort: Sort::LastUsed,
                dir: Direction::Desc,
                per_page: 10,
                page: Page::After(Cursor {
                    value: SortValue::Never,
                    id: 12
                }),
            }
        );
    }

    #[test]
    fn invalid_values_fall_back_to_defaults() {
        assert_eq!(ListQuery::parse("status=expired").status, Status::Expired);
        for bad in [
            "status=ACTIVE",
            "sort=key_hash",
            "sort=name;drop",
            "dir=up",
            "per_page=20",
            "per_page=-10",
            "per_page=1e9",
            "after=17",
            "after=~17",
            "after=x~-1",
            "after=x~99999999999",
            "before=x~",
            "%FF=%FF",
            "q=%00",
            "q=%20%20",
        ] {
            assert_eq!(ListQuery::parse(bad), ListQuery::default(), "{bad}");
        }
        // A cursor is read by the sort it belongs to.
        assert_eq!(
            ListQuery::parse("sort=created&after=Kiosk~3").page,
            Page::First
        );
    }

    #[test]
    fn the_first_of_a_repeated_parameter_counts() {
        let query = ListQuery::parse("sort=created&sort=name&per_page=100&per_page=10");
        assert_eq!((query.sort, query.per_page), (Sort::Created, 100));
    }

    #[test]
    fn urls_carry_the_state_and_read_back_the_same() {
        let cursors = [
            Cursor {
                value: SortValue::Name("Café & co~1 50%".into()),
                id: 4,
            },
            Cursor {
                value: SortValue::Time(time("2026-11-26 09:14:00.123456")),
                id: 5,
            },
            Cursor {
                value: SortValue::Time(time("2026-11-26 09:14:00")),
                id: 6,
            },
            Cursor {
                value: SortValue::Never,
                id: 7,
            },
        ];
        for (cursor, sort) in
            cursors
                .into_iter()
                .zip([Sort::Name, Sort::Created, Sort::LastUsed, Sort::LastUsed])
        {
            for page in [
                Page::After(cursor.clone()),
                Page::Before(cursor.clone()),
                Page::First,
            ] {
                let query = ListQuery {
                    q: "a&b=c #d".into(),
                    status: Status::Active,
                    sort,
                    dir: Direction::Desc,
                    per_page: 100,
                    page: page.clone(),
                };
                let url = query.url(&page);
                let read = ListQuery::parse(url.strip_prefix("/api-keys?").unwrap());
                assert_eq!(read, query, "{url}");
            }
        }
        let query = ListQuery::parse("q=x&status=active&sort=created&per_page=10&after=x~1");
        assert_eq!(
            query.clear_filters_url(),
            "/api-keys?sort=created&per_page=10"
        );
    }

    #[test]
    fn search_patterns_escape_like_wildcards() {
        let query = |q: &str| ListQuery {
            q: q.into(),
            ..ListQuery::default()
        };
        assert_eq!(query("").search_pattern(), None);
        assert_eq!(query("Mobile").search_pattern().unwrap(), "%mobile%");
        assert_eq!(
            query(r"50%_off\now").search_pattern().unwrap(),
            r"%50\%\_off\\now%"
        );
    }
}
