//! Lesson 09 — `pipe-speed`: how fast is a pipe? Measured honestly.
//!
//! What it teaches: a speed is a measurement, and a measurement is a
//! method. This program measures, on your machine and in one run, the
//! streaming throughput of an anonymous pipe, a FIFO and a socketpair for
//! write sizes from 64 B to 1 MiB; what a 1 MiB pipe (F_SETPIPE_SZ) and the
//! zero-copy path (vmsplice into the pipe, splice out of it) change; the
//! round trips per second of a 1 KiB ping-pong; ipc-bench's method, whose
//! "254,880 FIFO messages per second" is the figure everybody quotes; all
//! of it unpinned and with both processes on one CPU; the same streaming
//! and ping-pong in C; and, beside them, what the machine can do at all
//! (memcpy, and one process writing and reading its own pipe).
//!
//! Usage:
//!   cargo lab run 9                   the full run (a few minutes)
//!   cargo lab run 9 -- --quick        under a minute
//!   cargo lab run 9 -- --quick --json r.json --svg r.svg
//!
//! What to look for: the ratios, not the absolute figures (those are your
//! machine's). Small writes cost a system call each; a bigger pipe helps
//! big writes; one CPU is faster for ping-pong than two (no cross-CPU
//! wake-up) and slower for streaming (no parallelism); Rust and C agree;
//! and ipc-bench's "message" is not a round trip of data at all.

mod machine;
mod method;
mod report;
mod runs;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use labkit::Speaker::{Kernel, Note};
use labkit::cli::failed;
use labkit::{say, trace};

use machine::{Machine, Placement, place, read_machine};
use method::{Measurement, Phase, Plan, RunFn, measure_group};
use runs::{BIG_PIPE, Result, Run};

/// Measures pipes, FIFOs and socketpairs on this machine, with a method
/// that survives a careful reading: warm-up, repetitions taken in turn,
/// median with its spread, the same measurement in C, and the limits of
/// the machine beside it.
#[derive(Parser)]
#[command(name = "pipe-speed", version)]
struct Args {
    /// A run under a minute: shorter and fewer repetitions.
    #[arg(long)]
    quick: bool,

    /// Writes every figure, with its unit and conditions, to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<std::path::PathBuf>,

    /// Draws throughput against write size, one line per mechanism, to
    /// FILE as SVG.
    #[arg(long, value_name = "FILE")]
    svg: Option<std::path::PathBuf>,

    /// Milliseconds each counted run lasts [default: 200, --quick 40].
    #[arg(long, value_name = "MS", value_parser = millis)]
    run_ms: Option<u64>,

    /// Milliseconds of each warm-up run [default: 100, --quick 20].
    #[arg(long, value_name = "MS", value_parser = millis)]
    warmup_ms: Option<u64>,

    /// Counted runs per mechanism [default: 7, --quick 5].
    #[arg(long, value_name = "N", value_parser = repetitions)]
    repetitions: Option<u64>,

    /// Prints <x> in place of every measured figure and machine detail: the
    /// table's layout without what varies (the book's transcript uses it).
    #[arg(long)]
    hide_figures: bool,

    /// The peer side of a run (started by this program itself).
    #[arg(long, hide = true)]
    peer: Option<String>,
    #[arg(long, hide = true, default_value_t = 1024)]
    peer_size: usize,
    #[arg(long, hide = true)]
    peer_fifo: Vec<std::path::PathBuf>,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

/// Reads `--run-ms` and `--warmup-ms`: 1 to 10000 milliseconds.
fn millis(text: &str) -> std::result::Result<u64, String> {
    match text.parse::<u64>() {
        Ok(ms) if (1..=10_000).contains(&ms) => Ok(ms),
        _ => {
            Err(format!("expected milliseconds from 1 to 10000, got {text:?}"))
        }
    }
}

/// Reads `--repetitions`: 1 to 100.
fn repetitions(text: &str) -> std::result::Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(format!("expected a count from 1 to 100, got {text:?}")),
    }
}

/// The write sizes measured: 64 B to 1 MiB.
const SIZES: [usize; 5] = [64, 1024, 4096, 65536, 1 << 20];
/// The message size of the ping-pong and of ipc-bench's method.
const MESSAGE: usize = 1024;
/// ipc-bench's default message count, used for its warm-up run.
const IPCBENCH_COUNT: u64 = 1000;

fn main() -> ExitCode {
    labkit::cli::main(|args: Args| {
        args.common.apply();
        if let Some(role) = &args.peer {
            // This process is one end of a measurement (the hidden --peer).
            let fifos: Vec<_> =
                args.peer_fifo.iter().map(|p| p.as_path()).collect();
            return runs::run_peer(role, args.peer_size, &fifos)
                .map(|()| ExitCode::SUCCESS)
                .map_err(|error| format!("peer: {error}"));
        }
        run(&args).map(|()| ExitCode::SUCCESS).map_err(|e| e.to_string())
    })
}

/// What is measured: one row of the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    Memcpy,
    WriteRead,
    Pipe,
    BigPipe,
    Fifo,
    Socketpair,
    Vmsplice,
    CPipe,
    CSocketpair,
    PingPipes,
    PingFifos,
    PingSocketpair,
    CPingPipes,
    CPingSocketpair,
    IpcbenchFifo,
    IpcbenchPipe,
}

use Mechanism::*;

const STREAMING: [Mechanism; 9] = [
    Memcpy,
    WriteRead,
    Pipe,
    BigPipe,
    Fifo,
    Socketpair,
    Vmsplice,
    CPipe,
    CSocketpair,
];
const LATENCY: [Mechanism; 7] = [
    PingPipes,
    PingFifos,
    PingSocketpair,
    CPingPipes,
    CPingSocketpair,
    IpcbenchFifo,
    IpcbenchPipe,
];

impl Mechanism {
    /// The name in the JSON.
    pub fn id(self) -> &'static str {
        match self {
            Memcpy => "memcpy",
            WriteRead => "write+read",
            Pipe => "pipe",
            BigPipe => "pipe-1MiB",
            Fifo => "fifo",
            Socketpair => "socketpair",
            Vmsplice => "vmsplice+splice",
            CPipe => "c-pipe",
            CSocketpair => "c-socketpair",
            PingPipes => "two-pipes",
            PingFifos => "two-fifos",
            PingSocketpair => "socketpair",
            CPingPipes => "c-two-pipes",
            CPingSocketpair => "c-socketpair",
            IpcbenchFifo => "ipc-bench-fifo",
            IpcbenchPipe => "ipc-bench-pipe",
        }
    }

    /// The name in the tables (at most 14 characters).
    pub fn label(self) -> &'static str {
        match self {
            Memcpy => "memcpy*",
            WriteRead => "write+read*",
            Pipe => "pipe",
            BigPipe => "pipe, 1 MiB",
            Fifo => "FIFO",
            Socketpair | PingSocketpair => "socketpair",
            Vmsplice => "vmsplice",
            CPipe => "C pipe",
            CSocketpair | CPingSocketpair => "C socketpair",
            PingPipes => "two pipes",
            PingFifos => "two FIFOs",
            CPingPipes => "C two pipes",
            IpcbenchFifo => "ipc-bench FIFO",
            IpcbenchPipe => "ipc-bench pipe",
        }
    }

    pub fn test(self) -> &'static str {
        match self {
            IpcbenchFifo | IpcbenchPipe => "ipc-bench",
            m if LATENCY.contains(&m) => "ping-pong",
            _ => "stream",
        }
    }

    pub fn unit(self) -> &'static str {
        match self.test() {
            "stream" => "bytes/s",
            "ping-pong" => "round trips/s",
            _ => "messages/s",
        }
    }

    pub fn language(self) -> &'static str {
        match self {
            CPipe | CSocketpair | CPingPipes | CPingSocketpair => "c",
            IpcbenchFifo | IpcbenchPipe => "c (ipc-bench's code)",
            _ => "rust",
        }
    }

    /// How many processes take part.
    pub fn processes(self) -> usize {
        match self {
            Memcpy | WriteRead => 1,
            IpcbenchFifo => 3,
            _ => 2,
        }
    }

    /// The pipe capacity the mechanism runs with, as granted.
    fn capacity(self, default: usize, big: Option<usize>) -> Option<usize> {
        match self {
            Pipe | Vmsplice | CPipe | PingPipes | CPingPipes => Some(default),
            Fifo | PingFifos | IpcbenchFifo | IpcbenchPipe => Some(default),
            BigPipe | WriteRead => big,
            _ => None,
        }
    }
}

/// One figure of the run, as the JSON holds it.
#[derive(Debug, serde::Serialize)]
pub struct Record {
    pub test: &'static str,
    pub mechanism: &'static str,
    pub language: &'static str,
    pub placement: Placement,
    pub size: usize,
    pub unit: &'static str,
    pub processes: usize,
    pub pipe_capacity: Option<usize>,
    #[serde(flatten)]
    pub measurement: Measurement,
    #[serde(skip)]
    pub kind: Option<Mechanism>,
}

/// What the run found out before measuring, and what it left out.
pub struct Checks {
    pub default_capacity: usize,
    /// The 1 MiB capacity, if the kernel granted it.
    pub big_capacity: Option<usize>,
    pub vmsplice: bool,
    pub placements: Vec<Placement>,
    pub skipped: Vec<String>,
}

// ANCHOR: checks
/// Looks before measuring: is a 1 MiB pipe granted (F_GETPIPE_SZ says so
/// after F_SETPIPE_SZ), does vmsplice work, are there two CPUs?
fn check(machine: &Machine) -> Result<Checks> {
    // A pipe made only to ask its capacity: both ends close at once.
    let (_, _, default_capacity) = runs::pipe(None)?;
    let mut skipped = Vec::new();
    let big_capacity = match runs::pipe(Some(BIG_PIPE)) {
        Ok((_, _, granted)) if granted >= BIG_PIPE => Some(granted),
        Ok((_, _, granted)) => {
            skipped.push(format!(
                "pipe, 1 MiB: asked for {BIG_PIPE} bytes, granted {granted}"
            ));
            None
        }
        Err(error) => {
            skipped.push(format!("pipe, 1 MiB: {error}"));
            None
        }
    };
    // The read end stays open until the probe is done: with none, the
    // vmsplice would fail with EPIPE, whether or not it works here.
    let (_read_end, write_end, _) = runs::pipe(None)?;
    let probe = [std::io::IoSlice::new(b"x")];
    let vmsplice = nix::fcntl::vmsplice(
        &write_end,
        &probe,
        nix::fcntl::SpliceFFlags::empty(),
    );
    trace!(Kernel, &vmsplice, "vmsplice(w, [\"x\"], 1, 0)");
    if let Err(errno) = vmsplice {
        skipped.push(format!("vmsplice: {errno}"));
    }
    let mut placements = vec![Placement::Unpinned, Placement::OneCpu];
    if machine.cpus_usable.len() < 2 {
        placements.remove(0);
        skipped.push(
            "unpinned: this process may use only one CPU, so unpinned is \
             the same as one CPU, and nothing can run in parallel"
                .into(),
        );
    }
    Ok(Checks {
        default_capacity,
        big_capacity,
        vmsplice: vmsplice.is_ok(),
        placements,
        skipped,
    })
}
// ANCHOR_END: checks

fn run(args: &Args) -> Result<()> {
    let (full, quick) = ((100, 200, 7), (20, 40, 5));
    let (warmup, each, reps) = if args.quick { quick } else { full };
    let plan = Plan {
        warmup: Duration::from_millis(args.warmup_ms.unwrap_or(warmup)),
        run: Duration::from_millis(args.run_ms.unwrap_or(each)),
        repetitions: args.repetitions.map_or(reps, |n| n as usize),
    };
    // A path we cannot write is found now, not after minutes of measuring.
    for path in args.json.iter().chain(&args.svg) {
        std::fs::write(path, "")
            .map_err(failed(&format!("write {}", path.display())))?;
    }
    let (machine, all_cpus) = read_machine()?;
    let checks = check(&machine)?;
    let hide = args.hide_figures;
    report::header(&machine, &plan, &checks, hide);

    let streaming: Vec<Mechanism> = STREAMING
        .into_iter()
        .filter(|m| *m != BigPipe || checks.big_capacity.is_some())
        .filter(|m| *m != Vmsplice || checks.vmsplice)
        .collect();
    let per_placement = SIZES.len() * streaming.len() + LATENCY.len();
    let total =
        checks.placements.len() * per_placement * (plan.repetitions + 1);
    let progress = report::progress(total as u64);

    let mut records = Vec::new();
    for &placement in &checks.placements {
        place(placement, &machine, &all_cpus)?;
        for size in SIZES {
            progress.set_message(format!("{}, {size} B", placement.label()));
            let mut group: Vec<RunFn> =
                streaming.iter().map(|&m| runner(m, size, &checks)).collect();
            let measured =
                measure_group(&mut group, &plan, || progress.inc(1))?;
            for (m, measurement) in streaming.iter().zip(measured) {
                records.push(record(*m, placement, size, measurement, &checks));
            }
        }
        progress.set_message(format!("{}, ping-pong", placement.label()));
        let mut group: Vec<RunFn> =
            LATENCY.iter().map(|&m| runner(m, MESSAGE, &checks)).collect();
        let measured = measure_group(&mut group, &plan, || progress.inc(1))?;
        for (m, measurement) in LATENCY.iter().zip(measured) {
            records.push(record(*m, placement, MESSAGE, measurement, &checks));
        }
    }
    place(Placement::Unpinned, &machine, &all_cpus)?;
    progress.finish_and_clear();

    let ratios = report::ratios(&records);
    report::tables(&records, &checks, hide);
    report::say_ratios(&ratios, hide);
    if let Some(path) = &args.json {
        report::write_json(path, &machine, &plan, &checks, &records, &ratios)?;
        say!(Note, "wrote every figure to {}", path.display());
    }
    if let Some(path) = &args.svg {
        report::write_svg(path, &machine, &plan, &records)?;
        say!(Note, "drew the chart to {}", path.display());
    }
    Ok(())
}

fn record(
    kind: Mechanism,
    placement: Placement,
    size: usize,
    measurement: Measurement,
    checks: &Checks,
) -> Record {
    Record {
        test: kind.test(),
        mechanism: kind.id(),
        language: kind.language(),
        placement,
        size,
        unit: kind.unit(),
        processes: kind.processes(),
        pipe_capacity: kind
            .capacity(checks.default_capacity, checks.big_capacity),
        measurement,
        kind: Some(kind),
    }
}

// ANCHOR: runner
/// One run of `mechanism` at `size`, for the duration it is given.
fn runner<'a>(
    mechanism: Mechanism,
    size: usize,
    checks: &'a Checks,
) -> RunFn<'a> {
    let c = move |test: &str, kind: &str, d: Duration| {
        let ms = d.as_millis().max(1).to_string();
        let args = [test, kind, &size.to_string(), &ms].map(String::from);
        runs::c_program(&args)
    };
    // ipc-bench counts messages, not time: its warm-up sends its default
    // 1000, and each counted run as many as the warm-up's rate says fit in
    // the run's duration.
    let mut rate = 0.0;
    let mut ipcbench = move |kind: &str, phase: Phase, d: Duration| {
        let count = match phase {
            Phase::WarmUp => IPCBENCH_COUNT,
            Phase::Counted => ((rate * d.as_secs_f64()) as u64).max(100),
        };
        let run = match kind {
            "fifo" => runs::ipcbench_fifo(size, count),
            _ => runs::c_program(
                &["ipcbench", "pipe", &size.to_string(), &count.to_string()]
                    .map(String::from),
            ),
        }?;
        if phase == Phase::WarmUp {
            rate = run.rate();
        }
        Ok(run)
    };
    let big = checks.big_capacity;
    Box::new(move |phase, d| -> Result<Run> {
        match mechanism {
            Memcpy => runs::memcpy(size, d),
            WriteRead => runs::write_read(size, d),
            Pipe => Ok(runs::stream_pipe(size, d, None, false)?.0),
            BigPipe => {
                let (run, granted) = runs::stream_pipe(size, d, big, false)?;
                // Measured only as what it claims to be.
                if granted < BIG_PIPE {
                    return Err(format!("F_SETPIPE_SZ granted only {granted}"));
                }
                Ok(run)
            }
            Fifo => runs::stream_fifo(size, d),
            Socketpair => runs::stream_socketpair(size, d),
            Vmsplice => Ok(runs::stream_pipe(size, d, None, true)?.0),
            CPipe => c("stream", "pipe", d),
            CSocketpair => c("stream", "socketpair", d),
            PingPipes => runs::ping_pipes(size, d),
            PingFifos => runs::ping_fifos(size, d),
            PingSocketpair => runs::ping_socketpair(size, d),
            CPingPipes => c("pingpong", "pipes", d),
            CPingSocketpair => c("pingpong", "socketpair", d),
            IpcbenchFifo => ipcbench("fifo", phase, d),
            IpcbenchPipe => ipcbench("pipe", phase, d),
        }
    })
}
// ANCHOR_END: runner
