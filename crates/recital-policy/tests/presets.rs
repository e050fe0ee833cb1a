//! Every preset in `policies/` parses without errors or warnings, says that it
//! is an example and not legal advice, and the built-in default is `everywhere`.

use std::path::{Path, PathBuf};

fn presets() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_preset_checks_clean() {
    let files = presets();
    let names: Vec<String> =
        files.iter().filter_map(|p| p.file_stem()).map(|s| s.to_string_lossy().into_owned()).collect();
    for want in ["everywhere", "eu-only", "permissive-with-attribution"] {
        assert!(names.iter().any(|n| n == want), "policies/{want}.toml is missing ({names:?})");
    }
    for path in files {
        let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let origin = path.display().to_string();
        match recital_policy::check(&src, &origin) {
            Ok((policy, warnings)) => {
                assert!(warnings.is_empty(), "{origin}: {warnings:#?}");
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                assert_eq!(policy.name(), stem, "{origin}: the policy name is the file name");
                assert!(!policy.rule_names().is_empty(), "{origin}: no rules");
            }
            Err(errors) => {
                panic!("{origin}:\n{}", errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))
            }
        }
        // The header says what it is: an example, not legal advice.
        let header: String = src.lines().take_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n");
        assert!(
            header.to_lowercase().contains("not legal advice"),
            "{origin}: header must say it is not legal advice"
        );
        assert!(header.to_lowercase().contains("example"), "{origin}: header must say it is an example");
    }
}

#[test]
fn the_builtin_default_is_the_everywhere_preset() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/everywhere.toml");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(recital_policy::BUILTIN_DEFAULT_TOML, on_disk);
    let p = recital_policy::Policy::builtin_default();
    assert_eq!(p.name(), "everywhere");
    assert_eq!(p.default_jurisdiction(), "EU");
    assert_eq!(p.trigger_tokens(), 10, "recipe: 10 tokens is the lowest threshold that can act");
}

#[test]
fn load_reports_missing_files_and_errors_with_the_path() {
    let err = recital_policy::Policy::load(Path::new("/nonexistent/policy.toml")).unwrap_err();
    assert!(matches!(err, recital_policy::PolicyError::Io { .. }));
    assert!(err.to_string().starts_with("/nonexistent/policy.toml: "), "{err}");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, "name = \"x\"\nversion = 1\ndefault_jurisdiction = \"DE\"\n[categories]\nprose = { min_tokens = 0 }\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let err = recital_policy::Policy::load(&f).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}:5: category prose: min_tokens must be at least 1, not 0", f.display())
    );
}

#[test]
fn policies_and_decisions_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone + std::fmt::Debug>() {}
    shareable::<recital_policy::Policy>();
    shareable::<recital_policy::Decision>();
    shareable::<recital_policy::Filtered>();
}
