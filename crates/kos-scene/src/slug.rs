//! The site's name as one MQTT topic level, shared by the twin (which subscribes under it)
//! and the browser view (which publishes citizen reports under it).

/// Longest slug, bytes (the topic id limit).
pub const MAX_SLUG_LEN: usize = 64;

/// Lower-case ASCII letters and digits of `name`; runs of whitespace, `-` and `_` become one
/// `-`; anything else (topic wildcards and separators included) is dropped; at most
/// [`MAX_SLUG_LEN`] bytes; `"site"` when nothing is left.
pub fn site_slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if (c.is_whitespace() || c == '-' || c == '_') && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out.trim_matches('-').chars().take(MAX_SLUG_LEN).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("site");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_single_safe_topic_levels() {
        assert_eq!(site_slug("Aldermoor Commons"), "aldermoor-commons");
        assert_eq!(site_slug(" a/b+#c "), "abc");
        assert_eq!(site_slug("North_Quay -- 2"), "north-quay-2");
        assert_eq!(site_slug("  !! "), "site");
        assert_eq!(site_slug("Ünïcode  Town"), "ncode-town");
        let long = site_slug(&"x y ".repeat(40));
        assert!(long.len() <= MAX_SLUG_LEN && !long.ends_with('-'));
    }
}
