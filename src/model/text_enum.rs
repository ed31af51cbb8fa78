//! One definition for the enums that are stored and sent as text (statuses, stages, tiers…).

/// Declares an enum whose variants each have a stored text and a label in plain words, and gives
/// it `Debug, Clone, Copy, PartialEq, Eq, Hash`, `ALL`, `as_str`, `label`, `Display` (the stored
/// text), `FromStr` (an unknown text is refused as "unknown {what} '…' (expected …)") and serde as
/// the stored text (JSON, URLs and the database say the same). On the server it is also a sqlx TEXT type on
/// both databases, so rows carry the enum itself: a stored value Clearance does not know fails the
/// read with that message (and `db::Context` adds the table and column) — never a silent default.
///
/// ```ignore
/// text_enum! {
///     pub enum Tier("risk tier") { Low = "low" / "Low", High = "high" / "High" }
/// }
/// ```
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal / $label:literal ),+ $(,)?
        }
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; { let all: &[&str] = &[$($text),+]; all.len() }] = [$($name::$variant),+];

            /// The text stored in the database and used in URLs.
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text ),+ }
            }

            /// The variant in plain words, for people.
            pub fn label(self) -> &'static str {
                match self { $( $name::$variant => $label ),+ }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::Invalid;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let trimmed = s.trim();
                $name::ALL.into_iter().find(|v| v.as_str() == trimmed).ok_or_else(|| {
                    $crate::error::Invalid(format!(
                        "unknown {} '{}' (expected {})",
                        $what,
                        s,
                        [$($text),+].join(", ")
                    ))
                })
            }
        }

        #[cfg(feature = "ssr")]
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> <DB as sqlx::Database>::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &<DB as sqlx::Database>::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                text.parse::<$name>().map_err(Into::into)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'q str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::model::{IntegrityFilter, Stage, VerificationEventType};

    #[test]
    fn json_says_what_the_database_and_urls_say() {
        let json = serde_json::to_string(&VerificationEventType::Completed).unwrap();
        assert_eq!(json, "\"verification.completed\"");
        let back: VerificationEventType = serde_json::from_str(&json).unwrap();
        assert_eq!(back, VerificationEventType::Completed);
        assert_eq!(
            serde_json::to_string(&IntegrityFilter::Below60).unwrap(),
            "\"below_60\""
        );
        let unknown = serde_json::from_str::<Stage>("\"limbo\"").unwrap_err();
        assert!(
            unknown.to_string().contains("unknown stage 'limbo'"),
            "{unknown}"
        );
    }
}
