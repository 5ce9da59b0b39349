//! pipelab-book: builds the course's book (book/) into book/build with
//! mdBook's library, pinned in Cargo.lock, so nothing is installed globally.
//!
//! Usage (through the runner, which execs this program):
//!   cargo lab book                  build into book/build
//!   cargo lab book --open           build, then open it in a browser
//!   cargo lab book --serve          serve on http://127.0.0.1:3000, rebuild on change
//!   cargo lab book --serve --port 8080
//!
//! The built book needs no network: fonts, scripts and the search index are
//! all in book/build, so it can be read straight from disk.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use clap::Parser;
use pipelab_book::serve::{self, Site};

/// Builds the pipelab book into book/build; opens or serves it on request.
#[derive(Parser)]
#[command(name = "pipelab-book", version)]
struct Args {
    /// Open the built book in a browser (xdg-open); without one, print its path.
    #[arg(long, conflicts_with = "serve")]
    open: bool,

    /// Serve the book on 127.0.0.1 and rebuild it whenever a source changes.
    #[arg(long)]
    serve: bool,

    /// The port for --serve [default: 3000].
    #[arg(long)]
    port: Option<u16>,
}

fn main() -> ExitCode {
    let args: Args = labkit::cli::parse();
    if args.port.is_some() && !args.serve {
        eprintln!("pipelab-book: --port is for --serve: use --serve --port N");
        return ExitCode::from(2);
    }
    let workspace = pipelab_book::workspace();
    let book_dir = workspace.join("book");
    let build_dir = book_dir.join("build");

    if !build(&book_dir, &build_dir) {
        return ExitCode::FAILURE;
    }
    let index = build_dir.join("index.html");
    if args.open {
        open(&index);
    } else if args.serve {
        return serve_forever(
            workspace,
            book_dir,
            build_dir,
            args.port.unwrap_or(3000),
        );
    }
    ExitCode::SUCCESS
}

/// Builds and reports in one line; false when the build failed.
fn build(book_dir: &Path, build_dir: &Path) -> bool {
    match pipelab_book::build(book_dir, build_dir) {
        Ok(built) => {
            println!(
                "built the book in {} ms: {}",
                built.took.as_millis(),
                built.index().display()
            );
            true
        }
        Err(error) => {
            eprintln!("pipelab-book: {error}");
            false
        }
    }
}

/// Opens `index` with the desktop's browser, or says where it is.
fn open(index: &Path) {
    let opened = Command::new("xdg-open")
        .arg(index)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !opened {
        println!(
            "no browser could be opened here; open this file in one: {}",
            index.display()
        );
    }
}

fn serve_forever(
    workspace: PathBuf,
    book_dir: PathBuf,
    build_dir: PathBuf,
    port: u16,
) -> ExitCode {
    let listener = match serve::bind(port) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "pipelab-book: cannot listen on 127.0.0.1:{port}: {error}"
            );
            return ExitCode::FAILURE;
        }
    };
    println!(
        "serving the book on http://127.0.0.1:{port}/ (Ctrl-C to stop); rebuilding on change"
    );
    let site = Site { workspace, build_dir: build_dir.clone() };
    let rebuild = move || {
        build(&book_dir, &build_dir);
    };
    match serve::serve(&site, listener, rebuild) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pipelab-book: {error}");
            ExitCode::FAILURE
        }
    }
}
