//! The request bodies (and query strings) of every endpoint, through the
//! real router in process: any bytes get an answer, never a panic and never
//! a 500. The upstream refuses connections, so proxied requests are parsed
//! and checked, then fail to forward (502).
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request};
use axum::Router;
use libfuzzer_sys::fuzz_target;
use recital_fuzz::{build_index, scratch, Bytes, SAMPLE_DOCS};
use recital_serve::server;
use recital_serve::ServeConfig;
use tower::ServiceExt;

const POSTS: &[&str] = &[
    "/v1/scan",
    "/v1/filter",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/responses",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/works",
    "/v1/notices",
];
const GETS: &[&str] = &["/v1/works?", "/v1/notices?", "/v1/audit?", "/v1/works/", "/v1/notices/"];

struct App {
    rt: tokio::runtime::Runtime,
    router: Router,
    _dir: tempfile::TempDir,
}

fn app() -> &'static App {
    static A: OnceLock<App> = OnceLock::new();
    A.get_or_init(|| {
        let dir = scratch();
        let idx = build_index(dir.path(), SAMPLE_DOCS);
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let mut config = ServeConfig::new(idx);
        config.db = recital_serve::store::DbLocation::Sqlite(dir.path().join("db.sqlite"));
        config.upstream = Some("http://127.0.0.1:9".into());
        let (state, _writer) = rt.block_on(server::prepare(config)).expect("server state");
        let router = server::router(Arc::clone(&state));
        App { rt, router, _dir: dir }
    })
}

fn request(b: &mut Bytes<'_>) -> Option<Request<Body>> {
    let pick = b.u8();
    let jurisdiction = b.u8();
    let req = if pick % 4 == 3 {
        let path = GETS[b.below(GETS.len())];
        let q = std::str::from_utf8(b.rest()).ok()?;
        Request::builder().method(Method::GET).uri(format!("{path}{q}"))
    } else {
        let path = POSTS[b.below(POSTS.len())];
        Request::builder().method(Method::POST).uri(path).header("content-type", "application/json")
    };
    let req = match jurisdiction % 4 {
        0 => req.header("x-recital-jurisdiction", "EU"),
        1 => req.header("x-recital-jurisdiction", "zz"),
        _ => req,
    };
    req.body(Body::from(b.rest().to_vec())).ok()
}

fuzz_target!(|data: &[u8]| {
    let app = app();
    let Some(req) = request(&mut Bytes(data)) else { return };
    let uri = req.uri().clone();
    let resp = app.rt.block_on(async {
        let resp = app.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = http_body_util::BodyExt::collect(resp.into_body()).await.map(|b| b.to_bytes());
        (status, body)
    });
    let (status, body) = resp;
    let text = body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    assert!(status.as_u16() != 500, "{uri}: {status} {text}");
});
