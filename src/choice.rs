//! Named choices (`--preset broad`, `--backend flex`, ...): the enums derive their names,
//! parsing and display with `strum`; a name that matches no variant is one typed error that
//! lists the accepted names.

use crate::error::NgmnnError;

/// An enum whose variants are chosen by name on the command line and in JSON.
pub trait Choice: strum::VariantNames {
    /// The option the value sets, as named in errors ("preset", "backend", ...).
    const OPTION: &'static str;
}

/// Declare a named-choice enum: the derives every choice has (`Debug`, `Clone`, `Copy`,
/// `PartialEq`, `Eq`, and strum's `Display`, `EnumString` (case-insensitive, lowercase names,
/// the typed error of [`unknown`]), `IntoStaticStr`, `VariantNames`), its [`Choice`] impl and
/// its `name()`, around the enum as written (its docs, other derives and attributes, variants).
macro_rules! choice_enum {
    ($option:literal, $(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            strum_macros::Display,
            strum_macros::EnumString,
            strum_macros::IntoStaticStr,
            strum_macros::VariantNames,
        )]
        #[strum(
            serialize_all = "lowercase",
            ascii_case_insensitive,
            parse_err_ty = $crate::error::NgmnnError,
            parse_err_fn = $crate::choice::unknown::<$name>
        )]
        $(#[$meta])*
        $vis enum $name { $($body)* }

        impl $crate::choice::Choice for $name {
            const OPTION: &'static str = $option;
        }

        impl $name {
            /// The name on the command line and in JSON.
            pub fn name(self) -> &'static str {
                self.into()
            }
        }
    };
}
pub(crate) use choice_enum;

/// The error for a name that is none of `T`'s variants (strum's `parse_err_fn`).
pub(crate) fn unknown<T: Choice>(value: &str) -> NgmnnError {
    NgmnnError::config(
        T::OPTION,
        value,
        format!("expected one of {}", T::VARIANTS.join(", ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Preset;

    #[test]
    fn names_parse_case_insensitively_and_unknown_names_list_the_choices() {
        assert_eq!("Broad".parse::<Preset>().unwrap(), Preset::Broad);
        assert_eq!(Preset::Paper.to_string(), "paper");
        let err = "sgd".parse::<Preset>().unwrap_err();
        match err {
            NgmnnError::InvalidConfig { field, rule, .. } => {
                assert_eq!(field, "preset");
                assert_eq!(rule, "expected one of paper, corrected, broad");
            }
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }
}
