//! Stand-alone front end of the power-flow engine, for benchmarks and scripts:
//! `kos-grid powerflow CASE` and `kos-grid contingency CASE` (the same as in `kos-twin`).

use clap::{Parser, Subcommand};
use kos_grid::cli::{self, CliError, ContingencyArgs, PowerflowArgs};

#[derive(Parser)]
#[command(
    name = "kos-grid",
    version,
    about = "Power flow and N-1 contingency analysis of MATPOWER and pf-refdata cases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Solve a power flow.
    Powerflow(PowerflowArgs),
    /// N-1 contingency analysis over every in-service branch.
    Contingency(ContingencyArgs),
}

fn load(path: &std::path::Path) -> Result<kos_grid::Network, CliError> {
    Ok(kos_grid::load_case(path)?)
}

fn main() -> std::process::ExitCode {
    let out = match Cli::parse().command {
        Command::Powerflow(a) => cli::powerflow(&a, load),
        Command::Contingency(a) => cli::contingency(&a, load),
    };
    match out {
        Ok(s) => match cli::print(s.trim_end()) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: standard output: {e}");
                std::process::ExitCode::from(2)
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
