//! Where a solve begins: the DC start's angles, the voltage setpoints and each island's first
//! schedule, side by side on a team; each island's starting voltages.

use std::sync::{Mutex, MutexGuard};

use super::{IslandCache, Start, local_index};
use crate::dc::DcModel;
use crate::islands::{Island, Islands};
use crate::network::Network;
use crate::newton::{IslandNewton, Role};
use crate::schedule::{scheduled, voltage_setpoints};
use crate::team::{self, Team};

/// What every island's solve starts from.
pub(super) struct Beginning {
    /// The DC solution's angles of every bus, radians, for a DC start.
    pub dc_angles: Option<Vec<f64>>,
    /// The voltage setpoint of each bus, where a unit holds one.
    pub setpoint: Vec<Option<f64>>,
    /// Each cached island's scheduled injections (`None` for a de-energised one), with no
    /// unit's reactive power fixed: taken by its first round.
    pub first_specs: Vec<Option<(Vec<f64>, Vec<f64>)>>,
}

/// The DC angles from `model` (for a DC start) on one thread; beside them, on the other,
/// the first schedules of `caches`' islands; the voltage setpoints on the one with less to
/// do.
pub(super) fn begin(
    net: &Network,
    model: Option<&mut DcModel>,
    islands: &Islands,
    cache_islands: &Islands,
    caches: &[IslandCache],
    fixed_q: &[Option<f64>],
    team: Option<&Team>,
) -> Beginning {
    let with_dc = model.is_some();
    let model = Mutex::new(model);
    let (dc_angles, setpoint, specs) = (Mutex::new(None), Mutex::new(None), Mutex::new(None));
    team::both(team, |h| {
        if h == 0 {
            match lock(&model).take() {
                Some(model) => *lock(&dc_angles) = Some(model.angles(net, islands).0),
                None => *lock(&setpoint) = Some(voltage_setpoints(net)),
            }
        } else {
            let first: Vec<_> = cache_islands
                .islands
                .iter()
                .zip(caches)
                .map(|(island, cache)| {
                    let nr = cache
                        .newton
                        .as_ref()
                        .filter(|_| island.reference.is_some())?;
                    Some(scheduled(net, &island.buses, |li| nr.role(li), fixed_q))
                })
                .collect();
            *lock(&specs) = Some(first);
            if with_dc {
                *lock(&setpoint) = Some(voltage_setpoints(net));
            }
        }
    });
    Beginning {
        dc_angles: lock(&dc_angles).take(),
        setpoint: lock(&setpoint).take().expect("computed by one half"),
        first_specs: lock(&specs).take().expect("computed by the second half"),
    }
}

/// An island's starting magnitudes and angles (radians), by its local buses: from `start`
/// (`warm` holds the last solution's magnitudes, angles and whether each bus has one), the
/// setpoints at voltage-controlled buses, the reference angle at the reference.
pub(super) fn start_voltages(
    net: &Network,
    start: Start,
    (island, reference, nr): (&Island, usize, &IslandNewton),
    (setpoint, dc_angles): (&[Option<f64>], Option<&[f64]>),
    (vm, va, has_solution): (&[f64], &[f64], &[bool]),
) -> (Vec<f64>, Vec<f64>) {
    let m = island.buses.len();
    let va_ref = net.buses[reference].va_deg.to_radians();
    let (mut lvm, mut lva) = (vec![1.0; m], vec![va_ref; m]);
    let buses = island.buses.iter().enumerate();
    match (start, dc_angles) {
        (Start::Warm, _) => {
            for (li, &g) in buses.filter(|&(_, &g)| has_solution[g]) {
                (lvm[li], lva[li]) = (vm[g], va[g]);
            }
        }
        (Start::Case, _) => {
            for (li, &g) in buses {
                let b = &net.buses[g];
                (lvm[li], lva[li]) = (b.vm_pu, b.va_deg.to_radians());
            }
        }
        (Start::Dc, Some(angles)) => {
            for (li, &g) in buses {
                lva[li] = angles[g];
            }
        }
        _ => {}
    }
    for (li, &g) in island.buses.iter().enumerate() {
        if let Some(s) = setpoint[g]
            && nr.role(li) != Role::Pq
        {
            lvm[li] = s;
        }
    }
    lva[local_index(&island.buses, reference)] = va_ref;
    (lvm, lva)
}

/// The value in `m`, whether or not a panic poisoned it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
