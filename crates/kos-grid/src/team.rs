//! Two threads for one solve: the caller and a helper that waits, spinning, for halves of
//! work to take. A solve's phases last tenths of a millisecond, about what waking a sleeping
//! thread takes, so the helper stays awake for the whole solve instead; between solves it
//! sleeps. The helper is started once per process and lent to one solve at a time (starting
//! a thread costs about a tenth of a millisecond); a solve that finds it lent runs without.
//!
//! Work is offered, never assigned: the caller publishes a task of two halves, runs the first,
//! then takes the second itself unless the helper has taken it already. A helper that is late
//! (still waking, its core busy) costs nothing but the wait for a half it has begun, and
//! results never depend on which thread ran which half, nor on whether a helper was lent.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, TryLockError};

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
    /// The helper is lent: it spins for tasks while this holds, and otherwise lingers
    /// (spinning for `LINGER`, for the next solve) then sleeps.
    lent: AtomicBool,
    /// The helper sleeps, or is about to (the caller wakes it).
    sleeping: AtomicBool,
}

/// How long the helper spins after a solve before it sleeps: solves that follow each other
/// closely (a batch, a contingency scan on one thread) find it awake.
const LINGER: std::time::Duration = std::time::Duration::from_micros(500);

/// The process's helper: its team, the lease, and its thread (to wake it).
struct Helper {
    team: Team,
    lease: Mutex<()>,
    thread: std::thread::Thread,
}

/// The helper, started on first use where the platform has two threads to give.
fn helper() -> Option<&'static Helper> {
    static HELPER: OnceLock<Option<&'static Helper>> = OnceLock::new();
    *HELPER.get_or_init(|| {
        if cfg!(target_family = "wasm")
            || std::thread::available_parallelism().map_or(true, |n| n.get() < 2)
        {
            return None;
        }
        let team = Team {
            state: AtomicU64::new(0),
            task: AtomicPtr::new(std::ptr::null_mut()),
            done: AtomicU64::new(0),
            panicked: AtomicBool::new(false),
            lent: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
        };
        // The thread learns its `Helper` once the handle to wake it is in it.
        let (send, receive) = std::sync::mpsc::channel::<&'static Helper>();
        let spawned = std::thread::Builder::new()
            .name("kos-grid helper".into())
            .spawn(move || {
                if let Ok(h) = receive.recv() {
                    h.team.help();
                }
            })
            .ok()?;
        let helper: &'static Helper = Box::leak(Box::new(Helper {
            team,
            lease: Mutex::new(()),
            thread: spawned.thread().clone(),
        }));
        send.send(helper).ok()?;
        Some(helper)
    })
}

impl Team {
    /// Runs `work` with a team: on two threads where the platform has them and the helper
    /// is not lent to another solve, else with none (every task runs on the caller).
    pub fn with<R>(work: impl FnOnce(Option<&Team>) -> R) -> R {
        let Some(h) = helper() else {
            return work(None);
        };
        let _lease = match h.lease.try_lock() {
            Ok(lease) => lease,
            // A solve that panicked left the helper idle: it can be lent again.
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return work(None),
        };
        // The helper sleeps again when `work` returns or unwinds.
        struct Return<'a>(&'a AtomicBool);
        impl Drop for Return<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        // With `help`'s two stores and loads, all sequentially consistent: the helper sees
        // it lent, or the caller sees it (about to be) asleep and wakes it.
        h.team.lent.store(true, Ordering::SeqCst);
        let _return = Return(&h.team.lent);
        if h.team.sleeping.load(Ordering::SeqCst) {
            h.thread.unpark();
        }
        work(Some(&h.team))
    }

    /// The helper's loop: while lent, takes every second half on offer; else lingers, then
    /// sleeps until lent again.
    fn help(&self) {
        let mut seen = self.state.load(Ordering::Acquire) >> 1;
        loop {
            if !self.lent.load(Ordering::Acquire) {
                let since = std::time::Instant::now();
                while !self.lent.load(Ordering::Acquire) && since.elapsed() < LINGER {
                    std::hint::spin_loop();
                }
                self.sleeping.store(true, Ordering::SeqCst);
                if !self.lent.load(Ordering::SeqCst) {
                    // A wake-up that comes before this sleep is not lost (`unpark`'s token).
                    std::thread::park();
                }
                self.sleeping.store(false, Ordering::SeqCst);
                continue;
            }
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
            if self.panicked.swap(false, Ordering::Relaxed) {
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
    fn the_helper_takes_halves_and_is_lent_to_one_solve_at_a_time() {
        if std::thread::available_parallelism().map_or(true, |n| n.get() < 2) {
            return;
        }
        let caller = std::thread::current().id();
        // Other tests may hold the helper for a while: try again until it is free.
        let mut helped = 0;
        for _ in 0..1000 {
            Team::with(|team| {
                let Some(team) = team else { return };
                // Lent to this solve, so not to a second one at the same time.
                Team::with(|inner| assert!(inner.is_none()));
                let on_helper = AtomicUsize::new(0);
                for _ in 0..2000 {
                    both(Some(team), |h| {
                        if h == 1 && std::thread::current().id() != caller {
                            on_helper.fetch_add(1, Ordering::Relaxed);
                        }
                        std::hint::black_box((0..200).sum::<u64>());
                    });
                }
                helped = on_helper.into_inner();
            });
            if helped > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert!(helped > 0, "the helper took no second half");
    }

    #[test]
    fn without_a_team_the_halves_run_in_order_on_the_caller() {
        let order = std::sync::Mutex::new(Vec::new());
        both(None, |h| order.lock().unwrap().push(h));
        assert_eq!(*order.lock().unwrap(), vec![0, 1]);
    }
}
