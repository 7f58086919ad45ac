//! Telemetry payloads: parsing and validation with a typed reason for every refusal. Plain
//! Rust, no Bevy: the MQTT thread checks what it can without the world (size, JSON, types,
//! finite numbers, physical bounds), the ECS checks the rest against the asset
//! ([`check_asset`]).

use serde::Serialize;
use serde_json::{Map, Value};

use super::reject::{RejectReason, Rejected};

/// Largest clock skew accepted for timestamps in the future, ms.
pub const MAX_FUTURE_SKEW_MS: i64 = 60_000;

/// Measured values of one asset; a field left out was not measured.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Values {
    /// Active power, kW (generation and battery discharge positive; load demand positive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_kw: Option<f64>,
    /// Reactive power, kvar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q_kvar: Option<f64>,
    /// Voltage magnitude, pu.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v_pu: Option<f64>,
    /// Current, A.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub i_a: Option<f64>,
    /// State of charge, fraction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soc: Option<f64>,
    /// Temperature, degrees Celsius.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature_c: Option<f64>,
    /// Plane-of-array irradiance, W/m2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irradiance_w_m2: Option<f64>,
    /// Wind speed, m/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wind_m_s: Option<f64>,
    /// Water flow, l/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_l_s: Option<f64>,
    /// Tank level, fraction of full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tank_level: Option<f64>,
    /// Power into a consumer's own storage behind its meter (included in `p_kw`), kW;
    /// negative while it discharges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_kw: Option<f64>,
    /// Water into a consumer's own tank (included in `flow_l_s`), l/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tank_fill_l_s: Option<f64>,
    /// Breaker or switch closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_closed: Option<bool>,
    /// The device reports a fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<bool>,
}

impl Values {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Values::default()
    }

    /// These values updated by the fields that `newer` carries.
    pub fn merged(self, newer: &Values) -> Values {
        Values {
            p_kw: newer.p_kw.or(self.p_kw),
            q_kvar: newer.q_kvar.or(self.q_kvar),
            v_pu: newer.v_pu.or(self.v_pu),
            i_a: newer.i_a.or(self.i_a),
            soc: newer.soc.or(self.soc),
            temperature_c: newer.temperature_c.or(self.temperature_c),
            irradiance_w_m2: newer.irradiance_w_m2.or(self.irradiance_w_m2),
            wind_m_s: newer.wind_m_s.or(self.wind_m_s),
            flow_l_s: newer.flow_l_s.or(self.flow_l_s),
            tank_level: newer.tank_level.or(self.tank_level),
            charge_kw: newer.charge_kw.or(self.charge_kw),
            tank_fill_l_s: newer.tank_fill_l_s.or(self.tank_fill_l_s),
            breaker_closed: newer.breaker_closed.or(self.breaker_closed),
            fault: newer.fault.or(self.fault),
        }
    }
}

/// One telemetry message, parsed and checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// When it was measured, ms since 1970-01-01T00:00Z.
    pub ts_ms: i64,
    /// Sequence number of the device, if it counts its messages.
    pub seq: Option<u64>,
    /// The values.
    pub values: Values,
}

/// The numeric fields, their JSON names and the physical range any asset can have.
const NUMBERS: [(&str, f64, f64); 12] = [
    ("p_kw", -1e6, 1e6),
    ("q_kvar", -1e6, 1e6),
    ("v_pu", 0.0, 2.0),
    ("i_a", 0.0, 1e5),
    ("soc", 0.0, 1.0),
    ("temperature_c", -90.0, 200.0),
    ("irradiance_w_m2", 0.0, 1500.0),
    ("wind_m_s", 0.0, 120.0),
    ("flow_l_s", -1e5, 1e5),
    ("tank_level", 0.0, 1.0),
    ("charge_kw", -1e6, 1e6),
    ("tank_fill_l_s", -1e5, 1e5),
];

fn slot<'a>(v: &'a mut Values, name: &str) -> Option<&'a mut Option<f64>> {
    Some(match name {
        "p_kw" => &mut v.p_kw,
        "q_kvar" => &mut v.q_kvar,
        "v_pu" => &mut v.v_pu,
        "i_a" => &mut v.i_a,
        "soc" => &mut v.soc,
        "temperature_c" => &mut v.temperature_c,
        "irradiance_w_m2" => &mut v.irradiance_w_m2,
        "wind_m_s" => &mut v.wind_m_s,
        "flow_l_s" => &mut v.flow_l_s,
        "tank_level" => &mut v.tank_level,
        "charge_kw" => &mut v.charge_kw,
        "tank_fill_l_s" => &mut v.tank_fill_l_s,
        _ => return None,
    })
}

/// Parses a JSON object from at most `max_bytes` bytes, telling malformed JSON from
/// non-finite numbers (`NaN`, `Infinity`, `1e999`), which JSON cannot carry.
pub fn parse_object(bytes: &[u8], max_bytes: usize) -> Result<Map<String, Value>, Rejected> {
    if bytes.len() > max_bytes {
        return Err(Rejected::new(
            RejectReason::Oversized,
            format!("{} bytes, limit {max_bytes}", bytes.len()),
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Rejected::new(RejectReason::NotJson, "not UTF-8"))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Rejected::new(
            RejectReason::WrongType,
            "the payload is not a JSON object",
        )),
        Err(e) => {
            let non_finite = e.to_string().contains("number out of range")
                || ["NaN", "Infinity"].iter().any(|w| text.contains(w));
            if non_finite {
                Err(Rejected::new(
                    RejectReason::NonFinite,
                    "NaN, infinity or a number out of range",
                ))
            } else {
                Err(Rejected::new(
                    RejectReason::NotJson,
                    format!("invalid JSON at line {} column {}", e.line(), e.column()),
                ))
            }
        }
    }
}

fn wrong_type(field: &str, want: &str) -> Rejected {
    Rejected::new(RejectReason::WrongType, format!("`{field}` must be {want}"))
}

/// Parses and checks a telemetry payload received at `now_ms`.
pub fn parse_measurement(
    bytes: &[u8],
    max_bytes: usize,
    now_ms: i64,
) -> Result<Measurement, Rejected> {
    let object = parse_object(bytes, max_bytes)?;
    let mut ts_ms = None;
    let mut seq = None;
    let mut values = Values::default();
    for (key, v) in &object {
        match key.as_str() {
            "ts" => {
                ts_ms = Some(v.as_i64().filter(|t| *t > 0).ok_or_else(|| {
                    wrong_type("ts", "a positive integer (ms since 1970-01-01T00:00Z)")
                })?)
            }
            "seq" => {
                seq = Some(
                    v.as_u64()
                        .ok_or_else(|| wrong_type("seq", "a non-negative integer"))?,
                )
            }
            "breaker" => {
                values.breaker_closed = Some(match v.as_str() {
                    Some("closed") => true,
                    Some("open") => false,
                    _ => return Err(wrong_type("breaker", "\"open\" or \"closed\"")),
                })
            }
            "fault" => {
                values.fault = Some(
                    v.as_bool()
                        .ok_or_else(|| wrong_type("fault", "true or false"))?,
                )
            }
            name => {
                let Some(field) = slot(&mut values, name) else {
                    return Err(Rejected::new(
                        RejectReason::UnknownField,
                        format!(
                            "unknown field `{}`",
                            name.escape_debug().take(40).collect::<String>()
                        ),
                    ));
                };
                let x = v.as_f64().ok_or_else(|| wrong_type(name, "a number"))?;
                if !x.is_finite() {
                    return Err(Rejected::new(RejectReason::NonFinite, format!("`{name}`")));
                }
                *field = Some(x);
            }
        }
    }
    let ts_ms =
        ts_ms.ok_or_else(|| Rejected::new(RejectReason::MissingTimestamp, "`ts` is required"))?;
    if ts_ms > now_ms + MAX_FUTURE_SKEW_MS {
        return Err(Rejected::new(
            RejectReason::FutureTimestamp,
            format!("{} s ahead of the twin's clock", (ts_ms - now_ms) / 1000),
        ));
    }
    if values.is_empty() {
        return Err(Rejected::new(RejectReason::Empty, "no measured field"));
    }
    for (name, lo, hi) in NUMBERS {
        let x = slot(&mut values, name).and_then(|s| *s);
        if let Some(x) = x
            && !(lo..=hi).contains(&x)
        {
            return Err(Rejected::new(
                RejectReason::Implausible,
                format!("`{name}` = {x} outside [{lo}, {hi}]"),
            ));
        }
    }
    Ok(Measurement { ts_ms, seq, values })
}

/// What kind of asset a measurement is for, and what it may report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AssetClass {
    /// A bus: voltage.
    Bus,
    /// A line or transformer: flows and current.
    Branch,
    /// A switch or breaker: its position, flows and current.
    Switch,
    /// A generation module; active power within the range, kW.
    Generator {
        /// Lowest plausible output, kW.
        p_min_kw: f64,
        /// Highest plausible output, kW.
        p_max_kw: f64,
    },
    /// A battery; active power within +-`power_kw`.
    Storage {
        /// Inverter rating, kW.
        power_kw: f64,
    },
    /// A load or pod; demand up to `max_kw`.
    Load {
        /// Highest plausible demand, kW.
        max_kw: f64,
    },
    /// A depot or route: tank levels, flows, temperature.
    Supply,
}

/// Margin over ratings before a value counts as impossible (meters and nameplates differ).
const RATING_MARGIN: f64 = 1.25;

/// Checks that every field applies to the asset and is possible for it.
pub fn check_asset(v: &Values, class: AssetClass) -> Result<(), Rejected> {
    use AssetClass::*;
    let present = [
        ("p_kw", v.p_kw.is_some()),
        ("q_kvar", v.q_kvar.is_some()),
        ("v_pu", v.v_pu.is_some()),
        ("i_a", v.i_a.is_some()),
        ("soc", v.soc.is_some()),
        ("irradiance_w_m2", v.irradiance_w_m2.is_some()),
        ("wind_m_s", v.wind_m_s.is_some()),
        ("flow_l_s", v.flow_l_s.is_some()),
        ("tank_level", v.tank_level.is_some()),
        ("charge_kw", v.charge_kw.is_some()),
        ("tank_fill_l_s", v.tank_fill_l_s.is_some()),
        ("breaker", v.breaker_closed.is_some()),
    ];
    let allowed: &[&str] = match class {
        Bus => &["v_pu"],
        Branch => &["p_kw", "q_kvar", "i_a"],
        Switch => &["p_kw", "q_kvar", "i_a", "breaker"],
        Generator { .. } => &[
            "p_kw",
            "q_kvar",
            "v_pu",
            "i_a",
            "irradiance_w_m2",
            "wind_m_s",
        ],
        Storage { .. } => &["p_kw", "q_kvar", "v_pu", "i_a", "soc"],
        Load { .. } => &[
            "p_kw",
            "q_kvar",
            "v_pu",
            "i_a",
            "flow_l_s",
            "tank_level",
            "charge_kw",
            "tank_fill_l_s",
        ],
        Supply => &["flow_l_s", "tank_level"],
    };
    // Temperature and the fault flag apply to everything.
    if let Some((name, _)) = present.iter().find(|(n, p)| *p && !allowed.contains(n)) {
        return Err(Rejected::new(
            RejectReason::NotApplicable,
            format!("`{name}`"),
        ));
    }
    let range = match class {
        Generator { p_min_kw, p_max_kw } => Some((p_min_kw, p_max_kw)),
        Storage { power_kw } => Some((-power_kw, power_kw)),
        Load { max_kw } => Some((-max_kw, max_kw)),
        _ => None,
    };
    for (name, p) in [("p_kw", v.p_kw), ("charge_kw", v.charge_kw)] {
        if let (Some(p), Some((lo, hi))) = (p, range) {
            let slack = |x: f64| x.abs() * (RATING_MARGIN - 1.0) + 1.0;
            if p < lo - slack(lo) || p > hi + slack(hi) {
                return Err(Rejected::new(
                    RejectReason::Implausible,
                    format!("`{name}` = {p} outside the asset's range [{lo}, {hi}] kW"),
                ));
            }
        }
    }
    Ok(())
}

/// Whether a measurement taken at `ts_ms` is still fresh at `now_ms` under a window of
/// `window_ms`.
pub fn is_fresh(ts_ms: i64, now_ms: i64, window_ms: i64) -> bool {
    now_ms.saturating_sub(ts_ms) <= window_ms
}

/// Whether a message is newer than the last one applied for its asset: by sequence number
/// when both carry one, else by timestamp (equal timestamps pass).
pub fn is_newer(seq: Option<u64>, ts_ms: i64, last_seq: Option<u64>, last_ts_ms: i64) -> bool {
    match (seq, last_seq) {
        (Some(s), Some(l)) => s > l,
        _ => ts_ms >= last_ts_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn parse(s: &str) -> Result<Measurement, Rejected> {
        parse_measurement(s.as_bytes(), 4096, NOW)
    }

    fn reason(s: &str) -> RejectReason {
        parse(s).unwrap_err().reason
    }

    #[test]
    fn a_good_message_parses() {
        let m = parse(r#"{"ts": 1800000000000, "seq": 4, "p_kw": 3.5, "soc": 0.5, "breaker": "open", "fault": false}"#)
            .unwrap();
        assert_eq!(m.ts_ms, NOW);
        assert_eq!(m.seq, Some(4));
        assert_eq!(m.values.p_kw, Some(3.5));
        assert_eq!(m.values.breaker_closed, Some(false));
        assert_eq!(m.values.fault, Some(false));
    }

    #[test]
    fn every_class_of_bad_input_has_its_reason() {
        use RejectReason::*;
        assert_eq!(reason("p_kw=3"), NotJson);
        assert_eq!(reason("{\"ts\": 1, \"p_kw\": 3"), NotJson);
        assert_eq!(reason("[1, 2]"), WrongType);
        assert_eq!(reason(r#"{"ts": 1, "p_kw": "3"}"#), WrongType);
        assert_eq!(reason(r#"{"ts": "now", "p_kw": 3}"#), WrongType);
        assert_eq!(reason(r#"{"ts": 1, "breaker": 1}"#), WrongType);
        assert_eq!(reason(r#"{"ts": 1, "p_kw": NaN}"#), NonFinite);
        assert_eq!(reason(r#"{"ts": 1, "p_kw": Infinity}"#), NonFinite);
        assert_eq!(reason(r#"{"ts": 1, "p_kw": 1e999}"#), NonFinite);
        assert_eq!(reason(r#"{"ts": 1, "p_watts": 3}"#), UnknownField);
        assert_eq!(reason(r#"{"p_kw": 3}"#), MissingTimestamp);
        assert_eq!(
            reason(r#"{"ts": 1900000000000, "p_kw": 3}"#),
            FutureTimestamp
        );
        assert_eq!(reason(r#"{"ts": 1}"#), Empty);
        assert_eq!(reason(r#"{"ts": 1, "soc": 1.5}"#), Implausible);
        assert_eq!(reason(r#"{"ts": 1, "irradiance_w_m2": -5}"#), Implausible);
        assert_eq!(reason(r#"{"ts": 1, "v_pu": 7}"#), Implausible);
        let big = format!(r#"{{"ts": 1, "p_kw": 1, "pad": "{}"}}"#, "x".repeat(5000));
        assert_eq!(reason(&big), Oversized);
        assert_eq!(
            parse_measurement(&[0xff, 0xfe], 10, NOW)
                .unwrap_err()
                .reason,
            NotJson
        );
    }

    #[test]
    fn fields_must_fit_the_asset() {
        let v = |s: &str| parse(s).unwrap().values;
        let unit = AssetClass::Generator {
            p_min_kw: 0.0,
            p_max_kw: 10.0,
        };
        assert!(check_asset(&v(r#"{"ts":1,"p_kw":10.5}"#), unit).is_ok());
        assert_eq!(
            check_asset(&v(r#"{"ts":1,"p_kw":50}"#), unit)
                .unwrap_err()
                .reason,
            RejectReason::Implausible
        );
        assert_eq!(
            check_asset(
                &v(r#"{"ts":1,"soc":0.5}"#),
                AssetClass::Load { max_kw: 5.0 }
            )
            .unwrap_err()
            .reason,
            RejectReason::NotApplicable
        );
        assert!(
            check_asset(
                &v(r#"{"ts":1,"breaker":"open","temperature_c":20}"#),
                AssetClass::Switch
            )
            .is_ok()
        );
        assert!(check_asset(&v(r#"{"ts":1,"fault":true}"#), AssetClass::Bus).is_ok());
        // A consumer's own storage: on loads and pods only, within the load's range.
        let load = AssetClass::Load { max_kw: 5.0 };
        assert!(check_asset(&v(r#"{"ts":1,"charge_kw":3,"tank_fill_l_s":0.1}"#), load).is_ok());
        assert_eq!(
            check_asset(&v(r#"{"ts":1,"charge_kw":30}"#), load)
                .unwrap_err()
                .reason,
            RejectReason::Implausible
        );
        assert_eq!(
            check_asset(
                &v(r#"{"ts":1,"charge_kw":1}"#),
                AssetClass::Storage { power_kw: 5.0 }
            )
            .unwrap_err()
            .reason,
            RejectReason::NotApplicable
        );
        assert!(
            check_asset(
                &v(r#"{"ts":1,"p_kw":-4}"#),
                AssetClass::Storage { power_kw: 5.0 }
            )
            .is_ok()
        );
    }

    #[test]
    fn freshness_and_order() {
        assert!(is_fresh(1000, 31_000, 30_000));
        assert!(!is_fresh(1000, 31_001, 30_000));
        assert!(is_newer(Some(2), 0, Some(1), 5));
        assert!(!is_newer(Some(1), 9, Some(1), 5));
        assert!(is_newer(None, 5, None, 5));
        assert!(!is_newer(None, 4, Some(3), 5));
    }

    #[test]
    fn merging_keeps_fields_not_sent_again() {
        let a = Values {
            p_kw: Some(1.0),
            soc: Some(0.5),
            ..Default::default()
        };
        let b = Values {
            p_kw: Some(2.0),
            ..Default::default()
        };
        let m = a.merged(&b);
        assert_eq!((m.p_kw, m.soc), (Some(2.0), Some(0.5)));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = parse_measurement(&bytes, 200, NOW);
        }
    }
}
