//! `lowrank(rank, bulk)`: the 1-D double well realized on a random bulk keeps its two stable
//! fixed points where the program puts them.

use rnnc::check;
use rnnc::driver;
use rnnc::methods;
use rnnc::progress::Silent;
use rnnc::source::{FsLoader, SourceDb};

fn double_well(
    neurons: usize,
    bulk: f64,
) -> (rnnc::sema::model::Program, rnnc::net::Net, Vec<(f64, bool)>) {
    let src = format!(
        "import std.systems\nnetwork w for DoubleWell {{ method = lowrank(rank = 1, bulk = {bulk})\n neurons = {neurons}\n tau = 100 ms }}\n\
         check w {{\n simulate 5 s from x = 0.2\n expect nrmse < 10%\n expect stable_fixed_points == 2\n}}\n"
    );
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &FsLoader, "t.rnn", &src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let built = methods::build(&a.program, 0).unwrap();
    (a.program, built.net, built.mean_field.unwrap())
}

#[test]
fn the_double_well_survives_a_random_bulk() {
    for (neurons, bulk) in [(300, 0.0), (300, 0.5)] {
        let (p, net, predicted) = double_well(neurons, bulk);
        assert_eq!(net.w_rec.rank(), (bulk == 0.0).then_some(1));
        let report = check::run(&p, &p.checks[0], &net);
        for l in &report.lines {
            eprintln!("bulk {bulk}: {} -> {:?}", l.text, l.value);
            assert_eq!(l.pass, Some(true), "bulk {bulk}: {l:?}");
        }
        // The stable points decode to the wells at -1 and +1 (within 5 %).
        let starts: Vec<Vec<f64>> = (0..21)
            .filter_map(|s| net.encode(&[-1.2 + 0.12 * s as f64]))
            .collect();
        let pts = check::fixed_points::find(&net, &[], &starts, 1, 1e-3, 1, &Silent).unwrap();
        let mut wells: Vec<f64> = pts.iter().filter(|p| p.stable).map(|p| p.z[0]).collect();
        wells.sort_by(f64::total_cmp);
        eprintln!("bulk {bulk}: stable points {wells:?}");
        assert_eq!(wells.len(), 2, "{pts:?}");
        assert!(
            (wells[0] + 1.0).abs() < 0.05 && (wells[1] - 1.0).abs() < 0.05,
            "{wells:?}"
        );
        // The mean-field prediction: two stable points and a saddle. Without a bulk it is the
        // network's own rank-one equation and agrees to 1e-4; with bulk 0.5 the Gaussian
        // field of self-consistent variance stands in for the quenched bulk, and it agrees
        // within issue 5's 5 % because the loadings are fitted on its rates as well as on the
        // forced states (on the forced states alone it predicted +-0.79).
        eprintln!("bulk {bulk}: mean field {predicted:?}");
        let mut mf: Vec<f64> = predicted.iter().filter(|p| p.1).map(|p| p.0).collect();
        mf.sort_by(f64::total_cmp);
        assert_eq!(mf.len(), 2, "{predicted:?}");
        assert_eq!(
            predicted.iter().filter(|p| !p.1).count(),
            1,
            "{predicted:?}"
        );
        let tol = if bulk == 0.0 { 1e-4 } else { 0.05 };
        for (a, b) in mf.iter().zip(&wells) {
            assert!((a - b).abs() < tol, "mean field {a} vs network {b}");
        }
    }
}
