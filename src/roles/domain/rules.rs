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

    /// The names of the verbs in the set, in [`Verb::ALL`]'s order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Verb::ALL
            .into_iter()
            .filter(move |v| self.contains(*v))
            .map(Verb::as_str)
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
        let names: Vec<&str> = self.names().collect();
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
mod properties;
#[cfg(test)]
mod tests;
