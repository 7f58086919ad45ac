//! Protection and resilience of kos-twin, free of any engine.
//!
//! - [`sc`]: short-circuit currents at every bus by IEC 60909 (I"k3, I"k2, ip, S"k), in the
//!   `sc-case/1` interchange form that pandapower can solve too;
//! - [`scene`]: the short-circuit case of a scene (the grid tie's fault level, transformers,
//!   cables, synchronous and grid-forming units behind their subtransient reactance,
//!   converters as limited current sources), its customer groups, the buses no source holds,
//!   and switching applied to a scene;
//! - [`curves`]: relay characteristics of IEC 60255-151 and IEEE C37.112, definite-time
//!   stages, fuse and recloser tables interpolated log-log;
//! - [`sequence`]: the operations after a fault, with their times in milliseconds: relays,
//!   fuses (heat kept between shots), reclosers with fast and delayed curves, sectionalisers;
//! - [`check`]: the coordination of a scene's devices: who clears a fault at every bus, in
//!   what time, and which pairs in series grade by less than the margin;
//! - [`blackstart`]: a dead community energised again from its grid-forming unit along a
//!   cranking path, critical load first, with cold-load pickup within the units' limits;
//! - [`cascade`]: cascading overloads by Grid2Op's rules, the flow solved again after every
//!   round of trips;
//! - [`flisr`]: fault location, isolation and service restoration on the switching graph,
//!   critical load first, each closing checked by the caller's power flow;
//! - [`reliability`]: the IEEE 1366 indices (SAIFI, SAIDI, CAIDI, CAIFI, MAIFI, ASAI) and the
//!   energy not supplied by priority.

pub mod blackstart;
pub mod cascade;
pub mod check;
pub mod curves;
pub mod flisr;
pub mod reliability;
pub mod sc;
pub mod scene;
pub mod sequence;

pub use curves::{Characteristic, Curve, IecCurve, IeeeCurve};
pub use reliability::{Customers, Indices, Interruption, indices};
pub use sc::{ScBusResult, ScCase, ScError, ScOptions, short_circuit};
