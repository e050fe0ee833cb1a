//! For administrators: the audit log (filterable, paginated, each decision
//! linked to its scan view while that is kept), a dashboard of decisions
//! over time and the most cited works as inline SVG, and the `report.html`
//! files of audits in the directory given by `--audit-reports`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::store::{AuditQuery, AuditRecord};

use super::results;
use super::session::Session;
use super::{page_error, render, Console, Nav};

/// Records per page of the table.
const PAGE: usize = 50;
/// Records the dashboard summarises (the newest).
const DASHBOARD_RECORDS: usize = 1000;
/// Time buckets of the decisions chart.
const BUCKETS: usize = 24;

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    nav: Nav,
    filter: Filter,
    rows: Vec<Row>,
    older: Option<String>,
    chart: Chart,
    top: Vec<TopBar>,
}

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ReportsPage {
    nav: Nav,
    configured: bool,
    runs: Vec<String>,
}

/// The table's filters, from the query string.
#[derive(Deserialize, Default, Clone)]
pub struct Filter {
    #[serde(default)]
    action: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    before: Option<i64>,
}

impl Filter {
    fn query(&self, limit: usize, paged: bool) -> AuditQuery {
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        AuditQuery {
            action: opt(&self.action).filter(|a| matches!(a.as_str(), "annotate" | "redact" | "block")),
            key_name: opt(&self.key),
            rule: opt(&self.rule),
            source: opt(&self.source),
            limit: Some(limit),
            before_id: if paged { self.before } else { None },
            ..AuditQuery::default()
        }
    }

    /// The query string of the next page.
    fn older_than(&self, id: i64) -> String {
        let enc = super::session::urlencode;
        format!(
            "?action={}&key={}&rule={}&source={}&before={id}",
            enc(&self.action),
            enc(&self.key),
            enc(&self.rule),
            enc(&self.source)
        )
    }
}

/// One decision in the table.
struct Row {
    record: AuditRecord,
    /// The scan view, while it is kept.
    link: Option<String>,
}

/// A bar of the decisions chart (SVG user units).
struct Bar {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
    action: &'static str,
    title: String,
}

/// Decisions over time, stacked by action.
struct Chart {
    bars: Vec<Bar>,
    from: String,
    to: String,
    max: usize,
    total: usize,
}

/// A bar of the most cited works.
struct TopBar {
    y: usize,
    w: usize,
    doc: String,
    count: usize,
}

/// `GET /console/audit`.
pub async fn log(State(c): State<Arc<Console>>, s: Session, Query(filter): Query<Filter>) -> Response {
    if !s.principal.is_admin() {
        return page_error(StatusCode::FORBIDDEN, "Only an admin key may read the audit log.");
    }
    let (store, q_page, q_all) =
        (c.app.store.clone(), filter.query(PAGE, true), filter.query(DASHBOARD_RECORDS, false));
    let (who, since) = (s.principal.clone(), results::kept_since(&c));
    let got = tokio::task::spawn_blocking(move || {
        let page = store.query_audit(&q_page)?;
        let ids: Vec<String> = page.iter().map(|r| r.entry.request_id.clone()).collect();
        let kept = store.console_scans_kept(&ids, since)?;
        let all = store.query_audit(&q_all)?;
        // Registered works are cited by id: the dashboard names the few it
        // shows by title, each looked up (a registry may hold any number).
        let top = most_cited(&all);
        let mut titles = HashMap::new();
        for (doc, _) in &top {
            if let Some(t) = store.get_work(&who, doc)?.and_then(|w| w.title) {
                titles.insert(doc.clone(), t);
            }
        }
        Ok::<_, crate::store::StoreError>((page, all, top_cited(top, &titles), kept))
    })
    .await;
    let (page, all, top, kept) = match got {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return page_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => return page_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let older = (page.len() == PAGE).then(|| page.last().map(|r| filter.older_than(r.id))).flatten();
    let rows = page
        .into_iter()
        .map(|record| {
            let link = kept
                .contains(&record.entry.request_id)
                .then(|| format!("/console/scans/{}", record.entry.request_id));
            Row { record, link }
        })
        .collect();
    render(&AuditPage { nav: Nav::of(&s), chart: chart(&all), top, filter, rows, older })
}

/// Chart width and height in SVG units.
const W: usize = 480;
const H: usize = 120;

fn chart(records: &[AuditRecord]) -> Chart {
    let (Some(lo), Some(hi)) =
        (records.iter().map(|r| r.entry.at).min(), records.iter().map(|r| r.entry.at).max())
    else {
        return Chart { bars: Vec::new(), from: String::new(), to: String::new(), max: 0, total: 0 };
    };
    // At least a minute per bucket, so that a burst is not one thin bar.
    let width = ((hi - lo) / BUCKETS as i64 + 1).max(60_000);
    let mut counts = vec![[0usize; 3]; BUCKETS];
    for r in records {
        let b = (((r.entry.at - lo) / width) as usize).min(BUCKETS - 1);
        let a = match r.entry.action.as_str() {
            "annotate" => 0,
            "redact" => 1,
            _ => 2,
        };
        counts[b][a] += 1;
    }
    let max = counts.iter().map(|c| c.iter().sum::<usize>()).max().unwrap_or(0).max(1);
    let bw = W / BUCKETS;
    let mut bars = Vec::new();
    for (i, c) in counts.iter().enumerate() {
        let mut y = H;
        for (a, name) in ["annotate", "redact", "block"].iter().enumerate() {
            if c[a] == 0 {
                continue;
            }
            let h = (c[a] * H).div_ceil(max);
            y -= h.min(y);
            let start = crate::store::format_rfc3339(lo + i as i64 * width);
            bars.push(Bar {
                x: i * bw,
                y,
                w: bw - 2,
                h,
                action: name,
                title: format!("{} {name} from {start}", c[a]),
            });
        }
    }
    Chart {
        bars,
        from: crate::store::format_rfc3339(lo),
        to: crate::store::format_rfc3339(hi),
        max,
        total: records.len(),
    }
}

/// The 8 sources the records cite most, with their counts, most first.
fn most_cited(records: &[AuditRecord]) -> Vec<(String, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in records {
        for s in &r.entry.sources {
            *counts.entry(s.as_str()).or_default() += 1;
        }
    }
    let mut v: Vec<(&str, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.truncate(8);
    v.into_iter().map(|(d, n)| (d.to_string(), n)).collect()
}

/// The bars of the most cited sources, works named by their titles.
fn top_cited(top: Vec<(String, usize)>, titles: &HashMap<String, String>) -> Vec<TopBar> {
    let max = top.first().map(|x| x.1).unwrap_or(1).max(1);
    top.into_iter()
        .enumerate()
        .map(|(i, (doc, count))| TopBar {
            y: i * 20,
            w: (count * 260).div_ceil(max),
            doc: titles.get(&doc).map_or_else(|| doc.clone(), |t| format!("{t} ({doc})")),
            count,
        })
        .collect()
}

/// The configured reports directory.
fn reports_dir(c: &Console) -> Option<PathBuf> {
    c.app.config.audit_reports.clone()
}

/// Runs with a `report.html`: subdirectories of the reports directory, and
/// the directory itself (named `_`) when it is one run.
fn runs(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if dir.join("report.html").is_file() {
        out.push("_".to_string());
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !name.starts_with('.') && e.path().join("report.html").is_file() {
                out.push(name);
            }
        }
    }
    out.sort();
    out
}

/// `GET /console/reports`.
pub async fn reports(State(c): State<Arc<Console>>, s: Session) -> Response {
    if !s.principal.is_admin() {
        return page_error(StatusCode::FORBIDDEN, "Only an admin key may read audit reports.");
    }
    let dir = reports_dir(&c);
    let runs = dir.as_deref().map(runs).unwrap_or_default();
    render(&ReportsPage { nav: Nav::of(&s), configured: dir.is_some(), runs })
}

/// `GET /console/reports/{run}/report.html`: one report, sandboxed (the
/// reports are self-contained: inline styles and SVG, no scripts).
pub async fn report(State(c): State<Arc<Console>>, s: Session, Path(run): Path<String>) -> Response {
    if !s.principal.is_admin() {
        return page_error(StatusCode::FORBIDDEN, "Only an admin key may read audit reports.");
    }
    let Some(dir) = reports_dir(&c) else {
        return page_error(StatusCode::NOT_FOUND, "No reports directory is configured (--audit-reports).");
    };
    // Only names the listing shows: no path can leave the directory.
    if !runs(&dir).contains(&run) {
        return page_error(StatusCode::NOT_FOUND, &format!("No audit run {run:?}."));
    }
    let run_dir = if run == "_" { dir } else { dir.join(&run) };
    match tokio::fs::read_to_string(run_dir.join("report.html")).await {
        Ok(html) => {
            let mut resp = Html(html).into_response();
            resp.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                ),
            );
            resp
        }
        Err(e) => page_error(StatusCode::INTERNAL_SERVER_ERROR, &format!("reading the report: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AuditEntry;

    fn rec(id: i64, at: i64, action: &str, sources: &[&str]) -> AuditRecord {
        AuditRecord {
            id,
            at_rfc3339: String::new(),
            entry: AuditEntry {
                at,
                key_id: None,
                key_name: None,
                endpoint: "/v1/scan".into(),
                jurisdiction: "EU".into(),
                action: action.into(),
                rules: vec![],
                sources: sources.iter().map(|s| s.to_string()).collect(),
                statement: String::new(),
                channels: vec![],
                request_id: format!("req-{id}"),
                input_bytes: 1,
            },
        }
    }

    #[test]
    fn the_chart_counts_every_decision_once() {
        let recs: Vec<_> = (0..30)
            .map(|i| rec(i, 1_000_000 + i * 3_600_000, ["annotate", "redact", "block"][i as usize % 3], &[]))
            .collect();
        let c = chart(&recs);
        assert_eq!(c.total, 30);
        // A bar's title starts with its count: together they are every record.
        let sum: usize =
            c.bars.iter().map(|b| b.title.split(' ').next().unwrap().parse::<usize>().unwrap()).sum();
        assert_eq!(sum, 30);
        assert!(c.bars.iter().all(|b| b.y + b.h <= H && b.x + b.w <= W));
        assert!(chart(&[]).bars.is_empty());
    }

    #[test]
    fn top_cited_works_rank_by_count() {
        let recs = vec![
            rec(1, 0, "block", &["a", "b"]),
            rec(2, 0, "block", &["b"]),
            rec(3, 0, "redact", &["c", "b"]),
        ];
        let titles = HashMap::from([("a".to_string(), "Alpha".to_string())]);
        let top = top_cited(most_cited(&recs), &titles);
        let names: Vec<_> = top.iter().map(|t| (t.doc.as_str(), t.count)).collect();
        assert_eq!(names, [("b", 3), ("Alpha (a)", 1), ("c", 1)]);
        assert_eq!(top[0].w, 260);
    }

    #[test]
    fn only_listed_runs_are_served() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("run1")).unwrap();
        std::fs::write(d.path().join("run1/report.html"), "<p>r</p>").unwrap();
        std::fs::create_dir(d.path().join("empty")).unwrap();
        assert_eq!(runs(d.path()), ["run1"]);
    }
}
