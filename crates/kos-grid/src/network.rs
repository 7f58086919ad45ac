//! The electrical network model: flat arrays indexed by position, per unit on a system base
//! for impedances, MW / MVAr for powers (MATPOWER conventions).

use serde::{Deserialize, Serialize};

/// Role of a bus in the power flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BusKind {
    /// Reference bus: voltage magnitude and angle held, absorbs the power balance.
    Slack,
    /// Generator bus: active power and voltage magnitude held.
    #[serde(rename = "PV")]
    Pv,
    /// Load bus: active and reactive power held.
    #[serde(rename = "PQ")]
    Pq,
    /// Out of service: not part of any island.
    Isolated,
}

/// A bus (node) of the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bus {
    /// Label from the source file (MATPOWER bus number, scene id).
    pub name: String,
    /// Role in the power flow.
    pub kind: BusKind,
    /// Nominal voltage, kV (0 when unknown).
    pub base_kv: f64,
    /// Constant-power active load, MW.
    pub pd_mw: f64,
    /// Constant-power reactive load, MVAr.
    pub qd_mvar: f64,
    /// Shunt conductance, MW consumed at V = 1 pu.
    pub gs_mw: f64,
    /// Shunt susceptance, MVAr injected at V = 1 pu.
    pub bs_mvar: f64,
    /// Initial voltage magnitude, pu (used by a case start).
    pub vm_pu: f64,
    /// Initial voltage angle, degrees (the reference angle at a slack bus).
    pub va_deg: f64,
    /// Lower voltage limit, pu.
    pub vm_min_pu: f64,
    /// Upper voltage limit, pu.
    pub vm_max_pu: f64,
}

impl Bus {
    /// A PQ bus with no load, nominal limits 0.95-1.05 pu.
    pub fn new(name: impl Into<String>, kind: BusKind, base_kv: f64) -> Self {
        Self {
            name: name.into(),
            kind,
            base_kv,
            pd_mw: 0.0,
            qd_mvar: 0.0,
            gs_mw: 0.0,
            bs_mvar: 0.0,
            vm_pu: 1.0,
            va_deg: 0.0,
            vm_min_pu: 0.95,
            vm_max_pu: 1.05,
        }
    }
}

/// A branch: line, cable or transformer, in the MATPOWER pi model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// Index of the from bus (tap side of a transformer).
    pub from: usize,
    /// Index of the to bus.
    pub to: usize,
    /// Series resistance, pu.
    pub r_pu: f64,
    /// Series reactance, pu.
    pub x_pu: f64,
    /// Total line charging susceptance, pu.
    pub b_pu: f64,
    /// Total shunt conductance, pu.
    pub g_pu: f64,
    /// Off-nominal turns ratio at the from side (1.0 for lines; MATPOWER's 0 means 1).
    pub tap: f64,
    /// Phase shift, degrees.
    pub shift_deg: f64,
    /// Whether the branch conducts (a closed switch, an energised line).
    pub in_service: bool,
    /// Long-term thermal rating, MVA (0 = unlimited).
    pub rate_a_mva: f64,
}

impl Branch {
    /// A line between two buses with the given series impedance, in per unit.
    pub fn line(from: usize, to: usize, r_pu: f64, x_pu: f64, b_pu: f64) -> Self {
        Self {
            from,
            to,
            r_pu,
            x_pu,
            b_pu,
            g_pu: 0.0,
            tap: 1.0,
            shift_deg: 0.0,
            in_service: true,
            rate_a_mva: 0.0,
        }
    }

    /// Effective off-nominal ratio (MATPOWER stores 0 for "no transformer").
    pub fn ratio(&self) -> f64 {
        if self.tap == 0.0 { 1.0 } else { self.tap }
    }
}

/// A generating unit (or a storage unit acting as one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    /// Index of the bus it feeds.
    pub bus: usize,
    /// Scheduled active power, MW.
    pub pg_mw: f64,
    /// Reactive power (initial, or fixed when the unit does not control voltage), MVAr.
    pub qg_mvar: f64,
    /// Upper reactive limit, MVAr.
    pub qmax_mvar: f64,
    /// Lower reactive limit, MVAr.
    pub qmin_mvar: f64,
    /// Voltage magnitude setpoint, pu.
    pub vg_pu: f64,
    /// Upper active limit, MW.
    pub pmax_mw: f64,
    /// Lower active limit, MW.
    pub pmin_mw: f64,
    /// Whether the unit is connected.
    pub in_service: bool,
    /// Share of the island's slack power taken under distributed slack (0 = none).
    pub participation: f64,
    /// Whether the unit can set voltage and frequency of an island on its own.
    pub grid_forming: bool,
}

impl Generator {
    /// A unit at `bus` producing `pg_mw`, holding `vg_pu`, with wide reactive limits.
    pub fn new(bus: usize, pg_mw: f64, vg_pu: f64) -> Self {
        Self {
            bus,
            pg_mw,
            qg_mvar: 0.0,
            qmax_mvar: 9999.0,
            qmin_mvar: -9999.0,
            vg_pu,
            pmax_mw: pg_mw.max(0.0),
            pmin_mw: 0.0,
            in_service: true,
            participation: 0.0,
            grid_forming: false,
        }
    }
}

/// A whole network: the input of every solver in this crate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Case name.
    pub name: String,
    /// System base power, MVA.
    pub base_mva: f64,
    /// Buses, by index.
    pub buses: Vec<Bus>,
    /// Branches, by index.
    pub branches: Vec<Branch>,
    /// Generators, by index.
    pub generators: Vec<Generator>,
}

impl Network {
    /// An empty network on the given base.
    pub fn new(name: impl Into<String>, base_mva: f64) -> Self {
        Self {
            name: name.into(),
            base_mva,
            buses: Vec::new(),
            branches: Vec::new(),
            generators: Vec::new(),
        }
    }

    /// Number of buses.
    pub fn n_bus(&self) -> usize {
        self.buses.len()
    }

    /// Checks the indices and values a solver relies on.
    pub fn check(&self) -> Result<(), crate::GridError> {
        use crate::GridError::InvalidNetwork;
        if !(self.base_mva.is_finite() && self.base_mva > 0.0) {
            return Err(InvalidNetwork(format!(
                "base_mva must be positive, got {}",
                self.base_mva
            )));
        }
        let n = self.buses.len();
        for (i, b) in self.buses.iter().enumerate() {
            let vals = [b.pd_mw, b.qd_mvar, b.gs_mw, b.bs_mvar, b.vm_pu, b.va_deg];
            if vals.iter().any(|v| !v.is_finite()) {
                return Err(InvalidNetwork(format!(
                    "bus {i} ({}) has a non-finite value",
                    b.name
                )));
            }
        }
        for (k, br) in self.branches.iter().enumerate() {
            if br.from >= n || br.to >= n {
                return Err(InvalidNetwork(format!(
                    "branch {k} refers to a bus that does not exist"
                )));
            }
            let vals = [
                br.r_pu,
                br.x_pu,
                br.b_pu,
                br.g_pu,
                br.tap,
                br.shift_deg,
                br.rate_a_mva,
            ];
            if vals.iter().any(|v| !v.is_finite()) {
                return Err(InvalidNetwork(format!("branch {k} has a non-finite value")));
            }
            if br.in_service && br.r_pu == 0.0 && br.x_pu == 0.0 {
                return Err(InvalidNetwork(format!("branch {k} has zero impedance")));
            }
        }
        for (g, gen_) in self.generators.iter().enumerate() {
            if gen_.bus >= n {
                return Err(InvalidNetwork(format!(
                    "generator {g} refers to a bus that does not exist"
                )));
            }
            let vals = [
                gen_.pg_mw,
                gen_.qg_mvar,
                gen_.vg_pu,
                gen_.qmax_mvar,
                gen_.qmin_mvar,
                gen_.participation,
            ];
            if vals.iter().any(|v| v.is_nan()) {
                return Err(InvalidNetwork(format!("generator {g} has a NaN value")));
            }
        }
        Ok(())
    }
}
