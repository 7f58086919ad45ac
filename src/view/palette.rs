//! Every colour the map uses, named once: the shapes are painted with them and the legend
//! shows them, so the two cannot drift apart.

use bevy::prelude::*;

/// Neutral steel: poles' arms, frames, stacks.
pub const GREY: Color = Color::srgb(0.55, 0.55, 0.58);
/// De-energised: an asset no source reaches.
pub const DARK: Color = Color::srgb(0.12, 0.12, 0.14);

/// A closed switch.
pub const SWITCH_CLOSED: Color = Color::srgb(0.05, 0.55, 0.2);
/// An open switch.
pub const SWITCH_OPEN: Color = Color::srgb(0.85, 0.15, 0.15);
/// Under a fault now: the faulted bus or branch.
pub const FAULTED: Color = Color::srgb(0.95, 0.0, 0.95);
/// Opened by protection or a cascade and not yet back.
pub const TRIPPED: Color = Color::srgb(1.0, 0.55, 0.75);
/// A transformer's tank.
pub const TRANSFORMER: Color = Color::srgb(0.95, 0.55, 0.1);
/// A medium-voltage substation's housing.
pub const SUBSTATION: Color = Color::srgb(0.62, 0.62, 0.66);
/// A low-voltage pole.
pub const POLE: Color = Color::srgb(0.45, 0.36, 0.26);
/// A road or path of the supply network.
pub const ROUTE: Color = Color::srgb(0.7, 0.66, 0.55);
/// The moving arrows that show where power flows.
pub const FLOW: Color = Color::srgb(1.0, 0.97, 0.55);

/// Solar array.
pub const SOLAR: Color = Color::srgb(0.12, 0.22, 0.62);
/// Wind turbine.
pub const WIND: Color = Color::srgb(0.9, 0.9, 0.92);
/// Combined heat and power unit.
pub const CHP: Color = Color::srgb(0.55, 0.36, 0.24);
/// Biogas unit.
pub const BIO: Color = Color::srgb(0.45, 0.55, 0.2);
/// The regional grid's connection point.
pub const GRID_TIE: Color = Color::srgb(0.55, 0.3, 0.7);
/// Battery.
pub const BATTERY: Color = Color::srgb(0.1, 0.65, 0.65);
/// Household or other load.
pub const HOUSEHOLD: Color = Color::srgb(0.92, 0.86, 0.72);
/// Shelter pod.
pub const SHELTER: Color = Color::srgb(0.85, 0.75, 0.55);
/// Data centre pod.
pub const DATA_CENTRE: Color = Color::srgb(0.15, 0.2, 0.45);
/// Water works pod.
pub const WATER: Color = Color::srgb(0.4, 0.7, 0.95);
/// Clinic pod (with a red cross on its roof).
pub const CLINIC: Color = Color::srgb(0.96, 0.96, 0.96);
/// Fabrication hub pod.
pub const FABRICATION: Color = Color::srgb(0.9, 0.45, 0.15);
/// Supply depot.
pub const DEPOT: Color = Color::srgb(0.5, 0.35, 0.2);

/// Colour of a branch from its loading: green, through yellow at 70 %, to red at 100 %.
pub fn loading_color(pct: f64) -> Color {
    let t = (pct / 100.0).clamp(0.0, 1.2) as f32;
    if t < 0.7 {
        Color::srgb(0.2 + t / 0.7 * 0.75, 0.75, 0.3 - t / 0.7 * 0.2)
    } else {
        let u = ((t - 0.7) / 0.3).min(1.0);
        Color::srgb(0.95, 0.75 * (1.0 - u) + 0.1 * u, 0.1)
    }
}

/// What the legend lists: each colour with what it means, grouped.
pub fn legend() -> Vec<(&'static str, Vec<(Color, &'static str)>)> {
    vec![
        (
            "Lines and cables",
            vec![
                (loading_color(0.0), "lightly loaded"),
                (loading_color(70.0), "70 % of rating"),
                (loading_color(100.0), "at or over rating"),
                (DARK, "de-energised"),
                (FLOW, "power flow arrows"),
            ],
        ),
        (
            "Switchgear",
            vec![
                (SWITCH_CLOSED, "switch closed"),
                (SWITCH_OPEN, "switch open"),
                (TRIPPED, "tripped by protection"),
                (FAULTED, "faulted"),
                (TRANSFORMER, "transformer"),
                (SUBSTATION, "substation"),
            ],
        ),
        (
            "Sources and storage",
            vec![
                (SOLAR, "solar"),
                (WIND, "wind"),
                (CHP, "CHP"),
                (BIO, "biogas"),
                (BATTERY, "battery"),
                (GRID_TIE, "regional grid"),
            ],
        ),
        (
            "Buildings",
            vec![
                (HOUSEHOLD, "households"),
                (SHELTER, "shelter"),
                (CLINIC, "clinic"),
                (DATA_CENTRE, "data centre"),
                (WATER, "water works"),
                (FABRICATION, "fabrication hub"),
                (DEPOT, "depot"),
                (ROUTE, "road"),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loading_goes_from_green_through_yellow_to_red() {
        let [r0, g0, _, _] = loading_color(0.0).to_srgba().to_f32_array();
        let [r7, g7, _, _] = loading_color(70.0).to_srgba().to_f32_array();
        let [r1, g1, _, _] = loading_color(100.0).to_srgba().to_f32_array();
        assert!(g0 > r0 && r7 > 0.9 && g7 > 0.7 && r1 > 0.9 && g1 < 0.15);
    }

    #[test]
    fn the_legend_tells_every_colour_apart() {
        let entries: Vec<(Color, &str)> = legend().into_iter().flat_map(|(_, e)| e).collect();
        for (i, (a, what_a)) in entries.iter().enumerate() {
            for (b, what_b) in &entries[i + 1..] {
                let d: f32 = a
                    .to_srgba()
                    .to_f32_array()
                    .iter()
                    .zip(b.to_srgba().to_f32_array())
                    .map(|(x, y)| (x - y).abs())
                    .sum();
                assert!(d > 0.05, "{what_a} and {what_b} look alike");
            }
        }
    }
}
