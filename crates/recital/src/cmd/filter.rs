//! `recital filter`: a model output as it may be shown, through the same
//! transport-free filter as `/v1/filter` and the proxy.

use std::sync::Arc;

use anyhow::Context;
use recital_filter::dialect::openai::{self, Dialect};
use recital_filter::{ChannelId, ChannelKind, FilteredOutput, Format, IndexJudge};
use recital_index::Index;
use recital_policy::Action;

use super::input;
use crate::cli::{FilterArgs, ResponseFormat};
use crate::output;

/// Exit status when the decision reached `--fail-on` (whatever it was,
/// block included), so that a gate checks one number.
pub const EXIT_FAIL_ON: u8 = 3;
/// Exit status when the output is blocked and no `--fail-on` was given:
/// nothing of it may be shown, and a pipeline should not go on as if the
/// empty text were the answer.
pub const EXIT_BLOCKED: u8 = 4;

pub fn run(a: FilterArgs) -> anyhow::Result<u8> {
    let policy = input::policy(a.policy.as_deref())?;
    let jurisdiction =
        recital_filter::jurisdiction(a.jurisdiction.as_deref().unwrap_or(policy.default_jurisdiction()))?;
    let label = policy.label();
    let bytes = input::read(&a.input)?;
    let name = if a.input == "-" { "standard input" } else { a.input.as_str() };
    let context = input::context(a.context.as_deref())?;
    let index = Index::open(&a.index)?;
    // The scan options every span the policy can act on needs, exactly as
    // `recital serve` derives them.
    let judge = IndexJudge::new(Arc::new(index), policy.clone(), policy.scan_options());
    let ctx = context.as_deref();
    let (out, response) = match a.format {
        None => {
            let text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{name}: not UTF-8 (byte {}); a model output is text",
                    e.utf8_error().valid_up_to()
                )
            })?;
            if a.channel.format() == Format::Json {
                // Judged on its strings: text that is not JSON would have
                // none, and pass unread.
                serde_json::from_str::<serde::de::IgnoredAny>(&text).with_context(|| {
                    format!(
                        "{name}: --channel {} reads a JSON document, and this is not one",
                        a.channel.name()
                    )
                })?;
            }
            let id = ChannelId::new(0, a.channel);
            (recital_filter::filter_output(&judge, &[(id, text.as_str())], ctx, &jurisdiction)?, None)
        }
        Some(f) => {
            let (dialect, json_mode) = dialect(f, a.channel)?;
            let mut body =
                openai::parse_response(&bytes, dialect).with_context(|| format!("reading {name}"))?;
            let out = openai::filter_response(&judge, &mut body, dialect, json_mode, ctx, &jurisdiction)?;
            (out, Some(body))
        }
    };
    if a.json {
        output::print_json(&recital_filter::FilterReport::new(
            &out,
            &jurisdiction,
            label,
            response.as_ref(),
        ))?;
    } else {
        print(&out, response.as_ref())?;
    }
    Ok(exit_status(out.action, a.fail_on))
}

/// The dialect of `--format`, and whether `--channel` makes the answer's
/// content a JSON document (a JSON-mode chat answer).
fn dialect(f: ResponseFormat, channel: ChannelKind) -> anyhow::Result<(Dialect, bool)> {
    match (f, channel) {
        (ResponseFormat::OpenaiChat, ChannelKind::Text) => Ok((Dialect::Chat, false)),
        (ResponseFormat::OpenaiChat, ChannelKind::Structured) => Ok((Dialect::Chat, true)),
        (ResponseFormat::OpenaiCompletion, ChannelKind::Text) => Ok((Dialect::Completions, false)),
        (ResponseFormat::OpenaiResponses, ChannelKind::Text) => Ok((Dialect::Responses, false)),
        (ResponseFormat::OpenaiResponses, ChannelKind::Structured) => Ok((Dialect::Responses, true)),
        (_, k) => anyhow::bail!(
            "--channel {} with --format: the response names its own channels; --channel only says how the answer's content is read (text, or structured for a JSON-mode chat answer)",
            k.name()
        ),
    }
}

/// The text (or the rewritten response) on stdout, the statements of
/// reasons of every flagged channel on stderr.
fn print(out: &FilteredOutput, response: Option<&serde_json::Value>) -> anyhow::Result<()> {
    match response {
        Some(body) => output::print_json(body)?,
        None => output::print_raw(out.channels.first().and_then(|c| c.text.as_deref()).unwrap_or(""))?,
    }
    for c in out.flagged() {
        output::statement(&c.channel.to_string(), c.decision.action.name(), &c.decision.statement);
    }
    Ok(())
}

fn exit_status(action: Action, fail_on: Option<Action>) -> u8 {
    match fail_on {
        Some(level) if action >= level => EXIT_FAIL_ON,
        _ if action == Action::Block => EXIT_BLOCKED,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_wins_over_block_and_block_alone_exits_4() {
        assert_eq!(exit_status(Action::Allow, None), 0);
        assert_eq!(exit_status(Action::Redact, None), 0);
        assert_eq!(exit_status(Action::Block, None), EXIT_BLOCKED);
        assert_eq!(exit_status(Action::Annotate, Some(Action::Redact)), 0);
        assert_eq!(exit_status(Action::Redact, Some(Action::Redact)), EXIT_FAIL_ON);
        assert_eq!(exit_status(Action::Block, Some(Action::Annotate)), EXIT_FAIL_ON);
    }
}
