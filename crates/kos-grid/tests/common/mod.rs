//! What the power-flow tests share: where the reference data lies, the solver options they
//! start from and the comparison with a reference solution to the tolerances.
#![allow(dead_code)]

use std::path::PathBuf;

use kos_grid::{
    Method, Network, NewtonOptions, PowerFlowOptions, PowerFlowResult, RefSolution, Start,
    parse_refdata,
};

pub fn shared() -> PathBuf {
    match std::env::var_os("KOS_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

pub fn flat(tol: f64) -> PowerFlowOptions {
    PowerFlowOptions {
        method: Method::Ac,
        start: Start::Flat,
        newton: NewtonOptions {
            tolerance_pu: tol,
            max_iterations: 30,
            reuse_factors_below: 0.0,
            two_threads: true,
        },
        enforce_q_limits: false,
        distributed_slack: false,
        fast_decoupled_fallback: false,
    }
}

/// The largest difference between our values and others (a reference's or another solve's),
/// and where; entries a reference leaves `null` (an isolated bus, a branch touching one) are
/// skipped.
pub fn max_abs_diff<T: Copy + Into<Option<f64>>>(a: &[f64], b: &[T]) -> (f64, usize) {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .enumerate()
        .filter_map(|(i, (x, y))| (*y).into().map(|y| (i, (x - y).abs())))
        .fold((0.0, 0), |acc, (i, d)| if d > acc.0 { (d, i) } else { acc })
}

/// Checks a solve against a reference to the tolerances of the issue.
pub fn check(name: &str, r: &PowerFlowResult, s: &RefSolution) {
    check_values(name, r, s);
    assert!(
        r.iterations.abs_diff(s.iterations) <= 1,
        "{name}: {} iterations, reference {}",
        r.iterations,
        s.iterations
    );
}

/// Checks the solved state, flows, slack and losses against a reference.
pub fn check_values(name: &str, r: &PowerFlowResult, s: &RefSolution) {
    assert!(r.converged, "{name}: not converged");
    // Where the reference has no solved voltage the bus is isolated: de-energised here, with
    // no flow on its branches.
    for (i, vm) in s.bus_vm_pu.iter().enumerate() {
        if vm.is_none() {
            assert_eq!(r.vm_pu[i], 0.0, "{name}: isolated bus {i} energised");
        }
    }
    for (k, pf) in s.branch_pf_mw.iter().enumerate() {
        if pf.is_none() {
            assert_eq!(
                r.branch_pf_mw[k], 0.0,
                "{name}: flow on branch {k} to an isolated bus"
            );
        }
    }
    let (dvm, i) = max_abs_diff(&r.vm_pu, &s.bus_vm_pu);
    assert!(dvm <= 1e-6, "{name}: |dVm| {dvm:e} at bus {i}");
    let (dva, i) = max_abs_diff(&r.va_deg, &s.bus_va_deg);
    assert!(dva <= 1e-4, "{name}: |dVa| {dva:e} deg at bus {i}");
    for (what, ours, theirs) in [
        ("pf", &r.branch_pf_mw, &s.branch_pf_mw),
        ("qf", &r.branch_qf_mvar, &s.branch_qf_mvar),
        ("pt", &r.branch_pt_mw, &s.branch_pt_mw),
        ("qt", &r.branch_qt_mvar, &s.branch_qt_mvar),
    ] {
        let (d, k) = max_abs_diff(ours, theirs);
        assert!(
            d <= 1e-4,
            "{name}: branch {what} differs by {d:e} at branch {k}"
        );
    }
    for sl in &s.slack {
        let island = r
            .islands
            .iter()
            .find(|i| i.reference == Some(sl.bus))
            .expect("slack island");
        assert!(
            (island.slack_p_mw - sl.p_mw).abs() <= 1e-4,
            "{name}: slack P {} vs {}",
            island.slack_p_mw,
            sl.p_mw
        );
        assert!(
            (island.slack_q_mvar - sl.q_mvar).abs() <= 1e-4,
            "{name}: slack Q"
        );
    }
    assert!(
        (r.total_losses_mw - s.total_losses_mw).abs() <= 1e-3,
        "{name}: losses"
    );
}

pub fn refcase(file: &str) -> (Network, RefSolution) {
    let path = shared().join("refdata").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let case = parse_refdata(&text, file).unwrap();
    (case.network, case.solution)
}

/// The reference solutions' file names, sorted.
pub fn reference_files() -> Vec<String> {
    let dir = shared().join("refdata");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json"))
        .collect();
    files.sort();
    files
}
