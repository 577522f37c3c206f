//! The Audit page: events newest first, filtered by object and by
//! administrator, page by page, for signed-in administrators only.

use super::{events, link, rows};

use crate::harness::StatusCode;

storage_test!(
    the_audit_page_filters_and_pages_newest_first,
    |app| async move {
        let me = app.login_as_default_admin().await;
        let other = app.create_admin("grace@example.com", "grace's long password");
        let role = app.create_role("Readers").await;
        let mut apps = Vec::new();
        for i in 0..12 {
            apps.push(app.create_key(&format!("App {i:02}"), Some(role)).await.0);
        }
        app.set_key_active(apps[3], false).await;
        let log = events(&app);
        let newest_first: Vec<i32> = log.iter().rev().map(|e| e.id).collect();

        // The navbar leads here; the whole log, newest first.
        let page = app.get("/audit").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body
                .contains(r#"<a href="/audit" aria-current="page">Audit</a>"#)
        );
        assert_eq!(rows(&page), newest_first);
        assert!(page.body.contains("Updated") && page.body.contains("“App 03”"));
        assert!(
            page.body.contains("<del>yes</del> → <ins>no</ins>"),
            "{}",
            page.body
        );
        assert!(page.body.contains("from 127.0.0.1"));

        // Ten per page: Older, then Newer back again; the URL holds the state.
        let first = app.get("/audit?per_page=10").await;
        assert_eq!(rows(&first), newest_first[..10]);
        assert!(link(&first, "Newer").is_none());
        let older = link(&first, "Older").expect("no Older link");
        assert!(older.starts_with("/audit?per_page=10&before="), "{older}");
        let second = app.get(&older).await;
        assert_eq!(rows(&second), newest_first[10..]);
        assert!(link(&second, "Older").is_none());
        let newer = link(&second, "Newer").expect("no Newer link");
        assert_eq!(rows(&app.get(&newer).await), newest_first[..10]);

        // By kind of object, and one object's history (linked from each row).
        let roles = app.get("/audit?object=role").await;
        assert_eq!(rows(&roles).len(), 1);
        let history = format!("href=\"/audit?object=app&id={}\"", apps[3]);
        assert!(
            crate::harness::html_unescape(&page.body).contains(&history),
            "no history link"
        );
        let edit_page = app.get(&format!("/api-keys/{}", apps[3])).await;
        assert!(crate::harness::html_unescape(&edit_page.body).contains(&history));
        let one = app.get(&format!("/audit?object=app&id={}", apps[3])).await;
        let of_app_3: Vec<i32> = log
            .iter()
            .rev()
            .filter(|e| e.object_kind == "app" && e.object_id == apps[3])
            .map(|e| e.id)
            .collect();
        assert_eq!(of_app_3.len(), 2);
        assert_eq!(rows(&one), of_app_3);
        assert!(
            one.body
                .contains("History of API key <strong>“App 03”</strong>"),
            "{}",
            one.body
        );

        // By administrator: the other one changed nothing yet.
        let theirs = app.get(&format!("/audit?admin={other}")).await;
        assert!(rows(&theirs).is_empty());
        assert!(theirs.body.contains("No changes recorded"));
        let mine = app.get(&format!("/audit?object=app&admin={me}")).await;
        assert_eq!(rows(&mine).len(), 13);

        // One view, one URL: the same filters in another order, empty
        // fields, defaults and values that cannot be read all lead to the
        // minimal URL of what they mean, which opens the page.
        for (url, canonical) in [
            (
                format!("/audit?admin={me}&object=app"),
                format!("/audit?object=app&admin={me}"),
            ),
            (
                "/audit?object=role&admin=&per_page=50".to_owned(),
                "/audit?object=role".to_owned(),
            ),
            (
                "/audit?object=nonsense&admin=x&per_page=7".to_owned(),
                "/audit".to_owned(),
            ),
            ("/audit?before=abc".to_owned(), "/audit".to_owned()),
        ] {
            let redirect = app.get(&url).await;
            assert_eq!(redirect.status, StatusCode::FOUND, "{url}");
            assert_eq!(redirect.header("location"), canonical, "{url}");
            let page = app.follow(redirect).await;
            assert_eq!(page.status, StatusCode::OK, "{url}");
        }
        for url in [
            "/audit?object=nonsense&admin=x&per_page=7",
            "/audit?before=abc",
        ] {
            let page = app.follow(app.get(url).await).await;
            assert_eq!(rows(&page), newest_first, "{url}");
        }
    }
);

storage_test!(
    the_audit_page_needs_a_signed_in_administrator,
    |app| async move {
        let page = app.get("/audit").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(page.location().starts_with("/login"), "{}", page.location());
    }
);
