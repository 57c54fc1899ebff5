//! The `rnnc` binary: a thin shell over the library (`src/cli/`, a file per command).

mod cli;

/// The stack the compiler runs on. The front end bounds expression nesting
/// (`syntax::ast::MAX_DEPTH`), so its recursion needs far less; this is a margin, as rustc
/// keeps one, for every pass below it.
const STACK_BYTES: usize = 64 << 20;

fn main() -> std::process::ExitCode {
    match std::thread::Builder::new()
        .name("rnnc".into())
        .stack_size(STACK_BYTES)
        .spawn(cli::main)
    {
        Ok(worker) => worker
            .join()
            .unwrap_or_else(|_| std::process::ExitCode::from(101)),
        // No thread (a limit on threads): run here, on the main stack.
        Err(_) => cli::main(),
    }
}
