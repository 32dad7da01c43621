//! OS errors as syslog-ng prints `errno` in its messages: `Permission denied (13)`.

/// `e` as syslog-ng prints it: the description and the errno in parentheses (Rust's own
/// `(os error N)` suffix replaced); a non-OS error as it is.
pub fn os_error(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let text = std::io::Error::from_raw_os_error(n).to_string();
            let text = text
                .strip_suffix(&format!(" (os error {n})"))
                .unwrap_or(&text);
            format!("{text} ({n})")
        }
        None => e.to_string(),
    }
}
