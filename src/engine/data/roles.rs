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

/// Last words of a name that make whole numbers a code or category (region 1..9, a status number,
/// `store_type`), never a measurement. Postal codes are personal data and caught before.
const CODE_NAME_WORDS: &[&str] = &[
    "code",
    "codes",
    "type",
    "kind",
    "class",
    "category",
    "cat",
    "status",
    "region",
    "zone",
    "district",
    "state",
    "province",
    "county",
    "country",
    "sector",
    "industry",
    "naics",
    "sic",
    "fips",
    "dept",
    "department",
    "group",
    "segment",
    "cluster",
    "channel",
    "brand",
    "store",
    "branch",
    "division",
    "tier",
];

/// Whether a name says its whole numbers are codes: its last word is one of [`CODE_NAME_WORDS`]
/// (`region`, `store_type`, `StatusCode`), or a word of a camel-case name is.
pub fn name_is_code_like(name: &str) -> bool {
    let tokens = id_tokens(&split_camel(name));
    // `segment_number`, `order_no`, `store_nr` number things, they do not measure them; a column
    // named `number` alone may well be a count, so the word counts only after another.
    let numbers_something =
        tokens.len() >= 2 && tokens.last().is_some_and(|l| ["number", "no", "nr"].contains(&l.as_str()));
    numbers_something || tokens.last().is_some_and(|last| CODE_NAME_WORDS.contains(&last.as_str()))
}

/// `StatusCode` -> `Status_Code`, so its words can be read.
fn split_camel(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    out
}

/// Whether a numeric column holds only 0 and 1 (missing values aside): an indicator, whose mean is
/// the share that have it.
pub fn is_zero_one(column: &Column) -> bool {
    if !column.dtype().is_primitive_numeric() {
        return false;
    }
    let Ok(values) = column.as_materialized_series().cast(&DataType::Float64) else { return false };
    let Ok(values) = values.f64() else { return false };
    let (mut zero, mut one) = (false, false);
    for v in values.iter().flatten() {
        if v == 0.0 {
            zero = true;
        } else if v == 1.0 {
            one = true;
        } else {
            return false;
        }
    }
    zero && one
}

/// The reason a 0/1 column gets, wherever it is shown.
pub const ZERO_ONE_REASON: &str = "a 0/1 indicator: its mean is the share of customers that have it";

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
                if is_zero_one(column) {
                    return guess(ColumnRole::Numeric, ZERO_ONE_REASON);
                }
                // Whole numbers under a code's name label groups: averaging region 3 and region 7
                // means nothing, so they are categories (one-hot if ticked as a feature).
                if dtype.is_integer() && name_is_code_like(&name) {
                    return guess(
                        ColumnRole::Categorical,
                        "whole numbers under a code's name: they label groups, they do not measure",
                    );
                }
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

    #[test]
    fn a_name_that_numbers_something_is_a_code_but_number_alone_may_be_a_count() {
        for name in ["segment_number", "OrderNo", "store_nr", "region", "StatusCode"] {
            assert!(name_is_code_like(name), "{name}");
        }
        for name in ["number", "number_of_orders", "no", "frequency", "monetary_total"] {
            assert!(!name_is_code_like(name), "{name}");
        }
    }

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
    fn integer_codes_are_categories_and_zero_one_columns_are_indicators() {
        let frame = df!(
            "region" => [1i64, 5, 9, 3],
            "StoreType" => [2i64, 1, 2, 3],
            "status_code" => [200i64, 404, 200, 500],
            "has_loyalty_card" => [0i64, 1, 1, 0],
            "churned" => [Some(1.0), None, Some(0.0), Some(0.0)],
            "visits" => [0i64, 1, 2, 7],
            "basket_size" => [1.5, 2.0, 3.5, 1.0],
            "area_sq_m" => [50i64, 70, 90, 30],
        )
        .unwrap();
        let guesses = guess_roles(&frame);
        let role = |c: &str| guesses.iter().find(|g| g.column == c).unwrap();
        for code in ["region", "StoreType", "status_code"] {
            assert_eq!(role(code).role, ColumnRole::Categorical, "{code}");
            assert!(role(code).reason.contains("label groups"), "{}", role(code).reason);
        }
        for indicator in ["has_loyalty_card", "churned"] {
            assert_eq!(role(indicator).role, ColumnRole::Numeric);
            assert_eq!(role(indicator).reason, ZERO_ONE_REASON);
        }
        // A count with 0 and 1 among other values, decimals, and a measure whose name merely starts
        // with a code word stay numbers.
        for measure in ["visits", "basket_size", "area_sq_m"] {
            assert_eq!(role(measure).role, ColumnRole::Numeric, "{measure}");
            assert_eq!(role(measure).reason, "numeric values", "{measure}");
        }
        assert!(!is_zero_one(&Column::new("x".into(), [1i64, 1, 1])), "a constant is no indicator");
    }

    #[test]
    fn email_values_are_sensitive_whatever_the_name() {
        let frame = df!("contact" => ["x@y.com", "z@w.org"]).unwrap();
        assert_eq!(guess_roles(&frame)[0].role, ColumnRole::Sensitive);
    }
}
