//! Whole-app behaviour with no window: scenes in and out of the world, the tick, the grid
//! solved from the world, and reproducible reports.

use bevy::prelude::*;
use kos_scene::{Scene, SwitchSpec};
use kos_twin::app::headless_app;
use kos_twin::model::*;
use kos_twin::report::build_report;
use kos_twin::scene::{default_scene, save_scene};
use kos_twin::sim::alarms::Alarms;
use kos_twin::sim::{SimClock, run_ticks};
use kos_twin::view::Terrain;
use kos_twin::view::flows::{FlowArrow, FlowTrack, arrow_speed_m_s, motion_plugin};

const TINY: &str = include_str!("../scenes/tiny.ron");

fn tiny() -> Scene {
    kos_scene::parse(TINY, "tiny.ron").unwrap()
}

fn entity(app: &mut App, id: &str) -> Entity {
    let world = app.world_mut();
    world
        .query::<(Entity, &AssetTag)>()
        .iter(world)
        .find(|(_, t)| t.0 == id)
        .map(|(e, _)| e)
        .unwrap_or_else(|| panic!("no asset {id}"))
}

fn voltage(app: &mut App, id: &str) -> BusVoltage {
    let e = entity(app, id);
    *app.world().get::<BusVoltage>(e).unwrap()
}

#[test]
fn the_default_scene_is_the_community_the_issue_describes() {
    let s = default_scene();
    assert!(s.buses.len() >= 60, "{} buses", s.buses.len());
    let hoods: std::collections::BTreeSet<&str> = s
        .buses
        .iter()
        .filter(|b| b.nominal_kv < 1.0)
        .map(|b| b.neighbourhood.as_str())
        .collect();
    assert!(hoods.len() >= 3, "{hoods:?}");
    let count = |f: &dyn Fn(&kos_scene::GeneratorKind) -> bool| {
        s.generators.iter().filter(|g| f(&g.kind)).count()
    };
    assert!(count(&|k| matches!(k, kos_scene::GeneratorKind::Solar { .. })) >= 8);
    assert_eq!(
        count(&|k| matches!(k, kos_scene::GeneratorKind::Wind { .. })),
        2
    );
    assert_eq!(
        count(&|k| matches!(k, kos_scene::GeneratorKind::Bio { .. })),
        1
    );
    assert_eq!(s.storage.len(), 3);
    assert_eq!(s.storage.iter().filter(|b| b.grid_forming).count(), 1);
    let pods = |k: kos_scene::PodKind| s.pods.iter().filter(|p| p.kind == k).count();
    assert_eq!(pods(kos_scene::PodKind::DataCentre), 1);
    assert_eq!(pods(kos_scene::PodKind::Shelter), 2);
    assert_eq!(pods(kos_scene::PodKind::Clinic), 1);
    assert_eq!(pods(kos_scene::PodKind::WaterUtility), 1);
    assert_eq!(pods(kos_scene::PodKind::FabricationHub), 1);
    assert!(!s.depots.is_empty());
    // An 11 kV ring with normally open ties.
    let kv = |id: &str| {
        s.buses
            .iter()
            .find(|b| b.id == id)
            .map(|b| b.nominal_kv)
            .unwrap_or(0.0)
    };
    let mv_ties = s
        .switches
        .iter()
        .filter(|w| w.normally_open && kv(&w.from) >= 11.0)
        .count();
    assert!(mv_ties >= 2, "{mv_ties} normally open 11 kV ties");
}

#[test]
fn scene_world_scene_is_lossless() {
    for scene in [tiny(), default_scene()] {
        let mut app = headless_app(&scene);
        let back = save_scene(app.world_mut());
        assert_eq!(back, scene);
        // And through the text format.
        let text = kos_scene::to_ron(&back);
        assert_eq!(kos_scene::parse(&text, "saved.ron").unwrap(), scene);
    }
}

#[test]
fn the_clock_ticks_one_simulated_minute_at_a_time() {
    let mut app = headless_app(&tiny());
    run_ticks(&mut app, 90);
    let clock = app.world().resource::<SimClock>();
    assert_eq!(clock.ticks, 90);
    assert_eq!(clock.now_text(), "2026-06-21T13:30:00");
    let report = build_report(app.world_mut(), "tiny.ron");
    let summary = report["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 90);
    assert_eq!(summary[0]["t"], "2026-06-21T12:00:00");
    assert_eq!(summary[89]["t"], "2026-06-21T13:29:00");
}

#[test]
fn a_paused_clock_runs_only_single_steps() {
    let mut app = headless_app(&tiny());
    {
        let mut clock = app.world_mut().resource_mut::<SimClock>();
        clock.paused = true;
        clock.steps_pending = 2;
    }
    run_ticks(&mut app, 5);
    assert_eq!(app.world().resource::<SimClock>().ticks, 2);
}

#[test]
fn headless_reports_are_byte_identical_for_the_same_inputs() {
    let run = || {
        let mut app = headless_app(&default_scene());
        run_ticks(&mut app, 120);
        serde_json::to_string(&build_report(app.world_mut(), "default")).unwrap()
    };
    let a = run();
    let b = run();
    assert_eq!(a, b);
    assert!(a.contains("\"assets\""));
}

#[test]
fn the_solved_grid_balances_and_matches_a_direct_solve_of_the_scene() {
    let mut app = headless_app(&default_scene());
    run_ticks(&mut app, 1);
    let report = build_report(app.world_mut(), "default");
    let s = &report["summary"][0];
    let f = |k: &str| s[k].as_f64().unwrap();
    // Power balance: sources = demand served + losses.
    let balance =
        f("generation_kw") + f("import_kw") + f("storage_kw") - f("served_kw") - f("losses_kw");
    assert!(
        balance.abs() < 1e-6 * f("demand_kw"),
        "imbalance {balance} kW"
    );
    assert!(s["converged"].as_bool().unwrap());
    // Every bus voltage within the statutory band at this light load.
    for (id, a) in report["assets"].as_object().unwrap() {
        if a["kind"] == "bus" {
            let v = a["vm_pu"].as_f64().unwrap();
            assert!((0.94..=1.06).contains(&v), "{id}: {v}");
        }
    }
    // The world gathered the network the scene describes, with the dispatch's setpoints and
    // the demand at the tick's time: solving that network directly gives the same voltages.
    let mut model = kos_scene::build_grid(&default_scene());
    for (g, (id, _)) in model.unit_assets.iter().enumerate() {
        model.network.generators[g].pg_mw =
            report["assets"][id]["setpoint_kw"].as_f64().unwrap() / 1000.0;
    }
    for b in &mut model.network.buses {
        b.pd_mw = 0.0;
        b.qd_mvar = 0.0;
    }
    let scene = default_scene();
    let consumers = scene
        .loads
        .iter()
        .map(|l| (&l.id, &l.bus))
        .chain(scene.pods.iter().map(|p| (&p.id, &p.bus)));
    for (id, bus) in consumers {
        let a = &report["assets"][id];
        let share = a["served_fraction"].as_f64().unwrap();
        let b = model.bus_index[bus.as_str()];
        model.network.buses[b].pd_mw += a["demand_kw"].as_f64().unwrap() * share / 1000.0;
        model.network.buses[b].qd_mvar += a["demand_kvar"].as_f64().unwrap() * share / 1000.0;
    }
    let opts = kos_grid::PowerFlowOptions {
        enforce_q_limits: true,
        ..Default::default()
    };
    let direct = kos_grid::PowerFlow::new()
        .solve(&model.network, &opts)
        .unwrap();
    for (i, bus) in model.network.buses.iter().enumerate() {
        let ecs = report["assets"][&bus.name]["vm_pu"].as_f64().unwrap();
        assert!(
            (ecs - direct.vm_pu[i]).abs() < 1e-9,
            "{}: {ecs} vs {}",
            bus.name,
            direct.vm_pu[i]
        );
    }
}

/// The tiny scene with the cable to lv3 behind a breaker, so lv3 can be cut off.
fn tiny_with_breaker() -> Scene {
    let mut s = tiny();
    s.buses.push(kos_scene::BusSpec {
        id: "lv3a".into(),
        position: (215.0, 125.0),
        nominal_kv: 0.4,
        neighbourhood: "green".into(),
        dna: Default::default(),
    });
    s.lines.iter_mut().find(|l| l.id == "c03").unwrap().to = "lv3a".into();
    s.switches.push(SwitchSpec {
        id: "brk3".into(),
        from: "lv3a".into(),
        to: "lv3".into(),
        normally_open: false,
        closed: None,
        remote: true,
        dna: Default::default(),
    });
    s
}

fn set_switch(app: &mut App, id: &str, closed: bool) {
    let e = entity(app, id);
    app.world_mut().get_mut::<SwitchState>(e).unwrap().closed = closed;
}

#[test]
fn opening_a_breaker_darkens_what_it_fed_and_a_tie_restores_it() {
    let mut app = headless_app(&tiny_with_breaker());
    run_ticks(&mut app, 1);
    assert!(voltage(&mut app, "lv3").energised);
    let shelter = entity(&mut app, "shelter");
    assert!(app.world().get::<Demand>(shelter).unwrap().served);

    set_switch(&mut app, "brk3", false);
    run_ticks(&mut app, 1);
    let v = voltage(&mut app, "lv3");
    assert!(!v.energised);
    assert_eq!(v.vm_pu, 0.0);
    assert!(!app.world().get::<Demand>(shelter).unwrap().served);
    assert!(
        app.world()
            .resource::<Alarms>()
            .recent
            .iter()
            .any(|a| a.message.contains("de-energised"))
    );

    set_switch(&mut app, "tie23", true);
    run_ticks(&mut app, 1);
    let v = voltage(&mut app, "lv3");
    assert!(v.energised && v.vm_pu > 0.9, "{v:?}");
    assert!(app.world().get::<Demand>(shelter).unwrap().served);
    // The tie now carries the shelter's feed.
    let tie = entity(&mut app, "tie23");
    assert!(app.world().get::<BranchFlow>(tie).unwrap().p_from_kw.abs() > 1.0);
}

#[test]
fn a_diverging_island_keeps_its_last_good_state_and_raises_an_alarm() {
    let mut app = headless_app(&tiny());
    run_ticks(&mut app, 1);
    let good = voltage(&mut app, "lv2");
    assert!(good.energised);
    // A fault that leaves lv2 behind an impedance no load can be fed through (the balancer
    // sees only power, not the network): Newton-Raphson cannot converge.
    {
        let mut grid = app.world_mut().resource_mut::<kos_twin::sim::grid::Grid>();
        let k = grid.model.branch_index()["c12"];
        grid.model.network.branches[k].r_pu = 5.0e3;
        grid.model.network.branches[k].x_pu = 5.0e3;
    }
    run_ticks(&mut app, 1);
    assert_eq!(voltage(&mut app, "lv2"), good, "last good state kept");
    let alarms = app.world().resource::<Alarms>();
    assert!(
        alarms
            .recent
            .iter()
            .any(|a| a.message.contains("did not converge")),
        "{:?}",
        alarms.recent
    );
    let report = build_report(app.world_mut(), "tiny");
    let last = report["summary"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["converged"], false);
    assert!(!report.to_string().contains("NaN"));
}

/// Renders the default scene in a real window (Xvfb, software Vulkan) and returns the pixels.
fn screenshot(name: &str, extra: &[&str]) -> (u32, u32, Vec<u8>) {
    let out = std::env::temp_dir().join(format!("kos-twin-test-{}-{name}.png", std::process::id()));
    let mut cmd = std::process::Command::new("xvfb-run");
    cmd.args([
        "-a",
        "-s",
        "-screen 0 1280x720x24",
        env!("CARGO_BIN_EXE_kos-twin"),
        "screenshot",
        "--frames",
        "12",
        "--out",
    ])
    .arg(&out);
    cmd.args(extra);
    let run = cmd
        .output()
        .expect("xvfb-run must be installed (scripts/test.sh installs it)");
    assert!(
        run.status.success(),
        "screenshot failed: {}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    let _ = std::fs::remove_file(&out);
    (info.width, info.height, buf)
}

/// Share of the pixels in a rectangle that satisfy `f`.
fn share(
    img: &(u32, u32, Vec<u8>),
    x: std::ops::Range<u32>,
    y: std::ops::Range<u32>,
    f: impl Fn(u8, u8, u8) -> bool,
) -> f64 {
    let (w, _, px) = img;
    let (mut hit, mut all) = (0usize, 0usize);
    for yy in y {
        for xx in x.clone() {
            let i = ((yy * w + xx) * 3) as usize;
            all += 1;
            if f(px[i], px[i + 1], px[i + 2]) {
                hit += 1;
            }
        }
    }
    hit as f64 / all as f64
}

fn panel_grey(r: u8, g: u8, b: u8) -> bool {
    r < 45 && g < 45 && b < 45 && r.abs_diff(g) < 6 && g.abs_diff(b) < 6
}

#[test]
fn the_screenshot_shows_the_scene_the_overlay_and_the_inspector_of_a_selected_or_clicked_asset() {
    let plain = screenshot("plain", &[]);
    assert_eq!((plain.0, plain.1), (1280, 720));
    let distinct: std::collections::BTreeSet<&[u8]> = plain.2.chunks(3).collect();
    assert!(
        distinct.len() > 2000,
        "only {} colours: blank image?",
        distinct.len()
    );
    // Ground: green terrain fills much of the 3D view.
    let green = share(&plain, 300..1280, 40..720, |r, g, b| {
        g > r && g > b && g > 90
    });
    assert!(green > 0.3, "terrain share {green}");
    // The overlay: top bar and outliner panels.
    assert!(share(&plain, 0..1280, 0..30, panel_grey) > 0.6, "top bar");
    assert!(
        share(&plain, 10..230, 80..680, panel_grey) > 0.5,
        "outliner"
    );
    // Energised MV cables drawn in their loading colour (green band).
    let cable = share(&plain, 240..1280, 40..720, |r, g, b| {
        g > 150 && r < 140 && b < 120 && g > r + 40
    });
    assert!(cable > 0.002, "cable pixels {cable}");
    // No inspector without a selection; with one, the inspector covers the top right.
    assert!(share(&plain, 980..1270, 60..240, panel_grey) < 0.2);
    let selected = screenshot("selected", &["--select", "bat-north"]);
    assert!(
        share(&selected, 980..1270, 60..240, panel_grey) > 0.5,
        "inspector"
    );
    // A click on an asset's shape in 3D (through the picking backend) selects it too.
    let clicked = screenshot("clicked", &["--click", "waterworks"]);
    assert!(
        share(&clicked, 980..1270, 60..240, panel_grey) > 0.5,
        "inspector after a click"
    );
}

/// The arrows of the branch `branch`: (track, arrows' positions and forward directions).
fn arrows_of(app: &mut App, branch: Entity) -> (FlowTrack, Visibility, Vec<(Vec3, Vec3)>) {
    let world = app.world_mut();
    let (track, visibility, children) = world
        .query::<(&FlowTrack, &Visibility, &Children)>()
        .iter(world)
        .find(|(t, ..)| t.branch == branch)
        .map(|(t, v, c)| (*t, *v, c.to_vec()))
        .expect("a track of arrows for the line");
    let arrows = children
        .iter()
        .map(|&c| {
            assert!(world.get::<FlowArrow>(c).is_some());
            let t = world.get::<Transform>(c).unwrap();
            (t.translation, t.rotation * Vec3::Y)
        })
        .collect();
    (track, visibility, arrows)
}

#[test]
fn flow_arrows_move_between_frames_the_way_the_power_flows() {
    let mut app = headless_app(&tiny());
    run_ticks(&mut app, 1);
    // Frames from here on move the arrows by 0.1 s each; the simulation stands still.
    app.world_mut().resource_mut::<SimClock>().paused = true;
    app.insert_resource(bevy::time::TimeUpdateStrategy::ManualDuration(
        std::time::Duration::from_millis(100),
    ));
    app.insert_resource(Terrain::new(1, Vec2::splat(-500.0), Vec2::splat(500.0)));
    motion_plugin(&mut app);
    app.update();
    let world = app.world_mut();
    let (line, flow) = world
        .query::<(Entity, &AssetKind, &BranchFlow)>()
        .iter(world)
        .filter(|(_, k, f)| **k == AssetKind::Line && f.energised)
        .max_by(|a, b| a.2.p_from_kw.abs().total_cmp(&b.2.p_from_kw.abs()))
        .map(|(e, _, f)| (e, *f))
        .expect("an energised line");
    assert!(flow.p_from_kw.abs() > 1.0, "{flow:?}");

    // The solved flow, then the same line with its flow set both ways.
    for p_from_kw in [flow.p_from_kw, 400.0, -400.0, 0.0] {
        app.world_mut()
            .get_mut::<BranchFlow>(line)
            .unwrap()
            .p_from_kw = p_from_kw;
        app.update();
        let (track, _, before) = arrows_of(&mut app, line);
        app.update();
        let (_, visibility, after) = arrows_of(&mut app, line);
        if p_from_kw == 0.0 {
            assert_eq!(
                visibility,
                Visibility::Hidden,
                "an idle line shows no arrows"
            );
            assert_eq!(before, after, "and they stand still");
            continue;
        }
        assert_eq!(visibility, Visibility::Inherited);
        let towards = if p_from_kw > 0.0 {
            track.to - track.from
        } else {
            track.from - track.to
        }
        .normalize();
        let step = arrow_speed_m_s(p_from_kw) * track.scale * 0.1;
        let length = track.from.distance(track.to);
        let (mut forward, mut wrapped) = (0, 0);
        for ((p0, _), (p1, dir)) in before.iter().zip(&after) {
            assert!(
                dir.dot(towards) > 0.999,
                "{p_from_kw} kW: arrow points {dir}, flow {towards}"
            );
            let moved = (*p1 - *p0).dot(towards);
            if (moved - step).abs() < 1e-2 {
                forward += 1;
            } else if (moved - (step - length)).abs() < 1e-2 {
                wrapped += 1;
            } else {
                panic!("{p_from_kw} kW: an arrow moved {moved} m, not {step} m along the flow");
            }
        }
        // Every arrow moved one step along the flow; at most one passed the end and began again.
        assert!(
            wrapped <= 1 && forward + wrapped == before.len(),
            "{forward} {wrapped}"
        );
    }
}
