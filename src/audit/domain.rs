//! The Audit page's state, read from the URL and written back into links: the
//! kind of object (or one object's history), the administrator, the page
//! size and the page. A value that is missing or malformed falls back to its
//! default, as a stale bookmark should still open the page.

use crate::db::audit::ObjectKind;
use crate::paging::{DEFAULT_PER_PAGE, per_page};

/// Which events the page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub kind: Option<ObjectKind>,
    /// One object's history (with `kind`).
    pub object_id: Option<i32>,
    pub admin_id: Option<i32>,
}

/// Where a page starts: the newest events, or the events older or newer than
/// the one with this id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Page {
    #[default]
    Newest,
    OlderThan(i32),
    NewerThan(i32),
}

/// Everything the URL says about the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub filter: Filter,
    pub per_page: i64,
    pub page: Page,
}

impl AuditQuery {
    /// Reads `object=app&id=7&admin=2&per_page=10&before=120`. The first value
    /// of a repeated parameter counts; unknown parameters are ignored.
    pub fn parse(query_string: &str) -> AuditQuery {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query_string.as_bytes())
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let id = |name: &str| get(name).and_then(crate::http::parse_id);
        let kind = get("object").and_then(ObjectKind::parse);
        let page = match (id("before"), id("after")) {
            (Some(id), _) => Page::OlderThan(id),
            (None, Some(id)) => Page::NewerThan(id),
            (None, None) => Page::Newest,
        };
        AuditQuery {
            filter: Filter {
                kind,
                object_id: kind.and(id("id")),
                admin_id: id("admin"),
            },
            per_page: per_page(get("per_page")),
            page,
        }
    }

    /// The URL of `page` of this view; defaults are left out.
    pub fn url(&self, page: Page) -> String {
        self.url_at("/audit", page)
    }

    /// The URL of `page` of this view below `base` (the page, or the API).
    pub fn url_at(&self, base: &str, page: Page) -> String {
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        if let Some(kind) = self.filter.kind {
            params.append_pair("object", kind.as_str());
            if let Some(id) = self.filter.object_id {
                params.append_pair("id", &id.to_string());
            }
        }
        if let Some(admin) = self.filter.admin_id {
            params.append_pair("admin", &admin.to_string());
        }
        if self.per_page != DEFAULT_PER_PAGE {
            params.append_pair("per_page", &self.per_page.to_string());
        }
        match page {
            Page::Newest => {}
            Page::OlderThan(id) => {
                params.append_pair("before", &id.to_string());
            }
            Page::NewerThan(id) => {
                params.append_pair("after", &id.to_string());
            }
        }
        let params = params.finish();
        if params.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{params}")
        }
    }

    /// The same view without the one-object narrowing.
    pub fn whole_kind_url(&self) -> String {
        let mut wider = self.clone();
        wider.filter.object_id = None;
        wider.url(Page::Newest)
    }
}

/// The history of one object, as other pages link to it.
pub fn history_url(kind: ObjectKind, id: i32) -> String {
    AuditQuery {
        filter: Filter {
            kind: Some(kind),
            object_id: Some(id),
            admin_id: None,
        },
        per_page: DEFAULT_PER_PAGE,
        page: Page::Newest,
    }
    .url(Page::Newest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_page_has_a_plain_url() {
        let query = AuditQuery::parse("");
        assert_eq!(query.filter, Filter::default());
        assert_eq!(query.page, Page::Newest);
        assert_eq!(query.url(Page::Newest), "/audit");
    }

    #[test]
    fn filters_and_cursor_survive_a_round_trip() {
        let query = AuditQuery::parse("object=app&id=7&admin=2&per_page=10&before=120");
        assert_eq!(
            query.filter,
            Filter {
                kind: Some(ObjectKind::App),
                object_id: Some(7),
                admin_id: Some(2),
            }
        );
        assert_eq!(query.page, Page::OlderThan(120));
        assert_eq!(
            query.url(query.page),
            "/audit?object=app&id=7&admin=2&per_page=10&before=120"
        );
        assert_eq!(
            query.whole_kind_url(),
            "/audit?object=app&admin=2&per_page=10"
        );
    }

    #[test]
    fn malformed_values_fall_back_to_defaults() {
        let query =
            AuditQuery::parse("object=rule&id=x&admin=-1&per_page=7&before=%00&after=99999999999");
        assert_eq!(query.filter, Filter::default());
        assert_eq!(query.per_page, DEFAULT_PER_PAGE);
        assert_eq!(query.page, Page::Newest);
    }

    #[test]
    fn an_object_id_needs_its_kind() {
        assert_eq!(AuditQuery::parse("id=7").filter.object_id, None);
    }

    #[test]
    fn history_links_name_kind_and_id() {
        assert_eq!(history_url(ObjectKind::Role, 3), "/audit?object=role&id=3");
    }
}
