//! Links the embedded Python interpreter so that the binaries find it at run time on a fresh
//! machine: an rpath to the libpython pyo3 was built against, and that interpreter's prefix
//! recorded as the default PYTHONHOME (so the standard library matches the library, whatever
//! `python3` comes first on PATH when the daemon runs).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    pyo3_build_config::add_libpython_rpath_link_args();
    let config = pyo3_build_config::get();
    let exe = config
        .executable()
        .map(str::to_string)
        .unwrap_or_else(|| "python3".to_string());
    let home = Command::new(&exe)
        .args(["-c", "import sys; print(sys.base_prefix)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=SLUICE_PYTHON_HOME={home}");
    println!("cargo:rustc-env=SLUICE_PYTHON_EXE={exe}");
}
