//! Reading settings from the command line: `key=value` arguments (strict: a value out of its
//! range is refused with the range) and share links pasted whole (as the page reads them).

use crate::error::{Error, Result};
use crate::session::fields::Field;
use crate::session::settings::{Kind, SceneSpec, Setting};

/// `text` as a value of `setting`, checked against its kind and range: numbers as the page's
/// links write them, `true`/`false`/`1`/`0` for flags, an option's name for a choice, and
/// `null` (or nothing) for an optional setting left unset.
pub fn parse_value(setting: &Setting, text: &str) -> Result<Field> {
    let s = text.trim();
    let v = match &setting.kind {
        _ if setting.optional && (s.is_empty() || s == "null") => Field::Null,
        Kind::Bool => match s {
            "1" | "true" => Field::Bool(true),
            "0" | "false" => Field::Bool(false),
            _ => {
                return Err(Error::config(
                    setting.name,
                    format!("must be true or false (or 1 or 0), got {s:?}"),
                ));
            }
        },
        Kind::Choice { .. } => Field::Str(s.to_string()),
        Kind::Int | Kind::Float => match s.parse::<f64>() {
            Ok(x) if x.is_finite() && !s.contains(['i', 'I', 'n', 'N']) => Field::Num(x),
            _ => {
                return Err(Error::config(
                    setting.name,
                    format!(
                        "must be a number in [{}, {}], got {s:?}",
                        setting.min, setting.max
                    ),
                ));
            }
        },
    };
    SceneSpec {
        scene: "",
        settings: vec![setting.clone()],
    }
    .validate(&std::collections::BTreeMap::from([(
        setting.name.to_string(),
        v.clone(),
    )]))?;
    Ok(v)
}

/// The setting of `spec` called `key`, or an error naming the valid names and the closest one.
pub fn setting<'a>(spec: &'a SceneSpec, key: &str) -> Result<&'a Setting> {
    spec.get(key).ok_or_else(|| {
        let names: Vec<&str> = spec.settings.iter().map(|s| s.name).collect();
        let hint = closest(key, &names)
            .map(|c| format!(" Did you mean `{c}`?"))
            .unwrap_or_default();
        Error::Usage {
            message: format!(
                "{} has no setting `{key}`.{hint} Its settings are: {}.",
                spec.scene,
                names.join(", ")
            ),
        }
    })
}

/// The name in `names` nearest to `key` (case-insensitive edit distance), when it is near
/// enough to be a likely typo: at most a third of the longer name's letters differ.
pub fn closest<'a>(key: &str, names: &[&'a str]) -> Option<&'a str> {
    let key = key.to_lowercase();
    names
        .iter()
        .map(|&n| (edit_distance(&key, &n.to_lowercase()), n))
        .filter(|&(d, n)| d * 3 <= key.chars().count().max(n.chars().count()))
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n)
}

/// The edit distance between `a` and `b` in characters, a swap of two neighbours counting as
/// one edit (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let mut v = (d[(i - 1) * w + j - 1] + usize::from(a[i - 1] != b[j - 1]))
                    .min(d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(d[(i - 2) * w + j - 2] + 1);
                }
                v
            };
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_strictly_and_checked_against_the_table() {
        let spec = crate::scenes::spec("playground").unwrap();
        let width = spec.get("width").unwrap();
        assert_eq!(parse_value(width, "64").unwrap(), Field::Num(64.0));
        let e = parse_value(width, "5000").unwrap_err().to_string();
        assert!(e.contains("`width`") && e.contains("[1, 4096]"), "{e}");
        let e = parse_value(width, "wide").unwrap_err().to_string();
        assert!(e.contains("`width`") && e.contains("\"wide\""), "{e}");
        assert!(parse_value(width, "12.5").is_err());
        assert!(parse_value(width, "inf").is_err());
        let flag = spec.get("centerOutput").unwrap();
        assert_eq!(parse_value(flag, "1").unwrap(), Field::Bool(true));
        assert_eq!(parse_value(flag, "false").unwrap(), Field::Bool(false));
        assert!(parse_value(flag, "yes").is_err());
        let act = spec.get("activation").unwrap();
        assert_eq!(parse_value(act, "tanh").unwrap(), Field::Str("tanh".into()));
        let e = parse_value(act, "gelu").unwrap_err().to_string();
        assert!(e.contains("relu, erf, tanh, linear"), "{e}");
        let step = crate::scenes::spec("step").unwrap();
        assert_eq!(
            parse_value(step.get("lr").unwrap(), "null").unwrap(),
            Field::Null
        );
    }

    #[test]
    fn an_unknown_key_names_the_valid_ones_and_the_closest() {
        let spec = crate::scenes::spec("playground").unwrap();
        let e = setting(&spec, "widht").unwrap_err().to_string();
        assert!(e.contains("Did you mean `width`?"), "{e}");
        assert!(e.contains("nTrain") && e.contains("initScale"), "{e}");
        let e = setting(&spec, "zzzzzzzz").unwrap_err().to_string();
        assert!(!e.contains("Did you mean"), "{e}");
        assert_eq!(closest("ntrain", &["nTrain", "noise"]), Some("nTrain"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("widht", "width"), 1);
    }
}
