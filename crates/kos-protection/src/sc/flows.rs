//! Branch currents during a fault at one bus.

use num_complex::Complex64;
use serde::{Deserialize, Serialize};

use super::{Model, ONE, ScCase, ScError, ScOptions, ZERO, factorise};

/// Currents through the branches during a three-phase fault at one bus, kA (initial
/// symmetrical values, from the change of the bus voltages: prefault currents are neglected,
/// as in IEC 60909).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultFlows {
    /// The faulted bus.
    pub bus: String,
    /// I"k at the bus, kA (0 when it is de-energised).
    pub ikss_ka: f64,
    /// Current through each line, kA, in the case's order.
    pub line_ka: Vec<f64>,
    /// Current on the high- and low-voltage sides of each transformer, kA.
    pub trafo_ka: Vec<(f64, f64)>,
    /// Current through each closed switch, kA.
    pub switch_ka: Vec<f64>,
}

/// Branch currents for a bolted three-phase fault at `bus`: the voltage sources' part by the
/// equivalent voltage source at the fault, the converters' part by superposition with the
/// faulted bus held at zero.
pub fn fault_flows(case: &ScCase, bus: &str, options: &ScOptions) -> Result<FaultFlows, ScError> {
    fault_flows_through(case, bus, Complex64::new(0.0, 0.0), options)
}

/// Branch currents for a three-phase fault at `bus` through the fault impedance `z_ohm` (per
/// phase, Ω; an arc or a contact with the ground): the fault current is `c Uₙ / (√3 (Z_ff +
/// Z_f))` for the voltage sources and `w_f / (Z_ff + Z_f)` for the converters.
pub fn fault_flows_through(
    case: &ScCase,
    bus: &str,
    z_ohm: Complex64,
    options: &ScOptions,
) -> Result<FaultFlows, ScError> {
    if !(z_ohm.re.is_finite() && z_ohm.im.is_finite() && z_ohm.re >= 0.0) {
        return Err(ScError::Invalid {
            element: "fault".into(),
            message: format!("fault impedance {z_ohm} Ω: resistance must be zero or more"),
        });
    }
    let model = Model::new(case, options, true)?;
    let i = case
        .buses
        .iter()
        .position(|b| b.id == bus)
        .ok_or_else(|| ScError::UnknownBus {
            element: "fault".into(),
            bus: bus.to_string(),
        })?;
    let f = model.node[i];
    let n = model.vn.len();
    let live = model.energised();
    let empty = FaultFlows {
        bus: bus.to_string(),
        ikss_ka: 0.0,
        line_ka: vec![0.0; case.lines.len()],
        trafo_ka: vec![(0.0, 0.0); case.trafos.len()],
        switch_ka: vec![0.0; case.switches.len()],
    };
    if !live[f] {
        return Ok(empty);
    }
    let ldl = factorise(&model, &live)?;
    let mut zf = vec![ZERO; n];
    zf[f] = ONE;
    ldl.solve(&mut zf);
    // The fault impedance in per unit of the bus's base (1 MVA).
    let zff = zf[f] + z_ohm / (model.vn[f] * model.vn[f]);
    // The voltage sources' part: ΔV = −Z e_f c / (Z_ff + Z_f).
    let i_f = Complex64::new(model.c[f], 0.0) / zff;
    let mut dv: Vec<Complex64> = zf.iter().map(|&z| -z * i_f).collect();
    let mut total = i_f;
    // Converters: ΔV += w − Z e_f w_f / Z_ff with w = Z J.
    if model.converter.iter().any(|&c| c > 0.0) {
        let zd = ldl.inverse_diagonal();
        let mut w = vec![ZERO; n];
        for k in 0..n {
            if live[k] && model.converter[k] > 0.0 {
                w[k] = Complex64::from_polar(model.converter[k], -zd[k].arg());
            }
        }
        ldl.solve(&mut w);
        let wf = w[f] / zff;
        total += wf;
        for k in 0..n {
            dv[k] += w[k] - zf[k] * wf;
        }
    }
    let sqrt3 = 3f64.sqrt();
    let ends = |b: usize| {
        let (from, to, z, tap) = model.branches[b];
        let ys = z.inv();
        let i_from = ys / (tap * tap) * dv[from] - ys / tap * dv[to];
        let i_to = -ys / tap * dv[from] + ys * dv[to];
        (
            i_from.norm() / (sqrt3 * model.vn[from]),
            i_to.norm() / (sqrt3 * model.vn[to]),
        )
    };
    Ok(FaultFlows {
        bus: bus.to_string(),
        ikss_ka: total.norm() / (sqrt3 * model.vn[f]),
        line_ka: model
            .line_branch
            .iter()
            .map(|b| b.map_or(0.0, |b| ends(b).0))
            .collect(),
        trafo_ka: model.trafo_branch.iter().map(|&b| ends(b)).collect(),
        switch_ka: model
            .switch_branch
            .iter()
            .map(|b| b.map_or(0.0, |b| ends(b).0))
            .collect(),
    })
}
