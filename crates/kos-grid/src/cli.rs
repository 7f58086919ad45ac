//! Command-line front end shared by the `kos-twin` and `kos-grid` binaries: `powerflow` and
//! `contingency`, with a readable summary or one JSON object.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use crate::network::Network;
use crate::powerflow::{Method, PowerFlow, PowerFlowOptions, Start};
use crate::result::PowerFlowResult;
use crate::{NewtonOptions, run_n1};

/// Error type of the front end.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// Formulation chosen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// AC Newton-Raphson (with the fast-decoupled fallback unless `--no-fallback`).
    Ac,
    /// DC approximation.
    Dc,
    /// Fast-decoupled AC (XB), finished by Newton-Raphson.
    Fd,
}

/// Options shared by `powerflow` and `contingency`.
#[derive(Debug, Clone, clap::Args)]
pub struct SolveArgs {
    /// Case file: MATPOWER `.m`, `pf-refdata/1` `.json` (kos-twin also reads scene `.ron`).
    pub file: PathBuf,
    /// Start from |V| = 1 pu and zero angles instead of the voltages stored in the file.
    #[arg(long)]
    pub flat: bool,
    /// Start from the DC power flow's angles with flat magnitudes.
    #[arg(long, conflicts_with = "flat")]
    pub dc_start: bool,
    /// Convert generator buses to fixed reactive power when a unit hits its limit.
    #[arg(long)]
    pub enforce_q_limits: bool,
    /// Share the slack among units in proportion to their ratings.
    #[arg(long)]
    pub distributed_slack: bool,
    /// Report Newton-Raphson's failure instead of trying the fast-decoupled method.
    #[arg(long)]
    pub no_fallback: bool,
    /// Largest allowed power mismatch, pu.
    #[arg(long, default_value_t = 1e-8)]
    pub tolerance: f64,
    /// Newton iteration cap.
    #[arg(long, default_value_t = 30)]
    pub max_iterations: usize,
    /// Solve on one thread: without it an island large enough to gain from them takes
    /// two (the results are the same, bit for bit).
    #[arg(long)]
    pub one_thread: bool,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
}

impl SolveArgs {
    fn options(&self, method: Method, reuse_factors_below: f64) -> PowerFlowOptions {
        PowerFlowOptions {
            method,
            start: if self.dc_start {
                Start::Dc
            } else if self.flat {
                Start::Flat
            } else {
                Start::Case
            },
            newton: NewtonOptions {
                tolerance_pu: self.tolerance,
                max_iterations: self.max_iterations,
                reuse_factors_below,
                two_threads: !self.one_thread,
            },
            enforce_q_limits: self.enforce_q_limits,
            distributed_slack: self.distributed_slack,
            fast_decoupled_fallback: !self.no_fallback,
        }
    }
}

/// `powerflow`: solve one case, optionally many times for timing.
#[derive(Debug, Clone, clap::Args)]
pub struct PowerflowArgs {
    #[command(flatten)]
    pub solve: SolveArgs,
    /// Formulation.
    #[arg(long, value_enum, default_value = "ac")]
    pub method: MethodArg,
    /// Solve this many times (admittance matrix, column order and LU pattern built once) and
    /// report the fastest and median solve times.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Below this mismatch (pu), reuse the last LU factors instead of factorising a new
    /// Jacobian (chord steps); 0 (the default) takes full Newton steps throughout.
    #[arg(long, default_value_t = 0.0)]
    pub reuse_factors_below: f64,
}

/// `contingency`: N-1 over every in-service branch.
#[derive(Debug, Clone, clap::Args)]
pub struct ContingencyArgs {
    #[command(flatten)]
    pub solve: SolveArgs,
    /// Below this mismatch (pu), reuse the last LU factors instead of factorising a new
    /// Jacobian (chord steps); 0 takes full Newton steps throughout.
    #[arg(long, default_value_t = 1e-2)]
    pub reuse_factors_below: f64,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

/// Writes `text` and a newline to standard output. A pipe closed by its reader (`| head`)
/// ends the output quietly instead of failing.
pub fn print(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// Runs `powerflow` and returns what to print. `load` reads the case file.
pub fn powerflow(
    args: &PowerflowArgs,
    load: impl Fn(&Path) -> Result<Network, CliError>,
) -> Result<String, CliError> {
    let t0 = Instant::now();
    let net = load(&args.solve.file)?;
    let parse_ms = ms(t0);
    let method = match args.method {
        MethodArg::Ac => Method::Ac,
        MethodArg::Dc => Method::Dc,
        MethodArg::Fd => Method::FastDecoupled,
    };
    let opts = args.solve.options(method, args.reuse_factors_below);
    let mut engine = PowerFlow::new();
    let t1 = Instant::now();
    engine.prepare(&net, &opts)?;
    let prepare_ms = ms(t1);
    let mut times = Vec::with_capacity(args.repeat.max(1));
    let mut result = None;
    for _ in 0..args.repeat.max(1) {
        let t = Instant::now();
        let r = engine.solve(&net, &opts)?;
        times.push(ms(t));
        result = Some(r);
    }
    let r = result.expect("at least one solve");
    let solve_ms_min = times.iter().copied().fold(f64::INFINITY, f64::min);
    let solve_ms_median = median(&mut times);
    if args.solve.json {
        let v = json!({
            "case": net.name,
            "method": match method {
                Method::Ac => "ac",
                Method::Dc => "dc",
                Method::FastDecoupled => "fd",
            },
            "buses": net.buses.len(),
            "branches": net.branches.len(),
            "generators": net.generators.len(),
            "converged": r.converged,
            "iterations": r.iterations,
            "fast_decoupled_iterations": fast_decoupled_iterations(&r),
            "max_mismatch_pu": r.max_mismatch_pu,
            "max_mismatch_bus": r.max_mismatch_bus,
            "bus_vm_pu": r.vm_pu,
            "bus_va_deg": r.va_deg,
            "bus_island": r.bus_island,
            "branch_pf_mw": r.branch_pf_mw,
            "branch_qf_mvar": r.branch_qf_mvar,
            "branch_pt_mw": r.branch_pt_mw,
            "branch_qt_mvar": r.branch_qt_mvar,
            "branch_loading_pct": r.branch_loading_pct,
            "gen_pg_mw": r.gen_pg_mw,
            "gen_qg_mvar": r.gen_qg_mvar,
            "total_losses_mw": r.total_losses_mw,
            "slack": slack_json(&r),
            "islands": r.islands,
            "timing": {
                "parse_ms": parse_ms,
                "prepare_ms": prepare_ms,
                "solve_ms_min": solve_ms_min,
                "solve_ms_median": solve_ms_median,
                "repeat": args.repeat.max(1),
            },
        });
        return Ok(serde_json::to_string(&v)?);
    }
    Ok(summary(
        &net,
        &r,
        parse_ms,
        prepare_ms,
        solve_ms_min,
        solve_ms_median,
        args.repeat.max(1),
    ))
}

fn fast_decoupled_iterations(r: &PowerFlowResult) -> usize {
    r.islands
        .iter()
        .map(|i| i.fast_decoupled_iterations)
        .max()
        .unwrap_or(0)
}

fn slack_json(r: &PowerFlowResult) -> serde_json::Value {
    r.islands
        .iter()
        .filter_map(|i| {
            i.reference
                .filter(|_| i.status != crate::IslandStatus::Deenergised)
                .map(|b| (b, i))
        })
        .map(|(b, i)| json!({"bus": b, "p_mw": i.slack_p_mw, "q_mvar": i.slack_q_mvar}))
        .collect()
}

fn summary(
    net: &Network,
    r: &PowerFlowResult,
    parse_ms: f64,
    prepare_ms: f64,
    min: f64,
    med: f64,
    repeat: usize,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "case {}: {} buses, {} branches, {} generators",
        net.name,
        net.buses.len(),
        net.branches.len(),
        net.generators.len()
    );
    let fd = fast_decoupled_iterations(r);
    let _ = writeln!(
        s,
        "{} in {} iterations{}, largest mismatch {:.3e} pu{}",
        if r.converged {
            "converged"
        } else {
            "NOT CONVERGED"
        },
        r.iterations,
        if fd > 0 {
            format!(" after {fd} fast-decoupled")
        } else {
            String::new()
        },
        r.max_mismatch_pu,
        r.max_mismatch_bus
            .map(|b| format!(" at bus {}", net.buses[b].name))
            .unwrap_or_default()
    );
    let live: Vec<usize> = (0..net.buses.len()).filter(|&i| r.vm_pu[i] > 0.0).collect();
    if let (Some(lo), Some(hi)) = (
        live.iter()
            .min_by(|&&a, &&b| r.vm_pu[a].total_cmp(&r.vm_pu[b])),
        live.iter()
            .max_by(|&&a, &&b| r.vm_pu[a].total_cmp(&r.vm_pu[b])),
    ) {
        let _ = writeln!(
            s,
            "voltage {:.4} pu (bus {}) .. {:.4} pu (bus {})",
            r.vm_pu[*lo], net.buses[*lo].name, r.vm_pu[*hi], net.buses[*hi].name
        );
    }
    let _ = writeln!(s, "losses {:.3} MW", r.total_losses_mw);
    for i in &r.islands {
        let _ = writeln!(
            s,
            "island {}: {} buses, {:?}, reference {}, slack {:.3} MW / {:.3} MVAr",
            i.id,
            i.n_buses,
            i.status,
            i.reference
                .map(|b| net.buses[b].name.clone())
                .unwrap_or_else(|| "none".into()),
            i.slack_p_mw,
            i.slack_q_mvar
        );
    }
    let overloaded = r.branch_loading_pct.iter().filter(|&&l| l > 100.0).count();
    let _ = writeln!(s, "branches above rating: {overloaded}");
    let _ = writeln!(
        s,
        "timing: parse {parse_ms:.3} ms, prepare {prepare_ms:.3} ms, solve {min:.3} ms min / {med:.3} ms median over {repeat}"
    );
    s
}

/// Runs `contingency` and returns what to print.
pub fn contingency(
    args: &ContingencyArgs,
    load: impl Fn(&Path) -> Result<Network, CliError>,
) -> Result<String, CliError> {
    let net = load(&args.solve.file)?;
    let opts = args.solve.options(Method::Ac, args.reuse_factors_below);
    let n_out = net.branches.iter().filter(|b| b.in_service).count();
    let bar = indicatif::ProgressBar::new(n_out as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} outages {elapsed_precise}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let t = Instant::now();
    let report = run_n1(&net, &opts, || bar.inc(1))?;
    let total_ms = ms(t);
    bar.finish_and_clear();
    if args.solve.json {
        let v = json!({
            "case": net.name,
            "base_converged": report.base_converged,
            "outages_count": report.outages.len(),
            "failed": report.failed(),
            "insecure": report.insecure(),
            "base": report.base,
            "threads": rayon::current_num_threads(),
            "total_ms": total_ms,
            "outages": report.outages,
        });
        return Ok(serde_json::to_string(&v)?);
    }
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "case {}: N-1 over {} branches in {:.1} ms on {} threads",
        net.name,
        report.outages.len(),
        total_ms,
        rayon::current_num_threads()
    );
    let _ = writeln!(
        s,
        "base case {}",
        if report.base_converged {
            "converged"
        } else {
            "NOT CONVERGED"
        }
    );
    let _ = writeln!(
        s,
        "base case: {} overloads, {} voltage violations\nnot converged: {}, insecure (new overload or voltage violation): {}",
        report.base.overloads.len(),
        report.base.voltage_violations.len(),
        report.failed(),
        report.insecure()
    );
    let splits = report.outages.iter().filter(|o| o.split).count();
    let _ = writeln!(s, "outages that split the network: {splits}");
    let mut worst: Vec<_> = report
        .outages
        .iter()
        .filter(|o| !o.overloads.is_empty() || !o.converged)
        .collect();
    worst.sort_by_key(|o| std::cmp::Reverse(o.overloads.len()));
    for o in worst.iter().take(10) {
        let Some(k) = o.branch else { continue };
        let br = &net.branches[k];
        let _ = writeln!(
            s,
            "  branch {} ({} - {}): {}{} overloads, {} voltage violations, {} buses dark",
            k,
            net.buses[br.from].name,
            net.buses[br.to].name,
            if o.converged { "" } else { "not converged, " },
            o.overloads.len(),
            o.voltage_violations.len(),
            o.deenergised_buses
        );
    }
    Ok(s)
}
