//! The one error type of Descent, grouped by where it arises. It becomes a JavaScript `Error`
//! only at the wasm boundary (`api`), with the same message.

use std::fmt;

/// Every failure Descent reports, each naming what was asked for and why it cannot be done.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    // --- configuration ---
    /// A setting is outside its allowed range or is not one of the known names.
    InvalidConfig {
        field: &'static str,
        message: String,
    },
    /// The configuration would need more memory than Descent allows itself. `fixes` are the
    /// settings that make it smaller, the one that was raised the most first (see [`blame`]).
    TooLarge {
        what: String,
        bytes: u64,
        limit: u64,
        fixes: Vec<&'static str>,
    },

    /// A weights file that cannot be read or does not fit its settings
    /// ([`crate::session::weights`]); `message` says which part and why.
    InvalidWeights { message: String },

    // --- numerics ---
    /// Training produced a non-finite value or a loss past the divergence bound.
    Diverged { step: u64 },
    /// A matrix that must be positive definite is not (a factorisation failed).
    NotPositiveDefinite { what: &'static str },
    /// Two operands have shapes that do not fit together.
    ShapeMismatch {
        op: &'static str,
        expected: String,
        got: String,
    },

    // --- backends ---
    /// No GPU backend can be created here (no WebGPU adapter, or the device request or the
    /// shader compilation failed); the CPU path takes over. `reason` says what happened in
    /// plain words for the reader ("this browser does not offer WebGPU"); `detail` is the
    /// technical account for a developer's console.
    GpuUnavailable { reason: String, detail: String },
    /// A GPU operation failed after the context was created (validation, out of memory, the
    /// device was lost, a readback could not map); `op` names the backend operation.
    Gpu { op: &'static str, message: String },

    // --- the command line ---
    /// A run stopped by the reader (Ctrl-C) or a scheduler (SIGTERM); what had finished is kept.
    Interrupted,
    /// A sweep or a merge that could not finish: cells that failed, a shard missing or
    /// incomplete; `message` names them and how to continue. What finished is kept.
    Incomplete { message: String },
    /// A command line that cannot be read: an unknown setting, a malformed argument, a shard
    /// file that does not belong; `message` says what and how to fix it.
    Usage { message: String },
    /// A file or directory that could not be read or written; `message` names the path and
    /// the reason.
    Io { message: String },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Formats a byte count for people: "512 KB", "1.3 GB".
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} KB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig { field, message } => {
                write!(f, "invalid setting `{field}`: {message}")
            }
            Error::TooLarge {
                what,
                bytes,
                limit,
                fixes,
            } => write!(
                f,
                "{what} would need about {} of memory, more than the {} limit; {}",
                human_bytes(*bytes),
                human_bytes(*limit),
                lower(fixes)
            ),
            Error::InvalidWeights { message } => {
                write!(f, "this weights file cannot be used: {message}")
            }
            Error::Diverged { step } => write!(f, "diverged at step {step}"),
            Error::NotPositiveDefinite { what } => write!(f, "{what} is not positive definite"),
            Error::ShapeMismatch { op, expected, got } => {
                write!(f, "{op}: shape mismatch, expected {expected}, got {got}")
            }
            Error::GpuUnavailable { reason, detail } => {
                write!(f, "GPU backend unavailable: {reason} ({detail})")
            }
            Error::Gpu { op, message } => write!(f, "GPU backend failed in {op}: {message}"),
            Error::Incomplete { message } => f.write_str(message),
            Error::Interrupted => write!(f, "interrupted (Ctrl-C or a stop signal)"),
            Error::Usage { message } => f.write_str(message),
            Error::Io { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

/// Checks that a numeric setting is finite and inside its inclusive `range`; the error names
/// the setting and the range.
pub fn in_range(field: &'static str, v: f64, range: [f64; 2]) -> Result<()> {
    if v.is_finite() && v >= range[0] && v <= range[1] {
        Ok(())
    } else {
        Err(Error::config(
            field,
            format!("must lie in [{}, {}], got {v}", range[0], range[1]),
        ))
    }
}

/// "`a`, `b` or `c`": setting names as the URL and the messages spell them.
pub fn settings_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        k => format!("{} or {}", quoted[..k - 1].join(", "), quoted[k - 1]),
    }
}

/// The advice of a refusal: "lower `a`, `b` or `c`" (or a general word when none is known).
pub fn lower(fixes: &[&str]) -> String {
    if fixes.is_empty() {
        "choose smaller settings".into()
    } else {
        format!("lower {}", settings_list(fixes))
    }
}

/// The settings behind a cost, in the order to name them when it is too high: those raised above
/// their default, the most raised (by ratio) first, then the others as given. `costs` are
/// (name, value, default) of every setting the cost grows with, in the scene's defaults; the
/// first name returned is the one the reader moved (at the defaults nothing is refused).
pub fn blame(costs: &[(&'static str, f64, f64)]) -> Vec<&'static str> {
    let ratio = |&(_, v, d): &(&'static str, f64, f64)| if d > 0.0 { v / d } else { v };
    let mut raised: Vec<&(&'static str, f64, f64)> = costs.iter().filter(|c| c.1 > c.2).collect();
    raised.sort_by(|a, b| ratio(b).total_cmp(&ratio(a)));
    let mut out: Vec<&'static str> = raised.iter().map(|c| c.0).collect();
    for c in costs {
        if !out.contains(&c.0) {
            out.push(c.0);
        }
    }
    out
}

impl Error {
    /// An [`Error::InvalidWeights`] saying `message`.
    pub fn weights(message: impl Into<String>) -> Self {
        Error::InvalidWeights {
            message: message.into(),
        }
    }

    pub fn config(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blame_names_the_most_raised_setting_first() {
        // depth 1 → 3 (×3) beats width 1024 → 2048 (×2); nTrain at its default comes last.
        let order = blame(&[
            ("width", 2048.0, 1024.0),
            ("depth", 3.0, 1.0),
            ("nTrain", 32.0, 32.0),
        ]);
        assert_eq!(order, ["depth", "width", "nTrain"]);
        // Nothing raised: the given order.
        assert_eq!(
            blame(&[("nTrain", 300.0, 300.0), ("seeds", 5.0, 5.0)]),
            ["nTrain", "seeds"]
        );
        assert_eq!(
            lower(&["depth", "width", "nTrain"]),
            "lower `depth`, `width` or `nTrain`"
        );
        assert_eq!(lower(&["seeds"]), "lower `seeds`");
        assert_eq!(lower(&[]), "choose smaller settings");
    }
}
