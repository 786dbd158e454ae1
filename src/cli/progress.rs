//! Progress bars on stderr (indicatif) for runs longer than about a second.
//!
//! A bar stays hidden for its first second, so quick runs print nothing; it is never shown
//! with `--quiet` or when stderr is not a terminal (a log file, a pipe, a scheduler's output).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Progress;

/// How long work runs before its bar appears.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A bar on stderr, shown once a stage has run for [`SHOW_AFTER`].
pub struct Bar {
    bar: ProgressBar,
    enabled: bool,
    shown: AtomicBool,
    started: Mutex<Instant>,
}

impl Bar {
    /// A bar that shows unless `quiet` or stderr is not a terminal.
    pub fn new(quiet: bool) -> Self {
        Self::with(!quiet && std::io::stderr().is_terminal())
    }

    /// A bar that shows (after [`SHOW_AFTER`]) only when `enabled`.
    pub fn with(enabled: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>12} [{bar:32}] {pos}/{len} ({elapsed}, about {eta} left)",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        Bar {
            bar,
            enabled,
            shown: AtomicBool::new(false),
            started: Mutex::new(Instant::now()),
        }
    }

    /// Whether the bar has appeared on stderr.
    pub fn is_shown(&self) -> bool {
        self.shown.load(Ordering::Relaxed)
    }

    fn show_if_due(&self) {
        if !self.enabled || self.is_shown() {
            return;
        }
        let due = self.started.lock().expect("the bar's clock").elapsed() >= SHOW_AFTER;
        if due && !self.shown.swap(true, Ordering::Relaxed) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Removes the bar from the terminal (before the summary is printed).
    pub fn finish(&self) {
        if self.is_shown() {
            self.bar.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        *self.started.lock().expect("the bar's clock") = Instant::now();
        self.bar.reset();
        self.bar.set_length(total);
        self.bar.set_message(what.to_string());
        self.show_if_due();
    }

    fn inc(&self, n: u64) {
        self.bar.inc(n);
        self.show_if_due();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_appears_only_after_a_second_and_only_when_enabled() {
        let quick = Bar::with(true);
        quick.start("cells", 10);
        quick.inc(10);
        assert!(!quick.is_shown(), "work under a second shows no bar");
        let off = Bar::with(false);
        off.start("cells", 10);
        *off.started.lock().unwrap() -= SHOW_AFTER;
        off.inc(1);
        assert!(!off.is_shown(), "a disabled bar never shows");
        let slow = Bar::with(true);
        slow.start("cells", 10);
        *slow.started.lock().unwrap() -= SHOW_AFTER;
        slow.inc(1);
        assert!(slow.is_shown());
        slow.finish();
    }
}
