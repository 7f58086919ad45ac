//! `kos-twin headless`: run a scene for a number of ticks with no window and write a report.

use std::path::PathBuf;

use anyhow::Context;

use crate::report::build_report;
use crate::sim::{SimClock, run_ticks};
use crate::testing::headless_app;

/// Arguments of `kos-twin headless`.
#[derive(Debug, Clone, clap::Args)]
pub struct HeadlessArgs {
    /// Scene file (RON); the built-in default scene when left out.
    #[arg(long)]
    pub scene: Option<PathBuf>,
    /// Ticks to run (one simulated minute each).
    #[arg(long, default_value_t = 60)]
    pub ticks: u64,
    /// Seed of every random process (overrides the scene's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to write the JSON report ("-" for standard output).
    #[arg(long, default_value = "-")]
    pub report: String,
    /// Also write the final state of the world as a scene file.
    #[arg(long)]
    pub save_scene: Option<PathBuf>,
}

/// Runs the scene and writes the report. Returns the report text.
pub fn run(args: &HeadlessArgs) -> anyhow::Result<String> {
    let (mut scene, name) = crate::cli::load_scene(args.scene.as_deref())?;
    if let Some(seed) = args.seed {
        scene.site.seed = seed;
    }
    let mut app = headless_app(&scene);
    if let Some(seed) = args.seed {
        app.world_mut().resource_mut::<SimClock>().seed = seed;
    }
    run_ticks(&mut app, args.ticks);
    let report = build_report(app.world_mut(), &name);
    let text = serde_json::to_string(&report)? + "\n";
    if args.report == "-" {
        print!("{text}");
    } else {
        std::fs::write(&args.report, &text).with_context(|| format!("writing {}", args.report))?;
    }
    if let Some(path) = &args.save_scene {
        let saved = crate::scene::save_scene(app.world_mut());
        std::fs::write(path, kos_scene::to_ron(&saved))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(text)
}
