//! The weight file (FORMAT.md): a zip of `.npy` arrays plus `manifest.json` as a uint8
//! member. Writing and reading work on any `Write + Seek` / `Read + Seek`: no file IO here.
//!
//! The reader takes our files and archives from `numpy.savez` / `savez_compressed`
//! (stored or deflated members, C or Fortran order, float64/float32/integer arrays). Pickled
//! (object) members are refused; a missing or mis-shaped array is an error naming the array
//! and both shapes.

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

/// One member, decoded: shape and values as f64 in C order.
struct Array {
    shape: Vec<usize>,
    data: Vec<f64>,
}

fn decode(name: &str, bytes: &[u8]) -> Result<Array, NpzError> {
    let bad = |m: String| NpzError(format!("array `{name}`: {m}"));
    let file = npyz::NpyFile::new(bytes).map_err(|e| bad(format!("not a .npy array ({e})")))?;
    let shape: Vec<usize> = file.shape().iter().map(|&s| s as usize).collect();
    let order = file.order();
    let dtype = file.dtype();
    let npyz::DType::Plain(ts) = &dtype else {
        return Err(bad("structured arrays are not supported".into()));
    };
    let descr = ts.to_string();
    let data: Vec<f64> = match (ts.type_char(), ts.size_field()) {
        (npyz::TypeChar::Float, 8) => file.into_vec::<f64>(),
        (npyz::TypeChar::Float, 4) => file
            .into_vec::<f32>()
            .map(|v| v.into_iter().map(f64::from).collect()),
        (npyz::TypeChar::Int, 1) => file
            .into_vec::<i8>()
            .map(|v| v.into_iter().map(f64::from).collect()),
        (npyz::TypeChar::Int, 2) => file
            .into_vec::<i16>()
            .map(|v| v.into_iter().map(f64::from).collect()),
        (npyz::TypeChar::Int, 4) => file
            .into_vec::<i32>()
            .map(|v| v.into_iter().map(f64::from).collect()),
        (npyz::TypeChar::Int, 8) => file
            .into_vec::<i64>()
            .map(|v| v.into_iter().map(|x| x as f64).collect()),
        (npyz::TypeChar::Uint, 1) => file
            .into_vec::<u8>()
            .map(|v| v.into_iter().map(f64::from).collect()),
        (npyz::TypeChar::Bool, _) => file
            .into_vec::<bool>()
            .map(|v| v.into_iter().map(|b| f64::from(u8::from(b))).collect()),
        (npyz::TypeChar::Object, _) => {
            return Err(bad("pickled (object) arrays are never loaded".into()))
        }
        _ => return Err(bad(format!("unsupported dtype `{descr}`"))),
    }
    .map_err(|e| bad(format!("truncated or corrupt data ({e})")))?;
    let total: usize = shape.iter().product();
    if data.len() != total {
        return Err(bad(format!("{} values for shape {:?}", data.len(), shape)));
    }
    let data = if order == npyz::Order::Fortran && shape.len() == 2 {
        let (r, c) = (shape[0], shape[1]);
        let mut out = vec![0.0; total];
        for i in 0..r {
            for j in 0..c {
                out[i * c + j] = data[j * r + i];
            }
        }
        out
    } else {
        data
    };
    Ok(Array { shape, data })
}

fn shape_str(s: &[usize]) -> String {
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

fn want_matrix(
    name: &str,
    a: &Array,
    rows: Option<usize>,
    cols: Option<usize>,
) -> Result<Mat<f64>, NpzError> {
    let ok = a.shape.len() == 2
        && rows.is_none_or(|r| a.shape[0] == r)
        && cols.is_none_or(|c| a.shape[1] == c);
    if !ok {
        let want = format!(
            "({}, {})",
            rows.map_or("?".into(), |r| r.to_string()),
            cols.map_or("?".into(), |c| c.to_string())
        );
        return Err(NpzError(format!(
            "array `{name}` has shape {}, expected {want}",
            shape_str(&a.shape)
        )));
    }
    let c = a.shape[1];
    Ok(Mat::from_fn(a.shape[0], c, |i, j| a.data[i * c + j]))
}

fn want_vector(name: &str, a: &Array, len: usize) -> Result<Vec<f64>, NpzError> {
    // An (1, N) row is accepted for `init_state` and friends (FORMAT.md).
    let ok = (a.shape.len() == 1 && a.shape[0] == len)
        || (a.shape.len() == 2 && a.shape[0] == 1 && a.shape[1] == len);
    if !ok {
        return Err(NpzError(format!(
            "array `{name}` has shape {}, expected ({len},)",
            shape_str(&a.shape)
        )));
    }
    Ok(a.data.clone())
}

/// Reads a weight file: ours (with its manifest) or a foreign `numpy.savez` archive, in which
/// case `foreign` supplies what the manifest would (`dt` is required).
pub fn read<R: Read + Seek>(r: R, foreign: &Foreign) -> Result<Net, NpzError> {
    let mut zip = zip::ZipArchive::new(r)?;
    let mut arrays = std::collections::HashMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i)?;
        let full = f.name()?.to_string();
        let Some(name) = full.strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(f.size().min(1 << 30) as usize);
        f.read_to_end(&mut bytes)
            .map_err(|e| NpzError(format!("array `{name}`: truncated or corrupt ({e})")))?;
        arrays.insert(name, bytes);
    }
    let manifest: Option<Json> = match arrays.remove("manifest.json") {
        Some(bytes) => {
            let a = decode("manifest.json", &bytes)?;
            let text: Vec<u8> = a.data.iter().map(|&b| b as u8).collect();
            Some(
                serde_json::from_slice(&text)
                    .map_err(|e| NpzError(format!("`manifest.json` is not valid JSON: {e}")))?,
            )
        }
        None => None,
    };
    let get = |name: &str| -> Result<Option<Array>, NpzError> {
        arrays.get(name).map(|b| decode(name, b)).transpose()
    };
    let need = |name: &str| -> Result<Array, NpzError> {
        get(name)?.ok_or_else(|| NpzError(format!("the file has no array `{name}`")))
    };

    let b_rec = need("b_rec")?;
    if b_rec.shape.len() != 1 {
        return Err(NpzError(format!(
            "array `b_rec` has shape {}, expected (N,)",
            shape_str(&b_rec.shape)
        )));
    }
    let n = b_rec.shape[0];
    let w_rec = match get("W_rec")? {
        Some(a) => Recurrent::Dense(want_matrix("W_rec", &a, Some(n), Some(n))?),
        None => {
            let l = get("W_rec_left")?;
            let r = get("W_rec_right")?;
            match (l, r) {
                (Some(l), Some(r)) => {
                    let left = want_matrix("W_rec_left", &l, Some(n), None)?;
                    let right = want_matrix("W_rec_right", &r, Some(left.ncols()), Some(n))?;
                    Recurrent::Factored { left, right }
                }
                _ => return Err(NpzError("the file has no array `W_rec`".into())),
            }
        }
    };
    let w_in = match get("W_in")? {
        Some(a) => want_matrix("W_in", &a, Some(n), None)?,
        None => return Err(NpzError("the file has no array `W_in`".into())),
    };
    let w_out_a = need("W_out")?;
    let w_out = want_matrix("W_out", &w_out_a, None, Some(n))?;
    let b_out = match get("b_out")? {
        Some(a) => want_vector("b_out", &a, w_out.nrows())?,
        None => vec![0.0; w_out.nrows()],
    };
    let enc = match (get("W_enc")?, get("b_enc")?) {
        (Some(w), Some(b)) => Some((
            want_matrix("W_enc", &w, Some(n), None)?,
            want_vector("b_enc", &b, n)?,
        )),
        _ => None,
    };
    let m = manifest.as_ref();
    let num = |k: &str| m.and_then(|m| m.get(k)).and_then(Json::as_f64);
    let dt = num("dt").or(foreign.dt).ok_or_else(|| {
        NpzError("the file has no manifest: give its time step with `--dt`".into())
    })?;
    let alpha = match get("alpha")? {
        Some(a) => want_vector("alpha", &a, n)?,
        None => match foreign.tau {
            Some(tau) => vec![dt / tau; n],
            None => {
                return Err(NpzError(
                    "the file has no array `alpha`: give the time constant with `--tau`".into(),
                ))
            }
        },
    };
    let init_state = match get("init_state")? {
        Some(a) => want_vector("init_state", &a, n)?,
        None => vec![0.0; n],
    };
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
    let dale_sign = match get("dale_sign")? {
        Some(a) => Some(
            want_vector("dale_sign", &a, n)?
                .iter()
                .map(|&v| v as i8)
                .collect(),
        ),
        None => None,
    };
    let positions = match get("positions")? {
        Some(a) => Some(want_matrix("positions", &a, Some(n), None)?),
        None => None,
    };
    let feedback = match get("W_fb")? {
        Some(a) => {
            let w_fb = want_matrix("W_fb", &a, Some(n), None)?;
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
        b_rec: b_rec.data,
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
