//! Every `#[wasm_bindgen]` export of Descent. Nothing else in the crate sees `JsValue`:
//! settings arrive as plain objects (deserialised with serde), reports leave as plain
//! objects, arrays leave as owned `Float32Array` copies, and every [`Error`] becomes a
//! JavaScript `Error` with the same message.
//!
//! One file per scene ([`playground`], [`lazy`], [`double_descent`] with its trained-networks
//! sweep, [`step_size`] with its phase diagrams, [`weak_labels`] with its bag-size sweep) and
//! the benchmark page's entry points ([`bench`](mod@bench)); the shared conversions are here.

pub mod bench;
pub mod double_descent;
pub mod lazy;
pub mod playground;
pub mod step_size;
pub mod weak_labels;

use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::data::Task;
use crate::error::Error;

fn js_err(e: Error) -> JsValue {
    js_sys::Error::new(&e.to_string()).into()
}

/// Serialises to a plain JS object; `None` becomes `null`, maps become objects.
fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    let s = serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true);
    v.serialize(&s).map_err(|e| {
        js_sys::Error::new(&format!("could not convert a result for JavaScript: {e}")).into()
    })
}

#[derive(Serialize)]
struct BuildInfo {
    version: &'static str,
    simd: bool,
    backend: &'static str,
}

/// The crate version, whether wasm SIMD is compiled in, and the backend in use.
#[wasm_bindgen(js_name = buildInfo)]
pub fn build_info() -> Result<JsValue, JsValue> {
    to_js(&BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        simd: cfg!(target_feature = "simd128"),
        backend: "cpu",
    })
}

/// Panics: the engine of a crash-test build (the `crash-test` feature) dies on request, as it
/// would on a bug or when memory runs out (release builds abort on a panic: the call fails with a
/// WebAssembly trap), so that the tests can see the page survive it. Not in the site's build.
#[cfg(feature = "crash-test")]
#[wasm_bindgen(js_name = debugPanic)]
pub fn debug_panic() {
    panic!("debugPanic: the engine panics on request (a crash-test build)");
}

/// The settings table called `name` (a scene's id, or `double-descent/trained`): every
/// setting's name, label, doc, unit, kind, accepted range, slider span and default (see
/// `session::settings`). The page builds its controls and parses its URL from it.
#[wasm_bindgen(js_name = sceneSpec)]
pub fn scene_spec(name: &str) -> Result<JsValue, JsValue> {
    match crate::scenes::spec(name) {
        Some(spec) => to_js(&spec),
        None => Err(js_sys::Error::new(&format!("no scene or panel called {name:?}")).into()),
    }
}

/// The names of every settings table [`scene_spec`] knows.
#[wasm_bindgen(js_name = sceneSpecNames)]
pub fn scene_spec_names() -> Vec<String> {
    crate::scenes::specs()
        .into_iter()
        .map(|s| s.scene.to_string())
        .collect()
}

/// Reads a settings object over the scene's `defaults`: fields given replace defaults.
fn config_from<T: Serialize + serde::de::DeserializeOwned>(
    config: JsValue,
    defaults: T,
) -> Result<T, JsValue> {
    let merged: js_sys::Object = to_js(&defaults)?.unchecked_into();
    if !(config.is_undefined() || config.is_null()) {
        if !config.is_object() {
            return Err(js_sys::Error::new("invalid settings: expected an object").into());
        }
        js_sys::Object::assign(&merged, &config.unchecked_into());
    }
    serde_wasm_bindgen::from_value(merged.into())
        .map_err(|e| js_sys::Error::new(&format!("invalid settings: {e}")).into())
}

/// The page's name of a task.
pub(super) fn task_name(task: Task) -> &'static str {
    match task {
        Task::Regression => "regression",
        Task::Classification => "classification",
    }
}
