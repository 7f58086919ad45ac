//! kos-scene: the scene file of kos-twin.
//!
//! A scene is a community written by hand in RON: its site, buses, lines, transformers,
//! switches, generation, storage, loads, infrastructure pods, depots and routes, each with
//! its Infrastructure DNA. This crate reads and writes that format, validates it with
//! messages that name the file, line, column and asset, and builds the electrical network
//! for kos-grid. It has no rendering or networking dependency.

pub mod format;
pub mod generate;
pub mod network;
pub mod profiles;
pub mod slug;
pub mod time;
pub mod validate;

pub use format::*;
pub use generate::generate;
pub use network::{BranchAsset, GridModel, UnitAsset, build_grid};
pub use slug::site_slug;
pub use validate::SceneError;

use ron::extensions::Extensions;

fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME)
}

/// Parses and validates a scene. `file` names the source in messages. Returns every problem
/// found; never panics, whatever the bytes.
pub fn parse(text: &str, file: &str) -> Result<Scene, Vec<SceneError>> {
    let scene: Scene = ron_options().from_str(text).map_err(|e| {
        vec![SceneError {
            file: file.to_string(),
            line: e.span.start.line,
            column: e.span.start.col,
            id: None,
            message: e.code.to_string(),
        }]
    })?;
    let problems = validate::validate(&scene, text, file);
    if problems.is_empty() {
        Ok(scene)
    } else {
        Err(problems)
    }
}

/// Reads and validates a scene file.
pub fn load(path: &std::path::Path) -> Result<Scene, Vec<SceneError>> {
    let file = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => parse(&text, &file),
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let text = String::from_utf8_lossy(valid);
                let (line, column) = validate::Locator::new(&text).position(text.len());
                Err(vec![SceneError {
                    file,
                    line,
                    column,
                    id: None,
                    message: "the file is not valid UTF-8 text".into(),
                }])
            }
        },
        Err(e) => Err(vec![SceneError {
            file,
            line: 0,
            column: 0,
            id: None,
            message: e.to_string(),
        }]),
    }
}

/// Writes a scene as RON text that [`parse`] reads back to the same value.
pub fn to_ron(scene: &Scene) -> String {
    let config = ron::ser::PrettyConfig::new()
        .depth_limit(6)
        .struct_names(false)
        .indentor("    ".to_string());
    let body = ron_options()
        .to_string_pretty(scene, config)
        .unwrap_or_else(|e| format!("// could not serialise: {e}\n"));
    format!(
        "// kos-twin scene, format version {}\n{body}\n",
        scene.format_version
    )
}

#[cfg(test)]
mod tests;
