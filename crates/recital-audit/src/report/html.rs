//! `report.html`: one self-contained file (inline CSS and SVG, no scripts,
//! no network) that a lawyer can open and an auditor can archive.

use std::fmt::Write;

use super::{Rate, Report};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const W: f64 = 520.0;
const H: f64 = 260.0;
const L: f64 = 56.0;
const B: f64 = 40.0;
const COLOURS: [&str; 6] = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#57606a"];

struct Frame {
    svg: String,
    ymax: f64,
}

impl Frame {
    fn new(title: &str, xlabel: &str, ylabel: &str, ymax: f64) -> Self {
        let mut svg = format!(
            r#"<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><title>{t}</title>"#,
            t = esc(title)
        );
        let (x0, y0, x1, y1) = (L, H - B, W - 10.0, 14.0);
        let _ = write!(
            svg,
            r##"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#444"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#444"/>"##
        );
        for i in 0..=4 {
            let v = ymax * i as f64 / 4.0;
            let y = y0 - (y0 - y1) * i as f64 / 4.0;
            let _ = write!(
                svg,
                r##"<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#eee"/><text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>"##,
                x0 - 4.0,
                y + 3.0,
                fmt_tick(v)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text><text x="12" y="{}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {})">{}</text>"#,
            (x0 + x1) / 2.0,
            H - 6.0,
            esc(xlabel),
            (y0 + y1) / 2.0,
            (y0 + y1) / 2.0,
            esc(ylabel)
        );
        Self { svg, ymax }
    }

    fn y(&self, v: f64) -> f64 {
        let (y0, y1) = (H - B, 14.0);
        y0 - (y0 - y1) * (v / self.ymax).clamp(0.0, 1.0)
    }

    fn x(&self, frac: f64) -> f64 {
        L + (W - 10.0 - L) * frac
    }

    fn finish(mut self) -> String {
        self.svg.push_str("</svg>");
        self.svg
    }
}

fn fmt_tick(v: f64) -> String {
    if v == 0.0 || v.abs() >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Bars with 95 % interval whiskers, one per labelled category.
fn bar_chart(title: &str, xlabel: &str, ylabel: &str, bars: &[(String, Rate)]) -> String {
    let mut f = Frame::new(title, xlabel, ylabel, 1.0);
    let n = bars.len().max(1) as f64;
    for (i, (label, r)) in bars.iter().enumerate() {
        let cx = f.x((i as f64 + 0.5) / n);
        let bw = (W - 10.0 - L) / n * 0.6;
        let (top, base) = (f.y(r.rate), f.y(0.0));
        let _ = write!(
            f.svg,
            r##"<rect x="{}" y="{top}" width="{bw}" height="{}" fill="#1f6feb"><title>{}: {} of {}</title></rect><line x1="{cx}" x2="{cx}" y1="{}" y2="{}" stroke="#000"/><text x="{cx}" y="{}" font-size="10" text-anchor="middle">{}</text><text x="{cx}" y="{}" font-size="9" text-anchor="middle" fill="#555">n={}</text>"##,
            cx - bw / 2.0,
            (base - top).max(0.0),
            esc(label),
            r.k,
            r.n,
            f.y(r.ci_low),
            f.y(r.ci_high),
            H - B + 12.0,
            esc(label),
            H - B + 22.0,
            r.n
        );
    }
    f.finish()
}

/// Lines of (x, y) points on [0, xmax] × [0, ymax] with a legend.
fn line_chart(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[(String, Vec<(f64, f64)>)],
    xmax: f64,
    ymax: f64,
    diagonal: bool,
) -> String {
    let mut f = Frame::new(title, xlabel, ylabel, ymax);
    for i in 0..=4 {
        let v = xmax * i as f64 / 4.0;
        let _ = write!(
            f.svg,
            r#"<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
            f.x(i as f64 / 4.0),
            H - B + 12.0,
            fmt_tick(v)
        );
    }
    if diagonal {
        let _ = write!(
            f.svg,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#bbb" stroke-dasharray="4 3"/>"##,
            f.x(0.0),
            f.y(0.0),
            f.x(1.0),
            f.y(ymax)
        );
    }
    for (i, (name, pts)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> =
            pts.iter().map(|(x, y)| format!("{:.1},{:.1}", f.x(x / xmax), f.y(*y))).collect();
        let _ = write!(
            f.svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{}"/>"#,
            path.join(" ")
        );
        for (x, y) in pts.iter().filter(|_| pts.len() <= 20) {
            let _ = write!(
                f.svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"/>"#,
                f.x(x / xmax),
                f.y(*y)
            );
        }
        // ROC curves climb the top-left corner: their legend goes bottom right.
        let (lx, ly) = if diagonal {
            (f.x(0.45), H - B - 10.0 - 12.0 * (series.len() - 1 - i) as f64)
        } else {
            (L + 10.0, 24.0 + 12.0 * i as f64)
        };
        let _ =
            write!(f.svg, r#"<text x="{lx}" y="{ly}" font-size="10" fill="{colour}">{}</text>"#, esc(name));
    }
    f.finish()
}

fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "—".into())
}

fn rate(r: &Rate) -> String {
    format!("{}/{} = {:.1} % [{:.1}, {:.1}]", r.k, r.n, 100.0 * r.rate, 100.0 * r.ci_low, 100.0 * r.ci_high)
}

/// Renders the report.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>recital audit — {}</title><style>
body{{font:14px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1f2328}}
h1{{font-size:1.5em}} h2{{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}}
table{{border-collapse:collapse;margin:.5em 0}} td,th{{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}}
th{{background:#f6f8fa}} .plots{{display:flex;flex-wrap:wrap;gap:1em}} .summary p{{background:#f6f8fa;padding:.6em 1em;border-left:3px solid #1f6feb}}
code,.mono{{font-family:ui-monospace,monospace;font-size:12px}}
</style></head><body><h1>Memorisation audit: {}</h1><p class="mono">{} · {} · recital {}</p>"#,
        esc(&r.model.source),
        esc(&r.model.source),
        esc(&r.created),
        esc(r.schema),
        esc(&r.recital_version)
    );
    s.push_str(r#"<h2>Summary</h2><div class="summary">"#);
    for p in &r.summary {
        let _ = write!(s, "<p>{}</p>", esc(p));
    }
    s.push_str("</div>");

    s.push_str(r#"<h2>Plots</h2><div class="plots">"#);
    let bars: Vec<(String, Rate)> =
        r.by_duplicates.iter().map(|b| (b.bucket.clone(), b.extraction)).collect();
    if !bars.is_empty() {
        s.push_str(&bar_chart(
            "Extraction rate by duplicate count",
            "copies in the training data",
            "greedy extraction rate",
            &bars,
        ));
    }
    let total: usize = r.extraction.memorisation_score_histogram.iter().sum();
    if total > 0 {
        let hist: Vec<(String, Rate)> = r
            .extraction
            .memorisation_score_histogram
            .iter()
            .enumerate()
            .map(|(i, &c)| (format!("{:.1}", i as f64 / 10.0), Rate::new(c, total)))
            .collect();
        s.push_str(&bar_chart(
            "Memorisation-score distribution",
            "memorisation score (bin start)",
            "fraction of probes",
            &hist,
        ));
    }
    if let Some(m) = &r.membership {
        let series: Vec<(String, Vec<(f64, f64)>)> = m
            .metrics
            .iter()
            .map(|row| (format!("{} (AUC {:.2})", row.metric, row.auc), row.roc.clone()))
            .collect();
        s.push_str(&line_chart(
            "Membership ROC",
            "false-positive rate",
            "true-positive rate",
            &series,
            1.0,
            1.0,
            true,
        ));
    }
    let exp: Vec<(f64, f64, f64)> = r
        .by_duplicates
        .iter()
        .filter_map(|b| {
            Some((
                (b.min_duplicates as f64).log2(),
                b.mean_rank_exposure?,
                b.median_extrapolated_exposure.unwrap_or(0.0),
            ))
        })
        .collect();
    if !exp.is_empty() {
        let xmax = exp.iter().map(|e| e.0).fold(1.0, f64::max);
        let ymax = exp.iter().map(|e| e.1.max(e.2)).fold(1.0, f64::max).ceil();
        let series = vec![
            ("mean rank exposure (bits)".to_string(), exp.iter().map(|e| (e.0, e.1)).collect()),
            ("median extrapolated exposure (bits)".to_string(), exp.iter().map(|e| (e.0, e.2)).collect()),
        ];
        s.push_str(&line_chart(
            "Canary exposure by insertions",
            "log₂ copies inserted",
            "exposure (bits)",
            &series,
            xmax,
            ymax,
            false,
        ));
    }
    s.push_str("</div>");

    s.push_str("<h2>Extraction by duplicate count</h2>");
    let rows: Vec<Vec<String>> = r
        .by_duplicates
        .iter()
        .map(|b| {
            vec![
                b.bucket.clone(),
                rate(&b.extraction),
                format!("{:.3}", b.mean_memorisation_score),
                format!("{:.3}", b.mean_loss),
                opt(b.membership_auc, 3),
                opt(b.mean_rank_exposure, 2),
                opt(b.median_extrapolated_exposure, 2),
            ]
        })
        .collect();
    s.push_str(&table(
        &[
            "copies",
            "extraction [95 % CI]",
            "mean memorisation score",
            "mean LOSS (nats)",
            "membership AUC (LOSS)",
            "mean rank exposure",
            "median extrapolated exposure",
        ],
        &rows,
    ));
    let e = &r.extraction;
    let mut rows = vec![
        vec!["all training-text probes".to_string(), rate(&e.overall)],
        vec!["≥ half the tokens in place".to_string(), rate(&e.half_memorised)],
    ];
    if let Some(n) = &e.non_members {
        rows.push(vec!["control: non-member texts".into(), rate(n)]);
    }
    for sw in &e.sweep {
        rows.push(vec![
            format!("prompt of {} tokens (swept probes)", sw.prefix_tokens),
            rate(&sw.extraction),
        ]);
    }
    if let Some(o) = &r.output_verbatim {
        rows.push(vec!["output contains a corpus match ≥ half the suffix".into(), rate(o)]);
    }
    s.push_str(&table(&["extraction", "rate [95 % CI]"], &rows));

    if let Some(m) = &r.membership {
        let _ = write!(
            s,
            "<h2>Membership inference</h2><p>{} members, {} non-members; {}.</p>",
            m.members,
            m.non_members,
            esc(&m.note)
        );
        let rows: Vec<Vec<String>> = m
            .metrics
            .iter()
            .map(|x| {
                vec![
                    x.metric.clone(),
                    format!("{:.3}", x.auc),
                    x.auc_ci.map(|(a, b)| format!("[{a:.3}, {b:.3}]")).unwrap_or_else(|| "—".into()),
                    x.tpr_at_1pct_fpr.map(|t| format!("{t:.3}")).or(x.tpr_note.clone()).unwrap_or_default(),
                ]
            })
            .collect();
        s.push_str(&table(&["score", "ROC-AUC", "95 % bootstrap CI", "TPR @ 1 % FPR"], &rows));
    }
    if !r.omitted_metrics.is_empty() {
        s.push_str("<h2>Not measured</h2>");
        let rows: Vec<Vec<String>> =
            r.omitted_metrics.iter().map(|o| vec![o.metric.clone(), o.why.clone()]).collect();
        s.push_str(&table(&["score", "why"], &rows));
    }

    s.push_str("<h2>Taxonomy</h2>");
    let rows: Vec<Vec<String>> = r
        .taxonomy
        .types
        .iter()
        .map(|t| {
            vec![
                t.name.to_string(),
                r.taxonomy.counts.get(t.name).copied().unwrap_or(0).to_string(),
                t.regime.to_string(),
                if t.feldman_long_tail { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    s.push_str(&table(&["category", "sequences", "what it means", "long tail"], &rows));

    if !r.works.is_empty() {
        s.push_str("<h2>Works reproduced</h2>");
        let rows: Vec<Vec<String>> = r
            .works
            .iter()
            .map(|w| {
                vec![
                    w.work.clone(),
                    w.license.clone().unwrap_or_default(),
                    w.holder.clone().unwrap_or_default(),
                    format!("{} of {}", w.extracted, w.probes),
                ]
            })
            .collect();
        s.push_str(&table(&["work", "licence", "holder", "probes extracted"], &rows));
    }
    if !r.memorised.is_empty() {
        s.push_str("<h2>Memorised sequences</h2>");
        let rows: Vec<Vec<String>> = r
            .memorised
            .iter()
            .map(|m| {
                vec![
                    m.id.clone(),
                    m.work.clone(),
                    m.duplicates.map(|d| d.to_string()).unwrap_or_default(),
                    m.category.memorisation_type().name.to_string(),
                    m.text.clone(),
                ]
            })
            .collect();
        s.push_str(&table(&["probe", "work", "copies", "category", "text"], &rows));
    }
    s.push_str("<h2>Provenance</h2>");
    let info = serde_json::to_string_pretty(&serde_json::json!({
        "model": r.model, "reference": r.reference, "config": r.config, "sampling": r.sampling,
    }))
    .unwrap_or_default();
    let _ = writeln!(s, "<pre class=\"mono\">{}</pre></body></html>", esc(&info));
    s
}
