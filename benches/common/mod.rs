//! What the benchmarks share about the peers' generated registry (`bench/gen_orgs.py`): how to
//! split its CSV lines and how its labels map onto shezu's codes.

/// Splits one CSV record as Python's csv module writes it (quotes only where needed; the
/// generator writes no newlines inside fields).
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(10);
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}

/// The kind (组织类型) of a generated `org_type`.
pub fn kind_of(org_type: &str) -> &'static str {
    match org_type {
        "社会团体" => "social_group",
        "民办非企业单位" => "private_non_enterprise",
        "基金会" => "foundation",
        _ => "community",
    }
}

/// The status of a generated `status` (the generator writes 注销 / 撤销, not 已注销 / 已撤销).
pub fn status_of(status: &str) -> &'static str {
    match status {
        "正常" => "active",
        "注销" => "deregistered",
        "撤销" => "revoked",
        "活动异常" => "abnormal",
        other => panic!("unknown status {other}"),
    }
}

/// The shipped domain dictionary's code for a generated `domain`.
pub fn domain_code_of(domain: &str) -> &'static str {
    match domain {
        "养老服务" => "elderly_care",
        "社会工作" => "social_work",
        "教育培训" => "education",
        "文化艺术" => "culture",
        "体育健身" => "sports",
        "卫生健康" => "health",
        "慈善救助" => "charity",
        "科技服务" => "science_technology",
        "行业商会" => "industry_commerce",
        "法律服务" => "legal_services",
        "生态环境" => "ecology",
        "社区治理" => "community_service",
        _ => "other",
    }
}
