//! The desktop twin in a real window, and `kos-twin screenshot`, which renders that same
//! window to a PNG file.

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use bevy::app::FixedMain;
use bevy::picking::mesh_picking::MeshPickingPlugin;
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use bevy::window::WindowResolution;
use bevy_egui::EguiPlugin;

use crate::model::AssetTag;
use crate::scene::SceneToLoad;
use crate::sim::SimClock;
use crate::ui::Selection;

/// How to open the desktop twin.
#[derive(Debug, Clone, Default)]
pub struct DesktopOptions {
    /// Scene file; the built-in scene when `None`.
    pub scene: Option<PathBuf>,
    /// Asset to select at start.
    pub select: Option<String>,
    /// Window size in pixels.
    pub size: Option<(u32, u32)>,
    /// MQTT broker to mirror live telemetry from.
    pub mqtt: Option<String>,
    /// Telemetry settings file.
    pub mqtt_config: Option<PathBuf>,
    /// Append to the resource ledger in this directory.
    pub ledger: Option<crate::ledger::LedgerConfig>,
    /// Faults at set times of the run (a prepared drill).
    pub faults: Vec<crate::protection::ScheduledFault>,
    /// Operators' switching at set times of the run.
    pub switching: Vec<crate::protection::ScheduledSwitching>,
    /// Emergency modes on and off at set times of the run.
    pub modes: Vec<crate::protection::ScheduledMode>,
}

/// Arguments of `kos-twin screenshot`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScreenshotArgs {
    /// Scene file (RON); the built-in default scene when left out.
    #[arg(long)]
    pub scene: Option<PathBuf>,
    /// PNG file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Frames to render before the capture.
    #[arg(long, default_value_t = 8)]
    pub frames: u32,
    /// Asset to select (its inspector is shown).
    #[arg(long)]
    pub select: Option<String>,
    /// Asset to click in the 3D view before the capture (through the picking backend, as a
    /// mouse click would).
    #[arg(long)]
    pub click: Option<String>,
    /// Window width, pixels.
    #[arg(long, default_value_t = 1280)]
    pub width: u32,
    /// Window height, pixels.
    #[arg(long, default_value_t = 720)]
    pub height: u32,
    /// Simulated minutes to run before the capture (the charts fill with them).
    #[arg(long, default_value_t = 1)]
    pub ticks: u64,
    /// A fault at a minute of the run, `ASSET@MINUTES[:temporary]` as for `headless`; the
    /// Protection window then opens on its timeline.
    #[arg(long = "fault")]
    pub faults: Vec<crate::protection::ScheduledFault>,
    /// An operator's switching at a minute of the run, `BRANCH@MINUTES:open|close`.
    #[arg(long = "switch")]
    pub switching: Vec<crate::protection::ScheduledSwitching>,
    /// An emergency mode on at a minute of the run (`storm@0`), or off (`storm@120:off`).
    #[arg(long = "mode")]
    pub modes: Vec<crate::protection::ScheduledMode>,
}

/// What the screenshot mode still has to do.
#[derive(Resource, Debug, Clone)]
struct ShotPlan {
    ticks: u64,
    out: PathBuf,
    frames: u32,
    click: Option<String>,
    requested: bool,
    saved: bool,
}

/// Asset to select once the scene is spawned.
#[derive(Resource, Debug, Clone)]
struct SelectAtStart(String);

fn build(options: &DesktopOptions, shot: Option<ShotPlan>) -> anyhow::Result<App> {
    let (scene, _) = crate::scene::load_scene(options.scene.as_deref())?;
    if let Some(id) = &options.select {
        let known = scene
            .buses
            .iter()
            .map(|x| &x.id)
            .chain(scene.lines.iter().map(|x| &x.id))
            .chain(scene.transformers.iter().map(|x| &x.id))
            .chain(scene.switches.iter().map(|x| &x.id))
            .chain(scene.generators.iter().map(|x| &x.id))
            .chain(scene.storage.iter().map(|x| &x.id))
            .chain(scene.loads.iter().map(|x| &x.id))
            .chain(scene.pods.iter().map(|x| &x.id))
            .chain(scene.depots.iter().map(|x| &x.id))
            .chain(scene.routes.iter().map(|x| &x.id))
            .any(|x| x == id);
        if !known {
            bail!("--select {id}: no asset with that id in the scene");
        }
    }
    let mirrored = options.mqtt.is_some() || options.mqtt_config.is_some();
    #[cfg(not(target_arch = "wasm32"))]
    let live = if options.mqtt.is_some() || options.mqtt_config.is_some() {
        let config = match &options.mqtt_config {
            Some(p) => {
                crate::telemetry::config::TelemetryConfig::load(p).map_err(|e| anyhow!(e))?
            }
            None => Default::default(),
        };
        Some(
            config
                .resolve(options.mqtt.as_deref(), &scene.site.name)
                .map_err(|e| anyhow!(e))?,
        )
    } else {
        None
    };
    let (w, h) = options.size.unwrap_or((1280, 720));
    let window = Window {
        title: format!("kos-twin: {}", scene.site.name),
        resolution: WindowResolution::new(w, h),
        ..default()
    };
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(window),
                ..default()
            })
            // A screenshot must show the finished scene, not the frames before the shaders
            // are compiled.
            .set(RenderPlugin {
                synchronous_pipeline_compilation: shot.is_some(),
                ..default()
            }),
    )
    .add_plugins((EguiPlugin::default(), MeshPickingPlugin))
    .insert_resource(SceneToLoad(scene.clone()))
    .add_plugins((crate::simulation_plugin, crate::presentation_plugin))
    .add_systems(PostStartup, first_tick);
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(conn) = live {
        crate::telemetry::connect(&mut app, &conn).map_err(|e| anyhow!(e))?;
    }
    if let Some(config) = &options.ledger {
        crate::ledger::attach(&mut app, config, &scene)?;
    }
    // A live mirror follows the real breakers: the twin trips nothing on its own.
    let config = crate::protection::ProtectionConfig {
        cascade: (!mirrored).then(Default::default),
        ..Default::default()
    };
    if options.faults.is_empty() && options.switching.is_empty() && options.modes.is_empty() {
        app.world_mut()
            .resource_mut::<crate::protection::Protection>()
            .config = config;
    } else {
        let schedule = crate::protection::Schedule {
            faults: options.faults.clone(),
            switching: options.switching.clone(),
            modes: options.modes.clone(),
            ..Default::default()
        };
        crate::protection::attach(&mut app, schedule, config);
    }
    if let Some(id) = &options.select {
        app.insert_resource(SelectAtStart(id.clone()))
            .add_systems(PostStartup, select_at_start);
    }
    if let Some(plan) = shot {
        // The picture shows the state after the first tick, whatever the renderer's speed.
        app.insert_resource(plan)
            .add_systems(PostStartup, pause_clock.after(first_tick))
            .add_systems(Update, (click_asset, capture));
    }
    Ok(app)
}

/// Solves the grid before the first frame, so the view opens on a solved state: one tick,
/// or the screenshot's `--ticks`.
fn first_tick(world: &mut World) {
    if world.contains_resource::<SimClock>() {
        let n = world.get_resource::<ShotPlan>().map_or(1, |p| p.ticks);
        for _ in 0..n {
            world.run_schedule(FixedMain);
        }
    }
}

fn pause_clock(clock: Option<ResMut<SimClock>>) {
    if let Some(mut clock) = clock {
        clock.paused = true;
    }
}

fn select_at_start(
    want: Res<SelectAtStart>,
    assets: Query<(Entity, &AssetTag)>,
    mut selection: ResMut<Selection>,
) {
    selection.0 = assets.iter().find(|(_, id)| id.0 == want.0).map(|(e, _)| e);
}

/// Clicks the `--click` asset: the pointer moves onto its shape, presses and releases over
/// three frames, half-way to the capture.
fn click_asset(
    plan: Res<ShotPlan>,
    mut frame: Local<u32>,
    visuals: Query<(&crate::view::VisualOf, &GlobalTransform)>,
    tags: Query<&AssetTag>,
    cameras: Query<(&Camera, &GlobalTransform)>,
    windows: Query<Entity, With<bevy::window::PrimaryWindow>>,
    mut input: MessageWriter<bevy::picking::pointer::PointerInput>,
) {
    use bevy::picking::pointer::{Location, PointerAction, PointerButton, PointerId, PointerInput};
    use bevy::window::WindowRef;
    let Some(id) = plan.click.as_deref() else {
        return;
    };
    *frame += 1;
    let start = plan.frames / 2;
    if *frame < start || *frame > start + 4 {
        return;
    }
    let Some(at) = visuals
        .iter()
        .find(|(v, _)| tags.get(v.0).is_ok_and(|t| t.0 == id))
        .map(|(_, t)| t.translation())
    else {
        return;
    };
    let (Ok((camera, camera_at)), Ok(window)) = (cameras.single(), windows.single()) else {
        return;
    };
    // Aim a little above the base of the shape.
    let Ok(position) = camera.world_to_viewport(camera_at, at + Vec3::Y * 8.0) else {
        return;
    };
    let Some(target) =
        bevy::camera::RenderTarget::Window(WindowRef::Entity(window)).normalize(Some(window))
    else {
        return;
    };
    let location = Location { target, position };
    let action = match *frame - start {
        0 => PointerAction::Move { delta: Vec2::ZERO },
        2 => PointerAction::Press(PointerButton::Primary),
        4 => PointerAction::Release(PointerButton::Primary),
        _ => return,
    };
    input.write(PointerInput::new(PointerId::Mouse, location, action));
}

fn capture(
    mut commands: Commands,
    mut plan: ResMut<ShotPlan>,
    mut frame: Local<u32>,
    mut exit: MessageWriter<AppExit>,
) {
    *frame += 1;
    if !plan.requested && *frame >= plan.frames {
        plan.requested = true;
        let _ = std::fs::remove_file(&plan.out);
        let mut save = save_to_disk(plan.out.clone());
        commands.spawn(Screenshot::primary_window()).observe(
            move |shot: On<ScreenshotCaptured>, mut plan: ResMut<ShotPlan>| {
                save(shot);
                plan.saved = true;
            },
        );
    }
    if plan.saved && std::fs::metadata(&plan.out).is_ok_and(|m| m.len() > 0) {
        exit.write(AppExit::Success);
    } else if *frame > plan.frames + 600 {
        error!("the screenshot was not written after 600 frames");
        exit.write(AppExit::error());
    }
}

/// Opens the desktop twin and runs until the window is closed.
pub fn run(options: DesktopOptions) -> anyhow::Result<()> {
    match build(&options, None)?.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(anyhow!("the twin stopped with code {code}")),
    }
}

/// Renders the desktop view to a PNG file.
pub fn screenshot(args: &ScreenshotArgs) -> anyhow::Result<()> {
    let options = DesktopOptions {
        scene: args.scene.clone(),
        select: args.select.clone(),
        size: Some((args.width, args.height)),
        faults: args.faults.clone(),
        switching: args.switching.clone(),
        modes: args.modes.clone(),
        ..Default::default()
    };
    let plan = ShotPlan {
        ticks: args.ticks.max(1),
        out: args.out.clone(),
        frames: args.frames.max(1),
        click: args.click.clone(),
        requested: false,
        saved: false,
    };
    match build(&options, Some(plan))?.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(anyhow!("rendering failed with code {code}")),
    }
}
