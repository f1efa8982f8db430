//! Small-cell suppression (filled in by the suppression work of issue 20).
