//! One line of a project's audit log, as the project file holds it. Chaining, verifying and the
//! words of each entry are the governance module's ([`crate::engine::governance::audit`]).

use serde::{Deserialize, Serialize};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the project's audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When, RFC 3339 in UTC.
    pub when: String,
    /// Who (the name set in the window or given with `--actor`, else the login name).
    pub who: String,
    /// What changed, in words.
    pub what: String,
    /// Why, as the user gave it.
    pub why: String,
    /// Customers whose segment the change moved (`None` when it could not be counted: no run yet).
    pub customers: Option<usize>,
    /// Its place in the log, from 1 (format 9; 0 until the entry is sealed by a save).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: usize,
    /// The kind of change: `rename`, `rule.add`, `override`, `k`, `method`, `recipe`, `source`,
    /// `export`, `signoff`, `threshold`, ... (format 9).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// What it changed: a segment's name, a rule, a file (format 9).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub object: String,
    /// A summary of before, never raw customer values (format 9).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub before: String,
    /// A summary of after (format 9).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub after: String,
    /// Digest of what the segmentation is after this entry ([`state_digest`](crate::engine::governance::audit::state_digest)), set when sealed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// The hash of the entry before (the genesis hash for the first), set when sealed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prev: String,
    /// This entry's hash, over every field above, set when sealed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl AuditEntry {
    /// A new entry, not sealed yet, stamped now.
    pub fn new(who: &str, action: &str, object: &str, what: &str) -> Self {
        Self {
            when: now(),
            who: who.to_string(),
            what: what.to_string(),
            action: action.to_string(),
            object: object.to_string(),
            ..Self::default()
        }
    }

    /// With a before and after summary.
    pub fn change(mut self, before: impl Into<String>, after: impl Into<String>) -> Self {
        self.before = before.into();
        self.after = after.into();
        self
    }

    /// With the user's reason.
    pub fn because(mut self, why: &str) -> Self {
        self.why = why.to_string();
        self
    }

    /// Whether a save has chained it.
    pub fn is_sealed(&self) -> bool {
        !self.hash.is_empty()
    }

    /// The hash of every field but the hash itself.
    pub fn compute_hash(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"strata audit entry v1\n");
        let customers = self.customers.map(|c| c.to_string()).unwrap_or_else(|| "-".to_string());
        let seq = self.seq.to_string();
        for field in [
            &seq,
            &self.when,
            &self.who,
            &self.action,
            &self.object,
            &self.before,
            &self.after,
            &self.what,
            &self.why,
            &customers,
            &self.state,
            &self.prev,
        ] {
            // Length-prefixed, so no two different entries hash the same text.
            hasher.update(&(field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }
}

/// Now, RFC 3339 in UTC, to the second.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The login name, for entries made without a name given.
pub fn login_name() -> String {
    ["STRATA_USER", "USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}
