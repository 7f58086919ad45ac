//! A proposal against the baseline: each measure's spread over the weather seeds on both
//! sides and of their difference, a verdict per measure, and a fingerprint of the whole
//! (SHA-256 of its canonical JSON) that freezes it before voting opens.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Proposal;

/// A measure: its name, unit, and whether more of it is better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    pub name: &'static str,
    pub unit: &'static str,
    pub more_is_better: bool,
}

/// The median, 10th and 90th percentile of some values (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
}

impl Spread {
    /// The spread of `values` (at least one).
    pub fn of(values: &[f64]) -> Self {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
        Self {
            median: at(0.5),
            p10: at(0.1),
            p90: at(0.9),
        }
    }
}

/// One measure compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub measure: &'static str,
    pub unit: &'static str,
    pub baseline: Spread,
    pub proposal: Spread,
    /// Proposal less baseline, seed by seed.
    pub difference: Spread,
    /// `better`, `worse` or `no change`: by the median difference, beyond 0.5 % of the
    /// baseline's median or 1e-6.
    pub verdict: &'static str,
}

/// The comparison, as frozen before the vote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub proposal: String,
    /// The proposal's own fingerprint (what ballots sign).
    pub proposal_fingerprint: String,
    pub title: String,
    pub days: u32,
    pub seeds: Vec<u64>,
    pub rows: Vec<Row>,
}

impl Comparison {
    /// Compares runs seed by seed: `runs[s]` holds the baseline's and the proposal's value of
    /// each of `measures`, in order, for seed `seeds[s]`.
    pub fn new(
        p: &Proposal,
        days: u32,
        seeds: Vec<u64>,
        measures: &[Measure],
        runs: &[(Vec<f64>, Vec<f64>)],
    ) -> Self {
        let rows = measures
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let base: Vec<f64> = runs.iter().map(|r| r.0[k]).collect();
                let prop: Vec<f64> = runs.iter().map(|r| r.1[k]).collect();
                let diff: Vec<f64> = runs.iter().map(|r| r.1[k] - r.0[k]).collect();
                let (b, d) = (Spread::of(&base), Spread::of(&diff));
                let tolerance = (0.005 * b.median.abs()).max(1e-6);
                let verdict = if d.median.abs() <= tolerance {
                    "no change"
                } else if (d.median > 0.0) == m.more_is_better {
                    "better"
                } else {
                    "worse"
                };
                Row {
                    measure: m.name,
                    unit: m.unit,
                    baseline: b,
                    proposal: Spread::of(&prop),
                    difference: d,
                    verdict,
                }
            })
            .collect();
        Self {
            proposal: p.id.clone(),
            proposal_fingerprint: p.fingerprint_hex(),
            title: p.title.clone(),
            days,
            seeds,
            rows,
        }
    }

    /// SHA-256 of its canonical JSON, hex.
    pub fn fingerprint(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("a comparison serialises");
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARE: Measure = Measure {
        name: "renewable_share",
        unit: "fraction",
        more_is_better: true,
    };
    const LOSSES: Measure = Measure {
        name: "losses_kwh",
        unit: "kWh",
        more_is_better: false,
    };

    fn proposal() -> Proposal {
        Proposal {
            id: "p".into(),
            author: "a".into(),
            title: "t".into(),
            rationale: "r".into(),
            change: crate::Change::Text,
            effective: None,
        }
    }

    #[test]
    fn spreads_are_nearest_rank() {
        let v: Vec<f64> = (1..=11).rev().map(f64::from).collect();
        assert_eq!(
            Spread::of(&v),
            Spread {
                median: 6.0,
                p10: 2.0,
                p90: 10.0
            }
        );
        assert_eq!(Spread::of(&[3.0]).p10, 3.0);
    }

    #[test]
    fn verdicts_follow_the_direction_and_the_tolerance() {
        let runs = vec![
            (vec![0.50, 100.0], vec![0.55, 100.2]),
            (vec![0.40, 110.0], vec![0.46, 110.3]),
            (vec![0.60, 90.0], vec![0.65, 95.0]),
        ];
        let c = Comparison::new(&proposal(), 7, vec![1, 2, 3], &[SHARE, LOSSES], &runs);
        // More renewable share is better; losses up 0.3 kWh of 100 is within 0.5 %.
        assert_eq!(c.rows[0].verdict, "better");
        assert!((c.rows[0].difference.median - 0.05).abs() < 1e-12);
        assert_eq!(c.rows[1].verdict, "no change");
        // Losses up 5 % in every seed: worse.
        let worse = vec![(vec![0.5, 100.0], vec![0.5, 105.0])];
        let c2 = Comparison::new(&proposal(), 7, vec![1], &[SHARE, LOSSES], &worse);
        assert_eq!(
            (c2.rows[0].verdict, c2.rows[1].verdict),
            ("no change", "worse")
        );
        // The fingerprint is the comparison's: the same again gives the same, any change not.
        let again = Comparison::new(&proposal(), 7, vec![1, 2, 3], &[SHARE, LOSSES], &runs);
        assert_eq!(c.fingerprint(), again.fingerprint());
        assert_eq!(c.fingerprint().len(), 64);
        let other = Comparison::new(&proposal(), 6, vec![1, 2, 3], &[SHARE, LOSSES], &runs);
        assert_ne!(c.fingerprint(), other.fingerprint());
    }
}
