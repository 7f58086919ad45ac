//! Weather and the power it lets solar and wind units produce (Environment set).

use bevy::prelude::*;
use kos_energy::module::{Conditions, GenerationModule, Params, build};
use kos_energy::solar::irradiance::{clear_sky_ghi_haurwitz, cloud_attenuation};
use kos_energy::weather::{Weather, WeatherParams, WeatherSample};
use kos_energy::{SunPosition, sun_position_at};
use kos_scene::time::civil_from_days;
use kos_scene::{GeneratorKind, GeneratorSpec, Site};

use super::{SimClock, SimSet};
use crate::model::{Available, SiteInfo, Spec};

/// Height at which the weather's wind speed holds, m.
const WIND_REFERENCE_HEIGHT_M: f64 = kos_energy::modules::wind::REFERENCE_HEIGHT_M;

/// The weather now and the sun's place.
#[derive(Resource, Debug, Clone)]
pub struct WeatherState {
    model: Weather,
    /// Weather of this tick.
    pub now: WeatherSample,
    /// Sun position of this tick.
    pub sun: SunPosition,
    /// Global horizontal irradiance under this tick's clouds, W/m2.
    pub ghi_w_m2: f64,
    /// Day of the year, from 1.
    pub day_of_year: f64,
}

impl WeatherState {
    /// The weather of `site`, drawn from `seed`, at local time `local_s`.
    pub fn new(site: &Site, seed: u64, local_s: i64) -> Self {
        let e = &site.energy;
        let model = Weather::new(
            seed,
            WeatherParams {
                mean_wind_m_s: e.mean_wind_m_s,
                weibull_k: e.weibull_k,
                reference_height_m: WIND_REFERENCE_HEIGHT_M,
                mean_temperature_c: e.mean_temperature_c,
                daily_amplitude_c: e.daily_amplitude_c,
                seasonal_amplitude_c: e.seasonal_amplitude_c,
                latitude_deg: site.latitude_deg,
                cloudiness: e.mean_cloud_cover,
            },
        );
        let now = model.at(0.0, 0.0, 1.0);
        let mut s = Self {
            model,
            now,
            sun: sun_position_at(0.0, site.latitude_deg, site.longitude_deg, e.elevation_m),
            ghi_w_m2: 0.0,
            day_of_year: 1.0,
        };
        s.advance(site, local_s);
        s
    }

    /// Moves the weather and the sun to local time `local_s` (seconds since 1970, local).
    pub fn advance(&mut self, site: &Site, local_s: i64) {
        let utc_s = local_s as f64 - site.utc_offset_hours * 3600.0;
        let days = local_s.div_euclid(86_400);
        let (y, _, _) = civil_from_days(days);
        let jan1 = kos_scene::time::days_from_civil(y, 1, 1);
        self.day_of_year = (days - jan1 + 1) as f64;
        let hour = local_s.rem_euclid(86_400) as f64 / 3600.0;
        self.now = self.model.at(utc_s, hour, self.day_of_year);
        self.sun = sun_position_at(
            utc_s,
            site.latitude_deg,
            site.longitude_deg,
            site.energy.elevation_m,
        );
        self.ghi_w_m2 =
            clear_sky_ghi_haurwitz(self.sun.zenith_deg) * cloud_attenuation(self.now.cloud_cover);
    }

    /// The conditions modules see now.
    pub fn conditions(&self) -> Conditions {
        Conditions {
            sun: self.sun,
            ghi_w_m2: self.ghi_w_m2,
            day_of_year: self.day_of_year,
            ambient_c: self.now.ambient_c,
            wind_m_s: self.now.wind_m_s,
        }
    }
}

/// The weather-driven model of a generation module (solar, wind, registry modules).
#[derive(Component, Debug)]
pub struct Module(pub Box<dyn GenerationModule>);

impl Module {
    /// The module of a generator, if the weather drives it. A registry module whose
    /// parameters are wrong has none (validation reports it before spawning).
    pub fn of(spec: &GeneratorSpec) -> Option<Self> {
        let mut params = Params::new();
        let built = match &spec.kind {
            GeneratorKind::Solar {
                tilt_deg,
                azimuth_deg,
            } => {
                params.insert("tilt_deg".into(), *tilt_deg);
                params.insert("azimuth_deg".into(), azimuth_deg.rem_euclid(360.0));
                build("solar", spec.rated_kw, &params)
            }
            GeneratorKind::Wind {
                hub_height_m,
                cut_in_m_s,
                rated_m_s,
                cut_out_m_s,
            } => {
                params.insert("hub_height_m".into(), *hub_height_m);
                params.insert("cut_in_m_s".into(), *cut_in_m_s);
                params.insert("rated_m_s".into(), *rated_m_s);
                params.insert("cut_out_m_s".into(), *cut_out_m_s);
                build("wind", spec.rated_kw, &params)
            }
            GeneratorKind::Module { module, params } => build(module, spec.rated_kw, params),
            _ => return None,
        };
        built.ok().map(Self)
    }
}

pub(crate) fn update_weather(
    clock: Res<SimClock>,
    site: Res<SiteInfo>,
    mut weather: ResMut<WeatherState>,
) {
    weather.advance(&site, clock.now_s());
}

fn renewable_availability(
    weather: Res<WeatherState>,
    mut units: Query<(&Spec<GeneratorSpec>, &Module, &mut Available)>,
) {
    let conditions = weather.conditions();
    for (spec, module, mut a) in &mut units {
        a.kw = if spec.in_service {
            module.0.available_kw(&conditions)
        } else {
            0.0
        };
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(
        FixedUpdate,
        (update_weather, renewable_availability)
            .chain()
            .in_set(SimSet::Environment),
    );
}
