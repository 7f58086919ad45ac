//! The kinds of generation module, one file each (see [`crate::module`]).

pub mod hydro;
pub mod solar;
pub mod wind;
