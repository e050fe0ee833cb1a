//! `recital policy check`.

use crate::cli::PolicyCheckArgs;

/// Checks a policy file: every error and warning with its line.
pub fn check(a: PolicyCheckArgs) -> anyhow::Result<()> {
    let origin = a.file.display().to_string();
    let src = std::fs::read_to_string(&a.file).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    match recital_policy::check(&src, &origin) {
        Ok((policy, warnings)) => {
            if a.json {
                let w: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
                println!(
                    "{}",
                    serde_json::json!({"ok": true, "name": policy.name(), "errors": [], "warnings": w})
                );
            } else {
                for w in &warnings {
                    eprintln!("warning: {w}");
                }
                println!(
                    "{origin}: ok (policy {:?}, {} warning(s); smallest trigger {} tokens)",
                    policy.name(),
                    warnings.len(),
                    policy.trigger_tokens()
                );
            }
            Ok(())
        }
        Err(errors) => {
            if a.json {
                let e: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                println!("{}", serde_json::json!({"ok": false, "errors": e, "warnings": []}));
            } else {
                for e in &errors {
                    eprintln!("error: {e}");
                }
            }
            anyhow::bail!("{origin}: {} error(s)", errors.len())
        }
    }
}
