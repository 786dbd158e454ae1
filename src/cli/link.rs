//! Share links: a page's address pasted as `descent run`'s scene, read as the page reads its
//! query (`www/js/core/controls.js`: `readQuery`, `parseValue`, `clampValue`), and the link
//! back that `report.json` holds for a run (`toQuery`).
//!
//! The page is lenient where the command line's `key=value` is strict: a number outside its
//! accepted range is clamped into it, a whole-number setting is rounded, a value that cannot
//! be read is dropped (the default stays), and keys match without regard to case. Each such
//! adjustment comes back as a note, worded as the page words it in its console. A setting of the
//! scene's table that the page has no control for ([`PAGE_UNCONTROLLED`]) keeps its default, as
//! on the page, with a note: the run is the one the page shows for the same link. The link back
//! leaves such settings out, as the page would not read them (see [`unlinked`]).

use crate::error::{Error, Result};
use crate::session::fields::Field;
use crate::session::settings::{Kind, Scale, Setting};

use super::Settings;

/// Each scene's page (relative to the site root), as `www/js/scenes/index.js` lists them.
pub const PAGES: &[(&str, &str)] = &[
    ("playground", "index.html"),
    ("lazy", "lazy.html"),
    ("double-descent", "double-descent.html"),
    ("step", "step.html"),
    ("weak-labels", "weak-labels.html"),
];

/// Settings that a page offers as a menu of a few numbers rather than a slider: a link may only
/// name one of them (the Playground's batch size, `controls.js`).
const PAGE_MENUS: &[(&str, &str, &[&str])] = &[(
    "playground",
    "batchSize",
    &["0", "256", "128", "64", "32", "16", "8", "4", "1"],
)];

/// Each page's view options (`const VIEW` in its `page.js`): kept in its links beside the
/// settings, they choose what the page shows (an axis, a metric, its own sweep's extent), not a
/// setting of the scene's table, so the command line does not read them.
const PAGE_VIEW_KEYS: &[(&str, &[&str])] = &[
    ("playground", &["logx"]),
    (
        "lazy",
        &[
            "loss",
            "logx",
            "lazyLogx",
            "gramDiff",
            "sweepMax",
            "sweepSteps",
            "sweepSeeds",
        ],
    ),
    ("double-descent", &["x"]),
    (
        "step",
        &[
            "logx",
            "phaseAxis",
            "phaseSize",
            "phaseBackend",
            "phaseMetric",
        ],
    ),
    ("weak-labels", &[]),
];

/// The settings of each scene's table that its page has no control for: the page reads only its
/// controls from a link (`readQuery`), so these keep their defaults there. The end-to-end test
/// `tests/e2e/cli.test.mjs` checks the lists against each page's controls.
pub const PAGE_UNCONTROLLED: &[(&str, &[&str])] = &[
    ("playground", &["alpha"]),
    (
        "lazy",
        &[
            "labelNoise",
            "sigmaW",
            "sigmaB",
            "centerOutput",
            "batchSize",
            "momentum",
            "weightDecay",
            "backend",
            "classes",
            "testShare",
            "standardize",
            "loss",
        ],
    ),
    (
        "double-descent",
        &[
            "nTest",
            "signal",
            "nonlinear",
            "sizes",
            "ratioMin",
            "ratioMax",
        ],
    ),
    (
        "step",
        &[
            "labelNoise",
            "sigmaW",
            "sigmaB",
            "centerOutput",
            "lr",
            "trackEvery",
            "hessianIters",
            "measureCatapult",
        ],
    ),
    ("weak-labels", &[]),
];

/// One view option of a page that its scene's run reads: a menu of the page's `VIEW` (its
/// values and default as there), which chooses what the run computes beside the settings.
#[derive(Clone, Copy, Debug)]
pub struct ViewOption {
    pub name: &'static str,
    pub values: &'static [&'static str],
    pub default: &'static str,
    pub doc: &'static str,
}

/// The view options each scene's run reads, from a link or as key=value (the page's view keys
/// not listed here choose only how the page shows its results). A unit test checks them against
/// each page's `VIEW`.
pub const VIEW_READ: &[(&str, &[ViewOption])] = &[(
    "lazy",
    &[
        ViewOption {
            name: "sweepMax",
            values: &["256", "1024", "4096"],
            default: "4096",
            doc: "Widest network of the width sweep (widths 16, 32, … up to it)",
        },
        ViewOption {
            name: "sweepSteps",
            values: &["100", "300", "1000"],
            default: "300",
            doc: "Steps each network of the width sweep trains",
        },
        ViewOption {
            name: "sweepSeeds",
            values: &["1", "3", "5", "10"],
            default: "3",
            doc: "Networks per width in the width sweep",
        },
    ],
)];

/// The view options scene `scene`'s run reads.
pub fn view_options(scene: &str) -> &'static [ViewOption] {
    VIEW_READ
        .iter()
        .find(|(s, _)| *s == scene)
        .map_or(&[], |(_, options)| options)
}

/// The view option `name` (matched without regard to case) that scene `scene`'s run reads.
pub fn view_option(scene: &str, name: &str) -> Option<&'static ViewOption> {
    let lower = name.to_lowercase();
    view_options(scene)
        .iter()
        .find(|o| o.name == name)
        .or_else(|| {
            view_options(scene)
                .iter()
                .find(|o| o.name.to_lowercase() == lower)
        })
}

/// Whether scene `scene`'s page has a control for setting `name` (a panel's settings are not on
/// a page's controls: they are checked as its scene's).
pub fn page_controls(scene: &str, name: &str) -> bool {
    !PAGE_UNCONTROLLED
        .iter()
        .any(|(s, names)| *s == scene && names.contains(&name))
}

/// The settings of `settings` away from their defaults that its page has no control for: a link
/// cannot carry them, so the page opens at their defaults.
pub fn unlinked(settings: &Settings) -> Vec<&'static str> {
    let scene = settings.scene();
    settings
        .spec
        .settings
        .iter()
        .filter(|s| !page_controls(scene, s.name) && *settings.get(s.name) != s.default)
        .map(|s| s.name)
        .collect()
}

/// The page's keys that choose how it is shown (embedded, presented, autoplaying), not what it
/// computes: a link may carry them and the command line passes over them in silence.
const MODE_KEYS: &[&str] = &["embed", "controls", "present", "play"];

/// Whether a `descent run` argument is a share link rather than a scene id.
pub fn is_link(arg: &str) -> bool {
    arg.contains("://") || arg.contains(".html") || arg.starts_with('?')
}

/// The page of scene `scene` (a panel such as `double-descent/trained` is on its scene's page).
pub fn page_of(scene: &str) -> Option<&'static str> {
    let base = scene.split('/').next().unwrap_or(scene);
    PAGES.iter().find(|(s, _)| *s == base).map(|(_, p)| *p)
}

/// A share link read: the scene its page shows, the settings (defaults where the link says
/// nothing) and notes on what the page would have adjusted or ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub settings: Settings,
    pub notes: Vec<String>,
}

/// Reads a share link: `https://…/double-descent.html?nTrain=300&seed=4`, the page's file name
/// with a query, or a site root (`https://…/?width=64`: the Playground, `index.html`).
pub fn read(link: &str) -> Result<Link> {
    let link = link.trim();
    let no_hash = link.split('#').next().unwrap_or("");
    let (path, query) = no_hash.split_once('?').unwrap_or((no_hash, ""));
    let path = path
        .strip_prefix("http://")
        .or_else(|| path.strip_prefix("https://"))
        .or_else(|| path.strip_prefix("file://"))
        .map(|rest| rest.split_once('/').map_or("", |(_, p)| p))
        .unwrap_or(path);
    let file = path.rsplit('/').next().unwrap_or("");
    let file = if file.is_empty() { "index.html" } else { file };
    let scene = PAGES
        .iter()
        .find(|(_, p)| p.eq_ignore_ascii_case(file))
        .map(|(s, _)| *s)
        .ok_or_else(|| {
            let pages: Vec<&str> = PAGES.iter().map(|(_, p)| *p).collect();
            Error::Usage {
                message: format!(
                    "{file:?} is not one of Descent's pages, so the link names no scene; the pages are {}",
                    pages.join(", ")
                ),
            }
        })?;
    let mut settings = Settings::defaults(scene).expect("every page's scene has a table");
    let notes = apply_query(&mut settings, query);
    Ok(Link { settings, notes })
}

/// Sets `settings` from a query string as the page reads it, returning the notes. A key given
/// twice takes its first value (as `URLSearchParams.get`); a key in another case is the setting
/// whose name it matches without regard to case, when no key matches exactly.
pub fn apply_query(settings: &mut Settings, query: &str) -> Vec<String> {
    let params = parse_query(query);
    let scene = settings.scene();
    let mut notes = Vec::new();
    let spec = settings.spec.clone();
    for s in &spec.settings {
        let text = params
            .iter()
            .find(|(k, _)| k == s.name)
            .or_else(|| {
                params
                    .iter()
                    .find(|(k, _)| k.to_lowercase() == s.name.to_lowercase())
            })
            .map(|(_, v)| v.as_str());
        let Some(text) = text else { continue };
        if !page_controls(scene, s.name) {
            notes.push(format!(
                "{}: the page has no control for it and keeps its default, {}, so this run does too (give {}={} after the link to set it)",
                s.name,
                shown(&s.default),
                s.name,
                text.trim()
            ));
            continue;
        }
        match parse_lenient(scene, s, text) {
            None => notes.push(format!(
                "{}: ignored {} (not a valid value)",
                s.name,
                quote(text)
            )),
            Some((v, exact)) => {
                if !exact {
                    notes.push(format!(
                        "{}: {} is out of range, using {}",
                        s.name,
                        quote(text),
                        shown(&v)
                    ));
                }
                settings.values.insert(s.name.to_string(), v);
            }
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for (k, _) in &params {
        let lower = k.to_lowercase();
        if seen.contains(&lower) {
            continue;
        }
        seen.push(lower.clone());
        let known = spec.settings.iter().any(|s| s.name.to_lowercase() == lower);
        if known || MODE_KEYS.contains(&lower.as_str()) {
            continue;
        }
        let view = PAGE_VIEW_KEYS
            .iter()
            .find(|(sc, _)| *sc == scene)
            .and_then(|(_, keys)| keys.iter().find(|v| v.to_lowercase() == lower));
        if let Some(option) = view_option(scene, k) {
            // As the page reads its menu: the exact key first, a value off the menu ignored.
            let text = params
                .iter()
                .find(|(key, _)| key == option.name)
                .or_else(|| params.iter().find(|(key, _)| key.to_lowercase() == lower))
                .map_or("", |(_, v)| v.as_str());
            if option.values.contains(&text) {
                settings
                    .view
                    .insert(option.name.to_string(), text.to_string());
            } else {
                notes.push(format!(
                    "{}: ignored {} (not a valid value)",
                    option.name,
                    quote(text)
                ));
            }
        } else if let Some(v) = view {
            notes.push(format!(
                "{v}: an option of the page's view, not a setting of {scene} (ignored)"
            ));
        } else if lower == "preset" {
            notes.push(
                "preset: the page's presets are not read here (ignored); give their settings as key=value"
                    .to_string(),
            );
        } else {
            notes.push(format!(
                "{} is not a setting of {scene} (ignored)",
                quote(k)
            ));
        }
    }
    notes
}

/// One value of a link as the page's `parseValue` reads it: `None` when it cannot be read,
/// else the value and whether it is the text's own (not clamped or rounded).
fn parse_lenient(scene: &str, s: &Setting, text: &str) -> Option<(Field, bool)> {
    let t = text.trim();
    if let Some((_, _, options)) = PAGE_MENUS
        .iter()
        .find(|(sc, name, _)| *sc == scene && *name == s.name)
    {
        let hit = options.iter().find(|o| **o == t)?;
        return Some((Field::Num(hit.parse().expect("a menu of numbers")), true));
    }
    match &s.kind {
        Kind::Bool => match t {
            "1" | "true" => Some((Field::Bool(true), true)),
            "0" | "false" => Some((Field::Bool(false), true)),
            _ => None,
        },
        Kind::Choice { options } => options
            .iter()
            .find(|o| o.value == t)
            .map(|o| (Field::Str(o.value.clone()), true)),
        Kind::Int | Kind::Float => {
            if !strict_number(t) {
                return None;
            }
            let x: f64 = t.parse().ok()?;
            if !x.is_finite() {
                return None;
            }
            let v = clamp(s, x);
            Some((Field::Num(v), v == x))
        }
    }
}

/// The page's `clampValue`: a log-scaled setting whose range starts at 0 takes 0 for x ≤ 0;
/// otherwise x is clamped to the accepted range, and a whole-number setting rounded (half up,
/// as `Math.round`).
pub fn clamp(s: &Setting, x: f64) -> f64 {
    if s.scale == Scale::Log && s.min == 0.0 && x <= 0.0 {
        return 0.0;
    }
    let v = x.max(s.min).min(s.max);
    if s.kind == Kind::Int {
        let f = v.floor();
        if v - f >= 0.5 { f + 1.0 } else { f }
    } else {
        v
    }
}

/// The page's number syntax (`NUMBER_RE`): an optional sign, digits with an optional fraction
/// (or a fraction alone), an optional exponent; nothing else (no `inf`, `0x…`, spaces inside).
pub fn strict_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - f;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

/// A query string's pairs as `URLSearchParams` reads them: `&`-separated, split at the first
/// `=`, `+` as a space, `%XX` decoded (a malformed escape is kept as it is).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && hex(b[i + 1]).is_some() && hex(b[i + 2]).is_some() => {
                out.push(hex(b[i + 1]).unwrap() * 16 + hex(b[i + 2]).unwrap());
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Untrusted text for a note, as the page quotes it: JSON-quoted, cut at 40 characters.
fn quote(text: &str) -> String {
    let s: String = if text.chars().count() > 40 {
        text.chars().take(40).chain(['…']).collect()
    } else {
        text.to_string()
    };
    serde_json::to_string(&s).expect("a string serialises")
}

/// A value as a note shows it.
fn shown(v: &Field) -> String {
    match v {
        Field::Num(x) => js_number(*x),
        other => other.to_string(),
    }
}

/// The page's link for `settings`: `<page>?<query>` with every setting that differs from its
/// default, and the seed always (the page keeps it in the URL), written as the page writes them
/// (`toQuery`: numbers exactly, as JavaScript's `String`, flags as 1 and 0). A panel's link is its
/// scene's page with the panel's settings that the scene's table also has.
pub fn link_of(settings: &Settings) -> String {
    let scene = settings.scene();
    let page = page_of(scene).unwrap_or("index.html");
    let base = scene.split('/').next().unwrap_or(scene);
    let page_spec = crate::scenes::spec(base);
    let mut pairs = Vec::new();
    for s in &settings.spec.settings {
        if scene != base && page_spec.as_ref().is_none_or(|p| p.get(s.name).is_none()) {
            continue;
        }
        let v = settings.get(s.name);
        if (*v == s.default && s.name != "seed") || !page_controls(base, s.name) {
            continue;
        }
        let text = match v {
            Field::Null => continue,
            Field::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            Field::Num(x) => js_number(*x),
            Field::Str(t) => t.clone(),
        };
        pairs.push(format!("{}={}", encode(s.name), encode(&text)));
    }
    for option in view_options(scene) {
        let v = settings.view(option.name);
        if v != option.default {
            pairs.push(format!("{}={}", encode(option.name), encode(v)));
        }
    }
    if pairs.is_empty() {
        page.to_string()
    } else {
        format!("{page}?{}", pairs.join("&"))
    }
}

/// `URLSearchParams`' encoding: letters, digits and `*-._` as they are, a space as `+`, every
/// other byte as `%XX`.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(c as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{c:02X}")),
        }
    }
    out
}

/// A number as JavaScript's `String(x)` writes it: the shortest digits that read back, in
/// plain decimal from 1e-6 up to 1e21 and in exponent form (`1e-7`, `1.5e+21`) beyond.
pub fn js_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (1e-6..1e21).contains(&a) {
        format!("{x}")
    } else {
        let s = format!("{x:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scene ids and pages of `www/js/scenes/index.js`'s `SCENES` rows.
    fn page_rows() -> Vec<(String, String)> {
        let js = include_str!("../../www/js/scenes/index.js");
        let body = js.split_once("SCENES = Object.freeze({").unwrap().1;
        let body = body.split_once("});").unwrap().0;
        body.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (id, rest) = l.split_once(':').unwrap();
                let page = rest.split_once("page: '").unwrap().1;
                let page = page.split_once('\'').unwrap().0;
                (id.trim_matches('\'').to_string(), page.to_string())
            })
            .collect()
    }

    #[test]
    fn the_pages_are_the_sites() {
        let ours: Vec<(String, String)> = PAGES
            .iter()
            .map(|(s, p)| (s.to_string(), p.to_string()))
            .collect();
        assert_eq!(ours, page_rows());
    }

    #[test]
    fn the_view_keys_are_the_pages() {
        let pages = [
            (
                "playground",
                include_str!("../../www/js/scenes/playground/page.js"),
            ),
            ("lazy", include_str!("../../www/js/scenes/lazy/page.js")),
            (
                "double-descent",
                include_str!("../../www/js/scenes/double-descent/page.js"),
            ),
            ("step", include_str!("../../www/js/scenes/step/page.js")),
            (
                "weak-labels",
                include_str!("../../www/js/scenes/weak-labels/page.js"),
            ),
        ];
        for (scene, js) in pages {
            let names: Vec<&str> = match js.split_once("const VIEW = [") {
                None => Vec::new(),
                Some((_, rest)) => {
                    let block = rest.split_once("\n];").unwrap().0;
                    block
                        .lines()
                        .filter_map(|l| l.split_once("name: '"))
                        .map(|(_, r)| r.split_once('\'').unwrap().0)
                        .collect()
                }
            };
            let ours = PAGE_VIEW_KEYS.iter().find(|(s, _)| *s == scene).unwrap().1;
            assert_eq!(names, ours, "{scene}");
        }
    }

    /// Every view option a run reads is its page's menu: the same values and default.
    #[test]
    fn the_view_options_read_are_the_pages_menus() {
        let pages = [("lazy", include_str!("../../www/js/scenes/lazy/page.js"))];
        assert_eq!(
            VIEW_READ.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            pages.iter().map(|(s, _)| *s).collect::<Vec<_>>()
        );
        for (scene, js) in pages {
            for o in view_options(scene) {
                let line = js
                    .lines()
                    .find(|l| l.contains(&format!("name: '{}'", o.name)))
                    .unwrap_or_else(|| panic!("{scene}: no view entry {}", o.name));
                let options = line.split_once("options: [").unwrap().1;
                let options = options.split_once("]],").unwrap().0;
                let values: Vec<&str> = options
                    .split("['")
                    .skip(1)
                    .map(|v| v.split_once('\'').unwrap().0)
                    .collect();
                assert_eq!(values, o.values, "{scene} {}", o.name);
                let default = line.split_once("default: '").unwrap().1;
                assert_eq!(default.split_once('\'').unwrap().0, o.default);
                assert!(
                    PAGE_VIEW_KEYS
                        .iter()
                        .any(|(s, k)| *s == scene && k.contains(&o.name))
                );
            }
        }
    }

    #[test]
    fn the_batch_size_menu_is_the_playgrounds() {
        let js = include_str!("../../www/js/core/controls.js");
        let entry = js.split_once("name: 'batchSize'").unwrap().1;
        let options = entry.split_once("options: [").unwrap().1;
        let options = options.split_once("]],").unwrap().0;
        let values: Vec<&str> = options
            .split("['")
            .skip(1)
            .map(|o| o.split_once('\'').unwrap().0)
            .collect();
        assert_eq!(values, PAGE_MENUS[0].2);
    }

    #[test]
    fn the_page_file_names_the_scene() {
        for (link, scene) in [
            (
                "https://example.org/descent/double-descent.html?seed=3",
                "double-descent",
            ),
            ("http://localhost:8080/step.html", "step"),
            ("https://example.org/descent/", "playground"),
            (
                "https://example.org/descent/index.html?width=64#fig-loss",
                "playground",
            ),
            ("weak-labels.html?bag=8", "weak-labels"),
            ("file:///home/me/www/lazy.html?alpha=10", "lazy"),
        ] {
            assert_eq!(read(link).unwrap().settings.scene(), scene, "{link}");
        }
        let e = read("https://example.org/other.html?x=1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("other.html") && e.contains("double-descent.html"),
            "{e}"
        );
    }

    #[test]
    fn numbers_are_read_strictly_and_clamped_as_the_page_does() {
        for ok in ["1", "-1", "+2.5", ".5", "5.", "1e3", "1E-3", "2.5e+2"] {
            assert!(strict_number(ok), "{ok}");
        }
        for bad in [
            "", ".", "e3", "1e", "0x10", "inf", "NaN", "1,5", "1 2", "--1", "1e3.5",
        ] {
            assert!(!strict_number(bad), "{bad}");
        }
        let l = read("index.html?width=5000&lr=abc&nTrain=10.5&seed=7").unwrap();
        let s = &l.settings;
        assert_eq!(s.num("width"), 4096.0);
        assert_eq!(
            s.get("lr"),
            &Settings::defaults("playground").unwrap().values["lr"]
        );
        assert_eq!(s.num("nTrain"), 11.0, "whole numbers round half up");
        assert_eq!(s.num("seed"), 7.0);
        let mut notes = l.notes.clone();
        notes.sort();
        assert_eq!(
            notes,
            [
                "lr: ignored \"abc\" (not a valid value)",
                "nTrain: \"10.5\" is out of range, using 11",
                "width: \"5000\" is out of range, using 4096",
            ]
        );
    }

    #[test]
    fn keys_match_without_case_and_the_exact_key_wins() {
        let l = read("index.html?WIDTH=32&width=64&Depth=2").unwrap();
        assert_eq!(l.settings.num("width"), 64.0);
        assert_eq!(l.settings.num("depth"), 2.0);
        assert!(l.notes.is_empty(), "{:?}", l.notes);
        // The first of a repeated key counts.
        let l = read("index.html?width=32&width=64").unwrap();
        assert_eq!(l.settings.num("width"), 32.0);
    }

    #[test]
    fn flags_menus_and_choices_take_only_their_values() {
        let l = read("index.html?centerOutput=1&activation=tanh&batchSize=64").unwrap();
        assert_eq!(l.settings.get("centerOutput"), &Field::Bool(true));
        assert_eq!(l.settings.get("activation"), &Field::Str("tanh".into()));
        assert_eq!(l.settings.num("batchSize"), 64.0);
        let l = read("index.html?centerOutput=yes&activation=gelu&batchSize=100").unwrap();
        let d = Settings::defaults("playground").unwrap();
        assert_eq!(l.settings, d);
        assert_eq!(l.notes.len(), 3, "{:?}", l.notes);
    }

    #[test]
    fn a_log_setting_from_zero_takes_zero_below_it() {
        let spec = crate::scenes::spec("playground").unwrap();
        let s = spec
            .settings
            .iter()
            .find(|s| s.scale == Scale::Log && s.min == 0.0)
            .expect("the playground has a log setting whose range starts at 0");
        assert_eq!(clamp(s, -3.0), 0.0);
        assert_eq!(clamp(s, 0.0), 0.0);
        let below = Setting {
            scale: Scale::Log,
            min: 1e-3,
            ..s.clone()
        };
        assert_eq!(clamp(&below, -3.0), 1e-3);
    }

    #[test]
    fn unknown_keys_are_noted_and_page_modes_passed_over() {
        let l = read("index.html?embed=1&play=0&logx=1&preset=lazy&width=64").unwrap();
        assert_eq!(l.settings.num("width"), 64.0);
        assert_eq!(l.notes.len(), 2, "{:?}", l.notes);
        assert!(
            l.notes[0].starts_with("logx: an option of the page's view"),
            "{:?}",
            l.notes
        );
        assert!(l.notes[1].starts_with("preset:"), "{:?}", l.notes);
        let l = read("index.html?frob=1").unwrap();
        assert_eq!(
            l.notes,
            ["\"frob\" is not a setting of playground (ignored)"]
        );
    }

    #[test]
    fn queries_decode_as_url_search_params() {
        assert_eq!(
            parse_query("?a=1+2&b=%41%zz&&c&d=x=y"),
            [
                ("a".to_string(), "1 2".to_string()),
                ("b".into(), "A%zz".into()),
                ("c".into(), "".into()),
                ("d".into(), "x=y".into()),
            ]
        );
    }

    #[test]
    fn numbers_are_written_as_the_page_writes_them() {
        // Exactly: the shortest digits that read back as the same number.
        assert_eq!(js_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js_number(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(js_number(1234567.0), "1234567");
        assert_eq!(js_number(4294967295.0), "4294967295");
        assert_eq!(js_number(1e-7), "1e-7");
        assert_eq!(js_number(2.5e-8), "2.5e-8");
        assert_eq!(js_number(1.5e21), "1.5e+21");
        assert_eq!(js_number(1e20), "100000000000000000000");
        assert_eq!(js_number(0.000001), "0.000001");
        assert_eq!(js_number(-0.0), "0");
    }

    #[test]
    fn the_link_back_reads_back_to_the_same_settings() {
        let mut s = Settings::defaults("playground").unwrap();
        s.set("width", Field::Num(64.0)).unwrap();
        s.set("centerOutput", Field::Bool(true)).unwrap();
        s.set("activation", Field::Str("tanh".into())).unwrap();
        let link = link_of(&s);
        assert!(link.starts_with("index.html?"), "{link}");
        assert!(
            link.contains("width=64") && link.contains("centerOutput=1"),
            "{link}"
        );
        assert!(
            link.contains("seed="),
            "the seed is always in the link: {link}"
        );
        let back = read(&link).unwrap();
        assert!(back.notes.is_empty(), "{:?}", back.notes);
        assert_eq!(back.settings, s);
    }

    #[test]
    fn the_link_back_keeps_every_digit() {
        // Six significant digits made seed 1234567 another seed, 1234570, and the largest seed
        // a number out of range.
        for (seed, lr) in [
            (1234567.0, 0.123456789),
            (4294967295.0, 0.30000000000000004),
        ] {
            let mut s = Settings::defaults("playground").unwrap();
            s.set("seed", Field::Num(seed)).unwrap();
            s.set("lr", Field::Num(lr)).unwrap();
            let link = link_of(&s);
            assert!(link.contains(&format!("seed={seed}")), "{link}");
            let back = read(&link).unwrap();
            assert!(back.notes.is_empty(), "{:?}", back.notes);
            assert_eq!(back.settings, s, "{link}");
        }
    }
}
