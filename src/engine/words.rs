//! Counted nouns, the one place that decides "1 customer" or "2 customers".

/// `n` and the noun, singular for exactly one: `count(1, "customer")` is "1 customer",
/// `count(23570, "customer")` is "23,570 customers" (thousands separated).
pub fn count(n: usize, singular: &str) -> String {
    format!("{} {}", thousands(n), noun(n, singular))
}

/// The noun alone, singular for exactly one and regular English plural otherwise ("customer" ->
/// "customers", "match" -> "matches", "category" -> "categories"); irregular words are listed.
pub fn noun(n: usize, singular: &str) -> String {
    if n == 1 {
        return singular.to_string();
    }
    match singular {
        "was" => return "were".to_string(),
        "is" => return "are".to_string(),
        "has" => return "have".to_string(),
        "this" => return "these".to_string(),
        "its" => return "their".to_string(),
        _ => {}
    }
    let vowel_before_y = singular.len() >= 2
        && singular.ends_with('y')
        && singular[..singular.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if singular.ends_with('y') && !vowel_before_y {
        format!("{}ies", &singular[..singular.len() - 1])
    } else if singular.ends_with(['s', 'x', 'z']) || singular.ends_with("ch") || singular.ends_with("sh") {
        format!("{singular}es")
    } else {
        format!("{singular}s")
    }
}

/// A count with thousands separators: 23570 is "23,570".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount rounded to a whole number with thousands separators ("52,310", "-1,204"); "-" for a
/// value that is not finite.
pub fn thousands_f64(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_string();
    }
    let rounded = v.round();
    let sign = if rounded < 0.0 { "-" } else { "" };
    // Amounts past what usize holds are shown plainly rather than wrapped.
    if rounded.abs() >= 1e18 {
        return format!("{rounded:.0}");
    }
    format!("{sign}{}", thousands(rounded.abs() as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1, "customer"), "1 customer");
        assert_eq!(count(0, "customer"), "0 customers");
        assert_eq!(count(2, "customer"), "2 customers");
        assert_eq!(count(23_570, "customer"), "23,570 customers");
        assert_eq!(count(1, "segment"), "1 segment");
        assert_eq!(count(3, "match"), "3 matches");
        assert_eq!(count(2, "category"), "2 categories");
        assert_eq!(count(2, "key"), "2 keys");
        assert_eq!(count(4, "row"), "4 rows");
        assert_eq!(noun(2, "was"), "were");
        assert_eq!(noun(1, "was"), "was");
    }

    #[test]
    fn amounts_round_to_whole_numbers_with_separators() {
        assert_eq!(thousands_f64(52_310.4), "52,310");
        assert_eq!(thousands_f64(-1_204.6), "-1,205");
        assert_eq!(thousands_f64(-0.2), "0");
        assert_eq!(thousands_f64(f64::NAN), "-");
        assert_eq!(thousands_f64(f64::INFINITY), "-");
        assert_eq!(thousands_f64(3e20), "300000000000000000000");
    }
}
