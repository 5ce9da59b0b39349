//! The method: warm-up, repetitions taken in turn, median with its spread.

use std::time::Duration;

use crate::runs::{Result, Run};

/// How long each run lasts and how many are taken.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Plan {
    /// One untimed-for-the-result run of each mechanism first: caches,
    /// page tables, the CPU's clock speed and the scheduler settle.
    #[serde(serialize_with = "as_seconds")]
    pub warmup: Duration,
    /// The length of each counted run.
    #[serde(serialize_with = "as_seconds")]
    pub run: Duration,
    pub repetitions: usize,
}

fn as_seconds<S: serde::Serializer>(
    d: &Duration,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Whether a run is the warm-up (thrown away) or a counted repetition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    WarmUp,
    Counted,
}

/// One mechanism's result: the warm-up kept apart, every counted run
/// listed, and the median of their rates with the lowest and highest.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Measurement {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub warmup: Run,
    pub runs: Vec<Run>,
}

// ANCHOR: median
/// The median of the runs' rates, with the lowest and the highest.
///
/// The median, not the mean: one run disturbed by another program (a
/// build, a cron job) moves a mean as far as it likes, and a median not
/// at all. The lowest and highest show how much the runs disagreed.
pub fn summarise(warmup: Run, runs: Vec<Run>) -> Measurement {
    let mut rates: Vec<f64> = runs.iter().map(Run::rate).collect();
    rates.sort_by(f64::total_cmp);
    let middle = rates.len() / 2;
    let median = if rates.len() % 2 == 1 {
        rates[middle]
    } else {
        (rates[middle - 1] + rates[middle]) / 2.0
    };
    Measurement {
        median,
        min: rates[0],
        max: rates[rates.len() - 1],
        warmup,
        runs,
    }
}
// ANCHOR_END: median

/// A mechanism's run: called with the phase and the run's duration.
pub type RunFn<'a> = Box<dyn FnMut(Phase, Duration) -> Result<Run> + 'a>;

// ANCHOR: alternate
/// Measures every mechanism of a group: a warm-up run of each first, then
/// repetition 1 of each in turn, then repetition 2 of each: A B C A B C.
/// A drift (the CPU clocking down, another program starting) then falls
/// on every mechanism alike, instead of on whichever happened to come last,
/// and a ratio between two of them stays honest.
pub fn measure_group(
    group: &mut [RunFn<'_>],
    plan: &Plan,
    mut done_one: impl FnMut(),
) -> Result<Vec<Measurement>> {
    let mut warmups = Vec::with_capacity(group.len());
    for run in group.iter_mut() {
        warmups.push(run(Phase::WarmUp, plan.warmup)?);
        done_one();
    }
    let mut runs = vec![Vec::with_capacity(plan.repetitions); group.len()];
    for _ in 0..plan.repetitions {
        for (run, kept) in group.iter_mut().zip(runs.iter_mut()) {
            kept.push(run(Phase::Counted, plan.run)?);
            done_one();
        }
    }
    Ok(warmups.into_iter().zip(runs).map(|(w, r)| summarise(w, r)).collect())
}
// ANCHOR_END: alternate

#[cfg(test)]
mod tests {
    use super::*;

    fn run(count: u64) -> Run {
        Run { count, seconds: 1.0 }
    }

    #[test]
    fn the_median_ignores_one_disturbed_run() {
        let m = summarise(
            run(1),
            vec![run(10), run(1000), run(12), run(11), run(9)],
        );
        assert_eq!((m.median, m.min, m.max), (11.0, 9.0, 1000.0));
    }

    #[test]
    fn an_even_count_takes_the_middle_two() {
        let m = summarise(run(1), vec![run(4), run(1), run(3), run(2)]);
        assert_eq!(m.median, 2.5);
    }

    #[test]
    fn runs_alternate_after_every_warmup() {
        let order = std::cell::RefCell::new(Vec::new());
        let mut group: Vec<RunFn> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let order = &order;
                Box::new(move |phase: Phase, _| {
                    order.borrow_mut().push((name, phase));
                    Ok(run(1))
                }) as RunFn
            })
            .collect();
        let plan = Plan {
            warmup: Duration::ZERO,
            run: Duration::ZERO,
            repetitions: 2,
        };
        let measured = measure_group(&mut group, &plan, || {}).unwrap();
        // The runs borrow `order`: end them before taking it back.
        drop(group);
        use Phase::*;
        assert_eq!(
            order.into_inner(),
            [
                ("a", WarmUp),
                ("b", WarmUp),
                ("a", Counted),
                ("b", Counted),
                ("a", Counted),
                ("b", Counted)
            ]
        );
        assert!(measured.iter().all(|m| m.runs.len() == 2));
    }
}
