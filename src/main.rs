//! The `rnnc` binary: a thin shell over the library (`src/cli/`, a file per command).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
