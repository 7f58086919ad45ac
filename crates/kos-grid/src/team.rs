//! Two threads for one solve: the caller and a helper that waits, spinning, for halves of
//! work to take. A solve's phases last tenths of a millisecond, about what waking a sleeping
//! thread takes, so the helper stays awake for the whole solve instead.
//!
//! Work is offered, never assigned: the caller publishes a task of two halves, runs the first,
//! then takes the second itself unless the helper has taken it already. A helper that is late
//! (its thread not yet started, its core busy) costs nothing but the wait for a half it has
//! begun, and results never depend on which thread ran which half.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

/// A task: a function of the half to run (0 or 1).
type Task<'a> = &'a (dyn Fn(usize) + Sync);

/// The caller's side of a team of two (see the module's documentation).
pub struct Team {
    /// Epoch of the task on offer, times two, plus one once its second half is taken.
    state: AtomicU64,
    /// The task on offer: a pointer to a `Task` on the caller's stack.
    task: AtomicPtr<()>,
    /// Epoch of the last second half the helper finished.
    done: AtomicU64,
    /// A second half run by the helper panicked (the caller panics in turn).
    panicked: AtomicBool,
    stop: AtomicBool,
}

impl Team {
    /// Runs `work` with a team: on two threads where the platform has them (a helper is
    /// started for the duration of `work`), else with none (every task runs on the caller).
    pub fn with<R>(work: impl FnOnce(Option<&Team>) -> R) -> R {
        if cfg!(target_family = "wasm")
            || std::thread::available_parallelism().map_or(true, |n| n.get() < 2)
        {
            return work(None);
        }
        let team = Team {
            state: AtomicU64::new(0),
            task: AtomicPtr::new(std::ptr::null_mut()),
            done: AtomicU64::new(0),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        };
        std::thread::scope(|s| {
            let spawned = std::thread::Builder::new()
                .name("kos-grid helper".into())
                .spawn_scoped(s, || team.help());
            // The helper stops when `work` returns or unwinds.
            struct Stop<'a>(&'a AtomicBool);
            impl Drop for Stop<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Release);
                }
            }
            let _stop = Stop(&team.stop);
            work(spawned.is_ok().then_some(&team))
        })
    }

    /// The helper's loop: takes every second half on offer until told to stop.
    fn help(&self) {
        let mut seen = 0;
        while !self.stop.load(Ordering::Acquire) {
            let s = self.state.load(Ordering::Acquire);
            if s & 1 == 1 || s >> 1 == seen {
                std::hint::spin_loop();
                continue;
            }
            seen = s >> 1;
            let task = self.task.load(Ordering::Acquire);
            if self
                .state
                .compare_exchange(s, s | 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                // SAFETY: the task of epoch `seen`, published before `state` (Release, read
                // above with Acquire); its owner waits in `both` for `done` to reach this
                // epoch, as the half was taken, so the task outlives the call.
                let task = unsafe { *(task as *const Task) };
                if catch_unwind(AssertUnwindSafe(|| task(1))).is_err() {
                    self.panicked.store(true, Ordering::Relaxed);
                }
                self.done.store(seen, Ordering::Release);
            }
        }
    }

    /// Runs `task(0)` and `task(1)`, on both threads when the helper takes the second half in
    /// time; returns when both have run. Should either half panic, the panic reaches the
    /// caller once both have ended (the helper's half borrows from the caller's frame).
    fn both(&self, task: Task) {
        let epoch = (self.state.load(Ordering::Relaxed) >> 1) + 1;
        let slot: Task = task;
        self.task
            .store(&slot as *const Task as *mut (), Ordering::Release);
        let offered = epoch << 1;
        self.state.store(offered, Ordering::Release);
        let first = catch_unwind(AssertUnwindSafe(|| task(0)));
        if self
            .state
            .compare_exchange(offered, offered | 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            if let Err(e) = first {
                resume_unwind(e);
            }
            task(1);
        } else {
            while self.done.load(Ordering::Acquire) != epoch {
                std::hint::spin_loop();
            }
            if let Err(e) = first {
                resume_unwind(e);
            }
            if self.panicked.load(Ordering::Relaxed) {
                panic!("the second half of a task panicked on the helper thread");
            }
        }
    }
}

/// A pointer that the two halves of a task may share, where they write disjoint elements.
#[derive(Clone, Copy)]
pub(crate) struct Shared<T>(pub *mut T);

// SAFETY: only used where the threads write disjoint elements (each use says which).
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The pointer (a method, so that closures capture the whole `Shared`).
    pub(crate) fn ptr(self) -> *mut T {
        self.0
    }
}

/// Runs `task(0)` and `task(1)`: with a team on two threads, without one in order.
pub fn both(team: Option<&Team>, task: impl Fn(usize) + Sync) {
    match team {
        Some(t) => t.both(&task),
        None => {
            task(0);
            task(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_half_of_every_task_runs_once() {
        let runs: Vec<[AtomicUsize; 2]> = (0..2000).map(|_| Default::default()).collect();
        let helped = AtomicUsize::new(0);
        let caller = std::thread::current().id();
        Team::with(|team| {
            for r in &runs {
                both(team, |h| {
                    r[h].fetch_add(1, Ordering::Relaxed);
                    if std::thread::current().id() != caller {
                        helped.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert!(
            runs.iter()
                .flatten()
                .all(|r| r.load(Ordering::Relaxed) == 1)
        );
        // Only second halves ever run on the helper.
        assert!(helped.load(Ordering::Relaxed) <= runs.len());
    }

    #[test]
    fn a_panic_in_either_half_reaches_the_caller() {
        for bad in [0, 1] {
            let other_ran = AtomicUsize::new(0);
            let r = catch_unwind(AssertUnwindSafe(|| {
                Team::with(|team| {
                    // Enough tasks that the helper takes some second halves.
                    for _ in 0..200 {
                        both(team, |h| {
                            if h == bad {
                                panic!("half {h}");
                            }
                            std::thread::sleep(std::time::Duration::from_micros(50));
                            other_ran.fetch_add(1, Ordering::Relaxed);
                        });
                    }
                })
            }));
            assert!(r.is_err(), "half {bad}'s panic was lost");
            // The first task ended it: its other half ran at most once, to its end.
            assert!(other_ran.load(Ordering::Relaxed) <= 1);
        }
    }

    #[test]
    fn without_a_team_the_halves_run_in_order_on_the_caller() {
        let order = std::sync::Mutex::new(Vec::new());
        both(None, |h| order.lock().unwrap().push(h));
        assert_eq!(*order.lock().unwrap(), vec![0, 1]);
    }
}
