//! Results of pure computations kept by the content they were computed from, so that an edit that
//! leaves a column or a matrix as it was (a new k, a rule) does not sort or project it again.
//!
//! A key is a hash of every input bit ([`values_key`]), so a kept result is exactly what computing
//! it again would give: the memo changes how long a summary takes, never what it says. Each memo
//! holds a bounded number of values (their weight, roughly the elements behind them) and forgets the
//! oldest first.

use std::sync::{Arc, Mutex, PoisonError};

/// A content key: the hash of a computation's inputs.
pub type Key = blake3::Hash;

/// Hashes `values` bit for bit (so -0.0 and 0.0, and every NaN payload, are told apart) after `salt`,
/// which names the computation and its settings.
pub fn values_key(salt: &[u8], values: &[f64]) -> Key {
    let mut hasher = blake3::Hasher::new();
    hasher.update(salt);
    hasher.update(&(values.len() as u64).to_le_bytes());
    let mut buffer = [0u8; 8 * 1024];
    for chunk in values.chunks(1024) {
        for (bytes, v) in buffer.chunks_exact_mut(8).zip(chunk) {
            bytes.copy_from_slice(&v.to_bits().to_le_bytes());
        }
        hasher.update(&buffer[..chunk.len() * 8]);
    }
    hasher.finalize()
}

/// Kept results of one computation, at most `capacity` in weight.
pub struct Memo<T> {
    entries: Mutex<Vec<(Key, usize, Arc<T>)>>,
    capacity: usize,
}

impl<T> Memo<T> {
    /// An empty memo holding at most `capacity` in weight.
    pub const fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(Vec::new()), capacity }
    }

    /// The kept result for `key`, or `compute()`'s, kept with `weight` (computed outside the lock: two
    /// threads asking at once may both compute it, and get equal results).
    pub fn get_or_compute(&self, key: Key, weight: usize, compute: impl FnOnce() -> T) -> Arc<T> {
        if let Some(found) = self.lock().iter().find(|(k, _, _)| *k == key) {
            return Arc::clone(&found.2);
        }
        let value = Arc::new(compute());
        if weight <= self.capacity {
            let mut entries = self.lock();
            if !entries.iter().any(|(k, _, _)| *k == key) {
                entries.push((key, weight, Arc::clone(&value)));
                let mut total: usize = entries.iter().map(|e| e.1).sum();
                while total > self.capacity && !entries.is_empty() {
                    total -= entries.remove(0).1;
                }
            }
        }
        value
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Key, usize, Arc<T>)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many results are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_kept_by_its_inputs_bits_and_the_oldest_goes_first() {
        let memo: Memo<f64> = Memo::new(10);
        let mut calls = 0;
        let mut sum = |values: &[f64]| {
            *memo.get_or_compute(values_key(b"sum", values), values.len(), || {
                calls += 1;
                values.iter().sum()
            })
        };
        assert_eq!(sum(&[1.0, 2.0]), 3.0);
        assert_eq!(sum(&[1.0, 2.0]), 3.0);
        assert_eq!(sum(&[0.0, 1.0, 2.0]), 3.0);
        assert_eq!(sum(&[-0.0, 1.0, 2.0]), 3.0);
        assert_eq!(calls, 3, "-0.0 is not 0.0, and the same values are not computed twice");
        assert_ne!(values_key(b"a", &[1.0]), values_key(b"b", &[1.0]));
        assert_ne!(values_key(b"", &[]), values_key(b"", &[0.0]));
        // Weight 10 in all: a fourth result of weight 5 pushes out the oldest.
        let memo: Memo<usize> = Memo::new(10);
        for i in 0..4 {
            memo.get_or_compute(values_key(b"n", &[i as f64]), 4, || i);
        }
        assert_eq!(memo.len(), 2);
        let mut recomputed = false;
        memo.get_or_compute(values_key(b"n", &[0.0]), 4, || {
            recomputed = true;
            0
        });
        assert!(recomputed, "the oldest was forgotten");
        // Heavier than the whole memo: computed, never kept.
        memo.get_or_compute(values_key(b"n", &[9.0]), 11, || 9);
        assert!(!memo.is_empty() && memo.len() <= 2);
    }
}
