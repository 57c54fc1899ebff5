//! The hostile corpus (tests/hostile/README.md): inputs a careful reviewer of a compiler and a
//! file-format reader would try. The generators below write each case into
//! `target/hostile/NAME/` (nothing large is committed) and run `rnnc` on it under a 1 GB
//! address-space limit and 10 s of CPU (`ulimit -v`, `ulimit -t`), with a wall-clock limit for
//! hangs. Every case must end as its table says: exit 0 or 1 with the right verdict, or exit 2
//! with the named diagnostic code; never a panic, an abort, a hang, or a changed output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One input and what must come of it.
pub struct Case {
    pub name: String,
    /// Files of the case: name and bytes. The first is `FILE` in `args`.
    pub files: Vec<(String, Vec<u8>)>,
    /// The command line; `FILE` is the first file, `DIR` the case's folder.
    pub args: Vec<String>,
    /// The exit status that is right.
    pub exit: i32,
    /// A diagnostic code (or other text) the output must contain.
    pub needs: Option<&'static str>,
    /// Text the output must not contain (a system file's second line, say).
    pub never: Option<String>,
}

fn case(name: &str, src: impl Into<Vec<u8>>, args: &str, exit: i32, needs: &'static str) -> Case {
    Case {
        name: name.into(),
        files: vec![("main.rnn".into(), src.into())],
        args: args.split_whitespace().map(String::from).collect(),
        exit,
        needs: (!needs.is_empty()).then_some(needs),
        never: None,
    }
}

const DECAY: &str = "system S {\n state x in [-1, 1]\n dx/dt = -x\n}\n";
const DRIVEN: &str = "system S {\n input u in [-1, 1]\n state x in [-1, 1]\n dx/dt = u - x\n}\n";

fn with_network(system: &str, body: &str) -> String {
    format!("{system}network n for S {{ {body} }}\n")
}

fn checked(body: &str, steps: &str) -> String {
    format!(
        "{}check n {{\n {steps}\n expect nrmse < 5%\n}}\n",
        with_network(DRIVEN, body)
    )
}

fn task(body: &str, network: &str) -> String {
    format!(
        "task T {{\n input a\n output y\n{body}\n}}\nnetwork n for T {{ {network} }}\n\
         check n {{ expect accuracy(T) > 50% }}\n"
    )
}

const MB: usize = 1 << 20;
const TOO_LARGE: &str = "rnnc::limits::too_large";
const BUILD: &str = "build FILE -o DIR/out";
const CHECK: &str = "check FILE";

/// The program-side corpus: the front end, sizes, imports, outputs.
pub fn programs() -> Vec<Case> {
    let mut v = Vec::new();
    let ok_tail = with_network(DECAY, "neurons = 20");

    // Lexing and parsing: size, depth, bytes.
    let blank = "\n".repeat(20 * MB) + &ok_tail;
    v.push(case("blank_lines_20mb", blank, BUILD, 0, ""));
    let comments = "// a comment line\n".repeat(20 * MB / 18) + &ok_tail;
    v.push(case("comment_lines_20mb", comments, BUILD, 0, ""));
    let block = format!("/*{}*/\n{ok_tail}", "* / ".repeat(5 * MB));
    v.push(case("block_comment_20mb", block, BUILD, 0, ""));
    let unterminated = format!("{ok_tail}/*{}", "x".repeat(20 * MB));
    v.push(case(
        "unterminated_block_comment_20mb",
        unterminated,
        BUILD,
        2,
        "rnnc::lex::unterminated_comment",
    ));
    let statements = "system S {\n state x in [-1, 1]\n".to_string()
        + &" dx/dt = -x\n".repeat(2 * MB / 12)
        + "}\n";
    v.push(case(
        "two_million_equations",
        statements,
        BUILD,
        2,
        "rnnc::",
    ));
    let long_line = format!(
        "system S {{ state x in [-1, 1]; dx/dt = -x {} }}\n",
        "@".repeat(10 * MB)
    );
    let mut c = case("long_line_10mb", long_line, BUILD, 2, "rnnc::");
    c.never = Some("@".repeat(1000));
    v.push(c);
    let long_ident = format!("system S {{ state {} in [-1, 1] }}\n", "x".repeat(5 * MB));
    let mut c = case("identifier_5mb", long_ident, BUILD, 2, "rnnc::");
    c.never = Some("x".repeat(1000));
    v.push(c);
    let long_string = format!("import \"{}\"\n{ok_tail}", "a".repeat(5 * MB));
    let mut c = case("string_5mb", long_string, BUILD, 2, "rnnc::");
    c.never = Some("a".repeat(1000));
    v.push(c);
    let deep = |open: &str, close: &str, n: usize| {
        format!(
            "system S {{\n state x in [-1, 1]\n dx/dt = {}-x{}\n}}\nnetwork n for S {{ neurons = 20 }}\n",
            open.repeat(n),
            close.repeat(n)
        )
    };
    v.push(case(
        "parens_1e5",
        deep("(", ")", 100_000),
        BUILD,
        2,
        "rnnc::parse::too_deep",
    ));
    v.push(case(
        "parens_1e3",
        deep("(", ")", 1000),
        BUILD,
        2,
        "rnnc::parse::too_deep",
    ));
    v.push(case("parens_100", deep("(", ")", 100), BUILD, 0, ""));
    v.push(case(
        "unary_minus_1e5",
        deep("-", "", 100_000),
        BUILD,
        2,
        "rnnc::parse::too_deep",
    ));
    v.push(case(
        "brackets_1e5",
        deep("[", "]", 100_000),
        BUILD,
        2,
        "rnnc::",
    ));
    v.push(case(
        "calls_1e5",
        deep("sin(", ")", 100_000),
        BUILD,
        2,
        "rnnc::parse::too_deep",
    ));
    let sum = format!(
        "system S {{\n state x in [-1, 1]\n dx/dt = -x{}\n}}\nnetwork n for S {{ neurons = 20 }}\n",
        " + 0 * x".repeat(100_000)
    );
    v.push(case("flat_sum_1e5", sum, BUILD, 0, ""));
    let power = format!(
        "system S {{\n state x in [-1, 1]\n dx/dt = -x * 1{}\n}}\nnetwork n for S {{ neurons = 20 }}\n",
        "^1".repeat(100_000)
    );
    v.push(case(
        "power_tower_1e5",
        power,
        BUILD,
        2,
        "rnnc::parse::too_deep",
    ));
    let cr = ok_tail.replace('\n', "\r") + "// the end\rnetwork m for S { neurons = 20 }\r";
    v.push(case("cr_line_endings", cr, BUILD, 0, ""));
    let cr_error =
        "system S {\r state x in [-1, 1]\r dx/dt = -x\r}\r\rnetwork n for S { neurons = @ }\r";
    v.push(case(
        "cr_line_endings_error",
        cr_error,
        BUILD,
        2,
        "main.rnn:6:",
    ));
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(ok_tail.as_bytes());
    v.push(case("utf8_bom", bom, BUILD, 0, ""));
    let mut latin1 = ok_tail.clone().into_bytes();
    latin1.extend_from_slice(b"// caf\xe9\n");
    v.push(case("latin1_byte", latin1, BUILD, 2, "line 6, column 7"));
    let mut nul = ok_tail.clone().into_bytes();
    nul.extend_from_slice(b"\0\0\0");
    v.push(case("nul_bytes", nul, BUILD, 2, "rnnc::lex::invalid_char"));
    v.push(case("empty_file", "", BUILD, 0, ""));
    v.push(case(
        "only_garbage",
        "}}}}{{{{))))((((",
        BUILD,
        2,
        "rnnc::parse::",
    ));
    let errors = "@\n".repeat(100_000);
    v.push(case(
        "hundred_thousand_errors",
        errors,
        BUILD,
        2,
        "rnnc::parse::unexpected_token",
    ));
    let systems: String = (0..20_000)
        .map(|i| format!("system S{i} {{ state x in [-1, 1]; dx/dt = -x }}\n"))
        .collect();
    v.push(case(
        "twenty_thousand_systems",
        systems + &ok_tail,
        BUILD,
        0,
        "",
    ));
    v.push(case(
        "number_1e999999",
        with_network(DECAY, "neurons = 1e999999"),
        BUILD,
        2,
        "rnnc::",
    ));
    v.push(case(
        "number_huge_integer",
        with_network(DECAY, "neurons = 99999999999999999999999999"),
        BUILD,
        2,
        "rnnc::",
    ));
    v.push(case(
        "neurons_zero",
        with_network(DECAY, "neurons = 0"),
        BUILD,
        2,
        "rnnc::",
    ));
    v.push(case(
        "neurons_negative",
        with_network(DECAY, "neurons = -5"),
        BUILD,
        2,
        "rnnc::",
    ));
    v.push(case(
        "neurons_fraction",
        with_network(DECAY, "neurons = 2.5"),
        BUILD,
        2,
        "rnnc::",
    ));

    // Sizes with a budget.
    v.push(case(
        "neurons_1e5",
        with_network(DECAY, "neurons = 100000"),
        BUILD,
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "neurons_1e9",
        with_network(DECAY, "neurons = 1e9"),
        BUILD,
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "lowrank_neurons_1e9",
        with_network(DECAY, "method = lowrank; neurons = 1e9"),
        BUILD,
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "reservoir_neurons_1e9",
        with_network(DECAY, "method = reservoir; neurons = 1e9"),
        BUILD,
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "eval_points_1e12",
        with_network(DECAY, "method = nef(eval_points = 1e12); neurons = 20"),
        BUILD,
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "reservoir_train_1e9_s",
        with_network(DRIVEN, "method = reservoir(train = 1e9 s); neurons = 20"),
        BUILD,
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "reservoir_starts_1e9",
        with_network(
            DRIVEN,
            "method = reservoir(starts = 1000000000); neurons = 20",
        ),
        BUILD,
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "reservoir_degree_1e6",
        with_network(
            DRIVEN,
            "method = reservoir(mode = compile, degree = 1000000); neurons = 20",
        ),
        BUILD,
        2,
        "rnnc::",
    ));
    v.push(case("state_vector_1e9", "system S {\n state q[1000000000] in ball(1)\n dq/dt = -q\n}\nnetwork n for S { neurons = 20 }\n", BUILD, 2, "rnnc::"));
    v.push(case(
        "simulate_1e9_s",
        checked("neurons = 20; seed = 1", "simulate 1e9 s with u = 0.5"),
        CHECK,
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "simulate_1_s",
        checked("neurons = 20; seed = 1", "simulate 1 s with u = 0.5"),
        CHECK,
        0,
        "pass",
    ));
    v.push(case(
        "simulate_zero",
        checked("neurons = 20; seed = 1", "simulate 0 s with u = 0.5"),
        CHECK,
        2,
        "rnnc::",
    ));
    v.push(case(
        "simulate_negative",
        checked("neurons = 20; seed = 1", "simulate -1 s with u = 0.5"),
        CHECK,
        2,
        "rnnc::",
    ));
    v.push(case(
        "dt_1e-300",
        with_network(DECAY, "neurons = 20; dt = 1e-300 s"),
        BUILD,
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "dt_zero",
        with_network(DECAY, "neurons = 20; dt = 0 s"),
        BUILD,
        2,
        "rnnc::call::bad_value",
    ));
    v.push(case(
        "dt_negative",
        with_network(DECAY, "neurons = 20; dt = -1 ms"),
        BUILD,
        2,
        "rnnc::call::bad_value",
    ));
    v.push(case(
        "dt_infinite",
        with_network(DECAY, "neurons = 20; dt = 1e308 s * 10"),
        BUILD,
        2,
        "rnnc::",
    ));
    v.push(case(
        "tau_zero",
        with_network(DECAY, "neurons = 20; tau = 0 s"),
        BUILD,
        2,
        "rnnc::call::bad_value",
    ));
    v.push(case(
        "dt_above_tau",
        with_network(DECAY, "neurons = 20; tau = 1 ms; dt = 10 ms"),
        BUILD,
        0,
        "",
    ));
    v.push(case(
        "trials_1e9",
        task(
            " trials 1e9\n trial { period go 100 ms { a = 1; expect y = 1 within 0.5 } }",
            "neurons = 20",
        ),
        CHECK,
        2,
        "over the budget",
    ));
    v.push(case(
        "period_1e9_s",
        task(
            " trial { period go 1e9 s { a = 1; expect y = 1 within 0.5 } }",
            "neurons = 20",
        ),
        CHECK,
        2,
        "1e12 steps",
    ));
    v.push(case("vary_product_1e12", task(
        &format!(" vary p in [{}]\n vary q in [{}]\n vary r in [{}]\n trial {{ period go 10 ms {{ a = p; expect y = 1 within 0.5 }} }}",
            vec!["1"; 10_000].join(", "), vec!["1"; 10_000].join(", "), vec!["1"; 10_000].join(", ")),
        "neurons = 20"), CHECK, 2, "over the budget"));
    let mut c = case(
        "run_for_1e9_s",
        with_network(DRIVEN, "neurons = 20"),
        "run FILE --for 1e9s -o DIR/trace.csv",
        2,
        TOO_LARGE,
    );
    c.args = vec![
        "run".into(),
        "FILE".into(),
        "--for".into(),
        "1e9 s".into(),
        "-o".into(),
        "DIR/trace.csv".into(),
    ];
    v.push(c);
    let mut c = case(
        "run_for_infinite",
        with_network(DRIVEN, "neurons = 20"),
        "",
        2,
        "rnnc::expr::invalid_value",
    );
    c.args = vec![
        "run".into(),
        "FILE".into(),
        "--for".into(),
        "1e400 s".into(),
        "-o".into(),
        "DIR/trace.csv".into(),
    ];
    v.push(c);
    v.push(case(
        "memory_budget_1mb",
        with_network(DECAY, "neurons = 400"),
        "build FILE -o DIR/out --memory 1MB",
        2,
        TOO_LARGE,
    ));
    v.push(case(
        "plot_pdf",
        with_network(DRIVEN, "neurons = 20"),
        "run FILE --for 1s --plot DIR/plot.pdf",
        2,
        "name the file `.svg` or `.png`",
    ));

    // Imports.
    let mut c = case(
        "self_import_spellings",
        format!(
            "import \"./main.rnn\"\nimport \"sub/../main.rnn\"\nimport \"main.rnn\"\n{ok_tail}"
        ),
        BUILD,
        2,
        "rnnc::",
    );
    c.files.push(("sub/keep.txt".into(), b"".to_vec()));
    v.push(c);
    let mut c = case(
        "import_cycle",
        format!("import \"b.rnn\"\n{ok_tail}"),
        BUILD,
        2,
        "rnnc::",
    );
    c.files
        .push(("b.rnn".into(), b"import \"./main.rnn\"\n".to_vec()));
    v.push(c);
    let mut c = case(
        "import_chain_500",
        format!("import \"m0.rnn\"\n{ok_tail}"),
        BUILD,
        0,
        "",
    );
    for i in 0..500 {
        let next = if i < 499 {
            format!("import \"m{}.rnn\"\n", i + 1)
        } else {
            String::new()
        };
        c.files.push((
            format!("m{i}.rnn"),
            format!("{next}system M{i} {{ state x in [-1, 1]; dx/dt = -x }}\n").into_bytes(),
        ));
    }
    v.push(c);
    v.push(case(
        "import_dev_zero",
        format!("import \"/dev/zero\"\n{ok_tail}"),
        BUILD,
        2,
        "rnnc::",
    ));
    v.push(case(
        "import_directory",
        format!("import \"/tmp\"\n{ok_tail}"),
        BUILD,
        2,
        "rnnc::",
    ));
    let mut c = case(
        "import_fifo",
        format!("import \"fifo.rnn\"\n{ok_tail}"),
        BUILD,
        2,
        "rnnc::",
    );
    c.files.push(("fifo.rnn".into(), b"FIFO".to_vec()));
    v.push(c);
    if let Ok(passwd) = std::fs::read_to_string("/etc/passwd") {
        let mut c = case(
            "import_etc_passwd",
            format!("import \"/etc/passwd\"\n{ok_tail}"),
            BUILD,
            2,
            "rnnc::",
        );
        // Only the line of the error may be quoted, never the file's other lines.
        c.never = passwd
            .lines()
            .nth(1)
            .map(String::from)
            .filter(|l| !l.is_empty());
        v.push(c);
    }
    let mut c = case(
        "import_big_file",
        format!("import \"big.rnn\"\n{ok_tail}"),
        BUILD,
        2,
        "rnnc::",
    );
    c.files.push(("big.rnn".into(), vec![b' '; 65 * MB]));
    v.push(c);

    // Outputs.
    let mut c = case(
        "output_is_a_link",
        with_network(DECAY, "neurons = 20"),
        BUILD,
        0,
        "",
    );
    c.files
        .push(("out/n.npz@".into(), b"precious.txt".to_vec()));
    c.files
        .push(("out/precious.txt".into(), b"keep me".to_vec()));
    v.push(c);
    v
}

fn materialize(case: &Case, dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("out")).unwrap();
    // A good previous output that a failure must not touch.
    std::fs::write(dir.join("out/n.npz"), b"previous").unwrap();
    std::fs::write(dir.join("trace.csv"), b"previous").unwrap();
    for (name, bytes) in &case.files {
        if let Some(link) = name.strip_suffix('@') {
            let _ = std::fs::remove_file(dir.join(link));
            std::os::unix::fs::symlink(String::from_utf8_lossy(bytes).as_ref(), dir.join(link))
                .unwrap();
            continue;
        }
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if bytes == b"FIFO" {
            let ok = Command::new("mkfifo")
                .arg(&path)
                .status()
                .map(|s| s.success());
            assert!(matches!(ok, Ok(true)), "mkfifo");
            continue;
        }
        std::fs::write(path, bytes).unwrap();
    }
}

/// Runs one case; `Err` says how it went wrong.
pub fn run(case: &Case, root: &Path) -> Result<Duration, String> {
    let dir = root.join(&case.name);
    materialize(case, &dir);
    let file = dir.join(&case.files[0].0);
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            a.replace("FILE", file.to_str().unwrap())
                .replace("DIR", dir.to_str().unwrap())
        })
        .collect();
    let start = Instant::now();
    // 1 GB of address space, 10 s of CPU; two threads and two malloc arenas so that the
    // address space is the program's, not the machine's core count's.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576; ulimit -t 10; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_rnnc"))
        .args(&args)
        .arg("--no-color")
        .env("RAYON_NUM_THREADS", "2")
        .env("MALLOC_ARENA_MAX", "2")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    // Read both pipes on threads (a large output must not block the child) and wait at most
    // 30 s of wall time: a hang (a FIFO, a loop) burns no CPU.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).ok();
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("hung: killed after 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    let text = String::from_utf8_lossy(&t_out.join().unwrap()).to_string()
        + &String::from_utf8_lossy(&t_err.join().unwrap());
    let head: String = text.chars().take(1500).collect();
    let code = status.code();
    if text.contains("panicked") || code.is_none() || code == Some(101) || code == Some(134) {
        return Err(format!("crashed ({status}): {head}"));
    }
    if code != Some(case.exit) {
        return Err(format!("exit {code:?}, wanted {}: {head}", case.exit));
    }
    if let Some(n) = case.needs {
        if !text.contains(n) {
            return Err(format!("output lacks `{n}`: {head}"));
        }
    }
    if let Some(n) = &case.never {
        if text.contains(n.as_str()) {
            return Err(format!(
                "output quotes what it must not ({} bytes)",
                text.len()
            ));
        }
    }
    if text.len() > 2 * MB {
        return Err(format!("{} bytes of output", text.len()));
    }
    if case.exit == 2 {
        for f in ["out/n.npz", "trace.csv"] {
            if std::fs::read(dir.join(f)).ok().as_deref() != Some(b"previous".as_slice()) {
                return Err(format!("a failed command changed {f}"));
            }
        }
    }
    if case.name == "output_is_a_link" {
        let kept = std::fs::read_to_string(dir.join("out/precious.txt")).unwrap_or_default();
        if kept != "keep me" {
            return Err("wrote through the link".into());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(took)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/hostile")
}

/// Runs `cases`, all of them, and fails with every case that went wrong.
pub fn run_all(cases: &[Case]) {
    let root = root();
    let mut failures = Vec::new();
    let mut report = String::new();
    for c in cases {
        match run(c, &root) {
            Ok(t) => report.push_str(&format!("{:<36} {:>7.2} s\n", c.name, t.as_secs_f64())),
            Err(e) => failures.push(format!("{}: {e}", c.name)),
        }
    }
    // `cargo test -- --nocapture` shows the time each case took.
    let _ = std::io::stdout().write_all(report.as_bytes());
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn hostile_programs() {
    run_all(&programs());
}

// ---- Weight files ------------------------------------------------------------------------

// The archive builders are the weight reader's tests' (tests/it/npz/hostile.rs): stored
// members, and deflated ones that lie about their size.
use crate::npz::hostile::{archive, bomb, npy_f8 as f64_npy, npy_raw as npy, stored as member};

const INTEGRATOR: &str = "system I {\n input u in [-1, 1]\n state x in [-1, 1]\n dx/dt = u\n}\n";

fn integrator_program(neurons: usize) -> String {
    format!(
        "{INTEGRATOR}network n for I {{ neurons = {neurons}; seed = 1 }}\n\
         check n {{\n simulate 1 s with u = pulse(200 ms, 100 ms)\n expect nrmse < 20%\n}}\n"
    )
}

/// The members of a good 20-neuron integrator's weight file, as rnnc writes them.
fn good_members() -> Vec<(String, Vec<u8>)> {
    let mut db = rnnc::source::SourceDb::new();
    let a = rnnc::driver::analyze_text(
        &mut db,
        &rnnc::source::MemLoader::default(),
        "i.rnn",
        &integrator_program(20),
    );
    assert!(!a.has_errors());
    let net = rnnc::methods::build(&a.program, 0).ok().unwrap().net;
    let mut buf = std::io::Cursor::new(Vec::new());
    rnnc::npz::write(&mut buf, &net, &rnnc::npz::WriteOpts::default()).unwrap();
    let mut z = ::zip::ZipArchive::new(std::io::Cursor::new(buf.into_inner())).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut b = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut b).unwrap();
            (f.name().unwrap().to_string(), b)
        })
        .collect()
}

fn stored(members: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    archive(
        &members
            .into_iter()
            .map(|(n, b)| member(&n, b))
            .collect::<Vec<_>>(),
    )
}

/// The good file with member `name` replaced (or added, or removed with `None`).
fn edited(name: &str, bytes: Option<Vec<u8>>) -> Vec<u8> {
    let mut m = good_members();
    m.retain(|(n, _)| n != name);
    if let Some(b) = bytes {
        m.push((name.into(), b));
    }
    stored(m)
}

/// The good file with its manifest edited.
fn with_manifest(edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let mut members = good_members();
    for (n, b) in members.iter_mut() {
        if n == "manifest.json.npy" {
            // The manifest is a uint8 array: its data follows the .npy header.
            let start = 10 + u16::from_le_bytes([b[8], b[9]]) as usize;
            let mut m: serde_json::Value = serde_json::from_slice(&b[start..]).unwrap();
            edit(&mut m);
            let text = serde_json::to_vec(&m).unwrap();
            *b = npy(
                &format!(
                    "{{'descr': '|u1', 'fortran_order': False, 'shape': ({},), }}",
                    text.len()
                ),
                &text,
            );
        }
    }
    stored(members)
}

fn weights(name: &str, file: Vec<u8>, exit: i32, needs: &'static str) -> Case {
    weights_for(name, 20, file, exit, needs)
}

fn weights_for(name: &str, neurons: usize, file: Vec<u8>, exit: i32, needs: &'static str) -> Case {
    Case {
        name: name.into(),
        files: vec![
            ("main.rnn".into(), integrator_program(neurons).into_bytes()),
            ("w.npz".into(), file),
        ],
        args: vec![
            "check".into(),
            "FILE".into(),
            "--weights".into(),
            "DIR/w.npz".into(),
        ],
        exit,
        needs: (!needs.is_empty()).then_some(needs),
        never: None,
    }
}

/// The weight-file corpus: foreign, corrupt, lying and enormous files.
pub fn weight_files() -> Vec<Case> {
    const INVALID: &str = "rnnc::weights::invalid";
    const MISMATCH: &str = "rnnc::weights::mismatch";
    let good = stored(good_members());
    let n = 20;
    let mut v = vec![
        weights("good", good.clone(), 0, "pass"),
        weights_for("neurons_differ", 50, good.clone(), 2, MISMATCH),
        weights("empty_file", Vec::new(), 2, INVALID),
        weights(
            "text_file",
            b"W_rec = [[1, 2], [3, 4]]\n".to_vec(),
            2,
            INVALID,
        ),
        weights(
            "truncated_half",
            good[..good.len() / 2].to_vec(),
            2,
            INVALID,
        ),
        weights(
            "truncated_tail",
            good[..good.len() - 10].to_vec(),
            2,
            INVALID,
        ),
    ];
    let mut flipped = good.clone();
    let mid = flipped.len() / 3;
    flipped[mid] ^= 0xff;
    v.push(weights("flipped_byte", flipped, 2, INVALID));
    // Lying manifests: the program decides what is compared.
    v.push(weights(
        "state_named_u",
        with_manifest(|m| m["states"] = serde_json::json!(["u"])),
        2,
        MISMATCH,
    ));
    v.push(weights(
        "state_named_t",
        with_manifest(|m| m["states"] = serde_json::json!(["t"])),
        2,
        MISMATCH,
    ));
    // Written as tanh; read as relu it must fail its check, never pass.
    v.push(weights(
        "phi_string_relu",
        with_manifest(|m| m["phi"] = serde_json::json!("relu")),
        1,
        "FAIL",
    ));
    v.push(weights(
        "phi_number",
        with_manifest(|m| m["phi"] = serde_json::json!(5)),
        2,
        INVALID,
    ));
    v.push(weights(
        "form_number",
        with_manifest(|m| m["form"] = serde_json::json!(5)),
        2,
        INVALID,
    ));
    v.push(weights(
        "dt_negative",
        with_manifest(|m| m["dt"] = serde_json::json!(-0.001)),
        2,
        INVALID,
    ));
    v.push(weights(
        "dt_zero",
        with_manifest(|m| m["dt"] = serde_json::json!(0.0)),
        2,
        INVALID,
    ));
    v.push(weights(
        "dt_tiny",
        with_manifest(|m| m["dt"] = serde_json::json!(1e-300)),
        2,
        "rnnc::",
    ));
    v.push(weights(
        "manifest_not_json",
        edited(
            "manifest.json.npy",
            Some(npy(
                "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }",
                b"{{{{{",
            )),
        ),
        2,
        INVALID,
    ));
    let huge: Vec<u8> = format!("{{\"pad\": \"{}\"}}", "x".repeat(40 * MB)).into_bytes();
    v.push(weights(
        "manifest_40mb",
        edited(
            "manifest.json.npy",
            Some(npy(
                &format!(
                    "{{'descr': '|u1', 'fortran_order': False, 'shape': ({},), }}",
                    huge.len()
                ),
                &huge,
            )),
        ),
        2,
        INVALID,
    ));
    // Values.
    v.push(weights(
        "alpha_above_one",
        edited("alpha.npy", Some(f64_npy(&[n], &[1.5; 20]))),
        2,
        INVALID,
    ));
    v.push(weights(
        "alpha_zero",
        edited("alpha.npy", Some(f64_npy(&[n], &[0.0; 20]))),
        2,
        INVALID,
    ));
    v.push(weights(
        "alpha_nan",
        edited("alpha.npy", Some(f64_npy(&[n], &[f64::NAN; 20]))),
        2,
        INVALID,
    ));
    v.push(weights(
        "alpha_scalar",
        edited(
            "alpha.npy",
            Some(npy(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                &0.01f64.to_le_bytes(),
            )),
        ),
        0,
        "pass",
    ));
    v.push(weights(
        "alpha_tiny",
        edited("alpha.npy", Some(f64_npy(&[n], &[1e-12; 20]))),
        2,
        "rnnc::limits::too_large",
    ));
    v.push(weights(
        "w_rec_nan",
        edited("W_rec_left.npy", Some(f64_npy(&[n, 1], &[f64::NAN; 20]))),
        2,
        INVALID,
    ));
    v.push(weights(
        "w_enc_wrong_shape",
        edited("W_enc.npy", Some(f64_npy(&[n, 7], &[0.0; 140]))),
        2,
        MISMATCH,
    ));
    v.push(weights(
        "w_rec_wrong_shape",
        edited("W_rec_left.npy", Some(f64_npy(&[7, 1], &[0.0; 7]))),
        2,
        INVALID,
    ));
    v.push(weights(
        "w_out_missing",
        edited("W_out.npy", None),
        2,
        INVALID,
    ));
    v.push(weights(
        "zero_neurons",
        edited("alpha.npy", Some(f64_npy(&[0], &[]))),
        2,
        INVALID,
    ));
    // .npy headers.
    let nested = format!(
        "{{'descr': {}'<f8'{}, 'fortran_order': False, 'shape': (20,), }}",
        "[('a', ".repeat(1000),
        ")]".repeat(1000)
    );
    v.push(weights(
        "descr_nested_1000",
        edited("alpha.npy", Some(npy(&nested, &[0; 160]))),
        2,
        INVALID,
    ));
    let nested = format!(
        "{{'descr': {}'<f8'{}, 'fortran_order': False, 'shape': (20,), }}",
        "[('a', ".repeat(20),
        ")]".repeat(20)
    );
    v.push(weights(
        "descr_nested_20",
        edited("alpha.npy", Some(npy(&nested, &[0; 160]))),
        2,
        INVALID,
    ));
    v.push(weights(
        "descr_object",
        edited(
            "alpha.npy",
            Some(npy(
                "{'descr': '|O', 'fortran_order': False, 'shape': (20,), }",
                b"\x80\x04cos\nsystem\n",
            )),
        ),
        2,
        INVALID,
    ));
    let mut long_header = b"\x93NUMPY\x02\x00".to_vec();
    long_header.extend_from_slice(&u32::MAX.to_le_bytes());
    long_header.extend_from_slice(b"{'descr'");
    v.push(weights(
        "header_length_4gb",
        edited("alpha.npy", Some(long_header)),
        2,
        INVALID,
    ));
    v.push(weights("shape_overflow", edited("alpha.npy", Some(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", &[]))), 2, INVALID));
    v.push(weights(
        "shape_1e5_squared",
        edited(
            "W_rec_left.npy",
            Some(npy(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }",
                &[],
            )),
        ),
        2,
        INVALID,
    ));
    let be: Vec<u8> = good_alpha().iter().flat_map(|a| a.to_be_bytes()).collect();
    v.push(weights(
        "alpha_big_endian",
        edited(
            "alpha.npy",
            Some(npy(
                "{'descr': '>f8', 'fortran_order': False, 'shape': (20,), }",
                &be,
            )),
        ),
        0,
        "pass",
    ));
    v.push(weights(
        "header_garbage",
        edited(
            "alpha.npy",
            Some(npy(
                "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (20,), }",
                &[0; 160],
            )),
        ),
        2,
        INVALID,
    ));
    v.push(weights(
        "not_npy_magic",
        edited("alpha.npy", Some(b"PK\x03\x04 not an array".to_vec())),
        2,
        INVALID,
    ));
    // Zip bombs: an unused member of 1.5 GB is never inflated; a used one that inflates past
    // what its header's shape needs is refused.
    let good_except = |skip: &str| -> Vec<_> {
        good_members()
            .into_iter()
            .filter(|(n, _)| n != skip)
            .map(|(n, b)| member(&n, b))
            .collect()
    };
    let size = 1_500_000_000u64;
    let mut m = good_except("");
    m.push(bomb("junk.npy", &[], size, size as u32));
    v.push(weights("bomb_unused_member", archive(&m), 0, "pass"));
    let header = npy(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (20,), }",
        &[],
    );
    let mut m = good_except("alpha.npy");
    m.push(bomb("alpha.npy", &header, size, 160 + header.len() as u32));
    v.push(weights("bomb_used_member_lies", archive(&m), 2, INVALID));
    let mut m = good_except("alpha.npy");
    m.push(bomb("alpha.npy", &header, size, u32::MAX));
    v.push(weights(
        "bomb_used_member_declared",
        archive(&m),
        2,
        INVALID,
    ));
    let mut members = good_members();
    members.push(("../../escape.npy".into(), f64_npy(&[1], &[1.0])));
    members.push(("/etc/evil.npy".into(), f64_npy(&[1], &[1.0])));
    v.push(weights("traversal_names", stored(members), 0, "pass"));
    let mut members = good_members();
    for i in 0..20_000 {
        members.push((format!("extra{i}.npy"), Vec::new()));
    }
    v.push(weights(
        "twenty_thousand_members",
        stored(members),
        0,
        "pass",
    ));
    // Files that are not files.
    let mut c = weights("weights_dev_zero", Vec::new(), 2, "rnnc::");
    c.args[3] = "/dev/zero".into();
    v.push(c);
    let mut c = weights("weights_directory", Vec::new(), 2, "rnnc::");
    c.args[3] = "DIR".into();
    v.push(c);
    let mut c = weights("weights_fifo", b"FIFO".to_vec(), 2, "rnnc::");
    c.files[1].0 = "w.npz".into();
    v.push(c);
    v
}

fn good_alpha() -> Vec<f64> {
    let m = good_members();
    let b = &m.iter().find(|(n, _)| n == "alpha.npy").unwrap().1;
    let start = 10 + u16::from_le_bytes([b[8], b[9]]) as usize;
    b[start..]
        .chunks(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn hostile_weight_files() {
    run_all(&weight_files());
}

#[test]
fn the_corpus_has_at_least_sixty_inputs() {
    let n = programs().len() + weight_files().len();
    assert!(n >= 60, "{n}");
}
