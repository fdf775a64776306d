//! Holds no code: this package builds the workspace's tests (`tests/` at the top of the
//! repository) and benchmarks (`benches/`) against the `portcullis` facade, so that the
//! facade's own package is only the library.
