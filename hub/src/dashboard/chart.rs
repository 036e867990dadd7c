//! Charts as server-drawn SVG: no script and nothing from outside, so they render under the
//! dashboard's content security policy and in an air-gapped install. Each point carries its
//! numbers in `data-` attributes and a `<title>` (what a screen reader and a test read).

use std::fmt::Write;

use chrono::{DateTime, Utc};

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

/// One step of a request chart.
pub struct Bar {
    pub start: DateTime<Utc>,
    pub requests: u64,
    pub errors: u64,
}

/// Requests per step as bars, with each step's errors (4xx and 5xx) drawn over them in red.
pub fn requests(id: &str, bars: &[Bar]) -> String {
    let max = bars.iter().map(|bar| bar.requests).max().unwrap_or(0).max(1);
    let plot_width = WIDTH - LEFT;
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = plot_width / bars.len().max(1) as f64;
    let mut svg = open(id, "Requests per interval, errors in red");
    axes(
        &mut svg,
        &max.to_string(),
        bars.first().map(|bar| bar.start),
        bars.last().map(|bar| bar.start),
    );
    for (index, bar) in bars.iter().enumerate() {
        let x = LEFT + index as f64 * slot + slot * 0.1;
        let width = (slot * 0.8).max(1.0);
        let height = bar.requests as f64 / max as f64 * plot_height;
        let error_height = bar.errors as f64 / max as f64 * plot_height;
        let _ = write!(
            svg,
            r#"<g class="point" data-start="{start}" data-requests="{requests}" data-errors="{errors}"><title>{time}: {requests} requests, {errors} errors</title><rect class="bar" x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{height:.1}"/><rect class="bar errors" x="{x:.1}" y="{ey:.1}" width="{width:.1}" height="{error_height:.1}"/></g>"#,
            start = bar.start.to_rfc3339(),
            time = bar.start.format("%H:%M"),
            requests = bar.requests,
            errors = bar.errors,
            y = HEIGHT - BOTTOM - height,
            ey = HEIGHT - BOTTOM - error_height,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Named series of values over the same steps (latency percentiles), as lines; a missing value
/// (a step without requests) breaks the line.
pub fn lines(
    id: &str,
    label: &str,
    unit: &str,
    starts: &[DateTime<Utc>],
    series: &[(&str, Vec<Option<f64>>)],
) -> String {
    let max = series
        .iter()
        .flat_map(|(_, values)| values.iter().flatten())
        .fold(0.0_f64, |max, value| max.max(*value))
        .max(1.0);
    let plot_width = WIDTH - LEFT;
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = plot_width / starts.len().max(1) as f64;
    let mut svg = open(id, label);
    axes(
        &mut svg,
        &format!("{max:.0} {unit}"),
        starts.first().copied(),
        starts.last().copied(),
    );
    for (name, values) in series {
        let mut path = String::new();
        let mut pen_down = false;
        for (index, value) in values.iter().enumerate() {
            match value {
                Some(value) => {
                    let x = LEFT + index as f64 * slot + slot / 2.0;
                    let y = HEIGHT - BOTTOM - value / max * plot_height;
                    let _ = write!(path, "{}{x:.1},{y:.1} ", if pen_down { "L" } else { "M" });
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(
                svg,
                r#"<path class="line {name}" d="{}"><title>{name}</title></path>"#,
                path.trim_end()
            );
        }
        for (index, value) in values.iter().enumerate() {
            if let Some(value) = value {
                let x = LEFT + index as f64 * slot + slot / 2.0;
                let y = HEIGHT - BOTTOM - value / max * plot_height;
                let _ = write!(
                    svg,
                    r#"<circle class="line {name}" cx="{x:.1}" cy="{y:.1}" r="2" data-value="{value:.2}"><title>{time} {name}: {value:.1} {unit}</title></circle>"#,
                    time = starts[index].format("%H:%M"),
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

fn open(id: &str, label: &str) -> String {
    format!(
        r#"<svg class="chart" id="{id}" role="img" aria-label="{label}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">"#
    )
}

fn axes(svg: &mut String, top_label: &str, first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) {
    let base = HEIGHT - BOTTOM;
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}"/><line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}"/><text x="{x}" y="{y}" text-anchor="end">{top_label}</text><text x="{x}" y="{base}" text-anchor="end">0</text>"#,
        x = LEFT - 4.0,
        y = TOP + 10.0,
    );
    if let (Some(first), Some(last)) = (first, last) {
        let _ = write!(
            svg,
            r#"<text x="{LEFT}" y="{y}">{}</text><text x="{right}" y="{y}" text-anchor="end">{}</text>"#,
            first.format("%m-%d %H:%M"),
            last.format("%m-%d %H:%M"),
            y = HEIGHT - 4.0,
            right = WIDTH - 6.0,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bar_carries_its_counts() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let svg = requests(
            "r",
            &[
                Bar {
                    start,
                    requests: 12,
                    errors: 2,
                },
                Bar {
                    start,
                    requests: 0,
                    errors: 0,
                },
            ],
        );
        assert_eq!(svg.matches(r#"class="point""#).count(), 2);
        assert!(svg.contains(r#"data-requests="12" data-errors="2""#));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn a_missing_value_breaks_the_line() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let svg = lines(
            "l",
            "latency",
            "ms",
            &[start; 3],
            &[("p50", vec![Some(1.0), None, Some(3.0)])],
        );
        assert_eq!(svg.matches('M').count(), 2, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}
