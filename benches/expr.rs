//! Expression evaluation speed: the Lorenz right-hand side, compiled from the standard library,
//! at 10^6 points (issue 2's bar: well under 0.1 s in release). `cargo bench --bench expr`.

use rnnc::driver;
use rnnc::flat::system_rhs;
use rnnc::sema::Target;
use rnnc::source::{MemLoader, SourceDb};
use std::time::Instant;

fn main() {
    let mut db = SourceDb::new();
    let src = "import std.systems\nnetwork n for Lorenz { neurons = 10 }";
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "bench.rnn", src);
    let n = a.program.network("n").expect("network");
    let Target::System(inst) = &n.target else {
        unreachable!()
    };
    let code = system_rhs(&a.program.systems[inst.system], inst).expect("compiles");
    let points = 1_000_000usize;
    // Deterministic points spread over the Lorenz domain.
    let mut z = vec![0.0; 3 * points];
    let mut s: u64 = 0x9E3779B97F4A7C15;
    for v in z.iter_mut() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        *v = (s >> 11) as f64 / (1u64 << 53) as f64 * 60.0 - 30.0;
    }
    let mut regs = code.scratch();
    let mut out = [0.0; 3];
    let mut best = f64::INFINITY;
    let mut checksum = 0.0;
    for _ in 0..5 {
        let t0 = Instant::now();
        for p in z.chunks_exact(3) {
            code.eval(p, &mut regs, &mut out);
            checksum += out[0] + out[1] + out[2];
        }
        best = best.min(t0.elapsed().as_secs_f64());
    }
    // The same arithmetic written by hand, for the ratio.
    let mut hand = f64::INFINITY;
    let mut check2 = 0.0;
    for _ in 0..5 {
        let t0 = Instant::now();
        for p in z.chunks_exact(3) {
            let (x, y, w) = (p[0], p[1], p[2]);
            let o = [10.0 * (y - x), x * (28.0 - w) - y, x * y - 8.0 / 3.0 * w];
            check2 += std::hint::black_box(o[0] + o[1] + o[2]);
        }
        hand = hand.min(t0.elapsed().as_secs_f64());
    }
    println!(
        "lorenz rhs, {points} points: {:.1} ms ({:.1} ns/point, {} ops); hand-written Rust {:.1} ms; ratio {:.1}x  [checksums {:.3e} {:.3e}]",
        best * 1e3,
        best * 1e9 / points as f64,
        code.n_ops(),
        hand * 1e3,
        best / hand,
        checksum / 5.0,
        check2 / 5.0
    );
}
