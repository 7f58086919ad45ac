//! The components that mirror the community in the ECS world. Static data stays in the
//! scene's own spec structs (wrapped in [`Spec`]); what changes while the twin runs lives in
//! separate state components.

use bevy::prelude::*;
use kos_scene::Site;

/// Stable asset id (the tag on the pole): links the scene, telemetry, reports and the ledger.
#[derive(Component, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetTag(pub String);

/// Position of the asset in its list in the scene file, to write the scene back in order.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SceneOrder(pub usize);

/// The asset's description from the scene (`Spec<LineSpec>`, `Spec<PodSpec>`, ...).
#[derive(Component, Debug, Clone, PartialEq, Deref, DerefMut)]
pub struct Spec<T: Send + Sync + 'static>(pub T);

/// What kind of asset an entity is, for outliners and reports.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssetKind {
    /// Bus.
    Bus,
    /// Line or cable.
    Line,
    /// Transformer.
    Transformer,
    /// Switch.
    Switch,
    /// Generation module.
    Generator,
    /// Battery.
    Storage,
    /// Load.
    Load,
    /// Infrastructure pod.
    Pod,
    /// Supply depot.
    Depot,
    /// Supply route.
    Route,
}

impl AssetKind {
    /// Every kind, in outliner order.
    pub const ALL: [AssetKind; 10] = [
        AssetKind::Bus,
        AssetKind::Line,
        AssetKind::Transformer,
        AssetKind::Switch,
        AssetKind::Generator,
        AssetKind::Storage,
        AssetKind::Load,
        AssetKind::Pod,
        AssetKind::Depot,
        AssetKind::Route,
    ];

    /// Name for people and reports.
    pub fn label(self) -> &'static str {
        match self {
            AssetKind::Bus => "bus",
            AssetKind::Line => "line",
            AssetKind::Transformer => "transformer",
            AssetKind::Switch => "switch",
            AssetKind::Generator => "generator",
            AssetKind::Storage => "storage",
            AssetKind::Load => "load",
            AssetKind::Pod => "pod",
            AssetKind::Depot => "depot",
            AssetKind::Route => "route",
        }
    }
}

/// Neighbourhood an asset belongs to (through its bus for connected assets).
#[derive(Component, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Neighbourhood(pub String);

/// Position on the site plane, metres east and north of the origin.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct SitePosition(pub Vec2);

/// End points of a branch or route on the site plane, metres.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// From end.
    pub from: Vec2,
    /// To end.
    pub to: Vec2,
}

/// Solved voltage of a bus.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct BusVoltage {
    /// Magnitude, pu (0 when de-energised).
    pub vm_pu: f64,
    /// Angle, degrees.
    pub va_deg: f64,
    /// Island number, if the bus is in service.
    pub island: Option<usize>,
    /// Supplied by a source.
    pub energised: bool,
}

/// Solved flow of a line, transformer or switch.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct BranchFlow {
    /// Active power into the branch at its from end, kW.
    pub p_from_kw: f64,
    /// Reactive power into the branch at its from end, kvar.
    pub q_from_kvar: f64,
    /// Active power into the branch at its to end, kW.
    pub p_to_kw: f64,
    /// Reactive power into the branch at its to end, kvar.
    pub q_to_kvar: f64,
    /// Loading against the thermal rating, percent.
    pub loading_pct: f64,
    /// Carries current from a source.
    pub energised: bool,
}

/// Position of a switch.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchState {
    /// Conducting.
    pub closed: bool,
}

/// Output of a generator or battery (positive when delivering to the grid).
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct UnitOutput {
    /// Scheduled active power, kW.
    pub setpoint_kw: f64,
    /// Delivered active power after the power flow, kW.
    pub p_kw: f64,
    /// Delivered reactive power, kvar.
    pub q_kvar: f64,
    /// Connected to an energised island.
    pub energised: bool,
    /// The setpoint is a fresh measurement (telemetry): dispatch takes it as given.
    pub measured: bool,
}

/// State of charge of a battery, fraction of its energy capacity.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct StateOfCharge(pub f64);

/// What the commons allotted a load or pod for the next tick (`None`: not limited).
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct Share {
    /// Power limit, kW: set only while its island is short.
    pub power_kw: Option<f64>,
    /// Water, l/h: set only while water is short.
    pub water_l_per_h: Option<f64>,
    /// Mesh bandwidth, Mbit/s: set only while the mesh is short.
    pub mesh_mbps: Option<f64>,
}

/// The least state of charge a battery may reach while its island has no grid tie: the
/// scene's own, below any reserve a mode holds for islanding (the reserve is for the island).
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct IslandSocMin(pub f64);

/// Electrical demand of a load or pod this tick.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Wanted active power, kW.
    pub p_kw: f64,
    /// Wanted reactive power, kvar.
    pub q_kvar: f64,
    /// Share of the demand the balancer lets through (the rest is shed), 0 to 1.
    pub fraction: f64,
    /// Connected to an energised island.
    pub served: bool,
}

impl Default for Demand {
    fn default() -> Self {
        Self {
            p_kw: 0.0,
            q_kvar: 0.0,
            fraction: 1.0,
            served: false,
        }
    }
}

impl Demand {
    /// Active power delivered, kW.
    pub fn served_kw(&self) -> f64 {
        if self.served {
            self.p_kw * self.fraction
        } else {
            0.0
        }
    }

    /// Active power not delivered, kW.
    pub fn shed_kw(&self) -> f64 {
        self.p_kw - self.served_kw()
    }
}

/// What the weather lets a solar or wind unit produce this tick.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct Available {
    /// Power available, kW.
    pub kw: f64,
    /// Power available but not taken, kW.
    pub curtailed_kw: f64,
}

/// The scene's emergency modes (their definitions; which are on is the protection layer's).
#[derive(Resource, Debug, Clone, Default, PartialEq, Deref)]
pub struct SceneModes(pub Vec<kos_scene::ModeSpec>);

/// The site the world mirrors.
#[derive(Resource, Debug, Clone, PartialEq, Deref)]
pub struct SiteInfo(pub Site);

/// The state components an asset may carry, for reports and the inspector.
pub type StateQuery = StateItem<'static>;

/// One asset's state as [`StateQuery`] yields it.
pub type StateItem<'a> = (
    Option<&'a BusVoltage>,
    Option<&'a BranchFlow>,
    Option<&'a SwitchState>,
    Option<&'a UnitOutput>,
    Option<&'a StateOfCharge>,
    Option<&'a Demand>,
);

/// The entity of an asset by its id, if the world has it.
pub fn asset_entity(world: &mut World, id: &str) -> Option<Entity> {
    world
        .query::<(Entity, &AssetTag)>()
        .iter(world)
        .find(|(_, t)| t.0 == id)
        .map(|(e, _)| e)
}
