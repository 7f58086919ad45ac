//! The headless report: one summary entry per tick (collected in the Publish stage) and the
//! final state of every asset. Schema in `docs/report.md`.

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_grid::IslandStatus;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::*;
use crate::sim::accounting::IslandEnergy;
use crate::sim::alarms::Alarms;
use crate::sim::environment::WeatherState;
use crate::sim::grid::Grid;
use crate::sim::monitor::EnergyMonitor;
use crate::sim::storage::StockLevels;
use crate::sim::wear::{BatteryWear, CableWear, TransformerWear, UnitWear};
use crate::sim::{SimClock, SimSet};

/// State of one island in a tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IslandSummary {
    /// Island number and energy balance.
    #[serde(flatten)]
    pub energy: IslandEnergy,
    /// Buses in it.
    pub buses: usize,
    /// `solved`, `not_converged` or `deenergised`.
    pub status: IslandStatus,
    /// Asset id of its reference bus.
    pub reference: Option<String>,
    /// Newton iterations.
    pub iterations: usize,
}

/// Totals of one tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickSummary {
    /// Tick number, from 0.
    pub tick: u64,
    /// Simulated local time of the tick, `YYYY-MM-DDTHH:MM:SS`.
    pub t: String,
    /// Demand of all loads and pods, kW.
    pub demand_kw: f64,
    /// Demand that was supplied, kW.
    pub served_kw: f64,
    /// Output of all generation modules except the grid tie, kW.
    pub generation_kw: f64,
    /// Net import through grid ties, kW (negative: export).
    pub import_kw: f64,
    /// Net battery output, kW (positive: discharging).
    pub storage_kw: f64,
    /// Line, cable and transformer losses, kW.
    pub losses_kw: f64,
    /// Lowest energised bus voltage, pu.
    pub min_vm_pu: f64,
    /// Highest bus voltage, pu.
    pub max_vm_pu: f64,
    /// Most loaded branch, percent of rating.
    pub max_loading_pct: f64,
    /// Every energised island converged.
    pub converged: bool,
    /// Renewable power available but not taken, kW.
    pub curtailed_kw: f64,
    /// Weather of the tick.
    pub weather: WeatherSummary,
    /// Island states and energy balances.
    pub islands: Vec<IslandSummary>,
    /// The commons' allocation of power, water, mesh bandwidth and shelter places.
    pub allocation: crate::commons::CommonsState,
}

/// The weather of a tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeatherSummary {
    /// Global horizontal irradiance, W/m2.
    pub ghi_w_m2: f64,
    /// Wind speed at 10 m, m/s.
    pub wind_m_s: f64,
    /// Air temperature, degrees C.
    pub ambient_c: f64,
    /// Cloud cover, fraction.
    pub cloud_cover: f64,
}

/// Summaries collected so far.
#[derive(Resource, Debug, Default, Clone)]
pub struct ReportLog {
    /// One entry per tick.
    pub ticks: Vec<TickSummary>,
}

/// Appends this tick's summary to the [`ReportLog`] (Publish stage).
pub fn summarise(
    clock: Res<SimClock>,
    grid: Res<Grid>,
    weather: Res<WeatherState>,
    demands: Query<&Demand>,
    units: Query<(&UnitOutput, Option<&Spec<kos_scene::GeneratorSpec>>)>,
    commons: Option<Res<crate::commons::CommonsState>>,
    mut log: ResMut<ReportLog>,
) {
    let Some(r) = grid.last.as_ref() else { return };
    let net = &grid.model.network;
    let mut demand: Vec<(f64, f64)> = demands.iter().map(|d| (d.p_kw, d.served_kw())).collect();
    // Fixed order of summation for byte-identical reports.
    demand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let demand_kw: f64 = demand.iter().map(|d| d.0).sum();
    let served_kw: f64 = demand.iter().map(|d| d.1).sum();
    let (mut generation_kw, mut import_kw, mut storage_kw) = (0.0, 0.0, 0.0);
    for (g, &e) in grid.unit_entities.iter().enumerate() {
        let Ok((u, spec)) = units.get(e) else {
            continue;
        };
        let p = if u.energised {
            r.gen_pg_mw[g] * 1000.0
        } else {
            0.0
        };
        match spec.map(|s| &s.kind) {
            Some(kos_scene::GeneratorKind::GridTie { .. }) => import_kw += p,
            Some(_) => generation_kw += p,
            None => storage_kw += p,
        }
    }
    let live: Vec<f64> = r.vm_pu.iter().copied().filter(|v| *v > 0.0).collect();
    log.ticks.push(TickSummary {
        tick: clock.ticks,
        t: clock.now_text(),
        demand_kw,
        served_kw,
        generation_kw,
        import_kw,
        storage_kw,
        losses_kw: r.total_losses_mw * 1000.0,
        min_vm_pu: if live.is_empty() {
            0.0
        } else {
            live.iter().copied().fold(f64::INFINITY, f64::min)
        },
        max_vm_pu: live.iter().copied().fold(0.0, f64::max),
        max_loading_pct: r.branch_loading_pct.iter().copied().fold(0.0, f64::max),
        converged: r.converged,
        curtailed_kw: grid.energy.iter().map(|e| e.curtailed_kw).sum(),
        weather: WeatherSummary {
            ghi_w_m2: weather.ghi_w_m2,
            wind_m_s: weather.now.wind_m_s,
            ambient_c: weather.now.ambient_c,
            cloud_cover: weather.now.cloud_cover,
        },
        islands: r
            .islands
            .iter()
            .zip(&grid.energy)
            .map(|(i, e)| IslandSummary {
                energy: e.clone(),
                buses: i.n_buses,
                status: i.status,
                reference: i.reference.map(|b| net.buses[b].name.clone()),
                iterations: i.iterations,
            })
            .collect(),
        allocation: commons.map(|c| c.summary()).unwrap_or_default(),
    });
}

/// Final state of every asset, keyed by id.
pub fn asset_states(world: &mut World) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut q = world.query::<(&AssetTag, &AssetKind, StateQuery)>();
    for (id, kind, (v, f, sw, u, soc, d)) in q.iter(world) {
        let mut o = serde_json::Map::new();
        o.insert("kind".into(), json!(kind.label()));
        if let Some(v) = v {
            o.insert("vm_pu".into(), json!(v.vm_pu));
            o.insert("va_deg".into(), json!(v.va_deg));
            o.insert("island".into(), json!(v.island));
            o.insert("energised".into(), json!(v.energised));
        }
        if let Some(f) = f {
            o.insert("p_from_kw".into(), json!(f.p_from_kw));
            o.insert("q_from_kvar".into(), json!(f.q_from_kvar));
            o.insert("p_to_kw".into(), json!(f.p_to_kw));
            o.insert("q_to_kvar".into(), json!(f.q_to_kvar));
            o.insert("loading_pct".into(), json!(f.loading_pct));
            o.insert("energised".into(), json!(f.energised));
        }
        if let Some(sw) = sw {
            o.insert("closed".into(), json!(sw.closed));
        }
        if let Some(u) = u {
            o.insert("p_kw".into(), json!(u.p_kw));
            o.insert("q_kvar".into(), json!(u.q_kvar));
            o.insert("setpoint_kw".into(), json!(u.setpoint_kw));
            o.insert("energised".into(), json!(u.energised));
        }
        if let Some(soc) = soc {
            o.insert("soc".into(), json!(soc.0));
        }
        if let Some(d) = d {
            o.insert("demand_kw".into(), json!(d.p_kw));
            o.insert("demand_kvar".into(), json!(d.q_kvar));
            o.insert("served".into(), json!(d.served));
            o.insert("served_fraction".into(), json!(d.fraction));
        }
        out.insert(id.0.clone(), Value::Object(o));
    }
    let mut monitors = world.query::<(&AssetTag, &AssetKind, &EnergyMonitor)>();
    for (id, kind, m) in monitors.iter(world) {
        let Some(Value::Object(o)) = out.get_mut(&id.0) else {
            continue;
        };
        let mut j = json!({
            "used_kwh": m.used_kwh,
            "produced_kwh": m.produced_kwh,
            "loss_kwh": m.loss_kwh,
            "renewable_fraction": m.renewable_fraction(),
            "co2_g_per_kwh": m.co2_intensity(),
            "efficiency": m.efficiency(*kind),
        });
        if matches!(kind, AssetKind::Load | AssetKind::Pod) {
            j["suppliers"] = json!(m.suppliers().collect::<Vec<_>>());
            j["other_suppliers_kwh"] = json!(m.other_suppliers_kwh);
        }
        o.insert("monitor".into(), j);
    }
    let mut shares = world.query::<(&AssetTag, &Share)>();
    for (id, share) in shares.iter(world) {
        if *share == Share::default() {
            continue;
        }
        if let Some(Value::Object(o)) = out.get_mut(&id.0) {
            o.insert(
                "share".into(),
                json!({"power_kw": share.power_kw, "water_l_per_h": share.water_l_per_h,
                       "mesh_mbps": share.mesh_mbps}),
            );
        }
    }
    let mut wear = world.query::<(
        &AssetTag,
        Option<&Available>,
        Option<&TransformerWear>,
        Option<&CableWear>,
        Option<&BatteryWear>,
        Option<&UnitWear>,
        Option<&StockLevels>,
    )>();
    for (id, available, tr, cable, battery, unit, stocks) in wear.iter(world) {
        let Some(Value::Object(o)) = out.get_mut(&id.0) else {
            continue;
        };
        if let Some(a) = available {
            o.insert("available_kw".into(), json!(a.kw));
            o.insert("curtailed_kw".into(), json!(a.curtailed_kw));
        }
        if let Some(t) = tr {
            o.insert(
                "wear".into(),
                json!({"hot_spot_c": t.hot_spot_c, "aging_factor": t.aging_factor, "aged_hours": t.aged_hours}),
            );
        }
        if let Some(c) = cable {
            o.insert(
                "wear".into(),
                json!({"conductor_c": c.conductor_c, "aging_factor": c.aging_factor, "aged_hours": c.aged_hours}),
            );
        }
        if let Some(b) = battery {
            o.insert(
                "wear".into(),
                json!({"capacity_factor": b.capacity_factor, "equivalent_full_cycles": b.equivalent_full_cycles,
                       "cycle_fade": b.fade.cycle_fade, "calendar_fade": b.fade.calendar_fade}),
            );
        }
        if let Some(u) = unit {
            o.insert(
                "wear".into(),
                json!({"run_hours": u.runs.run_hours, "starts": u.runs.starts,
                       "fuel_kwh": u.fuel_kwh, "fuel_days": u.fuel_days}),
            );
        }
        if let Some(s) = stocks {
            o.insert(
                "stocks".into(),
                json!({"quantity": s.quantity, "days_remaining": s.days_remaining}),
            );
        }
    }
    out
}

/// The whole report of a run (a live run adds its `telemetry` object: see `kos-twin headless`).
pub fn build_report(world: &mut World, scene_name: &str) -> Value {
    let assets = asset_states(world);
    let clock = world.resource::<SimClock>().clone();
    let ticks = world.resource::<ReportLog>().ticks.clone();
    let alarms = world.resource::<Alarms>();
    json!({
        "format": "kos-twin-report/1",
        "scene": scene_name,
        "site": world.resource::<SiteInfo>().name,
        "seed": clock.seed,
        "ticks": clock.ticks,
        "tick_seconds": clock.tick_s,
        "start": kos_scene::time::format_datetime(clock.start_s),
        "end": clock.now_text(),
        "alarms": { "total": alarms.total, "recent": alarms.recent },
        "commons": commons_final(world),
        "summary": ticks,
        "assets": assets,
    })
}

/// The commons at the end of a run: token balances by household and the record of every
/// mint and spend, the conservation events and the equity alarms.
fn commons_final(world: &World) -> Value {
    use crate::commons::{EquityState, EventState, TokenBook};
    let book = world.get_resource::<TokenBook>();
    let events = world.get_resource::<EventState>();
    json!({
        "tokens": book.map(|b| b.balances()).unwrap_or_default(),
        "token_record": book.map(|b| b.wallet.entries().to_vec()).unwrap_or_default(),
        "events": events.map(|e| e.past.clone()).unwrap_or_default(),
        "event_on": events.and_then(|e| e.active.clone()),
        "equity_alarms": world.get_resource::<EquityState>().map(|e| e.alarms.clone()).unwrap_or_default(),
    })
}

/// Collects a summary after every tick.
pub fn plugin(app: &mut App) {
    app.init_resource::<ReportLog>();
    app.add_systems(FixedUpdate, summarise.in_set(SimSet::Publish));
}
