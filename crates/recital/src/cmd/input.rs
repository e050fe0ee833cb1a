//! What `scan` and `filter` read alike: the output, the context, the policy.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use recital_policy::Policy;

/// Inputs above this size are refused (a model output, not a corpus).
const MAX_INPUT: u64 = 256 << 20;

/// The bytes of `path` (`-`: standard input), at most [`MAX_INPUT`].
pub fn read(path: &str) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if path == "-" {
        std::io::stdin().take(MAX_INPUT + 1).read_to_end(&mut buf).context("reading standard input")?;
    } else {
        let f = std::fs::File::open(path).with_context(|| format!("opening {path}"))?;
        f.take(MAX_INPUT + 1).read_to_end(&mut buf).with_context(|| format!("reading {path}"))?;
    }
    if buf.len() as u64 > MAX_INPUT {
        anyhow::bail!("{path}: input larger than {} MiB; scan it in parts", MAX_INPUT >> 20);
    }
    Ok(buf)
}

/// The caller's context file, if any (only compared against, so invalid
/// UTF-8 is decoded lossily).
pub fn context(path: Option<&Path>) -> anyhow::Result<Option<String>> {
    path.map(|p| {
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    })
    .transpose()
}

/// The policy in `path`, else the built-in one.
pub fn policy(path: Option<&Path>) -> anyhow::Result<Policy> {
    Ok(match path {
        Some(p) => Policy::load(p)?,
        None => Policy::builtin_default(),
    })
}
