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
}
