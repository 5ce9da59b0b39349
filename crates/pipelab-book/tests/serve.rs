//! `--serve`: the book is served on 127.0.0.1 and rebuilt when a source
//! changes. Checked on a small book of its own in a temporary directory, so
//! the real book/ is never touched.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use labkit::watchdog::run;
use pipelab_book::serve::{self, Site};

/// One GET, answered in full (the server closes after each answer).
fn get(port: u16, path: &str) -> String {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).expect("the server accepts");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("a whole answer within 10 s");
    answer
}

fn write_chapter(book: &Path, words: &str) {
    fs::write(book.join("src/chapter.md"), format!("# A chapter\n\n{words}\n"))
        .unwrap();
}

#[test]
fn the_server_serves_the_book_and_rebuilds_it_on_change() {
    let workspace = tempfile::tempdir().unwrap();
    let book = workspace.path().join("book");
    fs::create_dir_all(book.join("src")).unwrap();
    fs::write(book.join("book.toml"), "[book]\ntitle = \"t\"\n").unwrap();
    fs::write(
        book.join("src/SUMMARY.md"),
        "# Summary\n\n- [A chapter](chapter.md)\n",
    )
    .unwrap();
    write_chapter(&book, "first words");
    let build_dir = book.join("build");
    pipelab_book::build(&book, &build_dir).expect("the small book builds");

    let listener = serve::bind(0).expect("a free port on 127.0.0.1");
    let port = listener.local_addr().unwrap().port();
    let site = Site {
        workspace: workspace.path().to_path_buf(),
        build_dir: build_dir.clone(),
    };
    let (rebuild_book, rebuild_dir) = (book.clone(), build_dir.clone());
    // The server runs for the rest of this test process; it holds no file
    // of ours open between requests, so the temporary directory still goes.
    thread::spawn(move || {
        serve::serve(&site, listener, move || {
            let _ = pipelab_book::build(&rebuild_book, &rebuild_dir);
        })
    });

    let first = get(port, "/chapter.html");
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(first.contains("first words"), "{first}");
    assert!(get(port, "/").contains("A chapter"));
    assert!(get(port, "/../book.toml").starts_with("HTTP/1.1 404"));
    assert!(get(port, "/no-such-page.html").starts_with("HTTP/1.1 404"));

    // Make sure the new modification time differs from the old one.
    thread::sleep(Duration::from_millis(1100));
    write_chapter(&book, "second words");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = get(port, "/chapter.html");
        if page.contains("second words") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server still served the old chapter 20 s after it changed:\n{page}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_bad_argument_is_one_line_and_status_2() {
    for (args, named) in [
        (&["--no-such-flag"][..], "--no-such-flag"),
        (&["--port", "8080"][..], "--serve"),
    ] {
        let done = run(
            Command::new(env!("CARGO_BIN_EXE_pipelab-book")).args(args),
            Duration::from_secs(20),
        )
        .expect("pipelab-book ends at once on a bad flag");
        assert_eq!(done.status.code(), Some(2), "{args:?}: {}", done.stderr);
        assert_eq!(done.stderr.lines().count(), 1, "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains(named), "{args:?}: {}", done.stderr);
    }
}
