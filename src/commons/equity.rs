//! Equitable access in the tick: kos-commons' watches over power and water. Each tick is a
//! period; a resource is short when its last allocation cut someone. A consumer whose meter
//! (telemetry) shows it drawing above its share for several periods, beyond the tolerance, is
//! flagged: an alarm with the evidence, and its demand is capped at its share in the next
//! allocations until it keeps within it again. (A modelled consumer draws what the dispatch
//! lets it, never above its share.) A private owner holding more than the set share of an
//! island's supply during a shortage raises a monopoly alarm with the Herfindahl-Hirschman
//! index of the owners' supplies; the community's own units are not a monopoly.

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_commons::{Alarm as EquityAlarm, Draw, EquityRules, Watch, hhi};
use kos_scene::GeneratorSpec;
use serde::Serialize;

use super::{CommonsSettings, CommonsState, Share};
use crate::model::*;
use crate::sim::SimClock;
use crate::sim::alarms::{Alarm, Alarms, Severity};
use crate::sim::grid::Grid;

#[cfg(not(target_arch = "wasm32"))]
use crate::telemetry::Measured;

/// The browser build has no meters.
#[cfg(target_arch = "wasm32")]
#[derive(Component)]
pub struct Measured;

/// A meter's fresh power (kW) and water (l/h) readings.
#[cfg(not(target_arch = "wasm32"))]
fn readings(m: &Measured) -> (Option<f64>, Option<f64>) {
    if m.stale {
        return (None, None);
    }
    (m.values.p_kw, m.values.flow_l_s.map(|f| f * 3600.0))
}

#[cfg(target_arch = "wasm32")]
fn readings(_: &Measured) -> (Option<f64>, Option<f64>) {
    (None, None)
}

/// The owner of the community's own units in the monopoly watch.
pub const COMMUNITY: &str = "community";

/// The watches, the caps they hold offenders to and the alarms raised.
#[derive(Resource, Debug, Clone, Default)]
pub struct EquityState {
    watches: Option<(Watch, Watch)>,
    /// Herfindahl-Hirschman index of the owners' supply in each island this tick (0 to
    /// 10,000), by the island's reference bus.
    pub hhi: BTreeMap<String, f64>,
    /// Every equity alarm raised, oldest first.
    pub alarms: Vec<EquityAlarm>,
}

impl EquityState {
    /// The power cap an offender is held to, kW.
    pub fn cap_kw(&self, id: &str) -> Option<f64> {
        let (power, _) = self.watches.as_ref()?;
        power.is_flagged(id).then(|| power.cap(id, f64::INFINITY))
    }

    /// Consumers held to their share now: (resource, consumer, cap).
    pub fn capped(&self) -> Vec<(String, String, f64)> {
        let mut out = Vec::new();
        if let Some((power, water)) = &self.watches {
            for w in [power, water] {
                out.extend(
                    w.caps()
                        .map(|(c, cap)| (w.resource().to_string(), c.to_string(), cap)),
                );
            }
        }
        out
    }
}

impl Serialize for EquityState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("EquityState", 3)?;
        st.serialize_field("hhi", &self.hhi)?;
        st.serialize_field("alarms", &self.alarms)?;
        st.serialize_field("capped", &self.capped())?;
        st.end()
    }
}

fn rules(s: &kos_scene::CommonsSpec) -> EquityRules {
    EquityRules {
        tolerance: s.hoarding_tolerance,
        periods: s.hoarding_periods,
        monopoly_share: s.monopoly_share,
        ..EquityRules::default()
    }
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub(super) fn watch(
    clock: Res<SimClock>,
    settings: Res<CommonsSettings>,
    grid: Res<Grid>,
    mut state: ResMut<CommonsState>,
    mut equity: ResMut<EquityState>,
    mut alarms: ResMut<Alarms>,
    consumers: Query<(&AssetTag, &Demand, &Share, Option<&Measured>)>,
    units: Query<(&UnitOutput, &Spec<GeneratorSpec>)>,
) {
    let equity = &mut *equity;
    let (power, water) = equity.watches.get_or_insert_with(|| {
        let r = rules(&settings);
        (
            Watch::try_new("power_kw", r.clone())
                .unwrap_or_else(|_| Watch::new("power_kw", EquityRules::default())),
            Watch::try_new("water_l_per_h", r)
                .unwrap_or_else(|_| Watch::new("water_l_per_h", EquityRules::default())),
        )
    });
    let period = clock.ticks;
    let power_short = state.power.iter().any(|i| i.outcome.short);
    let water_short = state.water.as_ref().is_some_and(|w| w.outcome.short);
    // Metered draws against the shares they were given.
    let mut power_draws = Vec::new();
    let mut water_draws = Vec::new();
    let mut list: Vec<_> = consumers
        .iter()
        .filter_map(|(tag, _, share, metered)| metered.map(|m| (tag, share, readings(m))))
        .collect();
    list.sort_by(|a, b| a.0.cmp(b.0));
    for (tag, share, (p_kw, water)) in list {
        if let (Some(limit), Some(drawn)) = (share.power_kw, p_kw) {
            power_draws.push(Draw {
                consumer: tag.0.clone(),
                share: limit,
                drawn: drawn.max(0.0),
                storage_charged: 0.0,
                storage_need: 0.0,
            });
        }
        if let (Some(limit), Some(drawn)) = (share.water_l_per_h, water) {
            water_draws.push(Draw {
                consumer: tag.0.clone(),
                share: limit,
                drawn,
                storage_charged: 0.0,
                storage_need: 0.0,
            });
        }
    }
    let mut raised = power.observe(period, power_short, &power_draws);
    raised.extend(water.observe(period, water_short, &water_draws));

    // Monopoly: owners' supply per island in a shortage.
    equity.hhi.clear();
    let net = &grid.model.network;
    let islands = kos_grid::find_islands(net, |k| net.branches[k].in_service);
    for island in &state.power {
        let Some(&reference) = grid.model.bus_index.get(&island.reference) else {
            continue;
        };
        let Some(id) = islands.of_bus[reference] else {
            continue;
        };
        let mut owners: Vec<(String, f64)> = Vec::new();
        for (g, &e) in grid.unit_entities.iter().enumerate() {
            if islands.of_bus[net.generators[g].bus] != Some(id) {
                continue;
            }
            if let Ok((out, spec)) = units.get(e)
                && !matches!(spec.kind, kos_scene::GeneratorKind::GridTie { .. })
            {
                let who = spec.owner.clone().unwrap_or_else(|| COMMUNITY.to_string());
                owners.push((who, out.p_kw.max(0.0)));
            }
        }
        owners.sort_by(|a, b| a.0.cmp(&b.0));
        let mut by_owner: BTreeMap<&str, f64> = BTreeMap::new();
        for (w, p) in &owners {
            *by_owner.entry(w).or_default() += p;
        }
        equity.hhi.insert(
            island.reference.clone(),
            hhi(&by_owner.values().copied().collect::<Vec<_>>()),
        );
        for a in power.observe_supply(period, island.outcome.short, &owners) {
            if a.who != COMMUNITY {
                raised.push(a);
            }
        }
    }
    state.hhi = equity.hhi.clone();
    state.capped = equity.capped();
    for a in raised {
        alarms.raise(Alarm {
            t: clock.now_text(),
            severity: Severity::Warning,
            asset: Some(a.who.clone()),
            message: match &a.evidence {
                kos_commons::Evidence::Monopoly { share, hhi, .. } => format!(
                    "{} holds {:.0} % of the supply of {} in a shortage (HHI {:.0})",
                    a.who,
                    share * 100.0,
                    a.resource,
                    hhi
                ),
                kos_commons::Evidence::StorageFill { charged, need, .. } => format!(
                    "{} filled private storage with {charged:.1} from the commons in a shortage, \
                     stated need {need:.1}; held to its share",
                    a.who
                ),
                kos_commons::Evidence::AboveShare { periods, share, .. } => format!(
                    "{} drew above its share of {} ({share:.1}) for {periods} periods; held to \
                     its share",
                    a.who, a.resource
                ),
            },
        });
        equity.alarms.push(a);
    }
}
