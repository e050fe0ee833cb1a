//! The one error type of the crate.
//!
//! A metric that cannot be computed faithfully returns an error instead of a
//! number: an audit report must never carry a value the field's definition
//! does not support (a TPR at 0.1% FPR from 50 negatives, a mean over zero
//! tokens, a z-score of a one-hot distribution).

use thiserror::Error;

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum AuditError {
    /// An input that needs at least one element had none.
    #[error("{what} is empty")]
    Empty {
        /// Which input.
        what: &'static str,
    },
    /// Two inputs that must be parallel have different lengths.
    #[error("{what} has {got} elements where {expected} were expected")]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The length it must have.
        expected: usize,
    },
    /// An element of an input is NaN, or outside the values it can take (a
    /// positive log-probability, an infinite score).
    #[error("{what}[{index}] = {value} is not valid: {constraint}")]
    InvalidValue {
        /// Which input.
        what: &'static str,
        /// Position of the offending element.
        index: usize,
        /// The element.
        value: f64,
        /// What it must satisfy.
        constraint: &'static str,
    },
    /// A parameter is outside its domain.
    #[error("{what} = {value} is out of range: {constraint}")]
    OutOfRange {
        /// Which parameter.
        what: &'static str,
        /// Its value.
        value: f64,
        /// What it must satisfy.
        constraint: &'static str,
    },
    /// The score set has no positives (members).
    #[error("there are no positives (members): ROC metrics are undefined")]
    NoPositives,
    /// The score set has no negatives (non-members).
    #[error("there are no negatives (non-members): ROC metrics are undefined")]
    NoNegatives,
    /// TPR at FPR = α was asked for with fewer than 1/α negatives, where the
    /// smallest non-zero FPR that can be observed is already above α.
    #[error(
        "TPR at FPR = {alpha} needs at least {required} negatives (1/alpha), got {negatives}: \
         with so few negatives a single false positive is already an FPR above {alpha}"
    )]
    TooFewNegatives {
        /// The FPR asked for.
        alpha: f64,
        /// Negatives available.
        negatives: usize,
        /// Negatives needed, ⌈1/α⌉.
        required: usize,
    },
    /// A next-token distribution has zero variance of its log-probabilities
    /// (it is one-hot), so the Min-K%++ z-score at that position is 0/0.
    #[error(
        "the next-token distribution at position {position} has zero log-probability variance \
         (it is one-hot): its Min-K%++ z-score is undefined"
    )]
    DegenerateDistribution {
        /// The scored position (index into the token log-probabilities).
        position: usize,
    },
    /// A distribution fit failed.
    #[error("the skew-normal fit failed: {reason}")]
    FitFailed {
        /// Why.
        reason: &'static str,
    },
    /// Too many bootstrap resamples were degenerate (one class only, or the
    /// statistic refused them) for the estimate to mean anything.
    #[error(
        "{discarded} of {resamples} bootstrap resamples were degenerate (statistic undefined); \
         refusing to report an interval from the rest"
    )]
    BootstrapDegenerate {
        /// Resamples discarded.
        discarded: usize,
        /// Resamples drawn.
        resamples: usize,
    },
    /// Bad user input (a probe file, an audit directory, options).
    #[error("{0}")]
    Input(String),
    /// The model failed (the model error's message).
    #[error("{0}")]
    Model(String),
    /// The index failed (the index error's message).
    #[error("{0}")]
    Index(String),
    /// Reading or writing audit files failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error's message.
        message: String,
    },
}

impl AuditError {
    pub(crate) fn io(path: impl Into<std::path::PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), message: source.to_string() }
    }
}

impl From<recital_model::ModelError> for AuditError {
    fn from(e: recital_model::ModelError) -> Self {
        Self::Model(e.to_string())
    }
}

impl From<recital_index::IndexError> for AuditError {
    fn from(e: recital_index::IndexError) -> Self {
        Self::Index(e.to_string())
    }
}

/// Result with [`AuditError`].
pub type Result<T> = std::result::Result<T, AuditError>;

/// Checks that every element is a number (not NaN); infinities are allowed.
pub(crate) fn check_not_nan(what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| v.is_nan()) {
        Some(index) => {
            Err(AuditError::InvalidValue { what, index, value: values[index], constraint: "must not be NaN" })
        }
        None => Ok(()),
    }
}

/// Checks that every element is finite.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => {
            Err(AuditError::InvalidValue { what, index, value: values[index], constraint: "must be finite" })
        }
        None => Ok(()),
    }
}

/// Checks that a slice is not empty.
pub(crate) fn check_non_empty<T>(what: &'static str, values: &[T]) -> Result<()> {
    if values.is_empty() {
        Err(AuditError::Empty { what })
    } else {
        Ok(())
    }
}
