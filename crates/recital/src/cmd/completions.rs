//! `recital completions SHELL` and `recital man`: generated from the clap
//! definitions, so they never drift from the real flags.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn completions(a: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "recital", &mut std::io::stdout());
    Ok(())
}

pub fn man() -> anyhow::Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out).context("rendering the manual page")?;
    std::io::stdout().write_all(&out).context("writing the manual page")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_and_man_page_name_the_subcommands() {
        let mut cmd = Cli::command();
        let mut bash = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "recital", &mut bash);
        let bash = String::from_utf8(bash).unwrap();
        assert!(bash.contains("--fail-on") && bash.contains("completions"), "bash script lacks flags");
        let mut roff = Vec::new();
        clap_mangen::Man::new(Cli::command()).render(&mut roff).unwrap();
        let roff = String::from_utf8(roff).unwrap();
        assert!(roff.starts_with(".ie") || roff.contains(".TH recital"), "{}", &roff[..200.min(roff.len())]);
        assert!(roff.contains("scan") && roff.contains("serve"));
    }
}
