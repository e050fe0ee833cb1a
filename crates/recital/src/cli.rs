//! Command-line definitions (clap derive). Every flag is defined once, here.

use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand};

/// recital: find, attribute and filter memorised training data in model outputs.
#[derive(Parser, Debug)]
#[command(name = "recital", version, about, long_about = None)]
pub struct Cli {
    /// Log progress details (RECITAL_LOG=debug for more).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build and change corpus indexes.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Count occurrences (and documents) of a text in the index.
    Count(QueryArgs),
    /// List where a text occurs: documents, offsets, snippets, rights.
    Locate(LocateArgs),
    /// Find the spans of a model output that copy indexed material, with sources, and the policy's decision;
    /// or of many outputs (--jsonl), one JSON line each. Exit status: 0, or 3 when a decision reached
    /// --fail-on; 1 error, 2 usage.
    Scan(ScanArgs),
    /// Filter a model output as the server and its proxy would: the text as it may be shown on stdout, the
    /// statement of reasons on stderr. Exit status: 0 shown (perhaps annotated or redacted), 3 the decision
    /// reached --fail-on, 4 blocked (nothing shown), 1 error, 2 usage.
    Filter(FilterArgs),
    /// Scan a sample model output against the bundled sample corpus (no setup needed).
    Demo(DemoArgs),
    /// Run the HTTP service: scan/filter API, OpenAI-compatible proxy, registry and notices.
    Serve(ServeArgs),
    /// Find indexed works stored inside model artefacts and datastores.
    #[command(subcommand)]
    Artefact(ArtefactCommand),
    /// Work with policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Read published rights signals into rights records.
    #[command(subcommand)]
    Rights(RightsCommand),
    /// Measure what a model memorised of its training data: extraction, membership, exposure, taxonomy.
    Audit(AuditArgs),
    /// Build the canary lab: a synthetic corpus with canaries at controlled duplicate counts, its index, a tiny
    /// GPT-2 trained on it, and the probes to audit it with (needs the `candle` feature).
    CanaryLab(CanaryLabArgs),
    /// Work with models.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Print a shell completion script: `recital completions bash > /etc/bash_completion.d/recital`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `recital man | man -l -`.
    Man,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Index of the model's training corpus (probes are sampled from it; duplicate counts come from it).
    #[arg(long, value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// The model: a directory (config.json, tokenizer.json, *.safetensors), a .gguf file, or an
    /// OpenAI-compatible endpoint URL.
    #[arg(long, value_name = "PATH|URL")]
    pub model: String,
    /// Probes (JSONL: {"prefix","suffix",...} or {"text",...}); default: sample from --index.
    #[arg(long, value_name = "FILE")]
    pub probes: Option<PathBuf>,
    /// A reference model that never saw the corpus (reference ratio; reconstruction test).
    #[arg(long, value_name = "PATH|URL")]
    pub reference: Option<String>,
    /// Probes to sample from the index, or the most to take from --probes.
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Seed of sampling, exposure alternatives and bootstrap.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Prompt tokens of sampled probes (k).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub prefix_tokens: usize,
    /// Continuation tokens of sampled probes (ℓ).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub suffix_tokens: usize,
    /// Alternatives each canary is ranked against.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub exposure_references: usize,
    /// Shorter prompt lengths tried on the first 200 probes (prefix-length sweep).
    #[arg(long, value_delimiter = ',', default_value = "8,16", value_name = "N,...")]
    pub sweep: Vec<usize>,
    /// Skip the prefix-length sweep.
    #[arg(long)]
    pub no_sweep: bool,
    /// Probes in flight at once (for endpoints; local models run one at a time).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// API key for endpoints (else RECITAL_MODEL_API_KEY).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// A tokenizer.json matching the endpoint's model (else the server's /tokenize).
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// Seconds an endpoint request may take before it counts as failed (and is retried).
    #[arg(long, default_value_t = 120.0, value_name = "SECONDS")]
    pub request_timeout: f64,
    /// Retries of a failed endpoint request (connection error, timeout, 429, 5xx), with back-off from 0.25 s.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub retries: u32,
    /// Output directory: report.json, report.html, results.jsonl (resumable).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct CanaryLabArgs {
    /// Output directory (must not exist or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Training epochs.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub epochs: usize,
    /// Also save the model after these epochs (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub save_epochs: Vec<usize>,
    /// Canaries per duplicate bucket.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub per_bucket: usize,
    /// Duplicate counts (comma-separated).
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_value = "1,2,4,8,16,32")]
    pub buckets: Vec<usize>,
    /// Canaries never inserted (membership non-members).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub non_members: usize,
    /// Background lines of the synthetic grammar.
    #[arg(long, value_name = "N", default_value_t = 4000)]
    pub background_lines: usize,
    /// Seed.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
}

#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Serve a local model over the OpenAI-compatible completions API (with echo and prompt logprobs).
    Serve(ModelServeArgs),
    /// Generate from a local model, optionally under the decode-time guard (--guard-index): tokens that would
    /// take a protected copy to the policy's threshold are banned as the model writes, and when they held
    /// nearly all the probability the guard takes a few tokens back so that the model rephrases.
    Generate(ModelGenerateArgs),
}

#[derive(Args, Debug)]
pub struct ModelGenerateArgs {
    /// The model: a directory or a .gguf file (needs the `candle` feature).
    #[arg(long, value_name = "PATH")]
    pub model: PathBuf,
    /// The prompt, as the model is to see it (apply a chat template yourself).
    #[arg(
        long,
        value_name = "TEXT",
        conflicts_with = "prompt_file",
        required_unless_present = "prompt_file"
    )]
    pub prompt: Option<String>,
    /// Read the prompt from a file.
    #[arg(long, value_name = "FILE")]
    pub prompt_file: Option<PathBuf>,
    /// Most tokens to generate.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub max_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    #[arg(long, value_name = "T", default_value_t = 0.0)]
    pub temperature: f64,
    /// Seed of the sampler.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Guard the generation against copying this index's works.
    #[arg(long, value_name = "DIR")]
    pub guard_index: Option<PathBuf>,
    /// Policy file (TOML) [default: the built-in "everywhere" preset].
    #[arg(long, value_name = "FILE", requires = "guard_index")]
    pub policy: Option<PathBuf>,
    /// Jurisdiction the output is for [default: the policy's].
    #[arg(long, value_name = "J", requires = "guard_index")]
    pub jurisdiction: Option<String>,
    /// Protect passages the prompt quotes too (by default a copy of the prompt is the user's own text).
    #[arg(long, requires = "guard_index")]
    pub no_context_exemption: bool,
    /// Print JSON (schema recital.generate/1): text, tokens, rollbacks, guarded steps.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ModelServeArgs {
    /// The model: a directory or a .gguf file.
    #[arg(long, value_name = "PATH")]
    pub model: PathBuf,
    /// Name to serve it under [default: the directory or file name].
    #[arg(long)]
    pub name: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub addr: std::net::SocketAddr,
}

#[derive(Subcommand, Debug)]
pub enum ArtefactCommand {
    /// Scan model artefacts and datastores for copies of indexed works: GGUF metadata and tokenizer strings,
    /// safetensors headers, JSONL, Parquet and SQLite text values, .npy token ids (with --tokenizer), gzip and
    /// zstd members, and runs of printable UTF-8 and UTF-16 in any other bytes. Each copy is reported with its
    /// file, offset or row, span, source and licence, and the policy decides whether the artefacts may be
    /// distributed. Exit status: 0, or 3 when a decision reached --fail-on; 1 error (a file that could not be
    /// read to the end: its copies so far are still reported), 2 usage.
    Scan(ArtefactScanArgs),
}

#[derive(Args, Debug)]
pub struct ArtefactScanArgs {
    /// Index directory.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Print the report as JSON (schema recital.artefact-scan/1).
    #[arg(long)]
    pub json: bool,
    /// Policy file (TOML) [default: the built-in "everywhere" preset].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Jurisdiction the artefacts would be distributed in (ISO 3166-1 alpha-2 code or a group of the policy)
    /// [default: the policy's].
    #[arg(long, value_name = "J")]
    pub jurisdiction: Option<String>,
    /// Shortest copy reported, in tokens [default: from the policy, as `recital scan`].
    #[arg(long, value_name = "N")]
    pub min_tokens: Option<usize>,
    /// A Hugging Face tokenizer.json to decode .npy token-id arrays with (without it they are read as bytes).
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// Shortest run of printable characters taken from unstructured bytes.
    #[arg(long, value_name = "N", default_value_t = 24, value_parser = clap::value_parser!(u32).range(4..))]
    pub min_run: u32,
    /// Do not open gzip and zstd members found inside files (members that make up a whole file still are).
    #[arg(long)]
    pub no_embedded_members: bool,
    /// Exit with status 3 when a decision on a copy is at least this severe.
    #[arg(long, value_name = "ACTION",
          value_parser = clap::builder::PossibleValuesParser::new(["annotate", "redact", "block"])
              .map(|s| recital_policy::Action::from_name(&s).expect("listed actions have names")))]
    pub fail_on: Option<recital_policy::Action>,
    /// Files or directories (read recursively) to scan.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Check a policy file; errors and warnings with line numbers.
    Check(PolicyCheckArgs),
}

#[derive(Args, Debug)]
pub struct PolicyCheckArgs {
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
    /// The policy file (TOML).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Configuration file (TOML): one key per flag below, named as the flag without its dashes
    /// (`upstream-timeout = 30`); a flag given on the command line wins over its key. Relative paths
    /// in the file are relative to the file's directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Index directory (required, here or in --config).
    #[arg(long, value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// Policy file (TOML) [default: the built-in "everywhere" preset].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Database for the registry, notices, keys and audit log: a SQLite file (created if
    /// missing), or `postgres://user@host:port/dbname` for a PostgreSQL database shared by
    /// several instances (each sees the others' works and notices within seconds)
    /// [default: recital.db].
    #[arg(long, value_name = "FILE|URL")]
    pub db: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<std::net::SocketAddr>,
    /// OpenAI-compatible model server to proxy (`http://host:port`, `https://…`, or `…/v1`).
    /// Requests carry `Authorization: Bearer $RECITAL_UPSTREAM_API_KEY` when that is set.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// PEM file of CA certificates to trust for an `https://` upstream, besides the
    /// system's (a model server behind a private or self-signed CA).
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,
    /// API keys (JSONL: name, key or key_sha256, role, default_jurisdiction, rate_per_minute).
    /// Without it, `RECITAL_API_KEY` (at least 16 characters) is the one admin key; with neither,
    /// the service runs without authentication, on a loopback address only.
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// Largest request body in bytes [default: 4194304].
    #[arg(long, value_name = "BYTES")]
    pub max_body: Option<usize>,
    /// Seconds the upstream may take to answer, and between streamed chunks [default: 120].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub upstream_timeout: Option<u64>,
    /// Seconds a client may take to send a request's line and headers (also how long an idle
    /// keep-alive connection stays open); slower clients are disconnected [default: 10].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub header_timeout: Option<u64>,
    /// Remove every non-standard field (citations, decisions) from proxied responses.
    #[arg(long)]
    pub strict_openai: bool,
    /// Seconds the web console (`/console/`) keeps a scan result at its URL (in memory) [default: 86400].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub console_retention: Option<u64>,
    /// Directory of audit runs (`recital audit --out`) whose `report.html` files the console lists.
    #[arg(long, value_name = "DIR")]
    pub audit_reports: Option<PathBuf>,
    /// Bytes of protected source text `/v1/scan` may show each key per UTC day (its snippets);
    /// past it, scans answer 429 until midnight UTC. Counted in the database (`--db`), so it
    /// survives restarts and is shared by instances on one PostgreSQL [default: no limit].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub reveal_budget: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Build a new index from files, directories and JSONL dumps.
    Build(BuildArgs),
    /// Add documents to an index as a delta shard (searchable at once).
    Add(BuildArgs),
    /// Remove documents by id (tombstones; counts exclude them at once).
    Remove(RemoveArgs),
    /// Merge delta shards and drop removed documents for good.
    Compact(IndexOnly),
    /// Take in the shards of indexes built elsewhere (one per partition of a
    /// corpus), in one commit; creates the index if it does not exist.
    Adopt(AdoptArgs),
    /// Show index statistics.
    Stats(StatsArgs),
    /// Verify every checksum of every index file.
    Verify(IndexOnly),
}

#[derive(Args, Debug)]
pub struct IndexOnly {
    /// Index directory.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Index directory.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
    /// Policy whose licence classes documents are counted in [default: the built-in "everywhere" preset].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("mode").multiple(false))]
pub struct BuildArgs {
    /// Index directory: `build` creates it (it must not exist, or be empty); `add` adds a delta shard to it.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Rights sidecar (JSONL or CSV): path glob or doc id → licence, holder, URL, opt-out, jurisdictions, category.
    #[arg(long, value_name = "FILE")]
    pub rights: Option<PathBuf>,
    /// Rights signals applied before --rights (which overrides them): a crawl (WARC file or directory of
    /// saved responses: TDMRep, robots.txt, ai.txt) or a code project (REUSE, debian/copyright, SPDX
    /// headers, C2PA manifests of its files), a DEP-5 copyright file, ScanCode JSON or a file with a C2PA
    /// manifest, as `recital rights import` reads them.
    #[arg(long, value_name = "DIR|WARC")]
    pub rights_from: Vec<PathBuf>,
    /// Rights problems are errors, not warnings: a sidecar rule that matches no document, a document's
    /// own licence (SPDX line, JSONL field) that is not an SPDX expression.
    #[arg(long)]
    pub strict: bool,
    /// Policy whose licence classes the report counts documents in [default: the built-in "everywhere" preset].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Treat every file with a known language as code (others as text).
    #[arg(long, group = "mode")]
    pub code: bool,
    /// Treat everything as prose.
    #[arg(long, group = "mode")]
    pub text: bool,
    /// Code by file extension or JSONL `lang` field, else prose (default).
    #[arg(long, group = "mode")]
    pub auto: bool,
    /// JSONL field with the document text.
    #[arg(long, default_value = "text", value_name = "FIELD")]
    pub text_field: String,
    /// JSONL field with the document id.
    #[arg(long, default_value = "id", value_name = "FIELD")]
    pub id_field: String,
    /// Token budget per shard (bounds build memory at about 10 bytes per token).
    #[arg(long, value_name = "N", default_value_t = recital_index::DEFAULT_SHARD_TOKENS)]
    pub shard_tokens: u64,
    /// Print a machine-readable JSON report.
    #[arg(long)]
    pub json: bool,
    /// Files, directories or JSONL dumps (.jsonl, .jsonl.gz, .jsonl.zst).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum RightsCommand {
    /// Turn the rights signals at a path into rights records (JSONL, a sidecar for `index build --rights`),
    /// each with the provenance of its values: which signal said what, from where, when.
    Import(RightsImportArgs),
    /// Post one saved rights signal (a site's tdmrep.json, robots.txt or ai.txt, or a page with its
    /// tdm-reservation header or meta) to a running `recital serve`: it applies to the sources it covers
    /// before the call returns, without an index rebuild. The key is RECITAL_API_KEY (rightsholder or admin).
    Post(RightsPostArgs),
}

#[derive(Args, Debug)]
pub struct RightsPostArgs {
    /// The service, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The URL the signal was fetched from: https://HOST/.well-known/tdmrep.json, https://HOST/robots.txt,
    /// https://HOST/ai.txt, or a page.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// A response header that carries a signal (`tdm-reservation: 1`, `tdm-policy: https://…`); repeatable.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// When the signal was observed (RFC 3339); default: now.
    #[arg(long, value_name = "TIME")]
    pub observed: Option<String>,
    /// The file as saved (its body); `-` or nothing reads standard input, an empty body for a page whose
    /// headers say it all.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Send no body (a page whose headers carry the signal).
    #[arg(long, conflicts_with = "file")]
    pub no_body: bool,
}

#[derive(Args, Debug)]
pub struct RightsImportArgs {
    /// A crawl (WARC file, or directory of saved responses laid out HOST/PATH), a code project directory
    /// (its JPEG, PNG and .c2pa files read for C2PA too), a REUSE.toml, .reuse/dep5 or Debian copyright
    /// file, ScanCode JSON output, or a file with a C2PA manifest (JPEG, PNG, sidecar .c2pa).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// What PATH holds, when the guess from its name and contents is wrong.
    #[arg(long, value_enum, default_value = "auto")]
    pub kind: RightsKind,
    /// Write the records here instead of to standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// What `recital rights import` reads.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum RightsKind {
    /// Guess from the path.
    Auto,
    /// A crawl: WARC file or directory of saved responses.
    Web,
    /// A code project, REUSE.toml, dep5 or copyright file.
    Code,
    /// ScanCode toolkit JSON output.
    Scancode,
    /// A JPEG or PNG with a C2PA manifest, or a sidecar .c2pa manifest store.
    C2pa,
}

#[derive(Args, Debug)]
pub struct RemoveArgs {
    /// Index directory.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Print a machine-readable JSON report.
    #[arg(long)]
    pub json: bool,
    /// Document ids to remove.
    #[arg(required = true, value_name = "DOC_ID")]
    pub ids: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AdoptArgs {
    /// Index directory (created if it does not exist).
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Print a machine-readable JSON report.
    #[arg(long)]
    pub json: bool,
    /// Indexes whose shards to adopt (they are copied and left as they are).
    #[arg(required = true, value_name = "SOURCE_DIR")]
    pub sources: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Index directory.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
    /// Search the canonical code stream, lexing TEXT as this language (c, cpp, python, rust, javascript, typescript, java, go).
    #[arg(long, value_name = "LANG")]
    pub code: Option<String>,
    /// The text to look for (`-` reads standard input).
    #[arg(value_name = "TEXT")]
    pub text: String,
}

#[derive(Args, Debug)]
pub struct LocateArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// Occurrences to list at most.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub limit: usize,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the sample index in DIR and reuse it next time (default: a fresh temporary index).
    #[arg(long, value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

/// The channels `--channel` names: how a plain output is read.
const CHANNELS: [&str; 5] = ["text", "refusal", "reasoning", "tool_arguments", "structured"];

/// What a whole model API response given to `recital filter --format` is.
// The value names are the API families' (`openai-chat`, …): the prefix is meant.
#[allow(clippy::enum_variant_names)]
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseFormat {
    /// A saved `chat.completion` (`/v1/chat/completions`, not streamed).
    OpenaiChat,
    /// A saved `text_completion` (`/v1/completions`, not streamed).
    OpenaiCompletion,
    /// A saved `response` (`/v1/responses`, not streamed).
    OpenaiResponses,
}

#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Index directory.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Policy file (TOML) [default: the built-in "everywhere" preset].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Jurisdiction decided for (ISO 3166-1 alpha-2 code or a group of the policy) [default: the policy's].
    #[arg(long, value_name = "J")]
    pub jurisdiction: Option<String>,
    /// Text the caller supplied (prompt, retrieved documents): repeats of it are not flagged.
    #[arg(long, value_name = "FILE")]
    pub context: Option<PathBuf>,
    /// How the output is read: `text`, `refusal`, `reasoning` (as it is), `tool_arguments` or `structured`
    /// (a JSON document: judged on its strings, redacted inside them, still valid JSON). With --format:
    /// how the answer's content is read (`text`, or `structured` for a JSON-mode answer).
    #[arg(long, value_name = "KIND", default_value = "text",
          value_parser = clap::builder::PossibleValuesParser::new(CHANNELS)
              .map(|s| recital_filter::ChannelKind::from_name(&s).expect("listed kinds have names")))]
    pub channel: recital_filter::ChannelKind,
    /// The input is a whole OpenAI response (JSON): every channel of every choice is filtered and the
    /// response is printed rewritten.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<ResponseFormat>,
    /// Print one JSON document (schema recital.filter/1) instead of the text.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 3 when the decision is at least this severe.
    #[arg(long, value_name = "ACTION",
          value_parser = clap::builder::PossibleValuesParser::new(["annotate", "redact", "block"])
              .map(|s| recital_policy::Action::from_name(&s).expect("listed actions have names")))]
    pub fail_on: Option<recital_policy::Action>,
    /// The output to filter (`-` or nothing: standard input).
    #[arg(value_name = "FILE", default_value = "-")]
    pub input: String,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Index directory.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Print the report as JSON (schema recital.scan/1).
    #[arg(long)]
    pub json: bool,
    /// Text the caller supplied (prompt, retrieved documents): repeats of it are not flagged.
    #[arg(long, value_name = "FILE")]
    pub context: Option<PathBuf>,
    /// Policy file (TOML) whose thresholds set the scan's [default: the built-in "everywhere" preset].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Shortest copy reported, in tokens (words and punctuation marks) [default: from the policy:
    /// its lowest threshold that can act, at most 12; 10 for the built-in policy].
    #[arg(long, value_name = "N")]
    pub min_tokens: Option<usize>,
    /// Shortest exact piece chained into near-verbatim matches [default: 6].
    #[arg(long, value_name = "N")]
    pub seed_tokens: Option<usize>,
    /// Largest gap between chained pieces, in tokens [default: 8].
    #[arg(long, value_name = "N")]
    pub max_gap: Option<usize>,
    /// Spans occurring at least this often in the corpus are boilerplate [default: 200].
    #[arg(long, value_name = "N")]
    pub boilerplate_count: Option<u64>,
    /// Sources listed per span [default: 5].
    #[arg(long, value_name = "N")]
    pub max_sources: Option<usize>,
    /// Shortest canonical code match, in lexemes [default: 25].
    #[arg(long, value_name = "N")]
    pub code_min_tokens: Option<usize>,
    /// Treat the whole input as code in this language (fenced blocks are found anyway).
    #[arg(long, value_name = "LANG")]
    pub code: Option<String>,
    /// Language of fenced code blocks that name none.
    #[arg(long, value_name = "LANG")]
    pub fence_default: Option<String>,
    /// Jurisdiction decided for (ISO 3166-1 alpha-2 code or a group of the policy) [default: the policy's].
    #[arg(long, value_name = "J")]
    pub jurisdiction: Option<String>,
    /// Exit with status 3 when the decision on the output (on any output, with --jsonl) is at least this severe.
    #[arg(long, value_name = "ACTION",
          value_parser = clap::builder::PossibleValuesParser::new(["annotate", "redact", "block"])
              .map(|s| recital_policy::Action::from_name(&s).expect("listed actions have names")))]
    pub fail_on: Option<recital_policy::Action>,
    /// Many outputs: a JSONL file (`-`: standard input), one object per line with a text and an id field;
    /// writes one JSON line per output (schema recital.scan-batch/1) and a summary on stderr.
    #[arg(long, value_name = "FILE", group = "batch", conflicts_with = "json")]
    pub jsonl: Option<String>,
    /// Many outputs from a Parquet file: a row per output, the text and id in top-level columns (string;
    /// string or integer); written as --jsonl writes. Needs the `parquet` cargo feature.
    #[arg(long, value_name = "FILE", group = "batch", conflicts_with = "json")]
    pub parquet: Option<std::path::PathBuf>,
    /// With --jsonl or --parquet: the field holding each output's text [default: text].
    #[arg(long, value_name = "FIELD", requires = "batch")]
    pub text_field: Option<String>,
    /// With --jsonl or --parquet: the field holding each output's id, a string or a number [default: id].
    #[arg(long, value_name = "FIELD", requires = "batch")]
    pub id_field: Option<String>,
    /// With --jsonl or --parquet: skip lines (rows) that are not a JSON object with a text field (each reported on stderr and
    /// counted) instead of failing on the first.
    #[arg(long, requires = "batch")]
    pub skip_bad_lines: bool,
    /// Also write the scan view (the web console's) as one self-contained HTML file, to share:
    /// spans shaded by kind and decision, their sources and the statement of reasons; source
    /// snippets limited as `recital serve` limits them.
    #[arg(long, value_name = "FILE", conflicts_with = "batch")]
    pub html: Option<PathBuf>,
    /// With --jsonl or --parquet: scanning threads [default: one per core].
    #[arg(long, value_name = "N", requires = "batch", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// The output to scan (`-` or nothing: standard input).
    #[arg(value_name = "FILE")]
    pub input: Option<String>,
}

impl ScanArgs {
    /// The usage rule clap cannot state: FILE and a batch (--jsonl,
    /// --parquet) exclude each other. (As a clap conflict, FILE's presence
    /// would also excuse the batch-only flags from requiring a batch, and
    /// they would be ignored in silence.)
    pub fn check(&self) -> Result<(), clap::Error> {
        if (self.jsonl.is_some() || self.parquet.is_some()) && self.input.is_some() {
            use clap::CommandFactory;
            return Err(Cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "the argument '[FILE]' cannot be used with --jsonl or --parquet: a batch reads its outputs from there",
            ));
        }
        Ok(())
    }
}
