//! Governance: what lets a reviewer trust a shared project (format 9).
//!
//! - [`suppress`]: small cells. Every aggregate Strata shows or exports shows a count under the
//!   project's threshold as "<10" and hides the complementary cells, so that the hidden count
//!   cannot be recovered from totals.
//! - [`audit`]: the tamper-evident audit log, a hash chain whose head is written into every export
//!   and sign-off.
//! - [`bias`]: the bias audit, segments against protected groups (the four-fifths rule, chi-square
//!   and Fisher's exact tests, the proxy check), its counts suppressed as above.
//! - The review: comments pinned to what they are about, sign-offs, disputed segments with the
//!   overrides they lead to, and opt-outs stored by hashed id.

pub mod audit;
pub mod bias;
pub mod pack;
pub mod review;
pub mod suppress;

use serde::{Deserialize, Serialize};

/// The small-cell threshold a project has unless its author sets another (CMS: counts of 1 to 10
/// are not published; here counts from 1 to `threshold - 1`).
pub const DEFAULT_SMALL_CELLS: usize = 10;

/// What happens when someone exports or scores with a version no reviewer approved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnsignedPolicy {
    /// Export without a word.
    Allow,
    /// Export, saying that no reviewer approved this version.
    #[default]
    Warn,
    /// Refuse until a reviewer approves this version.
    Block,
}

/// What a comment is pinned to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pin {
    /// The project as a whole.
    Project,
    /// A segment, by name.
    Segment(String),
    /// A chart, by its name (`elbow`, `silhouette`, ...).
    Chart(String),
    /// A business rule, by its text.
    Rule(String),
    /// A SWOT item, by its title.
    SwotItem(String),
}

/// A reviewer's comment, or a reply to one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Its number, from 1, unique in the project.
    pub id: usize,
    /// What it is about.
    pub pin: Pin,
    /// Who wrote it.
    pub author: String,
    /// When, RFC 3339 in UTC.
    pub when: String,
    /// The words.
    pub text: String,
    /// The comment it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<usize>,
}

/// A reviewer's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Approved as it is.
    Approve,
    /// Sent back.
    RequestChanges,
}

/// A sign-off: who decided what about which version, chained into the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    /// The reviewer.
    pub reviewer: String,
    /// Their role ("Data protection officer").
    pub role: String,
    /// Approve or request changes.
    pub decision: Decision,
    /// Why.
    pub comment: String,
    /// When, RFC 3339 in UTC.
    pub when: String,
    /// The hash of the version signed (see [`audit::version_hash`]).
    pub version_hash: String,
    /// The audit log's head hash and length when signed.
    pub audit_head: String,
    /// Entries in the audit log when signed (the sign-off's own entry included).
    pub audit_count: usize,
}

/// Where a dispute stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DisputeStatus {
    /// Waiting for an approver.
    Pending,
    /// Approved: the override applies.
    Approved,
    /// Rejected: the customer stays where the segmentation put them.
    Rejected,
}

/// A customer's segment questioned, and the override it asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    /// Its number, from 1.
    pub id: usize,
    /// The customer's id.
    pub customer: String,
    /// The segment asked for, by name.
    pub segment: String,
    /// Who asked.
    pub requester: String,
    /// Why.
    pub reason: String,
    /// When asked, RFC 3339 in UTC.
    pub when: String,
    /// Where it stands.
    pub status: DisputeStatus,
    /// Who approved or rejected it (never the requester).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// When decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_when: Option<String>,
    /// The approver's or rejecter's words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub decision_note: String,
}

/// Customers taken out of targeting: they keep their segment for reporting, are marked
/// `opted_out` in every export and left out of target lists. Stored by keyed hash, never in clear.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOuts {
    /// The key of the hash, made once per project.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub salt: String,
    /// Each opted-out customer's id, hashed (hex).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashed_ids: Vec<String>,
}

impl OptOuts {
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.hashed_ids.is_empty()
    }

    /// The hash an id is stored under.
    pub fn hash(&self, id: &str) -> String {
        let key = blake3::hash(format!("strata opt-out key {}", self.salt).as_bytes());
        blake3::keyed_hash(key.as_bytes(), id.trim().as_bytes()).to_hex().to_string()
    }

    /// Whether a customer opted out.
    pub fn contains(&self, id: &str) -> bool {
        !self.hashed_ids.is_empty() && self.hashed_ids.binary_search(&self.hash(id)).is_ok()
    }

    /// Adds customers; returns how many were new. The salt is made on first use.
    pub fn add<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        if self.salt.is_empty() {
            let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
            self.salt = blake3::hash(seed.as_bytes()).to_hex()[..32].to_string();
        }
        let before = self.hashed_ids.len();
        let hashes: Vec<String> = ids.into_iter().filter(|id| !id.trim().is_empty()).map(|id| self.hash(id)).collect();
        self.hashed_ids.extend(hashes);
        self.hashed_ids.sort();
        self.hashed_ids.dedup();
        self.hashed_ids.len() - before
    }

    /// Removes customers; returns how many were there.
    pub fn remove<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        let before = self.hashed_ids.len();
        let gone: std::collections::HashSet<String> = ids.into_iter().map(|id| self.hash(id)).collect();
        self.hashed_ids.retain(|h| !gone.contains(h));
        before - self.hashed_ids.len()
    }
}

fn default_small_cells() -> usize {
    DEFAULT_SMALL_CELLS
}

fn is_default_small_cells(n: &usize) -> bool {
    *n == DEFAULT_SMALL_CELLS
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A project's governance settings and review (format 9; every key written only when used).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governance {
    /// Counts from 1 to `small_cells - 1` are shown as "<N" (1 turns suppression off).
    #[serde(default = "default_small_cells", skip_serializing_if = "is_default_small_cells")]
    pub small_cells: usize,
    /// Exporting or scoring with a version no reviewer approved.
    #[serde(default, skip_serializing_if = "is_default")]
    pub unsigned: UnsignedPolicy,
    /// Keep loaded columns that nothing uses out of everything Strata stores and exports.
    #[serde(default, skip_serializing_if = "is_default")]
    pub minimise: bool,
    /// Columns the bias audit groups customers by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Comments and replies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<Comment>,
    /// Sign-offs, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signoffs: Vec<SignOff>,
    /// Disputed segments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disputes: Vec<Dispute>,
    /// Opted-out customers.
    #[serde(default, skip_serializing_if = "OptOuts::is_empty")]
    pub opt_outs: OptOuts,
}

impl Default for Governance {
    fn default() -> Self {
        Self {
            small_cells: DEFAULT_SMALL_CELLS,
            unsigned: UnsignedPolicy::default(),
            minimise: false,
            sensitive: Vec::new(),
            comments: Vec::new(),
            signoffs: Vec::new(),
            disputes: Vec::new(),
            opt_outs: OptOuts::default(),
        }
    }
}

impl Governance {
    /// Whether nothing differs from a new project's (nothing to write).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The latest sign-off of the version with hash `version_hash`, if any.
    pub fn signoff_of(&self, version_hash: &str) -> Option<&SignOff> {
        self.signoffs.iter().rev().find(|s| s.version_hash == version_hash)
    }

    /// Whether a reviewer approved the version with hash `version_hash` (its latest decision).
    pub fn approved(&self, version_hash: &str) -> bool {
        self.signoff_of(version_hash).is_some_and(|s| s.decision == Decision::Approve)
    }
}
