//! Errors as DreamFactory's system API words and shapes them:
//! `{"error":{"code":…,"context":null|{…},"message":"…"}}`, `code` the HTTP
//! status but for a batch (1000), and a batch's failure with each record's
//! result or error in `context`.

use serde_json::{Value, json};

/// One error answer (or one record's error inside a batch).
#[derive(Debug, Clone, PartialEq)]
pub struct DfError {
    pub status: u16,
    pub code: u16,
    pub message: String,
    pub context: Option<Value>,
}

impl DfError {
    pub fn new(status: u16, message: impl Into<String>) -> DfError {
        DfError {
            status,
            code: status,
            message: message.into(),
            context: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> DfError {
        DfError::new(400, message)
    }

    /// DreamFactory's missing-record answer.
    pub fn not_found(id: impl std::fmt::Display) -> DfError {
        DfError::new(404, format!("Record with identifier '{id}' not found."))
    }

    pub fn no_records() -> DfError {
        DfError::bad_request("No record(s) detected in request.")
    }

    /// A record refused field by field: `context` holds each field's messages.
    pub fn invalid<'a>(fields: impl IntoIterator<Item = (String, &'a str)>) -> DfError {
        let mut context = serde_json::Map::new();
        for (field, message) in fields {
            match context.get_mut(&field) {
                Some(Value::Array(list)) => list.push(json!(message)),
                _ => {
                    context.insert(field, json!([message]));
                }
            }
        }
        DfError {
            context: Some(Value::Object(context)),
            ..DfError::bad_request("Validation failed: see context for each field's problem.")
        }
    }

    /// The whole answer body.
    pub fn body(&self) -> Value {
        json!({"error": self.detail()})
    }

    /// As one record of a batch's `context.resource` shows it.
    pub fn detail(&self) -> Value {
        json!({
            "code": self.code,
            "context": self.context.clone().unwrap_or(Value::Null),
            "message": self.message,
        })
    }
}

/// What a batch was doing to its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchVerb {
    Create,
    Update,
    Delete,
}

impl BatchVerb {
    fn past(self) -> &'static str {
        match self {
            BatchVerb::Create => "created",
            BatchVerb::Update => "updated",
            BatchVerb::Delete => "deleted",
        }
    }
}

/// How one record of a batch ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done(Value),
    Failed(DfError),
    /// Written, then undone because another record failed (`rollback=true`).
    RolledBack,
}

/// How a batch goes on after a failed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// DreamFactory's default: keep what was done, stop.
    Stop,
    /// `continue=true`: keep what was done, do the rest.
    Continue,
    /// `rollback=true`: undo everything, stop.
    Rollback,
}

impl OnFailure {
    pub fn new(continue_on_error: bool, rollback: bool) -> OnFailure {
        match (rollback, continue_on_error) {
            (true, _) => OnFailure::Rollback,
            (false, true) => OnFailure::Continue,
            (false, false) => OnFailure::Stop,
        }
    }
}

/// A batch's answer: the records' results when all were done, else the
/// batch error. A batch of one record that failed answers that record's
/// error itself, as DreamFactory does.
pub fn batch_answer(verb: BatchVerb, outcomes: Vec<Outcome>) -> Result<Vec<Value>, DfError> {
    let failed: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .map(|(i, _)| i)
        .collect();
    if failed.is_empty() {
        return Ok(outcomes
            .into_iter()
            .filter_map(|o| match o {
                Outcome::Done(value) => Some(value),
                _ => None,
            })
            .collect());
    }
    if let [Outcome::Failed(error)] = outcomes.as_slice() {
        return Err(error.clone());
    }
    let resource: Vec<Value> = outcomes
        .into_iter()
        .map(|o| match o {
            Outcome::Done(value) => value,
            Outcome::Failed(error) => error.detail(),
            Outcome::RolledBack => json!({
                "code": 400,
                "context": null,
                "message": format!(
                    "Not {}: the batch was rolled back because another record failed.",
                    verb.past()
                ),
            }),
        })
        .collect();
    Err(DfError {
        status: 400,
        code: 1000,
        message: format!(
            "Batch Error: Not all requested records could be {}.",
            verb.past()
        ),
        context: Some(json!({"error": failed, "resource": resource})),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_dreamfactorys_shape() {
        assert_eq!(
            DfError::not_found(7).body(),
            json!({"error": {"code": 404, "context": null,
                             "message": "Record with identifier '7' not found."}})
        );
        let invalid = DfError::invalid([("name".to_owned(), "Application name required")]);
        assert_eq!(invalid.status, 400);
        assert_eq!(
            invalid.context,
            Some(json!({"name": ["Application name required"]}))
        );
    }

    #[test]
    fn batches_answer_all_or_the_batch_error() {
        let done = |id: i32| Outcome::Done(json!({"id": id}));
        let failed = || Outcome::Failed(DfError::bad_request("bad"));
        assert_eq!(
            batch_answer(BatchVerb::Create, vec![done(1), done(2)]),
            Ok(vec![json!({"id": 1}), json!({"id": 2})])
        );
        assert_eq!(
            batch_answer(BatchVerb::Update, vec![failed()])
                .unwrap_err()
                .message,
            "bad"
        );
        let error = batch_answer(BatchVerb::Create, vec![done(1), failed(), done(3)]).unwrap_err();
        assert_eq!((error.status, error.code), (400, 1000));
        assert_eq!(
            error.message,
            "Batch Error: Not all requested records could be created."
        );
        let context = error.context.unwrap();
        assert_eq!(context["error"], json!([1]));
        assert_eq!(context["resource"][0], json!({"id": 1}));
        assert_eq!(context["resource"][1]["message"], "bad");
        let error =
            batch_answer(BatchVerb::Delete, vec![Outcome::RolledBack, failed()]).unwrap_err();
        assert_eq!(error.context.unwrap()["error"], json!([1]));
        assert_eq!(
            OnFailure::new(true, true),
            OnFailure::Rollback,
            "rollback wins over continue"
        );
    }
}
