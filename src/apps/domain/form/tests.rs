use super::*;

fn form(pairs: &[(&str, &str)]) -> AppForm {
    let mut form = AppForm {
        is_active: None,
        ..AppForm::default()
    };
    for (k, v) in pairs {
        let v = v.to_string();
        match *k {
            "name" => form.name = v,
            "description" => form.description = v,
            "is_active" => form.is_active = Some(v),
            "location" => form.location = v,
            "storage_service_id" => form.storage_service_id = v,
            "storage_container" => form.storage_container = v,
            "launch_path" => form.launch_path = v,
            "web_path" => form.web_path = v,
            "url" => form.url = v,
            "role_id" => form.role_id = v,
            "expires_at" => form.expires_at = v,
            _ => panic!("unknown field {k}"),
        }
    }
    form
}

#[test]
fn name_is_trimmed_required_and_bounded() {
    assert_eq!(
        AppName::parse("  Mobile app ").unwrap().as_str(),
        "Mobile app"
    );
    assert_eq!(
        AppName::parse("   ").unwrap_err(),
        "Application name required"
    );
    assert!(AppName::parse(&"x".repeat(64)).is_ok());
    assert!(
        AppName::parse(&"ü".repeat(64)).is_ok(),
        "64 characters, 128 bytes"
    );
    assert!(
        AppName::parse(&"x".repeat(65))
            .unwrap_err()
            .contains("at most 64")
    );
    assert!(AppName::parse("a\u{0}b").is_err());
}

#[test]
fn description_is_optional_and_bounded() {
    assert_eq!(parse_description("").unwrap(), "");
    assert!(parse_description(&"d".repeat(255)).is_ok());
    assert!(
        parse_description(&"d".repeat(256))
            .unwrap_err()
            .contains("at most 255")
    );
}

#[test]
fn each_location_keeps_only_its_fields() {
    let all = [
        ("name", "A"),
        ("storage_service_id", "1"),
        ("storage_container", "apps"),
        ("launch_path", "index.html"),
        ("web_path", "/var/www/app"),
        ("url", "https://example.com/app"),
    ];
    let with = |location: &str| {
        let mut pairs = all.to_vec();
        pairs.push(("location", location));
        NewApp::parse(&form(&pairs)).unwrap().location
    };
    assert_eq!(with("0"), AppLocation::NoStorage);
    assert_eq!(
        with("1"),
        AppLocation::FileStorage {
            service_id: Some(1),
            folder: "apps".into(),
            launch_path: Some("index.html".into())
        }
    );
    assert_eq!(
        with("3"),
        AppLocation::WebServer {
            path: "/var/www/app".into()
        }
    );
    assert_eq!(
        with("2"),
        AppLocation::RemoteUrl {
            url: "https://example.com/app".into()
        }
    );
}

#[test]
fn file_storage_defaults_its_folder_and_needs_a_service() {
    let location = NewApp::parse(&form(&[
        ("name", "A"),
        ("location", "1"),
        ("storage_service_id", "2"),
        ("storage_container", " "),
    ]))
    .unwrap()
    .location;
    assert_eq!(
        location,
        AppLocation::FileStorage {
            service_id: Some(2),
            folder: "applications".into(),
            launch_path: None
        }
    );
    let errors = NewApp::parse(&form(&[("name", "A"), ("location", "1")])).unwrap_err();
    assert_eq!(
        errors.get("storage_service_id"),
        Some("Choose a storage service")
    );
    let errors = NewApp::parse(&form(&[
        ("name", "A"),
        ("location", "1"),
        ("storage_service_id", "x"),
    ]))
    .unwrap_err();
    assert_eq!(
        errors.get("storage_service_id"),
        Some("Unknown storage service")
    );
}

#[test]
fn web_server_needs_a_path_and_remote_url_an_http_url() {
    let errors = NewApp::parse(&form(&[("name", "A"), ("location", "3")])).unwrap_err();
    assert_eq!(errors.get("web_path"), Some("Path to application required"));
    let errors = NewApp::parse(&form(&[("name", "A"), ("location", "2")])).unwrap_err();
    assert_eq!(errors.get("url"), Some("URL to application required"));
    for bad in [
        "example.com",
        "ftp://example.com/",
        "javascript:alert(1)",
        "http://",
        "http://exa mple.com/",
    ] {
        let errors =
            NewApp::parse(&form(&[("name", "A"), ("location", "2"), ("url", bad)])).unwrap_err();
        assert!(errors.get("url").unwrap().contains("http"), "{bad}");
    }
    let ok = NewApp::parse(&form(&[
        ("name", "A"),
        ("location", "2"),
        ("url", "http://10.0.0.5:8080/x"),
    ]))
    .unwrap();
    assert_eq!(
        ok.location,
        AppLocation::RemoteUrl {
            url: "http://10.0.0.5:8080/x".into()
        }
    );
}

#[test]
fn unknown_location_and_role_are_errors() {
    let errors = NewApp::parse(&form(&[
        ("name", "A"),
        ("location", "7"),
        ("role_id", "abc"),
    ]))
    .unwrap_err();
    assert!(errors.has("location"));
    assert_eq!(errors.get("role_id"), Some("Unknown role"));
}

#[test]
fn all_errors_are_reported_together() {
    let errors = NewApp::parse(&form(&[
        ("description", &"d".repeat(300)),
        ("location", "2"),
    ]))
    .unwrap_err();
    assert!(errors.has("name") && errors.has("description") && errors.has("url"));
}

fn stored(location: AppLocation) -> App {
    App {
        id: 1,
        name: "A".into(),
        description: String::new(),
        is_active: true,
        location,
        role_id: None,
        key_prefix: String::new(),
        legacy_key: false,
        expires_at: None,
        previous_key_expires_at: None,
        allowed_ips: Default::default(),
        rate_limits: Default::default(),
        quota: None,
        created_at: NaiveDateTime::default(),
        last_used_at: None,
    }
}

#[test]
fn a_stored_app_fills_the_form_it_came_from() {
    let web = stored(AppLocation::WebServer {
        path: "/my-app".into(),
    });
    let form = AppForm::from_stored(&web);
    assert_eq!(
        (
            form.location.as_str(),
            form.web_path.as_str(),
            form.launch_path.as_str()
        ),
        ("3", "/my-app", "")
    );
    assert_eq!(
        NewApp::parse(&form).unwrap().location,
        AppLocation::WebServer {
            path: "/my-app".into()
        }
    );
}

#[test]
fn expiry_is_optional_and_a_utc_date_time() {
    assert_eq!(parse_expiry(" ").unwrap(), None);
    let at = parse_expiry("2027-01-31T18:00").unwrap().unwrap();
    assert_eq!(
        at.format("%Y-%m-%d %H:%M:%S").to_string(),
        "2027-01-31 18:00:00"
    );
    assert!(parse_expiry("2027-01-31T18:00:30").unwrap().is_some());
    for bad in ["tomorrow", "2027-13-01T00:00", "31/01/2027 18:00"] {
        assert!(
            parse_expiry(bad)
                .unwrap_err()
                .contains("like 2027-01-31T18:00"),
            "{bad}"
        );
    }
    let errors = NewApp::parse(&form(&[("name", "A"), ("expires_at", "soon")])).unwrap_err();
    assert!(errors.has("expires_at"));
}

#[test]
fn an_unchecked_active_box_means_inactive() {
    // Browsers send nothing for an unchecked checkbox.
    let unchecked: AppForm = serde_urlencoded::from_str("name=A&location=0").unwrap();
    assert!(!NewApp::parse(&unchecked).unwrap().is_active);
    let checked: AppForm = serde_urlencoded::from_str("name=A&is_active=true").unwrap();
    assert!(NewApp::parse(&checked).unwrap().is_active);
}

#[test]
fn active_follows_the_checkbox() {
    assert!(!NewApp::parse(&form(&[("name", "A")])).unwrap().is_active);
    assert!(
        NewApp::parse(&form(&[("name", "A"), ("is_active", "true")]))
            .unwrap()
            .is_active
    );
}

#[test]
fn copied_description_stays_within_255() {
    assert_eq!(copied_description("Mobile"), "Mobile (copy)");
    // The form trims it to "(copy)".
    assert_eq!(copied_description(""), " (copy)");
    let long = copied_description(&"d".repeat(255));
    assert_eq!(long.chars().count(), 255);
    assert!(long.ends_with(" (copy)"));
}
