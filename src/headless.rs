//! `kos-twin headless`: run a scene for a number of ticks with no window and write a report.

use std::path::PathBuf;

use anyhow::Context;

use crate::app::headless_app;
use crate::report::build_report;
use crate::sim::{SimClock, run_ticks};

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
    /// Append what the run produces to the resource ledger in this directory (created when
    /// missing; an existing log is continued), or under `s3://BUCKET/PREFIX` in a build with
    /// the `s3` feature.
    #[arg(long)]
    pub ledger: Option<crate::ledger::Place>,
    /// The ledger's private key file (created, owner-only, when missing). Default:
    /// `$KOS_LEDGER_KEY`, else `<ledger dir>.key`.
    #[arg(long, requires = "ledger")]
    pub ledger_key: Option<PathBuf>,
    /// A fault at a time of the run: `ASSET@MINUTES` (permanent) or
    /// `ASSET@MINUTES:temporary`, on a bus, line, transformer or switch; repeatable. The
    /// protection devices operate, FLISR follows, and the report gains a `protection` object.
    #[arg(long = "fault")]
    pub faults: Vec<crate::protection::ScheduledFault>,
    /// An operator's switching at a time of the run: `BRANCH@MINUTES:open` or
    /// `BRANCH@MINUTES:close`; repeatable. Closing two live islands together is refused.
    #[arg(long = "switch")]
    pub switching: Vec<crate::protection::ScheduledSwitching>,
    /// Everything goes dark at this minute of the run (the grid tie lost, every breaker
    /// open) and the grid-forming battery black-starts the community.
    #[arg(long, value_name = "MINUTES")]
    pub black_start: Option<f64>,
    /// An emergency mode of the scene on at a minute of the run (`heat-wave@0`), or off
    /// (`storm@120:off`); repeatable.
    #[arg(long = "mode")]
    pub modes: Vec<crate::protection::ScheduledMode>,
    /// A passed proposal enacted at a minute of the run: `FILE@MINUTES` (RON or JSON,
    /// docs/governance.md); repeatable. The report gains a `governance` object and the ledger
    /// a `governance` entry.
    #[arg(long = "enact", value_name = "FILE@MINUTES")]
    pub enact: Vec<crate::governance::ScheduledEnactment>,
    /// Cold-load pickup of the black start: draw at pickup as a multiple of normal demand.
    #[arg(long, default_value_t = 2.0)]
    pub cold_load_multiple: f64,
    /// Cold-load pickup of the black start: minutes for its excess to decay by 1/e.
    #[arg(long, default_value_t = 10.0)]
    pub cold_load_minutes: f64,
    /// Leave overloaded branches in (no cascading trips).
    #[arg(long)]
    pub no_cascade: bool,
    /// Cascades: a branch above its rating for more than this many consecutive ticks trips
    /// (Grid2Op's NB_TIMESTEP_OVERFLOW_ALLOWED).
    #[arg(long, default_value_t = 2)]
    pub cascade_steps: u32,
    /// Cascades: a branch above this multiple of its rating trips at once (Grid2Op's
    /// HARD_OVERFLOW_THRESHOLD).
    #[arg(long, default_value_t = 2.0)]
    pub cascade_hard_ratio: f64,
    /// Cascades: ticks a tripped branch stays out before it may be reconnected (Grid2Op's
    /// NB_TIMESTEP_RECONNECTION).
    #[arg(long, default_value_t = 10)]
    pub cascade_cooldown: u32,
    /// Seconds from a lockout to FLISR's switching.
    #[arg(long, default_value_t = 60.0)]
    pub flisr_delay: f64,
    /// FLISR advises (events) and switches nothing: the trainee does.
    #[arg(long)]
    pub advise_only: bool,
    /// Interruptions at least this long are sustained (IEEE 1366: 300 s; EN 50160: 180 s).
    #[arg(long, default_value_t = 300.0)]
    pub sustained_seconds: f64,
    /// Simulated seconds per tick.
    #[arg(long, default_value_t = 60)]
    pub tick_seconds: i64,
    /// Run live against this MQTT broker (`mqtt://host:port`, `mqtts://...`): ticks are
    /// paced by the wall clock at the clock's speed and telemetry is applied between them.
    /// `--ticks` is then ignored; the run lasts `--wall-seconds`.
    #[arg(long)]
    pub mqtt: Option<String>,
    /// Telemetry settings file (RON: broker, site, credentials, TLS, limits).
    #[arg(long)]
    pub mqtt_config: Option<PathBuf>,
    /// Wall-clock seconds a live run lasts.
    #[arg(long, default_value_t = 10.0)]
    pub wall_seconds: f64,
    /// Simulated seconds per wall second in a live run (default: the clock's, 600).
    #[arg(long)]
    pub speed: Option<f64>,
    /// End a live run early once this many telemetry messages were handled (applied or
    /// rejected).
    #[arg(long)]
    pub until_messages: Option<u64>,
    /// End a live run early once telemetry has come and then none came for this many
    /// wall seconds.
    #[arg(long)]
    pub until_idle: Option<f64>,
}

/// Runs the scene and writes the report. Returns the report text.
pub fn run(args: &HeadlessArgs) -> anyhow::Result<String> {
    let (mut scene, name) = crate::scene::load_scene(args.scene.as_deref())?;
    if let Some(seed) = args.seed {
        scene.site.seed = seed;
    }
    let mut app = headless_app(&scene);
    if let Some(seed) = args.seed {
        app.world_mut().resource_mut::<SimClock>().seed = seed;
    }
    anyhow::ensure!(
        (1..=3600).contains(&args.tick_seconds),
        "--tick-seconds must lie in 1..=3600, not {}",
        args.tick_seconds
    );
    app.world_mut().resource_mut::<SimClock>().tick_s = args.tick_seconds;
    let live = args.mqtt.is_some() || args.mqtt_config.is_some();
    let engaged = !args.faults.is_empty()
        || !args.switching.is_empty()
        || args.black_start.is_some()
        || !args.modes.is_empty();
    anyhow::ensure!(
        args.flisr_delay.is_finite() && args.flisr_delay >= 0.0,
        "--flisr-delay must be zero or more seconds"
    );
    anyhow::ensure!(
        args.sustained_seconds.is_finite() && args.sustained_seconds > 0.0,
        "--sustained-seconds must be a positive number"
    );
    anyhow::ensure!(
        args.black_start.is_none_or(|m| m.is_finite() && m >= 0.0),
        "--black-start must be zero or more minutes"
    );
    anyhow::ensure!(
        args.cold_load_multiple.is_finite() && args.cold_load_multiple >= 1.0,
        "--cold-load-multiple must be 1 or more"
    );
    anyhow::ensure!(
        args.cold_load_minutes.is_finite() && args.cold_load_minutes > 0.0,
        "--cold-load-minutes must be a positive number"
    );
    anyhow::ensure!(
        args.cascade_hard_ratio.is_finite() && args.cascade_hard_ratio > 1.0,
        "--cascade-hard-ratio must be a number above 1"
    );
    let config = crate::protection::ProtectionConfig {
        flisr_delay_s: args.flisr_delay,
        advise_only: args.advise_only,
        sustained_threshold_s: args.sustained_seconds,
        // A live mirror follows the real breakers: the twin trips nothing on its own.
        cascade: (!args.no_cascade && !live).then_some(kos_protection::cascade::CascadeRules {
            hard_overflow_ratio: args.cascade_hard_ratio,
            steps_allowed: args.cascade_steps,
            cooldown_steps: args.cascade_cooldown,
        }),
        black_start: kos_protection::blackstart::BlackStartOptions {
            clpu_multiple: args.cold_load_multiple,
            clpu_decay_s: args.cold_load_minutes * 60.0,
            ..Default::default()
        },
    };
    let schedule = crate::protection::Schedule {
        faults: args.faults.clone(),
        switching: args.switching.clone(),
        black_start_at_s: args.black_start.map(|m| m * 60.0),
        modes: args.modes.clone(),
    };
    crate::protection::attach(&mut app, schedule, config);
    if !engaged {
        app.world_mut()
            .resource_mut::<crate::protection::Protection>()
            .engaged = false;
    }
    if !args.enact.is_empty() {
        crate::governance::attach(&mut app, &args.enact)?;
    }
    if let Some(place) = &args.ledger {
        let config = crate::ledger::LedgerConfig {
            place: place.clone(),
            key: args.ledger_key.clone(),
        };
        crate::ledger::attach(&mut app, &config, &scene)?;
    }
    if live {
        #[cfg(not(target_arch = "wasm32"))]
        run_live(&mut app, args, &scene.site.name)?;
        #[cfg(target_arch = "wasm32")]
        anyhow::bail!("--mqtt needs a native build");
    } else {
        run_ticks(&mut app, args.ticks);
    }
    let mut report = build_report(app.world_mut(), &name);
    // Only live runs have the key: reports of runs without telemetry stay as they were.
    #[cfg(not(target_arch = "wasm32"))]
    if let (Some(t), Some(o)) = (
        crate::telemetry::report_section(app.world()),
        report.as_object_mut(),
    ) {
        o.insert("telemetry".into(), t);
    }
    let ledger = app.world().get_resource::<crate::ledger::Ledger>();
    if let (Some(l), Some(o)) = (ledger, report.as_object_mut()) {
        o.insert("ledger".into(), l.report());
    }
    let enacted = app.world().get_resource::<crate::governance::Enactments>();
    if let (Some(g), Some(o)) = (enacted, report.as_object_mut()) {
        o.insert(
            "governance".into(),
            serde_json::json!({ "enacted": g.done }),
        );
    }
    let protection = app.world().get_resource::<crate::protection::Protection>();
    if let (Some(p), Some(o)) = (protection.filter(|p| p.in_report()), report.as_object_mut()) {
        let now = app.world().resource::<SimClock>().elapsed_s as f64;
        o.insert("protection".into(), p.report(&scene, now));
    }
    let text = serde_json::to_string(&report)? + "\n";
    if args.report == "-" {
        print!("{text}");
    } else {
        std::fs::write(&args.report, &text).with_context(|| format!("writing {}", args.report))?;
    }
    if let Some(path) = &args.save_scene {
        let mut saved = crate::scene::save_scene(app.world_mut());
        // The normal settings, whatever emergency mode is on.
        if let Some(p) = app.world().get_resource::<crate::protection::Protection>() {
            p.normal_scene(&mut saved);
        }
        std::fs::write(path, kos_scene::to_ron(&saved))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(e) = app
        .world()
        .get_resource::<crate::ledger::Ledger>()
        .and_then(|l| l.error.clone())
    {
        anyhow::bail!(e);
    }
    Ok(text)
}

#[cfg(not(target_arch = "wasm32"))]
/// A live run: ticks at the clock's speed on the wall clock, telemetry applied as it comes in
/// between them, for `--wall-seconds`.
fn run_live(app: &mut bevy::app::App, args: &HeadlessArgs, site_name: &str) -> anyhow::Result<()> {
    use std::time::{Duration, Instant};

    use crate::telemetry::{TelemetryStats, config::TelemetryConfig, connect, pump};

    let config = match &args.mqtt_config {
        Some(p) => TelemetryConfig::load(p).map_err(|e| anyhow::anyhow!(e))?,
        None => TelemetryConfig::default(),
    };
    let conn = config
        .resolve(args.mqtt.as_deref(), site_name)
        .map_err(|e| anyhow::anyhow!(e))?;
    connect(app, &conn).map_err(|e| anyhow::anyhow!(e))?;
    if let Some(speed) = args.speed {
        anyhow::ensure!(
            speed.is_finite() && speed > 0.0,
            "--speed must be a positive number"
        );
        app.world_mut().resource_mut::<SimClock>().speed = speed;
    }
    let per_tick =
        Duration::from_secs_f64(app.world().resource::<SimClock>().real_seconds_per_tick());
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.wall_seconds.max(0.0));
    let mut next_tick = start;
    let mut last_message: Option<Instant> = None;
    let idle = args.until_idle.map(|s| Duration::from_secs_f64(s.max(0.0)));
    loop {
        let now = Instant::now();
        let done = now >= end
            || matches!((idle, last_message), (Some(i), Some(l)) if now - l >= i)
            || args
                .until_messages
                .is_some_and(|n| app.world().resource::<TelemetryStats>().handled() >= n);
        if done {
            break;
        }
        if now >= next_tick {
            run_ticks(app, 1);
            next_tick += per_tick;
            if next_tick < now {
                // Behind (a slow tick): skip rather than run a burst of catch-up ticks.
                next_tick = now + per_tick;
            }
            continue;
        }
        // Wait for telemetry until the next tick, in short slices to notice the end.
        let slice = next_tick.min(end).min(now + Duration::from_millis(20));
        if pump(app.world_mut(), Some(slice)) > 0 {
            last_message = Some(Instant::now());
        }
    }
    // What arrived after the last tick still counts.
    pump(app.world_mut(), None);
    Ok(())
}
