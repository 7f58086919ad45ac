//! kos-grid: the power-flow engine of kos-twin.
//!
//! A pure library (no rendering, no networking): the network model in flat arrays indexed by
//! bus, the sparse admittance matrix, AC Newton-Raphson in polar form on a Jacobian of 2 x 2
//! blocks whose block LU keeps its order and pattern while the topology holds (each step
//! only refactorises the numbers), a fast-decoupled fallback, DC power flow, islands with their
//! own references, N-1 contingency analysis, and importers for MATPOWER case files and
//! `pf-refdata/1` reference solutions.
//!
//! ```
//! use kos_grid::{PowerFlow, PowerFlowOptions, parse_matpower};
//! let case = "mpc.version = '2';\nmpc.baseMVA = 100;\nmpc.bus = [\n1 3 0 0 0 0 1 1 0 10 1 1.1 0.9;\n2 1 50 10 0 0 1 1 0 10 1 1.1 0.9;\n];\nmpc.gen = [\n1 0 0 100 -100 1 100 1 100 0;\n];\nmpc.branch = [\n1 2 0.01 0.05 0 0 0 0 0 0 1 -360 360;\n];\n";
//! let net = parse_matpower(case, "two-bus.m").unwrap();
//! let result = PowerFlow::new().solve(&net, &PowerFlowOptions::default()).unwrap();
//! assert!(result.converged);
//! assert!(result.vm_pu[1] < 1.0);
//! ```

mod aligned;
pub mod contingency;
pub mod dc;
pub mod fdpf;
pub mod islands;
pub mod matpower;
mod matpower_script;
pub mod network;
pub mod newton;
pub mod powerflow;
pub mod refdata;
pub mod result;
mod schedule;
pub mod sparse_lu;
pub mod team;
pub mod tracing;
pub mod ybus;

#[cfg(feature = "cli")]
pub mod cli;

use std::path::Path;

pub use contingency::{ContingencyReport, OutageResult, run_n1};
pub use islands::{Island, Islands, find_islands};
pub use matpower::parse_matpower;
pub use network::{Branch, Bus, BusKind, Generator, Network};
pub use newton::NewtonOptions;
pub use powerflow::{Method, PowerFlow, PowerFlowOptions, Start};
pub use refdata::{RefCase, RefSolution, parse_refdata};
pub use result::{IslandResult, IslandStatus, PowerFlowResult};
pub use tracing::{BusTrace, TraceOptions, Tracing, trace};

/// `vm * e^(j va)`. The sine and cosine come from the `libm` crate (musl's, within one unit in
/// the last place), which inlines: about twice as fast as the system's `sincos` for the voltages
/// recomputed at every Newton step, and the same bits on every platform.
#[inline]
pub(crate) fn polar(vm: f64, va: f64) -> num_complex::Complex64 {
    let (s, c) = libm::sincos(va);
    num_complex::Complex64::new(vm * c, vm * s)
}

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum GridError {
    /// Malformed input file.
    #[error("{file}:{line}: {field}: {message}")]
    Parse {
        /// Path or name of the file.
        file: String,
        /// 1-based line (0 when the position is unknown).
        line: usize,
        /// The offending field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A network that no solver can accept.
    #[error("invalid network: {0}")]
    InvalidNetwork(String),
    /// A numerical failure outside the normal non-convergence path.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file's kind is not known from its extension.
    #[error("{0}: unknown case format (expected .m or .json)")]
    UnknownFormat(String),
}

/// Reads a case file: MATPOWER `.m` or `pf-refdata/1` `.json`.
pub fn load_case(path: &Path) -> Result<Network, GridError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| GridError::Io {
        path: name.clone(),
        source,
    })?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("m") => parse_matpower(&text, &name),
        Some("json") => parse_refdata(&text, &name).map(|c| c.network),
        _ => Err(GridError::UnknownFormat(name)),
    }
}

/// Helpers of the tests that compare results bit for bit: the AVX2 kernels with the
/// portable ones, two threads with one.
#[cfg(test)]
pub(crate) mod simd_test {
    /// Whether the processor has AVX2; says so when it has not (the test then checks nothing
    /// here, as only the portable code runs).
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn has_avx2() -> bool {
        let yes = std::arch::is_x86_feature_detected!("avx2");
        if !yes {
            eprintln!("no AVX2 on this processor: only the portable code runs here");
        }
        yes
    }

    /// The bit patterns of arrays of numbers, to compare results exactly.
    pub(crate) fn bits<const N: usize>(values: &[[f64; N]]) -> Vec<u64> {
        values.iter().flatten().map(|x| x.to_bits()).collect()
    }
}
