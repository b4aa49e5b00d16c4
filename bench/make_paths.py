#!/usr/bin/env python3
"""Write wrk path lists (one URL path per line) for shezu, scenarios (a)-(d) plus the HTML page.

  python3 make_paths.py ORGS.csv STREETS.tsv OUTDIR

The same mix as the peers' make_paths.py (datasette target), with shezu's URLs: the same
deterministic random ids (random.Random(7)), the same street x type x 5 pages, shuffled the
same way. ORGS.csv is gen_orgs.py's CSV; STREETS.tsv (written by the loader,
benches/directory_load.rs --streets-out) maps each generated street to its area code.
Datasette pages with keyset `_next`; shezu's API pages with `page=` (offset), as its clients do.

Two more scenarios, beyond the peers' mix, defeat answers remembered by the server (shezu keeps
recent counts and search matches until the registry changes, at most 256 of each), so they show
what an answer costs when it is not remembered:
  ax   facets kind,area + total under 1,440 distinct filters (kind x domain x status x grade)
  b2x  distinct 2-character Chinese terms that match 0.3-8 % of the names each (683 terms at
       1M, each matching 3,000-80,000 names: a wide band around 养老's 37,574), with total
"""
import collections
import csv
import random
import sys
from urllib.parse import urlencode

orgs_csv, streets_tsv, out = sys.argv[1:4]
KIND = {"社会团体": "social_group", "民办非企业单位": "private_non_enterprise",
        "基金会": "foundation", "社区社会组织": "community"}
SEARCH3 = ["居家养老", "养老服务", "社会工作", "志愿服务", "培训学校", "太极拳", "慈善基金会",
           "法律援助", "垃圾分类", "心理咨询", "邻里互助", "书法家协会"]
PAGE = 20
API = "/api/v1/organizations"

n = 0
streets, types = set(), set()
pairs = collections.Counter()  # names containing each 2-character string
with open(orgs_csv, newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        n = max(n, int(row["id"]))
        streets.add(row["street"])
        types.add(row["org_type"])
        name = row["name"]
        pairs.update(set(name[i:i + 2] for i in range(len(name) - 1)))
streets, types = sorted(streets), sorted(types)  # = SQLite's "order by 1" (code point order)
area = {}
with open(streets_tsv, encoding="utf-8") as f:
    for line in f:
        name, code = line.rstrip("\n").split("\t")[:2]
        area[name] = code
rng = random.Random(7)


def w(name, paths):
    with open("%s/shezu_%s.txt" % (out, name), "w") as f:
        f.write("\n".join(paths) + "\n")


w("a_facets", [API + "?" + urlencode({"facets": "kind,area", "per_page": PAGE})])
w("b_search2", [API + "?" + urlencode({"q": "养老", "per_page": PAGE})])
w("b_search3", [API + "?" + urlencode({"q": q, "per_page": PAGE}) for q in SEARCH3])
w("c_row", ["%s/%d" % (API, rng.randint(1, n)) for _ in range(2000)])
paths = []
for s in streets:
    for t in types:
        for p in range(5):
            q = {"area": area[s], "kind": KIND[t], "per_page": PAGE}
            if p:
                q["page"] = p + 1
            paths.append(API + "?" + urlencode(q))
rng.shuffle(paths)
w("d_filter", paths)
# Beyond the peers' mix: answers the server cannot have remembered (see the docstring).
rx = random.Random(11)
combos = []
for kind in [""] + sorted(KIND.values()):
    for domain in ["elderly_care", "social_work", "education", "culture", "sports", "health",
                   "charity", "science_technology", "industry_commerce", "legal_services",
                   "ecology", "community_service"]:
        for status in ["active", "abnormal", "deregistered", "revoked"]:
            for grade in ["", "1A", "2A", "3A", "4A", "5A"]:
                q = {"facets": "kind,area", "per_page": PAGE, "domain": domain, "status": status}
                if kind:
                    q["kind"] = kind
                if grade:
                    q["grade"] = grade
                combos.append(API + "?" + urlencode(q))
rx.shuffle(combos)
w("ax_facets_uncached", combos)
terms = sorted(p for p, c in pairs.items()
               if 0.003 * n <= c <= 0.08 * n and all("\u4e00" <= ch <= "\u9fff" for ch in p))
rx.shuffle(terms)
w("b2x_search2_uncached", [API + "?" + urlencode({"q": t, "per_page": PAGE}) for t in terms])
# The public HTML directory: one page with its total and all five facets.
w("html_search2", ["/orgs?" + urlencode({"q": "养老"})])
print("wrote shezu paths for %d organizations to %s" % (n, out))
