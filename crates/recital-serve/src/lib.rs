//! # recital-serve
//!
//! recital's HTTP service, the filter in the path of real traffic:
//!
//! - `POST /v1/scan` and `POST /v1/filter`: detections with a policy decision
//!   and statement of reasons, or the text as it may be shown ([`api::scan`]);
//! - `POST /v1/chat/completions` and `POST /v1/completions`: an
//!   OpenAI-compatible proxy in front of any model server, streaming with a
//!   hold-back so no over-threshold copy leaves before its decision ([`proxy`]);
//! - `/v1/works` and `/v1/notices`: the rightsholder registry with
//!   notice-and-action that takes effect before the call returns, without a
//!   rebuild ([`api::registry`]);
//! - `GET /v1/audit` (admins), `/metrics`, `/healthz`, `/readyz`,
//!   `/openapi.json` and a small results page at `/`;
//! - `/console/`: the web console for reviewers, rightsholders and
//!   administrators (sign-in, scan view, registry, audit log), server-rendered
//!   with no external assets.
//!
//! State lives in three places, each for a reason: the corpus index (immutable
//! shards plus delta shards and tombstones, [`corpus`]), SQLite for everything
//! that must survive a crash the moment it is acknowledged ([`store`]), and
//! memory for what is derived from them (notified set, verified keys).
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod config;
mod console;
pub mod corpus;
pub mod engine;
pub mod error;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod proxy;
pub mod server;
pub mod signals;
pub mod state;
pub mod store;
pub mod tls;

pub use config::ServeConfig;
pub use console::scan_html;
pub use server::run;
