//! Protection coordination of a scene: for a fault at every bus, which device clears it and
//! in what time, and every pair of devices in series whose grading margin is below the one
//! asked for.
//!
//! The path of a fault runs from the scene's main source (the grid tie, else the largest
//! grid-forming unit) to the faulted bus through the network as it is switched (radial
//! operation: the first path found breadth-first). Each device on the path sees the current
//! through its branch at its end (kos-protection's [`fault_flows`]); the sequence of
//! operations follows ([`sequence`]) for a permanent fault. Two devices in series grade
//! when the upstream one, at the current it sees, is slower than the downstream one by at
//! least the margin; a recloser grades on its delayed curve, a fuse on its melting time.

use std::collections::{BTreeMap, VecDeque};

use kos_scene::{GeneratorKind, Scene};
use serde::{Deserialize, Serialize};

use crate::sc::{FaultFlows, ScError, ScOptions, fault_flows_through};
use crate::scene::sc_case;
use crate::sequence::{Action, Device, InPath, Sequence, sequence};
use num_complex::Complex64;

/// Options of the check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckOptions {
    /// Least grading margin between devices in series, s.
    pub margin_s: f64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self { margin_s: 0.3 }
    }
}

/// How a fault at one bus is cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clearing {
    /// The faulted bus.
    pub bus: String,
    /// I"k there, kA.
    pub ikss_ka: f64,
    /// The devices on the path from the source, with the current each sees, A.
    pub path: Vec<(String, f64)>,
    /// The device that isolates the fault (`None`: nothing does).
    pub cleared_by: Option<String>,
    /// When it first interrupts the fault current, ms from the fault.
    pub first_interruption_ms: Option<f64>,
    /// When the fault is isolated for good, ms.
    pub isolated_ms: Option<f64>,
}

/// Two devices in series that do not grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grading {
    /// The faulted bus.
    pub bus: String,
    /// The device nearer the source.
    pub upstream: String,
    /// The device nearer the fault.
    pub downstream: String,
    /// Their operating times at this fault, ms.
    pub upstream_ms: f64,
    /// The downstream device's, ms.
    pub downstream_ms: f64,
    /// The margin, ms (negative: the upstream device is faster).
    pub margin_ms: f64,
}

/// The whole check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coordination {
    /// The source the paths start from.
    pub source_bus: Option<String>,
    /// One per energised bus reached from it, in the scene's order.
    pub faults: Vec<Clearing>,
    /// Pairs below the margin.
    pub violations: Vec<Grading>,
    /// The margin asked for, ms.
    pub margin_ms: f64,
}

/// The bus of the scene's main source: the grid tie in service, else the grid-forming unit
/// with the largest rating.
pub fn main_source(scene: &Scene) -> Option<&str> {
    let tie = scene
        .generators
        .iter()
        .find(|g| g.in_service && matches!(g.kind, GeneratorKind::GridTie { .. }));
    if let Some(g) = tie {
        return Some(&g.bus);
    }
    let units = scene
        .generators
        .iter()
        .filter(|g| g.in_service && g.kind.grid_forming())
        .map(|g| (g.rated_kw, g.bus.as_str()))
        .chain(
            scene
                .storage
                .iter()
                .filter(|b| b.in_service && b.grid_forming)
                .map(|b| (b.power_kw, b.bus.as_str())),
        );
    units
        .fold(None, |best: Option<(f64, &str)>, (kw, bus)| match best {
            Some((b, _)) if b >= kw => best,
            _ => Some((kw, bus)),
        })
        .map(|(_, bus)| bus)
}

/// A conducting branch of the scene: (id, from, to).
fn conducting(scene: &Scene) -> Vec<(&str, &str, &str)> {
    scene
        .lines
        .iter()
        .filter(|l| l.in_service)
        .map(|l| (l.id.as_str(), l.from.as_str(), l.to.as_str()))
        .chain(
            scene
                .transformers
                .iter()
                .filter(|t| t.in_service)
                .map(|t| (t.id.as_str(), t.hv_bus.as_str(), t.lv_bus.as_str())),
        )
        .chain(
            scene
                .switches
                .iter()
                .filter(|s| s.is_closed())
                .map(|s| (s.id.as_str(), s.from.as_str(), s.to.as_str())),
        )
        .collect()
}

/// The branch by which breadth-first search from `root` reached each bus: (branch id, the
/// bus it came from).
pub fn feeding_tree<'a>(scene: &'a Scene, root: &'a str) -> BTreeMap<&'a str, (&'a str, &'a str)> {
    let mut adj: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (id, a, b) in conducting(scene) {
        adj.entry(a).or_default().push((id, b));
        adj.entry(b).or_default().push((id, a));
    }
    let mut parent = BTreeMap::new();
    let mut queue = VecDeque::from([root]);
    let mut seen = std::collections::BTreeSet::from([root]);
    while let Some(a) = queue.pop_front() {
        for &(id, b) in adj.get(a).map(|v| v.as_slice()).unwrap_or(&[]) {
            if seen.insert(b) {
                parent.insert(b, (id, a));
                queue.push_back(b);
            }
        }
    }
    parent
}

/// The current a device sees at its end of its branch, A.
fn device_current(scene: &Scene, flows: &FaultFlows, branch: &str, at_bus: Option<&str>) -> f64 {
    if let Some(k) = scene
        .lines
        .iter()
        .filter(|l| l.in_service)
        .position(|l| l.id == branch)
    {
        return flows.line_ka[k] * 1e3;
    }
    if let Some(k) = scene
        .transformers
        .iter()
        .filter(|t| t.in_service)
        .position(|t| t.id == branch)
    {
        let t = scene
            .transformers
            .iter()
            .filter(|t| t.in_service)
            .nth(k)
            .expect("found above");
        let (hv, lv) = flows.trafo_ka[k];
        return if at_bus == Some(t.lv_bus.as_str()) {
            lv
        } else {
            hv
        } * 1e3;
    }
    if let Some(k) = scene
        .switches
        .iter()
        .filter(|s| s.is_closed())
        .position(|s| s.id == branch)
    {
        return flows.switch_ka[k] * 1e3;
    }
    0.0
}

/// The time a device operates at `current_a` when grading: a recloser on its delayed curve.
fn grading_time(device: &Device, current_a: f64) -> Option<f64> {
    let trip = match device {
        Device::Recloser { fast_shots, .. } => *fast_shots,
        _ => 0,
    };
    device.time(current_a, trip)
}

/// A fault at one bus and what the protection does about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultAnalysis {
    /// The faulted bus.
    pub bus: String,
    /// I"k there, kA.
    pub ikss_ka: f64,
    /// The branches from the source to the bus, in order.
    pub branches: Vec<String>,
    /// The devices on the path from the source, with the current each sees.
    pub path: Vec<InPath>,
    /// The branch each device of the path sits on.
    pub device_branch: Vec<String>,
    /// The operations.
    pub sequence: Sequence,
}

/// The sequence of operations for a bolted fault at `bus` of `scene` as it is switched:
/// `None` where the main source does not feed the bus.
pub fn analyse_fault(
    scene: &Scene,
    bus: &str,
    permanent: bool,
) -> Result<Option<FaultAnalysis>, ScError> {
    analyse_fault_at(scene, &FaultSpot::Bus(bus.to_string()), 0.0, 0.0, permanent)
}

/// Where a fault is.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultSpot {
    /// At a bus.
    Bus(String),
    /// On a line, at a fraction of its length from its `from` end (0 to 1).
    Line {
        /// The line.
        id: String,
        /// Fraction of the length from the `from` end.
        at: f64,
    },
}

/// Suffix of the second part of a line split at a fault point (its first part keeps the id).
const SPLIT: &str = "~beyond-fault";

/// [`analyse_fault`] for a fault at a bus or a point along a line, through a fault resistance
/// and reactance (Ω per phase). A point on a line splits it there (impedance in proportion);
/// devices at its `to` end sit on the second part, and are reported on the line.
pub fn analyse_fault_at(
    scene: &Scene,
    spot: &FaultSpot,
    r_ohm: f64,
    x_ohm: f64,
    permanent: bool,
) -> Result<Option<FaultAnalysis>, ScError> {
    let z = Complex64::new(r_ohm, x_ohm);
    let (split, bus) = match spot {
        FaultSpot::Bus(b) => (None, b.clone()),
        FaultSpot::Line { id, at } => {
            let bad = |m: String| ScError::Invalid {
                element: format!("fault on line `{id}`"),
                message: m,
            };
            if !(0.0..=1.0).contains(at) {
                return Err(bad(format!("the point must lie in 0..=1, not {at}")));
            }
            let Some(k) = scene.lines.iter().position(|l| &l.id == id) else {
                return Err(bad("no such line".into()));
            };
            let mut s = scene.clone();
            let line = s.lines[k].clone();
            let point = format!("{id}@{at}");
            let Some(from_bus) = s.buses.iter().find(|b| b.id == line.from).cloned() else {
                return Err(bad(format!("unknown bus `{}`", line.from)));
            };
            s.buses.push(kos_scene::BusSpec {
                id: point.clone(),
                ..from_bus
            });
            // Lengths in proportion; a line given per unit scales the same way.
            let (first, second) = (at.max(1e-6), (1.0 - at).max(1e-6));
            let mut a = line.clone();
            a.to = point.clone();
            a.length_km = line.length_km * first;
            let mut b = line.clone();
            b.id = format!("{id}{SPLIT}");
            b.from = point.clone();
            b.length_km = line.length_km * second;
            if let kos_scene::Impedance::PerUnit { r, x, b: sh } = line.impedance {
                a.impedance = kos_scene::Impedance::PerUnit {
                    r: r * first,
                    x: x * first,
                    b: sh * first,
                };
                b.impedance = kos_scene::Impedance::PerUnit {
                    r: r * second,
                    x: x * second,
                    b: sh * second,
                };
            }
            s.lines[k] = a;
            s.lines.push(b);
            for p in s.protection.iter_mut().filter(|p| &p.branch == id) {
                if p.at_bus.as_deref() == Some(line.to.as_str()) {
                    p.branch = format!("{id}{SPLIT}");
                }
            }
            (Some(s), point)
        }
    };
    let scene = split.as_ref().unwrap_or(scene);
    let Some(root) = main_source(scene) else {
        return Ok(None);
    };
    let tree = feeding_tree(scene, root);
    let mut out = analyse_in(scene, &sc_case(scene), &tree, root, &bus, permanent, z)?;
    if let (Some(a), FaultSpot::Line { id, .. }) = (out.as_mut(), spot) {
        for b in a.device_branch.iter_mut().chain(a.branches.iter_mut()) {
            if b.strip_suffix(SPLIT) == Some(id.as_str()) {
                *b = id.clone();
            }
        }
    }
    Ok(out)
}

fn analyse_in(
    scene: &Scene,
    case: &crate::sc::ScCase,
    tree: &BTreeMap<&str, (&str, &str)>,
    root: &str,
    bus: &str,
    permanent: bool,
    z_ohm: Complex64,
) -> Result<Option<FaultAnalysis>, ScError> {
    if bus != root && !tree.contains_key(bus) {
        return Ok(None);
    }
    // Branches from the source to the bus, with the bus each is entered from.
    let mut branches = Vec::new();
    let mut at = bus;
    while let Some(&(branch, from)) = tree.get(at) {
        branches.push((branch, from));
        at = from;
    }
    branches.reverse();
    let flows = fault_flows_through(case, bus, z_ohm, &ScOptions::default())?;
    if flows.ikss_ka <= 0.0 {
        return Ok(None);
    }
    let mut path: Vec<InPath> = Vec::new();
    let mut device_branch = Vec::new();
    for (branch, entered_from) in &branches {
        // Devices at the end nearer the source first.
        let mut on: Vec<_> = scene
            .protection
            .iter()
            .filter(|p| p.branch == *branch)
            .collect();
        on.sort_by_key(|p| p.at_bus.as_deref().is_some_and(|x| x != *entered_from));
        for p in on {
            if let Some(device) = Device::from_spec(&p.device) {
                path.push(InPath {
                    name: p.id.clone(),
                    device,
                    current_a: device_current(scene, &flows, branch, p.at_bus.as_deref()),
                });
                device_branch.push(branch.to_string());
            }
        }
    }
    let sequence = sequence(&path, permanent);
    Ok(Some(FaultAnalysis {
        bus: bus.to_string(),
        ikss_ka: flows.ikss_ka,
        branches: branches.iter().map(|(b, _)| b.to_string()).collect(),
        path,
        device_branch,
        sequence,
    }))
}

/// Checks the protection of `scene` for a fault at every bus.
pub fn coordination(scene: &Scene, options: &CheckOptions) -> Result<Coordination, ScError> {
    let case = sc_case(scene);
    let Some(root) = main_source(scene) else {
        return Ok(Coordination {
            source_bus: None,
            faults: Vec::new(),
            violations: Vec::new(),
            margin_ms: options.margin_s * 1e3,
        });
    };
    let tree = feeding_tree(scene, root);
    let mut faults = Vec::new();
    let mut violations = Vec::new();
    for bus in &scene.buses {
        let b = bus.id.as_str();
        let Some(a) = analyse_in(scene, &case, &tree, root, b, true, Complex64::new(0.0, 0.0))?
        else {
            continue;
        };
        let (path, seq) = (&a.path, &a.sequence);
        let first = seq
            .operations
            .iter()
            .find(|o| matches!(o.action, Action::Trip | Action::Melt));
        let isolated = seq.isolated_by.and_then(|d| {
            seq.operations
                .iter()
                .rev()
                .find(|o| o.device == Some(d) && matches!(o.action, Action::Lockout | Action::Open))
                .map(|o| o.t_ms)
        });
        for (k, down) in path.iter().enumerate() {
            let Some(td) = grading_time(&down.device, down.current_a) else {
                continue;
            };
            for up in &path[..k] {
                if matches!(up.device, Device::Sectionaliser { .. }) {
                    continue;
                }
                let Some(tu) = grading_time(&up.device, up.current_a) else {
                    continue;
                };
                if tu - td < options.margin_s {
                    violations.push(Grading {
                        bus: b.to_string(),
                        upstream: up.name.clone(),
                        downstream: down.name.clone(),
                        upstream_ms: tu * 1e3,
                        downstream_ms: td * 1e3,
                        margin_ms: (tu - td) * 1e3,
                    });
                }
            }
        }
        faults.push(Clearing {
            bus: b.to_string(),
            ikss_ka: a.ikss_ka,
            path: path.iter().map(|p| (p.name.clone(), p.current_a)).collect(),
            cleared_by: seq.isolated_by.map(|d| path[d].name.clone()),
            first_interruption_ms: first.map(|o| o.t_ms),
            isolated_ms: isolated,
        });
    }
    Ok(Coordination {
        source_bus: Some(root.to_string()),
        faults,
        violations,
        margin_ms: options.margin_s * 1e3,
    })
}

/// Where fault passage indicators place a fault: beyond the indicating indicator farthest
/// from the main source (fault current passed it, and no indicator beyond it saw any). Returns
/// that indicator and the bus on the far side of its branch, or `None` when none of `fired`
/// is a fault indicator on a branch the main source feeds.
pub fn locate_by_indicators<'a>(scene: &'a Scene, fired: &[&str]) -> Option<(&'a str, &'a str)> {
    let root = main_source(scene)?;
    let tree = feeding_tree(scene, root);
    let depth = |bus: &str| {
        let (mut n, mut at) = (0usize, bus);
        while let Some(&(_, parent)) = tree.get(at) {
            n += 1;
            at = parent;
        }
        n
    };
    scene
        .protection
        .iter()
        .filter(|p| {
            matches!(p.device, kos_scene::DeviceSpec::FaultIndicator { .. })
                && fired.contains(&p.id.as_str())
        })
        .filter_map(|p| {
            // The bus the branch feeds: the one reached through it.
            tree.iter()
                .find(|(_, (via, _))| *via == p.branch)
                .map(|(bus, _)| (p.id.as_str(), *bus))
        })
        .max_by_key(|&(id, bus)| (depth(bus), std::cmp::Reverse(id)))
}

#[cfg(test)]
mod spot_tests {
    use super::*;

    fn default_scene() -> Scene {
        kos_scene::parse(
            include_str!("../../../scenes/default.ron"),
            "scenes/default.ron",
        )
        .unwrap()
    }

    /// Through a fault impedance the current is `c Uₙ / (√3 |Z_k + Z_f|)`, with Z_k the
    /// bus's short-circuit impedance (a case without converters, whose part does not follow
    /// the formula).
    #[test]
    fn a_fault_impedance_adds_to_the_bus_impedance() {
        let mut case = crate::scene::sc_case(&default_scene());
        case.sgens.clear();
        let o = ScOptions::default();
        let r = crate::sc::short_circuit(&case, &o).unwrap();
        let bus = r.iter().find(|b| b.id == "mv-03").unwrap();
        for zf in [Complex64::new(2.0, 0.0), Complex64::new(0.5, 1.5)] {
            let got = fault_flows_through(&case, "mv-03", zf, &o).unwrap().ikss_ka;
            let zk = Complex64::new(bus.rk_ohm, bus.xk_ohm);
            let want = 1.1 * 11.0 / (3f64.sqrt() * (zk + zf).norm());
            assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
        }
        assert!(fault_flows_through(&case, "mv-03", Complex64::new(-1.0, 0.0), &o).is_err());
    }

    /// A point along mvc-03 (mv-02 to mv-03): at its ends the current is the end buses', in
    /// between it lies between them; the path names the line, and the feeder relay clears it.
    #[test]
    fn a_point_along_a_line_lies_between_its_ends() {
        let scene = default_scene();
        let at = |x: f64| {
            let spot = FaultSpot::Line {
                id: "mvc-03".into(),
                at: x,
            };
            analyse_fault_at(&scene, &spot, 0.0, 0.0, true)
                .unwrap()
                .unwrap()
        };
        let bus = |b: &str| analyse_fault(&scene, b, true).unwrap().unwrap().ikss_ka;
        let (near, far) = (bus("mv-02"), bus("mv-03"));
        assert!((at(0.0).ikss_ka - near).abs() < 1e-4 * near);
        assert!((at(1.0).ikss_ka - far).abs() < 1e-4 * far);
        let mid = at(0.5);
        assert!(
            mid.ikss_ka < near && mid.ikss_ka > far,
            "{} {near} {far}",
            mid.ikss_ka
        );
        assert_eq!(mid.branches.last().map(String::as_str), Some("mvc-03"));
        let d = mid.sequence.isolated_by.unwrap();
        assert_eq!(mid.path[d].name, "rly-west");
        let bad = FaultSpot::Line {
            id: "mvc-03".into(),
            at: 1.5,
        };
        assert!(analyse_fault_at(&scene, &bad, 0.0, 0.0, true).is_err());
    }

    /// On the default scene's west ring, fault current passed fpi-02 and fpi-03 (mvc-02,
    /// mvc-03): the fault is beyond mvc-03, at mv-03 or past it; an indicator that is not one
    /// or an unknown id places nothing.
    #[test]
    fn the_farthest_indicator_that_fired_places_the_fault() {
        let scene = default_scene();
        assert_eq!(
            locate_by_indicators(&scene, &["fpi-02", "fpi-03"]),
            Some(("fpi-03", "mv-03"))
        );
        assert_eq!(
            locate_by_indicators(&scene, &["fpi-02"]),
            Some(("fpi-02", "mv-02"))
        );
        assert_eq!(locate_by_indicators(&scene, &["rly-west", "nobody"]), None);
    }
}
