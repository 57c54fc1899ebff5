//! Hostile weight files (issue 12, "every input gets an answer"): nested `.npy` headers, zip
//! bombs, values that make no network, and byte mutations of a valid file. Each refused case
//! sits next to an accepted one, and each message names the array or key and the figures.
//!
//! Archives are assembled here byte by byte (stored members, or a hand-made deflate stream
//! of zeros), so a test can say exactly what a member declares and what it inflates to.

use super::{net, read};
use proptest::prelude::*;
use rnnc::driver;
use rnnc::methods;
use rnnc::net::Net;
use rnnc::npz;
use rnnc::sema::Program;
use rnnc::source::{MemLoader, SourceDb};
use std::io::Cursor;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------
// Building archives

pub(crate) fn crc32(data: &[u8]) -> u32 {
    static TABLE: OnceLock<[u32; 256]> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| {
        t[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// One zip member: name, compression method (0 stored, 8 deflated), CRC, the bytes as
/// stored, and the uncompressed size the member declares.
pub(crate) struct Member {
    name: String,
    method: u16,
    crc: u32,
    data: Vec<u8>,
    declared: u32,
}

pub(crate) fn stored(name: &str, bytes: Vec<u8>) -> Member {
    Member {
        name: name.into(),
        method: 0,
        crc: crc32(&bytes),
        declared: bytes.len() as u32,
        data: bytes,
    }
}

/// A zip archive of `members` (no zip64: every figure fits 32 bits).
pub(crate) fn archive(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for m in members {
        let offset = out.len() as u32;
        let fields = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&m.method.to_le_bytes());
            h.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
            h.extend_from_slice(&m.crc.to_le_bytes());
            h.extend_from_slice(&(m.data.len() as u32).to_le_bytes());
            h.extend_from_slice(&m.declared.to_le_bytes());
            h.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            h
        };
        out.extend(fields(0x0403_4b50, false));
        out.extend_from_slice(m.name.as_bytes());
        out.extend_from_slice(&m.data);
        central.extend(fields(0x0201_4b50, true));
        central.extend_from_slice(&[0; 6]); // comment, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(m.name.as_bytes());
    }
    let at = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A raw deflate stream (one fixed-Huffman block) inflating to `prefix` then `zeros` zero
/// bytes: literals for the prefix and a zero, then matches of 258 at distance 1. About 13
/// bits per 258 bytes: 1 GB of zeros in 6.3 MB, built without compressing anything.
pub(crate) fn deflate_zeros(prefix: &[u8], zeros: u64) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, v: u64, n: u32) {
            self.acc |= v << self.n;
            self.n += n;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// A Huffman code, most significant bit first.
        fn code(&mut self, c: u32, len: u32) {
            let rev = (0..len).fold(0u64, |a, i| a | u64::from((c >> i) & 1) << (len - 1 - i));
            self.put(rev, len);
        }
        fn literal(&mut self, b: u8) {
            if b < 144 {
                self.code(0x30 + u32::from(b), 8)
            } else {
                self.code(0x190 + u32::from(b) - 144, 9)
            }
        }
    }
    let mut w = Bits {
        out: Vec::with_capacity((zeros / 158) as usize + 64),
        acc: 0,
        n: 0,
    };
    w.put(1, 1); // final block
    w.put(1, 2); // fixed Huffman
    for &b in prefix {
        w.literal(b);
    }
    let mut left = zeros;
    if left > 0 {
        w.literal(0);
        left -= 1;
    }
    while left >= 258 {
        w.code(0xC5, 8); // length code 285: 258
        w.code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        w.literal(0);
    }
    w.code(0, 7); // end of block
    w.put(0, 7);
    w.out
}

/// A deflated member inflating to `prefix` and `zeros` zeros, declaring `declared` bytes
/// (its CRC is that of the prefix alone: a reader that gets to the end must refuse it).
pub(crate) fn bomb(name: &str, prefix: &[u8], zeros: u64, declared: u32) -> Member {
    Member {
        name: name.into(),
        method: 8,
        crc: crc32(prefix),
        data: deflate_zeros(prefix, zeros),
        declared,
    }
}

/// A `.npy` with the given header dict (padded as numpy pads it) and data.
pub(crate) fn npy_raw(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = dict.to_string();
    while !(h.len() + 11).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(h.len() as u16).to_le_bytes());
    v.extend_from_slice(h.as_bytes());
    v.extend_from_slice(data);
    v
}

pub(crate) fn shape_text(shape: &[usize]) -> String {
    match shape {
        [a] => format!("({a},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A little-endian float64 C-order `.npy`.
pub(crate) fn npy_f8(shape: &[usize], values: &[f64]) -> Vec<u8> {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    npy_raw(
        &format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': {}, }}",
            shape_text(shape)
        ),
        &data,
    )
}

/// The W_rec of the small foreign network: row i, column j holds `i + j / 10`.
fn w3() -> Vec<f64> {
    (0..9)
        .map(|k| (k / 3) as f64 + (k % 3) as f64 / 10.0)
        .collect()
}

/// A manifest-less 3-neuron network (PsychRNN's names), with `W_rec` given by the caller.
fn small(w_rec: Member, extra: Vec<Member>) -> Vec<u8> {
    let mut m = vec![
        w_rec,
        stored("W_in.npy", npy_f8(&[3, 1], &[1.0, 0.0, 0.0])),
        stored("b_rec.npy", npy_f8(&[3], &[0.0; 3])),
        stored("W_out.npy", npy_f8(&[1, 3], &[1.0, 1.0, 1.0])),
    ];
    m.extend(extra);
    archive(&m)
}

fn foreign() -> npz::Foreign {
    npz::Foreign {
        dt: Some(0.001),
        tau: Some(0.01),
        ..Default::default()
    }
}

fn read_small(bytes: Vec<u8>) -> Result<Net, String> {
    npz::read(Cursor::new(bytes), &foreign()).map_err(|e| e.to_string())
}

fn plain_w_rec() -> Member {
    stored("W_rec.npy", npy_f8(&[3, 3], &w3()))
}

// ---------------------------------------------------------------------------------------
// Item 1: the .npy header

#[test]
fn the_small_foreign_network_reads() {
    let net = read_small(small(plain_w_rec(), vec![])).expect("reads");
    assert_eq!(net.n(), 3);
    assert_eq!(net.w_rec.dense()[(2, 1)], 2.1);
    assert!(net.alpha.iter().all(|&a| (a - 0.1).abs() < 1e-15));
}

/// A structured descr nested 1000 deep (npyz's parser never returned on it; 20 levels took
/// 14 s) is refused at its first bracket, naming the array.
#[test]
fn a_nested_descr_is_refused_at_once() {
    let descr = format!("{}'<f8'{}", "[('f', ".repeat(1000), ")]".repeat(1000));
    let member = stored(
        "W_rec.npy",
        npy_raw(
            &format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (3, 3), }}"),
            &[0; 72],
        ),
    );
    let e = read_small(small(member, vec![])).expect_err("refused");
    assert!(
        e.contains("array `W_rec`") && e.contains("structured (record) dtypes"),
        "{e}"
    );
}

/// The header's length is checked before it is read: 70 000 bytes is refused, naming both
/// figures; numpy's own header reads.
#[test]
fn a_long_header_is_refused_before_it_is_read() {
    let mut v = b"\x93NUMPY\x02\x00".to_vec();
    v.extend_from_slice(&70_000u32.to_le_bytes());
    v.extend(std::iter::repeat_n(b' ', 70_000));
    let e = read_small(small(stored("W_rec.npy", v), vec![])).expect_err("refused");
    assert!(
        e.contains("array `W_rec`") && e.contains("70000 bytes") && e.contains("65536"),
        "{e}"
    );
}

/// Big-endian, float32, Fortran order, integers, bool: the same matrix each time.
#[test]
fn every_supported_dtype_and_order_reads_the_same_matrix() {
    let w = w3();
    let fortran: Vec<f64> = (0..9).map(|k| w[(k % 3) * 3 + k / 3]).collect();
    let enc = |descr: &str, f: bool, values: &[f64]| -> Vec<u8> {
        let data: Vec<u8> = match descr {
            ">f8" => values.iter().flat_map(|v| v.to_be_bytes()).collect(),
            "<f4" => values
                .iter()
                .flat_map(|&v| (v as f32).to_le_bytes())
                .collect(),
            ">f4" => values
                .iter()
                .flat_map(|&v| (v as f32).to_be_bytes())
                .collect(),
            _ => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        };
        npy_raw(
            &format!(
                "{{'descr': '{descr}', 'fortran_order': {}, 'shape': (3, 3), }}",
                if f { "True" } else { "False" }
            ),
            &data,
        )
    };
    for (descr, f) in [
        ("<f8", false),
        (">f8", false),
        ("<f8", true),
        (">f8", true),
        ("<f4", true),
        (">f4", false),
    ] {
        let values = if f { &fortran } else { &w };
        let net = read_small(small(stored("W_rec.npy", enc(descr, f, values)), vec![]))
            .unwrap_or_else(|e| panic!("{descr} {f}: {e}"));
        let got = net.w_rec.dense();
        for k in 0..9 {
            let want = if descr.ends_with("f4") {
                f64::from(w[k] as f32)
            } else {
                w[k]
            };
            assert_eq!(got[(k / 3, k % 3)], want, "{descr} fortran={f} [{k}]");
        }
    }
    // Integer and bool members: dale_sign as int8, W_in as big-endian uint16, bool.
    for (descr, data, want) in [
        ("|i1", vec![1u8, 0xff, 0], vec![1.0, -1.0, 0.0]),
        (">u2", vec![0, 1, 0, 2, 1, 0], vec![1.0, 2.0, 256.0]),
        ("|b1", vec![1, 0, 7], vec![1.0, 0.0, 1.0]),
        (
            "<i8",
            [5i64, -6, 7].iter().flat_map(|v| v.to_le_bytes()).collect(),
            vec![5.0, -6.0, 7.0],
        ),
    ] {
        let member = stored(
            "init_state.npy",
            npy_raw(
                &format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}"),
                &data,
            ),
        );
        let net = read_small(small(plain_w_rec(), vec![member])).expect(descr);
        assert_eq!(net.init_state, want, "{descr}");
    }
    // A complex or half dtype is refused by name.
    let member = stored(
        "W_rec.npy",
        npy_raw(
            "{'descr': '<c16', 'fortran_order': False, 'shape': (3, 3), }",
            &[0; 144],
        ),
    );
    let e = read_small(small(member, vec![])).expect_err("complex");
    assert!(e.contains("array `W_rec`") && e.contains("`<c16`"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Item 2: zip bombs

const GB: u64 = 1 << 30;

/// An unused member of 1 GB of zeros is never opened: the network reads.
#[test]
fn an_unused_bomb_is_never_inflated() {
    let junk = bomb("junk.npy", &[], GB, GB as u32);
    assert!(junk.data.len() < 8 << 20);
    let net = read_small(small(plain_w_rec(), vec![junk])).expect("reads");
    assert_eq!(net.n(), 3);
}

/// `W_rec` whose header says (3, 3) (72 bytes of data) but whose stream inflates to 1 GB:
/// refused from the declared size when it is honest, and after at most one byte more than
/// the shape needs when it lies.
#[test]
fn a_used_member_that_inflates_past_its_shape_is_refused() {
    let header = npy_raw(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }",
        &[],
    );
    let e =
        read_small(small(bomb("W_rec.npy", &header, GB, GB as u32), vec![])).expect_err("declared");
    assert!(
        e.contains("array `W_rec`")
            && e.contains("declares 1.0 GiB uncompressed")
            && e.contains("shape (3, 3) needs 200 bytes"),
        "{e}"
    );
    let lying = (header.len() + 72) as u32;
    let e = read_small(small(bomb("W_rec.npy", &header, GB, lying), vec![])).expect_err("lying");
    // The zip reader stops at the declared size; were it not to, the `take` of the shape's
    // byte count would.
    assert!(
        e.contains("array `W_rec`")
            && (e.contains("more data than its shape (3, 3) needs")
                || e.contains("larger than its declared uncompressed size")),
        "{e}"
    );
    // The same member inflating to exactly its shape is read (its CRC then matches).
    let honest = Member {
        crc: crc32(&[header.clone(), vec![0; 72]].concat()),
        ..bomb("W_rec.npy", &header, 72, lying)
    };
    let net = read_small(small(honest, vec![])).expect("reads");
    assert_eq!(net.w_rec.dense()[(1, 1)], 0.0);
}

/// A header claiming (100000, 100000) (80 GB as float64) is refused from the header, naming
/// the shape and the budget; a smaller budget refuses an ordinary file the same way.
#[test]
fn a_shape_over_the_memory_budget_is_refused_from_its_header() {
    let member = stored(
        "W_rec.npy",
        npy_raw(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }",
            &[0; 16],
        ),
    );
    let e = read_small(small(member, vec![])).expect_err("huge");
    assert!(
        e.contains("array `W_rec`")
            && e.contains("shape (100000, 100000)")
            && e.contains("74.5 GiB")
            && e.contains("4.0 GiB memory budget"),
        "{e}"
    );
    // A shape whose element count overflows u64.
    let member = stored(
        "W_rec.npy",
        npy_raw(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }",
            &[],
        ),
    );
    let e = read_small(small(member, vec![])).expect_err("overflow");
    assert!(
        e.contains("array `W_rec`") && e.contains("more elements than fit"),
        "{e}"
    );
    let limits = npz::Limits {
        memory: 100,
        ..Default::default()
    };
    let bytes = small(plain_w_rec(), vec![]);
    assert!(npz::read_with(Cursor::new(bytes.clone()), &foreign(), &Limits::default()).is_ok());
    let e = npz::read_with(Cursor::new(bytes), &foreign(), &limits).expect_err("budget");
    assert!(e.0.contains("100 bytes memory budget"), "{e}");
}

use npz::Limits;

/// The manifest member is bounded too.
#[test]
fn a_manifest_over_its_limit_is_refused() {
    let text = br#"{"dt": 0.001}"#;
    let member = |bytes: &[u8]| {
        stored(
            "manifest.json.npy",
            npy_raw(
                &format!(
                    "{{'descr': '|u1', 'fortran_order': False, 'shape': ({},), }}",
                    bytes.len()
                ),
                bytes,
            ),
        )
    };
    let f = foreign();
    let no_dt = npz::Foreign { dt: None, ..f };
    let ok = small(plain_w_rec(), vec![member(text)]);
    let net = npz::read(Cursor::new(ok.clone()), &no_dt).expect("reads");
    assert_eq!(net.dt, 0.001);
    let limits = Limits {
        manifest: 64,
        ..Default::default()
    };
    let e = npz::read_with(Cursor::new(ok), &no_dt, &limits).expect_err("limit");
    assert!(
        e.0.contains("array `manifest.json`") && e.0.contains("a manifest may have"),
        "{e}"
    );
    // A manifest with a bomb behind its header.
    let header = npy_raw(
        &format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({GB},), }}"),
        &[],
    );
    let e = read_small(small(
        plain_w_rec(),
        vec![bomb("manifest.json.npy", &header, GB, GB as u32)],
    ))
    .expect_err("manifest bomb");
    assert!(e.contains("16.0 MiB a manifest may have"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Item 3: values

/// A program and its one network, built.
fn program(src: &str) -> (Program, Net) {
    let mut db = SourceDb::new();
    let a = driver::analyze_text(&mut db, &MemLoader::default(), "p.rnn", src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let net = methods::build(&a.program, 0).expect("builds").net;
    (a.program, net)
}

fn lorenz() -> &'static (Program, Net) {
    static P: OnceLock<(Program, Net)> = OnceLock::new();
    P.get_or_init(|| program("import std.systems\nnetwork l for Lorenz { neurons = 40 }\n"))
}

/// A file edited by `edit` and written (the manifest as rnnc writes it), read and bound to
/// the Lorenz program.
fn bound(edit: impl Fn(&mut Net)) -> Result<Net, String> {
    let (p, built) = lorenz();
    let mut net = built.clone();
    edit(&mut net);
    let mut buf = Cursor::new(Vec::new());
    npz::write(&mut buf, &net, &npz::WriteOpts::default()).expect("writes");
    let mut back = read(buf.into_inner())?;
    rnnc::bind::adopt_names(&mut back, p, 0)
        .map_err(|d| format!("{} {}", d.code.name, d.message))?;
    Ok(back)
}

#[test]
fn w_enc_must_have_one_column_per_latent_state() {
    bound(|_| {}).expect("the built file binds");
    let e = bound(|n| {
        let (w, _) = n.enc.as_mut().unwrap();
        *w = faer::Mat::zeros(40, 7);
    })
    .expect_err("7 columns");
    assert!(
        e.contains("rnnc::weights::mismatch")
            && e.contains("array `W_enc` has shape (40, 7), expected (40, 3)")
            && e.contains("`Lorenz`"),
        "{e}"
    );
}

#[test]
fn w_out_rows_must_be_the_states_then_the_outputs() {
    let e = bound(|n| {
        n.w_out = faer::Mat::zeros(5, 40);
        n.b_out = vec![0.0; 5];
        n.meta.states.clear();
    })
    .expect_err("5 rows");
    assert!(
        e.contains("array `W_out` has shape (5, 40), expected (3, 40)"),
        "{e}"
    );
}

/// The program's `neurons` against the file's N: both figures named.
#[test]
fn the_file_must_have_the_networks_neuron_count() {
    let (p, _) = lorenz();
    let (_, other) = program("import std.systems\nnetwork l for Lorenz { neurons = 50 }\n");
    let mut buf = Cursor::new(Vec::new());
    npz::write(&mut buf, &other, &npz::WriteOpts::default()).expect("writes");
    let mut back = read(buf.into_inner()).expect("reads");
    let d = rnnc::bind::adopt_names(&mut back, p, 0).expect_err("50 vs 40");
    assert_eq!(d.code.name, "rnnc::weights::mismatch");
    assert!(
        d.message.contains("N = 50 neurons") && d.message.contains("declares neurons = 40"),
        "{}",
        d.message
    );
}

#[test]
fn non_finite_weights_are_refused_with_their_index() {
    for (v, shown) in [
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        let e = bound(|n| n.b_rec[7] = v).expect_err(shown);
        assert!(
            e.contains(&format!(
                "array `b_rec` has a non-finite value ({shown}) at [7]"
            )),
            "{e}"
        );
    }
    let e = bound(|n| {
        let mut w = n.w_rec.dense();
        w[(3, 4)] = f64::NAN;
        n.w_rec = rnnc::net::Recurrent::Dense(w);
    })
    .expect_err("W_rec");
    assert!(
        e.contains("array `W_rec` has a non-finite value (NaN) at [3, 4]"),
        "{e}"
    );
}

#[test]
fn alpha_must_be_a_leak_in_zero_one() {
    for (v, shown) in [(0.0, "0"), (-0.1, "-0.1"), (1.5, "1.5")] {
        let e = bound(|n| n.alpha[2] = v).expect_err(shown);
        assert!(
            e.contains(&format!(
                "array `alpha` has {shown} at [2], expected a leak in (0, 1]"
            )),
            "{e}"
        );
    }
    let e = bound(|n| n.alpha[2] = f64::NAN).expect_err("NaN");
    assert!(e.contains("array `alpha`") && e.contains("NaN"), "{e}");
    assert!(bound(|n| n.alpha[2] = 1.0).is_ok());
}

/// A scalar alpha (shape () or (1,)) is every unit's, as numpy broadcasts it.
#[test]
fn a_scalar_alpha_is_broadcast() {
    for shape in ["()", "(1,)"] {
        let alpha = stored(
            "alpha.npy",
            npy_raw(
                &format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"),
                &0.25f64.to_le_bytes(),
            ),
        );
        let no_tau = npz::Foreign {
            tau: None,
            ..foreign()
        };
        let net = npz::read(Cursor::new(small(plain_w_rec(), vec![alpha])), &no_tau)
            .unwrap_or_else(|e| panic!("{shape}: {e}"));
        assert_eq!(net.alpha, vec![0.25; 3], "{shape}");
    }
    let alpha = stored("alpha.npy", npy_f8(&[2], &[0.25, 0.25]));
    let e = read_small(small(plain_w_rec(), vec![alpha])).expect_err("(2,)");
    assert!(
        e.contains("array `alpha` has shape (2,), expected (3,)"),
        "{e}"
    );
}

#[test]
fn dt_must_be_a_positive_time() {
    let n = net();
    for (v, shown) in [
        (serde_json::json!(0.0), "0.0"),
        (serde_json::json!(-0.001), "-0.001"),
        (serde_json::json!(null), "null"),
        (serde_json::json!("1 ms"), "\"1 ms\""),
    ] {
        let e = read(super::with_manifest(&n, |m| m["dt"] = v.clone())).expect_err(shown);
        assert!(
            e.contains(&format!(
                "the manifest's `dt` is {shown}, expected a time step > 0"
            )),
            "{e}"
        );
    }
    // `--dt` for a file without manifest, and `--tau` shorter than it.
    for dt in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let f = npz::Foreign {
            dt: Some(dt),
            ..foreign()
        };
        let e = npz::read(Cursor::new(small(plain_w_rec(), vec![])), &f).expect_err("--dt");
        assert!(e.0.contains("`--dt` is"), "{e}");
    }
    let f = npz::Foreign {
        tau: Some(0.0005),
        ..foreign()
    };
    let e = npz::read(Cursor::new(small(plain_w_rec(), vec![])), &f).expect_err("--tau");
    assert!(
        e.0.contains("`--tau` is 0.0005 s") && e.0.contains("alpha = dt / tau = 2"),
        "{e}"
    );
}

#[test]
fn a_network_needs_a_neuron() {
    let e = read_small(archive(&[
        stored("W_rec.npy", npy_f8(&[0, 0], &[])),
        stored("W_in.npy", npy_f8(&[0, 1], &[])),
        stored("b_rec.npy", npy_f8(&[0], &[])),
        stored("W_out.npy", npy_f8(&[1, 0], &[])),
    ]))
    .expect_err("N = 0");
    assert!(
        e.contains("array `b_rec` has shape (0,)") && e.contains("N >= 1"),
        "{e}"
    );
}

#[test]
fn lif_parameters_must_define_a_rate() {
    let n = net();
    let lif = |rc: f64, rf: f64| serde_json::json!({"name": "lif", "tau_rc": rc, "tau_ref": rf});
    let ok = read(super::with_manifest(&n, |m| m["phi"] = lif(0.02, 0.0))).expect("reads");
    assert!(matches!(ok.phi, rnnc::net::Phi::Lif { .. }));
    for (rc, rf, want) in [
        (0.0, 0.002, "`tau_rc` is 0, expected a finite time > 0"),
        (-0.02, 0.002, "`tau_rc` is -0.02"),
        (
            0.02,
            -0.001,
            "`tau_ref` is -0.001, expected a finite time >= 0",
        ),
    ] {
        let e = read(super::with_manifest(&n, |m| m["phi"] = lif(rc, rf))).expect_err(want);
        assert!(
            e.contains(want) && e.contains("lif rate is undefined"),
            "{e}"
        );
    }
}

#[test]
fn dale_sign_must_be_a_sign() {
    let sign = |v: u8| {
        stored(
            "dale_sign.npy",
            npy_raw(
                "{'descr': '|i1', 'fortran_order': False, 'shape': (3,), }",
                &[1, v, 0],
            ),
        )
    };
    let net = read_small(small(plain_w_rec(), vec![sign(0xff)])).expect("reads");
    assert_eq!(net.dale_sign, Some(vec![1, -1, 0]));
    let e = read_small(small(plain_w_rec(), vec![sign(2)])).expect_err("2");
    assert!(e.contains("array `dale_sign` has 2 at [1]"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Item 4: mutations

/// The members of an archive: name and bytes.
fn extract(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).expect("member");
            let name = f.name().expect("name").to_string();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut bytes).expect("reads");
            (name, bytes)
        })
        .collect()
}

fn repack(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    archive(
        &members
            .iter()
            .map(|(n, b)| stored(n, b.clone()))
            .collect::<Vec<_>>(),
    )
}

/// A valid file (the Lorenz network) twice: as rnnc writes it (deflated) and re-packed with
/// stored members.
fn valid_files() -> &'static [Vec<u8>; 2] {
    static F: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    F.get_or_init(|| {
        let mut buf = Cursor::new(Vec::new());
        npz::write(&mut buf, &lorenz().1, &npz::WriteOpts::default()).expect("writes");
        let deflated = buf.into_inner();
        let stored = repack(&extract(&deflated));
        [deflated, stored]
    })
}

fn valid_members() -> &'static [(String, Vec<u8>)] {
    static M: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    M.get_or_init(|| extract(&valid_files()[0]))
}

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Set(a, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), 1usize..64).prop_map(|(a, n)| Edit::Delete(a, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(b: &mut Vec<u8>, e: &Edit) {
    let len = b.len().max(1);
    match e {
        Edit::Flip(at, x) if !b.is_empty() => b[at % len] ^= x,
        Edit::Set(at, x) if !b.is_empty() => b[at % len] = *x,
        Edit::Insert(at, bytes) => {
            let i = at % (b.len() + 1);
            b.splice(i..i, bytes.iter().copied());
        }
        Edit::Delete(at, n) if !b.is_empty() => {
            let i = at % len;
            let j = (i + n).min(b.len());
            b.drain(i..j);
        }
        Edit::Truncate(at) => b.truncate(at % len),
        _ => {}
    }
}

fn read_or_refuse(b: Vec<u8>) -> Result<(), TestCaseError> {
    if let Ok(n) = npz::read(Cursor::new(b), &foreign()) {
        prop_assert!(n.validate().is_ok());
        prop_assert!(n.alpha.iter().all(|&a| a > 0.0 && a <= 1.0));
        prop_assert!(n.b_rec.iter().all(|v| v.is_finite()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    /// 1000 mutated archives (deflated and stored): every read returns, Ok or Err. Most
    /// of these break the zip structure or a CRC.
    #[test]
    fn mutated_files_are_read_or_refused(which in 0usize..2, edits in prop::collection::vec(edit(), 1..6)) {
        let mut b = valid_files()[which].clone();
        for e in &edits {
            apply(&mut b, e);
        }
        read_or_refuse(b)?;
    }

    /// 1000 files with one member's `.npy` bytes mutated and the archive re-packed with a
    /// correct CRC, so the mutation reaches the header parser, the shape checks and the
    /// values.
    #[test]
    fn mutated_members_are_read_or_refused(member in any::<usize>(), edits in prop::collection::vec(edit(), 1..4)) {
        let mut members = valid_members().to_vec();
        let k = member % members.len();
        for e in &edits {
            apply(&mut members[k].1, e);
        }
        read_or_refuse(repack(&members))?;
    }
}
