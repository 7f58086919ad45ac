//! Generation modules driven by the weather, behind one trait, and the registry that builds
//! a module from its kind name and parameters. A new kind of module is one file in
//! `modules/` implementing [`GenerationModule`] and one line in [`REGISTRY`]; scenes and
//! telemetry birth messages then name it (`Module(module: "hydro", params: {...})`).

use std::collections::BTreeMap;

use crate::solar::SunPosition;

/// The conditions a module sees in a tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conditions {
    /// Sun position.
    pub sun: SunPosition,
    /// Global horizontal irradiance under the clouds, W/m2.
    pub ghi_w_m2: f64,
    /// Day of the year, from 1.
    pub day_of_year: f64,
    /// Air temperature, degrees C.
    pub ambient_c: f64,
    /// Wind speed at 10 m, m/s.
    pub wind_m_s: f64,
}

/// A generation module whose output the environment decides.
pub trait GenerationModule: std::fmt::Debug + Send + Sync {
    /// Name of its kind, as scenes write it.
    fn kind(&self) -> &'static str;
    /// Power it can deliver now, kW (never negative, never NaN).
    fn available_kw(&self, conditions: &Conditions) -> f64;
}

/// Why a module could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModuleError {
    /// No kind of that name is registered.
    #[error("unknown module kind `{0}` (known: {known})", known = known_kinds().join(", "))]
    UnknownKind(String),
    /// A parameter the kind needs is missing.
    #[error("module `{kind}` needs parameter `{param}`")]
    Missing {
        /// Kind.
        kind: &'static str,
        /// Parameter name.
        param: &'static str,
    },
    /// A parameter is out of its physical range.
    #[error("module `{kind}`: `{param}` must lie in {lo}..={hi}, got {value}")]
    OutOfRange {
        /// Kind.
        kind: &'static str,
        /// Parameter name.
        param: &'static str,
        /// Value given.
        value: f64,
        /// Lowest allowed.
        lo: f64,
        /// Highest allowed.
        hi: f64,
    },
    /// A parameter the kind does not know.
    #[error("module `{kind}` has no parameter `{param}`")]
    Unknown {
        /// Kind.
        kind: &'static str,
        /// Parameter name.
        param: String,
    },
}

/// Parameters of a module, by name.
pub type Params = BTreeMap<String, f64>;

/// Builds a module of one kind from its rating (kW) and parameters.
pub type Constructor =
    fn(rated_kw: f64, params: &Params) -> Result<Box<dyn GenerationModule>, ModuleError>;

/// Every kind of module, by name.
pub const REGISTRY: &[(&str, Constructor)] = &[
    ("solar", crate::modules::solar::build),
    ("wind", crate::modules::wind::build),
    ("hydro", crate::modules::hydro::build),
];

/// Names of the registered kinds.
pub fn known_kinds() -> Vec<&'static str> {
    REGISTRY.iter().map(|(n, _)| *n).collect()
}

/// Builds a module of kind `kind`.
pub fn build(
    kind: &str,
    rated_kw: f64,
    params: &Params,
) -> Result<Box<dyn GenerationModule>, ModuleError> {
    REGISTRY
        .iter()
        .find(|(n, _)| *n == kind)
        .ok_or_else(|| ModuleError::UnknownKind(kind.to_string()))
        .and_then(|(_, make)| make(rated_kw, params))
}

/// Reads the parameters of a kind: each `(name, default, lo, hi)`; `None` default means
/// required. Unknown names are errors (a typo must not pass).
pub fn read_params<const N: usize>(
    kind: &'static str,
    params: &Params,
    spec: [(&'static str, Option<f64>, f64, f64); N],
) -> Result<[f64; N], ModuleError> {
    if let Some(p) = params
        .keys()
        .find(|k| !spec.iter().any(|s| s.0 == k.as_str()))
    {
        return Err(ModuleError::Unknown {
            kind,
            param: p.clone(),
        });
    }
    let mut out = [0.0; N];
    for (i, (param, default, lo, hi)) in spec.into_iter().enumerate() {
        let value = match (params.get(param), default) {
            (Some(v), _) => *v,
            (None, Some(d)) => d,
            (None, None) => return Err(ModuleError::Missing { kind, param }),
        };
        if !(value.is_finite() && (lo..=hi).contains(&value)) {
            return Err(ModuleError::OutOfRange {
                kind,
                param,
                value,
                lo,
                hi,
            });
        }
        out[i] = value;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solar::sun_position_at;

    fn noon() -> Conditions {
        // 2024-06-21 12:00 UTC at 51.5 N, 0 E: the sun high in the south.
        Conditions {
            sun: sun_position_at(1_718_971_200.0, 51.5, 0.0, 0.0),
            ghi_w_m2: 850.0,
            day_of_year: 173.0,
            ambient_c: 20.0,
            wind_m_s: 8.0,
        }
    }

    #[test]
    fn every_registered_kind_builds_with_its_defaults_or_says_what_it_needs() {
        for kind in known_kinds() {
            match build(kind, 100.0, &Params::new()) {
                Ok(m) => {
                    assert_eq!(m.kind(), kind);
                    let p = m.available_kw(&noon());
                    assert!(
                        p.is_finite() && (0.0..=100.0 + 1e-9).contains(&p),
                        "{kind}: {p}"
                    );
                }
                Err(ModuleError::Missing { kind: k, .. }) => assert_eq!(k, kind),
                Err(e) => panic!("{kind}: {e}"),
            }
        }
    }

    #[test]
    fn bad_kinds_and_parameters_are_named() {
        let e = build("fusion", 10.0, &Params::new()).unwrap_err();
        assert!(e.to_string().contains("fusion") && e.to_string().contains("solar"));
        let mut p = Params::new();
        p.insert("tilt_degg".into(), 30.0);
        assert!(matches!(
            build("solar", 10.0, &p),
            Err(ModuleError::Unknown { .. })
        ));
        let mut p = Params::new();
        p.insert("tilt_deg".into(), f64::NAN);
        assert!(matches!(
            build("solar", 10.0, &p),
            Err(ModuleError::OutOfRange { .. })
        ));
    }
}
