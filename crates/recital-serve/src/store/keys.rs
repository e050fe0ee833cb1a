//! API keys: roles, hashed storage, authentication.
//!
//! Only the SHA-256 digest of a key is stored. Why a fast hash and not a
//! password hash (argon2, bcrypt): those are slow on purpose, to make the
//! guessing of low-entropy *passwords* expensive. API keys are random tokens
//! ([`Store::generate_secret`] gives 256 bits); no amount of guessing finds
//! one at any hash speed, and a fast hash keeps the per-request check at
//! microseconds. Plain keys shorter than [`MIN_SECRET_LEN`] are refused so
//! that an operator cannot quietly break that premise; a pre-hashed key
//! (`key_sha256` in the keys file) cannot be checked, and its operator is
//! responsible for its entropy.
//!
//! Why no constant-time comparison: a key is found by looking its digest up
//! in an index, never by comparing secrets. Timing could at most reveal how
//! many leading bytes of a *digest* matched, and an attacker cannot steer
//! digest bytes without SHA-256 preimages, so it reveals nothing about any
//! secret.
//!
//! Keys are never deleted, only revoked: works and notices keep their owner,
//! and a key that comes back under the same name gets its old id and thus
//! its works back. Ownership is therefore tied to the key's *name*.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{SqlContext, StoreError};
use super::sql::{args, Row, Topic, Tx};
use super::{check_jurisdiction, now_ms, Store, Timestamp};

/// Shortest plain secret accepted: 16 characters. Generated keys are 67.
pub const MIN_SECRET_LEN: usize = 16;

/// Longest key name: names appear in logs, audit records and JSON.
const MAX_NAME_LEN: usize = 64;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Scans and filters text; no access to the registry.
    Client,
    /// Registers works and files notices; sees only its own.
    Rightsholder,
    /// Everything, including the audit log and every tenant's rows.
    Admin,
}

named_enum!(Role, "role", { Client => "client", Rightsholder => "rightsholder", Admin => "admin" });

/// A key's secret as configured: the plain token, or the lowercase hex of
/// its SHA-256 so that a keys file need not hold plain secrets.
///
/// `Debug` never prints a plain secret, so a `KeySpec` can be logged.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// The token itself, as clients will send it.
    Plain(String),
    /// `sha256(token)` as 64 hex digits.
    Sha256Hex(String),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Plain(_) => f.write_str("Plain(<redacted>)"),
            Secret::Sha256Hex(h) => f.debug_tuple("Sha256Hex").field(h).finish(),
        }
    }
}

impl Secret {
    /// The digest to store, checking the secret's form.
    pub(crate) fn digest(&self) -> Result<[u8; 32], StoreError> {
        match self {
            Secret::Plain(s) => {
                if s.chars().count() < MIN_SECRET_LEN {
                    return Err(StoreError::Invalid(format!(
                        "key is {} characters; at least {MIN_SECRET_LEN} required (use a generated key)",
                        s.chars().count()
                    )));
                }
                if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(StoreError::Invalid("key contains whitespace or control characters".into()));
                }
                Ok(hash_secret(s))
            }
            Secret::Sha256Hex(h) => {
                let mut out = [0u8; 32];
                if h.len() != 64 {
                    return Err(StoreError::Invalid(format!(
                        "key_sha256 has {} characters; expected 64 hex digits",
                        h.len()
                    )));
                }
                hex::decode_to_slice(h, &mut out)
                    .map_err(|e| StoreError::Invalid(format!("key_sha256 is not hex: {e}")))?;
                Ok(out)
            }
        }
    }
}

/// The SHA-256 digest of a secret as presented by a client.
///
/// Public so that the server can keep [`Store::active_keys`] in a hash map
/// and authenticate each request without a database round trip (and without
/// queueing behind a writer's `fsync`).
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A key as configured (keys file, environment) or added at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// Unique name; ownership of works and notices follows it.
    pub name: String,
    /// The secret, plain or pre-hashed.
    pub secret: Secret,
    /// What the key may do.
    pub role: Role,
    /// Jurisdiction assumed for this key's requests when they name none.
    pub default_jurisdiction: Option<String>,
    /// Request budget per minute; `None`: no rate limit (there is no
    /// server-wide default).
    pub rate_per_minute: Option<u32>,
}

impl KeySpec {
    /// The name of the single admin key taken from `RECITAL_API_KEY` when no
    /// keys file is given.
    pub const ENV_ADMIN_NAME: &'static str = "env-admin";

    /// The admin key from `RECITAL_API_KEY`, for a start without `--keys`.
    pub fn env_admin(secret: String) -> KeySpec {
        KeySpec {
            name: Self::ENV_ADMIN_NAME.into(),
            secret: Secret::Plain(secret),
            role: Role::Admin,
            default_jurisdiction: None,
            rate_per_minute: None,
        }
    }

    /// Checks every field and gives the digest to store.
    pub(crate) fn validate(&self) -> Result<[u8; 32], StoreError> {
        check_name(&self.name)?;
        if let Some(j) = &self.default_jurisdiction {
            check_jurisdiction(j)?;
        }
        if self.rate_per_minute == Some(0) {
            return Err(StoreError::Invalid(
                "rate_per_minute must be at least 1 (omit it for no rate limit)".into(),
            ));
        }
        self.secret.digest()
    }
}

/// A key name: 1-64 characters, no control characters, no surrounding
/// spaces. Names appear in logs, audit records and JSON, and are the
/// identity that owns works, so they must be printable and unambiguous.
fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_LEN
        && name.trim() == name
        && !name.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "key name {name:?}: use 1-{MAX_NAME_LEN} printable characters without surrounding spaces"
        )))
    }
}

/// An authenticated caller. Holds nothing secret, so it can be logged and
/// returned as JSON (`GET /v1/whoami`-style).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Row id of the key; owner id of its works and notices.
    pub key_id: i64,
    /// The key's name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Jurisdiction assumed when a request names none.
    pub default_jurisdiction: Option<String>,
    /// Request budget per minute, if set for this key.
    pub rate_per_minute: Option<u32>,
}

impl Principal {
    /// Whether this caller may see every tenant's rows and the audit log.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// What [`Store::replace_configured_keys`] changed, for the startup log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySync {
    /// Names of keys that were not in the table.
    pub added: Vec<String>,
    /// Names of keys whose secret, role or limits changed, or that were revoked and are back.
    pub updated: Vec<String>,
    /// How many keys were already exactly as configured.
    pub unchanged: usize,
    /// Names of configured keys no longer configured: revoked now.
    pub revoked: Vec<String>,
}

/// Where a key came from: configured keys are replaced as a set at startup.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Config,
    Api,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Api => "api",
        }
    }
}

enum Change {
    Added,
    Updated,
    Unchanged,
}

pub(super) const PRINCIPAL_COLUMNS: &str = "id, name, role, default_jurisdiction, rate_per_minute";

pub(super) fn principal_row(r: &Row) -> Result<Principal, StoreError> {
    Ok(Principal {
        key_id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        default_jurisdiction: r.get(3)?,
        rate_per_minute: r.get(4)?,
    })
}

impl Store {
    /// Adds or updates one key by name, as a run-time key (kept across
    /// restarts until [`Store::revoke_key`]). A configured key cannot be
    /// changed this way: the keys file is its source of truth.
    ///
    /// For the keys of the `--keys` file or `RECITAL_API_KEY`, use
    /// [`Store::replace_configured_keys`], which also revokes removed keys.
    pub fn upsert_key(&self, key: &KeySpec) -> Result<Principal, StoreError> {
        let digest = key.validate()?;
        self.write("upsert key", |tx| {
            let source: Option<String> = tx
                .query_opt("SELECT source FROM api_keys WHERE name = ?1", args![key.name])
                .ctx("look up key")?
                .map(|r| r.get(0))
                .transpose()?;
            if source.as_deref() == Some(Source::Config.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "key {:?} comes from the configuration; change it in the keys file",
                    key.name
                )));
            }
            upsert_in(tx, key, &digest, Source::Api, now_ms())?;
            tx.notify(Topic::Keys)?;
            let row = tx.query_one(
                &format!("SELECT {PRINCIPAL_COLUMNS} FROM api_keys WHERE name = ?1"),
                args![key.name],
            )?;
            principal_row(&row)
        })
    }

    /// Makes `keys` the configured key set, in one transaction: each is added
    /// or updated by name, and every previously configured key missing from
    /// `keys` is revoked (a line removed from the keys file, or a switch from
    /// `RECITAL_API_KEY` to a keys file, ends that key's access). Call at
    /// every startup with the keys file's content, or with
    /// `[KeySpec::env_admin(..)]`.
    ///
    /// Two entries with the same name or the same secret are refused, as is
    /// a secret that belongs to another (possibly revoked) key.
    pub fn replace_configured_keys(&self, keys: &[KeySpec]) -> Result<KeySync, StoreError> {
        let mut names = HashSet::new();
        let mut digests = HashSet::new();
        let mut checked = Vec::with_capacity(keys.len());
        for k in keys {
            let digest = k.validate().map_err(|e| prefix(&k.name, e))?;
            if !names.insert(k.name.as_str()) {
                return Err(StoreError::Invalid(format!("key {:?} is configured twice", k.name)));
            }
            if !digests.insert(digest) {
                return Err(StoreError::Invalid(format!(
                    "key {:?} has the same secret as another key",
                    k.name
                )));
            }
            checked.push((k, digest));
        }
        self.write("replace configured keys", |tx| {
            let now = now_ms();
            let mut sync = KeySync::default();
            for (k, digest) in &checked {
                match upsert_in(tx, k, digest, Source::Config, now)? {
                    Change::Added => sync.added.push(k.name.clone()),
                    Change::Updated => sync.updated.push(k.name.clone()),
                    Change::Unchanged => sync.unchanged += 1,
                }
            }
            let configured: Vec<String> = tx
                .query(
                    "SELECT name FROM api_keys WHERE source = 'config' AND revoked_at IS NULL ORDER BY id",
                    args![],
                )
                .ctx("list configured keys")?
                .iter()
                .map(|r| r.get(0))
                .collect::<Result<_, _>>()?;
            for name in configured.into_iter().filter(|n| !names.contains(n.as_str())) {
                tx.execute(
                    "UPDATE api_keys SET revoked_at = ?2, updated_at = ?2 WHERE name = ?1",
                    args![name, now],
                )
                .ctx("revoke key")?;
                sync.revoked.push(name);
            }
            if !sync.added.is_empty() || !sync.updated.is_empty() || !sync.revoked.is_empty() {
                tx.notify(Topic::Keys)?;
            }
            Ok(sync)
        })
    }

    /// Revokes the key named `name`; `Ok(false)` if there is no such active key.
    pub fn revoke_key(&self, name: &str) -> Result<bool, StoreError> {
        self.write("revoke key", |tx| {
            let now = now_ms();
            let n = tx
                .execute(
                    "UPDATE api_keys SET revoked_at = ?2, updated_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                    args![name, now],
                )
                .ctx("revoke key")?;
            if n > 0 {
                tx.notify(Topic::Keys)?;
            }
            Ok(n > 0)
        })
    }

    /// The principal whose key is `secret`, if it is a known, unrevoked key.
    pub fn authenticate(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        if secret.is_empty() {
            return Ok(None);
        }
        let digest = hash_secret(secret);
        self.read("authenticate", |tx| {
            tx.query_opt(
                &format!(
                    "SELECT {PRINCIPAL_COLUMNS} FROM api_keys WHERE key_sha256 = ?1 AND revoked_at IS NULL"
                ),
                args![digest[..]],
            )?
            .as_ref()
            .map(principal_row)
            .transpose()
        })
    }

    /// Every unrevoked key as (digest, principal): for an in-memory key map
    /// in the server, rebuilt after each key change.
    pub fn active_keys(&self) -> Result<Vec<([u8; 32], Principal)>, StoreError> {
        let rows = self.read("list keys", |tx| {
            tx.query(
                &format!("SELECT {PRINCIPAL_COLUMNS}, key_sha256 FROM api_keys WHERE revoked_at IS NULL ORDER BY id"),
                args![],
            )
        })?;
        rows.iter()
            .map(|r| {
                let p = principal_row(r)?;
                let digest: Vec<u8> = r.get(5)?;
                let digest: [u8; 32] = digest
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(format!("key {:?}: digest is not 32 bytes", p.name)))?;
                Ok((digest, p))
            })
            .collect()
    }

    /// A new random API key: `rk_` and 64 hex digits (256 bits from the OS).
    ///
    /// # Panics
    /// If the operating system's random source fails, which on the supported
    /// platforms means the system is unusable; a weak key would be worse.
    pub fn generate_secret() -> String {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("OS random source failed while generating an API key");
        format!("rk_{}", hex::encode(bytes))
    }
}

fn prefix(name: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Invalid(m) => StoreError::Invalid(format!("key {name:?}: {m}")),
        other => other,
    }
}

/// Inserts or updates `k` by name within `tx`.
fn upsert_in(
    tx: &mut dyn Tx,
    k: &KeySpec,
    digest: &[u8; 32],
    source: Source,
    now: Timestamp,
) -> Result<Change, StoreError> {
    let clash: Option<String> = tx
        .query_opt(
            "SELECT name FROM api_keys WHERE key_sha256 = ?1 AND name <> ?2",
            args![digest[..], k.name],
        )
        .ctx("check key digest")?
        .map(|r| r.get(0))
        .transpose()?;
    if let Some(other) = clash {
        return Err(StoreError::Invalid(format!(
            "key {:?} has the same secret as key {other:?} (revoked keys included); generate a new one",
            k.name
        )));
    }
    type Existing = (Vec<u8>, Role, Option<String>, Option<u32>, String, Option<Timestamp>);
    let existing: Option<Existing> = tx
        .query_opt(
            "SELECT key_sha256, role, default_jurisdiction, rate_per_minute, source, revoked_at
             FROM api_keys WHERE name = ?1",
            args![k.name],
        )
        .ctx("look up key")?
        .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .transpose()?;
    match existing {
        None => {
            tx.execute(
                "INSERT INTO api_keys (name, key_sha256, role, default_jurisdiction, rate_per_minute, source,
                                       created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                args![
                    k.name,
                    digest[..],
                    k.role,
                    k.default_jurisdiction,
                    k.rate_per_minute,
                    source.as_str(),
                    now
                ],
            )
            .ctx("insert key")?;
            Ok(Change::Added)
        }
        Some(row) => {
            let same = row.0 == digest[..]
                && row.1 == k.role
                && row.2 == k.default_jurisdiction
                && row.3 == k.rate_per_minute
                && row.4 == source.as_str()
                && row.5.is_none();
            if same {
                return Ok(Change::Unchanged);
            }
            tx.execute(
                "UPDATE api_keys SET key_sha256 = ?2, role = ?3, default_jurisdiction = ?4, rate_per_minute = ?5,
                                     source = ?6, updated_at = ?7, revoked_at = NULL
                 WHERE name = ?1",
                args![k.name, digest[..], k.role, k.default_jurisdiction, k.rate_per_minute, source.as_str(), now],
            )
            .ctx("update key")?;
            Ok(Change::Updated)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn spec(name: &str, secret: &str, role: Role) -> KeySpec {
        KeySpec {
            name: name.into(),
            secret: Secret::Plain(secret.into()),
            role,
            default_jurisdiction: None,
            rate_per_minute: None,
        }
    }

    #[test]
    pub(crate) fn role_names_round_trip_and_unknown_is_a_clear_error() {
        for r in [Role::Client, Role::Rightsholder, Role::Admin] {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        let e = "root".parse::<Role>().unwrap_err().to_string();
        assert!(e.contains("root") && e.contains("client, rightsholder, admin"), "{e}");
        assert!("Admin".parse::<Role>().is_err(), "role names are lowercase");
    }

    #[test]
    pub(crate) fn authenticate_by_plain_or_prehashed_secret() {
        let store = crate::store::tests::test_store();
        let s1 = Store::generate_secret();
        let p = store.upsert_key(&spec("a", &s1, Role::Client)).unwrap();
        let s2 = Store::generate_secret();
        let hashed = KeySpec {
            name: "b".into(),
            secret: Secret::Sha256Hex(hex::encode(hash_secret(&s2)).to_uppercase()),
            role: Role::Rightsholder,
            default_jurisdiction: Some("DE".into()),
            rate_per_minute: Some(60),
        };
        store.upsert_key(&hashed).unwrap();
        assert_eq!(store.authenticate(&s1).unwrap(), Some(p));
        let b = store.authenticate(&s2).unwrap().expect("pre-hashed key authenticates");
        assert_eq!(
            (b.name.as_str(), b.role, b.default_jurisdiction.as_deref(), b.rate_per_minute),
            ("b", Role::Rightsholder, Some("DE"), Some(60))
        );
        assert_eq!(store.authenticate("").unwrap(), None);
        assert_eq!(store.authenticate(&Store::generate_secret()).unwrap(), None);
        // The digest itself is not a key.
        assert_eq!(store.authenticate(&hex::encode(hash_secret(&s1))).unwrap(), None);
    }

    #[test]
    pub(crate) fn generated_secrets_are_distinct_and_well_formed() {
        let a = Store::generate_secret();
        let b = Store::generate_secret();
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 64);
        assert!(a.starts_with("rk_") && a[3..].bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    pub(crate) fn weak_or_malformed_keys_are_refused() {
        let store = crate::store::tests::test_store();
        for bad in [
            spec("a", "short", Role::Admin),
            spec("a", "sixteen chars ok", Role::Admin), // whitespace
            spec("", &Store::generate_secret(), Role::Admin),
            spec(" a", &Store::generate_secret(), Role::Admin),
            spec("a\tb", &Store::generate_secret(), Role::Admin),
            spec(&"n".repeat(65), &Store::generate_secret(), Role::Admin),
            KeySpec { secret: Secret::Sha256Hex("abc".into()), ..spec("a", "", Role::Admin) },
            KeySpec { secret: Secret::Sha256Hex("z".repeat(64)), ..spec("a", "", Role::Admin) },
            KeySpec { rate_per_minute: Some(0), ..spec("a", &Store::generate_secret(), Role::Admin) },
            KeySpec {
                default_jurisdiction: Some("D E".into()),
                ..spec("a", &Store::generate_secret(), Role::Admin)
            },
        ] {
            assert!(matches!(store.upsert_key(&bad), Err(StoreError::Invalid(_))), "{bad:?}");
        }
        assert!(store.active_keys().unwrap().is_empty());
    }

    #[test]
    pub(crate) fn debug_output_redacts_plain_secrets() {
        let s = Store::generate_secret();
        let shown = format!("{:?}", spec("a", &s, Role::Admin));
        assert!(!shown.contains(&s), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    pub(crate) fn configured_keys_are_replaced_and_removed_ones_revoked() {
        let store = crate::store::tests::test_store();
        let (sa, sb, sc) = (Store::generate_secret(), Store::generate_secret(), Store::generate_secret());
        let runtime = Store::generate_secret();
        store.upsert_key(&spec("runtime", &runtime, Role::Client)).unwrap();
        let first = store
            .replace_configured_keys(&[spec("a", &sa, Role::Admin), spec("b", &sb, Role::Rightsholder)])
            .unwrap();
        assert_eq!(first.added, ["a", "b"]);
        let b_id = store.authenticate(&sb).unwrap().unwrap().key_id;

        // b removed, a unchanged, c added.
        let second = store
            .replace_configured_keys(&[spec("a", &sa, Role::Admin), spec("c", &sc, Role::Client)])
            .unwrap();
        assert_eq!(
            (second.added.clone(), second.unchanged, second.revoked.clone()),
            (vec!["c".to_string()], 1, vec!["b".to_string()])
        );
        assert_eq!(store.authenticate(&sb).unwrap(), None, "a removed line revokes the key");
        assert!(store.authenticate(&sa).unwrap().is_some());
        assert!(store.authenticate(&runtime).unwrap().is_some(), "run-time keys are not configured keys");

        // b comes back, with a new secret: same id (its works stay its own), old secret dead.
        let sb2 = Store::generate_secret();
        let third = store
            .replace_configured_keys(&[spec("a", &sa, Role::Admin), spec("b", &sb2, Role::Rightsholder)])
            .unwrap();
        assert_eq!((third.updated, third.revoked), (vec!["b".to_string()], vec!["c".to_string()]));
        assert_eq!(store.authenticate(&sb2).unwrap().unwrap().key_id, b_id);
        assert_eq!(store.authenticate(&sb).unwrap(), None);

        // A run-time upsert may not override a configured key.
        assert!(matches!(
            store.upsert_key(&spec("a", &Store::generate_secret(), Role::Admin)),
            Err(StoreError::Invalid(_))
        ));
        assert!(store.revoke_key("runtime").unwrap());
        assert!(!store.revoke_key("runtime").unwrap());
        assert_eq!(store.authenticate(&runtime).unwrap(), None);
        let names: Vec<String> = store.active_keys().unwrap().into_iter().map(|(_, p)| p.name).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    pub(crate) fn duplicate_names_or_secrets_are_refused() {
        let store = crate::store::tests::test_store();
        let s = Store::generate_secret();
        let e = store.replace_configured_keys(&[
            spec("a", &s, Role::Admin),
            spec("a", &Store::generate_secret(), Role::Admin),
        ]);
        assert!(matches!(e, Err(StoreError::Invalid(m)) if m.contains("twice")));
        let e = store.replace_configured_keys(&[spec("a", &s, Role::Admin), spec("b", &s, Role::Client)]);
        assert!(matches!(e, Err(StoreError::Invalid(m)) if m.contains("same secret")));
        // A revoked key's secret cannot come back under another name.
        store.replace_configured_keys(&[spec("a", &s, Role::Admin)]).unwrap();
        store.replace_configured_keys(&[]).unwrap();
        let e = store.replace_configured_keys(&[spec("z", &s, Role::Admin)]);
        assert!(matches!(e, Err(StoreError::Invalid(m)) if m.contains("same secret")));
    }

    #[test]
    pub(crate) fn env_admin_replaced_by_a_keys_file_is_revoked() {
        let store = crate::store::tests::test_store();
        let env = Store::generate_secret();
        store.replace_configured_keys(&[KeySpec::env_admin(env.clone())]).unwrap();
        assert_eq!(store.authenticate(&env).unwrap().unwrap().role, Role::Admin);
        store.replace_configured_keys(&[spec("ops", &Store::generate_secret(), Role::Admin)]).unwrap();
        assert_eq!(store.authenticate(&env).unwrap(), None);
        // Names are free text within limits.
        let s = Store::generate_secret();
        store.upsert_key(&spec("admin (RECITAL_API_KEY)", &s, Role::Admin)).unwrap();
        assert_eq!(store.authenticate(&s).unwrap().unwrap().name, "admin (RECITAL_API_KEY)");
    }
}
