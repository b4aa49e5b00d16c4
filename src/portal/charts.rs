//! Charts drawn on the server as SVG: no script, no CDN, readable without colour (every bar
//! carries its label and value as text) and with the same figures as a table beside it.

use crate::web::xml_escape;

/// One bar: label, value, and where it leads (drill-down), if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// What the bar counts.
    pub label: String,
    /// The count.
    pub value: i64,
    /// Link to the records behind it.
    pub href: Option<String>,
}

/// A horizontal bar chart, one row per bar, labelled with `title` for assistive technology.
pub fn horizontal_bars(title: &str, bars: &[Bar]) -> String {
    let row = 26;
    let label_width = 170;
    let bar_space = 360;
    let width = label_width + bar_space + 70;
    let height = row * bars.len().max(1) + 8;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    // A chart of links is a group of links to assistive technology (an image may not hold
    // focusable parts); a chart without links is one image.
    let role = if bars.iter().any(|b| b.href.is_some()) {
        "group"
    } else {
        "img"
    };
    let mut svg = format!(
        "<svg class=\"chart\" role=\"{role}\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">",
        xml_escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = i * row + 4;
        let length = (bar.value as f64 / max as f64 * bar_space as f64).round() as usize;
        // A long label is cut to fit, visibly; the tooltip and the table beside carry all of it.
        let label: String = if bar.label.chars().count() > 12 {
            bar.label.chars().take(11).chain(['…']).collect()
        } else {
            bar.label.clone()
        };
        let body = format!(
            "<title>{}: {}</title><text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"label\">{}</text><rect x=\"{label_width}\" y=\"{y}\" width=\"{}\" height=\"{}\" class=\"bar\"/><text x=\"{}\" y=\"{}\" class=\"value\">{}</text>",
            xml_escape(&bar.label),
            bar.value,
            label_width - 8,
            y + 15,
            xml_escape(&label),
            length.max(1),
            row - 8,
            label_width + length + 6,
            y + 15,
            bar.value
        );
        match &bar.href {
            Some(href) => svg.push_str(&format!("<a href=\"{}\">{body}</a>", xml_escape(href))),
            None => svg.push_str(&body),
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A vertical bar chart over years, for trends; every fifth label is shown to stay readable.
pub fn year_columns(title: &str, bars: &[Bar]) -> String {
    let width = 640;
    let height = 220;
    let bottom = 190;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let step = width as f64 / bars.len().max(1) as f64;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">",
        xml_escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let h = (bar.value as f64 / max as f64 * 160.0).round();
        let x = i as f64 * step;
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" class=\"bar\"><title>{}: {}</title></rect>",
            x + 1.0,
            bottom as f64 - h,
            (step - 2.0).max(1.0),
            xml_escape(&bar.label),
            bar.value
        ));
        if i % 5 == 0 || i + 1 == bars.len() {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" class=\"label\" text-anchor=\"middle\">{}</text>",
                x + step / 2.0,
                bottom + 18,
                xml_escape(&bar.label)
            ));
        }
    }
    svg.push_str(&format!(
        "<line x1=\"0\" y1=\"{bottom}\" x2=\"{width}\" y2=\"{bottom}\" class=\"axis\"/></svg>"
    ));
    svg
}

/// A pie of shares, readable without colour: every slice carries a hatching pattern of its own
/// and the legend beside it names the slice with its value and percentage.
pub fn pie(title: &str, slices: &[Bar]) -> String {
    const PATTERNS: [&str; 6] = ["solid", "hatch", "dots", "cross", "vertical", "blank"];
    let total: i64 = slices.iter().map(|s| s.value.max(0)).sum();
    let (cx, cy, r) = (110.0_f64, 110.0_f64, 100.0_f64);
    let height = (slices.len() * 26 + 20).max(230);
    let mut svg = format!(
        "<svg class=\"chart pie\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 560 {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\"><defs><pattern id=\"p-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><path d=\"M0 6L6 0\" class=\"ink\"/></pattern><pattern id=\"p-dots\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><circle cx=\"3\" cy=\"3\" r=\"1.3\" class=\"dot\"/></pattern><pattern id=\"p-cross\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><path d=\"M0 0L6 6M6 0L0 6\" class=\"ink\"/></pattern><pattern id=\"p-vertical\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\"><path d=\"M2 0V5\" class=\"ink\"/></pattern></defs>",
        xml_escape(title)
    );
    let fill = |i: usize| match PATTERNS[i % PATTERNS.len()] {
        "solid" => "class=\"bar\"".to_owned(),
        "blank" => "class=\"blank\"".to_owned(),
        p => format!("fill=\"url(#p-{p})\""),
    };
    let mut angle = -std::f64::consts::FRAC_PI_2;
    for (i, slice) in slices.iter().enumerate() {
        let share = if total > 0 {
            slice.value.max(0) as f64 / total as f64
        } else {
            0.0
        };
        let percent = share * 100.0;
        let tooltip = format!(
            "<title>{}: {} ({percent:.1}%)</title>",
            xml_escape(&slice.label),
            slice.value
        );
        if share >= 0.9999 {
            svg.push_str(&format!(
                "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" {} stroke=\"currentColor\">{tooltip}</circle>",
                fill(i)
            ));
        } else if share > 0.0 {
            let end = angle + share * std::f64::consts::TAU;
            let large = i32::from(share > 0.5);
            svg.push_str(&format!(
                "<path d=\"M{cx} {cy}L{:.2} {:.2}A{r} {r} 0 {large} 1 {:.2} {:.2}Z\" {} stroke=\"currentColor\">{tooltip}</path>",
                cx + r * angle.cos(),
                cy + r * angle.sin(),
                cx + r * end.cos(),
                cy + r * end.sin(),
                fill(i)
            ));
            angle = end;
        }
        let y = 20 + i * 26;
        svg.push_str(&format!(
            "<rect x=\"240\" y=\"{}\" width=\"16\" height=\"16\" {} stroke=\"currentColor\"/><text x=\"264\" y=\"{}\" class=\"label\">{} {} ({percent:.1}%)</text>",
            y,
            fill(i),
            y + 13,
            xml_escape(&slice.label),
            slice.value
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// One line of a line chart: its name and a value per point.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// What the line counts.
    pub name: String,
    /// One value per label, in order.
    pub values: Vec<f64>,
}

/// A line chart over `labels` (years), readable without colour: each line has its own dash
/// pattern and marker shape, and its name written at its end and in the legend.
pub fn lines(title: &str, labels: &[String], series: &[Series]) -> String {
    const DASHES: [&str; 4] = ["", "6 3", "2 3", "8 3 2 3"];
    let (left, right, top, bottom, width) = (56.0_f64, 120.0_f64, 16.0_f64, 190.0_f64, 640.0_f64);
    let height = 240;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let step = if labels.len() > 1 {
        (width - left - right) / (labels.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| left + step * i as f64;
    let y = |v: f64| bottom - (v / max) * (bottom - top);
    let mut svg = format!(
        "<svg class=\"chart lines\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">",
        xml_escape(title)
    );
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" class=\"axis\"/><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" class=\"axis\"/><text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{bottom}\" class=\"label\" text-anchor=\"end\">0</text>",
        width - right,
        left - 6.0,
        top + 4.0,
        max.round(),
        left - 6.0
    ));
    for (i, label) in labels.iter().enumerate() {
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" class=\"label\" text-anchor=\"middle\">{}</text>",
            x(i),
            bottom + 18.0,
            xml_escape(label)
        ));
    }
    for (n, line) in series.iter().enumerate() {
        let points: Vec<String> = line
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let dash = DASHES[n % DASHES.len()];
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        svg.push_str(&format!(
            "<polyline points=\"{}\" class=\"line\" fill=\"none\"{dash_attr}/>",
            points.join(" ")
        ));
        for (i, v) in line.values.iter().enumerate() {
            let (px, py) = (x(i), y(*v));
            let tip = format!(
                "<title>{} {}: {}</title>",
                xml_escape(&line.name),
                xml_escape(labels.get(i).map_or("", String::as_str)),
                v
            );
            svg.push_str(&match n % 3 {
                0 => format!("<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3.5\" class=\"marker\">{tip}</circle>"),
                1 => format!("<rect x=\"{:.1}\" y=\"{:.1}\" width=\"7\" height=\"7\" class=\"marker\">{tip}</rect>", px - 3.5, py - 3.5),
                _ => format!("<path d=\"M{px:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z\" class=\"marker\">{tip}</path>", py - 4.5, px + 4.5, py + 3.5, px - 4.5, py + 3.5),
            });
        }
        if let Some(last) = line.values.last() {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"label\">{}</text>",
                x(line.values.len() - 1) + 8.0,
                y(*last) + 4.0 + 12.0 * n as f64 - 6.0 * (series.len() as f64 - 1.0),
                xml_escape(&line.name)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_labels_and_values_as_text_and_escape_them() {
        let svg = horizontal_bars(
            "按类型",
            &[
                Bar {
                    label: "<社会团体>".into(),
                    value: 326,
                    href: Some("/orgs?kind=social_group&x=1".into()),
                },
                Bar {
                    label: "基金会".into(),
                    value: 1,
                    href: None,
                },
            ],
        );
        assert!(svg.contains("&lt;社会团体&gt;") && svg.contains(">326<") && svg.contains(">1<"));
        assert!(svg.contains("href=\"/orgs?kind=social_group&amp;x=1\""));
        assert!(!svg.contains("<社会团体>"));
        let years = year_columns(
            "年度",
            &[Bar {
                label: "2014".into(),
                value: 5,
                href: None,
            }],
        );
        assert!(years.contains("2014: 5"));
    }

    #[test]
    fn pies_and_lines_name_every_part_in_text() {
        let svg = pie(
            "构成",
            &[
                Bar {
                    label: "社会团体".into(),
                    value: 3,
                    href: None,
                },
                Bar {
                    label: "<基金会>".into(),
                    value: 1,
                    href: None,
                },
            ],
        );
        assert!(svg.contains("社会团体 3 (75.0%)") && svg.contains("&lt;基金会&gt; 1 (25.0%)"));
        assert_eq!(svg.matches("<path d=\"M110").count(), 2);
        let chart = lines(
            "趋势",
            &["2013".into(), "2014".into()],
            &[
                Series {
                    name: "总数".into(),
                    values: vec![1.0, 2.0],
                },
                Series {
                    name: "登记".into(),
                    values: vec![0.0, 1.0],
                },
            ],
        );
        assert!(
            chart.contains(">总数<")
                && chart.contains(">登记<")
                && chart.contains("stroke-dasharray")
        );
        assert!(chart.contains("总数 2014: 2"));
        let marked = lines(
            "趋势",
            &["<b>2014</b>".into()],
            &[Series {
                name: "总数".into(),
                values: vec![1.0],
            }],
        );
        assert!(marked.contains("&lt;b&gt;2014") && !marked.contains("<b>"));
    }
}
