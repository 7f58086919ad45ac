//! The egui overlay: a top bar with the clock, an outliner of assets by kind and
//! neighbourhood, and an inspector for the selected asset. Panels are drawn from plain view
//! structs (see [`panels`]) so they can be tested on a bare `egui::Context`; the overlay system
//! only gathers those structs from the world and turns clicks into commands.

pub mod citizen;
pub mod citizen_ledger;
pub mod citizen_report;
pub mod commons;
pub mod energy;
#[cfg(not(target_arch = "wasm32"))]
pub mod ledger;
pub mod map;
pub mod panels;
pub mod protection;
#[cfg(not(target_arch = "wasm32"))]
pub mod telemetry;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use crate::model::*;
use crate::sim::alarms::Alarms;
use crate::sim::modules::PlugInModule;
use crate::sim::monitor::{EnergyMonitor, MixHistory};
use crate::sim::wear::{BatteryWear, CableWear, TransformerWear, UnitWear};
use crate::sim::{ClockCommand, SimClock};
use energy::EnergyView;
use panels::{ClockView, InspectorView, OutlineRow};

/// The asset selected in the view or the outliner (view state, not simulation state).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Selection(pub Option<Entity>);

/// View state of the energy panels.
#[derive(Resource, Debug, Default, Clone)]
pub struct EnergyPanels {
    /// The plug-in form.
    pub form: energy::PlugInForm,
}

/// Wear of an asset as inspector rows.
#[allow(clippy::type_complexity)]
fn wear_rows(
    w: (
        Option<&TransformerWear>,
        Option<&CableWear>,
        Option<&BatteryWear>,
        Option<&UnitWear>,
    ),
) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
    if let Some(t) = w.0 {
        row("hot spot", format!("{:.1} degC", t.hot_spot_c));
        row("ageing factor", format!("{:.3}", t.aging_factor));
        row("life used", format!("{:.2} h", t.aged_hours));
    }
    if let Some(c) = w.1 {
        row("conductor", format!("{:.1} degC", c.conductor_c));
        row("life used", format!("{:.2} h", c.aged_hours));
    }
    if let Some(b) = w.2 {
        row(
            "capacity left",
            format!("{:.3} %", b.capacity_factor * 100.0),
        );
        row("full cycles", format!("{:.2}", b.equivalent_full_cycles));
    }
    if let Some(u) = w.3 {
        row("run hours", format!("{:.1} h", u.runs.run_hours));
        row("starts", u.runs.starts.to_string());
        if let Some(f) = u.fuel_kwh {
            row("fuel", format!("{f:.0} kWh"));
        }
        if let Some(d) = u.fuel_days {
            row("fuel lasts", format!("{d:.1} days"));
        }
    }
    rows
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn overlay(
    mut contexts: EguiContexts,
    clock: Option<Res<SimClock>>,
    site: Option<Res<SiteInfo>>,
    alarms: Res<Alarms>,
    mut selection: ResMut<Selection>,
    mut commands: MessageWriter<ClockCommand>,
    assets: Query<(Entity, &AssetTag, &AssetKind, Option<&Neighbourhood>)>,
    states: Query<StateQuery>,
    specs: Query<panels::SpecQuery>,
    monitors: Query<(
        &EnergyMonitor,
        Option<&TransformerWear>,
        Option<&CableWear>,
        Option<&BatteryWear>,
        Option<&UnitWear>,
    )>,
    mix: Option<Res<MixHistory>>,
    mut panels_state: ResMut<EnergyPanels>,
    mut plug_in: MessageWriter<PlugInModule>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let (Some(clock), Some(site)) = (clock, site) else {
        return Ok(());
    };
    let view = ClockView {
        site: site.name.clone(),
        now: clock.now_text(),
        speed: clock.speed,
        paused: clock.paused,
        ticks: clock.ticks,
        alarms: alarms.total,
        last_alarm: alarms.recent.back().map(|a| a.message.clone()),
    };
    for c in panels::top_bar(ctx, &view) {
        commands.write(c);
    }
    let mut rows: Vec<OutlineRow> = assets
        .iter()
        .map(|(e, id, kind, hood)| OutlineRow {
            entity: e,
            id: id.0.clone(),
            kind: *kind,
            neighbourhood: hood.map(|h| h.0.clone()).unwrap_or_default(),
        })
        .collect();
    rows.sort_by(|a, b| (a.kind, &a.neighbourhood, &a.id).cmp(&(b.kind, &b.neighbourhood, &b.id)));
    let buses: Vec<String> = rows
        .iter()
        .filter(|r| r.kind == AssetKind::Bus)
        .map(|r| r.id.clone())
        .collect();
    if let Some(request) = energy::plug_in_window(ctx, &mut panels_state.form, &buses) {
        plug_in.write(request);
    }
    if let Some(mix) = mix {
        let series: energy::MixSeries = mix
            .series
            .iter()
            .map(|(n, s)| (*n, crate::sim::monitor::chart_points(s)))
            .collect();
        energy::mix_window(ctx, &series);
    }
    if let Some(picked) = panels::outliner(ctx, &rows, selection.0) {
        selection.0 = Some(picked);
    }
    if let Some(e) = selection.0
        && let (Ok((_, id, kind, hood)), Ok(state), Ok(spec)) =
            (assets.get(e), states.get(e), specs.get(e))
    {
        let view = InspectorView::gather(id, *kind, hood, state, spec);
        let energy = monitors
            .get(e)
            .ok()
            .map(|(m, t, c, b, u)| EnergyView::of(*kind, m, wear_rows((t, c, b, u))));
        if panels::inspector(ctx, &view, energy.as_ref()) {
            selection.0 = None;
        }
    }
    Ok(())
}

/// Registers the overlay.
pub fn plugin(app: &mut App) {
    app.init_resource::<Selection>()
        .init_resource::<EnergyPanels>()
        .add_systems(EguiPrimaryContextPass, overlay)
        .add_plugins((map::plugin, protection::plugin, commons::plugin));
    #[cfg(not(target_arch = "wasm32"))]
    app.add_plugins((telemetry::plugin, ledger::plugin));
}
