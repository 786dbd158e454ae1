//! One module per scene: the numbers each panel shows, and the registry of scenes.
//!
//! A scene is a folder (or a file, while it is small) here, a file in `api/` with its
//! `#[wasm_bindgen]` exports, and a row in [`SCENES`] and in the page's `www/js/scenes.js`
//! (the test below keeps the two lists equal).

pub mod double_descent;
pub mod lazy;
pub mod playground;
pub mod step_size;

/// A scene as the page names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scene {
    /// The name the page, the web component and the embed snippets use.
    pub id: &'static str,
    /// The title the page shows.
    pub title: &'static str,
}

/// Every scene, in the page's order: [`playground`], [`lazy`], [`double_descent`] (with its
/// trained-network sweep) and [`step_size`] (with its phase diagrams).
pub const SCENES: &[Scene] = &[
    Scene {
        id: "playground",
        title: "Playground",
    },
    Scene {
        id: "lazy",
        title: "Lazy or rich",
    },
    Scene {
        id: "double-descent",
        title: "Double descent",
    },
    Scene {
        id: "step",
        title: "Step size",
    },
];

#[cfg(test)]
mod tests {
    use super::{SCENES, Scene};

    /// The rows of `SCENES` in www/js/scenes.js: `  id: { page: '…', title: '…' },` with the
    /// id quoted when it has a hyphen.
    fn page_scenes() -> Vec<(String, String)> {
        let js = include_str!("../../www/js/scenes.js");
        let body = js
            .split_once("SCENES = Object.freeze({")
            .expect("scenes.js declares SCENES")
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
            .map(|&Scene { id, title }| (id.to_string(), title.to_string()))
            .collect();
        assert_eq!(rust, page_scenes());
    }
}
