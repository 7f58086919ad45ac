//! Equitable access in the tick: kos-commons' watches over power and water. Each tick is a
//! period; a resource is short when its last allocation cut someone. A consumer whose meter
//! (telemetry) shows it drawing above its share for several periods, beyond the tolerance, is
//! flagged: an alarm with the evidence, and its demand is capped at its share in the next
//! allocations until it keeps within it again. (A modelled consumer draws what the dispatch
//! lets it, never above its share.) A meter that shows the consumer's own storage behind it (a
//! battery, a water tank) filling from the commons in a shortage beyond the need the scene
//! states for it is flagged at once, and held to its share without the excess. A private owner holding more than the set share of an
//! island's supply during a shortage raises a monopoly alarm with the Herfindahl-Hirschman
//! index of the owners' supplies; the community's own units are not a monopoly.

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_commons::{Alarm as EquityAlarm, Draw, EquityRules, Watch, hhi};
use kos_scene::{GeneratorSpec, LoadSpec, PodSpec};
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

/// A meter's fresh readings: what the consumer draws, and of that what goes into its own
/// storage.
#[derive(Debug, Clone, Copy, Default)]
struct Readings {
    /// Power drawn, kW, and into its own battery, kW.
    power: Option<(f64, f64)>,
    /// Water drawn, l/h, and into its own tank, l/h.
    water: Option<(f64, f64)>,
}

#[cfg(not(target_arch = "wasm32"))]
fn readings(m: &Measured) -> Readings {
    if m.stale {
        return Readings::default();
    }
    let v = &m.values;
    Readings {
        power: v.p_kw.map(|p| (p, v.charge_kw.unwrap_or(0.0))),
        water: v
            .flow_l_s
            .map(|f| (f * 3600.0, v.tank_fill_l_s.unwrap_or(0.0) * 3600.0)),
    }
}

#[cfg(target_arch = "wasm32")]
fn readings(_: &Measured) -> Readings {
    Readings::default()
}

/// A metered draw against the share: the limit the allocation set or, for a consumer it did
/// not limit, what it draws for itself plus its stated storage need.
fn draw(consumer: &str, limit: Option<f64>, (drawn, charged): (f64, f64), need: f64) -> Draw {
    let drawn = drawn.max(0.0);
    let charged = charged.max(0.0);
    Draw {
        consumer: consumer.to_string(),
        share: limit.unwrap_or((drawn - charged + need).max(0.0)),
        drawn,
        storage_charged: charged,
        storage_need: need,
    }
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
    consumers: Query<(
        &AssetTag,
        &Share,
        Option<&Measured>,
        Option<&Spec<LoadSpec>>,
        Option<&Spec<PodSpec>>,
    )>,
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
        .filter_map(|(tag, share, metered, load, pod)| {
            let commons = load.map(|l| &l.commons).or(pod.map(|p| &p.commons))?;
            metered.map(|m| (tag, share, readings(m), commons))
        })
        .collect();
    list.sort_by(|a, b| a.0.cmp(b.0));
    for (tag, share, r, commons) in list {
        // A draw is evidence when the allocation limited the consumer, or when it fills its
        // own storage.
        if let Some(p) = r.power
            && (share.power_kw.is_some() || p.1 > 0.0)
        {
            power_draws.push(draw(&tag.0, share.power_kw, p, commons.storage_need_kw));
        }
        if let Some(w) = r.water
            && (share.water_l_per_h.is_some() || w.1 > 0.0)
        {
            water_draws.push(draw(
                &tag.0,
                share.water_l_per_h,
                w,
                commons.tank_need_l_per_h,
            ));
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
