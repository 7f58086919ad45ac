//! The headless report: one summary entry per tick (collected in the Publish stage) and the
//! final state of every asset. Schema in `docs/report.md`.

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_grid::IslandStatus;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::*;
use crate::sim::alarms::Alarms;
use crate::sim::grid::Grid;
use crate::sim::{SimClock, SimSet};

/// State of one island in a tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IslandSummary {
    /// Island number.
    pub id: usize,
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
    /// Island states.
    pub islands: Vec<IslandSummary>,
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
    demands: Query<&Demand>,
    units: Query<(&UnitOutput, Option<&Spec<kos_scene::GeneratorSpec>>)>,
    mut log: ResMut<ReportLog>,
) {
    let Some(r) = grid.last.as_ref() else { return };
    let net = &grid.model.network;
    let mut demand: Vec<(f64, bool)> = demands.iter().map(|d| (d.p_kw, d.served)).collect();
    // Fixed order of summation for byte-identical reports.
    demand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let demand_kw: f64 = demand.iter().map(|d| d.0).sum();
    let served_kw: f64 = demand.iter().filter(|d| d.1).map(|d| d.0).sum();
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
        islands: r
            .islands
            .iter()
            .map(|i| IslandSummary {
                id: i.id,
                buses: i.n_buses,
                status: i.status,
                reference: i.reference.map(|b| net.buses[b].name.clone()),
                iterations: i.iterations,
            })
            .collect(),
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
        }
        out.insert(id.0.clone(), Value::Object(o));
    }
    out
}

/// The whole report of a run.
pub fn build_report(world: &mut World, scene_name: &str) -> Value {
    let assets = asset_states(world);
    let clock = world.resource::<SimClock>().clone();
    let ticks = world.resource::<ReportLog>().ticks.clone();
    #[cfg(not(target_arch = "wasm32"))]
    let telemetry = crate::telemetry::report_section(world);
    #[cfg(target_arch = "wasm32")]
    let telemetry: Option<Value> = None;
    let alarms = world.resource::<Alarms>();
    let mut report = json!({
        "format": "kos-twin-report/1",
        "scene": scene_name,
        "site": world.resource::<SiteInfo>().name,
        "seed": clock.seed,
        "ticks": clock.ticks,
        "tick_seconds": clock.tick_s,
        "start": kos_scene::time::format_datetime(clock.start_s),
        "end": clock.now_text(),
        "alarms": { "total": alarms.total, "recent": alarms.recent },
        "summary": ticks,
        "assets": assets,
    });
    // Only live runs have the key: reports of runs without telemetry stay as they were.
    if let (Some(t), Value::Object(o)) = (telemetry, &mut report) {
        o.insert("telemetry".into(), t);
    }
    report
}

/// Collects a summary after every tick.
pub fn plugin(app: &mut App) {
    app.init_resource::<ReportLog>();
    app.add_systems(FixedUpdate, summarise.in_set(SimSet::Publish));
}
