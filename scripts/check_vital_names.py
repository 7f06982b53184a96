#!/usr/bin/env python3
"""check_vital_names.py: adding a vital sign is one row of the table (issue 11), checked.

usage: check_vital_names.py SOURCE_DIR

Reads the table of vital signs (src/core/vitals.c) and lists, one line each on stdout,
every place in src/, include/vigil/ and web/js/ that names one of its vital signs
outside the table and the places ALLOWED below: exit 1 when there is any. A place that
keeps its own list of the vital signs (a column list, a chart range, a form field, an
option) would silently miss a new row; it must read the table instead (vigil/vitals.h
in C, the generated /js/vitals.js in the browser).

Named means, outside comments:
  - a vigil_obs field of a numeric row (`hr_bpm`), as an identifier or inside a string
    (an SQL column list);
  - a string literal that is a row's name, JSON key or store column ("hr", 'temp_c',
    "hr_bpm"), but for a kind of value compared in JavaScript (`v.type === 'acvpu'`);
  - a code of the table ("8867-4", "147842") as a whole word inside a string literal,
    or an MDC reference id of the table (MDC_ECG_HEART_RATE) anywhere;
  - in JavaScript, a row's key or name as a property (`v.temp_c`) or object key
    (`{ temp_c: ... }`).
Exit 2 when the table cannot be read.
Does not: judge comments or docs, tests (they spell values out on purpose), or the build
directory (build/web/js/vitals.js is generated from the table).
"""
import os
import re
import sys

TABLE = "src/core/vitals.c"

# Each place that may name a vital sign, and why. (path, tokens or None for any, reason)
ALLOWED = [
    (TABLE, None, "the table itself"),
    ("include/vigil/news2.h", None,
     "vigil_obs's field, bounds macro and scoring function of each parameter (docs/core.md "
     "'Adding a vital sign', steps 1 and 3)"),
    ("src/core/news2.c", None, "the scoring rules, one per parameter (step 3)"),
    ("web/js/news2.js", None, "the scoring rules in the browser, BANDS keyed by the row's key "
     "(step 3)"),
    (re.compile(r"^src/store/[^/]+/\w*schema\w*\.c$"), None,
     "schema history: a migration's CREATE TABLE is fixed once released; a new column comes "
     "as a new migration"),
    ("src/core/vars.c", None,
     "the AI model's own input variables: a new vital sign is an input only once a model is "
     "trained on it"),
    ("src/model/timeline.c", None, "the AI model's inputs read from a set (vars.c's variables)"),
    ("src/hl7/hl7_profile.c", None,
     "a sender profile's names for mapping local codes (vigil_hl7_param, step 4): a "
     "configuration vocabulary, with fio2 and o2_flow, not the table's rows"),
    ("web/js/patient.js", {"spo2"},
     "SpO2's Scale 2 (REQ NEWS2-SPO2-SCALE2, part of SpO2's scoring rule): the note beside "
     "its value and the form's hint"),
    ("src/cli/cmd_vitals.c", {"o2", "acvpu"},
     "the kinds of value (number, o2, acvpu) the table is written into vitals.js with"),
]

SOURCE_DIRS = ("src", "include/vigil", "web/js")
EXTS = (".c", ".h", ".js", ".mjs")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def table_names(text):
    """The names of the table: (fields, string names, codes, refids, js keys)."""
    fields = set(re.findall(r"offsetof\(vigil_obs,\s*(\w+)\)", text))
    names = set(re.findall(r'\.(?:name|key|column)\s*=\s*"(\w+)"', text))
    codes = set(re.findall(r'\bCODE(?:_OUT)?\(\s*"\w+",\s*"([^"]+)"', text))
    codes |= set(re.findall(r'\.code\s*=\s*"([^"]+)"', text))
    mdc = re.findall(r'\bMDC\(\s*"(\d+)",\s*"(MDC_\w+)"', text)
    codes |= {c for c, _ in mdc}
    refids = {r for _, r in mdc}
    js_keys = set(re.findall(r'\.(?:name|key)\s*=\s*"(\w+)"', text))
    return fields, names, codes, refids, js_keys


def split_code(text, js):
    """text with comments blanked (newlines kept) and the list of string literals as
    (line, content)."""
    out = []
    strings = []
    i, n, line = 0, len(text), 1
    quotes = "\"'`" if js else "\"'"
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            chunk = text[i:j]
            out.append(re.sub(r"[^\n]", " ", chunk))
            line += chunk.count("\n")
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in quotes:
            j = i + 1
            while j < n and text[j] != c and (c == "`" or text[j] != "\n"):
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            chunk = text[i:j]
            strings.append((line, chunk[1:-1]))
            out.append(chunk)
            line += chunk.count("\n")
            i = j
        else:
            out.append(c)
            line += c == "\n"
            i += 1
    return "".join(out), strings


def allowed(rel, token):
    for place, tokens, _ in ALLOWED:
        hit = place.match(rel) if hasattr(place, "match") else place == rel
        if hit and (tokens is None or token in tokens):
            return True
    return False


def scan(root):
    fields, names, codes, refids, js_keys = table_names(read(os.path.join(root, TABLE)))
    if len(fields) < 5 or len(names) < 7 or len(codes) < 10:
        raise ValueError("%s gave %d fields, %d names and %d codes: not read right" %
                         (TABLE, len(fields), len(names), len(codes)))
    word = re.compile(r"\b(%s)\b" % "|".join(sorted(fields | refids)))
    code_re = re.compile(r"(?<![\w.-])(%s)(?![\w.-])" % "|".join(re.escape(c) for c in codes))
    js_re = re.compile(r"(?:[.]|\?\.)(%s)\b|[{,]\s*(%s)\s*:" %
                       ("|".join(js_keys), "|".join(js_keys)))
    found = []
    for top in SOURCE_DIRS:
        for dirpath, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(d for d in dirs if d != "node_modules")
            for name in sorted(files):
                if not name.endswith(EXTS):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                js = name.endswith((".js", ".mjs"))
                code, strings = split_code(read(path), js)
                hits = []
                for lineno, ln in enumerate(code.split("\n"), 1):
                    for m in word.finditer(ln):
                        hits.append((lineno, m.group(1)))
                    if js:
                        for m in js_re.finditer(ln):
                            hits.append((lineno, m.group(1) or m.group(2)))
                lines = code.split("\n")
                for lineno, s in strings:
                    kind = re.compile(r"\btype\s*[!=]==?\s*['\"]%s['\"]" % re.escape(s))
                    if s in names and not kind.search(lines[lineno - 1]):
                        hits.append((lineno, s))
                    for m in code_re.finditer(s):
                        hits.append((lineno, m.group(1)))
                for lineno, token in sorted(set(hits)):
                    if not allowed(rel, token):
                        found.append("%s:%d: names the vital sign '%s' outside the table "
                                     "(read it from vigil/vitals.h or /js/vitals.js)" %
                                     (rel, lineno, token))
    return found


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    try:
        found = scan(argv[1])
    except (OSError, ValueError) as e:
        print("cannot read the table: %s" % e, file=sys.stderr)
        return 2
    for f in found:
        print(f)
    print("%d place(s) name a vital sign outside the table" % len(found))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
