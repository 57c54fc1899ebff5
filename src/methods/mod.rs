//! Lowering: from a network statement of the semantic model to the numeric network IR, one
//! folder per method. Each method has a build side and a verify side.

pub mod latent;
pub mod lowrank;
pub mod nef;
pub mod reservoir;

use crate::net::{Net, Phi};
use crate::sema::model::{Call, Network, OptValue, Program, Target, TimeKind};
use latent::Latent;
use serde_json::{json, Value as Json};

/// A network built, with what the build measured.
pub struct Built {
    pub net: Net,
    pub decoder_rmse: Option<f64>,
    pub warnings: Vec<String>,
    /// `lowrank` with one latent dimension: the mean-field prediction of the fixed points
    /// (decoded value, stable), a cross-check for `fixed_points`.
    pub mean_field: Option<Vec<(f64, bool)>>,
}

/// What a lowering needs besides its options: the network's size, time base and seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    pub n: usize,
    pub dt: f64,
    pub tau: f64,
    pub seed: u64,
}

/// Why a network could not be built: a message for the user.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildError(pub String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn phi_of(call: &Call) -> Phi {
    Phi::from_name(call.name, &|p| call.num(p)).unwrap_or(Phi::Tanh)
}

/// Builds network `index` of `program`.
pub fn build(program: &Program, index: usize) -> Result<Built, BuildError> {
    let network = &program.networks[index];
    let err = |m: String| BuildError(format!("network `{}`: {m}", network.name));
    if network.method.name == "reservoir" {
        return build_reservoir(program, network).map_err(err);
    }
    if network.method.name == "lowrank" {
        return build_lowrank(program, network).map_err(err);
    }
    let Target::System(inst) = &network.target else {
        return Err(err(format!(
            "method `{}` for a task or a direct construction is not implemented yet",
            network.method.name
        )));
    };
    let sys = &program.systems[inst.system];
    if network.method.name != "nef" {
        return Err(err(format!(
            "method `{}` is not implemented yet (only `nef` is)",
            network.method.name
        )));
    }
    let lat = Latent::new(sys, inst).map_err(&err)?;
    let n = network
        .neurons
        .ok_or_else(|| err("`nef` needs `neurons = N`".into()))?;
    let mut tau = match (network.tau, sys.kind) {
        (Some(t), _) => Some(vec![t; n]),
        (None, TimeKind::Flow) => Some(vec![0.1; n]),
        (None, TimeKind::Map) => None,
    };
    let mut gain_input = None;
    // Positions first: `timescales` and `space(wiring)` use them.
    let mut positions: Option<Vec<Vec<f64>>> = None;
    let mut wiring = 0.0;
    for c in network.constraints.iter().filter(|c| c.name == "space") {
        match (c.get("grid"), c.get("positions")) {
            (Some(OptValue::Ints(g)), _) => positions = Some(nef::grid_positions(g, n)),
            (_, Some(OptValue::Str(_))) => {
                return Err(err(
                    "`space(positions = \"file\")` is not implemented yet: use `grid`".into(),
                ))
            }
            _ => {}
        }
        wiring = c.num("wiring").unwrap_or(0.0);
        if c.get("communicability") == Some(&OptValue::Bool(true)) {
            return Err(err(
                "`space(communicability = true)` is not implemented yet".into(),
            ));
        }
    }
    let mut rules = crate::constraints::RowRules {
        sweeps: 30,
        ..Default::default()
    };
    let mut synapse_level = false;
    let mut energy = 0.0;
    for c in &network.constraints {
        match c.name {
            "gain" => {
                if let Some(OptValue::Sym(name) | OptValue::Str(name)) = c.get("by") {
                    let names = sys.input_names();
                    gain_input = names.iter().position(|x| x == name);
                }
            }
            "space" => {
                if wiring > 0.0 {
                    let p = positions.as_deref().unwrap_or(&[]);
                    rules.wiring = Some((crate::constraints::distances(p), wiring));
                    synapse_level = true;
                }
            }
            "timescales" => {
                let (from, to) = (c.num("from").unwrap_or(0.02), c.num("to").unwrap_or(0.4));
                let axis = match c.get("along") {
                    Some(OptValue::Axis(a)) => a.clone(),
                    _ => "x".into(),
                };
                let s = axis_coordinate(positions.as_deref(), &axis, n);
                tau = Some(s.iter().map(|s| from * (to / from).powf(*s)).collect());
            }
            "dale" => {
                if c.get("readout") == Some(&OptValue::Bool(true)) {
                    return Err(err("`dale(readout = true)` is not implemented yet".into()));
                }
                let p = c.num("excitatory").unwrap_or(0.8);
                rules.dale = Some(crate::constraints::dale_signs(n, p));
                synapse_level = true;
            }
            "sparsity" => {
                let p = c.num("density").unwrap_or(1.0);
                rules.max_partners = Some(((p * n as f64).floor() as usize).max(1));
                synapse_level = true;
            }
            "prune" => {
                let p = c.num("fraction").unwrap_or(0.0);
                let refit = c.get("refit") != Some(&OptValue::Bool(false));
                rules.prune = Some((p, refit));
                synapse_level = true;
            }
            "energy" => energy = c.num("weight").unwrap_or(0.0),
            other => return Err(err(format!("constraint `{other}` is not implemented yet"))),
        }
    }
    let (lo, hi) = match network.method.get("intercepts") {
        Some(OptValue::Uniform(a, b)) => (*a, *b),
        _ => (-1.0, 0.9),
    };
    let design = nef::Design {
        neurons: n,
        phi: phi_of(&network.neuron),
        dt: network.dt,
        tau,
        reg: network.method.num("reg").unwrap_or(1e-3),
        eval_points: network.method.num("eval_points").map(|x| x as usize),
        intercepts: (lo, hi),
        seed: network.seed,
        gain_input,
        synapses: synapse_level.then_some(rules),
        energy,
        continuous: matches!(network.method.get("mapping"), Some(OptValue::Sym(s)) if s == "continuous"),
    };
    let built = nef::build(&lat, &design).map_err(err)?;
    let mut warnings = built.warnings;
    if let Some(cost) = built.constraint_cost {
        warnings.push(format!(
            "the synapse-level constraints raise the recurrent decoding error by {:.2e} \
             (relative, in function space); the network keeps full weights",
            cost
        ));
    }
    let mut net = built.net;
    if let Some(p) = positions {
        let cols = p.first().map_or(0, Vec::len);
        net.positions = Some(faer::Mat::from_fn(n, cols, |i, j| p[i][j]));
    }
    net.meta = meta(network, &lat, design.tau.as_deref());
    Ok(Built {
        net,
        decoder_rmse: Some(built.decoder_rmse),
        warnings,
        mean_field: None,
    })
}

/// `lowrank(rank, bulk)` (METHODS.md section 3).
fn build_lowrank(program: &Program, network: &Network) -> Result<Built, String> {
    let Target::System(inst) = &network.target else {
        return Err("`lowrank` realizes a system".into());
    };
    let lat = Latent::new(&program.systems[inst.system], inst)?;
    let n = network.neurons.ok_or("`lowrank` needs `neurons = N`")?;
    if let Some(rank) = network.method.num("rank") {
        if rank as usize != lat.d {
            return Err(format!(
                "`lowrank(rank = {rank})`: only rank = d (here {}), one loading pair per latent \
                 dimension, is implemented",
                lat.d
            ));
        }
    }
    if let Some(c) = network.constraints.first() {
        return Err(format!(
            "constraint `{}` on a low-rank network is not implemented yet",
            c.name
        ));
    }
    let tau = match (network.tau, lat.kind()) {
        (Some(t), _) => t,
        (None, TimeKind::Flow) => 0.1,
        (None, TimeKind::Map) => {
            return Err("`lowrank` of a map needs `tau`".into());
        }
    };
    let meta = meta(network, &lat, Some(&[tau]));
    let setup = Setup {
        n,
        dt: network.dt,
        tau,
        seed: network.seed,
    };
    let (net, predicted) = lowrank::build(
        &lat,
        network.method.num("bulk").unwrap_or(0.0),
        network.method.num("ridge").unwrap_or(1e-6),
        phi_of(&network.neuron),
        setup,
        meta,
    )?;
    Ok(Built {
        net,
        decoder_rmse: None,
        warnings: Vec::new(),
        mean_field: predicted,
    })
}

/// `reservoir(...)`: drive mode for systems and tasks (METHODS.md section 4).
fn build_reservoir(program: &Program, network: &Network) -> Result<Built, String> {
    let opts = reservoir::Options::from_call(&network.method);
    let n = network.neurons.ok_or("`reservoir` needs `neurons = N`")?;
    if let Some(c) = network.constraints.first() {
        return Err(format!(
            "constraint `{}` on a reservoir is not implemented yet",
            c.name
        ));
    }
    if network.neuron.name != "tanh" {
        return Err(format!(
            "a reservoir runs tanh units (METHODS.md section 4), not `{}`",
            network.neuron.name
        ));
    }
    let dt = network.dt;
    let setup = |tau| Setup {
        n,
        dt,
        tau,
        seed: network.seed,
    };
    let fit = match &network.target {
        Target::System(inst) => {
            let lat = Latent::new(&program.systems[inst.system], inst)?;
            let tau = match (network.tau, lat.kind()) {
                (Some(t), _) => t,
                (None, TimeKind::Flow) => 0.1,
                (None, TimeKind::Map) => dt,
            };
            let meta = meta(network, &lat, Some(&[tau]));
            if opts.compile {
                let c = reservoir::compile::system(&lat, &opts, setup(tau), meta)?;
                // The in-basis residual (about 1e-15) says nothing about the truncation
                // error (METHODS.md): `vector_field_error` measures the network instead.
                let _ = c.residual;
                return Ok(Built {
                    net: c.net,
                    decoder_rmse: None,
                    warnings: Vec::new(),
                    mean_field: None,
                });
            }
            reservoir::drive::system(&lat, &opts, setup(tau), meta)?
        }
        Target::Task(_) if opts.compile => {
            return Err("`reservoir(mode = compile)` compiles systems; a task is driven".into())
        }
        Target::Task(ti) => {
            let task = &program.tasks[*ti];
            let tau = network.tau.unwrap_or(0.1);
            let meta = crate::net::Meta {
                network: network.name.clone(),
                target: task.name.clone(),
                method: "reservoir".into(),
                options: call_json(&network.method),
                seed: network.seed,
                tau: vec![tau],
                inputs: task.input_names(),
                outputs: task.output_names(),
                units: json!({"time": "s", "dt": "s", "tau": "s"}),
                ..Default::default()
            };
            reservoir::drive::task(task, &opts, setup(tau), meta)?
        }
        Target::None => return Err("`reservoir` realizes a system or a task".into()),
    };
    Ok(Built {
        net: fit.net,
        decoder_rmse: None,
        warnings: Vec::new(),
        mean_field: None,
    })
}

/// The coordinate in [0, 1] of each neuron along `axis` (`x`, `y`, `z`) of its position;
/// without positions, the neuron index.
fn axis_coordinate(positions: Option<&[Vec<f64>]>, axis: &str, n: usize) -> Vec<f64> {
    let c = match axis {
        "y" => 1,
        "z" => 2,
        _ => 0,
    };
    let raw: Vec<f64> = match positions {
        Some(p) => p
            .iter()
            .map(|row| row.get(c).copied().unwrap_or(0.0))
            .collect(),
        None => (0..n).map(|i| i as f64).collect(),
    };
    let (lo, hi) = raw
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    raw.iter()
        .map(|v| if hi > lo { (v - lo) / (hi - lo) } else { 0.0 })
        .collect()
}

fn opt_json(v: &OptValue) -> Json {
    match v {
        OptValue::Num(x) => json!(x),
        OptValue::Bool(b) => json!(b),
        OptValue::Sym(s) | OptValue::Str(s) | OptValue::Axis(s) => json!(s),
        OptValue::Range(a, b) => json!([a, b]),
        OptValue::Ints(v) => json!(v),
        OptValue::Auto => json!("auto"),
        OptValue::Uniform(a, b) => json!({"uniform": [a, b]}),
        OptValue::Patterns { count, seed } => json!({"random_patterns": count, "seed": seed}),
    }
}

pub fn call_json(c: &Call) -> Json {
    Json::Object(
        c.options
            .iter()
            .map(|(k, v)| ((*k).to_string(), opt_json(v)))
            .collect(),
    )
}

fn meta(network: &Network, lat: &Latent, tau: Option<&[f64]>) -> crate::net::Meta {
    let sys = lat.sys;
    // One value when every neuron shares it, else one per neuron.
    let mut taus: Vec<f64> = tau.map(<[f64]>::to_vec).unwrap_or_default();
    if taus.iter().all(|&t| t == taus[0]) {
        taus.truncate(1);
    }
    let domain: Vec<Json> = lat
        .inst
        .domains
        .iter()
        .map(|(comps, r)| {
            let names: Vec<String> = comps
                .iter()
                .map(|&c| sys.state_names()[c].clone())
                .collect();
            match r {
                crate::sema::model::Region::Box { lo, hi } => json!({
                    "states": names,
                    "box": lo.iter().zip(hi).map(|(l, h)| [*l, *h]).collect::<Vec<_>>()
                }),
                crate::sema::model::Region::Ball { radius, center } => {
                    json!({"states": names, "ball": {"radius": radius, "center": center}})
                }
            }
        })
        .collect();
    let mut options = call_json(&network.method);
    if let Json::Object(o) = &mut options {
        o.insert("neurons".into(), json!(network.neurons));
        o.insert("neuron".into(), json!(network.neuron.name));
        o.insert(
            "constraints".into(),
            Json::Array(
                network
                    .constraints
                    .iter()
                    .map(|c| json!({"name": c.name, "options": call_json(c)}))
                    .collect(),
            ),
        );
    }
    crate::net::Meta {
        network: network.name.clone(),
        target: sys.name.clone(),
        method: network.method.name.to_string(),
        options,
        seed: network.seed,
        source: None,
        tau: taus,
        inputs: sys.input_names(),
        outputs: crate::sema::model::expand(sys.outputs.iter().map(|(n, e)| {
            let len = e.shape().len();
            (n.as_str(), (len != 1).then_some(len))
        })),
        states: sys.state_names(),
        init_latent: lat.inst.init.clone(),
        domain: Json::Array(domain),
        units: json!({"time": "s", "dt": "s", "tau": "s"}),
        readout_after: false,
    }
}
