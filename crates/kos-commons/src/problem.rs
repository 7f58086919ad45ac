//! An allocation problem: resources with capacities, consumers with demand vectors, weights
//! and critical minimums, and network limits on groups of consumers. Validated so that the
//! allocator only ever sees finite, non-negative numbers.

use serde::{Deserialize, Serialize};

/// What is shared, how much there is, who wants what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// Resource names, e.g. `["power_kw", "water_l_per_h", "bandwidth_mbps"]`.
    pub resources: Vec<String>,
    /// Capacity of each resource, in the resource's unit (same order as `resources`).
    pub capacity: Vec<f64>,
    pub consumers: Vec<Consumer>,
    /// Network limits: a feeder's rating caps what its consumers draw together.
    #[serde(default)]
    pub groups: Vec<Group>,
}

/// One household, pod or asset that draws on the commons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    pub id: String,
    /// What it asks for of each resource (its demand caps its share).
    pub demand: Vec<f64>,
    /// Weight in the fair share (1 for an ordinary household; more for a larger one).
    #[serde(default = "one")]
    pub weight: f64,
    /// Critical minimum of each resource, served first (the clinic, water pumping, shelters'
    /// base load, emergency communications); at most the demand. Empty: none.
    #[serde(default)]
    pub minimum: Vec<f64>,
    /// Priority of the minimum when even the minimums do not fit (higher first).
    #[serde(default)]
    pub priority: u32,
}

fn one() -> f64 {
    1.0
}

/// Consumers whose draw of some resources is capped together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    /// Consumer ids.
    pub members: Vec<String>,
    /// Cap of each resource for the members together; `null` (None) for no cap.
    pub cap: Vec<Option<f64>>,
}

/// A problem that cannot be allocated, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProblemError {
    /// The JSON does not parse, or has the wrong shape.
    #[error("{line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A value is out of range.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Problem {
    /// Reads and validates a problem from JSON.
    pub fn from_json(text: &str) -> Result<Self, ProblemError> {
        let p: Problem = serde_json::from_str(text).map_err(|e| ProblemError::Syntax {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        p.validate()?;
        Ok(p)
    }

    /// Checks every number and reference; the first problem found.
    pub fn validate(&self) -> Result<(), ProblemError> {
        let bad = |path: String, message: &str| {
            Err(ProblemError::Invalid {
                path,
                message: message.into(),
            })
        };
        let r = self.resources.len();
        if r == 0 {
            return bad("resources".into(), "at least one resource");
        }
        if self.capacity.len() != r {
            return bad("capacity".into(), "one capacity per resource");
        }
        for (k, c) in self.capacity.iter().enumerate() {
            if !c.is_finite() || *c < 0.0 {
                return bad(format!("capacity[{k}]"), "a finite, non-negative number");
            }
        }
        let mut ids = std::collections::HashSet::new();
        for (i, c) in self.consumers.iter().enumerate() {
            let at = |f: &str| format!("consumers[{i}] ({}).{f}", c.id);
            if !ids.insert(c.id.as_str()) {
                return bad(at("id"), "a second consumer with this id");
            }
            if c.demand.len() != r {
                return bad(at("demand"), "one demand per resource");
            }
            for (k, d) in c.demand.iter().enumerate() {
                if !d.is_finite() || *d < 0.0 {
                    return bad(at(&format!("demand[{k}]")), "a finite, non-negative number");
                }
            }
            if !c.weight.is_finite() || c.weight <= 0.0 {
                return bad(at("weight"), "a finite number above zero");
            }
            if !c.minimum.is_empty() && c.minimum.len() != r {
                return bad(at("minimum"), "empty, or one minimum per resource");
            }
            for (k, m) in c.minimum.iter().enumerate() {
                if !m.is_finite() || *m < 0.0 || *m > c.demand[k] {
                    return bad(
                        at(&format!("minimum[{k}]")),
                        "a finite number from 0 to the demand",
                    );
                }
            }
        }
        for (g, grp) in self.groups.iter().enumerate() {
            let at = |f: &str| format!("groups[{g}] ({}).{f}", grp.id);
            if grp.cap.len() != r {
                return bad(at("cap"), "one cap (or null) per resource");
            }
            for (k, c) in grp.cap.iter().enumerate() {
                if let Some(c) = c
                    && (!c.is_finite() || *c < 0.0)
                {
                    return bad(
                        at(&format!("cap[{k}]")),
                        "null, or a finite, non-negative number",
                    );
                }
            }
            for m in &grp.members {
                if !ids.contains(m.as_str()) {
                    return bad(at("members"), &format!("no consumer {m:?}"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_problems_are_named_with_their_place() {
        let e = Problem::from_json(
            "{\n  \"resources\": [\"power\"],\n  \"capacity\": [1],\n  \"consumers\": [x]\n}",
        )
        .unwrap_err();
        assert!(matches!(e, ProblemError::Syntax { line: 4, .. }), "{e}");
        let base = |consumer: &str| {
            format!(r#"{{"resources":["p","w"],"capacity":[10,5],"consumers":[{consumer}]}}"#)
        };
        for (c, path) in [
            (
                r#"{"id":"a","demand":[-1,0]}"#,
                "consumers[0] (a).demand[0]",
            ),
            (
                r#"{"id":"a","demand":[1,0],"weight":0}"#,
                "consumers[0] (a).weight",
            ),
            (r#"{"id":"a","demand":[1]}"#, "consumers[0] (a).demand"),
            (
                r#"{"id":"a","demand":[1,1],"minimum":[2,0]}"#,
                "consumers[0] (a).minimum[0]",
            ),
        ] {
            match Problem::from_json(&base(c)) {
                Err(ProblemError::Invalid { path: p, .. }) => assert_eq!(p, path),
                other => panic!("{c}: {other:?}"),
            }
        }
        // Non-finite numbers cannot even be written in JSON; a capacity missing is an error.
        assert!(Problem::from_json(r#"{"resources":["p"],"consumers":[]}"#).is_err());
    }
}
