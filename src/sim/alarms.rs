//! Alarms raised by the simulation: kept in order, bounded, shown in the overlay and reports.

use std::collections::VecDeque;

use bevy::prelude::*;
use serde::Serialize;

/// How serious an alarm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Warning,
    /// Needs action.
    Critical,
}

/// One alarm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    /// Simulated local time it was raised, `YYYY-MM-DDTHH:MM:SS`.
    pub t: String,
    /// Seriousness.
    pub severity: Severity,
    /// Asset concerned, if one.
    pub asset: Option<String>,
    /// What happened.
    pub message: String,
}

/// The most recent alarms, oldest first, and how many were raised in all.
#[derive(Resource, Debug, Default, Clone)]
pub struct Alarms {
    /// Recent alarms, at most [`Alarms::CAPACITY`].
    pub recent: VecDeque<Alarm>,
    /// Alarms raised since the start.
    pub total: u64,
}

impl Alarms {
    /// How many recent alarms are kept.
    pub const CAPACITY: usize = 500;

    /// Records an alarm.
    pub fn raise(&mut self, alarm: Alarm) {
        if self.recent.len() == Self::CAPACITY {
            self.recent.pop_front();
        }
        self.recent.push_back(alarm);
        self.total += 1;
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Alarms>();
}
