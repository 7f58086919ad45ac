//! The twin in the browser, for citizens: the simulation on the embedded default scene with
//! the built-in telemetry simulator, the 3D view in the page's `#bevy` canvas, and the
//! citizens' overlay ([`crate::ui::citizen`]). No operator controls.
//!
//! The page learns of progress through attributes on `<html>`: `data-first-frame` (the
//! page's `performance.now()` in ms when the first frame was drawn) and `data-frames` (frames
//! drawn). With `?mqtt=ws://host:port` in the page's address, each citizen report is also
//! published as JSON to `kos/v1/{site}/citizen/report` over the browser's WebSocket.
//!
//! With `?ledger=URL&vkey=KEY` the page checks that a home's or pod's entries are in the
//! published ledger with its own verifier (`web/ledger.js`): the citizens' view asks through
//! `data-ledger-request` on `<html>` and shows the verdict the page writes to
//! `data-ledger-asset`, `-state` and `-text`; a check asked for in the address (`&asset=ID`)
//! chooses that home or pod in the view. The view's choice is mirrored to `data-citizen-pod`.

use std::cell::RefCell;
use std::collections::VecDeque;

use bevy::app::FixedMain;
use bevy::picking::mesh_picking::MeshPickingPlugin;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::EguiPlugin;
use web_sys::{BinaryType, UrlSearchParams, WebSocket};

use crate::model::SiteInfo;
use crate::scene::{SceneToLoad, default_scene};
use crate::sim::SimClock;
use crate::ui::citizen::{self, CitizenReport};
use crate::web_mqtt;

/// Starts the twin in the page (does not return: the browser drives the frames).
pub fn run() {
    let scene = default_scene();
    let window = Window {
        title: format!("kos-twin: {}", scene.site.name),
        canvas: Some("#bevy".into()),
        fit_canvas_to_parent: true,
        ..default()
    };
    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(window),
        ..default()
    }))
    .add_plugins((EguiPlugin::default(), MeshPickingPlugin))
    .insert_resource(SceneToLoad(scene))
    .add_plugins((
        crate::simulation_plugin,
        crate::view::plugin,
        crate::ui::map::plugin,
        citizen::plugin,
    ))
    .add_systems(PostStartup, (first_tick, open_mqtt))
    .add_systems(Update, (publish_reports, page_ledger))
    .add_systems(Last, mark_frames);
    app.run();
}

/// Solves the grid once before the first frame, so the view opens on a solved state.
fn first_tick(world: &mut World) {
    if world.contains_resource::<SimClock>() {
        world.run_schedule(FixedMain);
    }
}

/// Records the first frame and counts frames on the page's `<html>` element.
fn mark_frames(mut frames: Local<u32>, windows: Query<&Window, With<PrimaryWindow>>) {
    // Frames before the canvas has a size draw nothing.
    if !windows
        .single()
        .is_ok_and(|w| w.physical_width() > 0 && w.physical_height() > 0)
    {
        return;
    }
    *frames += 1;
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(root) = window.document().and_then(|d| d.document_element()) else {
        return;
    };
    // The first update with a sized canvas renders right after this system.
    if *frames == 2 {
        let now = window.performance().map_or(0.0, |p| p.now());
        let _ = root.set_attribute("data-first-frame", &format!("{now:.0}"));
    }
    if *frames < 1000 || frames.is_multiple_of(60) {
        let _ = root.set_attribute("data-frames", &frames.to_string());
    }
}

/// Passes the citizens' ledger checks to the page and its verdicts back (see the module's
/// description).
fn page_ledger(mut panels: ResMut<citizen::CitizenPanels>, mut chosen: Local<bool>) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let panels = panels.bypass_change_detection();
    let get = |name: &str| root.get_attribute(name).unwrap_or_default();
    let l = &mut panels.ledger;
    l.available = root.has_attribute("data-ledger");
    if let Some(asset) = l.request.take() {
        let _ = root.set_attribute("data-ledger-request", &asset);
    }
    l.asset = get("data-ledger-asset");
    l.state = get("data-ledger-state");
    l.text = get("data-ledger-text");
    // The home or pod the address asked the page to check is the citizen's, once.
    if !*chosen && panels.pod.is_none() && !panels.ledger.asset.is_empty() {
        panels.pod = Some(panels.ledger.asset.clone());
        *chosen = true;
    }
    let pod = panels.pod.as_deref().unwrap_or("");
    if get("data-citizen-pod") != pod {
        let _ = root.set_attribute("data-citizen-pod", pod);
    }
}

/// The MQTT-over-WebSocket link of the page, if `?mqtt=` asked for one.
struct MqttLink {
    socket: WebSocket,
    connected: bool,
    failed: bool,
    queue: VecDeque<Vec<u8>>,
}

thread_local! {
    static MQTT: RefCell<Option<MqttLink>> = const { RefCell::new(None) };
    /// Pseudonymous reporter id of this page's session (the port rate-limits per reporter).
    static REPORTER: String = format!("web-{}", (js_sys::Math::random() * 1e12) as u64);
}

/// The `mqtt` parameter of the page's address, if it is a WebSocket URL.
fn mqtt_url() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let url = UrlSearchParams::new_with_str(&search).ok()?.get("mqtt")?;
    (url.starts_with("ws://") || url.starts_with("wss://")).then_some(url)
}

fn open_mqtt() {
    let Some(url) = mqtt_url() else {
        return;
    };
    match WebSocket::new_with_str(&url, "mqtt") {
        Ok(socket) => {
            socket.set_binary_type(BinaryType::Arraybuffer);
            info!("citizen reports go to MQTT at {url}");
            MQTT.with(|m| {
                *m.borrow_mut() = Some(MqttLink {
                    socket,
                    connected: false,
                    failed: false,
                    queue: VecDeque::new(),
                })
            });
        }
        Err(e) => warn!("MQTT over WebSocket at {url}: {e:?}"),
    }
}

/// Queues the reports filed this frame and sends what the socket can take.
fn publish_reports(mut filed: MessageReader<CitizenReport>, site: Option<Res<SiteInfo>>) {
    MQTT.with(|m| {
        let mut m = m.borrow_mut();
        let Some(link) = m.as_mut() else {
            let _ = filed.read().count();
            return;
        };
        let slug = site.map_or_else(|| "site".into(), |s| kos_scene::site_slug(&s.name));
        for r in filed.read() {
            let payload =
                REPORTER.with(|id| web_mqtt::report_payload(r, js_sys::Date::now() as i64, id));
            link.queue
                .push_back(web_mqtt::publish(&web_mqtt::report_topic(&slug), &payload));
        }
        match link.socket.ready_state() {
            WebSocket::OPEN => {
                if !link.connected {
                    let id = format!("kos-citizen-{}", (js_sys::Math::random() * 1e9) as u64);
                    link.connected = link
                        .socket
                        .send_with_u8_array(&web_mqtt::connect(&id))
                        .is_ok();
                }
                while link.connected {
                    let Some(p) = link.queue.front() else { break };
                    if link.socket.send_with_u8_array(p).is_err() {
                        break;
                    }
                    link.queue.pop_front();
                }
            }
            WebSocket::CLOSED | WebSocket::CLOSING if !link.failed => {
                link.failed = true;
                warn!("the MQTT WebSocket closed; reports stay in the page");
            }
            _ => {}
        }
    });
}
