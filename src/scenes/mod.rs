//! One module per scene: the numbers each panel shows, and the registry of scenes.
//!
//! A scene is a folder (or a file, while it is small) here, a file in `api/` with its
//! `#[wasm_bindgen]` exports, and a row in [`SCENES`] and in the page's `www/js/scenes/index.js`
//! (the test below keeps the two lists equal). Each row names the scene's settings table
//! ([`crate::session::settings`]), which [`spec`] hands to the page and the command line.

pub mod double_descent;
pub mod lazy;
pub mod playground;
pub mod step_size;
pub mod weak_labels;

use crate::session::settings::SceneSpec;

/// A scene as the page names it.
#[derive(Clone, Copy, Debug)]
pub struct Scene {
    /// The name the page, the web component and the embed snippets use.
    pub id: &'static str,
    /// The title the page shows.
    pub title: &'static str,
    /// The scene's settings table.
    pub settings: fn() -> SceneSpec,
}

/// Every scene, in the page's order: [`playground`], [`lazy`], [`double_descent`] (with its
/// trained-network sweep), [`step_size`] (with its phase diagrams) and [`weak_labels`].
pub const SCENES: &[Scene] = &[
    Scene {
        id: "playground",
        settings: playground::settings,
        title: "Playground",
    },
    Scene {
        id: "lazy",
        settings: lazy::settings,
        title: "Lazy or rich",
    },
    Scene {
        id: "double-descent",
        settings: double_descent::settings,
        title: "Double descent",
    },
    Scene {
        id: "step",
        settings: step_size::settings,
        title: "Step size",
    },
    Scene {
        id: "weak-labels",
        settings: weak_labels::settings,
        title: "Weak labels",
    },
];

/// The tables that are not a scene's own: the double-descent scene's trained-networks sweep
/// and the step-size scene's phase diagram.
pub const PANELS: &[Scene] = &[
    Scene {
        id: "double-descent/trained",
        title: "Trained networks",
        settings: double_descent::trained::settings,
    },
    Scene {
        id: "step/phase",
        title: "Phase diagram",
        settings: step_size::phase_settings,
    },
];

/// The settings table called `name`: a scene's id, or a panel of [`PANELS`].
pub fn spec(name: &str) -> Option<SceneSpec> {
    SCENES
        .iter()
        .find(|s| s.id == name)
        .map(|s| (s.settings)())
        .or_else(|| PANELS.iter().find(|s| s.id == name).map(|s| (s.settings)()))
}

/// Every table by name: the scenes' and the panels'.
pub fn specs() -> Vec<SceneSpec> {
    SCENES
        .iter()
        .map(|s| (s.settings)())
        .chain(PANELS.iter().map(|s| (s.settings)()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{SCENES, Scene};

    /// The rows of `SCENES` in www/js/scenes/index.js: `  id: { page: '…', title: '…' },` with the
    /// id quoted when it has a hyphen.
    fn page_scenes() -> Vec<(String, String)> {
        let js = include_str!("../../www/js/scenes/index.js");
        let body = js
            .split_once("SCENES = Object.freeze({")
            .expect("scenes/index.js declares SCENES")
            .1;
        let body = body.split_once("});").expect("SCENES is closed").0;
        body.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (id, rest) = l.split_once(':').expect("a row is `id: { … }`");
                let title = rest
                    .split_once("title:")
                    .expect("a row has a title")
                    .1
                    .trim()
                    .trim_start_matches('\'');
                let title = title.split_once('\'').expect("a quoted title").0;
                (id.trim_matches('\'').to_string(), title.to_string())
            })
            .collect()
    }

    #[test]
    fn the_registry_lists_the_pages_scenes_in_their_order() {
        let rust: Vec<(String, String)> = SCENES
            .iter()
            .map(|&Scene { id, title, .. }| (id.to_string(), title.to_string()))
            .collect();
        assert_eq!(rust, page_scenes());
    }

    mod tables {
        use std::collections::BTreeMap;

        use crate::session::fields::{Field, fields_of};
        use crate::session::settings::{Kind, SceneSpec};

        fn every() -> Vec<SceneSpec> {
            super::super::specs()
        }

        /// Each table names each setting once, and every field of the scene's configuration
        /// has a row: nothing a configuration holds goes undocumented or unchecked.
        #[test]
        fn every_field_has_exactly_one_row() {
            for spec in every() {
                let mut names: Vec<&str> = spec.settings.iter().map(|s| s.name).collect();
                names.sort_unstable();
                let n = names.len();
                names.dedup();
                assert_eq!(names.len(), n, "{}: a setting is listed twice", spec.scene);
                for s in &spec.settings {
                    assert!(
                        !s.label.is_empty(),
                        "{}: `{}` has no label",
                        spec.scene,
                        s.name
                    );
                    assert!(
                        s.default != Field::Null || s.optional,
                        "{}: `{}` has no default",
                        spec.scene,
                        s.name
                    );
                }
            }
            let configs: Vec<(&str, Vec<(String, Field)>)> = vec![
                (
                    "playground",
                    fields_of(&super::super::playground::PlaygroundConfig::default()),
                ),
                (
                    "lazy",
                    fields_of(&super::super::lazy::LazyConfig::default()),
                ),
                (
                    "double-descent",
                    fields_of(&super::super::double_descent::DoubleDescentConfig::default()),
                ),
                (
                    "step",
                    fields_of(&super::super::step_size::StepSizeConfig::default()),
                ),
                (
                    "weak-labels",
                    fields_of(&super::super::weak_labels::WeakConfig::default()),
                ),
                (
                    "double-descent/trained",
                    fields_of(
                        &super::super::double_descent::trained::TrainedSweepConfig::default(),
                    ),
                ),
                (
                    "step/phase",
                    fields_of(&super::super::step_size::PhaseSettings::default()),
                ),
            ];
            assert_eq!(configs.len(), every().len());
            for (name, config) in configs {
                let spec = super::super::spec(name).unwrap();
                for (field, _) in &config {
                    assert!(
                        spec.get(field).is_some(),
                        "{name}: the field `{field}` has no row"
                    );
                }
            }
        }

        /// Defaults lie in their ranges, sliders inside the ranges, and a default choice is
        /// one of the options; the default configuration passes its own table.
        #[test]
        fn defaults_and_sliders_lie_in_the_ranges() {
            for spec in every() {
                let defaults: BTreeMap<String, Field> = spec
                    .settings
                    .iter()
                    .map(|s| (s.name.to_string(), s.default.clone()))
                    .collect();
                spec.validate(&defaults)
                    .unwrap_or_else(|e| panic!("{}: {e}", spec.scene));
                for s in &spec.settings {
                    if let Some([lo, hi]) = s.slider {
                        assert!(
                            s.min <= lo && lo < hi && hi <= s.max,
                            "{}: `{}`'s slider",
                            spec.scene,
                            s.name
                        );
                    }
                    if let Kind::Choice { options } = &s.kind {
                        assert!(options.len() >= 2, "{}: `{}`", spec.scene, s.name);
                    }
                }
            }
        }

        /// The engine refuses every value out of a table's range, naming the setting, and
        /// takes both ends of it: the table is what validation reads.
        #[test]
        fn validation_follows_the_table() {
            for spec in every() {
                let base: BTreeMap<String, Field> = spec
                    .settings
                    .iter()
                    .map(|s| (s.name.to_string(), s.default.clone()))
                    .collect();
                let with = |name: &str, v: Field| {
                    let mut m = base.clone();
                    m.insert(name.to_string(), v);
                    m
                };
                for s in &spec.settings {
                    match &s.kind {
                        Kind::Int | Kind::Float => {
                            for bad in [s.min - 1.0, s.max + 1.0, s.max * 2.0 + 1.0] {
                                let e = spec
                                    .validate(&with(s.name, Field::Num(bad)))
                                    .unwrap_err()
                                    .to_string();
                                assert!(
                                    e.contains(&format!("`{}`", s.name)),
                                    "{}: {e}",
                                    spec.scene
                                );
                            }
                            for ok in [s.min, s.max] {
                                spec.validate(&with(s.name, Field::Num(ok))).unwrap();
                            }
                            if s.kind == Kind::Int && s.max > s.min + 1.0 {
                                assert!(
                                    spec.validate(&with(s.name, Field::Num(s.min + 0.5)))
                                        .is_err()
                                );
                            }
                        }
                        Kind::Choice { .. } => {
                            assert!(
                                spec.validate(&with(s.name, Field::Str("no-such-option".into())))
                                    .is_err()
                            );
                        }
                        Kind::Bool => {
                            assert!(spec.validate(&with(s.name, Field::Num(3.0))).is_err())
                        }
                    }
                }
            }
        }

        /// Each scene's engine validation reads its table: a value the table refuses is refused
        /// by the scene, whatever else the scene checks.
        #[test]
        fn scenes_validate_through_their_tables() {
            use super::super::double_descent::DoubleDescentConfig;
            use super::super::playground::PlaygroundConfig;
            use super::super::step_size::StepSizeConfig;
            let mut pg = PlaygroundConfig::default();
            pg.net.init.sigma_w = 4.5;
            let e = pg.validate(u64::MAX).unwrap_err().to_string();
            assert!(e.contains("`sigmaW`") && e.contains("[0.05, 4]"), "{e}");
            let mut st = StepSizeConfig::default();
            st.net.depth = 4; // the Playground takes 4, this scene at most 3
            let e = st.validate().unwrap_err().to_string();
            assert!(e.contains("`depth`") && e.contains("[1, 3]"), "{e}");
            // An optional setting, when set, is checked like any other; a NaN is refused.
            let st = StepSizeConfig {
                lr: Some(f64::NAN),
                ..Default::default()
            };
            let e = st.validate().unwrap_err().to_string();
            assert!(e.contains("`lr`"), "{e}");
            let dd = DoubleDescentConfig {
                seeds: 21,
                ..Default::default()
            };
            let e = dd.validate(u64::MAX).unwrap_err().to_string();
            assert!(e.contains("`seeds`") && e.contains("[1, 20]"), "{e}");
        }
    }
}
