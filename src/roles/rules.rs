//! Access rules: verbs a role grants on a component of a service (or of every
//! service), and how a request is judged against them.
//!
//! The most specific matching rule wins: an exact component (including ``,
//! the service root) beats `prefix/*` (a longer prefix beats a shorter one),
//! which beats `*`; any rule naming the service beats every "All services"
//! rule. The verbs of all rules at that winning level add up.

use std::fmt;

/// An HTTP verb a rule can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub const ALL: [Verb; 5] = [Verb::Get, Verb::Post, Verb::Put, Verb::Patch, Verb::Delete];

    fn bit(self) -> i32 {
        match self {
            Verb::Get => 1,
            Verb::Post => 2,
            Verb::Put => 4,
            Verb::Patch => 8,
            Verb::Delete => 16,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    /// Parses a verb name, case-insensitively. HEAD is judged as GET.
    pub fn parse(input: &str) -> Option<Verb> {
        match input.trim().to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => Some(Verb::Get),
            "POST" => Some(Verb::Post),
            "PUT" => Some(Verb::Put),
            "PATCH" => Some(Verb::Patch),
            "DELETE" => Some(Verb::Delete),
            _ => None,
        }
    }
}

/// A non-empty set of verbs, stored as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verbs(i32);

impl Verbs {
    pub fn from_bits(bits: i32) -> Verbs {
        Verbs(bits & 31)
    }

    pub fn bits(self) -> i32 {
        self.0
    }

    pub fn with(self, verb: Verb) -> Verbs {
        Verbs(self.0 | verb.bit())
    }

    pub fn contains(self, verb: Verb) -> bool {
        self.0 & verb.bit() != 0
    }

    pub fn union(self, other: Verbs) -> Verbs {
        Verbs(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// From the names of checked boxes; at least one is required.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Verbs, String> {
        let mut verbs = Verbs::default();
        for name in names {
            verbs = verbs.with(Verb::parse(name).ok_or_else(|| format!("Unknown verb {name}"))?);
        }
        if verbs.is_empty() {
            return Err("Choose at least one verb".into());
        }
        Ok(verbs)
    }
}

impl fmt::Display for Verbs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Verb::ALL
            .iter()
            .filter(|v| self.contains(**v))
            .map(|v| v.as_str())
            .collect();
        f.write_str(&names.join(", "))
    }
}

/// What part of a service a rule covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Component {
    /// `` — the service root only.
    Root,
    /// `*` — everything in the service, root included.
    All,
    /// `prefix/*` — `prefix` and everything below it.
    Prefix(String),
    /// An exact path such as `_table/contacts`.
    Exact(String),
}

const MAX_COMPONENT_CHARS: usize = 255;

impl Component {
    /// Accepts exactly the four documented forms; anything else is refused
    /// with a message that says which forms exist.
    pub fn parse(input: &str) -> Result<Component, String> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(Component::Root);
        }
        if input == "*" {
            return Ok(Component::All);
        }
        if input.chars().count() > MAX_COMPONENT_CHARS {
            return Err(format!(
                "Component must be at most {MAX_COMPONENT_CHARS} characters"
            ));
        }
        let (path, is_prefix) = match input.strip_suffix("/*") {
            Some(prefix) => (prefix, true),
            None => (input, false),
        };
        let valid_path = !path.is_empty()
            && !path.starts_with('/')
            && !path.ends_with('/')
            && path.split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .chars()
                        .all(|c| !c.is_control() && !c.is_whitespace() && !"*?#%\\".contains(c))
            });
        if !valid_path {
            return Err(
                "Use one of: empty (the service root), * (everything), prefix/* (a path and \
                        everything below it) or an exact path like _table/contacts"
                    .into(),
            );
        }
        Ok(if is_prefix {
            Component::Prefix(path.to_owned())
        } else {
            Component::Exact(path.to_owned())
        })
    }

    /// The form an admin types and the database stores.
    pub fn as_stored(&self) -> String {
        match self {
            Component::Root => String::new(),
            Component::All => "*".into(),
            Component::Prefix(prefix) => format!("{prefix}/*"),
            Component::Exact(path) => path.clone(),
        }
    }

    /// How specific a match is, or `None` when it does not match `path` (a
    /// request component without leading or trailing slashes).
    fn specificity(&self, path: &str) -> Option<usize> {
        match self {
            Component::All => Some(1),
            Component::Prefix(prefix) => {
                let under = path == prefix
                    || path
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|r| r.starts_with('/'));
                // Longer prefixes are more specific; all rank above `*` and below exact.
                under.then(|| 2 + prefix.len())
            }
            Component::Root => path.is_empty().then_some(usize::MAX),
            Component::Exact(exact) => (exact == path).then_some(usize::MAX),
        }
    }
}

/// One rule as evaluation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `None` means every service.
    pub service_id: Option<i32>,
    pub component: Component,
    pub verbs: Verbs,
}

/// Normalises a request component: no leading, trailing or doubled slashes.
pub fn normalise_path(component: &str) -> String {
    component
        .split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// The verbs the most specific matching rules grant on `component` of
/// `service_id` (empty when no rule matches).
pub fn granted_verbs(rules: &[Rule], service_id: i32, component: &str) -> Verbs {
    let path = normalise_path(component);
    let mut best: Option<(bool, usize)> = None;
    let mut verbs = Verbs::default();
    for rule in rules {
        let for_service = match rule.service_id {
            Some(id) if id == service_id => true,
            Some(_) => continue,
            None => false,
        };
        let Some(specificity) = rule.component.specificity(&path) else {
            continue;
        };
        let rank = (for_service, specificity);
        match best {
            Some(current) if rank < current => {}
            Some(current) if rank == current => verbs = verbs.union(rule.verbs),
            _ => {
                best = Some(rank);
                verbs = rule.verbs;
            }
        }
    }
    verbs
}

#[cfg(test)]
mod tests {
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
            verbs.contains(Verb::Get)
                && verbs.contains(Verb::Delete)
                && !verbs.contains(Verb::Post)
        );
        assert_eq!(verbs.to_string(), "GET, DELETE");
        assert_eq!(Verbs::parse([]).unwrap_err(), "Choose at least one verb");
        assert!(Verbs::parse(["TRACE"]).is_err());
        assert_eq!(Verb::parse("head"), Some(Verb::Get));
    }
}

#[cfg(test)]
mod properties {
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
}
