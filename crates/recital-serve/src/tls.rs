//! TLS to the upstream model server.
//!
//! reqwest runs on rustls with the `ring` provider (reqwest's own default,
//! aws-lc-rs, needs cmake and a C toolchain to build). reqwest looks the
//! provider up process-wide and panics when none is installed, so every
//! client is built through [`upstream_client`], which installs it first.
//!
//! Trusted roots are the platform's (rustls-platform-verifier: on Linux the
//! system store, `/etc/ssl/certs` on Debian, or `SSL_CERT_FILE`) plus the CA
//! certificates of `--upstream-ca`, for a model server behind a private CA.

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::config::ServeConfig;

/// Why the upstream client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read.
    #[error("--upstream-ca {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A `BEGIN CERTIFICATE` block that is not valid PEM.
    #[error("--upstream-ca {}: invalid PEM: {why}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// The PEM parser's reason.
        why: String,
    },
    /// No certificate at all (a key, a DER file, the wrong file).
    #[error("--upstream-ca {}: no PEM certificate in it (expected one or more `-----BEGIN CERTIFICATE-----` blocks)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A certificate rustls cannot use as a trust anchor.
    #[error("--upstream-ca {}: certificate {index} is not a usable CA certificate: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based position in the file.
        index: usize,
        /// Why.
        source: rustls::Error,
    },
    /// reqwest refused the settings.
    #[error("building the upstream HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Installs rustls' `ring` provider as the process default, once. Every
/// reqwest client in a process needs it (reqwest panics without one), so a
/// binary that builds other clients calls this first; later calls are no-ops.
pub fn install_crypto_provider() {
    // Err means a provider is installed already (ours or the caller's): fine.
    // rustls 0.23.48 deprecates ring for lacking post-quantum key exchange
    // (X25519MLKEM768, aws-lc-rs only); classical X25519 is what we accept in
    // exchange for a build without cmake and a C toolchain.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The client that talks to the upstream: timeouts from `config`, roots
/// from the platform plus `config.upstream_ca`.
pub fn upstream_client(config: &ServeConfig) -> Result<reqwest::Client, TlsError> {
    install_crypto_provider();
    let extra = match &config.upstream_ca {
        Some(path) => load_ca_file(path)?,
        None => Vec::new(),
    };
    let builder = || {
        reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .read_timeout(config.upstream_timeout)
    };
    let with_platform = builder().tls_certs_merge(extra.clone()).build();
    with_platform.or_else(|e| {
        // The platform verifier refuses an empty system store (a slim
        // container without ca-certificates). A plain-http upstream needs no
        // roots, so start anyway; https then trusts only --upstream-ca.
        tracing::warn!(
            "no system CA certificates ({e}); https upstreams are trusted only through --upstream-ca"
        );
        builder().tls_certs_only(extra).build().map_err(TlsError::Client)
    })
}

/// Reads a PEM file of one or more CA certificates, each checked as a trust
/// anchor here so that a bad file is a startup error naming it.
pub fn load_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Read { path: path.into(), source })?;
    let ders = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem { path: path.into(), why: e.to_string() })?;
    if ders.is_empty() {
        return Err(TlsError::Empty { path: path.into() });
    }
    ders.iter().enumerate().map(|(i, der)| to_certificate(path, i + 1, der)).collect()
}

fn to_certificate(
    path: &Path,
    index: usize,
    der: &CertificateDer<'_>,
) -> Result<reqwest::Certificate, TlsError> {
    let invalid = |source| TlsError::Invalid { path: path.into(), index, source };
    rustls::RootCertStore::empty().add(der.clone().into_owned()).map_err(invalid)?;
    reqwest::Certificate::from_der(der).map_err(TlsError::Client)
}

/// A one-line account of a failed upstream request: reqwest's own message
/// names only the URL, the cause (refused, certificate) is in its sources.
/// An untrusted certificate gets a hint at `--upstream-ca`.
pub fn describe_request_error(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut cert = false;
    let mut next = std::error::Error::source(e);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !msg.ends_with(&text) {
            msg = format!("{msg}: {text}");
        }
        cert |= is_certificate_error(cause);
        next = cause.source();
    }
    if cert {
        msg.push_str(" (the upstream's TLS certificate is not trusted: give its CA with --upstream-ca FILE)");
    }
    msg
}

/// rustls' certificate errors reach us wrapped in an `io::Error`, twice
/// (tokio-rustls, then hyper-rustls), and `io::Error::source()` skips the
/// error it wraps: unwrap them by hand.
fn is_certificate_error(mut cause: &(dyn std::error::Error + 'static)) -> bool {
    loop {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return matches!(tls, rustls::Error::InvalidCertificate(_));
        }
        match cause.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => cause = inner,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn bad_ca_files_are_errors_that_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let cases = [
            (missing, "No such file"),
            (write(dir.path(), "empty.pem", "not a certificate\n"), "no PEM certificate"),
            (
                write(
                    dir.path(),
                    "broken.pem",
                    "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                ),
                "invalid PEM",
            ),
            (
                // Valid base64, not a certificate.
                write(
                    dir.path(),
                    "junk.pem",
                    "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n",
                ),
                "certificate 1 is not a usable CA certificate",
            ),
        ];
        for (path, want) in cases {
            let err = load_ca_file(&path).unwrap_err().to_string();
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains(want), "{err}");
        }
    }

    fn ca_pem() -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().pem()
    }

    #[test]
    fn a_bundle_gives_every_certificate_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("# two private CAs\n{}\n{}", ca_pem(), ca_pem());
        let path = write(dir.path(), "bundle.pem", &text);
        assert_eq!(load_ca_file(&path).unwrap().len(), 2);
        let mut config = ServeConfig::new(dir.path().into());
        config.upstream_ca = Some(path);
        upstream_client(&config).unwrap();
    }

    #[test]
    fn certificate_errors_are_found_inside_nested_io_errors() {
        use std::io::{Error, ErrorKind};
        let bad = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let nested = Error::other(Error::new(ErrorKind::InvalidData, bad));
        assert!(is_certificate_error(&nested));
        let refused = Error::other(Error::from(ErrorKind::ConnectionRefused));
        assert!(!is_certificate_error(&refused));
    }

    #[test]
    fn clients_build_with_and_without_system_roots() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServeConfig::new(dir.path().into());
        upstream_client(&config).unwrap();
        config.upstream_ca = Some(dir.path().join("absent.pem"));
        assert!(matches!(upstream_client(&config), Err(TlsError::Read { .. })));
    }
}
