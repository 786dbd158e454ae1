//! The regime of a run in words, for the page.

use super::Regime;

/// `x` to three significant figures, without trailing zeros (54.242 → "54.2", 3 → "3").
fn three_figures(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// With momentum β or weight decay λ_wd (`optimizer` = (β, λ_wd, the bound in slider
/// units)), a sentence on how they move the stability bound; empty for plain gradient descent.
fn bound_note((beta, wd, bound): (f64, f64, f64)) -> String {
    let value = three_figures(bound);
    match (beta > 0.0, wd > 0.0) {
        (false, false) => String::new(),
        (true, false) => format!(
            "With momentum β = {beta} the stability bound is 2(1+β)n/λ_max(Θ₀) = {}n/λ_max(Θ₀) = {value}. ",
            three_figures(2.0 * (1.0 + beta))
        ),
        (false, true) => format!(
            "Weight decay λ_wd = {wd} adds λ_wd to every curvature, so the stability bound is \
             2/(λ_max(Θ₀)/n + λ_wd) = {value}. "
        ),
        (true, true) => format!(
            "With momentum β = {beta} and weight decay λ_wd = {wd} (which adds λ_wd to every curvature) \
             the stability bound is 2(1+β)/(λ_max(Θ₀)/n + λ_wd) = {value}. "
        ),
    }
}

pub(super) fn explain(
    regime: Regime,
    settled: bool,
    m: f64,
    cat: f64,
    peak_ratio: f64,
    diverged: Option<u64>,
    optimizer: (f64, f64, f64),
) -> String {
    let note = bound_note(optimizer);
    let sentence = sentence(regime, settled, m, cat, peak_ratio, diverged);
    if note.is_empty() {
        sentence
    } else {
        // The bound named in the sentence is the one the note gives.
        let sentence = sentence.replace("the stability bound 2n/λ_max(Θ₀)", "this bound");
        let (beta, _, _) = optimizer;
        if beta > 0.0 {
            note + &sentence.replace("below 2n/η", "below 2(1+β)n/η")
        } else {
            note + &sentence
        }
    }
}

fn sentence(
    regime: Regime,
    settled: bool,
    m: f64,
    cat: f64,
    peak_ratio: f64,
    diverged: Option<u64>,
) -> String {
    match (regime, settled) {
        (Regime::Stable, _) => format!(
            "η is {m:.2}× the stability bound 2n/λ_max(Θ₀): every mode of the linearised model shrinks at each step, \
             so the network trains like its linearisation."
        ),
        (Regime::Catapult, true) => format!(
            "η is {m:.2}× the stability bound, so the linearised model diverges; the network instead catapulted: its loss \
             rose to {}× the start while its NTK's top eigenvalue fell below 2n/η, and it converged to a flatter point.",
            three_figures(peak_ratio)
        ),
        (Regime::Catapult, false) => format!(
            "η is {m:.2}× the stability bound, between it and the catapult bound (about {cat:.1}×): the linearised model \
             diverges, while the network's loss should spike until its NTK's top eigenvalue falls below 2n/η, then converge."
        ),
        (Regime::Divergent, true) => format!(
            "η is {m:.2}× the stability bound and the loss grew without limit (step {}): beyond the catapult bound \
             (about {cat:.1}×) the network cannot flatten itself fast enough.",
            diverged.unwrap_or(0)
        ),
        (Regime::Divergent, false) | (Regime::Unsettled, _) => format!(
            "η is {m:.2}× the stability bound, beyond the catapult bound (about {cat:.1}×): expect the loss to grow without limit."
        ),
    }
}

#[cfg(test)]
mod format_tests {
    use super::three_figures;

    #[test]
    fn three_significant_figures() {
        assert_eq!(three_figures(54.242), "54.2");
        assert_eq!(three_figures(143.4), "143");
        assert_eq!(three_figures(3.0), "3");
        assert_eq!(three_figures(1.96), "1.96");
        assert_eq!(three_figures(0.012345), "0.0123");
    }
}
