//! Startup, routing and shutdown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{bail, Context as _};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;

use recital_policy::Policy;

use crate::api;
use crate::auth::AuthMode;
use crate::config::ServeConfig;
use crate::corpus::Corpus;
use crate::state::{AppState, Notified};
use crate::store::{self, AuditEntry, KeySpec, Role, Secret, Store};

/// Audit records written per transaction at most.
const AUDIT_BATCH: usize = 256;

/// Opens everything and builds the shared state (no socket yet).
pub async fn prepare(config: ServeConfig) -> anyhow::Result<(Arc<AppState>, tokio::task::JoinHandle<()>)> {
    // First: a bad --upstream-ca is a mistake on the command line, reported
    // before the index and the database are opened.
    let http = crate::tls::upstream_client(&config)?;
    let policy = match &config.policy {
        Some(p) => Policy::load(p)?,
        None => Policy::builtin_default(),
    };
    let corpus = Corpus::open(&config.index)
        .with_context(|| format!("opening the index {}", config.index.display()))?;
    let db = config.db.clone();
    let store = Arc::new(
        tokio::task::spawn_blocking(move || Store::open_at(&db))
            .await?
            .with_context(|| format!("opening the database {}", config.db))?,
    );
    let auth = configure_keys(&config, &store).await?;
    let (audit_tx, audit_rx) = tokio::sync::mpsc::channel::<AuditEntry>(1 << 16);
    let writer = tokio::spawn(audit_writer(store.clone(), audit_rx));
    let state = Arc::new(AppState {
        scan_options: policy.scan_options(),
        policy,
        corpus,
        store,
        notified: RwLock::new(Arc::new(Notified::default())),
        signals: RwLock::new(Arc::default()),
        auth,
        keys: Default::default(),
        rate: Default::default(),
        metrics: Default::default(),
        http,
        audit_tx,
        ready: AtomicBool::new(false),
        config,
    });
    api::registry::recover(&state).await.context("recovering the registry")?;
    follow_shared_store(&state);
    state.ready.store(true, Ordering::Relaxed);
    Ok((state, writer))
}

async fn configure_keys(config: &ServeConfig, store: &Arc<Store>) -> anyhow::Result<AuthMode> {
    let mut specs: Vec<KeySpec> = Vec::new();
    if let Some(path) = &config.keys {
        specs = store::load_keys_file(path)?;
        if specs.is_empty() {
            bail!("{}: no keys in the keys file", path.display());
        }
    } else if let Some(k) = &config.env_key {
        if k.trim().len() < 16 {
            bail!("RECITAL_API_KEY is shorter than 16 characters; use a long random key (e.g. `openssl rand -hex 32`)");
        }
        specs.push(KeySpec::env_admin(k.trim().to_string()));
    }
    if specs.is_empty() {
        if !config.addr.ip().is_loopback() {
            bail!(
                "refusing to listen on {} without authentication: give --keys FILE or set RECITAL_API_KEY (only loopback addresses may run without keys)",
                config.addr
            );
        }
        tracing::warn!(
            "running WITHOUT AUTHENTICATION on {} (loopback only): every local caller is an admin; use --keys FILE or RECITAL_API_KEY",
            config.addr
        );
        // The open mode's admin is a stored key with a secret nobody knows.
        let secret = Store::generate_secret();
        let spec = KeySpec {
            name: "open-loopback".into(),
            secret: Secret::Plain(secret.clone()),
            role: Role::Admin,
            default_jurisdiction: None,
            rate_per_minute: None,
        };
        let s = store.clone();
        let principal = tokio::task::spawn_blocking(move || {
            s.replace_configured_keys(&[spec])?;
            s.authenticate(&secret)
        })
        .await??
        .context("the open-mode key was not stored")?;
        return Ok(AuthMode::Open(principal));
    }
    let s = store.clone();
    tokio::task::spawn_blocking(move || s.replace_configured_keys(&specs)).await??;
    Ok(AuthMode::Keys)
}

/// How often an instance on a shared store reloads even without an
/// announcement: the fallback should a `NOTIFY` be lost.
const SHARED_STORE_POLL: Duration = Duration::from_secs(30);

/// On a store shared by several instances (PostgreSQL), applies what the
/// other instances commit: a thread blocks on the store's change
/// announcements ([`Store::watch`]) and wakes a task that runs
/// [`api::registry::sync_shared`]; a wait that times out wakes it too (the
/// slow poll). Both end once the state is dropped. A SQLite store has one
/// instance, and nothing to follow.
fn follow_shared_store(state: &Arc<AppState>) {
    let Some(mut watch) = state.store.watch() else {
        return;
    };
    let (wake, mut woken) = tokio::sync::mpsc::channel::<()>(1);
    let thread = std::thread::Builder::new().name("recital-store-watch".into()).spawn(move || {
        while !wake.is_closed() {
            match watch.wait(SHARED_STORE_POLL) {
                // A full queue already holds a wake-up: this one is covered.
                Ok(_) => drop(wake.try_send(())),
                Err(e) => {
                    tracing::warn!("following the shared store: {e}; retrying in 1 s");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    });
    if let Err(e) = thread {
        tracing::error!("cannot start the thread that follows the shared store: {e}");
        return;
    }
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        while woken.recv().await.is_some() {
            let Some(state) = weak.upgrade() else { break };
            let t0 = std::time::Instant::now();
            match api::registry::sync_shared(&state).await {
                Ok(()) => {
                    tracing::debug!(ms = t0.elapsed().as_millis() as u64, "synced with the shared store")
                }
                Err(e) => {
                    tracing::warn!("syncing with the shared store failed (retried at the next change): {e:#}")
                }
            }
        }
    });
}

/// Writes queued audit records in batches until the queue closes.
async fn audit_writer(store: Arc<Store>, mut rx: tokio::sync::mpsc::Receiver<AuditEntry>) {
    let mut batch = Vec::with_capacity(AUDIT_BATCH);
    while rx.recv_many(&mut batch, AUDIT_BATCH).await > 0 {
        write_audit_batch(&store, std::mem::take(&mut batch)).await;
    }
}

/// Longest pause between two tries of an audit batch while the database is
/// unreachable.
const AUDIT_RETRY_MAX: Duration = Duration::from_secs(5);

/// Writes one batch. While the database is unreachable (PostgreSQL
/// restarting, the network gone) the batch is retried with growing pauses,
/// and the records decided meanwhile wait in the queue (bounded: when it is
/// full, `engine::record` drops and logs), so an outage delays the log
/// rather than punching a hole in it. Any other error loses the batch, as it
/// would again on a retry; it is logged.
async fn write_audit_batch(store: &Arc<Store>, entries: Vec<AuditEntry>) {
    let entries = Arc::new(entries);
    let mut pause = Duration::from_millis(250);
    loop {
        let (s, batch) = (store.clone(), entries.clone());
        match tokio::task::spawn_blocking(move || s.append_audit_batch(&batch)).await {
            Ok(Ok(_)) => return,
            Ok(Err(e @ store::StoreError::Unavailable { .. })) => {
                tracing::warn!("{} audit records wait for the database: {e}", entries.len());
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(AUDIT_RETRY_MAX);
            }
            Ok(Err(e)) => return tracing::error!("writing {} audit records failed: {e}", entries.len()),
            Err(e) => return tracing::error!("audit writer task failed: {e}"),
        }
    }
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    let body_timeout = state.config.body_timeout;
    Router::new()
        .route("/", get(api::page::index))
        .route("/v1/scan", post(api::scan::scan))
        .route("/v1/filter", post(api::scan::filter))
        .route("/v1/chat/completions", post(crate::proxy::chat))
        .route("/v1/completions", post(crate::proxy::completions))
        .route("/v1/responses", post(crate::proxy::responses))
        .route("/v1/messages", post(crate::proxy::messages))
        .route("/v1/messages/count_tokens", post(crate::proxy::messages_count_tokens))
        .route("/v1/works", post(api::registry::create_work).get(api::registry::list_works))
        .route("/v1/works/{id}", get(api::registry::get_work).delete(api::registry::withdraw_work))
        .route("/v1/notices", post(api::registry::create_notice).get(api::registry::list_notices))
        .route("/v1/notices/{id}", get(api::registry::get_notice).delete(api::registry::withdraw_notice))
        .route("/v1/signals", post(api::signals::create_signal).get(api::signals::list_signals))
        .route("/v1/signals/{id}", delete(api::signals::withdraw_signal))
        .route("/v1/audit", get(api::admin::audit))
        .route("/healthz", get(api::admin::healthz))
        .route("/readyz", get(api::admin::readyz))
        .route("/metrics", get(api::admin::metrics))
        .route("/openapi.json", get(crate::openapi::handler))
        .nest_service("/console", crate::console::router(state.clone()))
        .fallback(|| async { crate::error::ApiError::not_found("no such endpoint") })
        // After every route (it is set on those already registered). axum
        // still adds the `Allow` header; the body is our JSON error.
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            crate::error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{method} is not allowed on this endpoint (the Allow header lists what is)"),
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_timeout))
        .with_state(state)
}

async fn count_requests(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let resp = next.run(req).await;
    state.metrics.request(&route, resp.status().as_u16());
    resp
}

/// Runs the service until SIGINT or SIGTERM, then finishes in-flight requests
/// and flushes the audit log. Notices and works are durable when acknowledged,
/// so a shutdown (or a crash) loses none.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let addr = config.addr;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let (state, writer) = prepare(config).await?;
    let local = listener.local_addr()?;
    let docs = state.corpus.snapshot().stats().docs;
    tracing::info!(%local, docs, policy = state.policy.name(), "recital serve listening");
    eprintln!(
        "recital serve: listening on http://{local} ({docs} documents, policy {:?})",
        state.policy.name()
    );
    let app = router(state.clone());
    serve(listener, app, state.config.header_timeout, async {
        shutdown_signal().await;
        state.ready.store(false, Ordering::Relaxed);
        tracing::info!("shutting down: finishing in-flight requests");
    })
    .await;
    drop(state);
    // The last sender is gone once the state is: the writer drains and ends.
    let _ = tokio::time::timeout(Duration::from_secs(10), writer).await;
    Ok(())
}

/// The accept loop: HTTP/1.1 connections served by hyper until `shutdown`
/// completes, then every open connection finishes its request in flight and
/// closes (idle ones at once).
///
/// Not `axum::serve`: it builds hyper's connection without a timer, so hyper's
/// header-read timeout is silently off and a client that sends half a request
/// line and stalls (slowloris) keeps its connection for ever. Here the timer is
/// set and `header_timeout` applies to every request's head (and so also to an
/// idle keep-alive connection). Accepted sockets get `TCP_NODELAY`: streamed
/// SSE events are small writes that Nagle's algorithm would otherwise hold
/// until the client acknowledges the previous one.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(header_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, "TCP_NODELAY: {e}");
        }
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        });
    }
    drop(listener);
    tracing::debug!(connections = graceful.count(), "waiting for open connections");
    graceful.shutdown().await;
}

/// Errors of `accept()` that concern one connection (it was reset before it
/// was accepted) are skipped; others (out of file descriptors) are retried
/// after a pause, as hyper and axum do, rather than spinning or giving up.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!("accepting a connection failed: {e}; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
