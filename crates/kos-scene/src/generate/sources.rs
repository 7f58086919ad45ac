//! The generated community's sources and services: wind, CHP and bio units, batteries,
//! pods, depots and routes.

use super::*;

/// Wind, CHP and bio units, batteries, pods, depots and routes.
pub(super) fn place_sources_and_pods(
    g: &mut Gen,
    p: &Plan,
    subs: &mut [Substation],
    feeders: &[Vec<usize>],
) {
    let kv = p.kv;
    let m = feeders.len().max(1);
    // Turbines at the far ends of the feeders, pointing away from the primary.
    for w in 0..p.wind {
        let chain = &feeders[w % m];
        let Some(&i) = chain
            .iter()
            .rev()
            .nth((w / m).min(chain.len().saturating_sub(1)))
        else {
            continue;
        };
        let (pos, d) = (subs[i].pos, dist((0.0, 0.0), subs[i].pos).max(1.0));
        let at = (pos.0 + 150.0 * pos.0 / d, pos.1 + 150.0 * pos.1 / d);
        let id = format!("wt-{w}-lv");
        let dna = g.dna("wind turbine terminal", "690 V", 2005);
        g.bus(&id, at, 0.69, "wind park", dna);
        g.transformer(format!("tx-{id}"), &subs[i].rmu, &id, 630.0, (kv, 0.69));
        let kind = GeneratorKind::Wind {
            hub_height_m: 50.0,
            cut_in_m_s: 3.0,
            rated_m_s: 12.0,
            cut_out_m_s: 25.0,
        };
        let set = g.rng.range(120.0, 240.0);
        g.unit(format!("wt-{w}"), &id, kind, 500.0, set, 1.0);
    }
    // CHP and biogas units near the primary, on the first ring main units.
    for c in 0..p.chp {
        let chain = &feeders[c % m];
        let Some(&i) = chain.get((c / m).min(chain.len().saturating_sub(1))) else {
            continue;
        };
        let pos = subs[i].pos;
        let id = format!("chp-{c}-lv");
        let dna = g.dna("CHP unit terminal", "400 V", 2005);
        g.bus(&id, (pos.0 - 30.0, pos.1 + 25.0), 0.4, "energy centre", dna);
        g.transformer(format!("tx-{id}"), &subs[i].rmu, &id, 400.0, (kv, 0.4));
        let kind = if c % 2 == 0 {
            GeneratorKind::Bio {
                min_load: 0.4,
                ramp_kw_per_min: 25.0,
                fuel_kwh: 60_000.0,
            }
        } else {
            GeneratorKind::Chp {
                min_load: 0.3,
                ramp_kw_per_min: 50.0,
            }
        };
        g.unit(format!("chp-{c}"), &id, kind, 250.0, 150.0, 1.015);
    }
    // A shuffled order of substations spreads batteries and pods over the community.
    let mut order: Vec<usize> = (0..subs.len()).collect();
    for k in (1..order.len()).rev() {
        let j = g.rng.int(0, k);
        order.swap(k, j);
    }
    let n_bat = (1 + subs.len() * 30 / 100).min(subs.len());
    for (b, &i) in order.iter().take(n_bat).enumerate() {
        let kw = g.rng.int(2, 8) as f64 * 25.0;
        let forming = b % 5 == 0;
        let dna = g.dna(
            if forming {
                "community battery, grid-forming: holds its area in an outage"
            } else {
                "community battery"
            },
            format!("{} kWh LFP, {kw} kW", 2.0 * kw),
            2020,
        );
        g.s.storage.push(StorageSpec {
            id: format!("bat-{b}"),
            bus: subs[i].board.clone(),
            energy_kwh: 2.0 * kw,
            power_kw: kw,
            charge_efficiency: 0.95,
            discharge_efficiency: 0.95,
            soc_min: 0.1,
            soc_max: 0.95,
            soc: g.rng.range(0.3, 0.9),
            grid_forming: forming,
            voltage_pu: 1.01,
            in_service: true,
            dna,
        });
    }
    // Pods: shelters, clinics and hubs on LV boards; data centres and waterworks on their own.
    let board_kinds = [PodKind::Shelter, PodKind::Clinic, PodKind::FabricationHub];
    let mut next = order.iter().copied().cycle();
    let sets = if p.pod_sets == 0 { 1 } else { p.pod_sets };
    for k in 0..sets {
        let kinds: &[PodKind] = if p.pod_sets == 0 {
            &board_kinds[..1]
        } else {
            &board_kinds
        };
        for &kind in kinds {
            let Some(i) = next.next() else { break };
            let kw = match kind {
                PodKind::Shelter => g.rng.range(20.0, 40.0),
                PodKind::Clinic => g.rng.range(30.0, 60.0),
                _ => g.rng.range(50.0, 80.0),
            };
            subs[i].peak_kva += kw / 0.95;
            let (bus, pos) = (subs[i].board.clone(), subs[i].pos);
            pod(g, kind, k, bus, (pos.0 + 20.0, pos.1 - 15.0), kw);
        }
        if p.pod_sets == 0 {
            break;
        }
        for kind in [PodKind::DataCentre, PodKind::WaterUtility] {
            let Some(i) = next.next() else { break };
            let kw = match kind {
                PodKind::DataCentre => g.rng.range(60.0, 150.0),
                _ => g.rng.range(50.0, 100.0),
            };
            let tag = if kind == PodKind::DataCentre {
                "dc"
            } else {
                "water"
            };
            let id = format!("{tag}-{k}");
            let pos = subs[i].pos;
            let at = (pos.0 - 40.0, pos.1 - 35.0);
            let dna = g.dna(format!("{tag} supply"), "400 V, 630 A", 2010);
            let area = subs[i].area.clone();
            g.bus(&id, at, 0.4, &area, dna);
            g.transformer(
                format!("tx-{id}"),
                &subs[i].rmu,
                &id,
                rating_for(kw / 0.95),
                (kv, 0.4),
            );
            pod(g, kind, k, id, (at.0 - 20.0, at.1), kw);
        }
    }
    // Depots: one by the primary, one more per 2 500 buses; each pod supplied by the nearest.
    let n_depots = 1 + g.s.buses.len() / 2500;
    for d in 0..n_depots {
        let at = if d == 0 {
            (120.0, -60.0)
        } else {
            let i = order[(d * 7919) % order.len().max(1)];
            (subs[i].pos.0 + 40.0, subs[i].pos.1 - 40.0)
        };
        let dna = g.dna("community supply depot", "1 200 m2 store, 2 vans", 2015);
        let q = 1.0 + g.rng.int(0, 4) as f64 * 0.25;
        let stock = |resource: &str, quantity: f64, unit: &str| Stock {
            resource: resource.into(),
            quantity: round3(quantity * q),
            unit: unit.into(),
        };
        g.s.depots.push(DepotSpec {
            id: format!("depot-{d}"),
            position: at,
            stocks: vec![
                stock("drinking water", 40.0, "m3"),
                stock("wood pellets", 18.0, "t"),
                stock("food rations", 2400.0, "person-days"),
                stock("medical kits", 60.0, "kits"),
                stock("spare cable joints", 25.0, "pieces"),
            ],
            dna,
        });
    }
    let routes: Vec<RouteSpec> =
        g.s.pods
            .iter()
            .map(|pod| {
                let (d, km) =
                    g.s.depots
                        .iter()
                        .map(|d| (d, dist(d.position, pod.position)))
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .map(|(d, m)| (d.id.clone(), m))
                        .unwrap_or_default();
                let water = pod.kind == PodKind::WaterUtility;
                RouteSpec {
                    id: format!("route-{}", pod.id),
                    from: d,
                    to: pod.id.clone(),
                    length_km: round3((km * 1.3 / 1000.0).max(0.1)),
                    mode: if water {
                        RouteMode::Path
                    } else {
                        RouteMode::Road
                    },
                    capacity_t_per_day: if water { 0.8 } else { 4.0 },
                    dna: Dna::default(),
                }
            })
            .collect();
    g.s.routes = routes;
}

/// Adds pod number `k` of `kind` at `bus`.
fn pod(g: &mut Gen, kind: PodKind, k: usize, bus: String, position: (f64, f64), kw: f64) {
    let (tag, occupants, water, mbps, priority, what) = match kind {
        PodKind::Shelter => (
            "shelter",
            g.rng.int(80, 200),
            15.0,
            200.0,
            Priority::Critical,
            "community hall and emergency shelter",
        ),
        PodKind::Clinic => (
            "clinic",
            g.rng.int(20, 60),
            12.0,
            300.0,
            Priority::Critical,
            "health clinic",
        ),
        PodKind::FabricationHub => (
            "fabhub",
            g.rng.int(10, 30),
            5.0,
            500.0,
            Priority::Deferrable,
            "repair and fabrication workshop",
        ),
        PodKind::DataCentre => (
            "datacentre",
            g.rng.int(5, 15),
            8.0,
            10_000.0,
            Priority::Essential,
            "community data centre and mesh network core",
        ),
        PodKind::WaterUtility => (
            "waterworks",
            0,
            g.rng.range(300.0, 800.0),
            20.0,
            Priority::Critical,
            "borehole pumps, treatment and reservoir",
        ),
    };
    let dna = g.dna(what, format!("{kw} kW"), 2000);
    g.s.pods.push(PodSpec {
        id: format!("{tag}-{k}"),
        kind,
        bus,
        position: (round3(position.0), round3(position.1)),
        occupants: occupants as u32,
        power_kw: kw,
        water_m3_per_day: water,
        bandwidth_mbps: mbps,
        priority,
        places: None,
        reservoir_m3: if kind == PodKind::WaterUtility {
            water / 4.0
        } else {
            0.0
        },
        commons: ConsumerCommons::default(),
        dna,
    });
}

/// The commons sized to the community, so that it is short only when something fails: the
/// mesh carries everyone with a quarter to spare (a tenth of that on the nodes' batteries),
/// and households ask at most what the water works give beyond the pods' needs, less a tenth.
pub(super) fn size_commons(s: &mut Scene) {
    let c = &mut s.commons;
    let households: f64 = s.loads.iter().map(|l| l.households as f64).sum();
    let pods = |f: &dyn Fn(&PodSpec) -> f64, kind: Option<PodKind>| -> f64 {
        s.pods
            .iter()
            .filter(|p| kind.is_none_or(|k| p.kind != k))
            .map(f)
            .sum()
    };
    let mesh = households * c.mesh_mbps_per_household
        + pods(&|p| p.bandwidth_mbps, Some(PodKind::DataCentre));
    c.mesh_mbps = (mesh * 1.25 / 100.0).ceil() * 100.0;
    c.mesh_backup_mbps = (c.mesh_mbps / 10.0).round();
    let works: f64 = s
        .pods
        .iter()
        .filter(|p| p.kind == PodKind::WaterUtility)
        .map(|p| p.water_m3_per_day * 1000.0 / 24.0)
        .sum();
    let pods_need = pods(
        &|p| p.water_m3_per_day * 1000.0 / 24.0,
        Some(PodKind::WaterUtility),
    );
    if households > 0.0 {
        let per = 0.9 * (works - pods_need).max(0.0) / households;
        c.water_l_per_household_h = (per.min(c.water_l_per_household_h) * 10.0).floor() / 10.0;
    }
}
