//! What a load or pod is to the commons, from its spec and the scene's settings: its weight
//! in the fair share, its critical minimum of each resource and that minimum's priority, its
//! needs and caps. The rules, in one place:
//!
//! - weight: a load's households, a pod's occupants over the household size (at least 1),
//!   unless the scene sets one;
//! - power: a critical load, the clinic and the water works all they ask (priority 3), a
//!   shelter half (its base load, 2), a critical data centre a fifth (emergency
//!   communications, 2), every household with medical equipment 0.5 kW (3);
//! - water: the clinic all, a shelter half, every person in a household Sphere's 15 litres a
//!   day;
//! - mesh: a critical pod a fifth.

use kos_scene::{CommonsSpec, LoadSpec, PodKind, PodSpec, Priority};

/// What a load or pod is to the commons: its weight, critical minimum, needs and caps, from
/// its spec and the scene's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Member<'a> {
    /// Asset id.
    pub id: &'a str,
    /// The pod's kind (`None`: a load).
    pub pod: Option<PodKind>,
    /// Households (a pod: 0).
    pub households: u32,
    /// People it serves.
    pub people: f64,
    /// Weight in the fair share.
    pub weight: f64,
    /// Critical minimum as a fraction of each demand.
    pub minimum: f64,
    /// Priority of that minimum when even the minimums do not fit (higher first).
    pub minimum_priority: u32,
    /// Households with medical equipment.
    pub medical: u32,
    /// Can move in time.
    pub deferrable: bool,
    /// Water asked, l/h.
    pub water_l_per_h: f64,
    /// Mesh bandwidth asked, Mbit/s.
    pub mesh_mbps: f64,
    /// Cap on its power, kW.
    pub cap_kw: Option<f64>,
}

/// Power each household with medical equipment keeps whatever else is cut, kW (an oxygen
/// concentrator and a fridge for medicines).
pub const MEDICAL_KW: f64 = 0.5;

impl<'a> Member<'a> {
    /// A load's or pod's place in the commons (`None` for anything else).
    pub fn of(
        load: Option<&'a LoadSpec>,
        pod: Option<&'a PodSpec>,
        s: &CommonsSpec,
    ) -> Option<Self> {
        if let Some(l) = load {
            let k = &l.commons;
            let size = k.household_size.unwrap_or(s.household_size);
            let critical = l.priority == Priority::Critical;
            return Some(Self {
                id: &l.id,
                pod: None,
                households: l.households,
                people: l.households as f64 * size,
                weight: k.weight.unwrap_or(l.households.max(1) as f64),
                minimum: k.minimum.unwrap_or(if critical { 1.0 } else { 0.0 }),
                minimum_priority: if critical { 3 } else { 1 },
                medical: k.medical,
                deferrable: l.priority == Priority::Deferrable,
                water_l_per_h: k
                    .water_l_per_h
                    .unwrap_or(l.households as f64 * s.water_l_per_household_h),
                mesh_mbps: k
                    .mesh_mbps
                    .unwrap_or(l.households as f64 * s.mesh_mbps_per_household),
                cap_kw: k.cap_kw,
            });
        }
        let p = pod?;
        let k = &p.commons;
        let critical = p.priority == Priority::Critical;
        let (minimum, minimum_priority) = match p.kind {
            _ if !critical => (0.0, 0),
            PodKind::Clinic | PodKind::WaterUtility => (1.0, 3),
            // The shelters' base load.
            PodKind::Shelter => (0.5, 2),
            // Emergency communications.
            PodKind::DataCentre => (0.2, 2),
            PodKind::FabricationHub => (0.0, 0),
        };
        Some(Self {
            id: &p.id,
            pod: Some(p.kind),
            households: 0,
            people: p.occupants as f64,
            weight: k
                .weight
                .unwrap_or((p.occupants as f64 / s.household_size).max(1.0)),
            minimum: k.minimum.unwrap_or(minimum),
            minimum_priority,
            medical: 0,
            deferrable: p.priority == Priority::Deferrable,
            water_l_per_h: k
                .water_l_per_h
                .unwrap_or(p.water_m3_per_day * 1000.0 / 24.0),
            mesh_mbps: k.mesh_mbps.unwrap_or(p.bandwidth_mbps),
            cap_kw: k.cap_kw,
        })
    }

    /// Priority of its power minimum in the problem: the member's, when it has a minimum at
    /// all (households with medical equipment come with the clinic).
    pub fn priority(&self) -> u32 {
        if self.minimum > 0.0 || self.medical > 0 {
            self.minimum_priority
                .max(if self.medical > 0 { 3 } else { 0 })
        } else {
            0
        }
    }

    /// Its critical minimum of a power demand of `kw`.
    pub fn power_minimum(&self, kw: f64) -> f64 {
        (self.minimum * kw + f64::from(self.medical) * MEDICAL_KW).min(kw)
    }

    /// Its critical minimum of an energy demand of `kwh` over `hours`.
    pub fn energy_minimum(&self, kwh: f64, hours: f64) -> f64 {
        (self.minimum * kwh + f64::from(self.medical) * MEDICAL_KW * hours).min(kwh)
    }

    /// Its critical minimum of the water it asks (`want`, l/h), and that minimum's priority:
    /// the clinic all (3), a shelter half (2), another pod its minimum, a household load
    /// Sphere's litres a person a day (1).
    pub fn water_minimum(&self, want: f64, s: &CommonsSpec) -> (f64, u32) {
        match self.pod {
            Some(PodKind::Clinic) => (want, 3),
            Some(PodKind::Shelter) => (0.5 * want, 2),
            Some(_) => (self.minimum * want, 1),
            None => (
                (self.people * s.water_minimum_l_per_person_day / 24.0).min(want),
                1,
            ),
        }
    }

    /// Its critical minimum of the mesh bandwidth it asks (`want`, Mbit/s), and that
    /// minimum's priority: a critical pod a fifth (emergency communications, 2), else none.
    pub fn mesh_minimum(&self, want: f64) -> (f64, u32) {
        if self.pod.is_some() && self.minimum_priority > 0 {
            (0.2 * want, 2)
        } else {
            (0.0, 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene() -> kos_scene::Scene {
        kos_scene::parse(include_str!("../../../scenes/default.ron"), "default.ron").unwrap()
    }

    fn pod<'a>(s: &'a kos_scene::Scene, kind: PodKind) -> Member<'a> {
        let p = s.pods.iter().find(|p| p.kind == kind).unwrap();
        Member::of(None, Some(p), &s.commons).unwrap()
    }

    #[test]
    fn critical_pods_keep_their_minimums_by_kind() {
        let s = scene();
        let clinic = pod(&s, PodKind::Clinic);
        assert_eq!((clinic.power_minimum(10.0), clinic.priority()), (10.0, 3));
        assert_eq!(clinic.water_minimum(40.0, &s.commons), (40.0, 3));
        let works = pod(&s, PodKind::WaterUtility);
        assert_eq!((works.power_minimum(30.0), works.priority()), (30.0, 3));
        let shelter = pod(&s, PodKind::Shelter);
        assert_eq!((shelter.power_minimum(10.0), shelter.priority()), (5.0, 2));
        assert_eq!(shelter.water_minimum(40.0, &s.commons), (20.0, 2));
        assert_eq!(shelter.mesh_minimum(50.0), (10.0, 2));
        // The default data centre is essential: no minimum; a critical one keeps a fifth.
        let dc = pod(&s, PodKind::DataCentre);
        assert_eq!((dc.power_minimum(10.0), dc.priority()), (0.0, 0));
        let mut critical = s
            .pods
            .iter()
            .find(|p| p.kind == PodKind::DataCentre)
            .unwrap()
            .clone();
        critical.priority = Priority::Critical;
        let dc = Member::of(None, Some(&critical), &s.commons).unwrap();
        assert_eq!((dc.power_minimum(10.0), dc.priority()), (2.0, 2));
        // A pod's weight: its occupants over the household size.
        let p = s.pods.iter().find(|p| p.kind == PodKind::Shelter).unwrap();
        assert_eq!(
            shelter.weight,
            (p.occupants as f64 / s.commons.household_size).max(1.0)
        );
    }

    #[test]
    fn households_weigh_by_number_and_keep_sphere_water_and_medical_power() {
        let s = scene();
        let l = s
            .loads
            .iter()
            .find(|l| l.households > 0 && l.commons.medical > 0)
            .expect("a load with medical households");
        let m = Member::of(Some(l), None, &s.commons).unwrap();
        assert_eq!(m.weight, l.households as f64);
        assert_eq!(m.people, l.households as f64 * s.commons.household_size);
        // Medical households: 0.5 kW each, with the clinic's priority; never above the demand.
        let medical = f64::from(l.commons.medical) * MEDICAL_KW;
        assert_eq!(m.power_minimum(100.0), medical);
        assert_eq!(m.power_minimum(0.1), 0.1);
        assert_eq!(m.energy_minimum(100.0, 8.0), medical * 8.0);
        assert_eq!(m.priority(), 3);
        // Sphere's 15 litres a person a day.
        let (w, p) = m.water_minimum(1e6, &s.commons);
        assert!((w - m.people * 15.0 / 24.0).abs() < 1e-9 && p == 1);
        assert_eq!(m.mesh_minimum(20.0), (0.0, 0));
        // A household load without medical needs has no power minimum.
        let plain = s
            .loads
            .iter()
            .find(|l| {
                l.households > 0 && l.commons.medical == 0 && l.priority != Priority::Critical
            })
            .unwrap();
        let m = Member::of(Some(plain), None, &s.commons).unwrap();
        assert_eq!((m.power_minimum(10.0), m.priority()), (0.0, 0));
    }

    #[test]
    fn the_scene_overrides_weight_minimum_and_asks() {
        let mut s = scene();
        let l = s.loads.iter_mut().find(|l| l.households > 0).unwrap();
        l.commons.weight = Some(2.5);
        l.commons.minimum = Some(0.3);
        l.commons.water_l_per_h = Some(7.0);
        l.commons.cap_kw = Some(4.0);
        l.commons.medical = 0;
        let l = l.clone();
        let m = Member::of(Some(&l), None, &s.commons).unwrap();
        assert_eq!((m.weight, m.water_l_per_h, m.cap_kw), (2.5, 7.0, Some(4.0)));
        assert!((m.power_minimum(10.0) - 3.0).abs() < 1e-12);
        assert!(Member::of(None, None, &s.commons).is_none());
    }
}
