//! The bias audit in words: p-values, shares, yes/no signals and counts as the CLI's table and the
//! Review screen show them, and the rules the audit applies.

/// A p-value in words a table can hold: "< 0.001" when tiny, else three decimals.
pub fn p_text(p: f64) -> String {
    if p < 0.001 { "< 0.001".to_string() } else { format!("{p:.3}") }
}

/// The rules the audit applies, in plain words, for the CLI's and the window's explanation.
pub const EXPLANATION: &str = "Each segment is compared with the rest. A group's rate is the share of the group's \
customers who are in the segment; its ratio is that rate over the highest group's rate. A ratio under 0.8 fails \
the four-fifths rule (29 CFR 1607.4(D)), the usual screen for adverse impact. The chi-square test says whether \
the rates differ more than chance would make them (p under 0.05: significant), and Cramer's V how much (0: \
not at all, 1: completely); with two groups and an expected count under 5, Fisher's exact test gives the p-value. \
A group is flagged where its ratio is under 0.8 and the test is significant; either signal alone is shown too. \
The proxy check measures how strongly each feature goes with the column (eta for numbers, Cramer's V for \
categories; 0.3 or more is worth a look): a feature can carry a protected attribute into the segments without \
naming it. Counts under the small-cell threshold are hidden, and so is everything computed from them.";

/// A share as a percentage, "-" when not shown (the CLI's table and the Review screen's).
pub fn percent_text(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{:.1}%", 100.0 * x))
}

/// A signal as yes, no or "-" when it could not be judged.
pub fn yes_no(x: Option<bool>) -> &'static str {
    match x {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

/// A count as shown: with thousands separators, or "<10" / "hidden".
pub fn cell_text(cell: crate::engine::governance::suppress::Cell, threshold: usize) -> String {
    match cell {
        crate::engine::governance::suppress::Cell::Count(n) => crate::engine::words::thousands(n),
        other => other.text(threshold),
    }
}
