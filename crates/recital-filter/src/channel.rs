//! Channels: the separate texts through which one model output reaches
//! people. A chat answer has its content, but also its reasoning, its refusal,
//! the arguments of every tool call, and each of `n` choices has its own. A
//! filter that reads only `content` is a filter with doors left open.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of text a channel carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// The answer's text (`content`, a completion's `text`, `output_text`).
    Text,
    /// A refusal message (`refusal`).
    Refusal,
    /// Reasoning shown to the client (`reasoning_content`, `reasoning`, `thinking`).
    Reasoning,
    /// A tool call's name. The proxies never produce it (a name is an
    /// identifier from the caller's own tool list); `recital filter
    /// --channel tool_name` accepts it for texts that are.
    ToolName,
    /// A tool call's arguments: a JSON document (`function.arguments`,
    /// `input_json_delta`), judged on its string values.
    ToolArguments,
    /// The answer's text when it is a JSON document (structured outputs).
    Structured,
    /// A tool call's free-text input (custom tools, code-interpreter code):
    /// plain text, unlike the JSON arguments of function tools.
    ToolInput,
    /// What a tool the provider ran itself returned into the answer (web
    /// fetch, search, code execution: Anthropic's `*_tool_result` blocks):
    /// a JSON document, judged on its string values.
    ToolResult,
    /// What a tool the provider ran itself printed or returned as text
    /// (the Responses API's `mcp_call.output`, a code interpreter's logs, file
    /// search results): plain text.
    ToolOutput,
    /// The quotations an answer's citations carry (`cited_text`, with the
    /// titles and URLs around them): a JSON document of the citations.
    Citation,
}

impl ChannelKind {
    /// Every kind, in a stable order.
    pub const ALL: [ChannelKind; 10] = [
        ChannelKind::Text,
        ChannelKind::Refusal,
        ChannelKind::Reasoning,
        ChannelKind::ToolName,
        ChannelKind::ToolArguments,
        ChannelKind::Structured,
        ChannelKind::ToolInput,
        ChannelKind::ToolResult,
        ChannelKind::ToolOutput,
        ChannelKind::Citation,
    ];

    /// The name used in decisions and the audit log.
    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Text => "text",
            ChannelKind::Refusal => "refusal",
            ChannelKind::Reasoning => "reasoning",
            ChannelKind::ToolName => "tool_name",
            ChannelKind::ToolArguments => "tool_arguments",
            ChannelKind::Structured => "structured",
            ChannelKind::ToolInput => "tool_input",
            ChannelKind::ToolResult => "tool_result",
            ChannelKind::ToolOutput => "tool_output",
            ChannelKind::Citation => "citation",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// How the channel's text is read: JSON documents are judged on their
    /// string values and rewritten so that they stay valid JSON.
    pub fn format(self) -> Format {
        match self {
            ChannelKind::ToolArguments
            | ChannelKind::Structured
            | ChannelKind::ToolResult
            | ChannelKind::Citation => Format::Json,
            _ => Format::Plain,
        }
    }
}

/// How a channel's text is read and rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Text as it is (Markdown and HTML are views the scan reads through).
    Plain,
    /// A JSON document: its string values are the text, redactions go inside
    /// them, escaped.
    Json,
}

/// One channel of one output: which choice, which kind, which item (the tool
/// call's index; 0 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChannelId {
    /// The choice (`n > 1`) or output item it belongs to.
    pub choice: u32,
    /// What it carries.
    pub kind: ChannelKind,
    /// The tool call's index within the choice; 0 for other kinds.
    pub item: u32,
}

impl ChannelId {
    /// Channel `kind` of choice `choice`.
    pub fn new(choice: u32, kind: ChannelKind) -> Self {
        Self { choice, kind, item: 0 }
    }

    /// The arguments (or name) of tool call `item` of choice `choice`.
    pub fn tool(choice: u32, kind: ChannelKind, item: u32) -> Self {
        Self { choice, kind, item }
    }
}

impl fmt::Display for ChannelId {
    /// `text`, `reasoning`, `tool_arguments[1]`, with `choice 2:` before it
    /// when the choice is not the first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.choice != 0 {
            write!(f, "choice {}: ", self.choice)?;
        }
        match self.kind {
            ChannelKind::ToolName
            | ChannelKind::ToolArguments
            | ChannelKind::ToolInput
            | ChannelKind::ToolResult
            | ChannelKind::ToolOutput
            | ChannelKind::Citation => {
                write!(f, "{}[{}]", self.kind.name(), self.item)
            }
            k => f.write_str(k.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_label_the_channel() {
        for k in ChannelKind::ALL {
            assert_eq!(ChannelKind::from_name(k.name()), Some(k));
        }
        assert_eq!(ChannelId::new(0, ChannelKind::Reasoning).to_string(), "reasoning");
        assert_eq!(
            ChannelId::tool(1, ChannelKind::ToolArguments, 2).to_string(),
            "choice 1: tool_arguments[2]"
        );
        assert_eq!(ChannelKind::ToolArguments.format(), Format::Json);
        assert_eq!(ChannelKind::Reasoning.format(), Format::Plain);
    }
}
