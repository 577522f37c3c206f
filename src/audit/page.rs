//! The Audit page, `/audit`: the log newest first, filtered by the kind of
//! object (or one object's history) and by administrator, a page at a time.
//! The state lives in the URL, so a filtered view can be shared and the back
//! button walks it; a value that is missing or malformed falls back to its
//! default, as a stale bookmark should still open the page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::ObjectKind;
use super::queries::{self, EventPage, EventRow, Filter, Page};
use crate::admins::queries::{self as admin_queries, AdminRow};
use crate::apps::list::{self, DEFAULT_PER_PAGE};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::session::SignedInAdmin;
use crate::templates::render;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit").route(web::get().to(list)));
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
            per_page: list::per_page(get("per_page")),
            page,
        }
    }

    /// The URL of `page` of this view; defaults are left out.
    pub fn url(&self, page: Page) -> String {
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
            "/audit".to_owned()
        } else {
            format!("/audit?{params}")
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

#[derive(Template)]
#[template(path = "audit/list.html")]
struct AuditPage {
    admin: SignedInAdmin,
    section: &'static str,
    query: AuditQuery,
    admins: Vec<AdminRow>,
    events: Vec<EventRow>,
    /// The name of the object whose history this is, when it is one object's.
    object_name: Option<String>,
    newer_url: Option<String>,
    older_url: Option<String>,
}

impl AuditPage {
    fn kind_label(&self, row: &EventRow) -> &'static str {
        row.kind().map_or("Object", ObjectKind::label)
    }

    fn history_of(&self, row: &EventRow) -> String {
        row.kind()
            .map(|kind| history_url(kind, row.object_id))
            .unwrap_or_else(|| "/audit".into())
    }

    fn action_label<'a>(&self, row: &'a EventRow) -> &'a str {
        super::Action::label_of(&row.action)
    }

    fn chosen_kind(&self) -> &'static str {
        self.query.filter.kind.map_or("", ObjectKind::as_str)
    }

    fn chosen_admin(&self) -> String {
        self.query
            .filter
            .admin_id
            .map(|id| id.to_string())
            .unwrap_or_default()
    }

    /// True when the admin filter names someone no longer on the list.
    fn filters_by_former_admin(&self) -> bool {
        self.query
            .filter
            .admin_id
            .is_some_and(|id| !self.admins.iter().any(|a| a.id == id))
    }
}

async fn list(
    req: HttpRequest,
    admin: SignedInAdmin,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let query = AuditQuery::parse(req.query_string());
    let (filter, page, per_page) = (query.filter.clone(), query.page, query.per_page);
    let (
        admins,
        EventPage {
            events,
            has_older,
            has_newer,
        },
    ) = db::run(&pool, move |conn| {
        Ok::<_, diesel::result::Error>((
            admin_queries::list(conn)?,
            queries::page(conn, &filter, page, per_page)?,
        ))
    })
    .await??;
    let object_name = query
        .filter
        .object_id
        .and_then(|_| events.first().map(|e| e.object_name.clone()));
    let newer_url = match (has_newer, events.first()) {
        (true, Some(first)) => Some(query.url(Page::NewerThan(first.id))),
        // A page past the end (a stale link): back to the newest.
        (true, None) => Some(query.url(Page::Newest)),
        _ => None,
    };
    let older_url = match (has_older, events.last()) {
        (true, Some(last)) => Some(query.url(Page::OlderThan(last.id))),
        _ => None,
    };
    render(
        StatusCode::OK,
        &AuditPage {
            admin,
            section: "audit",
            query,
            admins,
            events,
            object_name,
            newer_url,
            older_url,
        },
    )
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
