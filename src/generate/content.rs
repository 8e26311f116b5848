//! What generated steps say: function names, error messages, code and logs, search
//! results, and the tool calls made of them.

use super::Rng;

/// Teams of the `metadata` some threads carry.
pub(super) const TEAMS: &[&str] = &["billing", "support", "growth", "research", "ops"];

pub(super) const FUNCTIONS: &[&str] = &[
    "get_current_weather",
    "search_orders",
    "lookup_customer",
    "create_ticket",
    "send_email",
    "get_stock_price",
    "translate_text",
    "schedule_meeting",
    "query_database",
    "fetch_url",
    "calculate_shipping",
    "résumé_parser",
];

/// `(code, message)` of failed steps, JSON-escaped.
pub(super) const ERRORS: &[(u64, &str, &str)] = &[
    (40, "server_error", "Sorry, something went wrong."),
    (12, "server_error", "The server had an error while processing your request. Sorry about that!"),
    (8, "server_error", "Tool output timed out after 600 seconds."),
    (20, "rate_limit_exceeded", "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29950."),
    (10, "rate_limit_exceeded", "You exceeded your current quota, please check your plan and billing details."),
    (5, "invalid_prompt", "Invalid prompt: your prompt was flagged as potentially violating our usage policy."),
    (3, "server_error", "Function call arguments were not valid JSON: unexpected \\\"}\\\" at position 41"),
    (2, "server_error", "L'outil a renvoy\\u00e9 une erreur \\u2014 r\\u00e9essayez."),
];

pub(super) const CODE_LINES: &[&str] = &[
    "import pandas as pd",
    "import numpy as np",
    "import matplotlib.pyplot as plt",
    "df = pd.read_csv('/mnt/data/file-7Qx2.csv')",
    "df.describe()",
    "print(df.head(10))",
    "x = np.linspace(0, 10, 200)",
    "plt.plot(x, np.sin(x), label=\\\"sin\\\")",
    "plt.savefig('/mnt/data/plot.png')",
    "result = df.groupby('region')['revenue'].sum().sort_values(ascending=False)",
    "print(f\\\"total: {result.sum():,.2f} \\u20ac\\\")",
    "for i, row in df.iterrows():\\n    if row['status'] == 'failed':\\n        print(i, row['reason'])",
];

pub(super) const LOG_LINES: &[&str] = &[
    "       revenue     units\\r\\ncount  120.000  120.0000\\r\\nmean   5231.77   41.2250",
    "region\\nnorth    182233.12\\nsouth    120911.40\\nwest      99120.00",
    "Traceback (most recent call last):\\n  File \\\"<stdin>\\\", line 3, in <module>\\nKeyError: 'reason'",
    "total: 402,264.52 \\u20ac",
    "0 timeout\\n17 upstream 502\\n33 invalid input \\u2014 retry",
];

pub(super) const SNIPPETS: &[&str] = &[
    "Returns are accepted within 30 days of delivery. Items must be unused and in original packaging.",
    "The Model X200 supports Wi\\u2011Fi 6E and Bluetooth 5.3; battery life is rated at 14 hours.",
    "Section 4.2: All invoices are payable within 45 days. Late payments accrue 1.5% monthly interest.",
    "Onboarding checklist:\\n1. Create accounts\\n2. Ship laptop\\n3. Schedule intro meetings",
];

/// One tool call, as JSON.
pub(super) fn tool_call(r: &mut Rng) -> String {
    let mut call = String::new();
    r.id("call_", &mut call);
    match r.weighted(&[(45, 0u8), (30, 1), (22, 2), (3, 3)]) {
        0 => {
            let name = r.pick(FUNCTIONS);
            let output = if r.permille(900) {
                format!("\"{{\\\"ok\\\":true,\\\"items\\\":{}}}\"", r.below(50))
            } else {
                "null".to_string()
            };
            format!(
                "{{\"id\":\"{call}\",\"type\":\"function\",\"function\":{{\"name\":\"{name}\",\"arguments\":\"{{\\\"query\\\":\\\"order {}\\\",\\\"limit\\\":{}}}\",\"output\":{output}}}}}",
                r.below(100_000),
                r.below(20)
            )
        }
        1 => {
            let lines = 2 + r.below(14);
            let input: Vec<&str> = (0..lines).map(|_| *r.pick(CODE_LINES)).collect();
            let output = if r.permille(150) {
                let mut f = String::new();
                r.id("file-", &mut f);
                format!("{{\"type\":\"image\",\"image\":{{\"file_id\":\"{f}\"}}}}")
            } else {
                let logs: Vec<&str> = (0..1 + r.below(6)).map(|_| *r.pick(LOG_LINES)).collect();
                format!("{{\"type\":\"logs\",\"logs\":\"{}\"}}", logs.join("\\n"))
            };
            format!(
                "{{\"id\":\"{call}\",\"type\":\"code_interpreter\",\"code_interpreter\":{{\"input\":\"{}\",\"outputs\":[{output}]}}}}",
                input.join("\\n")
            )
        }
        2 => {
            if r.permille(200) {
                return format!(
                    "{{\"id\":\"{call}\",\"type\":\"file_search\",\"file_search\":{{}}}}"
                );
            }
            let results: Vec<String> = (0..r.below(4))
                .map(|i| {
                    let mut f = String::new();
                    r.id("file-", &mut f);
                    format!(
                        "{{\"file_id\":\"{f}\",\"file_name\":\"policy_{i}.pdf\",\"score\":0.{},\"attributes\":{{}},\"content\":[{{\"type\":\"text\",\"text\":\"{}\"}}]}}",
                        100 + r.below(899),
                        r.pick(SNIPPETS)
                    )
                })
                .collect();
            format!(
                "{{\"id\":\"{call}\",\"type\":\"file_search\",\"file_search\":{{\"ranking_options\":{{\"ranker\":\"default_2024_08_21\",\"score_threshold\":0.0}},\"results\":[{}]}}}}",
                results.join(",")
            )
        }
        _ => format!("{{\"id\":\"{call}\",\"type\":\"retrieval\",\"retrieval\":{{}}}}"),
    }
}
