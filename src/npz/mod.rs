//! The weight file (FORMAT.md): a zip of `.npy` arrays plus `manifest.json` as a uint8
//! member. Writing and reading work on any `Write + Seek` / `Read + Seek`: no file IO here.
//!
//! The reader takes our files and archives from `numpy.savez` / `savez_compressed`
//! (stored or deflated members, C or Fortran order, float64/float32/integer/bool arrays).
//! Every input gets an answer (docs/format.md): only the members rnnc uses are opened, their
//! `.npy` headers are parsed here in one pass (`npy.rs`; structured and pickled dtypes are
//! refused), every shape is checked against the memory budget ([`Limits`]) and against N
//! before its data is inflated, and data is read through a limit of what the shape needs.
//! A missing or mis-shaped array is an error naming the array and both shapes; a
//! non-finite value, a `dt` or `alpha` that makes no update rule, likewise.

mod npy;

use crate::net::{Form, Meta, Net, Phi, Recurrent};
use faer::Mat;
use npyz::WriterBuilder;
use serde_json::{json, Value as Json};
use std::io::{Read, Seek, Write};
use zip::write::SimpleFileOptions;

/// Why a weight file could not be read or written.
#[derive(Debug, Clone, PartialEq)]
pub struct NpzError(pub String);

impl std::fmt::Display for NpzError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for NpzError {
    fn from(e: std::io::Error) -> Self {
        NpzError(e.to_string())
    }
}

impl From<zip::result::ZipError> for NpzError {
    fn from(e: zip::result::ZipError) -> Self {
        NpzError(format!("not a readable zip (.npz) archive: {e}"))
    }
}

/// Options for writing.
#[derive(Clone, Debug, Default)]
pub struct WriteOpts {
    /// Write `W_rec` in full even for a factored network.
    pub dense: bool,
    /// rnnc's version, for the manifest.
    pub version: String,
}

/// An array to write: name, shape, values in C order, dtype.
enum Data<'a> {
    F64(Vec<f64>),
    I64(Vec<i64>),
    I8(&'a [i8]),
    U8(&'a [u8]),
}

fn mat_c(m: &Mat<f64>) -> Vec<f64> {
    let mut v = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            v.push(m[(i, j)]);
        }
    }
    v
}

fn npy(shape: &[u64], data: &Data) -> Result<Vec<u8>, NpzError> {
    fn encode<T: npyz::AutoSerialize + Copy>(shape: &[u64], v: &[T]) -> Result<Vec<u8>, NpzError> {
        let mut buf = Vec::new();
        let mut w = npyz::WriteOptions::<T>::new()
            .default_dtype()
            .shape(shape)
            .writer(&mut buf)
            .begin_nd()?;
        w.extend(v.iter().copied())?;
        w.finish()?;
        Ok(buf)
    }
    match data {
        Data::F64(v) => encode(shape, v),
        Data::I64(v) => encode(shape, v),
        Data::I8(v) => encode(shape, v),
        Data::U8(v) => encode(shape, v),
    }
}

/// The manifest of FORMAT.md for `net`.
pub fn manifest(net: &Net, opts: &WriteOpts) -> Json {
    let m = &net.meta;
    let mut phi = json!({"name": net.phi.name()});
    for (k, v) in net.phi.params() {
        phi[k] = json!(v);
    }
    let mut manifest = json!({
        "format": 1,
        "rnnc": opts.version,
        "source": m.source.as_ref().map(|(f, h)| json!({"file": f, "hash": h})),
        "network": m.network,
        "target": m.target,
        "method": m.method,
        "options": m.options,
        "seed": m.seed,
        "dt": net.dt,
        "tau": m.tau,
        "form": net.form.name(),
        "phi": phi,
        "gain_input": net.gain_input.map(|g| m.inputs.get(g).cloned().unwrap_or_default()),
        "inputs": m.inputs,
        "outputs": m.outputs,
        "states": m.states,
        "init_latent": m.init_latent,
        "domain": m.domain,
        "units": m.units,
    });
    if let Some(fb) = &net.feedback {
        manifest["fb_rows"] = json!(fb.rows);
    }
    if m.readout_after {
        manifest["readout"] = json!("after");
    }
    manifest
}

/// Writes `net` as an `.npz` archive (every member deflated).
pub fn write<W: Write + Seek>(w: W, net: &Net, opts: &WriteOpts) -> Result<(), NpzError> {
    write_with_manifest(w, net, opts, manifest(net, opts))
}

/// [`write`] with a manifest of the caller's (tests write files whose manifests lie).
pub fn write_with_manifest<W: Write + Seek>(
    w: W,
    net: &Net,
    opts: &WriteOpts,
    manifest: Json,
) -> Result<(), NpzError> {
    net.validate().map_err(NpzError)?;
    let n = net.n() as u64;
    let mut arrays: Vec<(&str, Vec<u64>, Data)> = Vec::new();
    match &net.w_rec {
        Recurrent::Factored { left, right } if !opts.dense => {
            arrays.push((
                "W_rec_left",
                vec![n, left.ncols() as u64],
                Data::F64(mat_c(left)),
            ));
            arrays.push((
                "W_rec_right",
                vec![right.nrows() as u64, n],
                Data::F64(mat_c(right)),
            ));
        }
        w => arrays.push(("W_rec", vec![n, n], Data::F64(mat_c(&w.dense())))),
    }
    arrays.push((
        "W_in",
        vec![n, net.n_inputs() as u64],
        Data::F64(mat_c(&net.w_in)),
    ));
    arrays.push(("b_rec", vec![n], Data::F64(net.b_rec.clone())));
    arrays.push((
        "W_out",
        vec![net.n_out() as u64, n],
        Data::F64(mat_c(&net.w_out)),
    ));
    arrays.push((
        "b_out",
        vec![net.n_out() as u64],
        Data::F64(net.b_out.clone()),
    ));
    if let Some((we, be)) = &net.enc {
        arrays.push(("W_enc", vec![n, we.ncols() as u64], Data::F64(mat_c(we))));
        arrays.push(("b_enc", vec![n], Data::F64(be.clone())));
    }
    arrays.push(("alpha", vec![n], Data::F64(net.alpha.clone())));
    arrays.push(("init_state", vec![n], Data::F64(net.init_state.clone())));
    if let Some(s) = &net.dale_sign {
        arrays.push(("dale_sign", vec![n], Data::I8(s)));
    }
    if let Some(p) = &net.positions {
        arrays.push(("positions", vec![n, p.ncols() as u64], Data::F64(mat_c(p))));
    }
    if let Some(fb) = &net.feedback {
        arrays.push((
            "W_fb",
            vec![n, fb.rows.len() as u64],
            Data::F64(mat_c(&fb.w_fb)),
        ));
    }
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| NpzError(format!("manifest: {e}")))?;
    let bytes = text.into_bytes();
    arrays.push(("manifest.json", vec![bytes.len() as u64], Data::U8(&bytes)));

    write_arrays(w, &arrays)
}

/// Writes named arrays as `.npy` members, deflated.
fn write_arrays<W: Write + Seek>(w: W, arrays: &[(&str, Vec<u64>, Data)]) -> Result<(), NpzError> {
    let mut zip = zip::ZipWriter::new(w);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    for (name, shape, data) in arrays {
        let bytes = npy(shape, data)?;
        let options = if bytes.len() >= u32::MAX as usize / 2 {
            options.large_file(true)
        } else {
            options
        };
        zip.start_file(format!("{name}.npy"), options)?;
        zip.write_all(&bytes)?;
    }
    zip.finish()?;
    Ok(())
}

/// Writes a task's trials (`rnnc run --task`): `inputs` (B, T, k), `targets` and `mask`
/// (B, T, m) with T the longest trial (shorter ones padded with zeros, mask 0), `steps` (B,)
/// int64, `values` (B, number of `vary`/`draw` locals) and `manifest.json` with the names,
/// `dt`, and each trial's name and periods as `[name, start, end]` in steps.
pub fn write_trials<W: Write + Seek>(w: W, trials: &crate::task::Trials) -> Result<(), NpzError> {
    let (b, t) = (trials.trials.len(), trials.max_steps());
    let (k, m, l) = (
        trials.inputs.len(),
        trials.outputs.len(),
        trials.locals.len(),
    );
    let mut inputs = vec![0.0; b * t * k];
    let mut targets = vec![0.0; b * t * m];
    let mut mask = vec![0.0; b * t * m];
    let mut values = Vec::with_capacity(b * l);
    let mut steps = Vec::with_capacity(b);
    for (i, tr) in trials.trials.iter().enumerate() {
        inputs[i * t * k..i * t * k + tr.steps * k].copy_from_slice(&tr.inputs);
        let (tg, mk) = trials.targets(i);
        targets[i * t * m..i * t * m + tr.steps * m].copy_from_slice(&tg);
        mask[i * t * m..i * t * m + tr.steps * m].copy_from_slice(&mk);
        values.extend_from_slice(&tr.values);
        steps.push(tr.steps as i64);
    }
    let manifest = json!({
        "format": "rnnc-trials",
        "format_version": 1,
        "task": trials.task,
        "dt": trials.dt,
        "inputs": trials.inputs,
        "outputs": trials.outputs,
        "locals": trials.locals,
        "trials": trials.trials.iter().map(|tr| json!({
            "name": tr.name,
            "periods": tr.periods.iter().map(|(n, a, e)| json!([n, a, e])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_string_pretty(&manifest)
        .expect("json")
        .into_bytes();
    let (b, t) = (b as u64, t as u64);
    let arrays = [
        ("inputs", vec![b, t, k as u64], Data::F64(inputs)),
        ("targets", vec![b, t, m as u64], Data::F64(targets)),
        ("mask", vec![b, t, m as u64], Data::F64(mask)),
        ("steps", vec![b], Data::I64(steps)),
        ("values", vec![b, l as u64], Data::F64(values)),
        ("manifest.json", vec![bytes.len() as u64], Data::U8(&bytes)),
    ];
    write_arrays(w, &arrays)
}

/// What the manifest would say, for a file without one (FORMAT.md: foreign files).
#[derive(Clone, Debug, Default)]
pub struct Foreign {
    pub dt: Option<f64>,
    pub tau: Option<f64>,
    pub form: Option<Form>,
    pub phi: Option<Phi>,
    /// `--readout after`.
    pub readout_after: bool,
}

/// What a weight file may make rnnc allocate. [`read`] uses [`Limits::default`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes of every array rnnc reads together, counted as float64 (what they become),
    /// checked from the `.npy` headers before any data is inflated.
    pub memory: u64,
    /// Bytes of the `manifest.json` member.
    pub manifest: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: 4 << 30,
            manifest: 16 << 20,
        }
    }
}

/// The members rnnc reads (as `NAME.npy`); every other member is never opened.
const MEMBERS: [&str; 15] = [
    "manifest.json",
    "b_rec",
    "W_rec",
    "W_rec_left",
    "W_rec_right",
    "W_in",
    "W_out",
    "b_out",
    "W_enc",
    "b_enc",
    "alpha",
    "init_state",
    "dale_sign",
    "positions",
    "W_fb",
];

/// One member, decoded: shape and values as f64 in C order.
struct Array {
    shape: Vec<usize>,
    data: Vec<f64>,
}

fn shape_str<T: std::fmt::Display>(s: &[T]) -> String {
    match s {
        [a] => format!("({a},)"),
        _ => format!(
            "({})",
            s.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn bytes_str(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b => format!("{b} bytes"),
    }
}

/// The archive with the headers of the members rnnc reads: shapes are known (and checked
/// against the memory budget) before any data is inflated, and data is inflated only up to
/// what the header's shape needs.
struct Archive<R: Read + Seek> {
    zip: zip::ZipArchive<R>,
    headers: std::collections::HashMap<&'static str, npy::Header>,
}

impl<R: Read + Seek> Archive<R> {
    fn open(r: R, limits: &Limits) -> Result<Self, NpzError> {
        let mut zip = zip::ZipArchive::new(r)?;
        let mut headers = std::collections::HashMap::new();
        let mut total: u64 = 0;
        for name in MEMBERS {
            let member = format!("{name}.npy");
            let Some(index) = zip.index_for_name(&member) else {
                continue;
            };
            let mut f = zip.by_index(index)?;
            let bad = |m: String| NpzError(format!("array `{name}`: {m}"));
            let h =
                npy::read_header(&mut (&mut f).take(npy::MAX_HEADER as u64 + 12)).map_err(bad)?;
            let need = h
                .data_bytes()
                .and_then(|d| d.checked_add(h.header_len))
                .ok_or_else(|| {
                    bad(format!(
                        "shape {} has more elements than fit in memory",
                        shape_str(&h.shape)
                    ))
                })?;
            if f.size() > need {
                return Err(bad(format!(
                    "member `{member}` declares {} uncompressed, but its shape {} needs {}",
                    bytes_str(f.size()),
                    shape_str(&h.shape),
                    bytes_str(need)
                )));
            }
            let values = h.count().and_then(|c| c.checked_mul(8)).unwrap_or(u64::MAX);
            if name == "manifest.json" {
                if h.shape.len() != 1 || h.dtype.size != 1 || h.dtype.kind == npy::Kind::Float {
                    return Err(bad(format!(
                        "expected a 1-D uint8 array of UTF-8 bytes, found shape {}",
                        shape_str(&h.shape)
                    )));
                }
                if need > limits.manifest {
                    return Err(bad(format!(
                        "{} is more than the {} a manifest may have",
                        bytes_str(need),
                        bytes_str(limits.manifest)
                    )));
                }
            } else {
                total = total.saturating_add(values);
            }
            if values > limits.memory || total > limits.memory {
                return Err(bad(format!(
                    "shape {} brings the file's arrays to {} as float64, more than the {} \
                     memory budget",
                    shape_str(&h.shape),
                    bytes_str(total.max(values)),
                    bytes_str(limits.memory)
                )));
            }
            headers.insert(name, h);
        }
        Ok(Archive { zip, headers })
    }

    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        // Every dimension fits: the element count was checked against the budget.
        self.headers
            .get(name)
            .map(|h| h.shape.iter().map(|&d| d as usize).collect())
    }

    /// The member's values, inflating at most the header and the data its shape needs.
    fn load(&mut self, name: &str) -> Result<Option<Array>, NpzError> {
        let Some(h) = self.headers.get(name) else {
            return Ok(None);
        };
        let bad = |m: String| NpzError(format!("array `{name}`: {m}"));
        let mut f = self.zip.by_name(&format!("{name}.npy"))?;
        std::io::copy(&mut (&mut f).take(h.header_len), &mut std::io::sink())
            .map_err(|e| bad(format!("truncated or corrupt ({e})")))?;
        let data_bytes = h.data_bytes().unwrap_or(0);
        let data = npy::read_data(&mut (&mut f).take(data_bytes), h).map_err(bad)?;
        let mut more = [0u8; 1];
        match f.read(&mut more) {
            Ok(0) => {}
            Ok(_) => {
                return Err(bad(format!(
                    "the member holds more data than its shape {} needs",
                    shape_str(&h.shape)
                )))
            }
            Err(e) => return Err(bad(format!("truncated or corrupt ({e})"))),
        }
        Ok(Some(Array {
            shape: h.shape.iter().map(|&d| d as usize).collect(),
            data,
        }))
    }

    /// A matrix of shape (`rows`, `cols`) (`None`: any), its shape checked before its data
    /// is read, every value finite.
    fn matrix(
        &mut self,
        name: &str,
        rows: Option<usize>,
        cols: Option<usize>,
    ) -> Result<Option<Mat<f64>>, NpzError> {
        let Some(shape) = self.shape(name) else {
            return Ok(None);
        };
        let ok = shape.len() == 2
            && rows.is_none_or(|r| shape[0] == r)
            && cols.is_none_or(|c| shape[1] == c);
        if !ok {
            let want = format!(
                "({}, {})",
                rows.map_or("?".into(), |r| r.to_string()),
                cols.map_or("?".into(), |c| c.to_string())
            );
            return Err(NpzError(format!(
                "array `{name}` has shape {}, expected {want}",
                shape_str(&shape)
            )));
        }
        let a = self.load(name)?.expect("a member with a header");
        finite(name, &a)?;
        let c = a.shape[1];
        Ok(Some(Mat::from_fn(a.shape[0], c, |i, j| a.data[i * c + j])))
    }

    /// A vector of `len` values ((len,), or (1, len) as numpy users write rows), every value
    /// finite.
    fn vector(&mut self, name: &str, len: usize) -> Result<Option<Vec<f64>>, NpzError> {
        let Some(shape) = self.shape(name) else {
            return Ok(None);
        };
        let ok = (shape.len() == 1 && shape[0] == len)
            || (shape.len() == 2 && shape[0] == 1 && shape[1] == len);
        if !ok {
            return Err(NpzError(format!(
                "array `{name}` has shape {}, expected ({len},)",
                shape_str(&shape)
            )));
        }
        let a = self.load(name)?.expect("a member with a header");
        finite(name, &a)?;
        Ok(Some(a.data))
    }
}

/// Every value of `a` is finite, else an error naming the array, the value and its index.
fn finite(name: &str, a: &Array) -> Result<(), NpzError> {
    match a.data.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(k) => Err(NpzError(format!(
            "array `{name}` has a non-finite value ({}) at {}",
            a.data[k],
            index_str(&a.shape, k)
        ))),
    }
}

/// The multi-index of flat C-order position `k`, as `[i, j]`.
fn index_str(shape: &[usize], mut k: usize) -> String {
    let mut idx = vec![0; shape.len()];
    for (d, &s) in shape.iter().enumerate().rev() {
        if s > 0 {
            idx[d] = k % s;
            k /= s;
        }
    }
    format!(
        "[{}]",
        idx.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Reads a weight file: ours (with its manifest) or a foreign `numpy.savez` archive, in which
/// case `foreign` supplies what the manifest would (`dt` is required).
pub fn read<R: Read + Seek>(r: R, foreign: &Foreign) -> Result<Net, NpzError> {
    read_with(r, foreign, &Limits::default())
}

/// [`read`] under explicit [`Limits`].
pub fn read_with<R: Read + Seek>(
    r: R,
    foreign: &Foreign,
    limits: &Limits,
) -> Result<Net, NpzError> {
    let mut ar = Archive::open(r, limits)?;
    let manifest: Option<Json> = match ar.load("manifest.json")? {
        Some(a) => {
            let text: Vec<u8> = a.data.iter().map(|&b| b as u8).collect();
            Some(
                serde_json::from_slice(&text)
                    .map_err(|e| NpzError(format!("`manifest.json` is not valid JSON: {e}")))?,
            )
        }
        None => None,
    };
    let missing = |name: &str| NpzError(format!("the file has no array `{name}`"));

    let n = match ar.shape("b_rec") {
        Some(s) if s.len() == 1 && s[0] > 0 => s[0],
        Some(s) if s.len() == 1 => {
            return Err(NpzError(
                "array `b_rec` has shape (0,): a network needs at least one neuron (N >= 1)".into(),
            ))
        }
        Some(s) => {
            return Err(NpzError(format!(
                "array `b_rec` has shape {}, expected (N,)",
                shape_str(&s)
            )))
        }
        None => return Err(missing("b_rec")),
    };
    let b_rec = ar.vector("b_rec", n)?.ok_or_else(|| missing("b_rec"))?;
    let w_rec = match ar.matrix("W_rec", Some(n), Some(n))? {
        Some(w) => Recurrent::Dense(w),
        None => match (ar.shape("W_rec_left"), ar.shape("W_rec_right")) {
            (Some(_), Some(_)) => {
                let left = ar
                    .matrix("W_rec_left", Some(n), None)?
                    .ok_or_else(|| missing("W_rec_left"))?;
                let right = ar
                    .matrix("W_rec_right", Some(left.ncols()), Some(n))?
                    .ok_or_else(|| missing("W_rec_right"))?;
                Recurrent::Factored { left, right }
            }
            _ => return Err(missing("W_rec")),
        },
    };
    let w_in = ar
        .matrix("W_in", Some(n), None)?
        .ok_or_else(|| missing("W_in"))?;
    let w_out = ar
        .matrix("W_out", None, Some(n))?
        .ok_or_else(|| missing("W_out"))?;
    let b_out = ar
        .vector("b_out", w_out.nrows())?
        .unwrap_or_else(|| vec![0.0; w_out.nrows()]);
    let enc = match (ar.shape("W_enc"), ar.shape("b_enc")) {
        (Some(_), Some(_)) => {
            let w = ar.matrix("W_enc", Some(n), None)?;
            let b = ar.vector("b_enc", n)?;
            w.zip(b)
        }
        _ => None,
    };
    let m = manifest.as_ref();
    // A key rnnc reads must hold what it means; a value of another type is an error naming
    // the key, the value and what is expected, never a silent default.
    let key = |k: &str| m.and_then(|m| m.get(k));
    let bad = |k: &str, v: &Json, expected: &str| {
        let mut shown = v.to_string();
        if shown.len() > 60 {
            shown = format!(
                "{}...",
                &shown[..shown.char_indices().nth(57).map_or(0, |c| c.0)]
            );
        }
        NpzError(format!(
            "the manifest's `{k}` is {shown}, expected {expected}"
        ))
    };
    let dt = match key("dt") {
        Some(v) => match v.as_f64() {
            Some(dt) if dt > 0.0 && dt.is_finite() => dt,
            _ => return Err(bad("dt", v, "a time step > 0 (s)")),
        },
        None => match foreign.dt {
            Some(dt) if dt > 0.0 && dt.is_finite() => dt,
            Some(dt) => {
                return Err(NpzError(format!(
                    "the time step `--dt` is {dt} s, expected a time > 0"
                )))
            }
            None => {
                return Err(NpzError(
                    "the file has no manifest: give its time step with `--dt`".into(),
                ))
            }
        },
    };
    // One leak per unit; a scalar (shape () or (1,)) is every unit's, as numpy broadcasts it.
    let alpha = match ar.shape("alpha") {
        Some(s) if n > 1 && s.iter().product::<usize>() == 1 && s.len() <= 1 => {
            let a = ar.load("alpha")?.expect("a member with a header");
            vec![a.data[0]; n]
        }
        Some(_) => ar.vector("alpha", n)?.expect("a member with a header"),
        None => match foreign.tau {
            Some(tau) => {
                let a = dt / tau;
                if !(a > 0.0 && a <= 1.0) {
                    return Err(NpzError(format!(
                        "the time constant `--tau` is {tau} s with a time step of {dt} s: \
                         alpha = dt / tau = {a} is not in (0, 1], so tau must be at least dt"
                    )));
                }
                vec![a; n]
            }
            None => {
                return Err(NpzError(
                    "the file has no array `alpha`: give the time constant with `--tau`".into(),
                ))
            }
        },
    };
    if let Some(i) = alpha.iter().position(|a| !(*a > 0.0 && *a <= 1.0)) {
        return Err(NpzError(format!(
            "array `alpha` has {} at [{i}], expected a leak in (0, 1] for every unit \
             (alpha = dt / tau: 1 replaces the state each step, near 0 barely moves it)",
            alpha[i]
        )));
    }
    let init_state = ar.vector("init_state", n)?.unwrap_or_else(|| vec![0.0; n]);
    let form = match key("form") {
        Some(Json::String(f)) => Form::from_name(f).ok_or_else(|| {
            NpzError(format!(
                "the manifest's form `{f}` is not `current` or `rate`"
            ))
        })?,
        Some(other) => return Err(bad("form", other, "\"current\" or \"rate\"")),
        None => foreign.form.unwrap_or(Form::Current),
    };
    let phi = match key("phi") {
        // `"phi": "relu"`: the name alone, parameters at their defaults.
        Some(Json::String(name)) => Phi::from_name(name, &|_| None)
            .ok_or_else(|| NpzError(format!("unknown neuron model `{name}` in the manifest")))?,
        Some(p @ Json::Object(o)) => {
            let name = match o.get("name") {
                Some(Json::String(n)) => n.as_str(),
                Some(other) => return Err(bad("phi.name", other, "a neuron model's name")),
                None => return Err(bad("phi", p, "an object with a `name`")),
            };
            for (k, v) in o {
                if k != "name" && !v.is_number() {
                    return Err(bad(&format!("phi.{k}"), v, "a number (seconds)"));
                }
            }
            Phi::from_name(name, &|k| o.get(k).and_then(Json::as_f64))
                .ok_or_else(|| NpzError(format!("unknown neuron model `{name}` in the manifest")))?
        }
        Some(other) => {
            return Err(bad(
                "phi",
                other,
                "a neuron model: `{\"name\": \"tanh\"}` or `\"tanh\"`",
            ))
        }
        None => foreign.phi.unwrap_or(Phi::Tanh),
    };
    if let Some((param, value, expected)) = phi.invalid_param() {
        return Err(NpzError(format!(
            "the neuron model's `{param}` is {value}, expected {expected}: the {} rate is \
             undefined otherwise",
            phi.name()
        )));
    }
    let strings = |k: &str| -> Result<Vec<String>, NpzError> {
        match key(k) {
            None => Ok(Vec::new()),
            Some(Json::Array(v)) => v
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| bad(k, &Json::Array(v.clone()), "a list of names")),
            Some(other) => Err(bad(k, other, "a list of names")),
        }
    };
    let inputs = strings("inputs")?;
    let gain_input = match key("gain_input") {
        None | Some(Json::Null) => None,
        Some(Json::String(g)) => Some(inputs.iter().position(|x| x == g).ok_or_else(|| {
            NpzError(format!(
                "the manifest's `gain_input` `{g}` is not one of its `inputs`"
            ))
        })?),
        Some(other) => return Err(bad("gain_input", other, "an input's name")),
    };
    let dale_sign = match ar.vector("dale_sign", n)? {
        Some(v) => {
            if let Some(i) = v.iter().position(|s| ![-1.0, 0.0, 1.0].contains(s)) {
                return Err(NpzError(format!(
                    "array `dale_sign` has {} at [{i}], expected +1 (excitatory), -1 \
                     (inhibitory) or 0 (unconstrained)",
                    v[i]
                )));
            }
            Some(v.iter().map(|&s| s as i8).collect())
        }
        None => None,
    };
    let positions = ar.matrix("positions", Some(n), None)?;
    let feedback = match ar.matrix("W_fb", Some(n), None)? {
        Some(w_fb) => {
            let rows: Vec<usize> = match m.and_then(|m| m.get("fb_rows")).and_then(Json::as_array) {
                Some(v) => v
                    .iter()
                    .map(|r| r.as_u64().map(|r| r as usize))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        NpzError("the manifest's `fb_rows` are not row indices".into())
                    })?,
                None => (0..w_fb.ncols()).collect(),
            };
            if rows.len() != w_fb.ncols() {
                return Err(NpzError(format!(
                    "array `W_fb` has shape ({n}, {}), expected ({n}, {}): one column per row in `fb_rows`",
                    w_fb.ncols(),
                    rows.len()
                )));
            }
            Some(crate::net::Feedback { w_fb, rows })
        }
        None => None,
    };
    let meta = Meta {
        network: m
            .and_then(|m| m.get("network"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .into(),
        target: m
            .and_then(|m| m.get("target"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .into(),
        method: m
            .and_then(|m| m.get("method"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .into(),
        options: m
            .and_then(|m| m.get("options"))
            .cloned()
            .unwrap_or(Json::Null),
        seed: match key("seed") {
            None => 0,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| bad("seed", v, "a whole number >= 0"))?,
        },
        source: None,
        tau: match key("tau") {
            None => Vec::new(),
            Some(Json::Array(v)) if v.iter().all(|x| x.as_f64().is_some_and(|t| t > 0.0)) => {
                v.iter().filter_map(Json::as_f64).collect()
            }
            Some(other) => return Err(bad("tau", other, "a list of positive times (s)")),
        },
        inputs,
        outputs: strings("outputs")?,
        states: strings("states")?,
        init_latent: m
            .and_then(|m| m.get("init_latent"))
            .and_then(Json::as_array)
            .map(|v| v.iter().filter_map(Json::as_f64).collect())
            .unwrap_or_default(),
        domain: m
            .and_then(|m| m.get("domain"))
            .cloned()
            .unwrap_or(Json::Null),
        units: m
            .and_then(|m| m.get("units"))
            .cloned()
            .unwrap_or(Json::Null),
        readout_after: match key("readout") {
            Some(Json::String(r)) if r == "after" => true,
            Some(Json::String(r)) if r == "before" => false,
            Some(other) => return Err(bad("readout", other, "\"before\" or \"after\"")),
            None => foreign.readout_after,
        },
    };
    let net = Net {
        form,
        phi,
        dt,
        w_rec,
        w_in,
        b_rec,
        w_out,
        b_out,
        enc,
        alpha,
        init_state,
        gain_input,
        dale_sign,
        positions,
        feedback,
        meta,
        engine: None,
    };
    net.validate().map_err(NpzError)?;
    Ok(net)
}

/// Writes a trace as an `.npz`: one 1-D array per column (`t`, `u`, `q[0]`, ...), and the
/// exact solution's state and output columns prefixed `exact:`.
pub fn write_trace<W: Write + Seek>(
    w: W,
    trace: &crate::trace::Trace,
    reference: &crate::trace::Trace,
) -> Result<(), NpzError> {
    let mut zip = zip::ZipWriter::new(w);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let rows = trace.rows() as u64;
    for (prefix, tr) in [("", trace), ("exact:", reference)] {
        for name in &tr.columns {
            if !prefix.is_empty() && name == "t" {
                continue;
            }
            let col = tr.column(name).unwrap_or_default();
            let bytes = npy(&[rows], &Data::F64(col))?;
            zip.start_file(format!("{prefix}{name}.npy"), options)?;
            zip.write_all(&bytes)?;
        }
    }
    zip.finish()?;
    Ok(())
}
