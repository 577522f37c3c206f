use super::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn a_parsed_component_is_stored_as_typed(input in prop_oneof![any::<String>(), "[a-z_/*. ]{0,20}", "\\PC{0,300}"]) {
        if let Ok(component) = Component::parse(&input) {
            // What is stored parses back to the same rule, and is the input trimmed.
            let stored = component.as_stored();
            prop_assert_eq!(stored.as_str(), input.trim());
            prop_assert_eq!(Component::parse(&stored), Ok(component));
            prop_assert!(!stored.chars().any(char::is_control));
            prop_assert!(stored.chars().count() <= MAX_COMPONENT_CHARS);
        }
    }

    #[test]
    fn a_prefix_covers_itself_and_what_is_below(prefix in "[a-z_]{1,8}(/[a-z0-9_]{1,8}){0,3}", below in "[a-z0-9_]{1,8}") {
        let rule = Component::parse(&format!("{prefix}/*")).unwrap();
        prop_assert!(rule.specificity(&prefix).is_some());
        let under = format!("{prefix}/{below}");
        prop_assert!(rule.specificity(&under).is_some());
        // A sibling that merely starts with the same letters is not below it.
        let sibling = format!("{prefix}{below}");
        prop_assert!(rule.specificity(&sibling).is_none());
    }

    #[test]
    fn verbs_are_the_checked_boxes(names in proptest::collection::vec(prop_oneof![
        Just("GET"), Just("post"), Just(" Put "), Just("PATCH"), Just("delete"), Just("HEAD"),
        Just("TRACE"), Just(""), Just("<b>")], 0..8)) {
        match Verbs::parse(names.iter().copied()) {
            Ok(verbs) => {
                prop_assert!(!verbs.is_empty());
                for name in &names {
                    prop_assert!(verbs.contains(Verb::parse(name).unwrap()));
                }
                prop_assert_eq!(Verbs::from_bits(verbs.bits()), verbs);
            }
            Err(message) => prop_assert!(
                names.is_empty() && message == "Choose at least one verb"
                    || names.iter().any(|n| Verb::parse(n).is_none())
            ),
        }
    }

    #[test]
    fn any_bits_are_a_subset_of_the_five_verbs(bits in any::<i32>()) {
        let verbs = Verbs::from_bits(bits);
        prop_assert!(verbs.bits() & !31 == 0);
        let listed = verbs.to_string();
        prop_assert_eq!(
            Verbs::parse(listed.split(", ").filter(|s| !s.is_empty())).unwrap_or_default(),
            verbs
        );
    }

    #[test]
    fn judging_any_request_never_panics(component in any::<String>(), service in any::<i32>()) {
        let rules = [
            Rule { service_id: None, component: Component::All, verbs: Verbs::default().with(Verb::Get) },
            Rule { service_id: Some(1), component: Component::Prefix("_table".into()), verbs: Verbs::default().with(Verb::Post) },
        ];
        let verbs = granted_verbs(&rules, service, &component);
        prop_assert!(!verbs.is_empty(), "the all-services * rule matches everything");
    }
}
