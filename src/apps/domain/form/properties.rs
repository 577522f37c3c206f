use super::*;
use proptest::prelude::*;

/// What a hostile or careless client may put in any field.
fn field() -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,80}",
        "[ -~]{0,300}",
        "[0-9]{1,12}",
        Just("<script>alert(1)</script>".to_owned()),
        Just("' OR 1=1; DROP TABLE apps; --".to_owned()),
        Just("\u{0}".to_owned()),
        Just("https://app.example.com/a?b=<i>".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999".to_owned()),
    ]
    .boxed()
}

prop_compose! {
    fn app_form()(
        name in field(), description in field(), active in proptest::option::of(field()),
        location in prop_oneof![Just("0".to_owned()), Just("1".to_owned()), Just("2".to_owned()), Just("3".to_owned()), field()],
        storage_service_id in field(), storage_container in field(), launch_path in field(),
        web_path in field(), url in field(), role_id in field(), expires_at in field(),
        allowed_ips in field(), rate_limits in field(), quota_total in field(),
        quota_refill in prop_oneof![Just("never".to_owned()), Just("daily".to_owned()), Just("monthly".to_owned()), field()],
    ) -> AppForm {
        AppForm {
            name, description, is_active: active, location, storage_service_id,
            storage_container, launch_path, web_path, url, role_id, expires_at, allowed_ips,
            rate_limits, quota_total, quota_refill,
        }
    }
}

proptest! {
    #[test]
    fn a_parsed_form_keeps_what_was_typed(form in app_form()) {
        let Ok(app) = NewApp::parse(&form) else { return Ok(()) };
        prop_assert_eq!(app.name.as_str(), form.name.trim());
        prop_assert_eq!(app.description.as_str(), form.description.trim());
        prop_assert!(!app.description.contains(char::from(0)));
        prop_assert_eq!(app.is_active, form.is_active.is_some());
        let stored = |s: &str| !s.chars().any(char::is_control) && s.chars().count() <= crate::apps::domain::location::MAX_URL_CHARS;
        match &app.location {
            AppLocation::NoStorage => prop_assert!(matches!(form.location.trim(), "" | "0")),
            AppLocation::FileStorage { service_id, folder, launch_path } => {
                prop_assert_eq!(form.location.trim(), "1");
                prop_assert_eq!(service_id.map(|id| id.to_string()), Some(form.storage_service_id.trim().trim_start_matches('+').to_owned()));
                prop_assert!(stored(folder) && !folder.is_empty());
                prop_assert_eq!(launch_path.as_deref().unwrap_or(""), form.launch_path.trim());
            }
            AppLocation::WebServer { path } => {
                prop_assert_eq!(form.location.trim(), "3");
                prop_assert_eq!(path.as_str(), form.web_path.trim());
            }
            AppLocation::RemoteUrl { url } => {
                prop_assert_eq!(form.location.trim(), "2");
                prop_assert!(stored(url));
                prop_assert!(url.starts_with("http://") || url.starts_with("https://"));
            }
        }
    }

    #[test]
    fn a_refused_form_says_why_by_field(form in app_form()) {
        if let Err(errors) = NewApp::parse(&form) {
            prop_assert!(!errors.is_empty());
        }
    }

    #[test]
    fn names_within_the_rules_parse(name in "[^\\p{Cc}]{1,64}") {
        prop_assume!(!name.trim().is_empty());
        prop_assert_eq!(AppName::parse(&name).map(|n| n.as_str().to_owned()), Ok(name.trim().to_owned()));
    }

    #[test]
    fn a_stored_app_parses_back_to_itself(form in app_form()) {
        let Ok(app) = NewApp::parse(&form) else { return Ok(()) };
        // Stored and read back as the database would.
        let location = AppLocation::from_stored(app.location.stored());
        let row = App {
            id: 1, name: app.name.as_str().to_owned(), description: app.description.clone(),
            is_active: app.is_active, location, role_id: app.role_id,
            key_prefix: String::new(), legacy_key: false, expires_at: app.expires_at, previous_key_expires_at: None,
            allowed_ips: app.allowed_ips.clone(),
            rate_limits: app.rate_limits.clone(), quota: app.quota,
            created_at: NaiveDateTime::default(), last_used_at: None,
        };
        let again = NewApp::parse(&AppForm::from_stored(&row)).unwrap();
        prop_assert_eq!(again.location, app.location);
        prop_assert_eq!(again.name, app.name);
        prop_assert_eq!(again.role_id, app.role_id);
        prop_assert_eq!(again.allowed_ips, app.allowed_ips);
        prop_assert_eq!(again.rate_limits, app.rate_limits);
        prop_assert_eq!(again.quota, app.quota);
    }
}

#[test]
fn descriptions_keep_line_breaks_and_refuse_other_control_characters() {
    assert_eq!(parse_description("a\r\nb\tc").unwrap(), "a\r\nb\tc");
    for bad in ["a\u{0}b", "a\u{7}b", "a\u{1b}[31mb"] {
        assert_eq!(
            parse_description(bad).unwrap_err(),
            "Description cannot contain control characters"
        );
    }
    assert!(crate::apps::domain::location::parse_url("https://exa\tmple.com/").is_err());
}
