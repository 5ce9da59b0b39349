//! What the run shows: the header, the tables, the ratios, JSON and SVG.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use labkit::Speaker::{Kernel, Note};
use labkit::cli::failed;
use labkit::say;

use crate::method::Plan;
use crate::runs::Result;
use crate::{
    Checks, LATENCY, MESSAGE, Machine, Mechanism, Placement, Record, SIZES,
    STREAMING,
};

/// Where a write size sits on the chart's axis: 64 B at 0, 1 MiB at 4.
fn size_index(size: usize) -> f64 {
    SIZES.iter().position(|&s| s == size).unwrap_or(0) as f64
}

/// A figure as printed: three significant digits, or `<x>` when hidden.
fn figure(x: f64, hide: bool) -> String {
    if hide {
        return "<x>".into();
    }
    match x.abs() {
        a if a >= 100.0 => format!("{x:.0}"),
        a if a >= 10.0 => format!("{x:.1}"),
        a if a >= 1.0 => format!("{x:.2}"),
        _ => format!("{x:.3}"),
    }
}

/// "1 KiB": a size as the tables name it.
pub fn size_name(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1024 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

pub fn header(machine: &Machine, plan: &Plan, checks: &Checks, hide: bool) {
    let (cpu, kernel, online, usable, pinned) = if hide {
        let x = || "<x>".to_string();
        (x(), x(), x(), x(), x())
    } else {
        (
            machine.cpu_model.clone(),
            machine.kernel.clone(),
            machine.cpus_online.to_string(),
            machine.cpus_usable.len().to_string(),
            machine.pinned_to.to_string(),
        )
    };
    say!(Note, "machine: {cpu}, Linux {kernel}");
    say!(
        Note,
        "CPUs: {online} online, {usable} usable; one CPU = CPU {pinned}"
    );
    let load =
        if hide { "<x>".to_string() } else { machine.load_average.clone() };
    say!(Note, "load average at the start: {load} (runnable programs)");
    say!(
        Note,
        "method: a warm-up run of {} ms, then {} counted run{} of {} ms,",
        plan.warmup.as_millis(),
        plan.repetitions,
        if plan.repetitions == 1 { "" } else { "s" },
        plan.run.as_millis()
    );
    say!(Note, "        taken in turn (A B C A B C); the median is shown");
    match checks.big_capacity {
        Some(granted) => say!(
            Kernel,
            "F_SETPIPE_SZ(1 MiB): F_GETPIPE_SZ now says {granted} bytes"
        ),
        None => say!(Kernel, "F_SETPIPE_SZ(1 MiB) was not granted"),
    }
    say!(
        Kernel,
        "a new pipe holds {} bytes; vmsplice {}",
        checks.default_capacity,
        if checks.vmsplice { "works" } else { "does not work here" }
    );
    for skipped in &checks.skipped {
        say!(Note, "skipped: {skipped}");
    }
}

/// A progress bar on a terminal (standard error), nothing elsewhere.
pub fn progress(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{bar:40} {pos}/{len} runs, {msg} ({eta} left)",
    );
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

fn find(
    records: &[Record],
    kind: Mechanism,
    placement: Placement,
    size: usize,
) -> Option<&Record> {
    records.iter().find(|r| {
        r.kind == Some(kind) && r.placement == placement && r.size == size
    })
}

/// "4.21 ±3%": the median, and half the min-max range as a share of it.
fn cell(
    record: Option<&Record>,
    scale: f64,
    suffix: &str,
    hide: bool,
) -> String {
    let Some(r) = record else {
        return "-".into();
    };
    let m = &r.measurement;
    let spread = (m.max - m.min) / 2.0 / m.median * 100.0;
    if hide {
        return format!("<x>{suffix} ±<x>%");
    }
    format!("{}{suffix} ±{spread:.0}%", figure(m.median / scale, false))
}

// ANCHOR: tables
pub fn tables(records: &[Record], checks: &Checks, hide: bool) {
    for &placement in &checks.placements {
        say!(Note, "");
        say!(
            Note,
            "streaming, {}: GB/s, median ±half its range",
            placement.label()
        );
        let mut line = format!("{:<13}", "write size");
        for size in SIZES {
            line += &format!("{:>11}", size_name(size));
        }
        say!(Note, "{line}");
        for kind in STREAMING {
            if !records.iter().any(|r| r.kind == Some(kind)) {
                continue;
            }
            let mut line = format!("{:<13}", kind.label());
            for size in SIZES {
                let r = find(records, kind, placement, size);
                line += &format!("{:>11}", cell(r, 1e9, "", hide));
            }
            say!(Note, "{line}");
        }
        let mut line = format!("{:<13}", "Rust/C pipe");
        for size in SIZES {
            let ratio =
                ratio_of(records, (crate::Pipe, crate::CPipe), placement, size);
            line += &format!("{:>11}", times(ratio, hide));
        }
        say!(Note, "{line}");
    }
    say!(Note, "* one process: memcpy of the chunk, and write()+read() of");
    say!(Note, "  its own pipe, the limits the pipes are measured against");
    say!(Note, "");
    let mut line = format!("1 KiB ping-pong{:<5}", ",");
    for placement in &checks.placements {
        line += &format!("{:>14}", placement.label());
    }
    say!(Note, "{line}");
    for kind in LATENCY {
        let mut line = format!("{:<20}", kind.label());
        for &placement in &checks.placements {
            let r = find(records, kind, placement, MESSAGE);
            line += &format!("{:>14}", cell(r, 1e3, "k", hide));
        }
        say!(Note, "{line}");
    }
    say!(Note, "round trips per second (k = 1000), median ±half its range;");
    say!(Note, "ipc-bench: messages per second by its own method: one");
    say!(Note, "fwrite+fflush of 1 KiB one way, a kill() to the process group");
    say!(Note, "back and forth, counted from before the client's first signal");
}
// ANCHOR_END: tables

fn times(ratio: Option<f64>, hide: bool) -> String {
    match ratio {
        Some(_) if hide => "<x>x".into(),
        Some(r) => format!("{r:.2}x"),
        None => "-".into(),
    }
}

/// median(a) / median(b) for the same placement and size.
fn ratio_of(
    records: &[Record],
    (a, b): (Mechanism, Mechanism),
    placement: Placement,
    size: usize,
) -> Option<f64> {
    let a = find(records, a, placement, size)?;
    let b = find(records, b, placement, size)?;
    Some(a.measurement.median / b.measurement.median)
}

/// A ratio (or one figure) the run states, with the target set for it.
#[derive(Debug, serde::Serialize)]
pub struct Ratio {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: f64,
    pub met: bool,
}

// ANCHOR: ratios
/// The claims of the chapter, as this run's ratios.
pub fn ratios(records: &[Record]) -> Vec<Ratio> {
    use crate::Mechanism::*;
    use Placement::*;
    let mut out = Vec::new();
    let mut push = |name: String, value: Option<f64>, unit, target| {
        if let Some(value) = value {
            let met = value >= target;
            out.push(Ratio { name, value, unit, target, met });
        }
    };
    let k64 = 65536;
    push(
        "1 MiB pipe / default, 64 KiB writes, unpinned".into(),
        ratio_of(records, (BigPipe, Pipe), Unpinned, k64),
        "x",
        2.0,
    );
    push(
        "vmsplice+splice / write+read, 64 KiB, one CPU".into(),
        ratio_of(records, (Vmsplice, Pipe), OneCpu, k64),
        "x",
        1.5,
    );
    for placement in [Unpinned, OneCpu] {
        let worst = SIZES
            .iter()
            .filter_map(|&s| ratio_of(records, (Pipe, CPipe), placement, s))
            .min_by(f64::total_cmp);
        let p = placement.label();
        push(
            format!("Rust/C pipe streaming, worst size, {p}"),
            worst,
            "x",
            0.9,
        );
        // The geometric mean over the sizes: one noisy size moves it less.
        let all: Vec<f64> = SIZES
            .iter()
            .filter_map(|&s| ratio_of(records, (Pipe, CPipe), placement, s))
            .collect();
        let geomean = (!all.is_empty()).then(|| {
            (all.iter().map(|r| r.ln()).sum::<f64>() / all.len() as f64).exp()
        });
        push(
            format!("Rust/C pipe streaming, all sizes, {p}"),
            geomean,
            "x",
            0.9,
        );
        let worst = SIZES
            .iter()
            .filter_map(|&s| {
                ratio_of(records, (Socketpair, CSocketpair), placement, s)
            })
            .min_by(f64::total_cmp);
        push(
            format!("Rust/C socketpair streaming, worst, {p}"),
            worst,
            "x",
            0.9,
        );
        let pairs =
            [(PingPipes, CPingPipes), (PingSocketpair, CPingSocketpair)];
        for pair in pairs {
            push(
                format!("Rust/C ping-pong {}, {p}", pair.0.label()),
                ratio_of(records, pair, placement, MESSAGE),
                "x",
                0.9,
            );
        }
    }
    push(
        "FIFO ping-pong / ipc-bench's FIFO, one CPU".into(),
        ratio_of(records, (PingFifos, IpcbenchFifo), OneCpu, MESSAGE),
        "x",
        2.0,
    );
    for placement in [Unpinned, OneCpu] {
        let one_way = find(records, Pipe, placement, 1024)
            .map(|r| r.measurement.median / 1024.0 / 1e6);
        let p = placement.label();
        push(format!("1 KiB writes through a pipe, {p}"), one_way, "M/s", 1.0);
    }
    out
}
// ANCHOR_END: ratios

pub fn say_ratios(ratios: &[Ratio], hide: bool) {
    say!(Note, "");
    say!(Note, "what this run says (targets in brackets):");
    for r in ratios {
        let value = if hide { "<x>".into() } else { format!("{:.2}", r.value) };
        let mark = match (hide, r.met) {
            (true, _) => "",
            (false, true) => "",
            (false, false) => " missed",
        };
        let figure = format!("{value}{}", r.unit);
        say!(Note, "{:<46}{figure:>8} [>= {}]{mark}", r.name, r.target);
    }
}

#[derive(serde::Serialize)]
struct Json<'a> {
    program: &'static str,
    version: &'static str,
    machine: &'a Machine,
    method: Method<'a>,
    skipped: &'a [String],
    results: &'a [Record],
    ratios: &'a [Ratio],
}

#[derive(serde::Serialize)]
struct Method<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    statistic: &'static str,
    order: &'static str,
    clock: &'static str,
    default_pipe_capacity: usize,
}

pub fn write_json(
    path: &Path,
    machine: &Machine,
    plan: &Plan,
    checks: &Checks,
    records: &[Record],
    ratios: &[Ratio],
) -> Result<()> {
    let json = Json {
        program: "pipe-speed",
        version: env!("CARGO_PKG_VERSION"),
        machine,
        method: Method {
            plan,
            statistic: "median of the counted runs' rates, with min and max",
            order: "a warm-up of each mechanism of a group, then one run \
                    of each in turn per repetition (A B C A B C)",
            clock: "CLOCK_MONOTONIC from the first read's return; \
                    ipc-bench: its own (TIME_UTC, from before the first wait)",
            default_pipe_capacity: checks.default_capacity,
        },
        skipped: &checks.skipped,
        results: records,
        ratios,
    };
    let text = serde_json::to_string_pretty(&json).map_err(failed("JSON"))?;
    std::fs::write(path, text + "\n")
        .map_err(failed(&format!("write {}", path.display())))
}

// ANCHOR: svg
/// Throughput against write size, both on log scales, one line per
/// streaming mechanism, for the first placement measured.
pub fn write_svg(
    path: &Path,
    machine: &Machine,
    plan: &Plan,
    records: &[Record],
) -> Result<()> {
    use plotters::prelude::*;
    let Some(placement) = records.first().map(|r| r.placement) else {
        return Err("nothing was measured".into());
    };
    let lines: Vec<(Mechanism, Vec<(f64, f64)>)> = STREAMING
        .iter()
        .map(|&kind| {
            let points = SIZES
                .iter()
                .filter_map(|&size| find(records, kind, placement, size))
                .map(|r| (size_index(r.size), r.measurement.median / 1e9))
                .collect();
            (kind, points)
        })
        .filter(|(_, points): &(_, Vec<_>)| !points.is_empty())
        .collect();
    let all = lines.iter().flat_map(|(_, p)| p.iter().map(|&(_, y)| y));
    let (low, high) =
        all.fold((f64::MAX, 0f64), |(l, h), y| (l.min(y), h.max(y)));
    let drawn = (|| -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
        root.fill(&WHITE)?;
        let caption = format!(
            "pipe-speed, {}: {}, Linux {}, {} CPUs, load {}; \
             medians of {} runs",
            placement.label(),
            machine.cpu_model,
            machine.kernel,
            machine.cpus_usable.len(),
            machine.load_average,
            plan.repetitions
        );
        // The chart above, the machine it came from in a strip below.
        let (area, strip) = root.split_vertically(566);
        let mut chart = ChartBuilder::on(&area)
            .caption("Throughput against write size", ("sans-serif", 26))
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(70)
            .build_cartesian_2d(
                -0.2f64..(SIZES.len() as f64 - 0.8),
                ((low / 2.0).max(1e-4)..high * 2.0).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("write size (bytes)")
            .y_desc("GB/s")
            .x_labels(SIZES.len())
            .x_label_formatter(&|x| {
                SIZES
                    .get(x.round() as usize)
                    .filter(|_| (x - x.round()).abs() < 0.01)
                    .map_or(String::new(), |&s| size_name(s))
            })
            .label_style(("sans-serif", 18))
            .draw()?;
        let palette = [
            RGBColor(120, 120, 120),
            RGBColor(60, 60, 60),
            RGBColor(31, 119, 180),
            RGBColor(214, 39, 40),
            RGBColor(44, 160, 44),
            RGBColor(148, 103, 189),
            RGBColor(255, 127, 14),
            RGBColor(23, 190, 207),
            RGBColor(188, 189, 34),
        ];
        for (i, (kind, points)) in lines.iter().enumerate() {
            let colour = palette[i % palette.len()];
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(3),
                ))?
                .label(kind.label())
                .legend(move |(x, y)| {
                    PathElement::new(
                        [(x, y), (x + 20, y)],
                        colour.stroke_width(3),
                    )
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(("sans-serif", 18))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        strip.draw(&Text::new(caption, (16, 6), ("sans-serif", 18)))?;
        root.present()?;
        Ok(())
    })();
    drawn.map_err(|e| format!("draw the chart to {}: {e}", path.display()))
}
// ANCHOR_END: svg
