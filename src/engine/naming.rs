//! Segment names and notes: what an analyst wrote about a segment, kept by segment number in the
//! project and carried to the customers it belongs to.

use serde::{Deserialize, Serialize};

/// A segment's name and notes, kept by segment number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentNote {
    /// Canonical segment number.
    pub segment: usize,
    /// Business name.
    pub name: String,
    /// Free notes.
    pub notes: String,
    /// Marked low priority: business rules can keep customers out of it (format 4).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub low_priority: bool,
}
