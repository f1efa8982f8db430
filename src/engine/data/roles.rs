//! Column roles: what each column is for, guessed from names and values, always overridable.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// What a column is for in a segmentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColumnRole {
    /// Identifies a customer; one row per customer in a customer table.
    CustomerId,
    /// A numeric feature.
    Numeric,
    /// A categorical feature (one-hot encoded when used).
    Categorical,
    /// A date (transaction date, signup date, ...).
    Date,
    /// A money amount (transaction value, revenue); numeric.
    Amount,
    /// Personal or protected data: never a feature unless the user explicitly overrides, recorded.
    Sensitive,
    /// Not used.
    Ignored,
}

impl ColumnRole {
    /// Whether a column with this role can be a feature without an override.
    pub fn is_feature_candidate(self) -> bool {
        matches!(self, ColumnRole::Numeric | ColumnRole::Amount | ColumnRole::Categorical)
    }
}

/// A guessed role and why it was guessed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleGuess {
    /// The column.
    pub column: String,
    /// The role.
    pub role: ColumnRole,
    /// One short reason, shown next to the guess.
    pub reason: String,
}

/// Name fragments of personal or protected attributes.
const SENSITIVE_NAME_PARTS: &[&str] = &[
    "email",
    "e_mail",
    "phone",
    "mobile",
    "first_name",
    "last_name",
    "full_name",
    "surname",
    "firstname",
    "lastname",
    "address",
    "street",
    "postcode",
    "postal",
    "zip",
    "ssn",
    "social_security",
    "passport",
    "birth",
    "dob",
    "gender",
    "sex",
    "race",
    "ethnic",
    "religion",
    "nationality",
    "ip_address",
    "iban",
    "card_number",
    "credit_card",
    "health",
    "disability",
    "marital",
];

const AMOUNT_NAME_PARTS: &[&str] =
    &["amount", "value", "price", "revenue", "spend", "sales", "total", "dollar", "paid", "cost", "monetary"];

fn normalised(name: &str) -> String {
    name.to_ascii_lowercase().replace([' ', '-', '.'], "_")
}

/// A name as the id rules read it: trimmed, lower case, separators as `_`.
fn id_key(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace([' ', '-', '.', ':'], "_")
}

/// The words of a name, split at its separators.
fn id_tokens(name: &str) -> Vec<String> {
    id_key(name).split('_').filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// Whether "id" is glued to a word as an identifier ("CustomerID", "userId", "custid"), not the end
/// of a word ("afraid", "paid", "humid").
pub fn ends_in_glued_id(name: &str) -> bool {
    let trimmed = name.trim();
    let camel = trimmed.len() > 2
        && (trimmed.ends_with("ID") || trimmed.ends_with("Id"))
        && trimmed[..trimmed.len() - 2].chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    let n = id_key(name);
    let prefixes = ["customer", "cust", "user", "client", "member", "account", "person", "row", "u", "p", "c", "guest"];
    camel || prefixes.iter().any(|p| n.strip_suffix("id") == Some(p))
}

/// Whether a name reads like an identifier (`id`, `customer_id`, `CustomerID`, `account_no`, `key`).
pub fn name_is_id_like(name: &str) -> bool {
    let n = id_key(name);
    let t = id_tokens(name);
    let last = t.last().map(String::as_str).unwrap_or("");
    matches!(last, "id" | "key" | "code" | "no" | "nr" | "uuid" | "guid" | "ref")
        || ends_in_glued_id(name)
        || n.ends_with("number") && t.len() <= 2 && !n.starts_with("number")
}

/// Whether a column name suggests personal or protected data.
pub fn name_is_sensitive(name: &str) -> bool {
    let n = normalised(name);
    n == "name" || n == "age" || SENSITIVE_NAME_PARTS.iter().any(|p| n.contains(p))
}

fn name_is_id(name: &str) -> bool {
    let n = normalised(name);
    // A glued "id" ("CustomerID"), never the end of a word ("afraid", "paid").
    n == "id" || n.ends_with("_id") || ends_in_glued_id(name)
        // "customer_type" or "customer_segment" describe a customer, they do not identify one.
        || n == "customer"
        || n.contains("customer") && name_is_id_like(name)
}

/// Guesses a role for every column.
pub fn guess_roles(frame: &DataFrame) -> Vec<RoleGuess> {
    let n_rows = frame.height().max(1);
    let mut id_taken = false;
    frame
        .columns()
        .iter()
        .map(|column| {
            let name = column.name().to_string();
            let dtype = column.dtype();
            let n_distinct = column.n_unique().unwrap_or(0);
            let guess = |role, reason: &str| RoleGuess { column: name.clone(), role, reason: reason.to_string() };
            if name_is_sensitive(&name) {
                return guess(ColumnRole::Sensitive, "name suggests personal or protected data");
            }
            if dtype.is_string() && looks_like_emails(column) {
                return guess(ColumnRole::Sensitive, "values look like e-mail addresses");
            }
            if !id_taken && name_is_id(&name) && (dtype.is_integer() || dtype.is_string()) {
                id_taken = true;
                return guess(ColumnRole::CustomerId, "name suggests an identifier");
            }
            if matches!(dtype, DataType::Date | DataType::Datetime(_, _)) {
                return guess(ColumnRole::Date, "values are dates");
            }
            if dtype.is_primitive_numeric() {
                let n = normalised(&name);
                if AMOUNT_NAME_PARTS.iter().any(|p| n.contains(p)) && dtype.is_float() {
                    return guess(ColumnRole::Amount, "numeric, and the name suggests money");
                }
                return guess(ColumnRole::Numeric, "numeric values");
            }
            if dtype.is_string() {
                if n_distinct <= 50.max(n_rows / 20) {
                    return guess(ColumnRole::Categorical, "text with few distinct values");
                }
                if !id_taken && n_distinct * 10 >= n_rows * 9 {
                    id_taken = true;
                    return guess(ColumnRole::CustomerId, "text that is (nearly) unique per row");
                }
                return guess(ColumnRole::Ignored, "free text with many distinct values");
            }
            guess(ColumnRole::Ignored, "type not usable as a feature")
        })
        .collect()
}

fn looks_like_emails(column: &Column) -> bool {
    let Ok(values) = column.str() else { return false };
    let mut seen = 0;
    let mut emails = 0;
    for value in values.iter().flatten().take(200) {
        seen += 1;
        if value.contains('@') && value.contains('.') && !value.contains(' ') {
            emails += 1;
        }
    }
    seen > 0 && emails * 2 > seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_the_usual_roles() {
        let frame = df!(
            "customer_id" => ["a", "b", "c"],
            "email" => ["x@y.com", "z@w.org", "q@r.net"],
            "visits" => [1i64, 2, 3],
            "spend_total" => [1.5, 2.5, 3.5],
            "region" => ["N", "S", "N"],
        )
        .unwrap();
        let roles: Vec<ColumnRole> = guess_roles(&frame).into_iter().map(|g| g.role).collect();
        assert_eq!(
            roles,
            vec![
                ColumnRole::CustomerId,
                ColumnRole::Sensitive,
                ColumnRole::Numeric,
                ColumnRole::Amount,
                ColumnRole::Categorical
            ]
        );
    }

    #[test]
    fn email_values_are_sensitive_whatever_the_name() {
        let frame = df!("contact" => ["x@y.com", "z@w.org"]).unwrap();
        assert_eq!(guess_roles(&frame)[0].role, ColumnRole::Sensitive);
    }
}
