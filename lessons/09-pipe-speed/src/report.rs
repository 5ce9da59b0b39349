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
/// The chart's width, in the SVG's own units. Narrow enough that a phone,
/// which draws it about 350 pixels wide, still shows its smallest text
/// (14.5 units) at 10 pixels; a desktop draws it at this natural width.
const CHART_WIDTH: u32 = 480;
/// The plot, the legend below it, and the machine's strip at the bottom.
const PLOT_HEIGHT: u32 = 470;
const LEGEND_ROW: u32 = 26;
const STRIP_HEIGHT: u32 = 84;
/// Legend entries side by side: three of the longest ("C socketpair") fit.
const LEGEND_COLUMNS: usize = 3;
/// plotters writes a font asked for at `n` as `n / 1.24` in the SVG; at 18
/// the labels come out at 14.5 units.
const LABEL_FONT: f64 = 18.0;

/// Throughput against write size, both on log scales, one line per
/// streaming mechanism, for the first placement measured. Stacked for a
/// narrow page: the plot, then the legend, then the machine it came from.
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
    // The machine on lines of their own: a CPU's name can be long.
    let strip = [
        format!(
            "pipe-speed, {}, medians of {} runs",
            placement.label(),
            plan.repetitions
        ),
        machine.cpu_model.clone(),
        format!(
            "Linux {}, {} CPUs, load {}",
            machine.kernel,
            machine.cpus_usable.len(),
            machine.load_average
        ),
    ];
    let legend_rows = lines.len().div_ceil(LEGEND_COLUMNS) as u32;
    let legend_height = legend_rows * LEGEND_ROW + 10;
    let height = PLOT_HEIGHT + legend_height + STRIP_HEIGHT;
    let drawn = (|| -> std::result::Result<(), Box<dyn std::error::Error>> {
        // No fill: the ground stays transparent, for light and dark pages.
        let root =
            SVGBackend::new(path, (CHART_WIDTH, height)).into_drawing_area();
        let (plot, rest) = root.split_vertically(PLOT_HEIGHT);
        let (legend, machine_strip) = rest.split_vertically(legend_height);
        let label = ("sans-serif", LABEL_FONT);
        let mut chart = ChartBuilder::on(&plot)
            .caption("Throughput against write size", ("sans-serif", 24))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(64)
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
            .label_style(label)
            .axis_desc_style(label)
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
        let column = (CHART_WIDTH as usize - 24) / LEGEND_COLUMNS;
        for (i, (kind, points)) in lines.iter().enumerate() {
            let colour = palette[i % palette.len()];
            chart.draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(3),
            ))?;
            // The legend under the plot, row by row, where it hides no line.
            let x = 12 + (i % LEGEND_COLUMNS * column) as i32;
            let y = 10 + (i / LEGEND_COLUMNS) as i32 * LEGEND_ROW as i32;
            legend.draw(&PathElement::new(
                [(x, y + 8), (x + 22, y + 8)],
                colour.stroke_width(3),
            ))?;
            legend.draw(&Text::new(kind.label(), (x + 28, y), label))?;
        }
        for (row, text) in strip.iter().enumerate() {
            let y = 6 + row as i32 * 24;
            machine_strip.draw(&Text::new(text.as_str(), (12, y), label))?;
        }
        root.present()?;
        Ok(())
    })();
    drawn.map_err(|e| format!("draw the chart to {}: {e}", path.display()))
}
// ANCHOR_END: svg

#[cfg(test)]
mod tests {
    //! The book's chart is this program's chart of the book's example run:
    //! drawn again from that run's JSON, it must come out byte for byte the
    //! same, so the picture cannot drift from the figures beside it.
    use std::time::Duration;

    use serde_json::Value;

    use super::*;
    use crate::Measurement;
    use crate::runs::Run;

    const BOOK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../book/src");
    const EXAMPLE: &str = "examples/09-pipe-speed-full-run.json";
    const CHART: &str = "img/09-pipe-speed-example.svg";

    fn text(value: &Value) -> &'static str {
        let text = value.as_str().expect("a string in the example's JSON");
        // The program's records hold &'static str: one small leak per test.
        String::leak(text.to_string())
    }

    fn number(value: &Value) -> u64 {
        value.as_u64().expect("a whole number in the example's JSON")
    }

    fn seconds(value: &Value) -> f64 {
        value.as_f64().expect("a number in the example's JSON")
    }

    fn machine(json: &Value) -> Machine {
        let m = &json["machine"];
        let cpus = m["cpus_usable"].as_array().expect("cpus_usable");
        Machine {
            cpu_model: text(&m["cpu_model"]).into(),
            kernel: text(&m["kernel"]).into(),
            cpus_online: number(&m["cpus_online"]) as usize,
            cpus_usable: cpus.iter().map(|c| number(c) as usize).collect(),
            pinned_to: number(&m["pinned_to"]) as usize,
            pipe_max_size: m["pipe_max_size"].as_u64().map(|s| s as usize),
            load_average: text(&m["load_average"]).into(),
            c_compiler: text(&m["c_compiler"]),
            rust_opt_level: text(&m["rust_opt_level"]),
        }
    }

    fn plan(json: &Value) -> Plan {
        let m = &json["method"];
        Plan {
            warmup: Duration::from_secs_f64(seconds(&m["warmup"])),
            run: Duration::from_secs_f64(seconds(&m["run"])),
            repetitions: number(&m["repetitions"]) as usize,
        }
    }

    fn run(value: &Value) -> Run {
        Run {
            count: number(&value["count"]),
            seconds: seconds(&value["seconds"]),
        }
    }

    /// Every result of the example, in its order, as the run recorded it.
    fn records(json: &Value) -> Vec<Record> {
        let results = json["results"].as_array().expect("results");
        let known: Vec<Mechanism> =
            STREAMING.into_iter().chain(LATENCY).collect();
        results
            .iter()
            .map(|r| {
                let (test, id) = (text(&r["test"]), text(&r["mechanism"]));
                let kind = known
                    .iter()
                    .copied()
                    .find(|k| k.test() == test && k.id() == id)
                    .unwrap_or_else(|| panic!("unknown mechanism {test}/{id}"));
                let placement = match text(&r["placement"]) {
                    "unpinned" => Placement::Unpinned,
                    "one-cpu" => Placement::OneCpu,
                    other => panic!("unknown placement {other}"),
                };
                let runs = r["runs"].as_array().expect("runs");
                Record {
                    test,
                    mechanism: id,
                    language: text(&r["language"]),
                    placement,
                    size: number(&r["size"]) as usize,
                    unit: text(&r["unit"]),
                    processes: number(&r["processes"]) as usize,
                    pipe_capacity: r["pipe_capacity"]
                        .as_u64()
                        .map(|c| c as usize),
                    measurement: Measurement {
                        median: seconds(&r["median"]),
                        min: seconds(&r["min"]),
                        max: seconds(&r["max"]),
                        warmup: run(&r["warmup"]),
                        runs: runs.iter().map(run).collect(),
                    },
                    kind: Some(kind),
                }
            })
            .collect()
    }

    /// The chart of the example run, as the program draws it now.
    fn example_chart() -> String {
        let path = format!("{BOOK}/{EXAMPLE}");
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(&path).expect("the example's JSON"),
        )
        .expect("the example's JSON parses");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let svg = dir.path().join("chart.svg");
        write_svg(&svg, &machine(&json), &plan(&json), &records(&json))
            .expect("the chart is drawn");
        std::fs::read_to_string(&svg).expect("the drawn chart")
    }

    /// The value of every `name="..."` attribute in an SVG document.
    fn attributes<'a>(svg: &'a str, name: &str) -> Vec<&'a str> {
        let key = format!(" {name}=\"");
        svg.split(key.as_str())
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect()
    }

    #[test]
    fn the_book_chart_is_the_example_runs_chart() {
        let drawn = example_chart();
        let book = format!("{BOOK}/{CHART}");
        let updating = std::env::var_os(labkit::transcript::UPDATE_VAR)
            .is_some_and(|value| !value.is_empty() && value != "0");
        if updating {
            std::fs::write(&book, &drawn).expect("write the book's chart");
            return;
        }
        let kept = std::fs::read_to_string(&book).unwrap_or_default();
        assert!(
            kept == drawn,
            "book/src/{CHART} is not the chart of book/src/{EXAMPLE} as \
             pipe-speed draws it now; regenerate it with {}=1 cargo test \
             -p lesson09-pipe-speed --bin pipe-speed",
            labkit::transcript::UPDATE_VAR
        );
    }

    #[test]
    fn the_chart_reads_on_a_phone() {
        // A phone draws the chart about 350 pixels wide: its smallest text,
        // scaled down from the chart's own width, must stay at 9 px or more.
        let chart = example_chart();
        let width: f64 = attributes(&chart, "width")[0].parse().unwrap();
        let smallest = attributes(&chart, "font-size")
            .iter()
            .map(|size| size.parse::<f64>().expect("a font size"))
            .fold(f64::MAX, f64::min);
        let on_a_phone = smallest * 350.0 / width;
        assert!(
            on_a_phone >= 9.0,
            "the chart's smallest text ({smallest} of {width} units) is \
             drawn at {on_a_phone:.1} px on a phone, under 9"
        );
        // Nothing white behind it: a dark page must show through.
        assert!(!chart.contains("fill=\"#FFFFFF\""), "a white fill");
    }
}
