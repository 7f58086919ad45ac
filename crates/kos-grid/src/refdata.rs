//! Importer for `pf-refdata/1` JSON: a network and the power flow another tool solved on it.

use serde::Deserialize;

use crate::GridError;
use crate::network::{Branch, Bus, BusKind, Generator, Network};

/// A reference case: the input network and the published solution.
#[derive(Debug, Clone)]
pub struct RefCase {
    /// The network, ready to solve.
    pub network: Network,
    /// The solution to reproduce.
    pub solution: RefSolution,
}

/// The solved state stored with a reference case. Per-bus and per-branch values are `None`
/// where the format has `null`: an isolated bus, and the branches that touch one, have no
/// solved value (the solver leaves them de-energised).
#[derive(Debug, Clone, Deserialize)]
pub struct RefSolution {
    /// Whether the reference solver converged.
    pub converged: bool,
    /// Iterations it took from its start.
    pub iterations: usize,
    /// Convergence tolerance it used, pu.
    pub tolerance_pu: f64,
    /// Bus voltage magnitudes, pu.
    pub bus_vm_pu: Vec<Option<f64>>,
    /// Bus voltage angles, degrees.
    pub bus_va_deg: Vec<Option<f64>>,
    /// Net generation per bus, MW.
    pub bus_pg_mw: Vec<Option<f64>>,
    /// Net reactive generation per bus, MVAr.
    pub bus_qg_mvar: Vec<Option<f64>>,
    /// Active power into each branch at the from end, MW.
    pub branch_pf_mw: Vec<Option<f64>>,
    /// Reactive power into each branch at the from end, MVAr.
    pub branch_qf_mvar: Vec<Option<f64>>,
    /// Active power into each branch at the to end, MW.
    pub branch_pt_mw: Vec<Option<f64>>,
    /// Reactive power into each branch at the to end, MVAr.
    pub branch_qt_mvar: Vec<Option<f64>>,
    /// Slack injections.
    pub slack: Vec<RefSlack>,
    /// Total active losses, MW.
    pub total_losses_mw: f64,
}

/// Injection of a slack bus in a reference solution.
#[derive(Debug, Clone, Deserialize)]
pub struct RefSlack {
    /// Bus index.
    pub bus: usize,
    /// Active injection, MW.
    pub p_mw: f64,
    /// Reactive injection, MVAr.
    pub q_mvar: f64,
}

#[derive(Deserialize)]
struct RawCase {
    schema: String,
    case: String,
    base_mva: f64,
    buses: Vec<RawBus>,
    generators: Vec<RawGen>,
    branches: Vec<RawBranch>,
    solution: RefSolution,
}

#[derive(Deserialize)]
struct RawBus {
    name: serde_json::Value,
    #[serde(rename = "type")]
    kind: String,
    base_kv: Option<f64>,
    pd_mw: f64,
    qd_mvar: f64,
    gs_mw: f64,
    bs_mvar: f64,
    vm_setpoint_pu: Option<f64>,
    va_setpoint_deg: Option<f64>,
    vm_min_pu: Option<f64>,
    vm_max_pu: Option<f64>,
    vm_case_pu: Option<f64>,
    va_case_deg: Option<f64>,
}

#[derive(Deserialize)]
struct RawGen {
    bus: usize,
    pg_mw: Option<f64>,
    vg_pu: Option<f64>,
    qmax_mvar: Option<f64>,
    qmin_mvar: Option<f64>,
    pmax_mw: Option<f64>,
    pmin_mw: Option<f64>,
    status: i64,
    qg_case_mvar: Option<f64>,
}

#[derive(Deserialize)]
struct RawBranch {
    from: usize,
    to: usize,
    r_pu: f64,
    x_pu: f64,
    b_pu: f64,
    g_pu: Option<f64>,
    tap_ratio: Option<f64>,
    shift_deg: Option<f64>,
    status: i64,
    rate_a_mva: Option<f64>,
}

/// Parses a `pf-refdata/1` document. `file` names the source in error messages.
pub fn parse_refdata(text: &str, file: &str) -> Result<RefCase, GridError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let raw: RawCase = serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        GridError::Parse {
            file: file.to_string(),
            line: inner.line(),
            field: e.path().to_string(),
            message: inner.to_string(),
        }
    })?;
    let err = |field: String, message: String| GridError::Parse {
        file: file.to_string(),
        line: 0,
        field,
        message,
    };
    if raw.schema != "pf-refdata/1" {
        return Err(err(
            "schema".into(),
            format!("expected pf-refdata/1, got {}", raw.schema),
        ));
    }
    let n = raw.buses.len();
    let mut net = Network::new(raw.case, raw.base_mva);
    for (i, b) in raw.buses.iter().enumerate() {
        let kind = match b.kind.as_str() {
            "slack" => BusKind::Slack,
            "PV" => BusKind::Pv,
            "PQ" => BusKind::Pq,
            "isolated" => BusKind::Isolated,
            other => {
                return Err(err(
                    format!("buses[{i}].type"),
                    format!("unknown bus type `{other}`"),
                ));
            }
        };
        let name = match &b.name {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut bus = Bus::new(name, kind, b.base_kv.unwrap_or(0.0));
        bus.pd_mw = b.pd_mw;
        bus.qd_mvar = b.qd_mvar;
        bus.gs_mw = b.gs_mw;
        bus.bs_mvar = b.bs_mvar;
        bus.vm_pu = b.vm_case_pu.or(b.vm_setpoint_pu).unwrap_or(1.0);
        bus.va_deg = b.va_setpoint_deg.or(b.va_case_deg).unwrap_or(0.0);
        bus.vm_min_pu = b.vm_min_pu.unwrap_or(0.0);
        bus.vm_max_pu = b.vm_max_pu.unwrap_or(f64::MAX);
        net.buses.push(bus);
    }
    for (k, g) in raw.generators.iter().enumerate() {
        if g.bus >= n {
            return Err(err(
                format!("generators[{k}].bus"),
                format!("bus {} does not exist", g.bus),
            ));
        }
        // The bus setpoint is what the reference solver held.
        let vg = raw.buses[g.bus].vm_setpoint_pu.or(g.vg_pu).unwrap_or(1.0);
        let mut gen_ = Generator::new(g.bus, g.pg_mw.unwrap_or(0.0), vg);
        gen_.qg_mvar = g.qg_case_mvar.unwrap_or(0.0);
        gen_.qmax_mvar = g.qmax_mvar.unwrap_or(f64::INFINITY);
        gen_.qmin_mvar = g.qmin_mvar.unwrap_or(f64::NEG_INFINITY);
        gen_.pmax_mw = g.pmax_mw.unwrap_or(0.0);
        gen_.pmin_mw = g.pmin_mw.unwrap_or(0.0);
        gen_.in_service = g.status > 0;
        gen_.grid_forming = true;
        gen_.participation = gen_.pmax_mw.max(0.0);
        net.generators.push(gen_);
    }
    for (k, b) in raw.branches.iter().enumerate() {
        if b.from >= n || b.to >= n {
            return Err(err(
                format!("branches[{k}]"),
                "refers to a bus that does not exist".into(),
            ));
        }
        let mut br = Branch::line(b.from, b.to, b.r_pu, b.x_pu, b.b_pu);
        br.g_pu = b.g_pu.unwrap_or(0.0);
        br.tap = b.tap_ratio.unwrap_or(1.0);
        br.shift_deg = b.shift_deg.unwrap_or(0.0);
        br.in_service = b.status > 0;
        br.rate_a_mva = b.rate_a_mva.unwrap_or(0.0);
        net.branches.push(br);
    }
    let s = &raw.solution;
    let nb = net.branches.len();
    for (field, values, expected) in [
        ("bus_vm_pu", &s.bus_vm_pu, n),
        ("bus_va_deg", &s.bus_va_deg, n),
        ("bus_pg_mw", &s.bus_pg_mw, n),
        ("bus_qg_mvar", &s.bus_qg_mvar, n),
        ("branch_pf_mw", &s.branch_pf_mw, nb),
        ("branch_qf_mvar", &s.branch_qf_mvar, nb),
        ("branch_pt_mw", &s.branch_pt_mw, nb),
        ("branch_qt_mvar", &s.branch_qt_mvar, nb),
    ] {
        if values.len() != expected {
            return Err(err(
                format!("solution.{field}"),
                format!("expected {expected} values, found {}", values.len()),
            ));
        }
    }
    net.check()?;
    Ok(RefCase {
        network: net,
        solution: raw.solution,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_BUS: &str = r#"{"schema": "pf-refdata/1", "case": "two", "base_mva": 100.0,
 "buses": [
  {"idx": 0, "name": "1", "type": "slack", "base_kv": 10.0, "pd_mw": 0.0, "qd_mvar": 0.0, "gs_mw": 0.0, "bs_mvar": 0.0,
   "vm_setpoint_pu": 1.0, "va_setpoint_deg": 0.0, "vm_min_pu": 0.9, "vm_max_pu": 1.1},
  {"idx": 1, "name": "2", "type": "PQ", "base_kv": 10.0, "pd_mw": 50.0, "qd_mvar": 10.0, "gs_mw": 0.0, "bs_mvar": 0.0,
   "vm_setpoint_pu": null, "va_setpoint_deg": null, "vm_min_pu": 0.9, "vm_max_pu": 1.1}],
 "generators": [{"idx": 0, "bus": 0, "is_slack": true, "pg_mw": null, "vg_pu": 1.0, "qmax_mvar": 100.0,
   "qmin_mvar": -100.0, "pmax_mw": 100.0, "pmin_mw": 0.0, "status": 1}],
 "branches": [{"idx": 0, "from": 0, "to": 1, "r_pu": 0.01, "x_pu": 0.05, "b_pu": 0.0, "g_pu": 0.0, "tap_ratio": 1.0,
   "shift_deg": 0.0, "status": 1, "rate_a_mva": 0.0}],
 "solution": {"converged": true, "iterations": 3, "tolerance_pu": 1e-8, "bus_vm_pu": [1.0, 0.99], "bus_va_deg": [0.0, -1.0],
   "bus_pg_mw": [50.0, 0.0], "bus_qg_mvar": [10.0, 0.0], "branch_pf_mw": [50.0], "branch_qf_mvar": [10.0],
   "branch_pt_mw": [-50.0], "branch_qt_mvar": [-10.0], "slack": [{"bus": 0, "p_mw": 50.0, "q_mvar": 10.0}],
   "total_losses_mw": 0.3}}"#;

    #[test]
    fn reads_a_case_and_names_the_bad_field() {
        let case = parse_refdata(TWO_BUS, "two.json").unwrap();
        assert_eq!(case.network.buses.len(), 2);
        assert_eq!(case.solution.iterations, 3);
        let bad = TWO_BUS.replace(r#""x_pu": 0.05"#, r#""x_pu": "fast""#);
        let e = parse_refdata(&bad, "two.json").unwrap_err().to_string();
        assert!(
            e.starts_with("two.json:9:") && e.contains("branches[0].x_pu"),
            "{e}"
        );
        let dangling = TWO_BUS.replace(r#""from": 0, "to": 1"#, r#""from": 0, "to": 7"#);
        assert!(
            parse_refdata(&dangling, "two.json")
                .unwrap_err()
                .to_string()
                .contains("branches[0]")
        );
    }

    #[test]
    fn null_marks_an_isolated_bus_and_a_short_array_is_named() {
        // Bus 1 cut off: the format writes null for its solved values and its branch's flows.
        let iso = TWO_BUS
            .replace(r#""type": "PQ""#, r#""type": "isolated""#)
            .replace("[1.0, 0.99]", "[1.0, null]")
            .replace("[0.0, -1.0]", "[0.0, null]")
            .replace(r#""branch_pf_mw": [50.0]"#, r#""branch_pf_mw": [null]"#);
        let case = parse_refdata(&iso, "iso.json").unwrap();
        assert_eq!(case.network.buses[1].kind, BusKind::Isolated);
        assert_eq!(case.solution.bus_vm_pu, vec![Some(1.0), None]);
        assert_eq!(case.solution.bus_va_deg[1], None);
        assert_eq!(case.solution.branch_pf_mw, vec![None]);
        let short = TWO_BUS.replace(r#""bus_qg_mvar": [10.0, 0.0]"#, r#""bus_qg_mvar": [10.0]"#);
        let e = parse_refdata(&short, "two.json").unwrap_err().to_string();
        assert!(
            e.contains("solution.bus_qg_mvar") && e.contains("expected 2"),
            "{e}"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_mutated_documents(edits in proptest::collection::vec((0usize..2000, 0u8..128), 1..5)) {
            let mut bytes = TWO_BUS.as_bytes().to_vec();
            for (pos, byte) in edits {
                let p = pos % bytes.len();
                bytes[p] = byte;
            }
            let _ = parse_refdata(&String::from_utf8_lossy(&bytes), "fuzz.json");
        }
    }
}
