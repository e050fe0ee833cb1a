//! Filtering a model output with `recital-filter`, without any server: index
//! the bundled sample corpus, then filter a chat answer whose text and tool
//! call both quote Hamlet, whole and as a stream of deltas.
//!
//! `cargo run -p recital-filter --example filter_usage`

use std::path::Path;
use std::sync::Arc;

use recital_filter::{filter_output, ChannelId, ChannelKind, IndexJudge, StreamFilter};
use recital_index::{BuildOptions, Index, IngestOptions, RightsRules};
use recital_policy::Policy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample");
    let dir = tempfile::tempdir()?;
    let opts =
        IngestOptions { rights: RightsRules::load(&sample.join("rights.jsonl"))?, ..Default::default() };
    recital_index::build(&dir.path().join("i"), &[sample.join("prose")], &opts, &BuildOptions::default())?;
    let index = Arc::new(Index::open(&dir.path().join("i"))?);

    // The judge: an index and a policy (the built-in one here). Hamlet is in
    // the public domain, which the policy allows; here its "rightsholder" has
    // filed a notice, so every copy of it is taken out.
    let policy = Policy::builtin_default();
    let options = policy.scan_options();
    let judge = IndexJudge::new(index, policy, options).with_notified(vec!["shakespeare/hamlet.txt".into()]);

    let quote = "To be, or not to be,--that is the question:-- Whether 'tis nobler in the mind to suffer \
                 The slings and arrows of outrageous fortune Or to take arms against a sea of troubles, \
                 And by opposing end them?--To die,--to sleep,-- No more; and by a sleep to say we end \
                 The heartache, and the thousand natural shocks That flesh is heir to";
    let text = ChannelId::new(0, ChannelKind::Text);
    let tool = ChannelId::tool(0, ChannelKind::ToolArguments, 0);
    let args = serde_json::json!({"path": "poem.txt", "content": quote}).to_string();
    let answer = format!("Here it is: {quote}");

    // Whole: every channel judged at once.
    let out = filter_output(&judge, &[(text, &answer), (tool, &args)], None, "EU")?;
    println!("whole: {:?}", out.action);
    for c in &out.channels {
        println!("  {}: {:?} -> {}", c.channel, c.decision.action, c.text.as_deref().unwrap_or("(blocked)"));
        println!("    {}", c.decision.statement);
    }

    // Streamed: deltas in, what may be shown so far out.
    let mut stream = StreamFilter::new(&judge, "EU", "");
    let mut shown = String::new();
    for word in answer.split_inclusive(' ') {
        shown.push_str(&stream.push(&judge, text, word)?.text);
    }
    shown.push_str(&stream.finish(&judge, text)?.text);
    println!("streamed: {shown}");
    Ok(())
}
