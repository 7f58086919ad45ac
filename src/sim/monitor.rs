//! Energy monitors: for every unit, branch and consumer, the energy it used and produced,
//! its share of the losses, where its energy came from (renewable fraction, CO2 intensity),
//! its efficiency, and a bounded time series for the overlay's charts. Consumers learn which
//! producers supplied them by proportional-sharing flow tracing of the solved flows.

use bevy::prelude::*;
use kos_energy::series::RollingSeries;
use kos_energy::variation::key_of;
use kos_grid::{TraceOptions, trace};
use kos_scene::{EmissionFactors, GeneratorSpec};

use super::accounting::Source;
use super::grid::Grid;
use super::plan::DispatchPlan;
use super::{SimClock, SimSet};
use crate::model::*;

/// Tick samples kept per series: the last six hours.
pub const SERIES_RECENT: usize = 360;
/// Ticks averaged into one sample of the long view.
pub const SERIES_AVERAGE: usize = 10;
/// Averages kept in the long view: a week of 10-minute means.
pub const SERIES_LONG: usize = 1008;

/// A bounded power series: recent ticks and a week of averages.
pub fn power_series() -> RollingSeries {
    RollingSeries::with_coarse(SERIES_RECENT, SERIES_AVERAGE, SERIES_LONG)
}

/// Points to chart: the week of averages once there are some, else the recent ticks.
pub fn chart_points(s: &RollingSeries) -> Vec<[f64; 2]> {
    if s.coarse_len() > 1 {
        s.coarse_iter().map(|(t, v)| [t, v]).collect()
    } else {
        s.iter().map(|(t, v)| [t, v]).collect()
    }
}
/// Suppliers named per consumer; the rest are summed as "others".
pub const SUPPLIERS_KEPT: usize = 12;

/// Running energy accounts of one asset.
#[derive(Component, Debug, Clone)]
pub struct EnergyMonitor {
    /// Energy taken: served demand, battery charge, or branch losses, kWh.
    pub used_kwh: f64,
    /// Energy delivered: generation, battery discharge, or energy through a branch, kWh.
    pub produced_kwh: f64,
    /// Consumers: their share of the island's losses; branches: their own losses, kWh.
    pub loss_kwh: f64,
    /// Energy (used by consumers, produced by units) traced to a known source, kWh.
    pub traced_kwh: f64,
    /// Of `traced_kwh`, the renewable part, kWh.
    pub renewable_kwh: f64,
    /// Emissions of `traced_kwh`, g CO2-eq.
    pub co2_g: f64,
    /// Renewable power available but curtailed, kWh (solar and wind).
    pub curtailed_kwh: f64,
    /// Power, kW (positive delivering for units, consuming for consumers, through for
    /// branches).
    pub power: RollingSeries,
    /// Who supplied a consumer, largest first (see [`EnergyMonitor::suppliers`]).
    pub(crate) suppliers: Vec<Supplier>,
    /// Supply from producers beyond the first [`SUPPLIERS_KEPT`], kWh.
    pub other_suppliers_kwh: f64,
}

impl Default for EnergyMonitor {
    fn default() -> Self {
        Self {
            used_kwh: 0.0,
            produced_kwh: 0.0,
            loss_kwh: 0.0,
            traced_kwh: 0.0,
            renewable_kwh: 0.0,
            co2_g: 0.0,
            curtailed_kwh: 0.0,
            power: power_series(),
            suppliers: Vec::new(),
            other_suppliers_kwh: 0.0,
        }
    }
}

/// One supplier of a consumer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Supplier {
    /// `key_of(id)`: compared before the id, which is compared only when the keys match.
    key: u64,
    id: String,
    kwh: f64,
}

impl EnergyMonitor {
    /// Who supplied a consumer: (asset id, kWh), largest first.
    pub fn suppliers(&self) -> impl Iterator<Item = (&str, f64)> + '_ {
        self.suppliers.iter().map(|s| (s.id.as_str(), s.kwh))
    }

    /// Renewable share of the traced energy, fraction.
    pub fn renewable_fraction(&self) -> f64 {
        ratio(self.renewable_kwh, self.traced_kwh)
    }

    /// Emissions per traced kWh, g CO2-eq/kWh.
    pub fn co2_intensity(&self) -> f64 {
        ratio(self.co2_g, self.traced_kwh)
    }

    /// Consumers: served over served plus their loss share; units: delivered over
    /// available (1 - curtailment); batteries: discharged over charged; branches: delivered
    /// over sent. Fraction; 1 before anything flowed.
    pub fn efficiency(&self, kind: AssetKind) -> f64 {
        let e = match kind {
            AssetKind::Load | AssetKind::Pod => ratio(self.used_kwh, self.used_kwh + self.loss_kwh),
            AssetKind::Storage => ratio(self.produced_kwh, self.used_kwh),
            AssetKind::Line | AssetKind::Transformer | AssetKind::Switch => {
                ratio(self.produced_kwh - self.loss_kwh, self.produced_kwh)
            }
            _ => ratio(self.produced_kwh, self.produced_kwh + self.curtailed_kwh),
        };
        if e == 0.0 && self.used_kwh == 0.0 && self.produced_kwh == 0.0 {
            1.0
        } else {
            e
        }
    }

    /// Counts `kwh` supplied by the asset `id`, whose `key_of` is `key`; call
    /// [`EnergyMonitor::sort_suppliers`] after the last.
    pub(crate) fn supplied_by(&mut self, id: &str, key: u64, kwh: f64) {
        if let Some(s) = self
            .suppliers
            .iter_mut()
            .find(|s| s.key == key && s.id == id)
        {
            s.kwh += kwh;
        } else if self.suppliers.len() < SUPPLIERS_KEPT {
            self.suppliers.push(Supplier {
                key,
                id: id.to_string(),
                kwh,
            });
        } else {
            self.other_suppliers_kwh += kwh;
        }
    }

    /// Largest supplier first, ties by id.
    pub(crate) fn sort_suppliers(&mut self) {
        self.suppliers
            .sort_by(|a, b| b.kwh.total_cmp(&a.kwh).then_with(|| a.id.cmp(&b.id)));
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 1e-12 {
        (a / b).clamp(0.0, 1.0e6)
    } else {
        0.0
    }
}

/// What a unit's energy is made of: renewable fraction and g CO2-eq per kWh. Batteries
/// carry the mix they were charged with.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct StoredMix {
    /// Energy stored, by the accounts, kWh.
    pub kwh: f64,
    /// Renewable part of it, fraction.
    pub renewable: f64,
    /// Its emissions, g CO2-eq per kWh.
    pub co2_g_per_kwh: f64,
}

fn factor(f: &EmissionFactors, s: Source) -> f64 {
    match s {
        Source::Solar => f.solar,
        Source::Wind => f.wind,
        Source::Chp => f.chp,
        Source::Bio => f.bio,
        Source::Other => f.other,
        Source::Grid => f.grid,
        Source::Storage => 0.0,
    }
}

/// The community's power by source over time, for the mix chart.
#[derive(Resource, Debug, Clone)]
pub struct MixHistory {
    /// (source name, power series in kW), in chart order.
    pub series: Vec<(&'static str, RollingSeries)>,
}

impl Default for MixHistory {
    fn default() -> Self {
        Self {
            series: [
                "solar", "wind", "chp", "bio", "other", "grid", "storage", "load",
            ]
            .into_iter()
            .map(|n| (n, power_series()))
            .collect(),
        }
    }
}

fn record_mix(clock: Res<SimClock>, grid: Res<Grid>, mut mix: ResMut<MixHistory>) {
    let t_h = clock.elapsed_s as f64 / 3600.0;
    let e = &grid.energy;
    let sum = |f: &dyn Fn(&super::accounting::IslandEnergy) -> f64| e.iter().map(f).sum::<f64>();
    let values = [
        sum(&|i| i.generation_kw.solar),
        sum(&|i| i.generation_kw.wind),
        sum(&|i| i.generation_kw.chp),
        sum(&|i| i.generation_kw.bio),
        sum(&|i| i.generation_kw.other),
        sum(&|i| i.generation_kw.grid),
        sum(&|i| i.storage_kw),
        sum(&|i| i.load_served_kw),
    ];
    for ((_, s), v) in mix.series.iter_mut().zip(values) {
        s.push(t_h, v);
    }
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn monitor_energy(
    clock: Res<SimClock>,
    site: Res<SiteInfo>,
    grid: Res<Grid>,
    plan: Res<DispatchPlan>,
    specs: Query<&Spec<GeneratorSpec>>,
    tags: Query<&AssetTag>,
    mut units: Query<(
        &UnitOutput,
        &mut EnergyMonitor,
        Option<&Available>,
        Option<&mut StoredMix>,
    )>,
    mut consumers: Query<(&Demand, &mut EnergyMonitor), Without<UnitOutput>>,
    mut branches: Query<(&BranchFlow, &mut EnergyMonitor), (Without<UnitOutput>, Without<Demand>)>,
) {
    let Some(result) = grid.last.as_ref() else {
        return;
    };
    let net = &grid.model.network;
    let dt_h = clock.tick_s as f64 / 3600.0;
    let t_h = clock.elapsed_s as f64 / 3600.0;
    let factors = &site.energy.emissions;

    // Mix of each unit's output: (renewable fraction, g/kWh).
    let mix: Vec<(f64, f64)> = grid
        .unit_entities
        .iter()
        .map(|&e| {
            let source = Source::of_unit(specs.get(e).ok().map(|s| &s.0));
            match units.get(e).ok().and_then(|u| u.3.copied()) {
                Some(stored) if source == Source::Storage => {
                    (stored.renewable, stored.co2_g_per_kwh)
                }
                _ => (
                    if source.renewable() { 1.0 } else { 0.0 },
                    factor(factors, source),
                ),
            }
        })
        .collect();
    let tracing = trace(net, result, &TraceOptions::default());
    let ids: Vec<&str> = grid
        .unit_entities
        .iter()
        .map(|&e| tags.get(e).map_or("", |t| t.0.as_str()))
        .collect();
    let keys: Vec<u64> = ids.iter().map(|id| key_of(id)).collect();

    // Units: output, curtailment, and batteries' stored mix.
    for (g, &e) in grid.unit_entities.iter().enumerate() {
        let Ok((out, mut m, available, stored)) = units.get_mut(e) else {
            continue;
        };
        let p = if out.energised { out.p_kw } else { 0.0 };
        m.power.push(t_h, p);
        let delivered = p.max(0.0) * dt_h;
        m.produced_kwh += delivered;
        m.traced_kwh += delivered;
        m.renewable_kwh += delivered * mix[g].0;
        m.co2_g += delivered * mix[g].1;
        if let Some(a) = available {
            m.curtailed_kwh += a.curtailed_kw * dt_h;
        }
        let charged = (-p).max(0.0) * dt_h;
        m.used_kwh += charged;
        if let Some(mut s) = stored {
            // Charging blends the bus's traced mix into the store; discharging draws it.
            if charged > 0.0 {
                let bus = net.generators[g].bus;
                let (mut r, mut c, mut known) = (0.0, 0.0, 0.0);
                for &(src, f) in tracing.composition(bus) {
                    r += f * mix[src].0;
                    c += f * mix[src].1;
                    known += f;
                }
                if known > 0.0 {
                    let (r, c) = (r / known, c / known);
                    let total = s.kwh + charged;
                    s.renewable = (s.renewable * s.kwh + r * charged) / total;
                    s.co2_g_per_kwh = (s.co2_g_per_kwh * s.kwh + c * charged) / total;
                    s.kwh = total;
                }
            } else {
                s.kwh = (s.kwh - delivered).max(0.0);
            }
        }
    }

    // Consumers: served energy, loss share, and who supplied it.
    let island_served: Vec<f64> = grid.energy.iter().map(|e| e.load_served_kw).collect();
    for c in &plan.consumers {
        let Ok((d, mut m)) = consumers.get_mut(c.entity) else {
            continue;
        };
        let served = d.served_kw();
        m.power.push(t_h, served);
        let kwh = served * dt_h;
        m.used_kwh += kwh;
        if kwh <= 0.0 {
            continue;
        }
        if let Some(i) = result.bus_island[c.bus] {
            let total = island_served.get(i).copied().unwrap_or(0.0);
            let losses = grid.energy.get(i).map_or(0.0, |e| e.losses_kw);
            if total > 0.0 {
                m.loss_kwh += losses * dt_h * served / total;
            }
        }
        let m = &mut *m;
        for &(g, f) in tracing.composition(c.bus) {
            let part = kwh * f;
            m.traced_kwh += part;
            m.renewable_kwh += part * mix[g].0;
            m.co2_g += part * mix[g].1;
            m.supplied_by(ids[g], keys[g], part);
        }
        m.sort_suppliers();
    }

    // Branches: energy through and losses.
    for (k, &e) in grid.branch_entities.iter().enumerate() {
        let Ok((f, mut m)) = branches.get_mut(e) else {
            continue;
        };
        let through = result.branch_pf_mw[k]
            .abs()
            .max(result.branch_pt_mw[k].abs())
            * 1000.0;
        let loss = (result.branch_pf_mw[k] + result.branch_pt_mw[k]) * 1000.0;
        m.power.push(t_h, if f.energised { through } else { 0.0 });
        m.produced_kwh += through * dt_h;
        m.loss_kwh += loss.max(0.0) * dt_h;
        m.used_kwh += loss.max(0.0) * dt_h;
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<MixHistory>();
    app.add_systems(
        FixedUpdate,
        (monitor_energy, record_mix)
            .in_set(SimSet::Stores)
            .after(super::storage::integrate_batteries),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppliers_add_up_by_id_and_the_first_twelve_are_named() {
        let mut m = EnergyMonitor::default();
        let ids: Vec<String> = (0..14).map(|i| format!("pv-{i}")).collect();
        for _ in 0..2 {
            for (i, id) in ids.iter().enumerate() {
                m.supplied_by(id, key_of(id), (i + 1) as f64);
            }
            m.sort_suppliers();
        }
        let named: Vec<(&str, f64)> = m.suppliers().collect();
        assert_eq!(named.len(), SUPPLIERS_KEPT);
        assert_eq!(named[0], ("pv-11", 24.0));
        assert_eq!(named[11], ("pv-0", 2.0));
        assert_eq!(m.other_suppliers_kwh, 2.0 * (13.0 + 14.0));
    }

    #[test]
    fn suppliers_whose_keys_collide_stay_apart() {
        let mut m = EnergyMonitor::default();
        m.supplied_by("b", 7, 2.0);
        m.supplied_by("a", 7, 1.0);
        m.supplied_by("a", 7, 1.0);
        m.sort_suppliers();
        // Equal energy: by id.
        assert_eq!(m.suppliers().collect::<Vec<_>>(), [("a", 2.0), ("b", 2.0)]);
    }
}
