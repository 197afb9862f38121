//! Bounded input (issue 15): every text field of every request body has a published limit
//! (`maxLength` in the OpenAPI document), the server enforces exactly that limit — one past it
//! is 422 `errors.invalidParameter` naming the field, at it the field is not refused — and
//! values at the limit are stored and read back unchanged on both backends.
//!
//! The probe walks the served OpenAPI document, so a new body field without a limit, or a
//! limit documented but not enforced (or enforced differently), fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, Reply, TestApp, CORE};
use reqwest::Method;
use serde_json::{Map, Value};

/// A schema with `$ref`s resolved against the document's components.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The non-null alternative of a nullable schema (`oneOf: [null, X]`, `type: [X, null]`).
fn non_null<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let schema = resolve(doc, schema);
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            if let Some(option) = options
                .iter()
                .map(|o| resolve(doc, o))
                .find(|o| o.get("type") != Some(&json!("null")))
            {
                return non_null(doc, option);
            }
        }
    }
    schema
}

fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

/// A value of the schema's type good enough to deserialise (required fields only).
fn sample(doc: &Value, schema: &Value) -> Value {
    let schema = non_null(doc, schema);
    if let Some(first) = schema
        .get("enum")
        .and_then(|e| e.as_array()?.first().cloned())
    {
        return first;
    }
    match type_of(schema) {
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("date") => json!("2020-01-01"),
            Some("date-time") => json!("2020-01-01T00:00:00Z"),
            _ => json!("a"),
        },
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        _ => {
            let mut object = Map::new();
            for name in required(schema) {
                object.insert(name.clone(), sample(doc, &schema["properties"][&name]));
            }
            Value::Object(object)
        }
    }
}

fn required(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// One step from an object towards a text leaf.
#[derive(Debug, Clone)]
enum Step {
    Field(String),
    Key,
    Index,
}

/// A text leaf of a body: where it is, its limit (None = unbounded), and whether a plain
/// `xxx…` value is acceptable at the limit (not for formats, patterns, e-mails, enums).
#[derive(Debug)]
struct Leaf {
    steps: Vec<Step>,
    parents: Vec<Value>,
    max: Option<u64>,
    plain: bool,
    formatted: bool,
    name: String,
}

fn leaves(
    doc: &Value,
    schema: &Value,
    steps: &mut Vec<Step>,
    parents: &mut Vec<Value>,
    out: &mut Vec<Leaf>,
) {
    let schema = non_null(doc, schema);
    if steps.len() > 6 {
        return;
    }
    match type_of(schema) {
        Some("string") if schema.get("enum").is_none() => {
            let name = path_name(steps);
            let format = schema.get("format").and_then(Value::as_str);
            out.push(Leaf {
                steps: steps.clone(),
                parents: parents.clone(),
                max: schema.get("maxLength").and_then(Value::as_u64),
                formatted: matches!(format, Some("date" | "date-time")),
                plain: format.is_none()
                    && schema.get("pattern").is_none()
                    && !name.to_ascii_lowercase().ends_with("email"),
                name,
            });
        }
        Some("array") => {
            if let Some(items) = schema.get("items") {
                steps.push(Step::Index);
                parents.push(Value::Null);
                leaves(doc, items, steps, parents, out);
                steps.pop();
                parents.pop();
            }
        }
        Some("object") | None => {
            let this = sample(doc, schema);
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    steps.push(Step::Field(name.clone()));
                    parents.push(this.clone());
                    leaves(doc, property, steps, parents, out);
                    steps.pop();
                    parents.pop();
                }
            }
            if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
                steps.push(Step::Key);
                parents.push(this);
                leaves(doc, values, steps, parents, out);
                steps.pop();
                parents.pop();
            }
        }
        _ => {}
    }
}

/// The field's name as the server's 422 message names it: `name.firstName`, `languages[0]`,
/// `properties.k`.
fn path_name(steps: &[Step]) -> String {
    let mut name = String::new();
    for step in steps {
        match step {
            Step::Field(f) => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(f);
            }
            Step::Key if name.is_empty() => name.push('k'),
            Step::Key => name.push_str(".k"),
            Step::Index => name.push_str("[0]"),
        }
    }
    name
}

/// The body with the leaf set to `value` (parents built from their required fields).
fn body_with(leaf: &Leaf, value: Value) -> Value {
    fn build(steps: &[Step], parents: &[Value], value: Value) -> Value {
        let Some((step, rest)) = steps.split_first() else {
            return value;
        };
        let inner = build(rest, &parents[1..], value);
        match step {
            Step::Field(f) => {
                let mut object = parents[0].as_object().cloned().unwrap_or_default();
                object.insert(f.clone(), inner);
                Value::Object(object)
            }
            Step::Key => {
                let mut object = parents[0].as_object().cloned().unwrap_or_default();
                object.insert("k".into(), inner);
                Value::Object(object)
            }
            Step::Index => Value::Array(vec![inner]),
        }
    }
    build(&leaf.steps, &leaf.parents, value)
}

/// A documented path with `{clientExtId}` as the bootstrap client and every other parameter
/// naming nothing (validation runs before any look-up).
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut param = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                param.clear();
            }
            '}' => {
                in_param = false;
                out.push_str(if param == "clientExtId" {
                    "Default"
                } else {
                    "no-such-thing"
                });
            }
            _ if in_param => param.push(c),
            _ => out.push(c),
        }
    }
    out
}

/// Every (method, path, body schema) of the document.
fn bodies(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(schema) = op
                .pointer("/requestBody/content/application~1json/schema")
                .cloned()
            {
                out.push((method.to_uppercase(), path.clone(), schema));
            }
        }
    }
    out
}

fn names_field(r: &Reply, field: &str) -> bool {
    r.status == 422
        && r.code() == "errors.invalidParameter"
        && r.message()
            .trim_start_matches("The following fields are not valid: ")
            .split(", ")
            .any(|f| f == field)
}

async fn send(app: &TestApp, method: &str, path: &str, body: &Value) -> Reply {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    app.send(app.req(m, &concrete(path)).json(body)).await
}

dual_test!(
    every_text_field_of_every_request_body_is_refused_one_past_its_published_limit_and_accepted_at_it,
    |app| {
        // The probe names map keys `k`: a STRING property `k` of every scope with values lets
        // a value at the limit through to the store instead of failing as an unknown name.
        for scope in [
            "USER_GLOBAL",
            "PROFILE_GLOBAL",
            "UNIT_GLOBAL",
            "ENTERPRISE_ROLE_GLOBAL",
        ] {
            let r = app
                .post(
                    "/nevisidm/api/core/v1/properties",
                    json!({"name": "k", "type": "STRING", "scope": scope}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let doc = app.get("/openapi.json").await.body;
        let mut unbounded = Vec::new();
        let mut wrong = Vec::new();
        let mut probed = 0;
        for (method, path, schema) in bodies(&doc) {
            let mut found = Vec::new();
            leaves(&doc, &schema, &mut Vec::new(), &mut Vec::new(), &mut found);
            for leaf in found {
                let Some(max) = leaf.max else {
                    // A date or date-time is parsed before anything stores it: bounded by
                    // its format.
                    if !leaf.formatted {
                        unbounded.push(format!("{method} {path}: {}", leaf.name));
                    }
                    continue;
                };
                probed += 1;
                let over = body_with(&leaf, json!("x".repeat(max as usize + 1)));
                let r = send(&app, &method, &path, &over).await;
                if !names_field(&r, &leaf.name) {
                    wrong.push(format!(
                        "{method} {path}: {} at {} → {} {}",
                        leaf.name,
                        max + 1,
                        r.status,
                        r.body
                    ));
                }
                if leaf.plain {
                    let at = body_with(&leaf, json!("x".repeat(max as usize)));
                    let r = send(&app, &method, &path, &at).await;
                    if names_field(&r, &leaf.name) || r.status >= 500 {
                        wrong.push(format!(
                            "{method} {path}: {} at the limit {max} → {} {}",
                            leaf.name, r.status, r.body
                        ));
                    }
                }
            }
        }
        assert!(
            unbounded.is_empty(),
            "body text fields without a published maxLength:\n{}",
            unbounded.join("\n")
        );
        assert!(wrong.is_empty(), "limits not enforced as published:\n{}", wrong.join("\n"));
        assert!(probed > 100, "only {probed} fields probed");
    }
);

dual_test!(
    a_user_with_every_text_field_at_its_limit_is_stored_and_read_back_unchanged,
    |app| {
        let at = |n: usize| "x".repeat(n);
        let email = format!("{}@x.ch", "a".repeat(320 - 5));
        let address: Map<String, Value> = [
            "addressline1",
            "addressline2",
            "postalCode",
            "city",
            "street",
            "houseNumber",
            "countryCode",
            "dwellingNumber",
            "postOfficeBoxText",
            "postOfficeBoxNumber",
            "locality",
        ]
        .iter()
        .map(|k| (k.to_string(), json!(at(255))))
        .collect();
        let ext_id = at(255);
        let body = json!({
            "extId": ext_id,
            "loginId": at(300),
            "name": {"title": at(255), "firstName": at(255), "familyName": at(255)},
            "contacts": {"telephone": at(64), "telefax": at(64), "mobile": at(64), "email": email},
            "address": address,
            "remarks": at(4000),
            "modificationComment": at(4000),
        });
        let r = app
            .post(&format!("{CORE}/Default/users"), body.clone())
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let user = app.get(&format!("{CORE}/Default/users/{ext_id}")).await;
        assert_eq!(user.status, 200, "{}", user.body);
        for key in [
            "extId",
            "loginId",
            "name",
            "contacts",
            "address",
            "remarks",
            "modificationComment",
        ] {
            assert_eq!(user.body[key], body[key], "{key}");
        }

        let mut over = body.clone();
        over["extId"] = json!("y");
        over["loginId"] = json!("y");
        over["name"]["firstName"] = json!(at(256));
        let r = app.post(&format!("{CORE}/Default/users"), over).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: name.firstName",
        );
    }
);
