//! Short-circuit currents by IEC 60909-0:2016, three-phase and phase-to-phase, at every bus,
//! for the maximum and the minimum case, as pandapower's `calc_sc` computes them (so that the
//! two can be compared number for number).
//!
//! The method of the equivalent voltage source at the fault: a source `c Uₙ / √3` at the
//! faulted bus, every other source replaced by its internal impedance, loads, line
//! capacitances and shunts neglected (IEC 60909-0 §2.3.1). With Z the bus impedance matrix of
//! the network and its sources,
//! - `I"k3 = c Uₙ / (√3 |Z_ff|)` (§4.2.1, eq. 29), `S"k = √3 Uₙ I"k` (eq. 1);
//! - `I"k2 = (√3 / 2) c Uₙ / (√3 |Z_ff|)` with equal positive- and negative-sequence
//!   impedances (§4.3, eq. 44);
//! - `ip = κ √2 I"k` (eq. 54) with `κ = 1.02 + 0.98 e^(−3R/X)` (eq. 55) and R/X by the method
//!   of the equivalent frequency (method C, §8.1.3 c): Z at `fc = 20 Hz` (24 Hz in 60 Hz
//!   systems), `R/X = (Rc / Xc)(fc / f)`.
//!
//! Sources and their impedances:
//! - network feeders (the grid tie): `Z_Q = c Uₙ² / S"kQ`, with `R_Q / X_Q` given (§6.2);
//! - transformers: `Z_T = (u_kr / 100) U_rT² / S_rT` on the low-voltage side, corrected by
//!   `K_T = 0.95 c_max / (1 + 0.6 x_T)` (§6.3.3, eq. 12a), x_T in per unit of the rating;
//! - synchronous (and grid-forming) units: `Z_G = R_G + j X"d` corrected by
//!   `K_G = (Uₙ / U_rG) c_max / (1 + x"d sin φ_rG)` (§6.6.1, eq. 18); for κ, R_G is replaced by
//!   the fictitious `R_Gf` (0.05 X"d above 1 kV and 100 MVA, 0.07 X"d above 1 kV, 0.15 X"d at
//!   or below 1 kV, §6.6.1 note);
//! - full-converter units (photovoltaics, most wind turbines, grid-following inverters):
//!   current sources of `k I_rG` (§6.8; k = 1.2 by default in the scene), added by
//!   superposition: `ΔI_f = |Σ_j Z_fj I_j e^(−j arg Z_jj)| / |Z_ff|` (pandapower's `_calc_ikss`
//!   with converters), and without the angle for I"k2; they add `√2 ΔI_f` to ip.
//!
//! `c_max` is 1.10 above 1 kV and at low voltage with a 10 % tolerance (1.05 with 6 %)
//! (Table 1). The minimum case (§4.2.2) takes `c_min` (1.00 above 1 kV, 0.95 at low voltage,
//! Table 1), the network feeders' minimum short-circuit power and R/X, the lines' resistance
//! at the conductor temperature at the end of the short circuit,
//! `R = [1 + 0.004 (θe − 20 °C)] R₂₀` (eq. 28), and no K_T (as pandapower, which applies it in
//! the maximum case only); machines keep K_G with c_max (eq. 18), and full-converter units
//! contribute nothing (IEC 60909-0:2016 neglects them for the minimum currents, as pandapower
//! does). Closed bus-bus switches join their buses. A part of the network with no
//! voltage source (feeder, transformer-fed or synchronous unit) has no result: it is
//! de-energised.
//!
//! Per unit on 1 MVA and each bus's nominal voltage; the LDLᵀ factors of kos-grid's
//! [`SymmetricLdl`] give the diagonal of Z (Takahashi's equations) and the converters' sums
//! (one solve each for I"k3 and I"k2, whatever their number).

use std::collections::BTreeMap;
use std::f64::consts::SQRT_2;

use kos_grid::sparse_lu::SymmetricLdl;
use kos_grid::ybus::Ybus;
use kos_grid::{Branch, Bus, BusKind, Network};
use num_complex::Complex64;
use serde::{Deserialize, Serialize};

mod case;
mod factors;
mod flows;

pub use case::*;
pub use factors::*;
pub use flows::{FaultFlows, fault_flows, fault_flows_through};

/// Results at one bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScBusResult {
    /// Bus id.
    pub id: String,
    /// Nominal voltage, kV.
    pub vn_kv: f64,
    /// Whether a voltage source feeds the bus (the numbers are zero where not).
    pub energised: bool,
    /// Three-phase initial symmetrical short-circuit current I"k, kA.
    pub ikss_ka: f64,
    /// Peak short-circuit current ip, kA.
    pub ip_ka: f64,
    /// Initial symmetrical short-circuit power S"k, MVA.
    pub skss_mva: f64,
    /// Phase-to-phase initial short-circuit current I"k2, kA.
    pub ikss_2ph_ka: f64,
    /// Short-circuit resistance at the bus, Ω.
    pub rk_ohm: f64,
    /// Short-circuit reactance at the bus, Ω.
    pub xk_ohm: f64,
    /// Peak factor κ.
    pub kappa: f64,
}

/// Which currents: the largest the network can give, or the smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extremum {
    /// Maximum short-circuit currents (equipment ratings, grading).
    #[default]
    Max,
    /// Minimum short-circuit currents (protection sensitivity).
    Min,
}

/// Options of the calculation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScOptions {
    /// Voltage tolerance of low-voltage systems, % (10 gives c_max 1.10, 6 gives 1.05).
    pub lv_tol_percent: f64,
    /// Maximum or minimum case.
    pub case: Extremum,
}

impl Default for ScOptions {
    fn default() -> Self {
        Self {
            lv_tol_percent: 10.0,
            case: Extremum::Max,
        }
    }
}

/// What is wrong with a case.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScError {
    /// An element names a bus that is not in the case.
    #[error("{element}: unknown bus `{bus}`")]
    UnknownBus {
        /// The element (kind and id).
        element: String,
        /// The bus id.
        bus: String,
    },
    /// A value out of its range.
    #[error("{element}: {message}")]
    Invalid {
        /// The element (kind and id).
        element: String,
        /// What is wrong.
        message: String,
    },
    /// The impedance matrix could not be factorised.
    #[error("the network's impedance matrix is singular ({0})")]
    Singular(String),
}

const ONE: Complex64 = Complex64::new(1.0, 0.0);
const ZERO: Complex64 = Complex64::new(0.0, 0.0);

/// The case indexed: nodes (buses joined by closed switches), branches and sources in per
/// unit of 1 MVA and the node's nominal voltage.
struct Model {
    /// Node of each bus.
    node: Vec<usize>,
    /// Nominal voltage of each node, kV.
    vn: Vec<f64>,
    /// c of each node (c_max, or c_min in the minimum case).
    c: Vec<f64>,
    /// (from, to, z, tap on the from side).
    branches: Vec<(usize, usize, Complex64, f64)>,
    /// Branch of each line (`None`: both ends on one node), each transformer and each
    /// switch that is a branch (see [`Model::new`]).
    line_branch: Vec<Option<usize>>,
    trafo_branch: Vec<usize>,
    switch_branch: Vec<Option<usize>>,
    /// Source admittance at each node (feeders, machines with K_G).
    y_source: Vec<Complex64>,
    /// Source admittance at the equivalent frequency, for κ: each source's reactance scaled
    /// by fc / f, machines with R_Gf in place of R_G.
    y_source_c: Vec<Complex64>,
    /// fc / f.
    ratio: f64,
    /// Converters' rated current times k at each node, pu.
    converter: Vec<f64>,
    /// Whether each node has a voltage source.
    source: Vec<bool>,
}

fn element(kind: &str, id: &str) -> String {
    format!("{kind} `{id}`")
}

fn positive(what: &str, kind: &str, id: &str, v: f64) -> Result<f64, ScError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(ScError::Invalid {
            element: element(kind, id),
            message: format!("{what} must be a positive number, not {v}"),
        })
    }
}

fn non_negative(what: &str, kind: &str, id: &str, v: f64) -> Result<f64, ScError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(ScError::Invalid {
            element: element(kind, id),
            message: format!("{what} must be zero or more, not {v}"),
        })
    }
}

fn find(parent: &mut [usize], mut a: usize) -> usize {
    while parent[a] != a {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    a
}

/// Impedance of a closed switch where switches are kept as branches (for the currents through
/// them), pu: a few micro-ohms at low voltage, invisible in the currents.
const SWITCH_Z_PU: Complex64 = Complex64::new(0.0, 1e-6);

impl Model {
    /// The case indexed. Closed switches join their buses, as in pandapower, or with
    /// `switch_branches` stay branches of [`SWITCH_Z_PU`] so that the currents through them
    /// can be had.
    fn new(case: &ScCase, options: &ScOptions, switch_branches: bool) -> Result<Self, ScError> {
        if case.format != SC_CASE_FORMAT {
            return Err(ScError::Invalid {
                element: "case".into(),
                message: format!("format `{}`, expected `{SC_CASE_FORMAT}`", case.format),
            });
        }
        if !(case.frequency_hz == 50.0 || case.frequency_hz == 60.0) {
            return Err(ScError::Invalid {
                element: "case".into(),
                message: format!("frequency_hz must be 50 or 60, not {}", case.frequency_hz),
            });
        }
        let mut index = BTreeMap::new();
        for (i, b) in case.buses.iter().enumerate() {
            positive("vn_kv", "bus", &b.id, b.vn_kv)?;
            if index.insert(b.id.as_str(), i).is_some() {
                return Err(ScError::Invalid {
                    element: element("bus", &b.id),
                    message: "the id is used twice".into(),
                });
            }
        }
        let bus = |kind: &str, id: &str, b: &str| {
            index.get(b).copied().ok_or_else(|| ScError::UnknownBus {
                element: element(kind, id),
                bus: b.to_string(),
            })
        };
        // Closed switches join buses into nodes (union-find, the smallest bus index leads).
        let nb = case.buses.len();
        let mut parent: Vec<usize> = (0..nb).collect();
        let mut switch_ends = Vec::new();
        for s in &case.switches {
            let (a, b) = (bus("switch", &s.id, &s.from)?, bus("switch", &s.id, &s.to)?);
            switch_ends.push((a, b));
            if switch_branches {
                continue;
            }
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
        let mut node = vec![usize::MAX; nb];
        let mut vn = Vec::new();
        for i in 0..nb {
            let r = find(&mut parent, i);
            if r == i {
                node[i] = vn.len();
                vn.push(case.buses[i].vn_kv);
            }
        }
        for i in 0..nb {
            node[i] = node[find(&mut parent, i)];
        }
        let n = vn.len();
        let min = options.case == Extremum::Min;
        let cmax: Vec<f64> = vn.iter().map(|&v| c_max(v, options)).collect();
        let c: Vec<f64> = if min {
            vn.iter().map(|&v| c_min(v)).collect()
        } else {
            cmax.clone()
        };
        let zbase = |k: usize| vn[k] * vn[k];
        let mut branches = Vec::new();
        let mut line_branch = Vec::new();
        let mut trafo_branch = Vec::new();
        for l in &case.lines {
            let (f, t) = (bus("line", &l.id, &l.from)?, bus("line", &l.id, &l.to)?);
            // Series-compensated lines have a negative reactance, and the branches of network
            // equivalents (case9241pegase's) a negative resistance at times.
            if !(l.r_ohm.is_finite() && l.x_ohm.is_finite()) {
                return Err(ScError::Invalid {
                    element: element("line", &l.id),
                    message: format!(
                        "r_ohm and x_ohm must be numbers, not {} and {}",
                        l.r_ohm, l.x_ohm
                    ),
                });
            }
            let mut z = Complex64::new(l.r_ohm, l.x_ohm);
            if min {
                let t = l.endtemp_degree.unwrap_or(DEFAULT_END_TEMPERATURE_C);
                if !t.is_finite() {
                    return Err(ScError::Invalid {
                        element: element("line", &l.id),
                        message: format!("endtemp_degree must be a number, not {t}"),
                    });
                }
                z.re *= 1.0 + ALPHA_PER_K * (t - 20.0);
            }
            if z.norm() == 0.0 {
                return Err(ScError::Invalid {
                    element: element("line", &l.id),
                    message: "zero impedance (use a switch)".into(),
                });
            }
            let (f, t) = (node[f], node[t]);
            line_branch.push((f != t).then_some(branches.len()));
            if f != t {
                branches.push((f, t, z / zbase(f), 1.0));
            }
        }
        for tr in &case.trafos {
            let id = &tr.id;
            let (f, t) = (bus("trafo", id, &tr.hv_bus)?, bus("trafo", id, &tr.lv_bus)?);
            let sn = positive("sn_mva", "trafo", id, tr.sn_mva)?;
            let vk = positive("vk_percent", "trafo", id, tr.vk_percent)?;
            // Equivalents (case9241pegase's) carry a negative resistance at times.
            let vkr = tr.vkr_percent;
            let vhv = positive("vn_hv_kv", "trafo", id, tr.vn_hv_kv)?;
            let vlv = positive("vn_lv_kv", "trafo", id, tr.vn_lv_kv)?;
            if !(vkr.is_finite() && vkr.abs() <= vk) {
                return Err(ScError::Invalid {
                    element: element("trafo", id),
                    message: format!("vkr_percent {vkr} must lie within ±vk_percent {vk}"),
                });
            }
            let (f, t) = (node[f], node[t]);
            if f == t {
                return Err(ScError::Invalid {
                    element: element("trafo", id),
                    message: "both sides on the same bus".into(),
                });
            }
            // On the low-voltage side's base, with the rated low voltage against the bus's.
            let scale = (vlv / vn[t]).powi(2) / sn;
            let (zk, rk) = (vk / 100.0 * scale, vkr / 100.0 * scale);
            let xk = (zk * zk - rk * rk).max(0.0).sqrt();
            let x_t = (vk * vk - vkr * vkr).max(0.0).sqrt() / 100.0;
            let kt = if min { 1.0 } else { k_t(c[t], x_t) };
            let tap = (vhv / vlv) / (vn[f] / vn[t]);
            trafo_branch.push(branches.len());
            branches.push((f, t, Complex64::new(rk, xk) * kt, tap));
        }
        let switch_branch = switch_ends
            .iter()
            .map(|&(a, b)| {
                let (f, t) = (node[a], node[b]);
                (f != t).then(|| {
                    branches.push((f, t, SWITCH_Z_PU, 1.0));
                    branches.len() - 1
                })
            })
            .collect();
        let ratio = if case.frequency_hz == 60.0 {
            24.0
        } else {
            20.0
        } / case.frequency_hz;
        let mut y_source = vec![ZERO; n];
        let mut y_source_c = vec![ZERO; n];
        let mut converter = vec![0.0; n];
        let mut source = vec![false; n];
        for e in &case.ext_grids {
            let k = node[bus("ext_grid", &e.id, &e.bus)?];
            let (s, rx) = if min {
                let need = |v: Option<f64>, what: &str| {
                    v.ok_or_else(|| ScError::Invalid {
                        element: element("ext_grid", &e.id),
                        message: format!("{what} is needed for the minimum case"),
                    })
                };
                (
                    positive(
                        "s_sc_min_mva",
                        "ext_grid",
                        &e.id,
                        need(e.s_sc_min_mva, "s_sc_min_mva")?,
                    )?,
                    non_negative("rx_min", "ext_grid", &e.id, need(e.rx_min, "rx_min")?)?,
                )
            } else {
                (
                    positive("s_sc_max_mva", "ext_grid", &e.id, e.s_sc_max_mva)?,
                    non_negative("rx_max", "ext_grid", &e.id, e.rx_max)?,
                )
            };
            let z = c[k] / s;
            let x = z / (1.0 + rx * rx).sqrt();
            y_source[k] += Complex64::new(rx * x, x).inv();
            y_source_c[k] += Complex64::new(rx * x, x * ratio).inv();
            source[k] = true;
        }
        for g in &case.gens {
            let id = &g.id;
            let k = node[bus("gen", id, &g.bus)?];
            let sn = positive("sn_mva", "gen", id, g.sn_mva)?;
            let vr = positive("vn_kv", "gen", id, g.vn_kv)?;
            let xd = positive("xdss_pu", "gen", id, g.xdss_pu)?;
            let rd = non_negative("rdss_ohm", "gen", id, g.rdss_ohm)?;
            if !(g.cos_phi > 0.0 && g.cos_phi <= 1.0) {
                return Err(ScError::Invalid {
                    element: element("gen", id),
                    message: format!("cos_phi must be in (0, 1], not {}", g.cos_phi),
                });
            }
            let x_ohm = xd * vr * vr / sn;
            let kg = k_g(vn[k], vr, cmax[k], xd, g.cos_phi);
            y_source[k] += (Complex64::new(rd, x_ohm) * kg / zbase(k)).inv();
            let rf = if vr <= 1.0 {
                0.15
            } else if sn < 100.0 {
                0.07
            } else {
                0.05
            } * x_ohm;
            y_source_c[k] += (Complex64::new(rf, x_ohm * ratio) * kg / zbase(k)).inv();
            source[k] = true;
        }
        for s in &case.sgens {
            let k = node[bus("sgen", &s.id, &s.bus)?];
            let sn = positive("sn_mva", "sgen", &s.id, s.sn_mva)?;
            let kk = non_negative("k", "sgen", &s.id, s.k)?;
            if !min {
                converter[k] += kk * sn;
            }
        }
        Ok(Self {
            node,
            vn,
            c,
            branches,
            line_branch,
            trafo_branch,
            switch_branch,
            y_source,
            y_source_c,
            ratio,
            converter,
            source,
        })
    }

    /// Nodes reached from a voltage source over the branches.
    fn energised(&self) -> Vec<bool> {
        let n = self.vn.len();
        let mut adj = vec![Vec::new(); n];
        for &(f, t, _, _) in &self.branches {
            adj[f].push(t);
            adj[t].push(f);
        }
        let mut live = self.source.clone();
        let mut stack: Vec<usize> = (0..n).filter(|&k| live[k]).collect();
        while let Some(a) = stack.pop() {
            for &b in &adj[a] {
                if !live[b] {
                    live[b] = true;
                    stack.push(b);
                }
            }
        }
        live
    }

    /// A kos-grid network of the nodes and branches, reactances scaled by `x_scale`, for its
    /// admittance matrix.
    fn network(&self, x_scale: f64) -> Network {
        let mut net = Network::new("short circuit", 1.0);
        net.buses = self
            .vn
            .iter()
            .map(|&v| Bus::new("", BusKind::Pq, v))
            .collect();
        net.branches = self
            .branches
            .iter()
            .map(|&(f, t, z, tap)| {
                let mut br = Branch::line(f, t, z.re, z.im * x_scale, 0.0);
                br.tap = tap;
                br
            })
            .collect();
        net
    }
}

/// Admittance matrix values with the given shunts on the diagonal; a node without supply
/// gets 1 pu to ground so that the matrix stays regular (its results are not used).
fn admittance(model: &Model, x_scale: f64, shunt: &[Complex64], live: &[bool]) -> Ybus {
    let mut y = Ybus::build(&model.network(x_scale), |_, _| true);
    for k in 0..model.vn.len() {
        y.val[y.diag[k]] += if live[k] { shunt[k] } else { ONE };
    }
    y
}

/// The LDLᵀ factors of the admittance matrix with its sources at the system frequency.
fn factorise(model: &Model, live: &[bool]) -> Result<SymmetricLdl, ScError> {
    let y = admittance(model, 1.0, &model.y_source, live);
    let mut ldl = SymmetricLdl::new(model.vn.len(), &y.col_ptr, &y.row_idx)
        .map_err(|e| ScError::Singular(e.to_string()))?;
    if !ldl.factor(&y.col_ptr, &y.row_idx, &y.val) {
        return Err(ScError::Singular(
            "a zero pivot at the system frequency".into(),
        ));
    }
    Ok(ldl)
}

/// I"k3, I"k2, ip and S"k at every bus of `case` (IEC 60909, maximum case).
pub fn short_circuit(case: &ScCase, options: &ScOptions) -> Result<Vec<ScBusResult>, ScError> {
    let model = Model::new(case, options, false)?;
    let n = model.vn.len();
    let live = model.energised();
    let mut ldl = factorise(&model, &live)?;
    let zd = ldl.inverse_diagonal();
    // Converters: one solve for I"k3's sum (each current at the angle of its own Z_jj), one
    // for I"k2's.
    let has_converters = model.converter.iter().any(|&i| i > 0.0);
    let (mut u3, mut u2) = (vec![ZERO; n], vec![ZERO; n]);
    if has_converters {
        for k in 0..n {
            if live[k] && model.converter[k] > 0.0 {
                let i = model.converter[k];
                u3[k] = Complex64::from_polar(i, -zd[k].arg());
                u2[k] = Complex64::new(i, 0.0);
            }
        }
        ldl.solve(&mut u3);
        ldl.solve(&mut u2);
    }
    // κ by the equivalent frequency: reactances at fc / f, machines with R_Gf.
    let ratio = model.ratio;
    let yc = admittance(&model, ratio, &model.y_source_c, &live);
    if !ldl.factor(&yc.col_ptr, &yc.row_idx, &yc.val) {
        return Err(ScError::Singular(
            "a zero pivot at the equivalent frequency".into(),
        ));
    }
    let zc = ldl.inverse_diagonal();
    let sqrt3 = 3f64.sqrt();
    let results = case
        .buses
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let k = model.node[i];
            let vn = model.vn[k];
            if !live[k] {
                return ScBusResult {
                    id: b.id.clone(),
                    vn_kv: b.vn_kv,
                    energised: false,
                    ikss_ka: 0.0,
                    ip_ka: 0.0,
                    skss_mva: 0.0,
                    ikss_2ph_ka: 0.0,
                    rk_ohm: 0.0,
                    xk_ohm: 0.0,
                    kappa: 0.0,
                };
            }
            let zff = zd[k].norm();
            let ibase = 1.0 / (sqrt3 * vn);
            let i1 = model.c[k] / zff;
            let (i2, i2_2ph) = if has_converters {
                (u3[k].norm() / zff, u2[k].norm() / zff)
            } else {
                (0.0, 0.0)
            };
            let rx_c = zc[k].re / zc[k].im * ratio;
            let kappa = kappa(rx_c);
            let ikss = (i1 + i2) * ibase;
            ScBusResult {
                id: b.id.clone(),
                vn_kv: b.vn_kv,
                energised: true,
                ikss_ka: ikss,
                ip_ka: SQRT_2 * (kappa * i1 + i2) * ibase,
                skss_mva: sqrt3 * ikss * vn,
                ikss_2ph_ka: (sqrt3 / 2.0 * i1 + i2_2ph) * ibase,
                rk_ohm: zd[k].re * vn * vn,
                xk_ohm: zd[k].im * vn * vn,
                kappa,
            }
        })
        .collect();
    Ok(results)
}
