pub use portcullis_core::*;
