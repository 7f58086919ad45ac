//! The solver against solved power flows from pandapower and MATPOWER (`shared/refdata`) and
//! against the published MATPOWER case files (`shared/matpower`).

mod common;

use std::path::PathBuf;

use common::*;
use kos_grid::{PowerFlow, PowerFlowOptions, Start, parse_matpower, parse_refdata};

#[test]
fn every_reference_case_is_reproduced() {
    let files = reference_files();
    assert!(
        files.len() >= 14,
        "expected the full reference set, found {files:?}"
    );
    for f in &files {
        let (net, sol) = refcase(f);
        let r = PowerFlow::new()
            .solve(&net, &flat(sol.tolerance_pu))
            .unwrap();
        check(f, &r, &sol);
    }
}

#[test]
fn every_matpower_file_with_a_reference_is_reproduced() {
    for (m, reference) in [
        ("case14.m", "case14_matpower.json"),
        ("case30.m", "case30_matpower.json"),
        ("case118.m", "case118_matpower.json"),
        ("case9241pegase.m", "case9241pegase_matpower.json"),
        ("case33bw.m", "case33bw.json"),
    ] {
        let path = shared().join("matpower").join(m);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let net = parse_matpower(&text, m).unwrap();
        let (_, sol) = refcase(reference);
        let r = PowerFlow::new()
            .solve(&net, &flat(sol.tolerance_pu))
            .unwrap();
        check(m, &r, &sol);
    }
}

#[test]
fn published_values_hold() {
    let (net, _) = refcase("case14_matpower.json");
    let r = PowerFlow::new().solve(&net, &flat(1e-10)).unwrap();
    assert!(
        (r.vm_pu[13] - 1.035530).abs() < 5e-7,
        "case14 bus 14 Vm {}",
        r.vm_pu[13]
    );
    assert!(
        (r.va_deg[13] - -16.0336).abs() < 5e-5,
        "case14 bus 14 Va {}",
        r.va_deg[13]
    );
    assert!((r.islands[0].slack_p_mw - 232.39).abs() < 5e-3);
    assert!((r.islands[0].slack_q_mvar - -16.55).abs() < 5e-3);

    let (net, _) = refcase("case33bw.json");
    let r = PowerFlow::new().solve(&net, &flat(1e-8)).unwrap();
    let (imin, vmin) = r
        .vm_pu
        .iter()
        .copied()
        .enumerate()
        .fold((0, f64::MAX), |a, (i, v)| if v < a.1 { (i, v) } else { a });
    assert_eq!(imin, 17);
    assert!((vmin - 0.91309).abs() < 5e-6, "min Vm {vmin}");
    assert!(
        (r.total_losses_mw * 1e3 - 202.7).abs() < 0.05,
        "losses {} kW",
        r.total_losses_mw * 1e3
    );
}

#[test]
fn warm_start_from_the_solution_takes_no_iteration() {
    let (net, sol) = refcase("case118_matpower.json");
    let mut engine = PowerFlow::new();
    let first = engine.solve(&net, &flat(1e-10)).unwrap();
    assert!(first.converged);
    let again = engine
        .solve(
            &net,
            &PowerFlowOptions {
                start: Start::Warm,
                ..flat(1e-10)
            },
        )
        .unwrap();
    assert_eq!(again.iterations, 0);
    check("case118 warm", &first, &sol);
}

/// pandapower's case14 with buses 8 and 14 cut off (`scripts/refdata_isolated.py`): the
/// reference writes `null` for them; here they are de-energised and the rest is reproduced.
#[test]
fn a_reference_with_isolated_buses_is_reproduced() {
    // Tests run in the package's directory; a path baked in at build time could name another
    // checkout sharing the target directory.
    let path = PathBuf::from("tests/data/case14_isolated.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let case = parse_refdata(&text, "case14_isolated.json").unwrap();
    let isolated: Vec<usize> = (0..case.solution.bus_vm_pu.len())
        .filter(|&i| case.solution.bus_vm_pu[i].is_none())
        .collect();
    assert_eq!(isolated.len(), 2);
    let r = PowerFlow::new()
        .solve(&case.network, &flat(case.solution.tolerance_pu))
        .unwrap();
    check("case14_isolated", &r, &case.solution);
    // The rest of the network stays one island, solved.
    assert_eq!(r.islands.len(), 1);
    assert_eq!(r.islands[0].status, kos_grid::IslandStatus::Solved);
    for &i in &isolated {
        assert_eq!((r.vm_pu[i], r.va_deg[i]), (0.0, 0.0), "bus {i}");
    }
}
