//! The `--keys FILE`: JSONL, one key per line.
//!
//! ```text
//! # comments and blank lines are allowed
//! {"name": "acme-client", "key": "rk_…", "role": "client", "default_jurisdiction": "DE", "rate_per_minute": 600}
//! {"name": "acme-rights", "key_sha256": "<64 hex digits>", "role": "rightsholder"}
//! ```
//!
//! Why JSONL: the rights sidecars are JSONL already, one line per key gives
//! errors a line number, and a line can be appended by a script without a
//! parser. `key_sha256` (the hex SHA-256 of the key) lets an operator keep
//! plain secrets out of the file: hand the key to its user, store the hash.
//! Unknown fields are errors, so a misspelt `rate_per_minute` is not
//! silently ignored.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::error::StoreError;
use super::keys::{KeySpec, Role, Secret};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyLine {
    name: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    key_sha256: Option<String>,
    role: Role,
    #[serde(default)]
    default_jurisdiction: Option<String>,
    #[serde(default)]
    rate_per_minute: Option<u32>,
}

/// Reads and checks a keys file. Every error names the file and the line.
/// Nothing is written: pass the result to
/// [`Store::replace_configured_keys`](super::Store::replace_configured_keys).
pub fn load_keys_file(path: &Path) -> Result<Vec<KeySpec>, StoreError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| StoreError::Io { path: path.to_path_buf(), source: e })?;
    let keys = parse_keys(&text, &path.display().to_string())?;
    warn_if_readable_by_others(path, &keys);
    Ok(keys)
}

/// Parses keys-file text; `origin` prefixes error messages.
pub(crate) fn parse_keys(text: &str, origin: &str) -> Result<Vec<KeySpec>, StoreError> {
    let mut keys = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut digests: HashMap<[u8; 32], usize> = HashMap::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let at = |m: String| StoreError::Invalid(format!("{origin}:{n}: {m}"));
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let rec: KeyLine = serde_json::from_str(trimmed).map_err(|e| at(e.to_string()))?;
        let secret = match (rec.key, rec.key_sha256) {
            (Some(k), None) => Secret::Plain(k),
            (None, Some(h)) => Secret::Sha256Hex(h.to_ascii_lowercase()),
            (Some(_), Some(_)) => return Err(at("give either \"key\" or \"key_sha256\", not both".into())),
            (None, None) => return Err(at("missing \"key\" or \"key_sha256\"".into())),
        };
        let spec = KeySpec {
            name: rec.name,
            secret,
            role: rec.role,
            default_jurisdiction: rec.default_jurisdiction,
            rate_per_minute: rec.rate_per_minute,
        };
        let digest = spec.validate().map_err(|e| match e {
            StoreError::Invalid(m) => at(m),
            other => other,
        })?;
        if let Some(first) = names.insert(spec.name.clone(), n) {
            return Err(at(format!("key name {:?} already used on line {first}", spec.name)));
        }
        if let Some(first) = digests.insert(digest, n) {
            return Err(at(format!("same secret as the key on line {first}")));
        }
        keys.push(spec);
    }
    Ok(keys)
}

/// A keys file with plain secrets that other users can read leaks them.
fn warn_if_readable_by_others(path: &Path, keys: &[KeySpec]) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plain = keys.iter().any(|k| matches!(k.secret, Secret::Plain(_)));
        if let Ok(meta) = std::fs::metadata(path) {
            if plain && meta.permissions().mode() & 0o044 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    "keys file holds plain keys and is readable by group or others; chmod 600 it or use key_sha256"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, keys);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::hash_secret;

    const K1: &str = "rk_0123456789abcdef0123456789abcdef";
    const K2: &str = "rk_fedcba9876543210fedcba9876543210";

    fn err(text: &str) -> String {
        match parse_keys(text, "keys.jsonl") {
            Err(StoreError::Invalid(m)) => m,
            Err(other) => panic!("unexpected error kind: {other}"),
            Ok(k) => panic!("parsed: {k:?}"),
        }
    }

    #[test]
    fn parses_plain_and_hashed_keys_with_comments() {
        let h = hex::encode(hash_secret(K2)).to_uppercase();
        let text = format!(
            "\u{feff}# operators' keys\n\n{{\"name\": \"acme-client\", \"key\": \"{K1}\", \"role\": \"client\", \"default_jurisdiction\": \"DE\", \"rate_per_minute\": 600}}\n   # indented comment\n{{\"name\": \"acme-rights\", \"key_sha256\": \"{h}\", \"role\": \"rightsholder\"}}\n"
        );
        let keys = parse_keys(&text, "k").unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].name, "acme-client");
        assert_eq!(keys[0].secret, Secret::Plain(K1.into()));
        assert_eq!(
            (keys[0].role, keys[0].default_jurisdiction.as_deref(), keys[0].rate_per_minute),
            (Role::Client, Some("DE"), Some(600))
        );
        assert_eq!(keys[1].secret, Secret::Sha256Hex(h.to_lowercase()));
        assert_eq!((keys[1].role, keys[1].rate_per_minute), (Role::Rightsholder, None));
    }

    #[test]
    fn errors_name_file_and_line() {
        let ok = format!("{{\"name\": \"a\", \"key\": \"{K1}\", \"role\": \"admin\"}}");
        let cases = [
            (
                format!("{ok}\n{{\"name\": \"b\", \"key\": \"{K2}\", \"role\": \"root\"}}"),
                "keys.jsonl:2:",
                "root",
            ),
            (
                format!("# c\n\n{{\"name\": \"b\", \"key\": \"{K2}\", \"role\": \"client\", \"rate\": 5}}"),
                "keys.jsonl:3:",
                "rate",
            ),
            (format!("{ok}\n{ok}"), "keys.jsonl:2:", "line 1"),
            (
                format!("{ok}\n{{\"name\": \"b\", \"key\": \"{K1}\", \"role\": \"client\"}}"),
                "keys.jsonl:2:",
                "same secret",
            ),
            (
                "{\"name\": \"b\", \"key\": \"short\", \"role\": \"client\"}".to_string(),
                "keys.jsonl:1:",
                "at least",
            ),
            ("{\"name\": \"b\", \"role\": \"client\"}".to_string(), "keys.jsonl:1:", "missing"),
            (
                format!(
                    "{{\"name\": \"b\", \"key\": \"{K1}\", \"key_sha256\": \"{}\", \"role\": \"client\"}}",
                    "0".repeat(64)
                ),
                "keys.jsonl:1:",
                "not both",
            ),
            (
                "{\"name\": \"b\", \"key_sha256\": \"xyz\", \"role\": \"client\"}".to_string(),
                "keys.jsonl:1:",
                "64 hex",
            ),
            ("not json".to_string(), "keys.jsonl:1:", ""),
            (
                format!(
                    "{{\"name\": \"b\", \"key\": \"{K1}\", \"role\": \"client\", \"rate_per_minute\": -1}}"
                ),
                "keys.jsonl:1:",
                "",
            ),
        ];
        for (text, loc, needle) in cases {
            let m = err(&text);
            assert!(m.starts_with(loc) && m.contains(needle), "{text:?} -> {m}");
        }
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let e = load_keys_file(Path::new("/nonexistent/keys.jsonl")).unwrap_err();
        assert!(matches!(e, StoreError::Io { .. }));
        assert!(e.to_string().contains("/nonexistent/keys.jsonl"), "{e}");
    }

    #[test]
    fn loads_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.jsonl");
        std::fs::write(&path, format!("{{\"name\": \"a\", \"key\": \"{K1}\", \"role\": \"admin\"}}\n"))
            .unwrap();
        let keys = load_keys_file(&path).unwrap();
        assert_eq!(keys.len(), 1);
        std::fs::write(&path, "\n{\"name\": 1}\n").unwrap();
        let m = load_keys_file(&path).unwrap_err().to_string();
        assert!(m.contains(&format!("{}:2:", path.display())), "{m}");
    }
}
