//! `kos-twin shortcircuit`: I"k, ip, S"k and I"k2 at every bus of a scene or of an
//! `sc-case/1` file, by kos-protection's IEC 60909 calculation.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use kos_protection::sc::{Extremum, ScCase, ScOptions, short_circuit};

use crate::scene::load_scene;

/// Arguments of `kos-twin shortcircuit`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShortCircuitArgs {
    /// A scene (`.ron`) or a short-circuit case (`sc-case/1` JSON).
    pub file: PathBuf,
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Low-voltage tolerance, % (10 gives c_max 1.10 at low voltage, 6 gives 1.05).
    #[arg(long, default_value_t = 10.0)]
    pub lv_tol_percent: f64,
    /// Also write the case in `sc-case/1` form (for pandapower's calc_sc, say) to this file.
    #[arg(long)]
    pub export_case: Option<PathBuf>,
    /// The maximum currents (ratings, grading) or the minimum (protection sensitivity:
    /// c_min, the grid tie's minimum fault level, conductors at their end temperature).
    #[arg(long, value_enum, default_value = "max")]
    pub case: CaseArg,
}

/// `--case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CaseArg {
    /// Maximum currents.
    Max,
    /// Minimum currents.
    Min,
}

/// Reads, computes, and returns the text to print.
pub fn run(args: &ShortCircuitArgs) -> anyhow::Result<String> {
    let case = if args.file.extension().and_then(|e| e.to_str()) == Some("json") {
        let text =
            std::fs::read_to_string(&args.file).with_context(|| args.file.display().to_string())?;
        serde_json::from_str::<ScCase>(&text)
            .map_err(|e| anyhow!("{}:{}:{}: {e}", args.file.display(), e.line(), e.column()))?
    } else {
        let (scene, _) = load_scene(Some(&args.file))?;
        kos_protection::scene::sc_case(&scene)
    };
    if !(args.lv_tol_percent == 6.0 || args.lv_tol_percent == 10.0) {
        return Err(anyhow!(
            "--lv-tol-percent must be 6 or 10, not {}",
            args.lv_tol_percent
        ));
    }
    if let Some(out) = &args.export_case {
        std::fs::write(out, serde_json::to_string_pretty(&case)?)
            .with_context(|| out.display().to_string())?;
    }
    let options = ScOptions {
        lv_tol_percent: args.lv_tol_percent,
        case: match args.case {
            CaseArg::Max => Extremum::Max,
            CaseArg::Min => Extremum::Min,
        },
    };
    let case_name = match args.case {
        CaseArg::Max => "max",
        CaseArg::Min => "min",
    };
    let results =
        short_circuit(&case, &options).map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
    if args.json {
        let out = serde_json::json!({
            "format": "sc-result/1",
            "standard": format!("IEC 60909-0:2016, {case_name}imum case, kappa by method C"),
            "case": case_name,
            "name": case.name,
            "buses": results,
        });
        return Ok(serde_json::to_string_pretty(&out)?);
    }
    let mut s = format!(
        "{:<16} {:>7} {:>9} {:>9} {:>9} {:>9} {:>6}\n",
        "bus", "kV", "Ik\" kA", "ip kA", "Sk\" MVA", "Ik2 kA", "kappa"
    );
    for r in &results {
        if r.energised {
            s.push_str(&format!(
                "{:<16} {:>7.3} {:>9.3} {:>9.3} {:>9.2} {:>9.3} {:>6.3}\n",
                r.id, r.vn_kv, r.ikss_ka, r.ip_ka, r.skss_mva, r.ikss_2ph_ka, r.kappa
            ));
        } else {
            s.push_str(&format!(
                "{:<16} {:>7.3}   de-energised: no source\n",
                r.id, r.vn_kv
            ));
        }
    }
    Ok(s)
}

/// `kos-twin protection ...`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProtectionCommand {
    #[command(subcommand)]
    command: ProtectionSub,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum ProtectionSub {
    /// For a fault at every bus: the device that clears it and when, and every pair of
    /// devices in series that grades by less than the margin.
    Check {
        /// The scene (`.ron`).
        file: PathBuf,
        /// Least grading margin, s.
        #[arg(long, default_value_t = 0.3)]
        margin: f64,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `protection` subcommand and returns the text to print.
pub fn protection(cmd: &ProtectionCommand) -> anyhow::Result<String> {
    let ProtectionSub::Check { file, margin, json } = &cmd.command;
    if !(margin.is_finite() && *margin >= 0.0) {
        return Err(anyhow!(
            "--margin must be zero or more seconds, not {margin}"
        ));
    }
    let (scene, _) = load_scene(Some(file))?;
    let options = kos_protection::check::CheckOptions { margin_s: *margin };
    let c = kos_protection::check::coordination(&scene, &options)
        .map_err(|e| anyhow!("{}: {e}", file.display()))?;
    if *json {
        return Ok(serde_json::to_string_pretty(&c)?);
    }
    let Some(source) = &c.source_bus else {
        return Ok("no source in service: nothing to check".into());
    };
    let mut s = format!(
        "faults fed from {source}; {} devices in the scene\n{:<14} {:>8}  {:<22} {:>10} {:>10}\n",
        scene.protection.len(),
        "fault at",
        "Ik\" kA",
        "cleared by",
        "first ms",
        "isolated ms"
    );
    let ms = |t: Option<f64>| t.map_or("-".to_string(), |t| format!("{t:.0}"));
    for f in &c.faults {
        // A fault on the source's own bus is for the regional grid's protection.
        let who = match &f.cleared_by {
            Some(d) => d.as_str(),
            None if f.bus == *source => "(the source's own)",
            None => "NOT CLEARED",
        };
        s.push_str(&format!(
            "{:<14} {:>8.2}  {:<22} {:>10} {:>10}\n",
            f.bus,
            f.ikss_ka,
            who,
            ms(f.first_interruption_ms),
            ms(f.isolated_ms)
        ));
    }
    if c.violations.is_empty() {
        s.push_str(&format!(
            "every pair of devices in series grades by at least {:.0} ms\n",
            c.margin_ms
        ));
    } else {
        s.push_str(&format!(
            "\n{} pairs grade by less than {:.0} ms:\n{:<14} {:<20} {:<20} {:>9} {:>9} {:>9}\n",
            c.violations.len(),
            c.margin_ms,
            "fault at",
            "upstream",
            "downstream",
            "up ms",
            "down ms",
            "margin"
        ));
        for v in &c.violations {
            s.push_str(&format!(
                "{:<14} {:<20} {:<20} {:>9.0} {:>9.0} {:>9.0}\n",
                v.bus, v.upstream, v.downstream, v.upstream_ms, v.downstream_ms, v.margin_ms
            ));
        }
    }
    let uncleared = c
        .faults
        .iter()
        .filter(|f| f.cleared_by.is_none() && f.bus != *source)
        .count();
    if uncleared > 0 {
        s.push_str(&format!(
            "{uncleared} bus faults are cleared by no device\n"
        ));
    }
    Ok(s)
}
