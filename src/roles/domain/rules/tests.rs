use super::*;

fn rule(service_id: Option<i32>, component: &str, verbs: &[&str]) -> Rule {
    Rule {
        service_id,
        component: Component::parse(component).unwrap(),
        verbs: Verbs::parse(verbs.iter().copied()).unwrap(),
    }
}

const DB: i32 = 1;
const FILES: i32 = 2;

#[test]
fn evaluation_table() {
    let rules = vec![
        rule(None, "*", &["GET"]),
        rule(Some(DB), "*", &["GET", "POST"]),
        rule(Some(DB), "_table/*", &["GET"]),
        rule(Some(DB), "_table/contacts/*", &["PUT"]),
        rule(Some(DB), "_table/contacts", &["DELETE"]),
        rule(Some(DB), "_table/contacts", &["PATCH"]),
        rule(Some(DB), "", &["DELETE"]),
    ];
    // (service, component, verb, allowed, why)
    let cases: &[(i32, &str, Verb, bool, &str)] = &[
        (DB, "_table/contacts", Verb::Delete, true, "exact rule"),
        (
            DB,
            "_table/contacts",
            Verb::Patch,
            true,
            "verbs of two exact rules add up",
        ),
        (
            DB,
            "_table/contacts",
            Verb::Get,
            false,
            "exact beats prefix and *: GET is not in the exact rules",
        ),
        (
            DB,
            "/_table/contacts/",
            Verb::Delete,
            true,
            "slashes are normalised",
        ),
        (
            DB,
            "_table/contacts/5",
            Verb::Put,
            true,
            "longer prefix wins",
        ),
        (
            DB,
            "_table/contacts/5",
            Verb::Get,
            false,
            "the longer prefix grants only PUT",
        ),
        (DB, "_table/orders", Verb::Get, true, "_table/* prefix"),
        (
            DB,
            "_table/orders",
            Verb::Post,
            false,
            "prefix beats * (which has POST)",
        ),
        (
            DB,
            "_table",
            Verb::Get,
            true,
            "a prefix covers its own path",
        ),
        (
            DB,
            "_tables",
            Verb::Post,
            true,
            "_table/* does not cover _tables: falls to *",
        ),
        (DB, "_schema", Verb::Post, true, "service *"),
        (
            DB,
            "_schema",
            Verb::Delete,
            false,
            "service * has no DELETE",
        ),
        (DB, "", Verb::Delete, true, "root rule"),
        (DB, "", Verb::Get, false, "root rule beats *"),
        (FILES, "anything", Verb::Get, true, "all-services rule"),
        (
            FILES,
            "anything",
            Verb::Post,
            false,
            "all-services rule has only GET",
        ),
        (FILES, "", Verb::Get, true, "all-services * covers the root"),
    ];
    for (service, component, verb, allowed, why) in cases {
        let verbs = granted_verbs(&rules, *service, component);
        assert_eq!(
            verbs.contains(*verb),
            *allowed,
            "{service} {component:?} {verb:?}: {why}"
        );
    }
}

#[test]
fn service_rule_beats_all_services_even_when_less_specific() {
    let rules = vec![
        rule(None, "reports", &["DELETE"]),
        rule(Some(DB), "*", &["GET"]),
    ];
    assert!(!granted_verbs(&rules, DB, "reports").contains(Verb::Delete));
    assert!(granted_verbs(&rules, FILES, "reports").contains(Verb::Delete));
}

#[test]
fn no_matching_rule_grants_nothing() {
    let rules = vec![rule(Some(DB), "_table/*", &["GET"])];
    assert!(granted_verbs(&rules, DB, "_proc/x").is_empty());
    assert!(granted_verbs(&rules, FILES, "_table/x").is_empty());
    assert!(granted_verbs(&[], DB, "").is_empty());
}

#[test]
fn component_forms() {
    assert_eq!(Component::parse("").unwrap(), Component::Root);
    assert_eq!(Component::parse(" * ").unwrap(), Component::All);
    assert_eq!(
        Component::parse("_table/*").unwrap(),
        Component::Prefix("_table".into())
    );
    assert_eq!(
        Component::parse("_table/contacts").unwrap(),
        Component::Exact("_table/contacts".into())
    );
    for bad in [
        "/x", "x/", "a//b", "**", "a/*/b", "a*", "../x", "a/./b", "a b", "*/x", "a?b", "/*",
    ] {
        assert!(Component::parse(bad).is_err(), "{bad:?} accepted");
    }
    for stored in ["", "*", "_table/*", "_table/contacts"] {
        assert_eq!(Component::parse(stored).unwrap().as_stored(), stored);
    }
}

#[test]
fn verbs_parse_and_display() {
    let verbs = Verbs::parse(["GET", "delete"]).unwrap();
    assert!(
        verbs.contains(Verb::Get) && verbs.contains(Verb::Delete) && !verbs.contains(Verb::Post)
    );
    assert_eq!(verbs.to_string(), "GET, DELETE");
    assert_eq!(Verbs::parse([]).unwrap_err(), "Choose at least one verb");
    assert!(Verbs::parse(["TRACE"]).is_err());
    assert_eq!(Verb::parse("head"), Some(Verb::Get));
}
