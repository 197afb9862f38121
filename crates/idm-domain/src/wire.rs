//! The one declaration of a string-valued enum (`wire_enum!`), shared by every module that has
//! such enums: states, credential types, property kinds, FIDO2 options, OTP parameters.

/// Declares a string-valued enum with its wire names: the enum (serde renames each variant to
/// its wire name), `ALL`, `as_str`, `Display` and `FromStr`.
///
/// `parse:` says what `FromStr` does with anything that is not a wire name, because the
/// callers need different things:
/// - `parse: "Label"` — exact names; otherwise 422 `errors.invalidParameter`,
///   `Invalid Label name '<input>'` (nevisIDM's enum look-up message);
/// - `parse: (any_case "Label")` — the same, but ignoring ASCII case;
/// - `parse: String` — exact names; the error is the rejected input (the caller words it);
/// - `parse: ()` — exact names; the caller names the field in its own 422.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident, parse: $parse:tt {
            $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        wire_enum!(@from_str $name, $parse);
    };
    (@from_str $name:ident, ()) => {
        impl ::std::str::FromStr for $name {
            type Err = ();

            /// Exact wire names only; the caller names the field in its 422.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or(())
            }
        }
    };
    (@from_str $name:ident, String) => {
        impl ::std::str::FromStr for $name {
            /// The rejected input.
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| s.to_owned())
            }
        }
    };
    (@from_str $name:ident, (any_case $label:literal)) => {
        wire_enum!(@domain_error $name, $label, |v: $name, s: &str| v.as_str().eq_ignore_ascii_case(s));
    };
    (@from_str $name:ident, $label:literal) => {
        wire_enum!(@domain_error $name, $label, |v: $name, s: &str| v.as_str() == s);
    };
    (@domain_error $name:ident, $label:literal, $matches:expr) => {
        impl ::std::str::FromStr for $name {
            type Err = $crate::error::DomainError;

            /// Wire names only; anything else is 422 `errors.invalidParameter`, worded like
            /// nevisIDM's enum look-up.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| ($matches)(*v, s)).ok_or_else(|| {
                    $crate::error::DomainError::unprocessable(
                        $crate::error_code::ErrorCode::InvalidParameter,
                        format!(concat!("Invalid ", $label, " name '{}'"), s),
                    )
                })
            }
        }
    };
}
