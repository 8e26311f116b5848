//! Conversions between structs that hold the same fields under the same names: the
//! layers keep their own types (an aggregator's state, the report's model, a state file's
//! layout) and copy counts between them, naming the fields once.

/// `same_fields!(A => B { x, y })` implements `From<&A> for B`, copying each field.
macro_rules! same_fields {
    ($from:path => $to:path { $($field:ident),* $(,)? }) => {
        impl From<&$from> for $to {
            fn from(v: &$from) -> Self {
                Self { $($field: v.$field.clone()),* }
            }
        }
    };
}
