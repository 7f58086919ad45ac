//! The egui overlay: a top bar with the clock, an outliner of assets by kind and
//! neighbourhood, and an inspector for the selected asset. Panels are drawn from plain view
//! structs (see [`panels`]) so they can be tested on a bare `egui::Context`; the overlay system
//! only gathers those structs from the world and turns clicks into commands.

pub mod panels;
#[cfg(not(target_arch = "wasm32"))]
pub mod telemetry;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use crate::model::*;
use crate::sim::alarms::Alarms;
use crate::sim::{ClockCommand, SimClock};
use panels::{ClockView, InspectorView, OutlineRow};

/// The asset selected in the view or the outliner (view state, not simulation state).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Selection(pub Option<Entity>);

#[allow(clippy::type_complexity)]
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
    if let Some(picked) = panels::outliner(ctx, &rows, selection.0) {
        selection.0 = Some(picked);
    }
    if let Some(e) = selection.0 {
        if let (Ok((_, id, kind, hood)), Ok(state), Ok(spec)) =
            (assets.get(e), states.get(e), specs.get(e))
        {
            let view = InspectorView::gather(id, *kind, hood, state, spec);
            if panels::inspector(ctx, &view) {
                selection.0 = None;
            }
        }
    }
    Ok(())
}

/// Registers the overlay.
pub fn plugin(app: &mut App) {
    app.init_resource::<Selection>()
        .add_systems(EguiPrimaryContextPass, overlay);
    #[cfg(not(target_arch = "wasm32"))]
    app.add_plugins(telemetry::plugin);
}
