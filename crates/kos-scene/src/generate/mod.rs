//! Generated communities: a valid, plausible scene of any size from a bus count and a seed,
//! for scaling tests and demonstrations.
//!
//! The layout follows a European distribution network. A regional grid tie holds the busbar
//! of a primary substation (`gsp`, 11 kV, or 20 kV above 3 000 buses). Secondary
//! substations sit on a square grid around it, 600 m apart; each is a ring main unit on the
//! MV network, an 11(20)/0.4 kV transformer and a low-voltage board from which four radial
//! LV feeders leave diagonally, 30-80 m between link boxes. The MV network is a set of radial
//! feeders, each serving an angular sector of substations outwards from the primary; pairs of
//! neighbouring feeders meet at a normally open point (tie cable, tie bus, open switch).
//! Wind turbines hang off the outermost ring main units, CHP and biogas units off the
//! innermost ones; the data centres and waterworks have their own transformer; shelters,
//! clinics and fabrication hubs sit on LV boards; batteries on LV boards, some grid-forming.
//!
//! Equipment data follow `scenes/default.ron`: 185 mm2 Al XLPE cable at 11 kV (0.164 + j0.103
//! ohm/km, 300 A), 240 mm2 at 20 kV (0.125 + j0.11 ohm/km, 400 A), 4x185 mm2 Al LV cable
//! (0.164 + j0.08 ohm/km, 300 A), 70 mm2 ABC overhead (0.443 + j0.08 ohm/km, 200 A).
//! Households peak at 2.0-2.6 kW each after diversity; transformers are the smallest standard
//! rating above 1.2 times their substation's peak (250-1000 kVA, vk 4-6 %). Feeder lengths are
//! capped (eight link boxes, five on overhead tails) so that the peak stays within the cable
//! ratings and voltages within 0.90-1.10 pu.
//!
//! # The bus count
//!
//! Requests below [`MIN_BUSES`] are raised to it and above [`MAX_BUSES`] lowered to it; every
//! count between is met exactly. The fixed buses (primary, wind and CHP terminals, data
//! centre and waterworks boards) are set aside first, the number of substations is chosen so
//! that about 30 buses remain per substation, each open point takes one tie bus, and what is
//! left is dealt out over the LV feeders (some of which may get none when the count is small).
//!
//! The same `(buses, seed)` always gives the same scene: all randomness comes from a
//! SplitMix64 generator seeded with `seed`, and nothing is iterated in hash order.

use crate::format::*;

mod protection;
mod sources;

use protection::protect;
use sources::{place_sources_and_pods, size_commons};

/// Fewest buses of a generated scene (primary, one ring main unit, one LV board), count.
pub const MIN_BUSES: usize = 3;
/// Most buses of a generated scene, count (bounds memory whatever is asked).
pub const MAX_BUSES: usize = 200_000;

/// Above this many buses the MV network runs at 20 kV rather than 11 kV, count.
const KV20_ABOVE: usize = 3000;
/// Distance between neighbouring secondary substations, m.
const PITCH_M: f64 = 600.0;
/// LV feeders per secondary substation.
const LV_FEEDERS: usize = 4;
/// Most link boxes on one LV feeder.
const LV_MAX: usize = 8;
/// Simulation start: an early summer morning, as the default scene.
const START: &str = "2026-06-21T06:00";
/// Fraction of rated output of the solar arrays at the start time.
const SOLAR_AT_START: f64 = 0.15;
/// Standard distribution transformer ratings, kVA.
const RATINGS_KVA: [f64; 7] = [250.0, 315.0, 400.0, 500.0, 630.0, 800.0, 1000.0];
/// Neighbourhood names, separated by spaces, reused with a number beyond the list.
const NAMES: &str = "Northfield Millbrook Eastgate Westbury Southmead Ashdown Brookside Clayhill Daleview Elmstead Fernhill Greenway Hollybank Ivydene Kingsmoor Larkrise";

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in [lo, hi), rounded to 3 decimals so that the RON text stays short.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        round3(lo + (hi - lo) * self.unit())
    }
    /// Uniform integer in lo..=hi.
    fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi.saturating_sub(lo) as u64 + 1)) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

/// Route length of a cable between two points, km: 15 % longer than the crow flies.
fn cable_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    round3((dist(a, b) * 1.15 / 1000.0).max(0.02))
}

/// A monotone stand-in for the angle of (dx, dy), in [0, 4): exact arithmetic, no libm.
fn pseudo_angle(dx: f64, dy: f64) -> f64 {
    let s = dx.abs() + dy.abs();
    if s == 0.0 {
        return 0.0;
    }
    let p = dy / s;
    if dx >= 0.0 {
        if p >= 0.0 { p } else { 4.0 + p }
    } else {
        2.0 - p
    }
}

fn neighbourhood(i: usize) -> String {
    let names: Vec<&str> = NAMES.split(' ').collect();
    let name = names[i % names.len()];
    match i / names.len() {
        0 => name.to_string(),
        k => format!("{name} {}", k + 1),
    }
}

/// How the buses are spent.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    kv: f64,
    substations: usize,
    mv_feeders: usize,
    wind: usize,
    chp: usize,
    /// Data centres and waterworks (each kind), and shelters, clinics and hubs (each kind).
    pod_sets: usize,
    lv: usize,
}

fn plan(n: usize) -> Plan {
    let kv = if n > KV20_ABOVE { 20.0 } else { 11.0 };
    let wind = if n >= 40 { (1 + n / 400).min(25) } else { 0 };
    let chp = if n >= 20 { (1 + n / 800).min(15) } else { 0 };
    let pod_sets = if n >= 30 { 1 + n / 1500 } else { 0 };
    let per_feeder = if kv > 15.0 { 10 } else { 6 };
    // n >= 30 whenever pods or turbines are placed, so `fixed` stays well below n.
    let rest = n - (1 + wind + chp + 2 * pod_sets);
    let mut s = ((rest + 15) / 30).max(1);
    loop {
        let m = s.div_ceil(per_feeder);
        let used = 2 * s + m / 2;
        if used > rest && s > 1 {
            s -= 1;
            continue;
        }
        let lv = rest.saturating_sub(used);
        if lv <= s * LV_FEEDERS * LV_MAX || used > rest {
            return Plan {
                kv,
                substations: s,
                mv_feeders: m,
                wind,
                chp,
                pod_sets,
                lv,
            };
        }
        s += 1;
    }
}

/// Writes the scene, holding the random generator.
struct Gen {
    s: Scene,
    rng: Rng,
}

impl Gen {
    fn dna(&mut self, purpose: impl Into<String>, limits: impl Into<String>, from: usize) -> Dna {
        let year = self.rng.int(from, 2024);
        let (m, d) = (self.rng.int(1, 12), self.rng.int(1, 28));
        Dna {
            purpose: purpose.into(),
            rated_limits: limits.into(),
            commissioned: format!("{year}-{m:02}-{d:02}"),
            maintenance: Vec::new(),
        }
    }

    fn bus(&mut self, id: &str, pos: (f64, f64), kv: f64, area: &str, dna: Dna) {
        self.s.buses.push(BusSpec {
            id: id.to_string(),
            position: (round3(pos.0), round3(pos.1)),
            nominal_kv: kv,
            neighbourhood: area.to_string(),
            dna,
        });
    }

    /// A line of the given construction; `kind` picks the conductor data.
    fn line(&mut self, id: String, from: &str, to: &str, km: f64, kind: Conductor) {
        let (r, x, c, a, lk, what) = match kind {
            Conductor::Mv11 => (
                0.164,
                0.103,
                400.0,
                300.0,
                LineKind::Cable,
                "185 mm2 Al XLPE",
            ),
            Conductor::Mv20 => (
                0.125,
                0.11,
                250.0,
                400.0,
                LineKind::Cable,
                "240 mm2 Al XLPE",
            ),
            Conductor::LvCable => (0.164, 0.08, 580.0, 300.0, LineKind::Cable, "4x185 mm2 Al"),
            Conductor::LvOverhead => (0.443, 0.08, 10.0, 200.0, LineKind::Overhead, "70 mm2 ABC"),
        };
        let dna = self.dna(format!("{what} feeder section"), format!("{a} A"), 1995);
        self.s.lines.push(LineSpec {
            id,
            from: from.to_string(),
            to: to.to_string(),
            kind: lk,
            impedance: Impedance::PerKm {
                r_ohm: r,
                x_ohm: x,
                c_nf: c,
            },
            length_km: km,
            rating_a: a,
            in_service: true,
            dna,
        });
    }

    fn transformer(&mut self, id: String, hv: &str, lv: &str, kva: f64, kvs: (f64, f64)) {
        // Standard short-circuit voltages: 4 % up to 400 kVA, 4.5 % to 630, 6 % above.
        let (vk, vkr) = match kva {
            k if k <= 400.0 => (4.0, 1.2),
            k if k <= 630.0 => (4.5, 1.1),
            _ => (6.0, 1.0),
        };
        let dna = self.dna(
            format!("{}/{} kV transformer {id}", kvs.0, kvs.1),
            format!("{kva} kVA ONAN, Dyn11"),
            1995,
        );
        self.s.transformers.push(TransformerSpec {
            id,
            hv_bus: hv.to_string(),
            lv_bus: lv.to_string(),
            rating_kva: kva,
            vk_percent: vk,
            vkr_percent: vkr,
            tap_percent: 0.0,
            phase_shift_deg: 0.0,
            in_service: true,
            dna,
        });
    }

    fn load(&mut self, id: String, bus: &str, kw: f64, profile: Profile, homes: u32) {
        let (pf, priority, what) = match profile {
            Profile::Household => (0.97, Priority::Essential, format!("{homes} homes")),
            Profile::Commercial => (0.95, Priority::Deferrable, "shops and offices".into()),
            _ => (0.9, Priority::Essential, "street lighting".into()),
        };
        let dna = self.dna(what, format!("{kw} kW peak after diversity"), 1995);
        self.s.loads.push(LoadSpec {
            id,
            bus: bus.to_string(),
            peak_kw: kw,
            power_factor: pf,
            profile,
            priority,
            households: homes,
            commons: ConsumerCommons::default(),
            dna,
        });
    }

    fn unit(&mut self, id: String, bus: &str, kind: GeneratorKind, kw: f64, set: f64, v: f64) {
        let dna = self.dna(format!("{} unit", kind.label()), format!("{kw} kW"), 2005);
        self.s.generators.push(GeneratorSpec {
            id,
            bus: bus.to_string(),
            kind,
            rated_kw: kw,
            setpoint_kw: set,
            voltage_pu: v,
            in_service: true,
            owner: None,
            dna,
        });
    }
}

#[derive(Debug, Clone, Copy)]
enum Conductor {
    Mv11,
    Mv20,
    LvCable,
    LvOverhead,
}

/// One secondary substation as built: its bus ids, position and peak apparent demand.
struct Substation {
    rmu: String,
    board: String,
    pos: (f64, f64),
    peak_kva: f64,
    area: String,
}

/// A valid community scene of exactly `buses` buses (clamped to [`MIN_BUSES`]..=
/// [`MAX_BUSES`]), the same for the same `seed`. Never panics.
pub fn generate(buses: usize, seed: u64) -> Scene {
    let n = buses.clamp(MIN_BUSES, MAX_BUSES);
    let p = plan(n);
    let mut g = Gen {
        s: Scene {
            format_version: FORMAT_VERSION,
            site: Site {
                name: format!("Generated community ({n} buses, seed {seed})"),
                latitude_deg: 51.05,
                longitude_deg: -1.72,
                time_zone: "Europe/London".into(),
                utc_offset_hours: 0.0,
                start: START.into(),
                seed,
                base_mva: 1.0,
                frequency_hz: 50.0,
                energy: Default::default(),
            },
            buses: Vec::new(),
            lines: Vec::new(),
            transformers: Vec::new(),
            switches: Vec::new(),
            protection: Vec::new(),
            generators: Vec::new(),
            storage: Vec::new(),
            loads: Vec::new(),
            pods: Vec::new(),
            depots: Vec::new(),
            routes: Vec::new(),
            modes: Vec::new(),
            commons: CommonsSpec::default(),
        },
        rng: Rng(seed),
    };
    let kv = p.kv;
    let mv = if kv > 15.0 {
        Conductor::Mv20
    } else {
        Conductor::Mv11
    };
    let gsp = (0.0, 0.0);
    let dna = g.dna(
        format!("primary substation, {kv} kV busbar"),
        "regional grid connection",
        1970,
    );
    g.bus("gsp", gsp, kv, "primary", dna);

    // Substations on a square grid whose centre is off the primary's site.
    let cols = (1..).find(|c| c * c >= p.substations).unwrap_or(1);
    let mut subs: Vec<Substation> = Vec::with_capacity(p.substations);
    for i in 0..p.substations {
        let (r, c) = ((i / cols) as f64, (i % cols) as f64);
        let half = (cols as f64 - 1.0) / 2.0;
        let pos = (
            (c - half) * PITCH_M - PITCH_M / 2.0 + g.rng.range(-60.0, 60.0),
            (r - half) * PITCH_M - PITCH_M / 2.0 + g.rng.range(-60.0, 60.0),
        );
        subs.push(Substation {
            rmu: format!("mv-{i}"),
            board: format!("ss-{i}"),
            pos,
            peak_kva: 0.0,
            area: String::new(),
        });
    }
    // MV feeders: angular sectors around the primary, each chained outwards.
    let mut by_angle: Vec<usize> = (0..subs.len()).collect();
    let key = |i: &usize| pseudo_angle(subs[*i].pos.0 - gsp.0, subs[*i].pos.1 - gsp.1);
    by_angle.sort_by(|a, b| key(a).total_cmp(&key(b)).then(a.cmp(b)));
    let mut feeders: Vec<Vec<usize>> = Vec::with_capacity(p.mv_feeders);
    let (per, extra) = (subs.len() / p.mv_feeders, subs.len() % p.mv_feeders);
    let mut at = 0;
    for f in 0..p.mv_feeders {
        let len = per + usize::from(f < extra);
        let mut chain = by_angle[at..at + len].to_vec();
        at += len;
        chain.sort_by(|a, b| {
            dist(gsp, subs[*a].pos)
                .total_cmp(&dist(gsp, subs[*b].pos))
                .then(a.cmp(b))
        });
        for &i in &chain {
            subs[i].area = neighbourhood(f);
        }
        feeders.push(chain);
    }
    for sub in &subs {
        let (id, pos, area) = (&sub.rmu, sub.pos, &sub.area);
        let dna = g.dna("ring main unit", format!("{kv} kV, 630 A busbar"), 1995);
        g.bus(id, pos, kv, area, dna);
        let board = &sub.board;
        let dna = g.dna(
            format!("LV board of substation {board}"),
            "400 V, 1600 A board",
            1995,
        );
        g.bus(board, (pos.0 + 12.0, pos.1 + 8.0), 0.4, area, dna);
    }
    for (f, chain) in feeders.iter().enumerate() {
        let mut prev = ("gsp".to_string(), gsp);
        for (j, &i) in chain.iter().enumerate() {
            g.line(
                format!("mvc-{f}-{j}"),
                &prev.0,
                &subs[i].rmu,
                cable_km(prev.1, subs[i].pos),
                mv,
            );
            prev = (subs[i].rmu.clone(), subs[i].pos);
        }
    }
    // Open points between neighbouring feeders' far ends.
    for f in (0..p.mv_feeders.saturating_sub(1)).step_by(2) {
        let (Some(&a), Some(&b)) = (feeders[f].last(), feeders[f + 1].last()) else {
            continue;
        };
        let (pa, pb) = (subs[a].pos, subs[b].pos);
        let tie = format!("mvx-{f}");
        let dna = g.dna("switch cubicle at the open point", "open point", 1995);
        let area = subs[a].area.clone();
        g.bus(&tie, (pb.0 - 15.0, pb.1 + 10.0), kv, &area, dna);
        g.line(
            format!("mvt-{f}"),
            &subs[a].rmu.clone(),
            &tie,
            cable_km(pa, pb),
            mv,
        );
        let dna = g.dna(
            "normally open point between feeders",
            format!("{kv} kV, 630 A load break"),
            2005,
        );
        g.s.switches.push(SwitchSpec {
            id: format!("nop-{f}"),
            from: tie,
            to: subs[b].rmu.clone(),
            normally_open: true,
            closed: None,
            remote: true,
            dna,
        });
    }

    // LV feeders: the remaining buses dealt out, the first slots of every substation first.
    let slots = subs.len() * LV_FEEDERS;
    for slot in 0..slots {
        let (f, i) = (slot / subs.len(), slot % subs.len());
        let count = p.lv / slots + usize::from(slot < p.lv % slots);
        let kva = lv_feeder(&mut g, &subs[i], f, count);
        subs[i].peak_kva += kva;
    }

    place_sources_and_pods(&mut g, &p, &mut subs, &feeders);

    // Transformers sized on each substation's peak, now that it is known.
    for s in &subs {
        let need = 1.2 * s.peak_kva;
        let kva = RATINGS_KVA
            .iter()
            .copied()
            .find(|&r| r >= need)
            .unwrap_or(1000.0);
        g.transformer(format!("tx-{}", s.board), &s.rmu, &s.board, kva, (kv, 0.4));
    }
    protect(&mut g, &feeders, kv);
    let peak_kw: f64 = g.s.loads.iter().map(|l| l.peak_kw).sum::<f64>()
        + g.s.pods.iter().map(|p| p.power_kw).sum::<f64>();
    let import = (peak_kw * 1.5 / 100.0).ceil() * 100.0;
    let grid = GeneratorKind::GridTie {
        import_limit_kw: import,
        export_limit_kw: (import * 0.6).round(),
        short_circuit_mva: crate::DEFAULT_TIE_SHORT_CIRCUIT_MVA,
        short_circuit_rx: crate::DEFAULT_TIE_SHORT_CIRCUIT_RX,
        short_circuit_min_mva: None,
        short_circuit_min_rx: None,
    };
    g.unit("grid".into(), "gsp", grid, import, 0.0, 1.02);
    // The grid tie is the reference: put it first, as a reader expects.
    g.s.generators.rotate_right(1);
    size_commons(&mut g.s);
    g.s
}

/// Builds LV feeder `f` of substation `s` with `count` link boxes; returns its peak, kVA.
fn lv_feeder(g: &mut Gen, s: &Substation, f: usize, count: usize) -> f64 {
    let heading = std::f64::consts::FRAC_PI_4
        + f as f64 * std::f64::consts::FRAC_PI_2
        + g.rng.range(-0.2, 0.2);
    // Rural tails: beyond the third link box (at most five more), some feeders go overhead.
    let overhead_tail = count >= 4 && g.rng.chance(0.3);
    let mut pos = (s.pos.0 + 12.0, s.pos.1 + 8.0);
    let mut prev = s.board.clone();
    let mut kva = 0.0;
    for k in 1..=count {
        let seg = g.rng.range(30.0, 80.0);
        let a = heading + if k % 2 == 0 { 0.35 } else { -0.35 };
        pos = (pos.0 + seg * a.cos(), pos.1 + seg * a.sin());
        let id = format!("{}-{f}-{k}", s.board);
        let dna = g.dna("LV link box", "400 V", 1995);
        g.bus(&id, pos, 0.4, &s.area, dna);
        let kind = if overhead_tail && k > 3 {
            Conductor::LvOverhead
        } else {
            Conductor::LvCable
        };
        g.line(
            format!("lvc-{}-{f}-{k}", s.board),
            &prev,
            &id,
            round3(seg / 1000.0),
            kind,
        );
        if k <= 2 && g.rng.chance(0.06) {
            let kw = g.rng.range(20.0, 30.0);
            g.load(format!("shops-{id}"), &id, kw, Profile::Commercial, 0);
            kva += kw / 0.95;
        } else {
            let homes = g.rng.int(3, 8);
            let kw = round3(homes as f64 * g.rng.range(2.0, 2.6));
            g.load(
                format!("homes-{id}"),
                &id,
                kw,
                Profile::Household,
                homes as u32,
            );
            kva += kw / 0.97;
            if g.rng.chance(0.3) {
                let kwp = g.rng.int(4, 30) as f64;
                let kind = GeneratorKind::Solar {
                    tilt_deg: g.rng.range(25.0, 40.0),
                    azimuth_deg: g.rng.range(150.0, 210.0),
                };
                g.unit(
                    format!("pv-{id}"),
                    &id,
                    kind,
                    kwp,
                    round3(kwp * SOLAR_AT_START),
                    1.0,
                );
            }
        }
        if k == count {
            let kw = g.rng.range(2.0, 4.0);
            g.load(format!("lights-{id}"), &id, kw, Profile::Lighting, 0);
            kva += kw / 0.9;
        }
        prev = id;
    }
    kva
}

/// Smallest standard transformer for a peak, kVA (1000 kVA at most).
fn rating_for(peak_kva: f64) -> f64 {
    let need = 1.2 * peak_kva;
    RATINGS_KVA
        .iter()
        .copied()
        .find(|&r| r >= need)
        .unwrap_or(1000.0)
}

#[cfg(test)]
mod tests;
