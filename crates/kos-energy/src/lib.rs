//! Energy models of kos-twin, free of any engine: weather, the sun's position and PV output,
//! wind turbines, batteries, dispatchable units, and wear and depletion of assets.
//!
//! Every function is pure: the same inputs give the same outputs, bit for bit.
