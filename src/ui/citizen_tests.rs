//! Tests of the citizens' view: the summaries from plain asset states, and the panels drawn
//! on a bare egui context.

use super::*;

fn bus(id: &str, hood: &str, on: bool) -> AssetState {
    AssetState {
        id: id.into(),
        kind: AssetKind::Bus,
        neighbourhood: hood.into(),
        energised: Some(on),
        consumer: None,
    }
}

fn pod(id: &str, hood: &str, served: bool, served_kw: f64, shed_kw: f64) -> AssetState {
    AssetState {
        id: id.into(),
        kind: AssetKind::Pod,
        neighbourhood: hood.into(),
        energised: None,
        consumer: Some(ConsumerState {
            served,
            served_kw,
            shed_kw,
        }),
    }
}

#[test]
fn summary_counts_buses_and_lists_outages() {
    let (hoods, outages) = summarise(&[
        bus("b1", "north", true),
        bus("b2", "north", false),
        bus("b3", "south", true),
        pod("p1", "north", false, 0.0, 4.0),
        pod("p2", "south", true, 3.0, 1.0),
        pod("p3", "south", true, 2.0, 0.0),
    ]);
    assert_eq!(hoods.len(), 2);
    assert_eq!(
        (
            hoods[0].name.as_str(),
            hoods[0].buses_energised,
            hoods[0].buses_total
        ),
        ("north", 1, 2)
    );
    assert!(!hoods[0].all_well());
    assert_eq!(hoods[1].served_kw, 5.0);
    assert_eq!(hoods[1].shed_kw, 1.0);
    let ids: Vec<_> = outages.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["b2", "p1", "p2"]);
    assert!(outages[1].what.contains("without supply"));
    assert!(outages[2].what.contains("shed 1.0 kW"));
}

#[test]
fn a_healthy_grid_has_no_outages() {
    let (hoods, outages) = summarise(&[bus("b1", "", true), pod("p1", "", true, 2.0, 0.0)]);
    assert!(outages.is_empty());
    assert_eq!(hoods[0].name, "(none)");
    assert!(hoods[0].all_well());
}

#[test]
fn renewable_share_of_the_mix() {
    let mix = [("solar", 30.0), ("grid", 10.0)];
    assert!((renewable_share(&mix) - 0.75).abs() < 1e-12);
    assert_eq!(renewable_share(&[]), 0.0);
}

#[test]
fn the_overlay_draws_and_has_no_operator_controls() {
    let ctx = egui::Context::default();
    let view = CitizenView {
        site: "Aldermoor".into(),
        now: "2026-06-21T06:00:00".into(),
        neighbourhoods: vec![NeighbourhoodRow {
            name: "north".into(),
            buses_energised: 2,
            buses_total: 3,
            served_kw: 10.0,
            shed_kw: 2.0,
        }],
        outages: vec![Outage {
            id: "b2".into(),
            neighbourhood: "north".into(),
            what: "no supply at this bus".into(),
        }],
        mix: vec![("solar", 8.0), ("grid", 4.0)],
        pods: vec!["pod-1".into()],
        pod: Some(PodSupply {
            id: "pod-1".into(),
            state: ConsumerState {
                served: true,
                served_kw: 2.0,
                shed_kw: 0.0,
            },
            share: Share {
                power_kw: Some(4.5),
                water_l_per_h: Some(60.0),
                mesh_mbps: None,
            },
            households: 3,
            tokens: 1.25,
            renewable: 0.6,
            suppliers: vec![("pv-1".into(), 1.5)],
        }),
        locations: vec!["pod-1".into()],
        ..Default::default()
    };
    let mut state = CitizenPanels {
        pod: Some("pod-1".into()),
        ..Default::default()
    };
    // The first passes size the windows without painting them.
    let mut output = egui::FullOutput::default();
    for frame in 0..3 {
        output.textures_delta.clear();
        let input = egui::RawInput {
            time: Some(frame as f64 * 0.1),
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1280.0, 720.0),
            )),
            ..Default::default()
        };
        output = ctx.run_ui(input, |_| {
            assert!(citizen_overlay(&ctx, &view, &mut state).is_none());
        });
    }
    // No renderer here to take the font texture.
    output.textures_delta.clear();
    fn texts(shape: &egui::Shape, out: &mut String) {
        match shape {
            egui::Shape::Text(t) => {
                out.push_str(t.galley.text());
                out.push('\n');
            }
            egui::Shape::Vec(v) => v.iter().for_each(|s| texts(s, out)),
            _ => {}
        }
    }
    let mut text = String::new();
    for c in &output.shapes {
        texts(&c.shape, &mut text);
    }
    for word in [
        "Aldermoor",
        "Neighbourhoods",
        "north",
        "renewable",
        "Report a problem",
        // Its share of the commons and its tokens, per household too.
        "power share: 4.50 kW (1.50 per household)",
        "water ration: 60 l/h (20.00 per household)",
        "eco-tokens: 1.250 (0.42 per household)",
    ] {
        assert!(
            text.contains(word),
            "{word} missing from the citizens' view"
        );
    }
    // No control of the operator's overlay.
    for word in ["Pause", "Plug in", "Step", "speed"] {
        assert!(!text.contains(word), "{word} in the citizens' view");
    }
}

/// The page's verdict shows only beside the asset it is about, coloured by its state.
#[test]
fn the_ledger_verdict_is_shown_for_the_checked_asset_only() {
    let mut l = LedgerCheck {
        available: true,
        asset: "clinic".into(),
        state: "ok".into(),
        text: "all 12 entries of clinic are in the checkpoint".into(),
        request: None,
    };
    let (colour, text) = l.verdict("clinic").unwrap();
    assert_eq!(colour, egui::Color32::from_rgb(60, 160, 80));
    assert!(text.starts_with("all 12"));
    assert!(l.verdict("waterworks").is_none());
    l.state = "failed".into();
    assert_eq!(
        l.verdict("clinic").unwrap().0,
        egui::Color32::from_rgb(210, 70, 60)
    );
    l.text.clear();
    assert!(l.verdict("clinic").is_none());
}
