//! Weight files: what is written reads back exactly; truncated, corrupt or foreign bytes give
//! an error, never a panic.

pub(crate) mod hostile;

use proptest::prelude::*;
use rnnc::driver;
use rnnc::methods;
use rnnc::net::{Net, Recurrent};
use rnnc::npz;
use rnnc::source::{MemLoader, SourceDb};
use std::io::Cursor;

fn net() -> Net {
    let src = "import std.systems\nnetwork n for Oscillator { neurons = 60\n constraints { space(grid = [6, 10])\n timescales(from = 20 ms, to = 200 ms, along = space.y) } }";
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "t.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    methods::build(&a.program, 0).expect("builds").net
}

fn bytes(net: &Net, dense: bool) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    let opts = npz::WriteOpts {
        dense,
        version: "test".into(),
    };
    npz::write(&mut buf, net, &opts).expect("writes");
    buf.into_inner()
}

fn same(a: &faer::Mat<f64>, b: &faer::Mat<f64>) -> bool {
    a.nrows() == b.nrows()
        && a.ncols() == b.ncols()
        && (0..a.nrows()).all(|i| (0..a.ncols()).all(|j| a[(i, j)] == b[(i, j)]))
}

#[test]
fn round_trip_is_exact() {
    let n = net();
    for dense in [false, true] {
        let back = npz::read(Cursor::new(bytes(&n, dense)), &Default::default()).expect("reads");
        assert!(same(&n.w_rec.dense(), &back.w_rec.dense()));
        assert_eq!(matches!(back.w_rec, Recurrent::Dense(_)), dense);
        assert!(same(&n.w_in, &back.w_in));
        assert!(same(&n.w_out, &back.w_out));
        assert_eq!(n.b_rec, back.b_rec);
        assert_eq!(n.b_out, back.b_out);
        assert_eq!(n.alpha, back.alpha);
        assert_eq!(n.init_state, back.init_state);
        assert!(same(
            n.positions.as_ref().unwrap(),
            back.positions.as_ref().unwrap()
        ));
        assert_eq!((back.dt, back.form, back.phi), (n.dt, n.form, n.phi));
        assert_eq!(back.meta.states, vec!["q[0]", "q[1]"]);
        assert_eq!(back.meta.inputs, vec!["kick[0]", "kick[1]"]);
        assert_eq!(back.meta.outputs, vec!["phase"]);
        assert_eq!(back.meta.tau.len(), 60, "one time constant per neuron");
    }
}

#[test]
fn manifest_has_every_key_of_format_md() {
    let m = npz::manifest(&net(), &Default::default());
    for key in [
        "format",
        "rnnc",
        "source",
        "network",
        "target",
        "method",
        "options",
        "seed",
        "dt",
        "tau",
        "form",
        "phi",
        "gain_input",
        "inputs",
        "outputs",
        "states",
        "init_latent",
        "domain",
        "units",
    ] {
        assert!(m.get(key).is_some(), "manifest lacks `{key}`");
    }
    assert_eq!(m["format"], 1);
    assert_eq!(m["phi"]["name"], "tanh");
    assert_eq!(m["options"]["reg"], 1e-3);
}

#[test]
fn foreign_bytes_are_errors() {
    let good = bytes(&net(), false);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"W_rec = [[1, 2], [3, 4]]".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("header only", good[..40].to_vec()),
    ];
    for (what, b) in cases {
        let err = npz::read(Cursor::new(b), &Default::default()).expect_err(what);
        assert!(!err.0.is_empty(), "{what}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn corrupted_files_never_panic(flips in prop::collection::vec((0usize..100_000, any::<u8>()), 1..8)) {
        let mut b = bytes(&net(), false);
        for (at, v) in flips {
            let i = at % b.len();
            b[i] = v;
        }
        if let Ok(n) = npz::read(Cursor::new(b), &Default::default()) {
            prop_assert!(n.validate().is_ok());
        }
    }
}

/// A file whose manifest was edited: `edit` changes the manifest rnnc would write.
fn with_manifest(net: &Net, edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let opts = npz::WriteOpts {
        dense: false,
        version: "test".into(),
    };
    let mut m = npz::manifest(net, &opts);
    edit(&mut m);
    let mut buf = Cursor::new(Vec::new());
    npz::write_with_manifest(&mut buf, net, &opts, m).expect("writes");
    buf.into_inner()
}

fn read(bytes: Vec<u8>) -> Result<Net, String> {
    npz::read(Cursor::new(bytes), &npz::Foreign::default()).map_err(|e| e.to_string())
}

/// A manifest value of the wrong type is an error naming the key, the value and what is
/// expected; it never falls back to a default (`"phi": 5` used to run as tanh).
#[test]
fn manifest_values_of_the_wrong_type_are_errors() {
    let n = net();
    for (key, value, want) in [
        ("phi", serde_json::json!(5), "`phi` is 5"),
        ("phi", serde_json::json!({"tau_rc": 0.02}), "`phi` is"),
        ("form", serde_json::json!(5), "`form` is 5"),
        ("readout", serde_json::json!(5), "`readout` is 5"),
        ("states", serde_json::json!("x"), "`states` is \"x\""),
        ("inputs", serde_json::json!([1, 2]), "`inputs` is [1,2]"),
        ("seed", serde_json::json!(-3), "`seed` is -3"),
        ("tau", serde_json::json!([0.1, -1]), "`tau` is"),
    ] {
        let e = read(with_manifest(&n, |m| m[key] = value.clone())).expect_err(key);
        assert!(e.contains(want), "{key}: {e}");
    }
    // The name alone is understood: `"phi": "relu"` is relu, not tanh.
    let relu = read(with_manifest(&n, |m| m["phi"] = serde_json::json!("relu"))).expect("reads");
    assert_eq!(relu.phi, rnnc::net::Phi::Relu);
    // The file as written reads back.
    assert!(read(with_manifest(&n, |_| {})).is_ok());
}

/// The program, not the file, decides what is compared: a manifest that names the latent
/// state after an input (`u`) would compare the input column with itself and pass with
/// NRMSE 0; it is refused, naming both lists. With honest names the same file is read.
#[test]
fn a_manifest_that_renames_the_state_is_refused() {
    let src = "import std.systems\nnetwork integ for Integrator { neurons = 50 }\n";
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "i.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let built = methods::build(&a.program, 0).expect("builds").net;
    for bad in [vec!["u"], vec!["t"]] {
        let mut file = read(with_manifest(&built, |m| {
            m["states"] = serde_json::json!(bad)
        }))
        .expect("reads");
        let e = rnnc::bind::adopt_names(&mut file, &a.program, 0).expect_err("refused");
        assert_eq!(e.code.name, "rnnc::weights::mismatch");
        assert!(
            e.message.contains(&format!("states are [{}]", bad[0])) && e.message.contains("[x]"),
            "{}",
            e.message
        );
    }
    let mut file = read(with_manifest(&built, |_| {})).expect("reads");
    rnnc::bind::adopt_names(&mut file, &a.program, 0).expect("honest names bind");
    assert_eq!(file.meta.states, vec!["x".to_string()]);
}
