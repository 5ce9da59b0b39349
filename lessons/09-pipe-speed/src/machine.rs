//! The machine a measurement ran on, and where its two processes may run:
//! the facts printed beside the results (CPU, kernel, load, compilers),
//! and `sched_setaffinity`, which puts both processes on one CPU or lets
//! the scheduler spread them.

use labkit::Speaker::Kernel;
use labkit::cli::failed;
use labkit::trace;
use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

use crate::runs::Result;

/// Where both processes of a run may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Wherever the scheduler puts them: with two CPUs, usually apart.
    Unpinned,
    /// Both on one CPU (sched_setaffinity): they take turns.
    OneCpu,
}

impl Placement {
    pub fn label(self) -> &'static str {
        match self {
            Placement::Unpinned => "unpinned",
            Placement::OneCpu => "one CPU",
        }
    }
}

/// The facts printed beside the results.
#[derive(Debug, serde::Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub kernel: String,
    pub cpus_online: usize,
    pub cpus_usable: Vec<usize>,
    pub pinned_to: usize,
    pub pipe_max_size: Option<usize>,
    /// /proc/loadavg's first figure: how busy the machine was at the start.
    pub load_average: String,
    pub c_compiler: &'static str,
    pub rust_opt_level: &'static str,
}

pub fn read_machine() -> Result<(Machine, CpuSet)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, name)| name.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus_online =
        cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let pipe_max_size = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .ok()
        .and_then(|s| s.trim().parse().ok());
    // ANCHOR: cpus
    // The CPUs this process may run on: fewer than the machine's in a
    // container or under taskset. Pinning picks the last of them.
    let mask = sched_getaffinity(Pid::from_raw(0))
        .map_err(failed("sched_getaffinity"))?;
    let cpus_usable: Vec<usize> = (0..CpuSet::count())
        .filter(|&cpu| mask.is_set(cpu).unwrap_or(false))
        .collect();
    // ANCHOR_END: cpus
    let pinned_to = *cpus_usable.last().ok_or("no usable CPU")?;
    let machine = Machine {
        cpu_model,
        kernel,
        cpus_online: cpus_online.max(cpus_usable.len()),
        cpus_usable,
        pinned_to,
        pipe_max_size,
        load_average: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next().map(String::from))
            .unwrap_or_else(|| "unknown".into()),
        c_compiler: env!("PIPESPEED_C_FLAGS"),
        rust_opt_level: "3 (profile.dev.package override)",
    };
    Ok((machine, mask))
}

// ANCHOR: place
/// Puts this process (and so every peer it starts from now on: children
/// inherit the mask) where `placement` says.
pub fn place(
    placement: Placement,
    machine: &Machine,
    all: &CpuSet,
) -> Result<()> {
    let mask = match placement {
        Placement::Unpinned => *all,
        Placement::OneCpu => {
            let mut one = CpuSet::new();
            one.set(machine.pinned_to).map_err(failed("CPU_SET"))?;
            one
        }
    };
    let placed = sched_setaffinity(Pid::from_raw(0), &mask);
    trace!(Kernel, &placed.map(|()| 0), "sched_setaffinity(0, {placement:?})");
    placed.map_err(failed("sched_setaffinity"))
}
// ANCHOR_END: place
