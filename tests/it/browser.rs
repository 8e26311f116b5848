//! The HTML report in a real browser (headless Chromium, Debian's `chromium` package):
//! each page renders (its screenshot is not blank, in light and dark mode), no two labels
//! of a chart overlap and no axis repeats a tick, measured from the element boxes the
//! browser laid out. CI installs Chromium and sets STEPLOG_REQUIRE_CHROMIUM=1; elsewhere
//! the test is skipped when Chromium is missing.

use crate::util::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs in the page once laid out: every pair of texts in each chart whose boxes
/// intersect, the charts whose y axis repeats a tick, and the page's background.
const MEASURE: &str = r#"<script>
(function () {
  const overlaps = [], repeated = [];
  let texts = 0;
  for (const svg of document.querySelectorAll("svg")) {
    const boxes = [...svg.querySelectorAll("text")]
      .map(t => [t.textContent, t.getBoundingClientRect()])
      .filter(([, r]) => r.width > 0);
    texts += boxes.length;
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i][1], boxes[j][1]];
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
            a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
          overlaps.push(boxes[i][0] + " | " + boxes[j][0]);
      }
    const ticks = [...svg.querySelectorAll("text.axis:not(.x)")].map(t => t.textContent);
    if (new Set(ticks).size !== ticks.length) repeated.push(ticks.join(" "));
  }
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({
    charts: document.querySelectorAll("svg").length, texts, overlaps, repeated,
    background: getComputedStyle(document.body).backgroundColor,
  });
  document.body.appendChild(out);
})();
</script></body>"#;

fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("STEPLOG_REQUIRE_CHROMIUM").is_none(),
            "Chromium is required"
        );
        eprintln!("Chromium not installed: skipping the browser checks");
    }
    found
}

fn browse(browser: &str, page: &Path, dark: bool, args: &[&str]) -> Vec<u8> {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
    ]);
    c.arg("--window-size=1280,2400");
    if dark {
        c.arg("--force-dark-mode");
    }
    let out = c
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// What the page measured of itself.
fn measure(browser: &str, html: &str, dir: &Path, dark: bool) -> Value {
    let page = dir.join("measure.html");
    std::fs::write(&page, html.replace("</body>", MEASURE)).unwrap();
    let dom = String::from_utf8(browse(browser, &page, dark, &["--dump-dom"])).unwrap();
    let at = dom.find("<pre id=\"measured\">").expect("the script ran") + 19;
    let json = &dom[at..at + dom[at..].find("</pre>").unwrap()];
    let json = json
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

/// The share of pixels unlike the top-left one, and how many colours the screenshot has.
fn screenshot(browser: &str, html: &str, dir: &Path, dark: bool) -> (f64, usize) {
    let page = dir.join("page.html");
    std::fs::write(&page, html).unwrap();
    let shot = dir.join("shot.png");
    browse(
        browser,
        &page,
        dark,
        &[&format!("--screenshot={}", shot.display())],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    let background = pixels[0];
    let painted = pixels.iter().filter(|p| p[..3] != background[..3]).count();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().map(|p| &p[..3]).collect();
    (painted as f64 / pixels.len() as f64, colours.len())
}

#[test]
fn the_html_report_renders_without_overlapping_labels_in_a_real_browser() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("g.jsonl");
    ok(steplog()
        .args(["generate", "-n", "20000", "--seed", "3", "-o"])
        .arg(&logs));
    // Long error codes and function names sharing a long prefix (a proxy's codes, a
    // namespaced tool set), without run objects: nothing priced.
    let long = dir.path().join("long.jsonl");
    let text = std::fs::read_to_string(&logs).unwrap();
    let text = text
        .replace(r#""code":""#, r#""code":"upstream_gateway_reported_"#)
        .replace(
            r#""name":""#,
            r#""name":"com.example.internal.agent.tools.v2."#,
        );
    std::fs::write(&long, text).unwrap();
    let pages = [
        // Two days by the hour: 48 buckets.
        vec!["summary", "--interval", "hour", path(&logs)],
        vec!["summary", "--interval", "hour", path(&long)],
        // Many groups, with long keys.
        vec!["summary", "--group-by", "function", path(&long)],
        vec![
            "summary",
            "--group-by",
            "assistant",
            "--top",
            "5",
            path(&logs),
        ],
        // Small counts: ticks of 1, no status charts without steps.
        vec![
            "summary",
            "tools.jsonl",
            "samples/api-examples.jsonl",
            "samples/runs.jsonl",
        ],
        vec!["summary", "--interval", "hour", "timestamps.jsonl"],
    ];
    let mut backgrounds = Vec::new();
    for args in pages {
        let html = String::from_utf8(ok(steplog().args(&args).args(["-f", "html"]))).unwrap();
        assert!(html.contains("<meta name=\"viewport\""));
        assert!(
            html.contains(" · made 2025-12-01T00:00:00Z"),
            "the generated-at time"
        );
        for dark in [false, true] {
            let m = measure(browser, &html, dir.path(), dark);
            assert!(m["charts"].as_u64().unwrap() >= 3, "{args:?}: {m}");
            assert!(m["texts"].as_u64().unwrap() > 10, "{args:?}: {m}");
            assert_eq!(m["overlaps"], Value::Array(vec![]), "{args:?} dark={dark}");
            assert_eq!(m["repeated"], Value::Array(vec![]), "{args:?} dark={dark}");
            backgrounds.push((dark, m["background"].as_str().unwrap().to_string()));
            let (painted, colours) = screenshot(browser, &html, dir.path(), dark);
            assert!(
                painted > 0.03 && colours > 20,
                "{args:?} dark={dark}: {painted} {colours}"
            );
        }
    }
    let light: Vec<_> = backgrounds.iter().filter(|b| !b.0).map(|b| &b.1).collect();
    let dark: Vec<_> = backgrounds.iter().filter(|b| b.0).map(|b| &b.1).collect();
    assert!(
        light.iter().all(|b| *b == "rgb(255, 255, 255)"),
        "{light:?}"
    );
    assert!(
        dark.iter().all(|b| *b != "rgb(255, 255, 255)"),
        "dark mode: {dark:?}"
    );
}
