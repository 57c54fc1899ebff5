//! Seeded randomness. Every random choice in rnnc derives from a network's `seed` and a named
//! stream, through a generator whose algorithm is fixed (xoshiro256++), so a build is
//! reproducible across machines and versions of rnnc's dependencies.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

pub struct Rng(Xoshiro256PlusPlus);

impl Rng {
    /// The generator for one purpose (`stream`: "encoders", "eval_points", ...) of `seed`.
    pub fn new(seed: u64, stream: &str) -> Rng {
        // FNV-1a of the stream name, mixed into the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(Xoshiro256PlusPlus::seed_from_u64(seed ^ h.rotate_left(17)))
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// An index in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}
