//! `cargo lab book --serve`: the built book on http://127.0.0.1:PORT, rebuilt
//! whenever one of its sources changes.
//!
//! A few dozen lines of std instead of an async web stack: the book is a
//! directory of static files read by one person. Changes are found by
//! polling modification times twice a second, which needs no platform
//! watcher and notices edits to the lesson sources that chapters include.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::thread;
use std::time::{Duration, SystemTime};

/// What the server watches and what it serves.
pub struct Site {
    /// The workspace root: book/ and lessons/ are under it.
    pub workspace: PathBuf,
    /// The built book, served as is.
    pub build_dir: PathBuf,
}

/// Binds 127.0.0.1:`port` (only this machine can connect). Port 0 picks a
/// free one; the listener knows which.
pub fn bind(port: u16) -> io::Result<TcpListener> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
}

/// Serves `site` on `listener` until the process is stopped, rebuilding with
/// `rebuild` whenever a source changes.
pub fn serve(
    site: &Site,
    listener: TcpListener,
    rebuild: impl Fn() + Send + 'static,
) -> io::Result<()> {
    let sources = sources(&site.workspace);
    thread::spawn(move || watch(&sources, rebuild));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let root = site.build_dir.clone();
        thread::spawn(move || {
            // A browser that goes away mid-answer is not our problem.
            let _ = answer(&root, stream);
        });
    }
    Ok(())
}

/// The files and directories whose changes call for a rebuild: the book's
/// own sources, and the lesson sources that chapters include.
fn sources(workspace: &Path) -> Vec<PathBuf> {
    let mut roots = vec![
        workspace.join("book/book.toml"),
        workspace.join("book/src"),
        workspace.join("book/theme"),
    ];
    if let Ok(lessons) = fs::read_dir(workspace.join("lessons")) {
        roots.extend(lessons.flatten().map(|lesson| lesson.path().join("src")));
    }
    roots
}

/// Modification time of every file under `roots`, by path.
fn fingerprint(roots: &[PathBuf]) -> BTreeMap<PathBuf, SystemTime> {
    let mut seen = BTreeMap::new();
    let mut pending: Vec<PathBuf> = roots.to_vec();
    while let Some(path) = pending.pop() {
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = fs::read_dir(&path) {
                pending.extend(entries.flatten().map(|entry| entry.path()));
            }
        } else if let Ok(modified) = meta.modified() {
            seen.insert(path, modified);
        }
    }
    seen
}

/// Rebuilds on every change, until the book itself (the first root, its
/// book.toml) is gone.
fn watch(roots: &[PathBuf], rebuild: impl Fn()) {
    let mut last = fingerprint(roots);
    loop {
        thread::sleep(Duration::from_millis(500));
        if !roots[0].is_file() {
            println!("{} is gone: no more rebuilds", roots[0].display());
            return;
        }
        let now = fingerprint(roots);
        if now != last {
            let changed = now
                .iter()
                .find(|(path, time)| last.get(*path) != Some(time))
                .map(|(path, _)| path.display().to_string())
                .unwrap_or_else(|| "a file was removed".to_string());
            println!("changed: {changed}");
            rebuild();
            last = now;
        }
    }
}

/// Answers one HTTP/1.0-style request: GET of a file under `root`.
fn answer(root: &Path, mut stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request_line = String::new();
    BufReader::new(&stream).read_line(&mut request_line)?;
    let mut words = request_line.split_whitespace();
    let (method, target) =
        (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
            true,
        );
    }
    let Some(path) = file_for(root, target) else {
        return respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            true,
        );
    };
    match fs::read(&path) {
        Ok(body) => respond(
            &mut stream,
            "200 OK",
            content_type(&path),
            &body,
            method == "GET",
        ),
        Err(_) => {
            let body = fs::read(root.join("404.html"))
                .unwrap_or_else(|_| b"not found\n".to_vec());
            respond(
                &mut stream,
                "404 Not Found",
                "text/html; charset=utf-8",
                &body,
                true,
            )
        }
    }
}

/// The file a URL path names under `root`; a directory means its
/// index.html. None for a path that tries to climb out.
fn file_for(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let mut file = root.to_path_buf();
    for component in Path::new(path.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    Some(file)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_cannot_climb_out_of_the_book() {
        let root = Path::new("/srv/book");
        assert_eq!(file_for(root, "/../etc/passwd"), None);
        assert_eq!(
            file_for(root, "/img/01-fds.svg?x=1"),
            Some(PathBuf::from("/srv/book/img/01-fds.svg"))
        );
    }
}
