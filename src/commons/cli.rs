//! `kos-twin allocate`: the commons' allocator on its own, for use outside the twin and for
//! checks (problem and result schema: docs/commons.md).

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use kos_commons::{Problem, allocate};
use serde_json::json;

/// Arguments of `kos-twin allocate`.
#[derive(Debug, Clone, clap::Args)]
pub struct AllocateArgs {
    /// The problem (JSON: resources, capacities, consumers with demands, weights and
    /// minimums, network limits).
    pub problem: PathBuf,
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Reads, allocates, and returns the text to print.
pub fn run(args: &AllocateArgs) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(&args.problem)
        .with_context(|| args.problem.display().to_string())?;
    let p = Problem::from_json(&text).map_err(|e| anyhow!("{}:{e}", args.problem.display()))?;
    let a = allocate(&p);
    if args.json {
        let consumers: Vec<_> = p
            .consumers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({
                    "id": c.id,
                    "amounts": a.amounts[i],
                    "satisfied": a.satisfied[i],
                    "dominant_share": a.dominant_share[i],
                    "weighted_share": a.weighted_share[i],
                })
            })
            .collect();
        let out = json!({
            "resources": p.resources,
            "consumers": consumers,
            "shortfalls": a.shortfalls,
            "jain": a.jain,
            "jain_served": a.jain_served,
        });
        return Ok(serde_json::to_string_pretty(&out)?);
    }
    let mut s = format!("{:<20}", "consumer");
    for r in &p.resources {
        s.push_str(&format!(" {r:>14}"));
    }
    s.push_str("  satisfied  dominant\n");
    for (i, c) in p.consumers.iter().enumerate() {
        s.push_str(&format!("{:<20}", c.id));
        for x in &a.amounts[i] {
            s.push_str(&format!(" {x:>14.3}"));
        }
        s.push_str(&format!(
            "  {:>8.1} %  {:>8.4}\n",
            a.satisfied[i] * 100.0,
            a.dominant_share[i]
        ));
    }
    for f in &a.shortfalls {
        s.push_str(&format!(
            "SHORT: {} (priority {}) misses {:.3} of its minimum {:.3} {}\n",
            f.consumer, f.priority, f.missing, f.minimum, f.resource
        ));
    }
    s.push_str(&format!(
        "Jain's index of the weighted shares: {:.4}; of the fractions served: {:.4}",
        a.jain, a.jain_served
    ));
    Ok(s)
}
