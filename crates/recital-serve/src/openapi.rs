//! The OpenAPI 3.1 description served at `/openapi.json`, written by hand:
//! the API is small, and a hand-written description documents the extension
//! fields and offset units precisely, which derive macros would not.

use axum::Json;
use serde_json::{json, Value};

/// `GET /openapi.json`.
pub async fn handler() -> Json<Value> {
    Json(document())
}

fn op(summary: &str, body: Option<&str>, ok: &str, ok_schema: &str) -> Value {
    let mut o = json!({
        "summary": summary,
        "responses": {
            ok: {"description": "Success", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{ok_schema}")}}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"},
            "429": {"$ref": "#/components/responses/Error"}
        }
    });
    if let Some(b) = body {
        o["responses"]["415"] = json!({"$ref": "#/components/responses/Error"});
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{b}")}}}});
    }
    o
}

/// `POST /v1/messages`: Anthropic's shapes, errors included.
fn messages_op(jurisdiction: &Value) -> Value {
    let err = json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnthropicError"}}}});
    let mut o = op(
        "The Anthropic Messages API, proxied to the upstream and checked (stream or not).",
        Some("MessagesRequest"),
        "200",
        "MessagesResponse",
    );
    for code in ["400", "401", "403", "413", "429"] {
        o["responses"][code] = err.clone();
    }
    o["parameters"] = json!([jurisdiction.clone()]);
    o["security"] = json!([{"bearer": []}, {"apiKey": []}]);
    o["description"] = json!("Each text, thinking and tool_use block is a channel keyed by its block index (streamed: text_delta, thinking_delta, input_json_delta); so is every server tool's result block (*_tool_result, judged whole on its JSON string values, streamed or not), and the citations of a text block (channel `citation`; streamed citations_delta events are held until their block stops, then sent with what may be shown of them); redacted_thinking passes. The query string (?beta=true) is forwarded. A blocked message ends with stop_reason \"refusal\" and stop_details {type: \"refusal\", explanation}; whole, its content is []. Streamed deltas may carry a `recital` object {channel, index, annotations, check_offset}, the refusal's message_delta {action: \"block\", channel, index, statement, request_id}; a whole message carries `recital` {request_id, jurisdiction, decisions[]} (each with the block's index). Server flag --strict-openai removes every `recital` field.");
    o
}

/// The description.
pub fn document() -> Value {
    let jur = json!({"name": "X-Recital-Jurisdiction", "in": "header", "required": false,
        "description": "ISO 3166-1 alpha-2 code or a group defined by the policy (EU, EEA). Default: the key's, else the policy's.",
        "schema": {"type": "string"}});
    let mut scan = op(
        "Scan a text: detections and a policy decision with a statement of reasons.",
        Some("ScanRequest"),
        "200",
        "ScanResponse",
    );
    scan["parameters"] = json!([jur.clone()]);
    let mut filter = op(
        "The text as it may be shown: redactions applied, citations as annotations.",
        Some("ScanRequest"),
        "200",
        "FilterResponse",
    );
    filter["parameters"] = json!([jur.clone()]);
    let mut chat = op(
        "OpenAI-compatible chat completions, proxied to the upstream and checked (stream or not).",
        Some("OpenAIRequest"),
        "200",
        "OpenAIResponse",
    );
    chat["parameters"] = json!([jur.clone()]);
    chat["description"] = json!("Streams hold back the policy's shortest trigger minus one token. A blocked response ends with finish_reason \"content_filter\". Chunks may carry a `recital` extension object: {choice, annotations[{start_offset, end_offset, offset_unit: \"byte\", action, rule, citations[{doc_id, path, url, license, holder}]}], check_offset} — offsets are bytes of the text emitted so far for that choice, and a later annotation with the same start_offset supersedes an earlier one; on a block {choice, action: \"block\", statement, request_id}. Non-streamed responses carry `recital` {request_id, jurisdiction, decisions[]} at the top level. Server flag --strict-openai removes every `recital` field.");
    let mut comp = chat.clone();
    comp["summary"] = json!("OpenAI-compatible (legacy) completions, proxied and checked.");
    let messages = messages_op(&jur);
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "recital", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Copyright content moderation for model outputs: find spans that copy indexed works, attribute them, decide per policy. Offsets are byte offsets into the text as given (UTF-8) unless a field says otherwise. Authentication: `Authorization: Bearer KEY`. Request bodies are JSON objects: a Content-Type other than application/json (parameters such as charset allowed) is a 415, a request without one is read as JSON, and a body that is not an object is a 400. A method an endpoint does not take is a 405 with the usual error body and an Allow header."},
        "security": [{"bearer": []}],
        "paths": {
            "/v1/scan": {"post": scan},
            "/v1/filter": {"post": filter},
            "/v1/chat/completions": {"post": chat},
            "/v1/completions": {"post": comp},
            "/v1/messages": {"post": messages},
            "/v1/messages/count_tokens": {"post": op("Anthropic's token count of a request, forwarded to the upstream as it is (it holds no model output).", Some("MessagesRequest"), "200", "MessagesResponse")},
            "/v1/works": {
                "post": op("Register a work (rightsholder, admin). Answers 201 once the work is durable and searchable.", Some("WorkRequest"), "201", "Work"),
                "get": op("List the caller's works (admins: all).", None, "200", "WorkList")
            },
            "/v1/works/{id}": {
                "get": op("A registered work (never its text).", None, "200", "Work"),
                "delete": op("Withdraw a work: it stops matching at once.", None, "200", "Work")
            },
            "/v1/notices": {
                "post": op("File a notice about a registered work, a corpus document, a URL, or a work by its ISCC Text-Code (its near copies included). Answers 201 once durable and effective.", Some("NoticeRequest"), "201", "Notice"),
                "get": op("List the caller's notices (admins: all).", None, "200", "NoticeList")
            },
            "/v1/notices/{id}": {
                "get": op("Status and timestamps (received, effective) of a notice.", None, "200", "Notice"),
                "delete": op("Withdraw a notice (its filer, admins): it stops applying at once.", None, "200", "Notice")
            },
            "/v1/audit": {"get": op("The audit log of annotate, redact and block decisions, newest first (admins). Query: since, until (unix ms), action, key, rule, source, limit, before.", None, "200", "AuditList")},
            "/healthz": {"get": {"summary": "Liveness.", "security": [], "responses": {"200": {"description": "up"}}}},
            "/readyz": {"get": {"summary": "Readiness (index open, not shutting down).", "security": [], "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics.", "security": [], "responses": {"200": {"description": "text format 0.0.4"}}}}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
            "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {"message": {"type": "string"}, "type": {"type": "string"}, "code": {"type": "string"}}}}},
                "ScanRequest": {"type": "object", "additionalProperties": false, "required": ["text"], "properties": {
                    "text": {"type": "string", "description": "The model output."},
                    "context": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}], "description": "Prompt or retrieved text; repeating it is not flagged."},
                    "jurisdiction": {"type": "string"}}},
                "ScanResponse": {"type": "object", "properties": {"request_id": {"type": "string"}, "decision": {"$ref": "#/components/schemas/Decision"}, "report": {"type": "object", "description": "Scan report, schema recital.scan/1 (spans with byte_start, byte_end, char_start, char_end, utf16_start, utf16_end, tokens, count, kind, sources)."}}},
                "FilterResponse": {"type": "object", "properties": {"request_id": {"type": "string"}, "action": {"$ref": "#/components/schemas/Action"}, "blocked": {"type": "boolean"}, "text": {"type": ["string", "null"]}, "annotations": {"type": "array", "items": {"type": "object"}}, "statement": {"type": "string"}, "jurisdiction": {"type": "string"}}},
                "Action": {"type": "string", "enum": ["allow", "annotate", "redact", "block"]},
                "Decision": {"type": "object", "properties": {"action": {"$ref": "#/components/schemas/Action"}, "jurisdiction": {"type": "string"}, "spans": {"type": "array", "items": {"type": "object"}}, "statement": {"type": "string"}, "policy": {"type": "string"}}},
                "OpenAIRequest": {"type": "object", "description": "Passed to the upstream unchanged."},
                "OpenAIResponse": {"type": "object", "description": "The upstream's answer, checked; see the operation description for the `recital` extension."},
                "MessagesRequest": {"type": "object", "required": ["messages", "max_tokens"], "description": "Passed to the upstream unchanged."},
                "MessagesResponse": {"type": "object", "description": "The upstream's message, checked; see the operation description."},
                "AnthropicError": {"type": "object", "properties": {"type": {"const": "error"}, "error": {"type": "object", "properties": {"type": {"type": "string"}, "message": {"type": "string"}}}}},
                "WorkRequest": {"type": "object", "additionalProperties": false, "required": ["text"], "properties": {
                    "title": {"type": "string"}, "text": {"type": "string"}, "mode": {"type": "string", "enum": ["text", "code"]},
                    "language": {"type": "string"}, "license": {"type": "string", "description": "SPDX expression; default NOASSERTION"},
                    "holder": {"type": "string"}, "url": {"type": "string"}, "tdm_opt_out": {"type": "boolean"},
                    "jurisdictions": {"type": "array", "items": {"type": "string"}}, "category": {"type": "string"}}},
                "Work": {"type": "object", "description": "A registered work's metadata and status (pending, indexed, withdrawn) with timestamps, and `iscc`, its text's ISCC Text-Code; never its text."},
                "WorkList": {"type": "object", "properties": {"works": {"type": "array", "items": {"$ref": "#/components/schemas/Work"}}}},
                "NoticeRequest": {"type": "object", "additionalProperties": false, "required": ["target", "reason"], "properties": {
                    "target": {"oneOf": [
                        {"type": "object", "required": ["type", "work_id"], "properties": {"type": {"const": "work"}, "work_id": {"type": "string"}}},
                        {"type": "object", "required": ["type", "doc_id"], "properties": {"type": {"const": "document"}, "doc_id": {"type": "string"}}},
                        {"type": "object", "required": ["type", "url"], "properties": {"type": {"const": "url"}, "url": {"type": "string"}}}]},
                    "reason": {"type": "string"}, "requested_action": {"type": "string"},
                    "jurisdictions": {"type": "array", "items": {"type": "string"}}, "contact": {"type": "string"}}},
                "Notice": {"type": "object", "description": "id, target, status (received, effective, rejected, withdrawn), received_at, effective_at (unix ms and RFC 3339)."},
                "NoticeList": {"type": "object", "properties": {"notices": {"type": "array", "items": {"$ref": "#/components/schemas/Notice"}}}},
                "AuditList": {"type": "object", "properties": {"records": {"type": "array", "items": {"type": "object"}}}}
            }
        }
    });
    iscc_target(&mut doc);
    signals(&mut doc);
    doc
}

/// The notice target by ISCC (apart, as [`signals`]).
fn iscc_target(doc: &mut Value) {
    let iscc = json!({"type": "object", "required": ["type", "iscc"], "properties": {"type": {"const": "iscc"},
        "iscc": {"type": "string", "description": "ISCC Text-Code (ISO 24138), e.g. ISCC:EAASKDNZNYGUUF5A; sources whose code is within 8 of 64 bits of it are covered."}}});
    if let Some(targets) =
        doc["components"]["schemas"]["NoticeRequest"]["properties"]["target"]["oneOf"].as_array_mut()
    {
        targets.push(iscc);
    }
}

/// `/v1/signals` and its schemas (apart: one `json!` of the whole document
/// would pass the macro's recursion limit).
fn signals(doc: &mut Value) {
    let paths = json!({
        "/v1/signals": {
            "post": op("Post a rights signal as a crawler saved it: a site's /.well-known/tdmrep.json, /robots.txt or /ai.txt, or a page with its tdm-reservation header or meta. It applies to the sources whose URL it covers (tdm_opt_out, tdm_policy, provenance) before the call returns; only an admin's signal may lift a reservation the index holds. Answers 201.", Some("SignalRequest"), "201", "Signal"),
            "get": op("List the caller's signals (admins: all).", None, "200", "SignalList")
        },
        "/v1/signals/{id}": {
            "delete": op("Withdraw a signal (its filer, admins): it stops applying at once.", None, "200", "Signal")
        }
    });
    let schemas = json!({
            "SignalRequest": {"type": "object", "additionalProperties": false, "required": ["url"], "properties": {
                "url": {"type": "string", "description": "The http(s) URL the signal was fetched from."},
                "body": {"type": "string", "description": "The file's content or the page's HTML."},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Response headers: tdm-reservation, tdm-policy, content-type."},
                "observed": {"type": "string", "description": "RFC 3339; default: now."}}},
            "Signal": {"type": "object", "description": "A posted signal: id, owner_name, by_admin, url, headers, body, observed, status (active, withdrawn), received_at, withdrawn_at."},
            "SignalList": {"type": "object", "properties": {"signals": {"type": "array", "items": {"$ref": "#/components/schemas/Signal"}}}}
    });
    for (section, add) in [("paths", paths), ("schemas", schemas)] {
        let target = if section == "paths" { &mut doc["paths"] } else { &mut doc["components"]["schemas"] };
        if let (Some(t), Value::Object(add)) = (target.as_object_mut(), add) {
            t.extend(add);
        }
    }
}
