//! Warnings as a person reads them: repeats of one kind (the same sentence about another column,
//! row or value) are counted and shown with a few examples, not printed once each.

/// A count with its noun in the right form: "1 value", "3 values".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// Warnings of one kind beyond which they are counted rather than listed.
pub const LISTED_PER_KIND: usize = 3;

/// The warnings in their order, each kind with more than [`LISTED_PER_KIND`] members folded into
/// one line at the place of its first: its count and its first examples.
pub fn summarise(warnings: &[String]) -> Vec<String> {
    let mut kinds: Vec<Vec<&str>> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for warning in warnings {
        let kind = *index.entry(shape(warning)).or_insert_with(|| {
            kinds.push(Vec::new());
            kinds.len() - 1
        });
        kinds[kind].push(warning.as_str());
    }
    let mut out = Vec::with_capacity(kinds.len());
    for members in kinds {
        if members.len() <= LISTED_PER_KIND {
            out.extend(members.iter().map(|m| m.to_string()));
        } else if members.iter().all(|m| *m == members[0]) {
            out.push(format!("{} ({} times)", members[0], members.len()));
        } else {
            let examples: Vec<&str> = members.iter().take(LISTED_PER_KIND).copied().collect();
            out.push(format!("{} warnings of one kind, for example: {}", members.len(), examples.join(" | ")));
        }
    }
    out
}

/// A warning with what varies between warnings of one kind (quoted values, numbers) blanked.
fn shape(warning: &str) -> String {
    let mut out = String::with_capacity(warning.len().min(400));
    let mut in_quote = false;
    let mut previous_digit = false;
    for c in warning.chars() {
        if c == '\'' {
            in_quote = !in_quote;
            out.push(c);
        } else if in_quote {
            continue;
        } else if c.is_ascii_digit() {
            if !previous_digit {
                out.push('#');
            }
        } else {
            out.push(c);
        }
        previous_digit = c.is_ascii_digit();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_warnings_pass_through_and_many_of_one_kind_are_counted() {
        let few = vec!["column 'a' is all missing".to_string(), "12 rows dropped".to_string()];
        assert_eq!(summarise(&few), few);
        let mut many: Vec<String> = (0..300).map(|i| format!("column 'c{i}' is all missing; excluded")).collect();
        many.insert(1, "3 rows dropped".to_string());
        let out = summarise(&many);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].starts_with("300 warnings of one kind, for example: column 'c0' is all missing"), "{}", out[0]);
        assert_eq!(out[1], "3 rows dropped");
        let same: Vec<String> = (0..5).map(|_| "the same".to_string()).collect();
        assert_eq!(summarise(&same), vec!["the same (5 times)".to_string()]);
    }
}
