use serde_json::{Value, json};

use super::reference::{Reference, Text, type_of};
use super::*;

fn document() -> Value {
    serde_json::from_str(&OPENAPI_JSON).unwrap()
}

#[test]
fn the_document_is_openapi_3_1_with_the_token_scheme() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["info"]["title"], "keyward");
}

#[test]
fn every_operation_but_verification_needs_a_token_and_says_what_it_does() {
    let doc = document();
    let mut count = 0;
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id.clone()), "operationId {id} is not unique");
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let verification = path == "/api/v1/verify" || path == "/api/v1/auth";
            assert_eq!(secured, !verification, "{method} {path}");
            assert!(
                !op["summary"].as_str().unwrap_or_default().is_empty(),
                "{method} {path} has no summary"
            );
            if secured {
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
            }
        }
    }
    assert_eq!(count, 29);
}

#[test]
fn every_schema_named_is_defined() {
    let text = OPENAPI_JSON.as_str();
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            schemas.contains_key(name),
            "{name} is named but not defined"
        );
    }
}

#[test]
fn types_read_as_words() {
    assert_eq!(type_of(&json!({"type": "string"})).plain(), "string");
    assert_eq!(
        type_of(&json!({"type": ["string", "null"], "format": "date-time"})).plain(),
        "date-time (RFC 3339) or null"
    );
    assert_eq!(
        type_of(&json!({"type": "array", "items": {"$ref": "#/components/schemas/RuleJson"}}))
            .plain(),
        "array of RuleJson"
    );
    let nullable_ref =
        type_of(&json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Named"}]}));
    assert_eq!(nullable_ref.plain(), "null or Named");
    assert_eq!(nullable_ref.0[2].schema.as_deref(), Some("Named"));
    assert_eq!(
        type_of(&json!({"type": "string", "enum": ["read_only", "read_write"]})).plain(),
        r#"one of "read_only", "read_write""#
    );
}

#[test]
fn backticks_become_code() {
    let text = Text::of("Send `Authorization: Bearer kwa_…`\n  for a token.");
    let pieces: Vec<(&str, bool)> = text.0.iter().map(|p| (p.text.as_str(), p.code)).collect();
    assert_eq!(
        pieces,
        [
            ("Send ", false),
            ("Authorization: Bearer kwa_…", true),
            (" for a token.", false)
        ]
    );
}

#[test]
fn the_reference_has_every_operation_and_schema() {
    let reference = Reference::of(&document());
    let groups: Vec<&str> = reference.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        groups,
        [
            "apps",
            "roles",
            "services",
            "admins",
            "audit",
            "verification"
        ]
    );
    let operations: usize = reference.groups.iter().map(|g| g.operations.len()).sum();
    assert_eq!(operations, 29);
    let roll = reference.groups[0]
        .operations
        .iter()
        .find(|op| op.path == "/api/v1/apps/{id}/roll")
        .unwrap();
    assert_eq!(roll.anchor, "post-api-v1-apps-id-roll");
    assert_eq!(roll.request.as_ref().unwrap().plain(), "RollJson");
    assert!(
        roll.answers.iter().any(
            |a| a.status == "201" && a.body.as_ref().is_some_and(|b| b.plain() == "AppWithKey")
        )
    );
    let with_key = reference
        .schemas
        .iter()
        .find(|s| s.name == "AppWithKey")
        .unwrap();
    assert!(
        with_key
            .fields
            .iter()
            .any(|f| f.name == "key" && f.required)
    );
    let location = reference
        .schemas
        .iter()
        .find(|s| s.name == "LocationJson")
        .unwrap();
    assert_eq!(location.variants.len(), 4);
}

#[test]
fn the_allow_header_lists_what_the_document_does() {
    assert_eq!(
        allowed_methods("/api/v1/apps").as_deref(),
        Some("GET, HEAD, POST")
    );
    assert_eq!(
        allowed_methods("/api/v1/apps/{id}").as_deref(),
        Some("GET, HEAD, PATCH, DELETE")
    );
    assert_eq!(
        allowed_methods("/api/v1/apps/{id}/roll").as_deref(),
        Some("POST")
    );
    assert_eq!(allowed_methods("/api-keys"), None);
}
