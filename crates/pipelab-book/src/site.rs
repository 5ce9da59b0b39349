//! The built book read back: its pages, their links, anchors and text.
//!
//! mdBook writes plain, well-quoted HTML (`href="..."`), so a small scanner
//! is enough here; no HTML parser is pulled in for it.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// One built HTML page.
#[derive(Debug)]
pub struct Page {
    /// Its path under the build directory, with `/` separators: `01-pipe-fork.html`.
    pub name: String,
    pub html: String,
}

/// Every `.html` file under `dir`, in name order.
pub fn pages(dir: &Path) -> io::Result<Vec<Page>> {
    let mut found = Vec::new();
    walk(dir, dir, &mut found)?;
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<Page>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "html") {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            found.push(Page { name, html: fs::read_to_string(&path)? });
        }
    }
    Ok(())
}

/// The values of one attribute (`href`, `src`, `id`) everywhere in `html`.
pub fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!(" {attribute}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// The targets a page points to that the book itself must provide: links,
/// images, scripts and stylesheets, without `http:`, `https:` or `mailto:`.
pub fn local_targets(html: &str) -> Vec<String> {
    attribute_values(html, "href")
        .into_iter()
        .chain(attribute_values(html, "src"))
        .map(decode_entities)
        .filter(|target| {
            !target.is_empty()
                && !target.contains("://")
                && !target.starts_with("mailto:")
        })
        .collect()
}

/// Every broken internal link in the book built at `dir`: a file that does
/// not exist, or an `#anchor` that no element of the target page carries.
/// Each problem names the page and the link.
pub fn broken_links(dir: &Path) -> io::Result<Vec<String>> {
    let pages = pages(dir)?;
    let anchors: BTreeMap<&str, HashSet<String>> = pages
        .iter()
        .map(|page| (page.name.as_str(), ids(&page.html)))
        .collect();
    let mut broken = Vec::new();
    for page in &pages {
        // The 404 page resolves its links against the site's root URL
        // (`<base href="/">`), which is not this directory.
        if page.name == "404.html" {
            continue;
        }
        for target in local_targets(&page.html) {
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let file = file.split('?').next().unwrap_or_default();
            let resolved = if file.is_empty() {
                page.name.clone()
            } else {
                match resolve(&page.name, file) {
                    Some(resolved) => resolved,
                    None => {
                        broken.push(format!(
                            "{}: {target} leaves the book",
                            page.name
                        ));
                        continue;
                    }
                }
            };
            let on_disk = dir.join(&resolved);
            let resolved = if on_disk.is_dir() {
                format!("{}/index.html", resolved.trim_end_matches('/'))
            } else {
                resolved
            };
            if !dir.join(&resolved).is_file() {
                broken.push(format!(
                    "{}: {target}: no file {resolved}",
                    page.name
                ));
                continue;
            }
            if let Some(anchor) = anchor.filter(|anchor| !anchor.is_empty()) {
                let known = anchors
                    .get(resolved.as_str())
                    .is_some_and(|ids| ids.contains(anchor));
                if !known {
                    broken.push(format!(
                        "{}: {target}: {resolved} has no element with id \"{anchor}\"",
                        page.name
                    ));
                }
            }
        }
    }
    Ok(broken)
}

/// The ids (and old-style `name`s) of a page's elements.
pub fn ids(html: &str) -> HashSet<String> {
    attribute_values(html, "id")
        .into_iter()
        .chain(attribute_values(html, "name"))
        .map(decode_entities)
        .collect()
}

/// `link` as seen from the page `from` (both relative to the build
/// directory), or None when it climbs out of the book.
fn resolve(from: &str, link: &str) -> Option<String> {
    let base = Path::new(from).parent().unwrap_or(Path::new(""));
    let mut parts: Vec<String> = Vec::new();
    for component in base.join(percent_decode(link)).components() {
        match component {
            Component::Normal(part) => {
                parts.push(part.to_string_lossy().into_owned())
            }
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect::<PathBuf>().to_string_lossy().into_owned())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The text a reader sees: tags removed, the usual entities decoded.
pub fn text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        match rest[open..].find('>') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    decode_entities(&out)
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_against_the_page_directory() {
        assert_eq!(resolve("a/b.html", "../c.html").as_deref(), Some("c.html"));
        assert_eq!(
            resolve("b.html", "img/x%20y.svg").as_deref(),
            Some("img/x y.svg")
        );
        assert_eq!(resolve("b.html", "../../etc/passwd"), None);
    }

    #[test]
    fn text_drops_tags_and_decodes_entities() {
        let html = r#"<pre><code class="language-rust">let x = <span>a</span> &amp;&amp; b &lt; &quot;c&quot;;</code></pre>"#;
        assert_eq!(text(html), r#"let x = a && b < "c";"#);
    }

    #[test]
    fn external_links_are_not_local_targets() {
        let html = r##"<a href="https://man7.org/x">m</a> <img src="img/a.svg"> <a href="#top">t</a>"##;
        assert_eq!(local_targets(html), ["#top", "img/a.svg"]);
    }
}
