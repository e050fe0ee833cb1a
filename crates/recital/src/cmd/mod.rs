//! One module per subcommand.

mod artefact;
mod audit;
mod completions;
mod demo;
mod filter;
mod generate;
mod index;
mod input;
mod policy;
mod query;
mod rights;
mod scan;
mod serve;

use crate::cli::{ArtefactCommand, Command, IndexCommand, ModelCommand, PolicyCommand, RightsCommand};

/// Runs a parsed command; its exit status (0 unless the command has
/// statuses of its own: `filter`, `scan`).
pub fn run(cmd: Command) -> anyhow::Result<u8> {
    let done = match cmd {
        Command::Index(c) => match c {
            IndexCommand::Build(a) => index::build(a, false),
            IndexCommand::Add(a) => index::build(a, true),
            IndexCommand::Remove(a) => index::remove(a),
            IndexCommand::Compact(a) => index::compact(a),
            IndexCommand::Adopt(a) => index::adopt(a),
            IndexCommand::Stats(a) => index::stats(a),
            IndexCommand::Verify(a) => index::verify(a),
        },
        Command::Count(a) => query::count(a),
        Command::Locate(a) => query::locate(a),
        Command::Scan(a) => return scan::run(a),
        Command::Filter(a) => return filter::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Artefact(ArtefactCommand::Scan(a)) => return artefact::scan(a),
        Command::Policy(PolicyCommand::Check(a)) => policy::check(a),
        Command::Rights(RightsCommand::Import(a)) => rights::import(a),
        Command::Rights(RightsCommand::Post(a)) => rights::post(a),
        Command::Audit(a) => audit::run(a),
        Command::CanaryLab(a) => audit::canary_lab(a),
        Command::Model(ModelCommand::Serve(a)) => audit::serve_model(a),
        Command::Model(ModelCommand::Generate(a)) => generate::run(a),
        Command::Completions(a) => completions::completions(a),
        Command::Man => completions::man(),
    };
    done.map(|()| 0)
}
