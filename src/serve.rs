//! `strata serve`: the project's scoring as a local HTTP service, so a CRM or a marketing tool
//! gets a customer's segment the moment it asks. The same scoring as `strata score` (recipe,
//! model, business rules with the fitted customers' percentiles, overrides, fallback); the body is
//! parsed here so that every refusal names the field it concerns.
//!
//! - `POST /score`: one customer as a JSON object, or a batch as `{"customers": [..]}` (or a bare
//!   array). A customer is a row of the project's customer table: every field `GET /model` lists
//!   must be present, `null` where the value is unknown.
//! - `GET /health`: `{"status": "ok"}` while the service runs.
//! - `GET /model`: what is served (fingerprints, the fields and their types, the segments, limits).
//!
//! Bodies over the byte limit get 413, batches over the customer limit 413, malformed JSON, a
//! missing field or a wrong type 400, each with `{"error": ".."}`. Scoring runs on tokio's blocking
//! pool, so concurrent requests do not wait on each other's arithmetic; SIGTERM and Ctrl-C stop
//! accepting, let requests in flight finish, and end the process cleanly.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use polars::prelude::{Column, DataFrame, DataType};
use serde_json::{Map, Value, json};

use crate::engine::features::recipe::FittedFeature;
use crate::engine::governance::OptOuts;
use crate::engine::naming::SegmentNote;
use crate::engine::pipeline::PipelineResult;
use crate::engine::rules::{BusinessRules, Condition, parse_rule};
use crate::engine::scoring::{self, FittedFacts};

/// The format name of `GET /model`.
pub const MODEL_FORMAT: &str = "strata-scoring-service";
/// Its version: fields are added, never renamed.
pub const MODEL_FORMAT_VERSION: u32 = 1;
/// Default largest request body, in bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Default largest batch, in customers.
pub const DEFAULT_MAX_BATCH: usize = 10_000;

/// What a field of a customer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A JSON number (or null).
    Number,
    /// A JSON string (or null); integers are accepted and read as their digits.
    Text,
}

impl FieldType {
    fn name(self) -> &'static str {
        match self {
            FieldType::Number => "number",
            FieldType::Text => "text",
        }
    }
}

/// A field every customer sends.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The customer table's column.
    pub name: String,
    /// Its type.
    pub kind: FieldType,
    /// Why it is read: `feature` (the recipe) or `rule` (a business rule's condition).
    pub role: &'static str,
}

/// The service's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Most customers in one batch.
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body_bytes: DEFAULT_MAX_BODY_BYTES, max_batch: DEFAULT_MAX_BATCH }
    }
}

/// Everything a request needs, built once when the service starts.
pub struct ServedModel {
    result: PipelineResult,
    rules: BusinessRules,
    notes: Vec<SegmentNote>,
    opt_outs: OptOuts,
    id_column: Option<String>,
    fields: Vec<Field>,
    facts: FittedFacts,
    limits: Limits,
    description: Value,
}

/// A refused request: its status and the message of its `{"error": ..}` body.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// 400, 413, 404 or 500.
    pub status: u16,
    /// What was wrong, naming the field.
    pub message: String,
}

fn bad(message: String) -> Refusal {
    Refusal { status: 400, message }
}

impl ServedModel {
    /// The model of the project re-run as `result`, with its rules, segment notes, opt-outs and
    /// id column; `project_name` is shown by `GET /model`.
    pub fn new(
        result: PipelineResult,
        rules: BusinessRules,
        notes: Vec<SegmentNote>,
        opt_outs: OptOuts,
        id_column: Option<String>,
        project_name: &str,
        limits: Limits,
    ) -> Result<Self, String> {
        let facts = FittedFacts::with_rules(&result, &rules).map_err(|e| e.to_string())?;
        let fields = fields(&result, &rules, id_column.as_deref())?;
        let mut model =
            ServedModel { result, rules, notes, opt_outs, id_column, fields, facts, limits, description: Value::Null };
        model.description = model.describe(project_name);
        Ok(model)
    }

    /// The fields every customer sends.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// `GET /model`'s body.
    pub fn description(&self) -> &Value {
        &self.description
    }

    fn describe(&self, project_name: &str) -> Value {
        let result = &self.result;
        let names = self.segment_names();
        let segments: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(s, name)| {
                json!({
                    "segment": s,
                    "segment_number": s + 1,
                    "name": name,
                    "made_by": if s < result.fit.k() {
                        "model"
                    } else if s < result.n_model_segments() || s + 1 == names.len() && result.n_model_segments() == result.fit.k() {
                        "fallback"
                    } else {
                        "rules"
                    },
                })
            })
            .collect();
        json!({
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "strata": env!("CARGO_PKG_VERSION"),
            "project": project_name,
            "assignment_fingerprint": result.assignment_fingerprint,
            "data_fingerprints": result.source_fingerprints,
            "method": result.fit.model.describe(),
            "n_fitted_customers": result.customers.height(),
            "id_column": self.id_column,
            "fields": self.fields.iter().map(|f| json!({"name": f.name, "type": f.kind.name(), "role": f.role})).collect::<Vec<_>>(),
            "segments": segments,
            "fallback": if result.n_model_segments() > result.fit.k() {
                "the project's fallback segment"
            } else {
                "a segment named Fallback, numbered after every other segment"
            },
            "determinism": scoring::DETERMINISM,
            "limits": {"max_body_bytes": self.limits.max_body_bytes, "max_batch": self.limits.max_batch},
        })
    }

    /// Every segment a customer can be given, by number: the fitted run's, those only the rules
    /// and overrides make, then the fallback when the fit had none (as `strata score` numbers them).
    fn segment_names(&self) -> Vec<String> {
        let note = |s: usize| self.notes.iter().find(|n| n.segment == s).map(|n| n.name.clone());
        let mut names: Vec<String> = (0..self.result.n_segments())
            .map(|s| note(s).unwrap_or_else(|| self.result.default_segment_name(s)))
            .collect();
        for name in scoring::rule_targets(&self.rules) {
            if !names.iter().any(|n| n.trim().eq_ignore_ascii_case(&name)) {
                names.push(name);
            }
        }
        if self.result.n_model_segments() == self.result.fit.k() {
            names.push("Fallback".to_string());
        }
        names
    }

    /// Scores the body of a `POST /score`: the JSON answer, or the refusal.
    pub fn score_body(&self, body: &[u8]) -> Result<Value, Refusal> {
        let parsed: Value = serde_json::from_slice(body).map_err(|e| {
            bad(format!(
                "the body is not JSON ({e}); send one customer as an object or a batch as {{\"customers\": [..]}}"
            ))
        })?;
        let (customers, batch) = match parsed {
            Value::Array(items) => (items, true),
            Value::Object(mut map) => match map.remove("customers") {
                Some(Value::Array(items)) => (items, true),
                Some(other) => {
                    map.insert("customers".into(), other);
                    (vec![Value::Object(map)], false)
                }
                None => (vec![Value::Object(map)], false),
            },
            other => {
                return Err(bad(format!(
                    "the body is a JSON {}; send one customer as an object or a batch as {{\"customers\": [..]}}",
                    json_kind(&other)
                )));
            }
        };
        if customers.len() > self.limits.max_batch {
            return Err(Refusal {
                status: 413,
                message: format!(
                    "the batch has {} customers; at most {} per request (split it)",
                    customers.len(),
                    self.limits.max_batch
                ),
            });
        }
        let (frame, ids) = self.frame(&customers, batch)?;
        let scored =
            scoring::score_with(&self.facts, &self.result, &self.rules, &self.notes, self.id_column.as_deref(), &frame)
                .map_err(|e| Refusal { status: 400, message: format!("could not score: {e}") })?;
        let id_key = self.id_column.clone().unwrap_or_else(|| "row".to_string());
        let answers: Vec<Value> = (0..frame.height())
            .map(|i| {
                let mut answer = Map::new();
                let id = match &self.id_column {
                    Some(_) => ids[i].clone(),
                    None => json!(i + 1),
                };
                let opted_out = match &self.id_column {
                    Some(_) => id_text(&ids[i]).is_some_and(|t| self.opt_outs.contains(&t)),
                    None => false,
                };
                answer.insert(id_key.clone(), id);
                let segment = scored.segments[i];
                let model = scored.model_segments[i];
                let name = |s: Option<usize>| s.and_then(|s| scored.names.get(s).cloned());
                answer.insert("segment".into(), json!(segment));
                answer.insert("segment_number".into(), json!(segment.map(|s| s + 1)));
                answer.insert("segment_name".into(), json!(name(segment)));
                answer.insert("model_segment".into(), json!(model));
                answer.insert("model_segment_number".into(), json!(model.map(|s| s + 1)));
                answer.insert("changed_by".into(), json!(scored.changed_by[i]));
                let (reason, column) = match &scored.reasons[i] {
                    Some((r, c)) => (Some(r.code()), Some(c.as_str())),
                    None => (None, None),
                };
                answer.insert("reason".into(), json!(reason));
                answer.insert("reason_column".into(), json!(column));
                answer.insert("margin".into(), json!(scored.margins[i]));
                answer.insert("beyond_fitted".into(), json!(scored.beyond_fitted[i]));
                if let Some(p) = &scored.probability {
                    answer.insert("probability".into(), json!(p[i]));
                }
                if !self.opt_outs.is_empty() {
                    answer.insert("opted_out".into(), json!(opted_out));
                }
                Value::Object(answer)
            })
            .collect();
        let warnings = scored.warnings;
        if batch {
            Ok(json!({"n_customers": answers.len(), "customers": answers, "warnings": warnings}))
        } else {
            let mut one = match answers.into_iter().next() {
                Some(Value::Object(one)) => one,
                _ => return Err(Refusal { status: 500, message: "the customer was not scored".into() }),
            };
            one.insert("warnings".into(), json!(warnings));
            Ok(Value::Object(one))
        }
    }

    /// The customers as a customer table (the fields in order, then the id), and each one's id as
    /// sent.
    fn frame<'a>(&self, customers: &'a [Value], batch: bool) -> Result<(DataFrame, Vec<Value>), Refusal> {
        let at = |i: usize| if batch { format!("customers[{i}]") } else { "the customer".to_string() };
        let mut objects: Vec<&'a Map<String, Value>> = Vec::with_capacity(customers.len());
        for (i, customer) in customers.iter().enumerate() {
            match customer {
                Value::Object(map) => objects.push(map),
                other => return Err(bad(format!("{} is a JSON {}, not an object of fields", at(i), json_kind(other)))),
            }
        }
        let mut columns = Vec::with_capacity(self.fields.len() + 1);
        for field in &self.fields {
            let value_of = |i: usize, map: &'a Map<String, Value>| -> Result<&'a Value, Refusal> {
                map.get(&field.name).ok_or_else(|| {
                    bad(format!(
                        "{}: the field \"{}\" is missing (send null when the value is unknown; GET /model lists the fields)",
                        at(i),
                        field.name
                    ))
                })
            };
            let wrong = |i: usize, value: &Value| {
                bad(format!(
                    "{}: \"{}\" must be a {} or null, not a JSON {}",
                    at(i),
                    field.name,
                    field.kind.name(),
                    json_kind(value)
                ))
            };
            let column = match field.kind {
                FieldType::Number => {
                    let mut values = Vec::with_capacity(objects.len());
                    for (i, map) in objects.iter().enumerate() {
                        values.push(match value_of(i, map)? {
                            Value::Null => None,
                            Value::Number(n) => n.as_f64(),
                            other => return Err(wrong(i, other)),
                        });
                    }
                    Column::new(field.name.as_str().into(), values)
                }
                FieldType::Text => {
                    let mut values = Vec::with_capacity(objects.len());
                    for (i, map) in objects.iter().enumerate() {
                        values.push(match value_of(i, map)? {
                            Value::Null => None,
                            Value::String(t) => Some(t.clone()),
                            Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
                            other => return Err(wrong(i, other)),
                        });
                    }
                    Column::new(field.name.as_str().into(), values)
                }
            };
            columns.push(column);
        }
        let mut ids = Vec::with_capacity(objects.len());
        if let Some(id) = &self.id_column {
            let mut texts = Vec::with_capacity(objects.len());
            for (i, map) in objects.iter().enumerate() {
                let value = map.get(id).cloned().unwrap_or(Value::Null);
                match &value {
                    Value::Null | Value::String(_) | Value::Number(_) => {}
                    other => {
                        return Err(bad(format!(
                            "{}: the id \"{id}\" must be text, a number or null, not a JSON {}",
                            at(i),
                            json_kind(other)
                        )));
                    }
                }
                texts.push(id_text(&value));
                ids.push(value);
            }
            if !self.fields.iter().any(|f| f.name == *id) {
                columns.push(Column::new(id.as_str().into(), texts));
            }
        }
        let frame = DataFrame::new(objects.len(), columns)
            .map_err(|e| Refusal { status: 500, message: format!("could not build the customers: {e}") })?;
        Ok((frame, ids))
    }
}

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(t) => Some(t.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The fields a customer sends: the recipe's features, then the columns the business rules read
/// (typed as the fitted customer table has them), without the id.
fn fields(result: &PipelineResult, rules: &BusinessRules, id_column: Option<&str>) -> Result<Vec<Field>, String> {
    let mut fields: Vec<Field> = result
        .fitted_recipe
        .features
        .iter()
        .map(|f| match f {
            FittedFeature::Numeric(f) => Field { name: f.column.clone(), kind: FieldType::Number, role: "feature" },
            FittedFeature::Categorical(c) => Field { name: c.column.clone(), kind: FieldType::Text, role: "feature" },
        })
        .collect();
    for (i, rule) in rules.rules.iter().enumerate() {
        let parsed = parse_rule(&rule.text).map_err(|e| format!("rule {}: {e}", i + 1))?;
        for condition in &parsed.conditions {
            let column = match condition {
                Condition::Compare { column, .. } | Condition::Missing { column, .. } => column,
                Condition::NoSegment => continue,
            };
            if fields.iter().any(|f| f.name == *column) || Some(column.as_str()) == id_column {
                continue;
            }
            let kind = match result.customers.column(column).map(|c| c.dtype().clone()) {
                Ok(dtype) if dtype.is_primitive_numeric() || dtype == DataType::Boolean => FieldType::Number,
                _ => FieldType::Text,
            };
            fields.push(Field { name: column.clone(), kind, role: "rule" });
        }
    }
    Ok(fields)
}

fn respond(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn refuse(refusal: &Refusal) -> Response {
    respond(refusal.status, &json!({"error": refusal.message}))
}

async fn get_health() -> Response {
    respond(200, &json!({"status": "ok"}))
}

async fn get_model(State(model): State<Arc<ServedModel>>) -> Response {
    respond(200, model.description())
}

async fn post_score(State(model): State<Arc<ServedModel>>, body: Body) -> Response {
    let limit = model.limits.max_body_bytes;
    let Some(bytes) = read_body(body, limit).await else {
        return refuse(&Refusal {
            status: 413,
            message: format!("the body is larger than {limit} bytes; send smaller batches"),
        });
    };
    match tokio::task::spawn_blocking(move || model.score_body(&bytes)).await {
        Ok(Ok(answer)) => respond(200, &answer),
        Ok(Err(refusal)) => refuse(&refusal),
        Err(e) => refuse(&Refusal { status: 500, message: format!("scoring failed inside Strata (a bug): {e}") }),
    }
}

/// The body when it has at most `limit` bytes. A longer one is read on and dropped (up to
/// [`DRAIN_BYTES`]), so the client gets its 413 instead of a connection reset by a server that
/// closed with its request unread; `None` for a body over the limit or one that broke off.
async fn read_body(mut body: Body, limit: usize) -> Option<Vec<u8>> {
    use http_body_util::BodyExt;
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return None };
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen > limit.saturating_add(DRAIN_BYTES) {
                return None;
            }
            if seen <= limit {
                bytes.extend_from_slice(&data);
            }
        }
    }
    (seen <= limit).then_some(bytes)
}

/// How far past the limit a body is read and dropped before the connection is closed.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;

async fn not_found() -> Response {
    refuse(&Refusal {
        status: 404,
        message: "no such endpoint: POST /score, GET /model and GET /health are served".into(),
    })
}

/// The service's routes on `model`.
pub fn router(model: Arc<ServedModel>) -> Router {
    Router::new()
        .route("/score", post(post_score))
        .route("/model", get(get_model))
        .route("/health", get(get_health))
        .fallback(not_found)
        .with_state(model)
}

/// Serves `model` on `host:port` (port 0: a free one) until SIGTERM or Ctrl-C; `ready` is told
/// the address once the socket listens.
pub fn serve(model: ServedModel, host: &str, port: u16, ready: impl FnOnce(SocketAddr)) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("strata-serve")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("could not start the service's runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((host, port))
            .await
            .map_err(|e| format!("could not listen on {host}:{port}: {e}"))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        ready(address);
        axum::serve(listener, router(Arc::new(model)))
            .with_graceful_shutdown(stop_signal())
            .await
            .map_err(|e| format!("the service stopped: {e}"))
    })
}

/// SIGTERM (how a service manager stops it) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
