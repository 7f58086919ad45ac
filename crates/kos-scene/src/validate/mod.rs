//! Scene validation: unknown and duplicate ids, dangling references, non-physical values and
//! a grid with no source. Every problem is placed at a file, line and column.

use std::collections::BTreeMap;
use std::fmt;

use crate::format::*;

mod commons;
mod modes;
mod protection;
mod site;
use commons::check_commons;
use modes::check_modes;
use protection::check_protection;
use site::check_site;

/// One problem found in a scene file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SceneError {
    /// The file, as given to the loader.
    pub file: String,
    /// 1-based line (0 when the problem is not at a place in the text).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The offending asset, when there is one.
    pub id: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SceneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Not about a place in the text (the file could not be read).
            write!(f, "{}: ", self.file)?;
        } else {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        }
        if let Some(id) = &self.id {
            write!(f, "`{id}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for SceneError {}

/// A problem before it is placed in the text.
struct Problem {
    id: Option<String>,
    /// Which occurrence of `id: "..."` (1 for a duplicate's second definition).
    occurrence: usize,
    field: Option<&'static str>,
    message: String,
}

/// Finds where ids and fields sit in the source text.
pub(crate) struct Locator<'a> {
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text }
    }

    /// 1-based line and column of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|p| p + 1).unwrap_or(0);
        (line, before[line_start..].chars().count() + 1)
    }

    /// Offsets of every `id: "<id>"` definition, in order.
    fn id_definitions(&self, id: &str) -> Vec<usize> {
        let quoted = format!("\"{id}\"");
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(p) = self.text[from..].find(&quoted) {
            let at = from + p;
            let before = self.text[..at].trim_end();
            if let Some(stripped) = before.strip_suffix(':')
                && stripped.trim_end().ends_with("id")
                && !stripped.trim_end().ends_with("_id")
            {
                out.push(at);
            }
            from = at + quoted.len();
        }
        out
    }

    /// Offset of `field:` after `start`, before the next `id:` definition.
    fn field_after(&self, start: usize, field: &str) -> Option<usize> {
        let rest = &self.text[start..];
        let end = rest[1.min(rest.len())..]
            .find("id:")
            .map(|p| p + 1)
            .unwrap_or(rest.len());
        let window = &rest[..end];
        let mut from = 0;
        while let Some(p) = window[from..].find(field) {
            let at = from + p;
            let ok_before = at == 0
                || !window.as_bytes()[at - 1].is_ascii_alphanumeric()
                    && window.as_bytes()[at - 1] != b'_';
            let after = window[at + field.len()..].trim_start();
            if ok_before && after.starts_with(':') {
                return Some(start + at);
            }
            from = at + field.len();
        }
        None
    }

    /// Offset of a top-level key such as `format_version:`.
    fn key(&self, key: &str) -> Option<usize> {
        self.field_after(0, key).or_else(|| self.text.find(key))
    }
}

/// Every problem of `scene`, placed in `text`.
pub fn validate(scene: &Scene, text: &str, file: &str) -> Vec<SceneError> {
    let loc = Locator::new(text);
    let problems = check(scene);
    problems
        .into_iter()
        .map(|p| {
            let offset = match &p.id {
                Some(id) => {
                    let defs = loc.id_definitions(id);
                    let def = defs.get(p.occurrence).or(defs.first()).copied();
                    match (def, p.field) {
                        (Some(d), Some(f)) => loc.field_after(d, f).unwrap_or(d),
                        (Some(d), None) => d,
                        (None, _) => 0,
                    }
                }
                None => p.field.and_then(|f| loc.key(f)).unwrap_or(0),
            };
            let (line, column) = loc.position(offset);
            SceneError {
                file: file.to_string(),
                line,
                column,
                id: p.id,
                message: p.message,
            }
        })
        .collect()
}

fn bad(id: &str, field: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        id: Some(id.to_string()),
        occurrence: 0,
        field: Some(field),
        message: message.into(),
    }
}

/// Kinds of thing an id can name, for reference checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bus,
    Branch,
    Unit,
    Load,
    Pod,
    Depot,
    Route,
    Protection,
}

fn check(s: &Scene) -> Vec<Problem> {
    let mut out = Vec::new();
    if s.format_version != FORMAT_VERSION {
        out.push(Problem {
            id: None,
            occurrence: 0,
            field: Some("format_version"),
            message: format!(
                "format_version {} is not supported (this build reads {FORMAT_VERSION})",
                s.format_version
            ),
        });
    }
    check_site(&s.site, &mut out);

    // Ids: unique across the whole scene.
    let mut kinds: BTreeMap<&str, Kind> = BTreeMap::new();
    let mut seen_count: BTreeMap<&str, usize> = BTreeMap::new();
    let all = s
        .buses
        .iter()
        .map(|x| (x.id.as_str(), Kind::Bus))
        .chain(s.lines.iter().map(|x| (x.id.as_str(), Kind::Branch)))
        .chain(s.transformers.iter().map(|x| (x.id.as_str(), Kind::Branch)))
        .chain(s.switches.iter().map(|x| (x.id.as_str(), Kind::Branch)))
        .chain(
            s.protection
                .iter()
                .map(|x| (x.id.as_str(), Kind::Protection)),
        )
        .chain(s.generators.iter().map(|x| (x.id.as_str(), Kind::Unit)))
        .chain(s.storage.iter().map(|x| (x.id.as_str(), Kind::Unit)))
        .chain(s.loads.iter().map(|x| (x.id.as_str(), Kind::Load)))
        .chain(s.pods.iter().map(|x| (x.id.as_str(), Kind::Pod)))
        .chain(s.depots.iter().map(|x| (x.id.as_str(), Kind::Depot)))
        .chain(s.routes.iter().map(|x| (x.id.as_str(), Kind::Route)));
    for (id, kind) in all {
        if id.trim().is_empty() || id.chars().any(|c| c.is_control() || c == '"') {
            out.push(Problem {
                id: Some(id.to_string()),
                occurrence: 0,
                field: None,
                message: "ids must be non-empty printable text without quotes".into(),
            });
            continue;
        }
        let n = seen_count.entry(id).or_insert(0);
        if *n > 0 {
            out.push(Problem {
                id: Some(id.to_string()),
                occurrence: *n,
                field: None,
                message: "duplicate id".into(),
            });
        } else {
            kinds.insert(id, kind);
        }
        *n += 1;
    }
    let refer =
        |out: &mut Vec<Problem>, owner: &str, field: &'static str, target: &str, want: &[Kind]| {
            match kinds.get(target) {
                None => out.push(bad(
                    owner,
                    field,
                    format!("refers to `{target}`, which is not defined"),
                )),
                Some(k) if !want.contains(k) => out.push(bad(
                    owner,
                    field,
                    format!(
                        "refers to `{target}`, which is a {k:?}, not a {:?}",
                        want[0]
                    ),
                )),
                _ => {}
            }
        };
    let positive = |out: &mut Vec<Problem>, id: &str, field: &'static str, v: f64| {
        if !(v.is_finite() && v > 0.0) {
            out.push(bad(
                id,
                field,
                format!("must be a positive number, got {v}"),
            ));
        }
    };
    let non_negative = |out: &mut Vec<Problem>, id: &str, field: &'static str, v: f64| {
        if !(v.is_finite() && v >= 0.0) {
            out.push(bad(id, field, format!("must be zero or more, got {v}")));
        }
    };
    let fraction =
        |out: &mut Vec<Problem>, id: &str, field: &'static str, v: f64, zero_ok: bool| {
            if !(v.is_finite() && v <= 1.0 && (v > 0.0 || (zero_ok && v == 0.0))) {
                out.push(bad(
                    id,
                    field,
                    format!(
                        "must be a fraction in {}0, 1], got {v}",
                        if zero_ok { "[" } else { "(" }
                    ),
                ));
            }
        };
    let finite_pos = |out: &mut Vec<Problem>, id: &str, p: (f64, f64)| {
        if !(p.0.is_finite() && p.1.is_finite()) {
            out.push(bad(id, "position", "must be finite"));
        }
    };

    for b in &s.buses {
        positive(&mut out, &b.id, "nominal_kv", b.nominal_kv);
        finite_pos(&mut out, &b.id, b.position);
    }
    for l in &s.lines {
        refer(&mut out, &l.id, "from", &l.from, &[Kind::Bus]);
        refer(&mut out, &l.id, "to", &l.to, &[Kind::Bus]);
        if l.from == l.to {
            out.push(bad(&l.id, "to", "a line must join two different buses"));
        }
        positive(&mut out, &l.id, "length_km", l.length_km);
        positive(&mut out, &l.id, "rating_a", l.rating_a);
        let (r, x, c) = match l.impedance {
            Impedance::PerKm { r_ohm, x_ohm, c_nf } => (r_ohm, x_ohm, c_nf),
            Impedance::PerUnit { r, x, b } => (r, x, b),
        };
        if !(r.is_finite() && x.is_finite() && c.is_finite()) || r < 0.0 || c < 0.0 {
            out.push(bad(
                &l.id,
                "impedance",
                "resistance and charging must be finite and not negative",
            ));
        } else if r == 0.0 && x == 0.0 {
            out.push(bad(
                &l.id,
                "impedance",
                "zero impedance: use a switch to join two buses",
            ));
        }
    }
    for t in &s.transformers {
        refer(&mut out, &t.id, "hv_bus", &t.hv_bus, &[Kind::Bus]);
        refer(&mut out, &t.id, "lv_bus", &t.lv_bus, &[Kind::Bus]);
        if t.hv_bus == t.lv_bus {
            out.push(bad(
                &t.id,
                "lv_bus",
                "a transformer must join two different buses",
            ));
        }
        positive(&mut out, &t.id, "rating_kva", t.rating_kva);
        positive(&mut out, &t.id, "vk_percent", t.vk_percent);
        if !(t.vkr_percent.is_finite() && t.vkr_percent >= 0.0 && t.vkr_percent < t.vk_percent) {
            out.push(bad(
                &t.id,
                "vkr_percent",
                format!(
                    "must be at least 0 and below vk_percent ({}), got {}",
                    t.vk_percent, t.vkr_percent
                ),
            ));
        }
        if !(t.tap_percent.is_finite() && t.tap_percent.abs() < 50.0) {
            out.push(bad(&t.id, "tap_percent", "must be within +-50 %"));
        }
        if !t.phase_shift_deg.is_finite() {
            out.push(bad(&t.id, "phase_shift_deg", "must be finite"));
        }
    }
    for w in &s.switches {
        refer(&mut out, &w.id, "from", &w.from, &[Kind::Bus]);
        refer(&mut out, &w.id, "to", &w.to, &[Kind::Bus]);
        if w.from == w.to {
            out.push(bad(&w.id, "to", "a switch must join two different buses"));
        }
    }
    check_protection(s, &mut out);
    check_modes(s, &mut out);
    check_commons(s, &mut out);
    for g in &s.generators {
        refer(&mut out, &g.id, "bus", &g.bus, &[Kind::Bus]);
        positive(&mut out, &g.id, "rated_kw", g.rated_kw);
        if !(g.setpoint_kw.is_finite() && g.setpoint_kw.abs() <= g.rated_kw.abs() * 1.0000001) {
            out.push(bad(
                &g.id,
                "setpoint_kw",
                format!(
                    "must lie within the rating ({} kW), got {}",
                    g.rated_kw, g.setpoint_kw
                ),
            ));
        }
        if !(g.voltage_pu.is_finite() && (0.8..=1.2).contains(&g.voltage_pu)) {
            out.push(bad(
                &g.id,
                "voltage_pu",
                format!("must lie in 0.8..1.2 pu, got {}", g.voltage_pu),
            ));
        }
        match g.kind {
            GeneratorKind::Solar {
                tilt_deg,
                azimuth_deg,
            } => {
                if !(tilt_deg.is_finite()
                    && (0.0..=90.0).contains(&tilt_deg)
                    && azimuth_deg.is_finite())
                {
                    out.push(bad(
                        &g.id,
                        "tilt_deg",
                        "tilt must lie in 0..90 degrees, azimuth finite",
                    ));
                }
            }
            GeneratorKind::Wind {
                hub_height_m,
                cut_in_m_s,
                rated_m_s,
                cut_out_m_s,
            } => {
                positive(&mut out, &g.id, "hub_height_m", hub_height_m);
                if !(cut_in_m_s >= 0.0
                    && cut_in_m_s < rated_m_s
                    && rated_m_s < cut_out_m_s
                    && cut_out_m_s.is_finite())
                {
                    out.push(bad(
                        &g.id,
                        "cut_in_m_s",
                        "wind speeds must rise: cut_in < rated < cut_out",
                    ));
                }
            }
            GeneratorKind::Chp {
                min_load,
                ramp_kw_per_min,
            } => {
                fraction(&mut out, &g.id, "min_load", min_load, true);
                positive(&mut out, &g.id, "ramp_kw_per_min", ramp_kw_per_min);
            }
            GeneratorKind::Bio {
                min_load,
                ramp_kw_per_min,
                fuel_kwh,
            } => {
                fraction(&mut out, &g.id, "min_load", min_load, true);
                positive(&mut out, &g.id, "ramp_kw_per_min", ramp_kw_per_min);
                non_negative(&mut out, &g.id, "fuel_kwh", fuel_kwh);
            }
            GeneratorKind::Module {
                ref module,
                ref params,
            } => {
                if let Err(e) = kos_energy::module::build(module, g.rated_kw, params) {
                    out.push(bad(&g.id, "module", e.to_string()));
                }
            }
            GeneratorKind::GridTie {
                import_limit_kw,
                export_limit_kw,
                short_circuit_mva,
                short_circuit_rx,
                short_circuit_min_mva,
                short_circuit_min_rx,
            } => {
                non_negative(&mut out, &g.id, "import_limit_kw", import_limit_kw);
                non_negative(&mut out, &g.id, "export_limit_kw", export_limit_kw);
                positive(&mut out, &g.id, "short_circuit_mva", short_circuit_mva);
                non_negative(&mut out, &g.id, "short_circuit_rx", short_circuit_rx);
                if let Some(min) = short_circuit_min_mva {
                    positive(&mut out, &g.id, "short_circuit_min_mva", min);
                    if min > short_circuit_mva {
                        out.push(bad(
                            &g.id,
                            "short_circuit_min_mva",
                            format!("{min} MVA is above the maximum, {short_circuit_mva} MVA"),
                        ));
                    }
                }
                if let Some(rx) = short_circuit_min_rx {
                    non_negative(&mut out, &g.id, "short_circuit_min_rx", rx);
                }
            }
        }
    }
    for b in &s.storage {
        refer(&mut out, &b.id, "bus", &b.bus, &[Kind::Bus]);
        positive(&mut out, &b.id, "energy_kwh", b.energy_kwh);
        positive(&mut out, &b.id, "power_kw", b.power_kw);
        fraction(
            &mut out,
            &b.id,
            "charge_efficiency",
            b.charge_efficiency,
            false,
        );
        fraction(
            &mut out,
            &b.id,
            "discharge_efficiency",
            b.discharge_efficiency,
            false,
        );
        fraction(&mut out, &b.id, "soc_min", b.soc_min, true);
        fraction(&mut out, &b.id, "soc_max", b.soc_max, false);
        if b.soc_min.is_finite() && b.soc_max.is_finite() && b.soc_min >= b.soc_max {
            out.push(bad(
                &b.id,
                "soc_max",
                format!(
                    "soc_max ({}) must be above soc_min ({})",
                    b.soc_max, b.soc_min
                ),
            ));
        }
        if !(b.voltage_pu.is_finite() && (0.8..=1.2).contains(&b.voltage_pu)) {
            out.push(bad(
                &b.id,
                "voltage_pu",
                format!("must lie in 0.8..1.2 pu, got {}", b.voltage_pu),
            ));
        }
        if !(b.soc.is_finite() && b.soc >= b.soc_min - 1e-9 && b.soc <= b.soc_max + 1e-9) {
            out.push(bad(
                &b.id,
                "soc",
                format!("must lie between soc_min and soc_max, got {}", b.soc),
            ));
        }
    }
    for l in &s.loads {
        refer(&mut out, &l.id, "bus", &l.bus, &[Kind::Bus]);
        non_negative(&mut out, &l.id, "peak_kw", l.peak_kw);
        fraction(&mut out, &l.id, "power_factor", l.power_factor, false);
        check_profile(&l.id, &l.profile, &mut out);
    }
    for p in &s.pods {
        refer(&mut out, &p.id, "bus", &p.bus, &[Kind::Bus]);
        finite_pos(&mut out, &p.id, p.position);
        non_negative(&mut out, &p.id, "power_kw", p.power_kw);
        non_negative(&mut out, &p.id, "water_m3_per_day", p.water_m3_per_day);
        non_negative(&mut out, &p.id, "bandwidth_mbps", p.bandwidth_mbps);
    }
    for d in &s.depots {
        finite_pos(&mut out, &d.id, d.position);
        for st in &d.stocks {
            non_negative(&mut out, &d.id, "quantity", st.quantity);
        }
    }
    for r in &s.routes {
        refer(&mut out, &r.id, "from", &r.from, &[Kind::Depot, Kind::Pod]);
        refer(&mut out, &r.id, "to", &r.to, &[Kind::Depot, Kind::Pod]);
        positive(&mut out, &r.id, "length_km", r.length_km);
        non_negative(&mut out, &r.id, "capacity_t_per_day", r.capacity_t_per_day);
    }
    let has_source = s
        .generators
        .iter()
        .any(|g| g.in_service && g.kind.grid_forming())
        || s.storage.iter().any(|b| b.in_service && b.grid_forming);
    if !has_source {
        out.push(Problem {
            id: None,
            occurrence: 0,
            field: Some("generators"),
            message: "the scene has no source: add a grid tie, a CHP or bio unit, or a grid-forming battery".into(),
        });
    }
    out
}

fn check_profile(id: &str, p: &Profile, out: &mut Vec<Problem>) {
    if let Profile::Custom(v) = p
        && (v.len() != 24 || v.iter().any(|x| !(x.is_finite() && *x >= 0.0)))
    {
        out.push(bad(
            id,
            "profile",
            format!(
                "a custom profile needs 24 hourly factors of at least 0, got {} values",
                v.len()
            ),
        ));
    }
}
