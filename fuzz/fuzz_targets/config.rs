//! Fuzzes config loading and policy compilation: any input gives a config or errors
//! with paths, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_core::{Config, Policy, ScopeVars};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_json(text) {
        Ok(config) => {
            let _ = Policy::compile(&config, &ScopeVars::new().with("V", "/tmp"));
        }
        Err(errors) => assert!(!errors.0.is_empty()),
    }
});
