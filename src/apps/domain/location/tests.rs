use super::*;

fn stored(
    code: i32,
    service: Option<i32>,
    folder: Option<&'static str>,
    path: Option<&'static str>,
    url: Option<&'static str>,
) -> AppLocation {
    AppLocation::from_stored(StoredLocation {
        code,
        storage_service_id: service,
        storage_container: folder,
        path,
        url,
    })
}

#[test]
fn stored_columns_decode_to_their_location_only() {
    // (code, service, folder, path, url, location)
    let cases = [
        (
            0,
            Some(1),
            Some("x"),
            Some("/p"),
            Some("https://u/"),
            AppLocation::NoStorage,
        ),
        (
            1,
            Some(4),
            None,
            Some("index.html"),
            Some("https://u/"),
            AppLocation::FileStorage {
                service_id: Some(4),
                folder: DEFAULT_STORAGE_FOLDER.into(),
                launch_path: Some("index.html".into()),
            },
        ),
        (
            1,
            None,
            Some("apps"),
            None,
            None,
            AppLocation::FileStorage {
                service_id: None,
                folder: "apps".into(),
                launch_path: None,
            },
        ),
        (
            3,
            Some(1),
            None,
            Some("/app"),
            None,
            AppLocation::WebServer {
                path: "/app".into(),
            },
        ),
        (
            2,
            None,
            None,
            Some("/p"),
            Some("https://u/"),
            AppLocation::RemoteUrl {
                url: "https://u/".into(),
            },
        ),
        (9, None, None, None, None, AppLocation::NoStorage),
    ];
    for (code, service, folder, path, url, location) in cases {
        assert_eq!(
            stored(code, service, folder, path, url),
            location,
            "type {code}"
        );
    }
}

#[test]
fn a_location_stores_only_its_own_columns_and_reads_back() {
    for location in [
        AppLocation::NoStorage,
        AppLocation::FileStorage {
            service_id: Some(2),
            folder: "apps".into(),
            launch_path: Some("a.html".into()),
        },
        AppLocation::WebServer { path: "/x".into() },
        AppLocation::RemoteUrl {
            url: "https://a.example/".into(),
        },
    ] {
        let columns = location.stored();
        assert_eq!(columns.code, location.code());
        assert_eq!(columns.url.is_some(), location.code() == 2);
        assert_eq!(columns.storage_container.is_some(), location.code() == 1);
        assert_eq!(AppLocation::from_stored(columns), location);
    }
}

#[test]
fn launch_url_of_each_location() {
    let base = "/api/v2/";
    assert_eq!(
        stored(0, None, None, None, None).launch_url(None, base),
        None
    );
    let file = stored(1, Some(1), Some("applications"), Some("index.html"), None);
    assert_eq!(
        file.launch_url(Some("files"), base).as_deref(),
        Some("/api/v2/files/applications/index.html")
    );
    assert_eq!(file.launch_url(None, base), None, "storage service deleted");
    let web = stored(3, None, None, Some("/my-app/index.html"), None);
    assert_eq!(
        web.launch_url(None, base).as_deref(),
        Some("/my-app/index.html")
    );
    let remote = stored(2, None, None, None, Some("https://app.example.com/"));
    assert_eq!(
        remote.launch_url(None, base).as_deref(),
        Some("https://app.example.com/")
    );
}

#[test]
fn labels_follow_the_form() {
    assert_eq!(AppLocation::NoStorage.label(), "No Storage Required");
    assert_eq!(
        stored(1, None, None, None, None).label(),
        "On a provisioned file storage service"
    );
    assert_eq!(
        stored(3, None, None, Some("/"), None).label(),
        "On this web server"
    );
    assert_eq!(
        stored(2, None, None, None, Some("https://u/")).label(),
        "On a remote URL"
    );
}
