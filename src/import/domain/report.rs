//! The report of an import: a line per record of the package with what
//! happens to it (or would, in a dry run) and why, and notes on what the
//! package holds that keyward does not import. Nothing is dropped silently.

use serde::Serialize;

use crate::templates::FieldErrors;

/// What kind of record a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Service,
    Role,
    App,
    Admin,
}

impl Kind {
    /// As the report says it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Role => "role",
            Kind::App => "application",
            Kind::Admin => "administrator",
        }
    }
}

/// What happens to one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "reason")]
pub enum Outcome {
    Create,
    Update,
    /// One of that name exists, and the import skips it (no `--update`).
    Exists,
    NotImported(String),
}

impl Outcome {
    pub fn not_imported(why: impl Into<String>) -> Outcome {
        Outcome::NotImported(why.into())
    }

    /// A record keyward's own validation refuses, with every field's message.
    pub fn invalid(errors: &FieldErrors) -> Outcome {
        let messages: Vec<&str> = errors.iter().map(|(_, message)| message).collect();
        Outcome::NotImported(messages.join("; "))
    }

    /// In words, for a dry run (`done` false) or after the import.
    pub fn label(&self, done: bool) -> &'static str {
        match (self, done) {
            (Outcome::Create, false) => "will be created",
            (Outcome::Create, true) => "created",
            (Outcome::Update, false) => "will be updated",
            (Outcome::Update, true) => "updated",
            (Outcome::Exists, _) => "exists, skipped",
            (Outcome::NotImported(_), _) => "not imported",
        }
    }
}

/// One record of the package and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub kind: Kind,
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// What else to know: a rule left out, a key regenerated, ….
    pub notes: Vec<String>,
}

impl Line {
    pub fn new(kind: Kind, name: &str) -> Line {
        Line {
            kind,
            name: name.to_owned(),
            outcome: Outcome::Exists,
            notes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub lines: Vec<Line>,
    /// About the package as a whole.
    pub notes: Vec<String>,
}

impl Report {
    /// How many records have `outcome`'s kind of outcome.
    pub fn count(&self, outcome: fn(&Outcome) -> bool) -> usize {
        self.lines
            .iter()
            .filter(|line| outcome(&line.outcome))
            .count()
    }

    /// One line of totals: "3 to create, 1 to update, 2 skipped, 1 not imported".
    pub fn summary(&self, done: bool) -> String {
        let created = self.count(|o| *o == Outcome::Create);
        let updated = self.count(|o| *o == Outcome::Update);
        let skipped = self.count(|o| *o == Outcome::Exists);
        let refused = self.count(|o| matches!(o, Outcome::NotImported(_)));
        let (create, update) = if done {
            ("created", "updated")
        } else {
            ("to create", "to update")
        };
        format!(
            "{created} {create}, {updated} {update}, {skipped} existing skipped, {refused} not imported"
        )
    }

    /// The report as the command line prints it.
    pub fn to_text(&self, done: bool) -> String {
        let mut text = String::new();
        for line in &self.lines {
            text.push_str(&format!(
                "{} “{}”: {}",
                line.kind.label(),
                line.name,
                line.outcome.label(done)
            ));
            if let Outcome::NotImported(why) = &line.outcome {
                text.push_str(&format!(" ({why})"));
            }
            text.push('\n');
            for note in &line.notes {
                text.push_str(&format!("    - {note}\n"));
            }
        }
        for note in &self.notes {
            text.push_str(&format!("note: {note}\n"));
        }
        text.push_str(&self.summary(done));
        if !done {
            text.push_str(" (dry run: nothing was written)");
        }
        text.push('\n');
        text
    }
}
