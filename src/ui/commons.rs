//! The Commons window of the overlay: each resource's supply and demand, the shares by
//! neighbourhood and pod, Jain's fairness index, the critical minimums and whether they are
//! met, the shelter places, hoarding and monopoly alarms, the conservation event and the
//! token balances.

use std::collections::BTreeMap;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use crate::commons::{CommonsState, EquityState, Outcome, TokenBook};
use crate::model::{AssetTag, Neighbourhood, Spec};

/// One resource's line.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRow {
    /// What and where (`power, island chp-lv`).
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Supply, demand and allotted.
    pub capacity: f64,
    pub demand: f64,
    pub allocated: f64,
    /// Someone gets less than it asks.
    pub short: bool,
    /// Jain's index of the fraction of demand served.
    pub jain: f64,
    /// Critical minimums: asked, and all met.
    pub minimums: f64,
    pub minimums_met: bool,
    /// Shares while short: (neighbourhood or pod, asked, allotted).
    pub shares: Vec<(String, f64, f64)>,
    /// Minimums not met: consumer, priority, missing.
    pub shortfalls: Vec<(String, u32, f64)>,
}

impl ResourceRow {
    /// The first resource of an outcome, shares summed by neighbourhood (pods on their own).
    fn of(name: String, unit: &str, o: &Outcome, hood: &BTreeMap<String, String>) -> Self {
        let mut shares: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for s in &o.shares {
            let key = hood.get(&s.id).cloned().unwrap_or_else(|| s.id.clone());
            let e = shares.entry(key).or_default();
            e.0 += s.demand[0];
            e.1 += s.amount[0];
        }
        Self {
            name,
            unit: unit.into(),
            capacity: o.capacity[0],
            demand: o.demand[0],
            allocated: o.allocated[0],
            short: o.short,
            jain: o.jain,
            minimums: o.minimums[0],
            minimums_met: o.minimums_met,
            shares: shares.into_iter().map(|(k, (d, a))| (k, d, a)).collect(),
            shortfalls: o
                .shortfalls
                .iter()
                .map(|f| {
                    (
                        format!("{} ({})", f.consumer, f.resource),
                        f.priority,
                        f.missing,
                    )
                })
                .collect(),
        }
    }
}

/// What the Commons window shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommonsView {
    /// Power per island, water, mesh.
    pub resources: Vec<ResourceRow>,
    /// Shelter: placed families and people, waiting families and people, places taken of
    /// all.
    pub shelter: Option<(usize, u32, usize, u32, u32, u32)>,
    /// Shelter by neighbourhood: (name, people placed, people asking).
    pub shelter_hoods: Vec<(String, u32, u32)>,
    /// The conservation event on: (id, kind, since).
    pub event: Option<(String, String, String)>,
    /// Equity alarms, newest last: (who, resource, what).
    pub alarms: Vec<(String, String, String)>,
    /// HHI of the owners' supply by island.
    pub hhi: Vec<(String, f64)>,
    /// Token balances, largest first (at most 12), and the total.
    pub tokens: Vec<(String, f64)>,
    pub tokens_total: f64,
    /// Tokens spent so far (on priority in the deferrable loads' slots).
    pub tokens_spent: f64,
    /// Households whose deferrable loads go first now, having spent tokens.
    pub priority_households: u32,
}

impl CommonsView {
    /// Gathers the view; `hood` maps consumer ids to their neighbourhood (pods are not in it).
    pub fn gather(
        state: &CommonsState,
        equity: &EquityState,
        book: &TokenBook,
        hood: &BTreeMap<String, String>,
    ) -> Self {
        let mut resources: Vec<ResourceRow> = state
            .power
            .iter()
            .map(|i| {
                let name = if i.tied {
                    "power (grid-tied)".to_string()
                } else {
                    format!(
                        "power, island {} ({:.1} h to morning)",
                        i.reference,
                        i.horizon_h.unwrap_or(0.0)
                    )
                };
                ResourceRow::of(name, "kW", &i.outcome, hood)
            })
            .collect();
        if let Some(w) = &state.water {
            let name = if w.works_up {
                "water".to_string()
            } else {
                format!(
                    "water (works down, {:.0} m3 stored{})",
                    w.stored_m3,
                    w.hours_left
                        .map(|h| format!(", {h:.0} h left"))
                        .unwrap_or_default()
                )
            };
            resources.push(ResourceRow::of(name, "l/h", &w.outcome, hood));
        }
        if let Some(m) = &state.mesh {
            resources.push(ResourceRow::of("mesh bandwidth".into(), "Mbit/s", m, hood));
        }
        let balances = book.balances();
        let mut tokens: Vec<(String, f64)> = balances.clone().into_iter().collect();
        tokens.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        tokens.truncate(12);
        Self {
            resources,
            shelter: state.shelter.as_ref().map(|s| {
                (
                    s.placed_families,
                    s.placed_people,
                    s.waiting_families,
                    s.waiting_people,
                    s.shelters.iter().map(|x| x.taken).sum(),
                    s.shelters.iter().map(|x| x.places).sum(),
                )
            }),
            shelter_hoods: state
                .shelter
                .iter()
                .flat_map(|s| &s.neighbourhoods)
                .map(|n| (n.name.clone(), n.placed_people, n.people))
                .collect(),
            event: state
                .event
                .as_ref()
                .filter(|e| e.to.is_none())
                .map(|e| (e.id.clone(), e.kind.label().to_string(), e.from.clone())),
            alarms: equity
                .alarms
                .iter()
                .rev()
                .take(20)
                .rev()
                .map(|a| {
                    (
                        a.who.clone(),
                        a.resource.clone(),
                        format!("{:?}", a.kind).to_lowercase(),
                    )
                })
                .collect(),
            hhi: state.hhi.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            tokens,
            tokens_total: balances.values().sum(),
            tokens_spent: book
                .wallet
                .entries()
                .iter()
                .map(|e| match e {
                    kos_commons::Entry::Spent { tokens, .. } => tokens.as_f64(),
                    _ => 0.0,
                })
                .sum(),
            priority_households: state.power.iter().map(|i| i.priority_households).sum(),
        }
    }
}

const RED: egui::Color32 = egui::Color32::from_rgb(210, 70, 60);
const AMBER: egui::Color32 = egui::Color32::from_rgb(220, 150, 30);
const GREEN: egui::Color32 = egui::Color32::from_rgb(60, 160, 80);

/// Draws the Commons window.
pub fn commons_window(ctx: &egui::Context, v: &CommonsView) {
    egui::Window::new("Commons")
        .id(egui::Id::new("commons"))
        .anchor(egui::Align2::LEFT_TOP, [250.0, 40.0])
        .default_width(460.0)
        .default_open(v.resources.iter().any(|r| r.short) || v.shelter.is_some())
        .show(ctx, |ui| {
            egui::ScrollArea::vertical()
                .max_height(600.0)
                .show(ui, |ui| commons_body(ui, v));
        });
}

fn commons_body(ui: &mut egui::Ui, v: &CommonsView) {
    if let Some((id, kind, since)) = &v.event {
        ui.colored_label(
            AMBER,
            format!("Conservation event {id} ({kind}) since {since}: save to earn tokens"),
        );
    }
    for r in &v.resources {
        ui.horizontal(|ui| {
            // A painted dot: the default fonts have no circle glyph.
            let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
            let colour = if r.short { AMBER } else { GREEN };
            ui.painter().circle_filled(rect.center(), 5.0, colour);
            ui.strong(r.name.as_str());
        });
        ui.monospace(format!(
            "supply {:.1}  demand {:.1}  allotted {:.1} {}   Jain {:.3}",
            r.capacity, r.demand, r.allocated, r.unit, r.jain
        ));
        ui.colored_label(
            if r.minimums_met { GREEN } else { RED },
            format!(
                "critical minimums {:.1} {}: {}",
                r.minimums,
                r.unit,
                if r.minimums_met { "met" } else { "NOT met" }
            ),
        );
        for (who, priority, missing) in &r.shortfalls {
            ui.colored_label(
                RED,
                format!("  {who}, priority {priority}: {missing:.1} missing"),
            );
        }
        if r.short {
            egui::CollapsingHeader::new("shares")
                .id_salt(("shares", &r.name))
                .default_open(r.unit == "kW")
                .show(ui, |ui| {
                    egui::Grid::new(("grid", &r.name))
                        .striped(true)
                        .show(ui, |ui| {
                            for (who, asked, got) in &r.shares {
                                ui.label(who.as_str());
                                ui.monospace(format!("{got:.1} of {asked:.1} {}", r.unit));
                                let f = if *asked > 0.0 { got / asked } else { 1.0 };
                                ui.add(egui::ProgressBar::new(f as f32).desired_width(90.0));
                                ui.end_row();
                            }
                        });
                });
        }
        ui.separator();
    }
    if let Some((pf, pp, wf, wp, taken, places)) = v.shelter {
        ui.strong("Shelter");
        ui.label(format!(
            "{pf} families ({pp} people) placed whole, {taken} of {places} places; \
                     {wf} families ({wp} people) waiting"
        ));
        for (name, placed, people) in &v.shelter_hoods {
            let name = if name.is_empty() { "(none)" } else { name };
            ui.label(format!("  {name}: {placed} of {people} people placed"));
        }
        ui.separator();
    }
    if !v.hhi.is_empty() {
        let text: Vec<String> = v.hhi.iter().map(|(i, h)| format!("{i}: {h:.0}")).collect();
        ui.label(format!("Supply concentration (HHI): {}", text.join(", ")));
    }
    if v.alarms.is_empty() {
        ui.label("No hoarding or monopoly.");
    } else {
        for (who, resource, kind) in &v.alarms {
            ui.colored_label(RED, format!("{kind}: {who} ({resource})"));
        }
    }
    ui.separator();
    ui.strong(format!(
        "Eco-tokens: {:.2} held, {:.2} spent on priority slots",
        v.tokens_total, v.tokens_spent
    ));
    if v.priority_households > 0 {
        ui.label(format!(
            "{} households' deferrable loads go first in the surplus",
            v.priority_households
        ));
    }
    for (h, t) in &v.tokens {
        ui.monospace(format!("{h:<20} {t:>10.3}"));
    }
}

fn window(
    mut contexts: EguiContexts,
    state: Option<Res<CommonsState>>,
    equity: Option<Res<EquityState>>,
    book: Option<Res<TokenBook>>,
    consumers: Query<(&AssetTag, &Neighbourhood), With<Spec<kos_scene::LoadSpec>>>,
) -> Result {
    let (Some(state), Some(equity), Some(book)) = (state, equity, book) else {
        return Ok(());
    };
    let hood: BTreeMap<String, String> = consumers
        .iter()
        .map(|(t, h)| (t.0.clone(), h.0.clone()))
        .collect();
    let view = CommonsView::gather(&state, &equity, &book, &hood);
    commons_window(contexts.ctx_mut()?, &view);
    Ok(())
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(EguiPrimaryContextPass, window);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protection::{ProtectionConfig, Schedule, ScheduledFault, attach};

    /// The grid tie lost at night with the wind turbines out: the window shows the island's
    /// power short, its minimums met, shares by neighbourhood summing to what was allotted,
    /// and an event on; it draws.
    #[test]
    fn the_window_shows_a_short_island() {
        let scene = crate::scene::default_scene();
        let mut app = crate::app::headless_app(&scene);
        let schedule = Schedule {
            faults: vec![ScheduledFault {
                at_s: 960.0 * 60.0,
                asset: "grid".into(),
                permanent: true,
                ..Default::default()
            }],
            ..Default::default()
        };
        attach(&mut app, schedule, ProtectionConfig::default());
        crate::sim::run_ticks(&mut app, 975);
        let world = app.world_mut();
        let mut q =
            world.query_filtered::<(&AssetTag, &Neighbourhood), With<Spec<kos_scene::LoadSpec>>>();
        let hood: BTreeMap<String, String> = q
            .iter(world)
            .map(|(t, h)| (t.0.clone(), h.0.clone()))
            .collect();
        let view = CommonsView::gather(
            world.resource::<CommonsState>(),
            world.resource::<EquityState>(),
            world.resource::<TokenBook>(),
            &hood,
        );
        let island = view
            .resources
            .iter()
            .find(|r| r.name.starts_with("power, island"))
            .expect("an island row");
        assert!(island.short, "{island:?}");
        assert!(island.minimums_met, "{island:?}");
        let summed: f64 = island.shares.iter().map(|s| s.2).sum();
        assert!((summed - island.allocated).abs() < 1e-6 * island.allocated.max(1.0));
        assert!(
            island.shares.iter().any(|s| s.0 == "Northfield"),
            "{:?}",
            island.shares
        );
        assert!(view.event.is_some());
        let ctx = egui::Context::default();
        for _ in 0..2 {
            let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
                commons_window(ui.ctx(), &view);
            });
            out.textures_delta.clear();
        }
    }
}
