//! `kos-twin proposal simulate`: a proposal against the baseline before the vote. The scene
//! with the proposal applied (kos-governance's `apply`) and the scene as it is run side by
//! side, headless, with the same seed, weather and demands, over the horizon; the measures of
//! each are compared by kos-governance's `Comparison`, with a verdict per measure and a
//! fingerprint, so that it can be frozen before voting opens and reproduced.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use kos_governance::{Comparison, Measure};
use kos_scene::{GeneratorKind, GeneratorSpec, LoadSpec, PodSpec, Priority, Scene, StorageSpec};
use serde::Serialize;

use crate::commons::CommonsState;
use crate::model::*;
use crate::report::ReportLog;
use crate::sim::wear::BatteryWear;

/// Arguments of `kos-twin proposal simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// The scene (RON); the built-in default scene when left out.
    #[arg(long)]
    pub scene: Option<PathBuf>,
    /// The proposal (RON or JSON; docs/governance.md).
    #[arg(long)]
    pub proposal: PathBuf,
    /// Days to simulate.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Weather seeds: the scene's seed and the next ones (the spread is reported).
    #[arg(long, default_value_t = 1)]
    pub seeds: u32,
    /// Where to write the comparison (JSON; "-" for standard output).
    #[arg(long, default_value = "-")]
    pub report: String,
}

/// `kos-twin proposal ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ProposalCommand {
    /// Run a proposal against the baseline and compare them.
    Simulate(SimulateArgs),
}

/// The measures of one run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Measures {
    pub renewable_share: f64,
    pub served_kwh: f64,
    pub unserved_critical_kwh: f64,
    pub unserved_essential_kwh: f64,
    pub unserved_deferrable_kwh: f64,
    pub import_kwh: f64,
    pub losses_kwh: f64,
    pub curtailed_kwh: f64,
    pub peak_loading_pct: f64,
    pub lowest_voltage_pu: f64,
    pub battery_cycles: f64,
    pub battery_capacity_lost_pct: f64,
    pub jain: f64,
}

/// Each measure's name, unit, getter and whether more is better.
type Getter = (&'static str, &'static str, fn(&Measures) -> f64, bool);

const MEASURES: [Getter; 13] = [
    ("renewable_share", "fraction", |m| m.renewable_share, true),
    ("served_kwh", "kWh", |m| m.served_kwh, true),
    (
        "unserved_critical_kwh",
        "kWh",
        |m| m.unserved_critical_kwh,
        false,
    ),
    (
        "unserved_essential_kwh",
        "kWh",
        |m| m.unserved_essential_kwh,
        false,
    ),
    (
        "unserved_deferrable_kwh",
        "kWh",
        |m| m.unserved_deferrable_kwh,
        false,
    ),
    ("import_kwh", "kWh", |m| m.import_kwh, false),
    ("losses_kwh", "kWh", |m| m.losses_kwh, false),
    ("curtailed_kwh", "kWh", |m| m.curtailed_kwh, false),
    ("peak_loading_pct", "%", |m| m.peak_loading_pct, false),
    ("lowest_voltage_pu", "pu", |m| m.lowest_voltage_pu, true),
    (
        "battery_cycles",
        "equivalent full cycles",
        |m| m.battery_cycles,
        false,
    ),
    (
        "battery_capacity_lost_pct",
        "%",
        |m| m.battery_capacity_lost_pct,
        false,
    ),
    ("jain", "index", |m| m.jain, true),
];

/// Runs a scene headless for `days` and measures it.
pub fn measure(scene: &Scene, days: u32) -> Measures {
    let mut app = crate::app::headless_app(scene);
    let tick_s = app.world().resource::<crate::sim::SimClock>().tick_s.max(1);
    let dt_h = tick_s as f64 / 3600.0;
    let ticks = u64::from(days) * 86_400 / tick_s as u64;
    let mut m = Measures::default();
    let (mut renewable, mut jain_sum, mut short_ticks) = (0.0, 0.0, 0u64);
    for _ in 0..ticks {
        crate::sim::run_ticks(&mut app, 1);
        let world = app.world_mut();
        let mut consumers =
            world.query::<(&Demand, Option<&Spec<LoadSpec>>, Option<&Spec<PodSpec>>)>();
        for (d, load, pod) in consumers.iter(world) {
            let unserved = if d.served {
                d.p_kw * (1.0 - d.fraction)
            } else {
                d.p_kw
            } * dt_h;
            let priority = load.map(|l| l.priority).or(pod.map(|p| p.priority));
            match priority {
                Some(Priority::Critical) => m.unserved_critical_kwh += unserved,
                Some(Priority::Essential) => m.unserved_essential_kwh += unserved,
                Some(Priority::Deferrable) => m.unserved_deferrable_kwh += unserved,
                None => {}
            }
        }
        let mut units = world.query::<(&UnitOutput, &Spec<GeneratorSpec>)>();
        for (out, spec) in units.iter(world) {
            if matches!(
                spec.kind,
                GeneratorKind::Solar { .. }
                    | GeneratorKind::Wind { .. }
                    | GeneratorKind::Module { .. }
            ) {
                renewable += out.p_kw.max(0.0) * dt_h;
            }
        }
        let state = world.resource::<CommonsState>();
        if let Some(short) = state.power.iter().find(|i| i.outcome.short) {
            jain_sum += short.outcome.jain;
            short_ticks += 1;
        }
    }
    let log = app.world().resource::<ReportLog>();
    m.lowest_voltage_pu = f64::INFINITY;
    for t in &log.ticks {
        m.served_kwh += t.served_kw * dt_h;
        m.import_kwh += t.import_kw.max(0.0) * dt_h;
        m.losses_kwh += t.losses_kw * dt_h;
        m.curtailed_kwh += t.curtailed_kw * dt_h;
        m.peak_loading_pct = m.peak_loading_pct.max(t.max_loading_pct);
        m.lowest_voltage_pu = m.lowest_voltage_pu.min(t.min_vm_pu);
    }
    m.renewable_share = if m.served_kwh > 0.0 {
        renewable / m.served_kwh
    } else {
        0.0
    };
    m.jain = if short_ticks > 0 {
        jain_sum / short_ticks as f64
    } else {
        1.0
    };
    let world = app.world_mut();
    let mut batteries = world.query::<(&BatteryWear, &Spec<StorageSpec>)>();
    let wear: Vec<(f64, f64)> = batteries
        .iter(world)
        .map(|(w, _)| (w.equivalent_full_cycles, 1.0 - w.capacity_factor))
        .collect();
    if !wear.is_empty() {
        let n = wear.len() as f64;
        m.battery_cycles = wear.iter().map(|w| w.0).sum::<f64>() / n;
        m.battery_capacity_lost_pct = wear.iter().map(|w| w.1).sum::<f64>() / n * 100.0;
    }
    m
}

/// The comparison of the runs, seed by seed.
fn compare(
    p: &kos_governance::Proposal,
    days: u32,
    seeds: Vec<u64>,
    runs: &[(Measures, Measures)],
) -> Comparison {
    let measures: Vec<Measure> = MEASURES
        .iter()
        .map(|&(name, unit, _, more_is_better)| Measure {
            name,
            unit,
            more_is_better,
        })
        .collect();
    let values = |m: &Measures| MEASURES.iter().map(|x| (x.2)(m)).collect::<Vec<f64>>();
    let runs: Vec<(Vec<f64>, Vec<f64>)> =
        runs.iter().map(|r| (values(&r.0), values(&r.1))).collect();
    Comparison::new(p, days, seeds, &measures, &runs)
}

/// Runs `kos-twin proposal ...`.
pub fn run(c: &ProposalCommand) -> anyhow::Result<String> {
    let ProposalCommand::Simulate(a) = c;
    if a.days == 0 || a.days > 366 || a.seeds == 0 || a.seeds > 1000 {
        return Err(anyhow!(
            "--days must lie in 1..=366 and --seeds in 1..=1000"
        ));
    }
    let (scene, _) = crate::scene::load_scene(a.scene.as_deref())?;
    let text =
        std::fs::read_to_string(&a.proposal).with_context(|| a.proposal.display().to_string())?;
    let p = kos_governance::proposal::parse(&text, &a.proposal.display().to_string())?;
    let changed = kos_governance::apply(&p, &scene)?;
    let seeds: Vec<u64> = (0..u64::from(a.seeds))
        .map(|k| scene.site.seed + k)
        .collect();
    let bar = indicatif::ProgressBar::new(u64::from(a.seeds) * 2);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs {elapsed}")
            .expect("a template"),
    );
    let mut runs = Vec::new();
    for &seed in &seeds {
        let with_seed = |s: &Scene| {
            let mut s = s.clone();
            s.site.seed = seed;
            s
        };
        let (base, prop) = (with_seed(&scene), with_seed(&changed));
        // The baseline and the proposal side by side, one on each core.
        let pair = std::thread::scope(|sc| {
            let b = sc.spawn(|| measure(&base, a.days));
            let q = sc.spawn(|| measure(&prop, a.days));
            (b.join(), q.join())
        });
        let (Ok(b), Ok(q)) = pair else {
            return Err(anyhow!("a run of seed {seed} failed"));
        };
        bar.inc(2);
        runs.push((b, q));
    }
    bar.finish_and_clear();
    let comparison = compare(&p, a.days, seeds, &runs);
    let fingerprint = comparison.fingerprint();
    let out = serde_json::json!({
        "fingerprint": fingerprint,
        "comparison": comparison,
    });
    let text = serde_json::to_string_pretty(&out)?;
    if a.report == "-" {
        return Ok(text);
    }
    std::fs::write(&a.report, &text).with_context(|| a.report.clone())?;
    let lines: Vec<String> = comparison
        .rows
        .iter()
        .map(|r| {
            format!(
                "{:<28} {:>14.4} {:>14.4}  {}",
                r.measure, r.baseline.median, r.proposal.median, r.verdict
            )
        })
        .collect();
    Ok(format!(
        "{}: {} ({} days, {} seed{})\n{:<28} {:>14} {:>14}\n{}\nfingerprint {fingerprint}\nwritten to {}",
        p.id,
        p.title,
        a.days,
        a.seeds,
        if a.seeds == 1 { "" } else { "s" },
        "measure (median)",
        "baseline",
        "proposal",
        lines.join("\n"),
        a.report
    ))
}
