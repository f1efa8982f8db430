//! A small seeded random number generator whose stream is fixed forever.
//!
//! Project files store an assignment fingerprint that a re-run must reproduce, so the stream of random
//! numbers behind a seed must not change when a dependency is upgraded. `rand`'s generators have
//! changed their streams across major versions; xoshiro256** seeded by SplitMix64 is specified on
//! paper and is written out here in a few lines.

/// xoshiro256** seeded through SplitMix64 (Blackman and Vigna).
#[derive(Clone, Debug)]
pub struct SeededRng {
    state: [u64; 4],
}

impl SeededRng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self { state: [next(), next(), next(), next()] }
    }

    /// A generator for the `stream`-th independent task derived from `seed` (one per k, per init, ...).
    pub fn derived(seed: u64, stream: u64) -> Self {
        Self::new(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03).rotate_left(17))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform float in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in [0, n); `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        // Lemire's multiply-shift; the tiny bias for n near 2^64 does not matter at our sizes.
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// `m` distinct indices from `0..n`, in increasing order (Floyd's algorithm).
    pub fn sample_indices(&mut self, n: usize, m: usize) -> Vec<usize> {
        let m = m.min(n);
        let mut chosen = std::collections::BTreeSet::new();
        for j in (n - m)..n {
            let t = self.below(j + 1);
            if !chosen.insert(t) {
                chosen.insert(j);
            }
        }
        chosen.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_fixed_for_a_seed() {
        // xoshiro256** seeded by SplitMix64 from seed 0, computed independently (a few lines of
        // Python following Vigna's reference code). If these change, every stored assignment
        // fingerprint stops reproducing.
        let mut rng = SeededRng::new(0);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(first, vec![0x99ec_5f36_cb75_f2b4, 0xbf6e_1f78_4956_452a, 0x1a5f_849d_4933_e6e0]);
        assert_ne!(SeededRng::new(1).next_u64(), first[0]);
    }

    #[test]
    fn sample_indices_are_distinct_sorted_and_in_range() {
        let mut rng = SeededRng::new(7);
        let s = rng.sample_indices(100, 30);
        assert_eq!(s.len(), 30);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert!(s.iter().all(|&i| i < 100));
        assert_eq!(rng.sample_indices(5, 10), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn uniform_floats_stay_in_unit_interval() {
        let mut rng = SeededRng::new(3);
        for _ in 0..10_000 {
            let x = rng.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
