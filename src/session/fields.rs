//! A configuration's top-level fields by name, read through its `Serialize` impl (flattened
//! structs included): what [`super::settings`] checks a configuration with. Values are the few
//! kinds a setting has; numbers keep their f64 value, non-finite ones included.

use std::fmt;

use serde::ser::{self, Impossible, Serialize};

/// One field's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// An optional field left unset.
    Null,
    Bool(bool),
    Num(f64),
    /// A string, or the name of an enum's unit variant.
    Str(String),
}

impl Serialize for Field {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Null => s.serialize_none(),
            Field::Bool(b) => s.serialize_bool(*b),
            Field::Num(x) => s.serialize_f64(*x),
            Field::Str(v) => s.serialize_str(v),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Null => f.write_str("nothing"),
            Field::Bool(b) => write!(f, "{b}"),
            Field::Num(x) => write!(f, "{x}"),
            Field::Str(v) => write!(f, "{v:?}"),
        }
    }
}

/// The fields of `value` (a struct or map of scalars), in its order. Panics on a value of
/// another shape, or on a field that is not a scalar: a scene's configuration is flat.
pub fn fields_of<T: Serialize + ?Sized>(value: &T) -> Vec<(String, Field)> {
    let mut out = Vec::new();
    match value.serialize(Top(&mut out)) {
        Ok(()) => out,
        Err(Unsupported(what)) => {
            panic!("a scene configuration is a flat struct of scalars: {what}")
        }
    }
}

/// One scalar's value (an enum's unit variant gives its serialised name). Panics on a value of
/// another shape.
pub fn scalar_of<T: Serialize + ?Sized>(value: &T) -> Field {
    match value.serialize(Scalar) {
        Ok(v) => v,
        Err(Unsupported(what)) => panic!("not a scalar: {what}"),
    }
}

/// The error of a value of another shape.
#[derive(Debug)]
pub struct Unsupported(String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Unsupported(msg.to_string())
    }
}

fn unsupported<T>(what: &str) -> Result<T, Unsupported> {
    Err(Unsupported(format!("{what} is not supported")))
}

/// The compound shapes no configuration field has: sequences, tuples and enum variants with
/// data (`$ok` is the serializer's `Ok`).
macro_rules! no_compounds {
    ($ok:ty) => {
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<$ok, Unsupported> {
            unsupported("an enum variant with data")
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
            unsupported("a sequence")
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
            unsupported("a tuple")
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Unsupported> {
            unsupported("a tuple struct")
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Unsupported> {
            unsupported("a tuple variant")
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Unsupported> {
            unsupported("a struct variant")
        }
    };
}

/// Serialises one scalar into a [`Field`].
struct Scalar;

macro_rules! numbers {
    ($($method:ident: $t:ty),*) => {
        $(fn $method(self, v: $t) -> Result<Field, Unsupported> {
            Ok(Field::Num(v as f64))
        })*
    };
}

impl ser::Serializer for Scalar {
    type Ok = Field;
    type Error = Unsupported;
    type SerializeSeq = Impossible<Field, Unsupported>;
    type SerializeTuple = Impossible<Field, Unsupported>;
    type SerializeTupleStruct = Impossible<Field, Unsupported>;
    type SerializeTupleVariant = Impossible<Field, Unsupported>;
    type SerializeMap = Impossible<Field, Unsupported>;
    type SerializeStruct = Impossible<Field, Unsupported>;
    type SerializeStructVariant = Impossible<Field, Unsupported>;

    numbers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
        serialize_f32: f32, serialize_f64: f64);
    no_compounds!(Field);

    fn serialize_bool(self, v: bool) -> Result<Field, Unsupported> {
        Ok(Field::Bool(v))
    }
    fn serialize_char(self, v: char) -> Result<Field, Unsupported> {
        Ok(Field::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Field, Unsupported> {
        Ok(Field::Str(v.to_string()))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Field, Unsupported> {
        unsupported("bytes")
    }
    fn serialize_none(self) -> Result<Field, Unsupported> {
        Ok(Field::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Field, Unsupported> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Field, Unsupported> {
        Ok(Field::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Field, Unsupported> {
        Ok(Field::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Field, Unsupported> {
        Ok(Field::Str(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Field, Unsupported> {
        v.serialize(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        unsupported("a nested map")
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Unsupported> {
        unsupported("a nested struct")
    }
}

/// A scalar where a struct or map belongs: not a configuration.
macro_rules! scalars_at_the_top {
    ($($method:ident: $t:ty),*) => {
        $(fn $method(self, _: $t) -> Result<(), Unsupported> {
            unsupported("a scalar at the top")
        })*
    };
}

/// Serialises a struct or map into its list of fields (a flattened struct arrives as map
/// entries of its parent).
struct Top<'a>(&'a mut Vec<(String, Field)>);

/// A map's pending key.
struct Entries<'a> {
    out: &'a mut Vec<(String, Field)>,
    key: Option<String>,
}

impl<'a> ser::Serializer for Top<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Impossible<(), Unsupported>;
    type SerializeTuple = Impossible<(), Unsupported>;
    type SerializeTupleStruct = Impossible<(), Unsupported>;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Entries<'a>;
    type SerializeStruct = Entries<'a>;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    fn serialize_map(self, _: Option<usize>) -> Result<Entries<'a>, Unsupported> {
        Ok(Entries {
            out: self.0,
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Entries<'a>, Unsupported> {
        Ok(Entries {
            out: self.0,
            key: None,
        })
    }

    scalars_at_the_top!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16,
        serialize_i32: i32, serialize_i64: i64, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_f32: f32, serialize_f64: f64,
        serialize_char: char, serialize_str: &str);
    no_compounds!(());

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        unsupported("bytes")
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        unsupported("nothing at the top")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Unsupported> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        unsupported("a unit at the top")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        unsupported("a unit struct at the top")
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Unsupported> {
        unsupported("a variant at the top")
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        v.serialize(self)
    }
}

impl ser::SerializeMap for Entries<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        match key.serialize(Scalar)? {
            Field::Str(k) => {
                self.key = Some(k);
                Ok(())
            }
            other => unsupported(&format!("the key {other}")),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Unsupported("a value without a key".into()))?;
        let v = value.serialize(Scalar)?;
        self.out.push((key, v));
        Ok(())
    }
    fn end(self) -> Result<(), Unsupported> {
        Ok(())
    }
}

impl ser::SerializeStruct for Entries<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        let v = value.serialize(Scalar)?;
        self.out.push((key.to_string(), v));
        Ok(())
    }
    fn end(self) -> Result<(), Unsupported> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Field, fields_of};
    use serde::Serialize;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        width: usize,
        act: Act,
    }

    #[derive(Serialize, Clone, Copy)]
    #[serde(rename_all = "camelCase")]
    enum Act {
        MeanField,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Outer {
        #[serde(flatten)]
        inner: Inner,
        lr: f64,
        lr_override: Option<f64>,
        on: bool,
    }

    #[test]
    fn flattened_structs_give_their_fields_in_order_and_numbers_stay_exact() {
        let v = Outer {
            inner: Inner {
                width: 7,
                act: Act::MeanField,
            },
            lr: f64::INFINITY,
            lr_override: None,
            on: true,
        };
        assert_eq!(
            fields_of(&v),
            vec![
                ("width".to_string(), Field::Num(7.0)),
                ("act".to_string(), Field::Str("meanField".into())),
                ("lr".to_string(), Field::Num(f64::INFINITY)),
                ("lrOverride".to_string(), Field::Null),
                ("on".to_string(), Field::Bool(true)),
            ]
        );
    }
}
