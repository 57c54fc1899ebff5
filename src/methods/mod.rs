//! Lowering: from a network statement of the semantic model to the numeric network IR, one
//! folder per method. Each method has a build side and a verify side.

pub mod flow;
pub mod lowrank;
pub mod nef;
pub mod reservoir;

use crate::decl::{self, Constraint, Method, Neuron};
use crate::diag::{codes, Diagnostic};
use crate::latent::Latent;
use crate::net::{Net, Phi};
use crate::sema::model::{Call, Network, OptValue, Program, Target};
use crate::span::Span;
use serde_json::{json, Value as Json};

/// A network built, with what the build measured.
pub struct Built {
    pub net: Net,
    pub decoder_rmse: Option<f64>,
    pub warnings: Vec<Diagnostic>,
    /// `lowrank` with one latent dimension: the mean-field prediction of the fixed points
    /// (decoded value, stable), a cross-check for `fixed_points`.
    pub mean_field: Option<Vec<(f64, bool)>>,
    /// What the build measured on the network it built (the build line prints them).
    pub figures: Figures,
}

/// Figures measured on a built network, for the build line and the manifest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// A network that realizes a system and has an encoder: its one-step map's error against
    /// the system's, relative to the system's step (`flow::one_step_error`).
    pub flow_error: Option<f64>,
    /// The largest `|w|` over the stored arrays (`flow::max_weight`).
    pub max_weight: f64,
    /// `reservoir(mode = compile)`: the readout's cancellation figure
    /// (`compile::Compiled::condition`).
    pub condition: Option<f64>,
    /// `reservoir(mode = compile)`: the degree compiled.
    pub degree: Option<usize>,
    /// A network that realizes a task: the fraction of its first set of training trials
    /// (stream `training trials`) whose every expectation holds, as `accuracy` scores them.
    pub training_accuracy: Option<f64>,
}

/// A one-step flow-map error above this fraction of the system's step gets
/// `rnnc::build::flow_error`.
pub const FLOW_ERROR_WARNING: f64 = 0.1;

/// What a lowering needs besides its options: the network's size, time base and seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    pub n: usize,
    pub dt: f64,
    pub tau: f64,
    pub seed: u64,
}

/// Why a network could not be built: a diagnostic with its code, at the network (or the
/// option or constraint at fault).
pub type BuildError = Diagnostic;

pub fn phi_of(neuron: &Neuron) -> Phi {
    Phi::from_neuron(neuron)
}

/// "Not implemented yet", from one place: what is missing, at the call that asks for it.
pub fn not_implemented(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        &codes::NOT_IMPLEMENTED,
        format!("{what} is not implemented yet"),
    )
    .at(span, "asked for here")
    .help("`rnnc explain rnnc::feature::not_implemented` lists what is built today")
}

/// Builds network `index` of `program`, then measures it (`Built::figures`): the largest
/// weight, for a network that realizes a system its one-step flow-map error (with a warning
/// when that is large), for one that realizes a task its accuracy on its training trials.
pub fn build(program: &Program, index: usize) -> Result<Built, BuildError> {
    let mut built = build_method(program, index)?;
    let network = &program.networks[index];
    built.figures.max_weight = flow::max_weight(&built.net);
    if let Target::System(inst) = &network.target {
        if let Ok(lat) = Latent::new(&program.systems[inst.system], inst) {
            built.figures.flow_error = flow::one_step_error(&built.net, &lat, 256, network.seed);
        }
    }
    if let Target::Task(ti) = &network.target {
        let task = &program.tasks[*ti];
        if let Ok(trials) =
            crate::task::generate(task, built.net.dt, network.seed, "training trials")
        {
            built.figures.training_accuracy =
                crate::task::accuracy(&built.net, &trials, &crate::progress::Silent)
                    .ok()
                    .map(|(a, _)| a);
        }
    }
    if let Some(e) = built.figures.flow_error {
        if e > FLOW_ERROR_WARNING {
            built.warnings.push(flow_error_warning(network, &built, e));
        }
    }
    Ok(built)
}

/// `rnnc::build::flow_error`: the network's one-step map is far from the system's, with the
/// likely cause for its method.
fn flow_error_warning(network: &Network, built: &Built, e: f64) -> Diagnostic {
    let cause = match &network.method.kind {
        Method::Reservoir(_) => {
            "the compiled polynomial misses the flow map (raise `degree` or `neurons`, or \
             shrink the domain)"
        }
        _ if !network.constraints.is_empty() => {
            "the constraints move the weights off the decoders (loosen them or add neurons)"
        }
        _ => "too few neurons for what one step must decode (add neurons, or a smaller `dt`)",
    };
    Diagnostic::warning(
        &codes::BUILD_FLOW_ERROR,
        format!(
            "network `{}`: one step of the network errs by {} of the system's step \
             (rms over the domain, inputs held)",
            network.name,
            reservoir::compile::percent(e)
        ),
    )
    .at(network.span, "this network")
    .help(format!(
        "likely cause: {cause}; `rnnc check` measures what it does to trajectories (largest \
         weight {:.2e})",
        built.figures.max_weight
    ))
}

/// The method's lowering, before `build` measures what it made.
fn build_method(program: &Program, index: usize) -> Result<Built, BuildError> {
    let network = &program.networks[index];
    let failed = |m: String| {
        Diagnostic::error(
            &codes::BUILD_FAILED,
            format!("network `{}` cannot be built: {m}", network.name),
        )
        .at(network.span, "this network")
    };
    let unsupported = |m: String, span: Span| {
        Diagnostic::error(
            &codes::BUILD_UNSUPPORTED,
            format!("network `{}`: {m}", network.name),
        )
        .at(span, "here")
    };
    let method_span = network.method.span;
    let bytes = memory_estimate(network);
    crate::budget::claim(bytes, || {
        format!(
            "building network `{}` ({} neurons, `{}`)",
            network.name,
            network.neurons.unwrap_or(0),
            network.method.name()
        )
    })
    .map_err(|e| e.diagnostic(network.span))?;
    crate::budget::steps(drive_steps(network), || {
        format!("driving reservoir `{}` for its fit", network.name)
    })
    .map_err(|e| e.diagnostic(method_span))?;
    match (&network.method.kind, &network.target) {
        (Method::Reservoir(opts), _) => {
            build_reservoir(program, network, opts, &failed, &unsupported)
        }
        (Method::Lowrank(opts), Target::System(inst)) => {
            build_lowrank(program, network, inst, opts, &failed, &unsupported)
        }
        (Method::Nef(opts), Target::System(inst)) => {
            build_nef(program, network, inst, opts, &failed)
        }
        (Method::Nef(_) | Method::Lowrank(_), Target::Task(_) | Target::None) => Err(unsupported(
            format!("`{}` realizes a system", network.method.name()),
            method_span,
        )),
        (Method::Hopfield(_) | Method::Ring(_) | Method::Sat(_), _) => Err(not_implemented(
            &format!("the direct construction `{}`", network.method.name()),
            method_span,
        )),
    }
}

/// What building `network` holds at its peak, in bytes, priced before anything is
/// allocated: three dense N x N matrices (the Gram matrix or the dense recurrent weights, their
/// factorization, the written file's `W_rec`) and a row of latent values per fitting sample
/// (evaluation points, or a reservoir's driven steps; the neurons' activities are folded into
/// the Gram matrix block by block, never held per sample).
pub fn memory_estimate(network: &Network) -> f64 {
    let n = network.neurons.unwrap_or(0) as f64;
    let samples = match &network.method.kind {
        Method::Nef(o) => o.eval_points.map_or(2500.0_f64.max(2.0 * n), |m| m as f64),
        Method::Lowrank(_) => 2.0 * n,
        Method::Reservoir(_) => drive_steps(network),
        _ => 0.0,
    };
    crate::budget::f64s(3.0 * n * n + 16.0 * samples)
}

/// Steps a reservoir is driven while it is fitted: `washout + train` (a system), or `train`
/// and at least one set of the task's trials (a task); 0 for the other methods.
fn drive_steps(network: &Network) -> f64 {
    let Method::Reservoir(o) = &network.method.kind else {
        return 0.0;
    };
    match &network.target {
        Target::Task(_) => o.train / network.dt,
        _ => (o.washout + o.train / o.starts.max(1) as f64) * o.starts.max(1) as f64 / network.dt,
    }
}

/// How much the constraints may change a network's one-step map (relative to the step)
/// before its build line says the dynamics will suffer: 1 % of the flow's speed is a phase
/// error of 0.3 rad after five cycles of an oscillator.
const STEP_CHANGE_WARN: f64 = 1e-2;

/// `nef(...)` with its constraints (METHODS.md sections 2 and 6).
fn build_nef(
    program: &Program,
    network: &Network,
    inst: &crate::sema::model::SystemInstance,
    opts: &decl::Nef,
    failed: &dyn Fn(String) -> Diagnostic,
) -> Result<Built, BuildError> {
    let sys = &program.systems[inst.system];
    let lat = Latent::new(sys, inst).map_err(failed)?;
    let n = network
        .neurons
        .ok_or_else(|| failed("`nef` needs `neurons = N`".into()))?;
    let mut tau = network.tau.map(|t| vec![t; n]);
    let mut gain_input = None;
    // Positions first: `timescales` and `space(wiring)` use them.
    let mut positions: Option<Vec<Vec<f64>>> = None;
    let mut wiring = 0.0;
    for c in &network.constraints {
        if let Constraint::Space(space) = &c.kind {
            if space.positions.is_some() {
                return Err(not_implemented(
                    "`space(positions = \"file\")` (use `grid`)",
                    c.span,
                ));
            }
            if space.communicability {
                return Err(not_implemented("`space(communicability = true)`", c.span));
            }
            if let Some(g) = &space.grid {
                positions = Some(nef::grid_positions(g, n));
            }
            wiring = space.wiring;
        }
    }
    let mut rules = crate::constraints::RowRules {
        sweeps: 30,
        ..Default::default()
    };
    let mut synapse_level = false;
    let mut energy = 0.0;
    for c in &network.constraints {
        match &c.kind {
            Constraint::Gain(g) => {
                gain_input = sys.input_names().iter().position(|x| *x == g.by);
            }
            Constraint::Space(_) => {
                if wiring > 0.0 {
                    let p = positions.as_deref().unwrap_or(&[]);
                    rules.wiring = Some((crate::constraints::distances(p), wiring));
                    synapse_level = true;
                }
            }
            Constraint::Timescales(t) => {
                let s = axis_coordinate(positions.as_deref(), t.along, n);
                tau = Some(
                    s.iter()
                        .map(|s| t.from * (t.to / t.from).powf(*s))
                        .collect(),
                );
            }
            Constraint::Dale(d) => {
                if d.readout {
                    return Err(not_implemented("`dale(readout = true)`", c.span));
                }
                rules.dale = Some(crate::constraints::dale_signs(n, d.excitatory));
                synapse_level = true;
            }
            Constraint::Sparsity(sp) => {
                rules.max_partners = Some(((sp.density * n as f64).floor() as usize).max(1));
                synapse_level = true;
            }
            Constraint::Prune(p) => {
                rules.prune = Some((p.fraction, p.refit));
                synapse_level = true;
            }
            Constraint::Energy(e) => energy = e.weight,
        }
    }
    let design = nef::Design {
        neurons: n,
        phi: phi_of(&network.neuron),
        dt: network.dt,
        tau,
        reg: opts.reg,
        eval_points: opts.eval_points,
        intercepts: opts.intercepts,
        seed: network.seed,
        gain_input,
        synapses: synapse_level.then_some(rules),
        energy,
        continuous: opts.mapping == decl::Mapping::Continuous,
    };
    let built = nef::build(&lat, &design).map_err(failed)?;
    let mut warnings: Vec<Diagnostic> = built
        .warnings
        .into_iter()
        .map(|w| {
            Diagnostic::warning(
                &codes::BUILD_WARNING,
                format!("network `{}`: {w}", network.name),
            )
            .at(network.span, "this network")
        })
        .collect();
    if let Some(cost) = built.constraint_cost {
        let span = network.constraints.first().map_or(network.span, |c| c.span);
        let (step, large) = match built.constraint_step_change {
            Some(c) => (
                format!(
                    "; they change the network's one-step map by {c:.2e} of the step (the \
                     latent flow's speed, relative)"
                ),
                c > STEP_CHANGE_WARN,
            ),
            None => (String::new(), false),
        };
        let help = if large {
            "a change of the step changes the speed of the latent flow by that fraction, enough to \
             fail a long simulation: raise `neurons`, the density, or lower `wiring`"
        } else {
            "the network keeps full weights; `rnnc check` measures what the cost does"
        };
        warnings.push(
            Diagnostic::warning(
                &codes::BUILD_CONSTRAINT_COST,
                format!(
                    "network `{}`: the synapse-level constraints raise the recurrent decoding \
                     error by {:.2e} (relative, in function space){step}",
                    network.name, cost
                ),
            )
            .at(span, "these constraints")
            .help(help),
        );
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
        figures: Figures::default(),
    })
}

/// `lowrank(rank, bulk)` (METHODS.md section 3).
fn build_lowrank(
    program: &Program,
    network: &Network,
    inst: &crate::sema::model::SystemInstance,
    opts: &decl::Lowrank,
    failed: &dyn Fn(String) -> Diagnostic,
    unsupported: &dyn Fn(String, Span) -> Diagnostic,
) -> Result<Built, BuildError> {
    let lat = Latent::new(&program.systems[inst.system], inst).map_err(failed)?;
    let n = network
        .neurons
        .ok_or_else(|| failed("`lowrank` needs `neurons = N`".into()))?;
    if let Some(rank) = opts.rank {
        if rank != lat.d {
            return Err(unsupported(
                format!(
                    "`lowrank(rank = {rank})`: only rank = d (here {}), one loading pair per \
                     latent dimension, is built",
                    lat.d
                ),
                network.method.span,
            ));
        }
    }
    if let Some(c) = network.constraints.first() {
        return Err(not_implemented(
            &format!("the constraint `{}` on a low-rank network", c.name()),
            c.span,
        ));
    }
    let Some(tau) = network.tau else {
        return Err(unsupported(
            "`lowrank` of a map needs `tau`".into(),
            network.span,
        ));
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
        opts.bulk,
        opts.ridge,
        phi_of(&network.neuron),
        setup,
        meta,
    )
    .map_err(failed)?;
    Ok(Built {
        net,
        decoder_rmse: None,
        warnings: Vec::new(),
        mean_field: predicted,
        figures: Figures::default(),
    })
}

/// `reservoir(...)`: drive mode for systems and tasks (METHODS.md section 4).
fn build_reservoir(
    program: &Program,
    network: &Network,
    opts: &reservoir::Options,
    failed: &dyn Fn(String) -> Diagnostic,
    unsupported: &dyn Fn(String, Span) -> Diagnostic,
) -> Result<Built, BuildError> {
    let n = network
        .neurons
        .ok_or_else(|| failed("`reservoir` needs `neurons = N`".into()))?;
    if let Some(c) = network.constraints.first() {
        return Err(not_implemented(
            &format!("the constraint `{}` on a reservoir", c.name()),
            c.span,
        ));
    }
    if !matches!(network.neuron.kind, Neuron::Tanh(_)) {
        return Err(unsupported(
            format!(
                "a reservoir runs tanh units (METHODS.md section 4), not `{}`",
                network.neuron.name()
            ),
            network.neuron.span,
        ));
    }
    let dt = network.dt;
    let setup = |tau| Setup {
        n,
        dt,
        tau,
        seed: network.seed,
    };
    let compile = opts.mode == decl::ReservoirMode::Compile;
    // A map without `tau` replaces its state every step: alpha = dt / tau = 1.
    let tau = network.tau.unwrap_or(dt);
    let fit = match &network.target {
        Target::System(inst) => {
            let lat = Latent::new(&program.systems[inst.system], inst).map_err(failed)?;
            let meta = meta(network, &lat, Some(&[tau]));
            if compile {
                let c = reservoir::compile::system(&lat, opts, setup(tau), meta).map_err(failed)?;
                let warnings = c
                    .warnings
                    .iter()
                    .map(|w| {
                        Diagnostic::warning(
                            &codes::BUILD_DEGREE,
                            format!("network `{}`: {w}", network.name),
                        )
                        .at(network.method.span, "this method")
                        .help("give `degree` or more `neurons`")
                    })
                    .collect();
                return Ok(Built {
                    net: c.net,
                    decoder_rmse: None,
                    warnings,
                    mean_field: None,
                    figures: Figures {
                        condition: Some(c.condition),
                        degree: Some(c.degree),
                        ..Figures::default()
                    },
                });
            }
            reservoir::drive::system(&lat, opts, setup(tau), meta).map_err(failed)?
        }
        Target::Task(_) if compile => {
            return Err(unsupported(
                "`reservoir(mode = compile)` compiles systems; a task is driven".into(),
                network.method.span,
            ))
        }
        Target::Task(ti) => {
            let task = &program.tasks[*ti];
            let meta = crate::net::Meta {
                network: network.name.clone(),
                target: task.name.clone(),
                method: network.method.name().into(),
                options: call_json(&network.method.call),
                seed: network.seed,
                tau: vec![tau],
                inputs: task.input_names(),
                outputs: task.output_names(),
                units: json!({"time": "s", "dt": "s", "tau": "s"}),
                ..Default::default()
            };
            reservoir::drive::task(task, opts, setup(tau), meta).map_err(failed)?
        }
        Target::None => {
            return Err(unsupported(
                "`reservoir` realizes a system or a task".into(),
                network.span,
            ))
        }
    };
    Ok(Built {
        net: fit.net,
        decoder_rmse: None,
        warnings: Vec::new(),
        mean_field: None,
        figures: Figures::default(),
    })
}

/// The coordinate in [0, 1] of each neuron along `axis` (`x`, `y`, `z`) of its position;
/// without positions, the neuron index.
fn axis_coordinate(positions: Option<&[Vec<f64>]>, axis: decl::Axis, n: usize) -> Vec<f64> {
    let c = axis.column();
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
        OptValue::Sym(s) | OptValue::Str(s) => json!(s),
        OptValue::Axis(a) => json!(a.name()),
        OptValue::Task(i) => json!(i),
        OptValue::Components(c) => json!(c.text),
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
    let mut options = call_json(&network.method.call);
    if let Json::Object(o) = &mut options {
        o.insert("neurons".into(), json!(network.neurons));
        o.insert("neuron".into(), json!(network.neuron.name()));
        o.insert(
            "constraints".into(),
            Json::Array(
                network
                    .constraints
                    .iter()
                    .map(|c| json!({"name": c.name(), "options": call_json(&c.call)}))
                    .collect(),
            ),
        );
    }
    crate::net::Meta {
        network: network.name.clone(),
        target: sys.name.clone(),
        method: network.method.name().to_string(),
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
