//! The key: shown exactly once, in the documented format with its checksum,
//! different for every app, and stored only as its hash (never in a URL, a
//! header, a session or the database files).

use super::{
    create_app, created_app_id, every_field, list_row, signed_in_at_the_form, stored_app,
    stored_apps,
};
use crate::harness::{StatusCode, TestResponse, attr, label_text, opening_tag, text_of};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The documented checksum: CRC32 of the random part in base62, six digits.
fn expected_checksum(random: &str) -> String {
    let mut value = u64::from(crc32fast::hash(random.as_bytes()));
    let mut digits = Vec::new();
    while value > 0 {
        digits.push(BASE62[(value % 62) as usize] as char);
        value /= 62;
    }
    while digits.len() < 6 {
        digits.push('0');
    }
    digits.iter().rev().collect()
}

/// The documented format: `^kw_[0-9A-Za-z]{49}$`, the last six a checksum.
fn assert_key_format(key: &str) {
    assert_eq!(key.len(), 52, "key {key:?} is not 52 characters");
    assert!(key.starts_with("kw_"), "key {key:?} lacks the kw_ prefix");
    assert!(
        key[3..].bytes().all(|b| b.is_ascii_alphanumeric()),
        "key {key:?} is not base62"
    );
    let (random, checksum) = key[3..].split_at(43);
    assert_eq!(
        checksum,
        expected_checksum(random),
        "checksum of key {key:?}"
    );
}

/// Whole keys (`kw_` and 49 base62 characters) that appear in `text`.
fn whole_keys_in(text: &str) -> Vec<String> {
    text.match_indices("kw_")
        .filter_map(|(at, _)| {
            let run: String = text[at + 3..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            (run.len() >= 49).then(|| format!("kw_{run}"))
        })
        .collect()
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

storage_test!(
    the_key_is_shown_once_and_only_its_hash_is_stored,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let created = app
            .post_form("/api-keys", &every_field("Mobile app", "0", ""))
            .await;
        let id = created_app_id(&created);
        let key_page_path = created.location().to_owned();

        // The cookies a browser would send to the result page, kept for a replay.
        let key_page_url = reqwest::Url::parse(&app.url(&key_page_path)).unwrap();
        let replayed_cookies = {
            use reqwest::cookie::CookieStore;
            app.jar
                .cookies(&key_page_url)
                .expect("no cookies for the result page")
                .to_str()
                .unwrap()
                .to_owned()
        };

        let first = app.get(&key_page_path).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert!(
            first.body.contains("<h1>API key created</h1>"),
            "{}",
            first.body
        );
        assert!(first.body.contains("It will not be shown again."));
        assert!(first.body.contains(">Copy</button>"), "no Copy button");
        assert_eq!(label_text(&first, "api-key").as_deref(), Some("API key"));
        let key_input = opening_tag(&first, "api-key").expect("no key field");
        assert!(key_input.contains(" readonly"), "{key_input}");
        let key = attr(key_input, "value").expect("the key field is empty");
        assert_key_format(&key);
        assert_eq!(whole_keys_in(&first.body), std::slice::from_ref(&key));
        assert!(
            first.header("cache-control").contains("no-store"),
            "the key page may be cached: {}",
            first.header("cache-control")
        );

        // Never in a URL, a header or the redirect.
        assert!(!key_page_path.contains(&key[3..]));
        for (name, value) in created.headers.iter().chain(first.headers.iter()) {
            assert!(
                !value.to_str().unwrap_or_default().contains(&key[3..]),
                "the key is in the {name} header"
            );
        }

        let second = app.get(&key_page_path).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        assert_eq!(
            whole_keys_in(&second.body),
            Vec::<String>::new(),
            "shown twice"
        );
        assert!(
            opening_tag(&second, "api-key").is_none(),
            "a key field is shown again"
        );
        assert!(
            text_of(&second.body).contains("was shown once"),
            "{}",
            second.body
        );
        assert!(second.body.contains(&format!("{}…", &key[..9])));

        // Replaying the cookies the first visit had does not bring it back.
        let replay = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(app.url(&key_page_path))
            .header("cookie", replayed_cookies)
            .send()
            .await
            .unwrap();
        let replay = TestResponse::read(replay).await;
        assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
        assert_eq!(
            whole_keys_in(&replay.body),
            Vec::<String>::new(),
            "shown on replay"
        );
        assert!(text_of(&replay.body).contains("was shown once"));

        // Reloading created nothing; the database has the hash and prefix only.
        let rows = stored_apps(&app);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.id, id);
        assert_eq!(row.key_hash, sha256_hex(&key));
        assert_eq!(row.key_prefix, &key[..9]);
        // Every text column of the row: name, description, location fields, hash, prefix.
        let stored = format!("{rows:?}");
        assert!(!stored.contains(&key[3..46]), "the key is stored: {stored}");
        let sessions = app.session_rows();
        assert!(!sessions.is_empty(), "no session rows to look at");
        for (session, state) in sessions {
            let state = serde_json::Value::Object(state).to_string();
            assert!(
                !state.contains(&key[3..46]),
                "session {session} holds the key"
            );
        }
        // On SQLite the files themselves (database and write-ahead log) never hold it.
        if let Some(dir) = std::path::Path::new(&app.db.url)
            .parent()
            .filter(|_| !app.db.url.contains("://"))
        {
            let mut hash_found = false;
            for file in std::fs::read_dir(dir).unwrap() {
                let path = file.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(43).any(|w| w == &key.as_bytes()[3..46]),
                    "{} holds the key",
                    path.display()
                );
                hash_found |= bytes.windows(64).any(|w| w == row.key_hash.as_bytes());
            }
            // The files were read: the hash is in them.
            assert!(
                hash_found,
                "the SQLite files in {} were not read",
                dir.display()
            );
        }

        // The list shows the prefix, not the key.
        let list = app.get("/api-keys").await;
        assert_eq!(whole_keys_in(&list.body), Vec::<String>::new());
        assert_eq!(list_row(&list, "Mobile app")[3], format!("{}…", &key[..9]));
    }
);

storage_test!(
    every_new_key_is_different_and_well_formed,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let mut keys = Vec::new();
        for name in ["One", "Two", "Three"] {
            let id = create_app(&app, &every_field(name, "0", "")).await;
            let page = app.get(&format!("/api-keys/{id}/key")).await;
            let key = attr(
                opening_tag(&page, "api-key").expect("no key shown"),
                "value",
            )
            .unwrap();
            assert_key_format(&key);
            assert_eq!(stored_app(&app, id).key_hash, sha256_hex(&key));
            keys.push(key);
        }
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 3, "two apps got the same key");
    }
);
