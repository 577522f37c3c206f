//! The API reference page's content, read from the OpenAPI document (as
//! JSON): the operations by tag, with their parameters, bodies and answers,
//! and every schema with its fields, each type in words with links to the
//! schemas it names.

use serde_json::{Map, Value};

/// Text from a description: `code` between backticks becomes code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub code: bool,
}

impl Text {
    pub fn of(source: &str) -> Text {
        let joined = source.split_whitespace().collect::<Vec<_>>().join(" ");
        Text(
            joined
                .split('`')
                .enumerate()
                .filter(|(_, text)| !text.is_empty())
                .map(|(at, text)| Piece {
                    text: text.to_owned(),
                    code: at % 2 == 1,
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A type in words: pieces of text, some of them links to a schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeText(pub Vec<TypePiece>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypePiece {
    pub text: String,
    /// The schema it names (its anchor is `schema-NAME`).
    pub schema: Option<String>,
}

impl TypeText {
    fn word(text: impl Into<String>) -> TypeText {
        TypeText(vec![TypePiece {
            text: text.into(),
            schema: None,
        }])
    }

    fn then(mut self, more: TypeText) -> TypeText {
        self.0.extend(more.0);
        self
    }

    fn joined(parts: Vec<TypeText>, between: &str) -> TypeText {
        let mut out = TypeText::default();
        for (at, part) in parts.into_iter().enumerate() {
            if at > 0 {
                out = out.then(TypeText::word(between));
            }
            out = out.then(part);
        }
        out
    }

    /// As plain text (for tests and titles).
    pub fn plain(&self) -> String {
        self.0.iter().map(|piece| piece.text.as_str()).collect()
    }
}

/// A parameter or a field of a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// Where a parameter goes: `path`, `query` or `header`.
    pub location: Option<String>,
    pub type_text: TypeText,
    pub required: bool,
    pub description: Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: String,
    pub description: Text,
    pub body: Option<TypeText>,
    pub headers: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The anchor on the page, e.g. `post-api-v1-apps-id-roll`.
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: Text,
    /// Needs an admin API token.
    pub needs_token: bool,
    pub parameters: Vec<Field>,
    pub request: Option<TypeText>,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub description: Text,
    pub operations: Vec<Operation>,
}

/// One shape of a schema that may take several (a tagged enum's variants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub description: Text,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDoc {
    pub name: String,
    pub description: Text,
    /// Schemas whose every field this one has too.
    pub includes: Vec<String>,
    pub fields: Vec<Field>,
    /// For a schema that is one of several shapes.
    pub variants: Vec<Variant>,
    /// For a schema that is one of some values.
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub title: String,
    pub version: String,
    pub description: Text,
    pub groups: Vec<Group>,
    pub schemas: Vec<SchemaDoc>,
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn text_at(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The name a `$ref` points at.
fn ref_name(value: &Value) -> Option<String> {
    value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .map(str::to_owned)
}

/// A schema's type in words.
pub fn type_of(schema: &Value) -> TypeText {
    if let Some(name) = ref_name(schema) {
        return TypeText(vec![TypePiece {
            text: name.clone(),
            schema: Some(name),
        }]);
    }
    for (key, between) in [("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            return TypeText::joined(parts.iter().map(type_of).collect(), between);
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .map(|v| match v {
                Value::Null => "null".to_owned(),
                other => other.to_string(),
            })
            .collect();
        return TypeText::word(format!("one of {}", values.join(", ")));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let nullable = types.contains(&"null");
    let base: Vec<TypeText> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| match *t {
            "array" => TypeText::word("array of ").then(
                schema
                    .get("items")
                    .map(type_of)
                    .unwrap_or_else(|| TypeText::word("anything")),
            ),
            "string" => match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => TypeText::word("date-time (RFC 3339)"),
                Some(format) => TypeText::word(format!("string ({format})")),
                None => TypeText::word("string"),
            },
            other => TypeText::word(other),
        })
        .collect();
    let base = if base.is_empty() {
        TypeText::word(if nullable { "null" } else { "anything" })
    } else {
        TypeText::joined(base, " or ")
    };
    if nullable && !base.plain().ends_with("null") {
        base.then(TypeText::word(" or null"))
    } else {
        base
    }
}

fn fields_of(schema: &Value) -> Vec<Field> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .map(|(name, property)| Field {
                    name: name.clone(),
                    location: None,
                    type_text: type_of(property),
                    required: required.contains(&name.as_str()),
                    description: Text::of(&text_at(property, "description")),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn schema_doc(name: &str, schema: &Value) -> SchemaDoc {
    let mut doc = SchemaDoc {
        name: name.to_owned(),
        description: Text::of(&text_at(schema, "description")),
        includes: vec![],
        fields: fields_of(schema),
        variants: vec![],
        values: vec![],
    };
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            match ref_name(part) {
                Some(included) => doc.includes.push(included),
                None => doc.fields.extend(fields_of(part)),
            }
        }
    }
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        for variant in variants {
            match variant.get("enum").and_then(Value::as_array) {
                // A plain enum's values, each with its own description.
                Some(values) if variant.get("properties").is_none() => {
                    doc.values.extend(values.iter().map(Value::to_string))
                }
                _ => doc.variants.push(Variant {
                    description: Text::of(&text_at(variant, "description")),
                    fields: fields_of(variant),
                }),
            }
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        doc.values.extend(values.iter().map(Value::to_string));
    }
    doc
}

fn body_type(content_holder: &Value) -> Option<TypeText> {
    content_holder
        .get("content")
        .and_then(Value::as_object)
        .and_then(|content| content.values().next())
        .and_then(|media| media.get("schema"))
        .map(type_of)
}

fn operation(path: &str, method: &str, op: &Value) -> Operation {
    let parameters = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|parameters| {
            parameters
                .iter()
                .map(|parameter| Field {
                    name: text_at(parameter, "name"),
                    location: Some(text_at(parameter, "in")),
                    type_text: parameter.get("schema").map(type_of).unwrap_or_default(),
                    required: parameter
                        .get("required")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    description: Text::of(&text_at(parameter, "description")),
                })
                .collect()
        })
        .unwrap_or_default();
    let empty = Map::new();
    let answers = op
        .get("responses")
        .and_then(Value::as_object)
        .unwrap_or(&empty)
        .iter()
        .map(|(status, answer)| Answer {
            status: status.clone(),
            description: Text::of(&text_at(answer, "description")),
            body: body_type(answer),
            headers: answer
                .get("headers")
                .and_then(Value::as_object)
                .map(|headers| {
                    headers
                        .iter()
                        .map(|(name, header)| Field {
                            name: name.clone(),
                            location: Some("header".into()),
                            type_text: header.get("schema").map(type_of).unwrap_or_default(),
                            required: false,
                            description: Text::of(&text_at(header, "description")),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let anchor = format!("{method}{path}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    Operation {
        anchor,
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        summary: text_at(op, "summary"),
        description: Text::of(&text_at(op, "description")),
        needs_token: op
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|schemes| !schemes.is_empty()),
        parameters,
        request: op.get("requestBody").and_then(body_type),
        answers,
    }
}

impl Reference {
    /// Reads an OpenAPI document. Operations are grouped by their first tag,
    /// in the document's order of tags.
    pub fn of(document: &Value) -> Reference {
        let info = document.get("info").cloned().unwrap_or_default();
        let mut groups: Vec<Group> = document
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| {
                tags.iter()
                    .map(|tag| Group {
                        name: text_at(tag, "name"),
                        description: Text::of(&text_at(tag, "description")),
                        operations: vec![],
                    })
                    .collect()
            })
            .unwrap_or_default();
        let empty = Map::new();
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else {
                    continue;
                };
                let tag = op
                    .get("tags")
                    .and_then(|tags| tags.get(0))
                    .and_then(Value::as_str)
                    .unwrap_or("other")
                    .to_owned();
                let at = match groups.iter().position(|group| group.name == tag) {
                    Some(at) => at,
                    None => {
                        groups.push(Group {
                            name: tag,
                            description: Text::default(),
                            operations: vec![],
                        });
                        groups.len() - 1
                    }
                };
                groups[at].operations.push(operation(path, method, op));
            }
        }
        groups.retain(|group| !group.operations.is_empty());
        let schemas = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|schemas| {
                schemas
                    .iter()
                    .map(|(name, schema)| schema_doc(name, schema))
                    .collect()
            })
            .unwrap_or_default();
        Reference {
            title: text_at(&info, "title"),
            version: text_at(&info, "version"),
            description: Text::of(&text_at(&info, "description")),
            groups,
            schemas,
        }
    }
}
