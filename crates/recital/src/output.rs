//! Terminal output helpers: colour only on a terminal, and never with NO_COLOR.

use std::io::IsTerminal;

/// True when stdout is a terminal and NO_COLOR is unset or empty.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Marks `s[a..b]` as the highlighted part: bold red on a terminal, `[[…]]` otherwise.
pub fn highlight(s: &str, a: usize, b: usize, color: bool) -> String {
    let (a, b) = (a.min(s.len()), b.min(s.len()));
    if !s.is_char_boundary(a) || !s.is_char_boundary(b) || a > b {
        return s.to_string();
    }
    if color {
        format!("{}\x1b[1;31m{}\x1b[0m{}", &s[..a], &s[a..b], &s[b..])
    } else {
        format!("{}[[{}]]{}", &s[..a], &s[a..b], &s[b..])
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// A report with its documents per licence class added (`index build`,
/// `index stats`): the classes are the policy's, which the index does not know.
#[derive(serde::Serialize)]
pub struct WithClasses<'a, T: serde::Serialize> {
    /// The report, its fields at the top level.
    #[serde(flatten)]
    pub report: &'a T,
    /// Documents per licence class, most first.
    pub license_classes: Vec<recital_policy::ClassCount>,
    /// The policy that classed them (`everywhere v1`).
    pub policy: String,
}

/// Documents per licence (the `top` most common, then how many more) and
/// per class, for a person: two lines.
pub fn licenses(
    licenses: &[recital_index::LicenseCount],
    noassertion: u64,
    classes: &[recital_policy::ClassCount],
    policy: &str,
) {
    const TOP: usize = 8;
    let total: u64 = licenses.iter().map(|l| l.docs).sum();
    let mut shown: Vec<String> =
        licenses.iter().take(TOP).map(|l| format!("{} {}", l.license, l.docs)).collect();
    if licenses.len() > TOP {
        shown.push(format!("… {} more", licenses.len() - TOP));
    }
    println!("licences     {}; NOASSERTION {noassertion} of {total} documents", shown.join(", "));
    let classes: Vec<String> = classes.iter().map(|c| format!("{} {}", c.class.name(), c.docs)).collect();
    println!("classes      {} (policy {policy})", classes.join(", "));
}

/// A scan report with the policy's decision added as `decision` (`recital
/// scan --json`, `recital demo --json`): the report's fields stay where
/// `recital.scan/1` puts them.
#[derive(serde::Serialize)]
pub struct WithDecision<'a> {
    /// The report, its fields at the top level.
    #[serde(flatten)]
    pub report: &'a recital_detect::ScanReport,
    /// The policy's decision.
    pub decision: &'a recital_policy::Decision,
}

/// The decision on an output, for a person.
pub fn decision(d: &recital_policy::Decision) {
    println!("\npolicy {}: {}\n  {}", d.policy, d.action.name(), d.statement);
}

/// JSON lines on stdout, buffered (a batch writes thousands).
pub struct JsonLines(std::io::BufWriter<std::io::StdoutLock<'static>>);

impl JsonLines {
    /// Lines to stdout.
    pub fn stdout() -> Self {
        Self(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()))
    }

    /// Writes one value as one line.
    pub fn write<T: serde::Serialize>(&mut self, v: &T) -> std::io::Result<()> {
        use std::io::Write;
        serde_json::to_writer(&mut self.0, v)?;
        self.0.write_all(b"\n")
    }

    /// Flushes what is buffered.
    pub fn finish(mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.0.flush()
    }
}

/// A batch line skipped (`--skip-bad-lines`), on stderr.
pub fn skipped_line(name: &str, bad: &recital_filter::BadLine) {
    eprintln!("recital: {name}:{}: skipped: {}", bad.line, bad.why);
}

/// What a batch came to, on stderr (stdout holds the lines).
pub fn batch_summary(s: &recital_filter::BatchSummary) {
    let per: Vec<String> = recital_filter::batch::ACTIONS
        .iter()
        .zip(s.actions)
        .map(|(a, n)| format!("{n} {}", a.name()))
        .collect();
    eprintln!(
        "recital: {} output(s) in {:.2} s ({:.0} outputs/s): {}; worst {}{}",
        s.outputs,
        s.seconds,
        s.rate(),
        per.join(", "),
        s.worst.name(),
        if s.skipped > 0 { format!("; {} bad line(s) skipped", s.skipped) } else { String::new() }
    );
}

/// Writes `text` to stdout exactly as it is (no newline added: a filter's
/// output is the text itself), flushed.
pub fn print_raw(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// One channel's action and statement of reasons, on stderr:
/// `recital: redact (text): …`.
pub fn statement(channel: &str, action: &str, statement: &str) {
    eprintln!("recital: {action} ({channel}): {statement}");
}

/// Human-readable byte size.
pub fn bytes(n: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < U.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[u])
    }
}
