//! What the tests start from, made as an administrator makes it:
//! administrators (as `keyward admin create` does), and services, roles,
//! rules and keys through the console's forms; and the stored rows read back
//! to check what keyward wrote (`StoredApp`).

use diesel::prelude::*;
use keyward::admins::domain::{Email, Password};
use keyward::admins::queries as admins;

use super::html::shown_api_key;
use super::http::StatusCode;
use super::server::TestApp;

impl TestApp {
    /// The id of the change log's newest entry (what an instance that has
    /// read the whole log shows as `keyward_verify_change_log_position`).
    pub fn newest_change(&self) -> i64 {
        use keyward::schema::verify_changes;
        let mut conn = self.pool.get().expect("no database connection");
        verify_changes::table
            .select(diesel::dsl::max(verify_changes::id))
            .first::<Option<i64>>(&mut conn)
            .expect("cannot read the change log")
            .expect("the change log is empty")
    }

    pub fn admin_exists(&self) -> bool {
        let mut conn = self.pool.get().expect("no database connection");
        admins::any_exist(&mut conn).expect("cannot read admins")
    }

    /// Creates an administrator directly in the database, as `keyward admin create` does.
    pub fn create_admin(&self, email: &str, password: &str) -> i32 {
        let hash = Password::parse(password).unwrap().hash().unwrap();
        let mut conn = self.pool.get().expect("no database connection");
        admins::create(
            &mut conn,
            &Email::parse(email).unwrap(),
            "Test Admin",
            &hash,
            &keyward::db::audit::Actor::command_line(),
            chrono::Utc::now().naive_utc(),
        )
        .expect("cannot create the administrator")
    }

    /// Creates an active service through its form; returns its id.
    pub async fn create_service(&self, name: &str, kind: &str) -> i32 {
        let label = format!("The {name} service");
        let response = self
            .post_form(
                "/services",
                &[
                    ("name", name),
                    ("label", &label),
                    ("description", ""),
                    ("kind", kind),
                    ("is_active", "true"),
                ],
            )
            .await;
        response.assert_redirects_to("/services");
        self.service_id(name)
    }

    /// The id of the service named `name`.
    pub fn service_id(&self, name: &str) -> i32 {
        use keyward::schema::services;
        let mut conn = self.pool.get().expect("no database connection");
        services::table
            .filter(services::name.eq(name))
            .select(services::id)
            .first(&mut *conn)
            .unwrap_or_else(|e| panic!("no service {name}: {e}"))
    }

    /// Creates an active role through its form; returns its id.
    pub async fn create_role(&self, name: &str) -> i32 {
        let response = self
            .post_form(
                "/roles",
                &[("name", name), ("description", ""), ("is_active", "true")],
            )
            .await;
        response.assert_redirects_to("/roles");
        self.role_id(name)
    }

    /// The id of the role named `name`.
    pub fn role_id(&self, name: &str) -> i32 {
        use keyward::schema::roles;
        let mut conn = self.pool.get().expect("no database connection");
        roles::table
            .filter(roles::name.eq(name))
            .select(roles::id)
            .first(&mut *conn)
            .unwrap_or_else(|e| panic!("no role {name}: {e}"))
    }

    /// Adds a rule to a role through the "Add rule" form (no JavaScript):
    /// `service_id` `None` is "All services", `verbs` like `["GET", "POST"]`.
    /// Returns the new rule's id.
    pub async fn add_rule(
        &self,
        role_id: i32,
        service_id: Option<i32>,
        component: &str,
        verbs: &[&str],
    ) -> i32 {
        use keyward::schema::role_rules;
        let service = service_id.map(|id| id.to_string()).unwrap_or_default();
        let verb_fields: Vec<String> = verbs
            .iter()
            .map(|v| format!("verb_{}", v.to_lowercase()))
            .collect();
        let mut fields = vec![("service_id", service.as_str()), ("component", component)];
        fields.extend(verb_fields.iter().map(|f| (f.as_str(), "on")));
        let response = self
            .post_form(&format!("/roles/{role_id}/rules"), &fields)
            .await;
        response.assert_redirects_to(&format!("/roles/{role_id}#rules"));
        let mut conn = self.pool.get().expect("no database connection");
        role_rules::table
            .filter(role_rules::role_id.eq(role_id))
            .order(role_rules::id.desc())
            .select(role_rules::id)
            .first(&mut *conn)
            .expect("the new rule is not in the database")
    }

    /// Creates an active API key ("No Storage Required") with `role_id` as its
    /// default role; returns the app's id and the key its page shows once.
    pub async fn create_key(&self, name: &str, role_id: Option<i32>) -> (i32, String) {
        let role = role_id.map(|id| id.to_string()).unwrap_or_default();
        let response = self
            .post_form(
                "/api-keys",
                &[
                    ("name", name),
                    ("description", ""),
                    ("is_active", "true"),
                    ("location", "0"),
                    ("role_id", &role),
                ],
            )
            .await;
        let location = response.location().to_owned();
        let app_id = location
            .strip_prefix("/api-keys/")
            .and_then(|rest| rest.strip_suffix("/key"))
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("unexpected redirect after creating a key: {location}"));
        let page = self.get(&location).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let key = shown_api_key(&page)
            .unwrap_or_else(|| panic!("the key page shows no key: {}", page.body));
        (app_id, key)
    }

    /// Creates an admin API token through the API tokens page as the signed-in
    /// administrator: `scope` `"read"` or `"write"`, no expiry. Returns the
    /// token's id and the token its page shows once.
    pub async fn create_token(&self, name: &str, scope: &str) -> (i32, String) {
        let response = self
            .post_form(
                "/admins/tokens",
                &[("name", name), ("scope", scope), ("expires_days", "never")],
            )
            .await;
        let location = response.location().to_owned();
        let token_id = location
            .strip_prefix("/admins/tokens/")
            .and_then(|rest| rest.strip_suffix("/token"))
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("unexpected redirect after creating a token: {location}"));
        let page = self.get(&location).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let token = page
            .input_value_of_id("api-token")
            .unwrap_or_else(|| panic!("the token page shows no token: {}", page.body));
        (token_id, token)
    }

    /// Flips an API key's Active toggle on the list (without JavaScript).
    pub async fn set_key_active(&self, app_id: i32, active: bool) {
        let response = self
            .post_form(
                &format!("/api-keys/{app_id}/active"),
                &[("active", if active { "true" } else { "false" })],
            )
            .await;
        response.assert_redirects_to("/api-keys");
    }
}

/// Creates a role through its form with the Active box checked or not, as
/// `TestApp::create_role` does for an active one.
pub async fn create_role(app: &TestApp, name: &str, active: bool) {
    let mut fields = vec![("name", name), ("description", "")];
    if active {
        fields.push(("is_active", "true"));
    }
    let response = app.post_form("/roles", &fields).await;
    response.assert_redirects_to("/roles");
}

/// An app's row as stored: what the tests read back to check what keyward
/// wrote, columns and all (the key only as its hash).
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = keyward::schema::apps)]
pub struct StoredApp {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub location: i32,
    pub storage_service_id: Option<i32>,
    pub storage_container: Option<String>,
    pub path: Option<String>,
    pub url: Option<String>,
    pub role_id: Option<i32>,
    pub key_hash: String,
    pub key_prefix: String,
}

impl TestApp {
    /// Every stored app, by id.
    pub fn stored_apps(&self) -> Vec<StoredApp> {
        use keyward::schema::apps;
        let mut conn = self.pool.get().expect("no database connection");
        apps::table
            .order(apps::id.asc())
            .select(StoredApp::as_select())
            .load(&mut *conn)
            .expect("cannot read apps")
    }

    /// The stored app `id`; panics when there is none.
    pub fn stored_app(&self, id: i32) -> StoredApp {
        use keyward::schema::apps;
        let mut conn = self.pool.get().expect("no database connection");
        apps::table
            .find(id)
            .select(StoredApp::as_select())
            .first(&mut *conn)
            .unwrap_or_else(|e| panic!("no app {id}: {e}"))
    }
}
