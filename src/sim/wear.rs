//! The Wear set: insulation ageing of transformers and cables from their loading and the
//! weather, battery capacity fade from cycling and time, generator run hours and starts,
//! and the fuel stock of bio units. The formulas are kos-energy's; this only feeds them.

use bevy::prelude::*;
use kos_energy::wear::{
    BatteryAging, BatteryWear as Fade, CableThermal, RainflowCounter, RunCounter,
    TransformerTemperatures, TransformerThermal, aging_acceleration_factor,
};
use kos_scene::{GeneratorKind, GeneratorSpec, LineSpec, StorageSpec, TransformerSpec};

use super::environment::WeatherState;
use super::{SimClock, SimSet};
use crate::model::*;

/// Thermal state and ageing of a transformer's insulation.
#[derive(Component, Debug, Clone, PartialEq, Default)]
pub struct TransformerWear {
    /// Temperature rises now.
    pub temperatures: TransformerTemperatures,
    /// Winding hot-spot temperature, degrees C.
    pub hot_spot_c: f64,
    /// Ageing acceleration factor now (1 at 110 degrees C).
    pub aging_factor: f64,
    /// Insulation life used since the start, equivalent hours at 110 degrees C.
    pub aged_hours: f64,
}

/// Conductor temperature and insulation ageing of a cable or line.
#[derive(Component, Debug, Clone, PartialEq, Default)]
pub struct CableWear {
    /// Conductor temperature, degrees C.
    pub conductor_c: f64,
    /// Ageing acceleration factor now (1 at the rated conductor temperature).
    pub aging_factor: f64,
    /// Insulation life used since the start, equivalent hours at rated temperature.
    pub aged_hours: f64,
}

/// Capacity fade of a battery.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct BatteryWear {
    /// Capacity left, fraction of nameplate (1 new).
    pub capacity_factor: f64,
    /// Full cycles counted so far (rainflow ranges summed).
    pub equivalent_full_cycles: f64,
    /// Fade from cycling and from time.
    pub fade: Fade,
    counter: RainflowCounter,
}

impl Default for BatteryWear {
    fn default() -> Self {
        Self {
            capacity_factor: 1.0,
            equivalent_full_cycles: 0.0,
            fade: Fade::default(),
            counter: RainflowCounter::default(),
        }
    }
}

/// Run hours, starts and fuel of a generator.
#[derive(Component, Debug, Clone, PartialEq, Default)]
pub struct UnitWear {
    /// Run hours and starts.
    pub runs: RunCounter,
    /// Fuel left, kWh of electrical output (bio units).
    pub fuel_kwh: Option<f64>,
    /// Days the fuel lasts at the mean output of the last day.
    pub fuel_days: Option<f64>,
    /// Mean output over about the last day, kW (exponential average).
    pub mean_kw: f64,
}

impl UnitWear {
    /// Wear state of a new unit.
    pub fn of(spec: &GeneratorSpec) -> Self {
        Self {
            fuel_kwh: match spec.kind {
                GeneratorKind::Bio { fuel_kwh, .. } => Some(fuel_kwh),
                _ => None,
            },
            ..default()
        }
    }
}

fn age_transformers(
    clock: Res<SimClock>,
    weather: Res<WeatherState>,
    mut q: Query<(&BranchFlow, &mut TransformerWear), With<Spec<TransformerSpec>>>,
) {
    let dt_min = clock.tick_s as f64 / 60.0;
    let model = TransformerThermal::default();
    for (flow, mut w) in &mut q {
        let k = if flow.energised {
            flow.loading_pct / 100.0
        } else {
            0.0
        };
        w.temperatures = model.step(w.temperatures, k, weather.now.ambient_c, dt_min);
        w.hot_spot_c = w.temperatures.hot_spot_c;
        w.aging_factor = aging_acceleration_factor(w.hot_spot_c);
        w.aged_hours += w.aging_factor * dt_min / 60.0;
    }
}

fn age_cables(
    clock: Res<SimClock>,
    weather: Res<WeatherState>,
    mut q: Query<(&BranchFlow, &mut CableWear), With<Spec<LineSpec>>>,
) {
    let dt_min = clock.tick_s as f64 / 60.0;
    let model = CableThermal::default();
    for (flow, mut w) in &mut q {
        let k = if flow.energised {
            flow.loading_pct / 100.0
        } else {
            0.0
        };
        if w.conductor_c == 0.0 {
            w.conductor_c = weather.now.ambient_c;
        }
        w.conductor_c = model.step(w.conductor_c, k, weather.now.ambient_c, dt_min);
        w.aging_factor = model.aging_acceleration_factor(w.conductor_c);
        w.aged_hours += w.aging_factor * dt_min / 60.0;
    }
}

fn age_batteries(
    clock: Res<SimClock>,
    weather: Res<WeatherState>,
    mut q: Query<(&StateOfCharge, &mut BatteryWear), With<Spec<StorageSpec>>>,
) {
    let dt_h = clock.tick_s as f64 / 3600.0;
    let aging = BatteryAging::default();
    for (soc, mut w) in &mut q {
        let w = &mut *w;
        let cycles = w.counter.push(soc.0);
        w.equivalent_full_cycles += cycles.iter().map(|c| c.range * c.count).sum::<f64>();
        w.fade.add_cycles(&aging, &cycles);
        w.fade.add_calendar(&aging, dt_h, weather.now.ambient_c);
        w.capacity_factor = w.fade.capacity_factor();
    }
}

fn run_units(clock: Res<SimClock>, mut q: Query<(&UnitOutput, &mut UnitWear)>) {
    let dt_h = clock.tick_s as f64 / 3600.0;
    // An exponential mean over about a day.
    let alpha = (dt_h / 24.0).min(1.0);
    for (out, mut w) in &mut q {
        let p = if out.energised {
            out.p_kw.max(0.0)
        } else {
            0.0
        };
        w.runs.step(p > 1e-6, dt_h);
        w.mean_kw += alpha * (p - w.mean_kw);
        if let Some(fuel) = w.fuel_kwh {
            let left = (fuel - p * dt_h).max(0.0);
            w.fuel_kwh = Some(left);
            w.fuel_days = (w.mean_kw > 1e-6).then(|| left / (w.mean_kw * 24.0));
        }
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(
        FixedUpdate,
        (age_transformers, age_cables, age_batteries, run_units).in_set(SimSet::Wear),
    );
}
