//! Records the versions of the key libraries from Cargo.lock, so every project file says what
//! produced it.

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    for (name, var) in
        [("polars", "STRATA_POLARS_VERSION"), ("ndarray", "STRATA_NDARRAY_VERSION"), ("rayon", "STRATA_RAYON_VERSION")]
    {
        let mut version = "unknown".to_string();
        let mut lines = lock.lines();
        while let Some(line) = lines.next() {
            if line == format!("name = \"{name}\"") {
                if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                    version = v.trim_end_matches('"').to_string();
                }
                break;
            }
        }
        println!("cargo:rustc-env={var}={version}");
    }
}
