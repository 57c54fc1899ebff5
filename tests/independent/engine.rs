//! The update rule of docs/format.md ("The update rule"), implemented from that page alone: it
//! reads the weight file's bytes with the `zip` and `npyz` crates (not rnnc's reader), keeps
//! every array dense in f64 and steps with faer's matrix-vector product and plain loops (not
//! rnnc's kernels: no compressed rows, no f32 storage, no split closed loops, no vectorized
//! tanh). Plugged into a network as its `rnnc::net::Engine`, every simulation a check runs
//! goes through it.

use faer::{Mat, MatRef};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::Arc;

/// A weight file's arrays, by member name (without `.npy`): shape and values in C order.
pub struct Archive {
    arrays: HashMap<String, (Vec<usize>, Vec<f64>)>,
    pub manifest: Json,
}

impl Archive {
    pub fn read(bytes: &[u8]) -> Archive {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip archive");
        let mut arrays = HashMap::new();
        let mut manifest = Json::Null;
        for i in 0..zip.len() {
            let mut member = zip.by_index(i).unwrap();
            let name = member.name().unwrap().trim_end_matches(".npy").to_string();
            let mut data = Vec::new();
            member.read_to_end(&mut data).unwrap();
            let npy = npyz::NpyFile::new(&data[..]).unwrap();
            let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
            let fortran = matches!(npy.order(), npyz::Order::Fortran);
            let descr = npy.dtype().descr();
            let values: Vec<f64> = if descr.contains("f8") {
                npy.into_vec::<f64>().unwrap()
            } else if descr.contains("f4") {
                npy.into_vec::<f32>()
                    .unwrap()
                    .into_iter()
                    .map(f64::from)
                    .collect()
            } else if descr.contains("i1") {
                npy.into_vec::<i8>()
                    .unwrap()
                    .into_iter()
                    .map(f64::from)
                    .collect()
            } else if descr.contains("u1") {
                let v = npy.into_vec::<u8>().unwrap();
                if name == "manifest.json" {
                    manifest = serde_json::from_slice(&v).unwrap();
                    continue;
                }
                v.into_iter().map(f64::from).collect()
            } else if descr.contains("i8") {
                npy.into_vec::<i64>()
                    .unwrap()
                    .into_iter()
                    .map(|v| v as f64)
                    .collect()
            } else {
                panic!("{name}: dtype {descr} is not one rnnc writes");
            };
            assert!(!fortran || shape.len() < 2, "{name}: rnnc writes C order");
            arrays.insert(name, (shape, values));
        }
        Archive { arrays, manifest }
    }

    pub fn has(&self, name: &str) -> bool {
        self.arrays.contains_key(name)
    }

    fn vector(&self, name: &str) -> Vec<f64> {
        self.arrays[name].1.clone()
    }

    /// A 2-D array; a missing dimension (a (N,) given for (N, 1)) is not expected here.
    fn matrix(&self, name: &str) -> Mat<f64> {
        let (shape, v) = &self.arrays[name];
        let (r, c) = (shape[0], shape.get(1).copied().unwrap_or(1));
        Mat::from_fn(r, c, |i, j| v[i * c + j])
    }
}

#[derive(Clone, Copy)]
enum Phi {
    Tanh,
    Relu,
    Linear,
    Sigmoid,
    Softplus,
    Lif { tau_rc: f64, tau_ref: f64 },
}

impl Phi {
    fn from_manifest(p: &Json) -> Phi {
        let name = p["name"].as_str().expect("phi.name");
        match name {
            "tanh" => Phi::Tanh,
            "relu" => Phi::Relu,
            "linear" => Phi::Linear,
            "sigmoid" => Phi::Sigmoid,
            "softplus" => Phi::Softplus,
            "lif" => Phi::Lif {
                tau_rc: p["tau_rc"].as_f64().unwrap(),
                tau_ref: p["tau_ref"].as_f64().unwrap(),
            },
            other => panic!("phi {other} is not in docs/format.md"),
        }
    }

    fn eval(self, x: f64) -> f64 {
        match self {
            Phi::Tanh => x.tanh(),
            Phi::Relu => x.max(0.0),
            Phi::Linear => x,
            Phi::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Phi::Softplus => {
                // ln(1 + e^x), without overflow for large x.
                if x > 30.0 {
                    x + (-x).exp().ln_1p()
                } else {
                    x.exp().ln_1p()
                }
            }
            Phi::Lif { tau_rc, tau_ref } => {
                if x > 1.0 {
                    1.0 / (tau_ref + tau_rc * (1.0 + 1.0 / (x - 1.0)).ln())
                } else {
                    0.0
                }
            }
        }
    }
}

fn by_rows(m: &Mat<f64>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
        .collect()
}

/// One network as docs/format.md defines it.
#[derive(Clone)]
enum Weights {
    Dense(Mat<f64>),
    Factored(Mat<f64>, Mat<f64>),
    /// A `W_rec` at most a third nonzero, by rows: (column, value) pairs in f64, summed in
    /// column order (as scipy.sparse would hold it).
    Rows(Vec<Vec<(usize, f64)>>),
}

impl Weights {
    fn from_dense(w: Mat<f64>) -> Weights {
        let n = w.nrows();
        let rows: Vec<Vec<(usize, f64)>> = (0..n)
            .map(|i| {
                (0..w.ncols())
                    .filter(|&j| w[(i, j)] != 0.0)
                    .map(|j| (j, w[(i, j)]))
                    .collect()
            })
            .collect();
        let nz: usize = rows.iter().map(Vec::len).sum();
        if 3 * nz <= n * w.ncols() {
            Weights::Rows(rows)
        } else {
            Weights::Dense(w)
        }
    }

    fn times(&self, v: &[f64]) -> Vec<f64> {
        let col = |v: &[f64]| MatRef::from_column_major_slice(v, v.len(), 1).to_owned();
        let flat = |m: Mat<f64>| (0..m.nrows()).map(|i| m[(i, 0)]).collect();
        match self {
            Weights::Dense(w) => flat(w * col(v)),
            Weights::Factored(l, r) => flat(l * (r * col(v))),
            Weights::Rows(rows) => rows
                .iter()
                .map(|row| row.iter().map(|&(j, w)| w * v[j]).sum())
                .collect(),
        }
    }

    fn dense(&self) -> Mat<f64> {
        match self {
            Weights::Dense(w) => w.clone(),
            Weights::Factored(l, r) => l * r,
            Weights::Rows(rows) => {
                let n = rows.len();
                let mut w = Mat::zeros(n, n);
                for (i, row) in rows.iter().enumerate() {
                    for &(j, v) in row {
                        w[(i, j)] = v;
                    }
                }
                w
            }
        }
    }
}

pub struct Independent {
    rate: bool,
    phi: Phi,
    w: Weights,
    w_in: Mat<f64>,
    b: Vec<f64>,
    w_out: Mat<f64>,
    b_out: Vec<f64>,
    alpha: Vec<f64>,
    /// `W_in` and `W_out` by rows, for the per-step loops.
    in_rows: Vec<Vec<f64>>,
    out_rows: Vec<Vec<f64>>,
    gain: Option<usize>,
    /// `W_fb` and the fed-back readout rows, for the open loop.
    fb: Option<(Mat<f64>, Vec<usize>)>,
}

impl Independent {
    pub fn new(a: &Archive) -> Independent {
        let m = &a.manifest;
        // A factored file is multiplied as `W_rec_left @ (W_rec_right @ r)`, as numpy would.
        let w = if a.has("W_rec") {
            Weights::from_dense(a.matrix("W_rec"))
        } else {
            Weights::Factored(a.matrix("W_rec_left"), a.matrix("W_rec_right"))
        };
        let n = a.vector("b_rec").len();
        let b = a.vector("b_rec");
        let alpha = match a.vector("alpha") {
            v if v.len() == 1 => vec![v[0]; n],
            v => v,
        };
        let w_in = {
            let (shape, _) = &a.arrays["W_in"];
            if shape.get(1) == Some(&0) {
                Mat::zeros(n, 0)
            } else {
                a.matrix("W_in")
            }
        };
        let inputs: Vec<&str> = m["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let gain = m["gain_input"]
            .as_str()
            .map(|g| inputs.iter().position(|i| *i == g).unwrap());
        let fb = a.has("W_fb").then(|| {
            let rows: Vec<usize> = match m.get("fb_rows").and_then(Json::as_array) {
                Some(r) => r.iter().map(|v| v.as_u64().unwrap() as usize).collect(),
                None => (0..a.matrix("W_fb").ncols()).collect(),
            };
            (a.matrix("W_fb"), rows)
        });
        let w_out = a.matrix("W_out");
        Independent {
            in_rows: by_rows(&w_in),
            out_rows: by_rows(&w_out),
            rate: m["form"].as_str() == Some("rate"),
            phi: Phi::from_manifest(&m["phi"]),
            w,
            w_in,
            b,
            w_out,
            b_out: if a.has("b_out") {
                a.vector("b_out")
            } else {
                vec![0.0; a.matrix("W_out").nrows()]
            },
            alpha,
            gain,
            fb,
        }
    }

    fn g(&self, u: &[f64]) -> f64 {
        self.gain.map_or(1.0, |i| u[i])
    }

    /// `W_rec s + W_in u + b_rec`.
    fn drive(&self, s: &[f64], u: &[f64]) -> Vec<f64> {
        let mut h = self.w.times(s);
        for (i, h) in h.iter_mut().enumerate() {
            *h += self.b[i];
            for (w, &uj) in self.in_rows[i].iter().zip(u) {
                *h += w * uj;
            }
        }
        h
    }

    /// The open loop: `A = W - W_fb W_out[rows]`, `b_A = b - W_fb b_out[rows]`, `W_fb` as
    /// extra input columns.
    fn opened(&self) -> Option<Independent> {
        let (w_fb, rows) = self.fb.as_ref()?;
        let (n, d) = (self.b.len(), rows.len());
        let sel = Mat::from_fn(d, n, |r, j| self.w_out[(rows[r], j)]);
        let w = Weights::Dense(self.w.dense() - w_fb * &sel);
        let b = (0..n)
            .map(|i| {
                self.b[i]
                    - (0..d)
                        .map(|r| w_fb[(i, r)] * self.b_out[rows[r]])
                        .sum::<f64>()
            })
            .collect();
        let k = self.w_in.ncols();
        let w_in = Mat::from_fn(n, k + d, |i, j| {
            if j < k {
                self.w_in[(i, j)]
            } else {
                w_fb[(i, j - k)]
            }
        });
        Some(Independent {
            w,
            b,
            in_rows: by_rows(&w_in),
            out_rows: self.out_rows.clone(),
            w_in,
            fb: None,
            w_out: self.w_out.clone(),
            b_out: self.b_out.clone(),
            alpha: self.alpha.clone(),
            ..*self
        })
    }
}

impl rnnc::net::Step for Independent {
    fn read(&self, x: &[f64], u: &[f64], y: &mut [f64]) {
        let g = self.g(u);
        let s: Vec<f64> = if self.rate {
            x.to_vec()
        } else {
            x.iter().map(|&v| self.phi.eval(g * v)).collect()
        };
        for (o, y) in y.iter_mut().enumerate() {
            *y = self.b_out[o]
                + self.out_rows[o]
                    .iter()
                    .zip(&s)
                    .map(|(w, s)| w * s)
                    .sum::<f64>();
        }
    }

    fn advance(&self, x: &mut [f64], u: &[f64]) {
        let g = self.g(u);
        if self.rate {
            let h = self.drive(x, u);
            for (i, x) in x.iter_mut().enumerate() {
                *x = (1.0 - self.alpha[i]) * *x + self.alpha[i] * self.phi.eval(g * h[i]);
            }
        } else {
            let r: Vec<f64> = x.iter().map(|&v| self.phi.eval(g * v)).collect();
            let h = self.drive(&r, u);
            for (i, x) in x.iter_mut().enumerate() {
                *x = (1.0 - self.alpha[i]) * *x + self.alpha[i] * h[i];
            }
        }
    }

    fn open_loop(&self) -> Option<rnnc::net::Engine> {
        Some(rnnc::net::Engine(Arc::new(self.opened()?)))
    }
}
