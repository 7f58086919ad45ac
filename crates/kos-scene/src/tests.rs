use super::*;

const TINY: &str = include_str!("../../../scenes/tiny.ron");

fn errors(text: &str) -> Vec<SceneError> {
    parse(text, "t.ron").expect_err("scene should be rejected")
}

/// The single error of `text`, with its rendered message.
fn one_error(text: &str) -> (SceneError, String) {
    let e = errors(text);
    assert!(!e.is_empty());
    let shown = e[0].to_string();
    (e[0].clone(), shown)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle present")
        + 1
}

#[test]
fn the_tiny_scene_is_valid() {
    let s = parse(TINY, "tiny.ron").unwrap();
    assert_eq!(s.buses.len(), 5);
    assert!(!s.switches[0].is_closed());
    assert_eq!(s.transformers[0].dna.maintenance.len(), 1);
}

#[test]
fn round_trip_is_lossless() {
    let s = parse(TINY, "tiny.ron").unwrap();
    let text = to_ron(&s);
    let back = parse(&text, "written.ron").unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert_eq!(s, back);
    assert_eq!(text, to_ron(&back));
}

#[test]
fn syntax_errors_point_at_the_spot() {
    let text = TINY.replace("nominal_kv: 11.0,", "nominal_kv: 11.0.,");
    let (e, shown) = one_error(&text);
    assert_eq!(e.line, line_of(&text, "11.0.,"));
    assert!(shown.starts_with(&format!("t.ron:{}:", e.line)), "{shown}");
}

#[test]
fn unknown_fields_are_rejected() {
    let text = TINY.replace(
        "rating_a: 300.0),\n        (id: \"c12\"",
        "rating_amps: 300.0),\n        (id: \"c12\"",
    );
    let (e, _) = one_error(&text);
    assert!(e.message.contains("rating_amps"), "{}", e.message);
    assert_eq!(e.line, line_of(&text, "rating_amps"));
}

#[test]
fn dangling_references_name_the_asset_and_field() {
    let text = TINY.replace("(id: \"c12\", from: \"lv1\"", "(id: \"c12\", from: \"lv9\"");
    let (e, shown) = one_error(&text);
    assert_eq!(e.id.as_deref(), Some("c12"));
    assert!(e.message.contains("lv9"));
    let line = line_of(&text, "from: \"lv9\"");
    assert_eq!(e.line, line);
    let col = text.lines().nth(line - 1).unwrap().find("from:").unwrap() + 1;
    assert_eq!(e.column, col, "{shown}");
}

#[test]
fn references_must_name_the_right_kind() {
    let text = TINY.replace("(id: \"pv1\", bus: \"lv2\"", "(id: \"pv1\", bus: \"c01\"");
    let (e, _) = one_error(&text);
    assert_eq!(e.id.as_deref(), Some("pv1"));
    assert!(e.message.contains("Branch"), "{}", e.message);
}

#[test]
fn duplicate_ids_point_at_the_second_definition() {
    let text = TINY.replace("(id: \"lv3\", position", "(id: \"lv2\", position");
    let e = errors(&text);
    let dup = e
        .iter()
        .find(|e| e.message == "duplicate id")
        .expect("duplicate reported");
    assert_eq!(
        dup.line,
        line_of(&text, "(id: \"lv2\", position: (220.0, 130.0)")
    );
}

#[test]
fn non_physical_values_are_caught() {
    for (from, to, field) in [
        (
            "rating_a: 300.0),\n        (id: \"c12\"",
            "rating_a: -300.0),\n        (id: \"c12\"",
            "rating_a",
        ),
        (
            "r_ohm: 0.164, x_ohm: 0.074, c_nf: 580.0), length_km: 0.24",
            "r_ohm: 0.0, x_ohm: 0.0, c_nf: 580.0), length_km: 0.24",
            "impedance",
        ),
        (
            "soc_min: 0.1, soc_max: 0.95, soc: 0.6",
            "soc_min: 0.9, soc_max: 0.5, soc: 0.6",
            "soc_max",
        ),
        (
            "vk_percent: 4.0, vkr_percent: 1.2",
            "vk_percent: 4.0, vkr_percent: 5.0",
            "vkr_percent",
        ),
        (
            "nominal_kv: 0.4, neighbourhood: \"green\"),\n        (id: \"lv2\"",
            "nominal_kv: 0.0, neighbourhood: \"green\"),\n        (id: \"lv2\"",
            "nominal_kv",
        ),
        (
            "start: \"2026-06-21T12:00\"",
            "start: \"2026-13-21T12:00\"",
            "start",
        ),
        (
            "latitude_deg: 51.05",
            "latitude_deg: 151.05",
            "latitude_deg",
        ),
    ] {
        assert!(TINY.contains(from), "{from}");
        let text = TINY.replace(from, to);
        let e = errors(&text);
        let hit = e.iter().find(|e| {
            e.message.contains("must")
                || e.message.contains("zero")
                || e.message.contains("calendar")
        });
        let hit = hit.unwrap_or_else(|| panic!("{field}: {e:?}"));
        let line = text.lines().nth(hit.line - 1).unwrap();
        assert!(
            line.contains(field),
            "{field}: error at line {} `{line}`: {hit}",
            hit.line
        );
    }
}

#[test]
fn nan_is_caught() {
    let text = TINY.replace("peak_kw: 40.0", "peak_kw: NaN");
    let (e, _) = one_error(&text);
    assert_eq!(e.id.as_deref(), Some("homes1"));
}

#[test]
fn a_scene_without_a_source_is_rejected() {
    let text = TINY
        .replace("GridTie(import_limit_kw: 400.0, export_limit_kw: 250.0), rated_kw: 400.0, voltage_pu: 1.0)", "GridTie(import_limit_kw: 400.0, export_limit_kw: 250.0), rated_kw: 400.0, voltage_pu: 1.0, in_service: false)")
        .replace("grid_forming: true", "grid_forming: false");
    let (e, _) = one_error(&text);
    assert!(e.message.contains("no source"), "{}", e.message);
}

#[test]
fn an_unsupported_version_is_named() {
    let text = TINY.replace("format_version: 1", "format_version: 99");
    let (e, _) = one_error(&text);
    assert!(e.message.contains("99"));
    assert_eq!(e.line, line_of(&text, "format_version"));
}

#[test]
fn the_network_has_the_right_per_unit_values() {
    let s = parse(TINY, "tiny.ron").unwrap();
    let g = build_grid(&s);
    let net = &g.network;
    assert_eq!(net.buses.len(), 5);
    assert_eq!(net.branches.len(), 5);
    // 0.1 km of 0.164 ohm/km at 0.4 kV on 1 MVA: Zb = 0.16 ohm.
    let c01 = &net.branches[0];
    assert!((c01.r_pu - 0.0164 / 0.16).abs() < 1e-12);
    assert!((c01.rate_a_mva - 3f64.sqrt() * 0.4 * 0.3).abs() < 1e-12);
    // 400 kVA, 4 %: z = 0.04 * 1 / 0.4 = 0.1 pu.
    let t1 = &net.branches[3];
    assert!(((t1.r_pu.powi(2) + t1.x_pu.powi(2)).sqrt() - 0.1).abs() < 1e-12);
    assert!(!net.branches[4].in_service, "tie switch is normally open");
    assert_eq!(net.buses[0].kind, kos_grid::BusKind::Slack);
    assert_eq!(
        net.buses[2].kind,
        kos_grid::BusKind::Pv,
        "grid-forming battery bus"
    );
    let r = kos_grid::PowerFlow::new()
        .solve(net, &kos_grid::PowerFlowOptions::default())
        .unwrap();
    assert!(r.converged);
    assert!(r.vm_pu.iter().all(|&v| v > 0.9 && v < 1.1));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        let _ = parse(&s, "fuzz.ron");
    }

    #[test]
    fn mutated_scenes_never_panic(edits in proptest::collection::vec((0usize..4000, 0u8..128), 1..6)) {
        let mut bytes = TINY.as_bytes().to_vec();
        for (pos, byte) in edits {
            let p = pos % bytes.len();
            bytes[p] = byte;
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text, "fuzz.ron");
    }

    #[test]
    fn deleted_spans_never_panic(start in 0usize..4000, len in 0usize..200) {
        let s = start % TINY.len();
        let e = (s + len).min(TINY.len());
        if TINY.is_char_boundary(s) && TINY.is_char_boundary(e) {
            let text = format!("{}{}", &TINY[..s], &TINY[e..]);
            let _ = parse(&text, "fuzz.ron");
        }
    }
}

/// The tiny scene with a protection list.
fn with_protection(devices: &str) -> String {
    TINY.replace(
        "    generators: [",
        &format!("    protection: [\n{devices}\n    ],\n    generators: ["),
    )
}

#[test]
fn protection_devices_parse_and_round_trip() {
    let text = with_protection(
        r#"        (id: "rly1", branch: "c01", at_bus: "lv0", device: Relay(ct_ratio: 80.0, pickup_a: 4.0, curve: Iec(curve: StandardInverse, tms: 0.1))),
        (id: "fu1", branch: "t1", device: Fuse(rating_a: 40.0, curve: Table(points: [(2.0, 300.0), (22.0, 0.1)]))),
        (id: "rc1", branch: "c12", device: Recloser(pickup_a: 320.0, fast: Ieee(curve: ExtremelyInverse, td: 0.05), delayed: Ieee(curve: VeryInverse, td: 1.0))),
        (id: "fpi1", branch: "c12", device: FaultIndicator(pickup_a: 400.0)),"#,
    );
    let s = parse(&text, "t.ron").unwrap();
    assert_eq!(s.protection.len(), 4);
    // OpenDSS's recloser defaults fill what is left out.
    match &s.protection[2].device {
        DeviceSpec::Recloser {
            shots,
            fast_shots,
            intervals_s,
            reset_s,
            ..
        } => {
            assert_eq!((*shots, *fast_shots, *reset_s), (4, 1, 15.0));
            assert_eq!(intervals_s, &vec![0.5, 2.0, 2.0]);
        }
        other => panic!("{other:?}"),
    }
    let back = parse(&to_ron(&s), "back.ron").unwrap();
    assert_eq!(back, s);
}

#[test]
fn a_curve_that_is_not_monotone_is_named_at_its_line() {
    let text = with_protection(
        r#"        (id: "fu1", branch: "t1",
         device: Fuse(rating_a: 40.0, curve: Table(points: [(2.0, 30.0), (3.0, 100.0)]))),"#,
    );
    let (e, shown) = one_error(&text);
    assert_eq!(e.id.as_deref(), Some("fu1"));
    assert_eq!(e.line, line_of(&text, "device: Fuse"));
    assert!(shown.contains("not monotone"), "{shown}");
}

#[test]
fn a_relay_that_would_trip_on_load_is_an_error() {
    // 80 x 3 A = 240 A primary on a 300 A cable.
    let text = with_protection(
        r#"        (id: "rly1", branch: "c01", device: Relay(ct_ratio: 80.0, pickup_a: 3.0, curve: Iec(curve: VeryInverse, tms: 0.1))),"#,
    );
    let (e, shown) = one_error(&text);
    assert_eq!(e.line, line_of(&text, "id: \"rly1\""));
    assert!(shown.contains("would trip on load"), "{shown}");
    assert!(shown.contains("240 A"), "{shown}");
}

#[test]
fn a_device_must_sit_on_a_branch_end() {
    let text = with_protection(
        r#"        (id: "fu1", branch: "c01", at_bus: "lv3", device: Fuse(rating_a: 40.0, curve: DefiniteTime(delay_s: 0.1))),
        (id: "fu2", branch: "lv2", device: Fuse(rating_a: 40.0, curve: DefiniteTime(delay_s: 0.1))),"#,
    );
    let e = errors(&text);
    assert!(
        e.iter()
            .any(|e| e.id.as_deref() == Some("fu1") && e.message.contains("not an end"))
    );
    assert!(
        e.iter()
            .any(|e| e.id.as_deref() == Some("fu2") && e.message.contains("not a line"))
    );
}

/// The commons' numbers out of range are placed at their line: a weight of zero, a negative
/// water demand, more households with medical equipment than the load serves, a non-finite
/// household size, a reservoir on a pod that is not a water works, a shelter share above 1,
/// a negative storage need.
#[test]
fn bad_commons_numbers_are_placed_at_their_line() {
    let cases: [(&str, &str, &str); 7] = [
        (
            "households: 20),",
            "households: 20, commons: (weight: 0.0)),",
            "weight: 0.0",
        ),
        (
            "households: 18),",
            "households: 18, commons: (water_l_per_h: -4.0)),",
            "water_l_per_h: -4.0",
        ),
        (
            "households: 20),",
            "households: 20, commons: (medical: 21)),",
            "medical: 21",
        ),
        (
            "households: 20),",
            "households: 20, commons: (household_size: NaN)),",
            "household_size: NaN",
        ),
        (
            "power_kw: 25.0,",
            "power_kw: 25.0, reservoir_m3: 10.0,",
            "reservoir_m3: 10.0",
        ),
        (
            "    routes: [",
            "    modes: [(id: \"storm\", kind: Storm, rules: [Shelter(households: 1.5)])],\n    routes: [",
            "Shelter(households: 1.5)",
        ),
        (
            "households: 20),",
            "households: 20, commons: (storage_need_kw: -1.0)),",
            "storage_need_kw: -1.0",
        ),
    ];
    for (from, to, needle) in cases {
        assert!(TINY.contains(from), "{from}");
        let text = TINY.replacen(from, to, 1);
        let e = errors(&text);
        assert_eq!(e.len(), 1, "{needle}: {e:?}");
        assert_eq!(e[0].line, line_of(&text, needle), "{needle}: {}", e[0]);
    }
    // Fine values load, and survive a round trip.
    let text = TINY.replacen(
        "households: 20),",
        "households: 20, commons: (weight: 2.5, medical: 2, cap_kw: 30.0, tank_need_l_per_h: 5.0)),",
        1,
    );
    let s = parse(&text, "t.ron").unwrap();
    assert_eq!(s.loads[0].commons.medical, 2);
    assert_eq!(parse(&to_ron(&s), "w.ron").unwrap(), s);
}
